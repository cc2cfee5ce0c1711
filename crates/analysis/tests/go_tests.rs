//! Go's own tests of the summary and the MMU (`internal/trace/summary_test.go`,
//! `gc_test.go`), ported: same test traces (from the reference toolchain's
//! `internal/trace/testdata/tests`), same assertions. Skipped with a note without the
//! toolchain.

use std::collections::{BTreeMap, BTreeSet};

use goroscope_analysis::mmu::{MmuCurve, MutatorUtil, UtilFlags, mutator_utilization};
use goroscope_analysis::summary::{
    ExecStats, GoroutineSummary, RegionSummary, Summarizer, Summary,
};
use goroscope_format::v2::golden::GoldenTest;
use goroscope_trace::event::{NO_GOROUTINE, Resource, TaskId};
use goroscope_trace::{Event, EventKind, GoState, Reader, Tables};

/// A Go test trace in binary form, or `None` without the toolchain.
fn go_test_trace(test: &str, name: &str) -> Option<Vec<u8>> {
    let goroot = goroscope_testkit::require_goroot(test)?;
    let path = goroot.join("src/internal/trace/testdata/tests").join(name);
    let text = std::fs::read_to_string(&path).expect("Go test trace");
    let golden = GoldenTest::parse(&text).expect("test file");
    Some(golden.to_binary().expect("binary trace"))
}

/// Every event of a trace that must read without error, with the reader (for its tables).
fn read_all(data: &[u8]) -> (Reader<'_>, Vec<Event>) {
    let mut reader = Reader::new(data).expect("reader");
    let mut events = Vec::new();
    while let Some(ev) = reader.next_event() {
        events.push(ev.expect("a valid trace"));
    }
    (reader, events)
}

fn summarize(reader: &Reader<'_>, events: &[Event]) -> Summary {
    let mut s = Summarizer::new();
    for ev in events {
        s.event(ev, reader.tables());
    }
    s.finalize()
}

/// Go's `basicGoroutineExecStatsChecks`.
fn basic_stats_checks(stats: &ExecStats) {
    assert!(stats.exec_time >= 0, "negative ExecTime");
    assert!(stats.sched_wait_time >= 0, "negative SchedWaitTime");
    assert!(stats.syscall_time >= 0, "negative SyscallTime");
    assert!(stats.syscall_block_time >= 0, "negative SyscallBlockTime");
    assert!(stats.total_time >= 0, "negative TotalTime");
    for (reason, &d) in &stats.block_time_by_reason {
        assert!(d >= 0, "negative BlockTimeByReason for {reason}");
    }
    for (name, &d) in &stats.range_time {
        assert!(d >= 0, "negative RangeTime for range {name}");
    }
}

/// Go's `basicGoroutineSummaryChecks`.
fn basic_goroutine_checks(s: &Summary, g: &GoroutineSummary) {
    assert_ne!(g.id, NO_GOROUTINE, "summary found for no goroutine");
    let started = g.start_time != 0;
    let ended = g.end_time != 0;
    let bad_start = started && g.creation_time > g.start_time;
    let bad_end = started && ended && g.start_time > g.end_time;
    assert!(
        !bad_start && !bad_end,
        "bad creation/start/end times for G {}: {} {} {}",
        g.id,
        g.creation_time,
        g.start_time,
        g.end_time
    );
    assert_eq!(
        g.pc != 0,
        !g.name.is_empty(),
        "bad name and/or PC for G {}",
        g.id
    );
    basic_stats_checks(&g.stats);
    for r in s.regions_of(&g.regions) {
        basic_stats_checks(&r.stats);
    }
}

/// Go's `TestSummarizeGoroutinesTrace`.
#[test]
fn summarize_goroutines_trace() {
    let Some(data) = go_test_trace("summarize_goroutines_trace", "go122-gc-stress.test") else {
        return;
    };
    let (reader, events) = read_all(&data);
    let s = summarize(&reader, &events);
    for name in ["runtime.gcBgMarkWorker", "main.main.func1"] {
        assert!(
            s.goroutines.iter().any(|g| &*g.name == name),
            "missing goroutine {name}"
        );
    }
    let (mut sched_wait, mut sync_block, mut mark_assist, mut unknown) =
        (false, false, false, false);
    for g in &s.goroutines {
        basic_goroutine_checks(&s, g);
        sched_wait |= g.stats.sched_wait_time > 0;
        sync_block |= g
            .stats
            .block_time_by_reason
            .get("sync")
            .is_some_and(|&d| d > 0);
        mark_assist |= g
            .stats
            .range_time
            .get("GC mark assist")
            .is_some_and(|&d| d > 0);
        unknown |= g.stats.unknown_time() > 0;
    }
    assert!(sched_wait, "missing sched wait time");
    assert!(sync_block, "missing sync block time");
    assert!(mark_assist, "missing GC mark assist time");
    assert!(!unknown, "has time that is unaccounted for");
}

