//! Timelines of every fixture, checked for internal consistency and against Go's own
//! per-goroutine accounting (`summary.json`, from Go's Summarizer).

use std::collections::HashMap;

use goroscope_testkit::{fixture_traces, reference_dir};
use goroscope_trace::GoState;
use goroscope_trace::timeline::{ProcActivity, Timelines, build};

fn timelines(path: &std::path::Path) -> Option<Timelines> {
    let data = std::fs::read(path).unwrap();
    match build(&data) {
        Ok((t, None)) => Some(t),
        Ok((_, Some(e))) => panic!("{}: {e}", path.display()),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

/// Total time per state of a goroutine's spans, up to the end of the trace.
fn totals(t: &Timelines, g: &goroscope_trace::timeline::Goroutine) -> HashMap<GoState, i64> {
    let spans: Vec<_> = g.spans.iter().collect();
    let mut out = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        let end = spans.get(i + 1).map_or(t.end, |n| n.time);
        *out.entry(s.state).or_default() += end - s.time;
    }
    out
}

#[test]
fn spans_are_ordered_and_end_where_goroutines_end() {
    for path in fixture_traces() {
        let Some(t) = timelines(&path) else { continue };
        assert!(t.start <= t.end);
        assert!(!t.goroutines.is_empty());
        for g in &t.goroutines {
            let spans: Vec<_> = g.spans.iter().collect();
            assert!(
                spans.windows(2).all(|w| w[0].time < w[1].time),
                "{}: g{}",
                path.display(),
                g.id
            );
            for w in spans.windows(2) {
                assert_ne!(
                    w[0].state,
                    w[1].state,
                    "{}: g{} repeats a state",
                    path.display(),
                    g.id
                );
            }
            if let Some(end) = g.ended {
                assert_eq!(spans.last().map(|s| s.state), Some(GoState::NotExist));
                assert_eq!(spans.last().map(|s| s.time), Some(end));
            }
            for s in &spans {
                if s.state.executing() {
                    assert!(
                        s.m != goroscope_trace::timeline::NO_THREAD_INDEX,
                        "{}: g{}",
                        path.display(),
                        g.id
                    );
                }
            }
        }
    }
}

#[test]
fn running_goroutines_are_on_their_p() {
    for path in fixture_traces() {
        let Some(t) = timelines(&path) else { continue };
        let mut checked = 0;
        for g in &t.goroutines {
            for s in g
                .spans
                .iter()
                .filter(|s| s.state == GoState::Running && s.p >= 0)
            {
                let p = t.proc(s.p).expect("P of a running goroutine");
                let i = p.spans.index_at(s.time).expect("P span at run start");
                let ps = p.spans.get(i).unwrap();
                assert_eq!(
                    (ps.activity, ps.g),
                    (ProcActivity::Running, g.id),
                    "{}: g{} at {}",
                    path.display(),
                    g.id,
                    s.time
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "{}", path.display());
    }
}

#[test]
fn state_totals_match_go_summarizer() {
    let mut compared = 0;
    for path in fixture_traces() {
        let Some(t) = timelines(&path) else { continue };
        let summary: serde_json::Value = serde_json::from_slice(
            &std::fs::read(reference_dir(&path).join("summary.json")).unwrap(),
        )
        .unwrap();
        let first = summary["first_time"].as_i64().unwrap();
        for gs in summary["goroutines"].as_array().unwrap() {
            let id = gs["id"].as_i64().unwrap();
            // Go credits goroutines that exist at the start from the first Sync; ours start at
            // their first status. Compare goroutines created in the trace.
            if gs["creation_time"].as_i64().unwrap() <= first {
                continue;
            }
            let g = t
                .goroutine(id)
                .unwrap_or_else(|| panic!("{}: g{id} missing", path.display()));
            // Go's summary ends a goroutine that blocks "forever" at that block.
            if gs["end_time"].as_i64().unwrap() != 0 && g.ended.is_none() {
                continue;
            }
            let tot = totals(&t, g);
            let get = |s| tot.get(&s).copied().unwrap_or(0);
            let ctx = format!("{}: g{id}", path.display());
            assert_eq!(
                get(GoState::Running),
                gs["exec_time"].as_i64().unwrap(),
                "{ctx} exec"
            );
            let block: i64 = gs["block_time_by_reason"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_i64().unwrap())
                .sum();
            assert_eq!(get(GoState::Waiting), block, "{ctx} block");
            let syscall =
                gs["syscall_time"].as_i64().unwrap() + gs["syscall_block_time"].as_i64().unwrap();
            assert_eq!(get(GoState::Syscall), syscall, "{ctx} syscall");
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} goroutines compared");
}

#[test]
fn metrics_and_ranges_are_present() {
    let path = fixture_traces()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("mixed-go1.27.3"))
        .unwrap();
    let t = timelines(&path).unwrap();
    assert!(!t.metrics.heap_alloc.is_empty());
    assert!(!t.metrics.gomaxprocs.is_empty());
    assert_eq!(t.metrics.gomaxprocs.iter().next().map(|p| p.value), Some(2));
    assert!(t.gc.len() >= 5, "GCs: {}", t.gc.len());
    assert!(
        t.stw
            .iter()
            .any(|s| t.strings.get(s.kind) == b"GC mark termination")
    );
    assert!(!t.tasks.is_empty());
    assert!(t.goroutines.iter().any(|g| !g.regions.is_empty()));
    assert!(t.goroutines.iter().any(|g| g.gc_worker));
    assert!(!t.clock.is_empty(), "1.27 traces have clock snapshots");
    assert!(t.wall_clock(t.start).is_some());
    let max_runnable = t.metrics.counts.iter().map(|c| c.runnable).max().unwrap();
    assert!(max_runnable > 0);
}

/// Go's `-d=parsed` output for a fixture (kept gzipped when large).
fn parsed_reference(trace: &std::path::Path) -> String {
    use std::io::Read;
    let dir = reference_dir(trace);
    if let Ok(text) = std::fs::read_to_string(dir.join("parsed.txt")) {
        return text;
    }
    let file = std::fs::File::open(dir.join("parsed.txt.gz")).expect("a parsed reference");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gunzip the parsed reference");
    text
}

#[test]
fn cpu_samples_land_on_the_goroutines_that_burned_the_cpu() {
    let mut checked = 0;
    for path in fixture_traces() {
        if !path.to_string_lossy().contains("cpuprofile") {
            continue;
        }
        let t = timelines(&path).expect("a cpuprofile fixture loads");
        // Go's own reading of the trace has one StackSample per sample.
        let go = parsed_reference(&path);
        let want = go.lines().filter(|l| l.contains(" StackSample ")).count();
        assert!(want > 10, "{}: {want} samples", path.display());
        assert_eq!(t.cpu_samples.len(), want, "{}", path.display());
        assert!(t.cpu_samples.windows(2).all(|w| w[0].time <= w[1].time));
        // The three CPU burners take (nearly) every sample, each while running.
        let mut on_burners = 0;
        for s in &t.cpu_samples {
            let burning = t.stacks.frames(s.stack).any(|f| {
                ["main.hash", "main.sieve", "main.collatz"]
                    .contains(&t.strings.lossy(f.func).as_ref())
            });
            let Some(g) = t.goroutine(s.g).filter(|_| burning) else {
                continue;
            };
            on_burners += 1;
            let span = g.spans.index_at(s.time).and_then(|i| g.spans.get(i));
            assert!(
                span.is_some_and(|sp| sp.state == GoState::Running && sp.p == s.p),
                "{}: a sample at {} on G{} outside its running span on P{}: {span:?}",
                path.display(),
                s.time,
                s.g,
                s.p
            );
        }
        assert!(
            on_burners * 10 >= want * 9,
            "{}: {on_burners} of {want} samples on the burners",
            path.display()
        );
        checked += 1;
    }
    assert_eq!(checked, 2, "a v1 and a v2 cpuprofile fixture");
}