/// Go's `checkRegionEvents`: the kinds of a region's start and end events (`None` for no
/// event), and that they belong to the region.
fn check_region_events(
    tables: &Tables<'_>,
    want: (Option<EventKind>, Option<EventKind>),
    goid: i64,
    r: &RegionSummary,
) {
    let check = |ev: Option<&Event>, want: Option<EventKind>, start: bool| {
        assert_eq!(
            ev.map(Event::kind),
            want,
            "region {:?} start={start}",
            r.name
        );
        let Some(ev) = ev else {
            return;
        };
        match ev.kind() {
            EventKind::RegionBegin | EventKind::RegionEnd => {
                let (_, name) = ev.region().expect("a region event");
                assert_eq!(
                    tables.string(name),
                    r.name.as_bytes(),
                    "region name mismatch"
                );
            }
            _ => {
                let st = ev.state_transition().expect("a transition");
                let Resource::Goroutine { id, old, new } = st.resource else {
                    panic!("region event for the wrong resource: {:?}", st.resource);
                };
                assert_eq!(id, goid, "region event for the wrong goroutine");
                if start {
                    assert!(
                        matches!(old, GoState::NotExist | GoState::Undetermined),
                        "expected a transition from NotExist or Undetermined, got {old:?}"
                    );
                } else {
                    assert_eq!(new, GoState::NotExist, "expected a transition to NotExist");
                }
            }
        }
    };
    check(r.start.as_ref(), want.0, true);
    check(r.end.as_ref(), want.1, false);
}

/// Go's `TestSummarizeGoroutinesRegionsTrace`.
#[test]
fn summarize_goroutines_regions_trace() {
    let Some(data) = go_test_trace(
        "summarize_goroutines_regions_trace",
        "go122-annotations.test",
    ) else {
        return;
    };
    let (reader, events) = read_all(&data);
    let s = summarize(&reader, &events);
    use EventKind::{RegionBegin, RegionEnd, StateTransition};
    let mut want: BTreeMap<&str, (Option<EventKind>, Option<EventKind>)> = BTreeMap::from([
        // The task inheritance marker.
        ("", (Some(StateTransition), Some(StateTransition))),
        ("task0 region", (Some(RegionBegin), None)),
        ("region0", (Some(RegionBegin), Some(RegionEnd))),
        ("region1", (Some(RegionBegin), Some(RegionEnd))),
        ("unended region", (Some(RegionBegin), Some(StateTransition))),
        ("post-existing region", (Some(RegionBegin), None)),
    ]);
    for g in &s.goroutines {
        basic_goroutine_checks(&s, g);
        for r in s.regions_of(&g.regions) {
            if let Some(kinds) = want.remove(&*r.name) {
                check_region_events(reader.tables(), kinds, g.id, r);
            }
        }
    }
    assert!(want.is_empty(), "failed to find regions: {want:?}");
}

/// Go's `TestSummarizeTasksTrace`.
#[test]
fn summarize_tasks_trace() {
    let Some(data) = go_test_trace("summarize_tasks_trace", "go122-annotations-stress.test") else {
        return;
    };
    let (reader, events) = read_all(&data);
    let s = summarize(&reader, &events);
    let tables = reader.tables();

    struct Want {
        parent: Option<TaskId>,
        children: &'static [TaskId],
        logs: Vec<(TaskId, &'static str, &'static str)>,
        goroutines: &'static [i64],
    }
    let before_do = |t| vec![(t, "log", "before do"), (t, "log", "before do")];
    let want: BTreeMap<TaskId, Want> = BTreeMap::from([
        (
            // The background task (0) is never any task's parent.
            0,
            Want {
                parent: None,
                children: &[],
                logs: before_do(0),
                goroutines: &[1],
            },
        ),
        (
            // Started before tracing started; task 2's parent link was lost.
            1,
            Want {
                parent: None,
                children: &[3, 7, 16],
                logs: before_do(1),
                goroutines: &[1],
            },
        ),
        (
            2,
            Want {
                parent: None,
                children: &[8, 17],
                logs: before_do(2),
                goroutines: &[1],
            },
        ),
        (
            3,
            Want {
                parent: Some(1),
                children: &[10, 19],
                logs: before_do(3),
                goroutines: &[1],
            },
        ),
        (
            // Explicitly no parent.
            4,
            Want {
                parent: None,
                children: &[12, 21],
                logs: before_do(4),
                goroutines: &[1],
            },
        ),
        (
            12,
            Want {
                parent: Some(4),
                children: &[13],
                logs: vec![
                    (12, "log2", "do"),
                    (12, "log", "fanout region4"),
                    (12, "log", "fanout region0"),
                    (12, "log", "fanout region1"),
                    (12, "log", "fanout region2"),
                    (12, "log", "before do"),
                    (12, "log", "fanout region3"),
                ],
                goroutines: &[1, 5, 6, 7, 8, 9],
            },
        ),
        (
            // Explicitly no children.
            13,
            Want {
                parent: Some(12),
                children: &[],
                logs: vec![(13, "log2", "do")],
                goroutines: &[7],
            },
        ),
    ]);
    let mut seen = BTreeSet::new();
    for t in &s.tasks {
        let Some(w) = want.get(&t.id) else {
            continue;
        };
        seen.insert(t.id);
        assert_eq!(t.parent, w.parent, "parent of task {}", t.id);
        let children: BTreeSet<_> = t.children.iter().copied().collect();
        assert_eq!(
            children,
            w.children.iter().copied().collect(),
            "children of task {}",
            t.id
        );
        let logs: Vec<(TaskId, String, String)> = t
            .logs
            .iter()
            .map(|ev| {
                let (task, cat, msg) = ev.log().expect("a log event");
                let text = |r| String::from_utf8_lossy(tables.string(r)).into_owned();
                (task, text(cat), text(msg))
            })
            .collect();
        let want_logs: Vec<(TaskId, String, String)> = w
            .logs
            .iter()
            .map(|&(t, c, m)| (t, c.to_owned(), m.to_owned()))
            .collect();
        assert_eq!(logs, want_logs, "logs of task {}", t.id);
        assert_eq!(t.goroutines, w.goroutines, "goroutines of task {}", t.id);
        for &g in &t.goroutines {
            assert_eq!(s.goroutine(g).map(|g| g.id), Some(g));
        }
    }
    let missing: Vec<_> = want.keys().filter(|id| !seen.contains(id)).collect();
    assert!(missing.is_empty(), "failed to find tasks: {missing:?}");
}

/// Go's `aeq`: equal up to 8 digits.
fn aeq(x: f64, y: f64) -> bool {
    let (x, y) = if x < 0.0 && y < 0.0 { (-x, -y) } else { (x, y) };
    let factor = 1.0 - 10f64.powi(-8 + 1);
    x * factor <= y && y * factor <= x
}

/// Go's `mmuSlow`: the "obviously correct" MMU, over every left- and right-aligned window.
fn mmu_slow(util: &[MutatorUtil], window: i64) -> f64 {
    let window = window.min(util[util.len() - 1].time - util[0].time);
    let mut mmu = 1.0f64;
    // The mean utilization between util[0].time and end.
    let mu_in_window = |util: &[MutatorUtil], end: i64| {
        let mut total = 0.0;
        let mut prev = MutatorUtil::default();
        for u in util {
            if u.time > end {
                total += prev.util * (end - prev.time) as f64;
                break;
            }
            total += prev.util * (u.time - prev.time) as f64;
            prev = *u;
        }
        total / (end - util[0].time) as f64
    };
    let mut update = |util: &[MutatorUtil]| {
        let last = util[util.len() - 1].time;
        for (i, u) in util.iter().enumerate() {
            if u.time + window > last {
                break;
            }
            mmu = mmu.min(mu_in_window(&util[i..], u.time + window));
        }
    };
    update(util);
    // Reversed, each point is a change, so it takes the previous point's utilization.
    assert_eq!(util[util.len() - 1].util, 0.0, "irreversible trace");
    let reversed: Vec<MutatorUtil> = (0..util.len())
        .rev()
        .map(|i| MutatorUtil {
            time: -util[i].time,
            util: if i == 0 { 0.0 } else { util[i - 1].util },
        })
        .collect();
    update(&reversed);
    mmu
}

/// Go's `TestMMUTrace`.
#[test]
fn mmu_trace() {
    let Some(data) = go_test_trace("mmu_trace", "go122-gc-stress.test") else {
        return;
    };
    let (reader, events) = read_all(&data);
    let flags = UtilFlags::STW | UtilFlags::BACKGROUND | UtilFlags::ASSIST;
    let mu = mutator_utilization(&events, reader.tables(), flags);
    let curve = MmuCurve::new(&mu);

    // The optimized MMU against the obvious one.
    let mut window = 1;
    while window < 10_000_000_000 {
        let want = mmu_slow(&mu[0], window);
        let got = curve.mmu(window);
        assert!(aeq(want, got), "window {window}: want {want}, got {got}");
        window *= 10;
    }

    // The MUD with bands against the MUD without.
    let one_band = MmuCurve::with_bands_per_series(&mu, 1);
    let quantiles = [0.0, 1.0 - 0.999, 1.0 - 0.99];
    let mut window = 1_000;
    while window < 1_000_000_000 {
        let banded = curve.mud(window, &quantiles);
        let plain = one_band.mud(window, &quantiles);
        for (a, b) in banded.iter().zip(&plain) {
            assert!(
                aeq(*a, *b),
                "quantiles {quantiles:?} at window {window}: want {plain:?}, got {banded:?}"
            );
        }
        window *= 10;
    }
}
