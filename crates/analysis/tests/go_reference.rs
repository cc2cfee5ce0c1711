//! Differential tests against Go's own analyses of every bundled fixture.
//!
//! `fixtures/reference/<trace>/summary.json` and `mmu.json` were written by
//! `fixtures/tools/tracedump` from Go 1.27.3's `Summarizer` and MMU code (schema in its
//! README). Every goroutine, region and task field and every stored MMU value must be equal;
//! floats are compared bit for bit (Go prints them in shortest round-trip form, which Rust
//! parses back to the same `f64`).
//!
//! Traces the reader cannot read yet (v1, Go ≤ 1.21, until its conversion lands) are skipped
//! with a note, so they are covered as soon as the reader accepts them.

use std::collections::BTreeMap;
use std::path::Path;

use goroscope_analysis::summary::{ExecStats, Summary, summarize};
use goroscope_trace::Reader;
use serde_json::Value;

/// What reading a fixture gave: every event up to the first error, and the error.
struct Read<'a> {
    reader: Reader<'a>,
    events: Vec<goroscope_trace::Event>,
    error: Option<String>,
}

/// Reads a fixture, or `None` if the reader does not support its version yet.
fn read<'a>(trace: &Path, data: &'a [u8]) -> Option<Read<'a>> {
    let unsupported = |msg: &str| {
        if msg.contains("unsupported trace version") {
            eprintln!("skipped {}: {msg}", trace.display());
            true
        } else {
            false
        }
    };
    let mut reader = match Reader::new(data) {
        Ok(r) => r,
        Err(e) if unsupported(&e.to_string()) => return None,
        Err(e) => panic!("{}: {e}", trace.display()),
    };
    let mut events = Vec::new();
    let mut error = None;
    while let Some(ev) = reader.next_event() {
        match ev {
            Ok(ev) => events.push(ev),
            Err(e) => {
                let msg = e.to_string();
                if events.is_empty() && unsupported(&msg) {
                    return None;
                }
                error = Some(msg);
                break;
            }
        }
    }
    Some(Read {
        reader,
        events,
        error,
    })
}

fn load_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Collects differences instead of stopping at the first.
#[derive(Default)]
struct Diffs(Vec<String>);

impl Diffs {
    #[expect(
        clippy::needless_pass_by_value,
        reason = "call sites build the values for the comparison"
    )]
    fn eq<T: PartialEq + std::fmt::Debug>(
        &mut self,
        what: impl FnOnce() -> String,
        ours: T,
        go: T,
    ) {
        if ours != go {
            self.0.push(format!("{}: ours {ours:?}, Go {go:?}", what()));
        }
    }

    fn check(self, trace: &Path) {
        if !self.0.is_empty() {
            let n = self.0.len();
            let shown: Vec<_> = self.0.into_iter().take(40).collect();
            panic!(
                "{}: {n} differences from Go:\n{}",
                trace.display(),
                shown.join("\n")
            );
        }
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn uint(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

fn opt_int(v: &Value) -> Option<i64> {
    (!v.is_null()).then(|| int(v))
}

fn durations(v: &Value) -> BTreeMap<String, i64> {
    v.as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), int(v)))
        .collect()
}

fn ours_durations(m: &BTreeMap<std::sync::Arc<str>, i64>) -> BTreeMap<String, i64> {
    m.iter().map(|(k, &v)| (k.to_string(), v)).collect()
}

fn compare_stats(d: &mut Diffs, what: &str, ours: &ExecStats, go: &Value) {
    d.eq(
        || format!("{what} exec_time"),
        ours.exec_time,
        int(&go["exec_time"]),
    );
    d.eq(
        || format!("{what} sched_wait_time"),
        ours.sched_wait_time,
        int(&go["sched_wait_time"]),
    );
    d.eq(
        || format!("{what} block_time_by_reason"),
        ours_durations(&ours.block_time_by_reason),
        durations(&go["block_time_by_reason"]),
    );
    d.eq(
        || format!("{what} syscall_time"),
        ours.syscall_time,
        int(&go["syscall_time"]),
    );
    d.eq(
        || format!("{what} syscall_block_time"),
        ours.syscall_block_time,
        int(&go["syscall_block_time"]),
    );
    d.eq(
        || format!("{what} total_time"),
        ours.total_time,
        int(&go["total_time"]),
    );
    d.eq(
        || format!("{what} range_time"),
        ours_durations(&ours.range_time),
        durations(&go["range_time"]),
    );
    d.eq(
        || format!("{what} unknown_time"),
        ours.unknown_time(),
        int(&go["unknown_time"]),
    );
}

fn compare_summary(d: &mut Diffs, read: &Read<'_>, ours: &Summary, go: &Value) {
    d.eq(
        || "events".into(),
        read.events.len() as u64,
        uint(&go["events"]),
    );
    d.eq(
        || "first_time".into(),
        read.events.first().map(|e| e.time),
        opt_int(&go["first_time"]),
    );
    d.eq(
        || "last_time".into(),
        read.events.last().map(|e| e.time),
        opt_int(&go["last_time"]),
    );
    d.eq(
        || "error".into(),
        read.error.is_some(),
        !go["error"].is_null(),
    );

    let go_gs = go["goroutines"].as_array().expect("goroutines");
    d.eq(
        || "goroutine IDs".into(),
        ours.goroutines.iter().map(|g| g.id).collect::<Vec<_>>(),
        go_gs.iter().map(|g| int(&g["id"])).collect(),
    );
    for (g, gj) in ours.goroutines.iter().zip(go_gs) {
        let what = format!("G{}", g.id);
        d.eq(
            || format!("{what} name"),
            &*g.name,
            gj["name"].as_str().expect("name"),
        );
        d.eq(|| format!("{what} pc"), g.pc, uint(&gj["pc"]));
        d.eq(
            || format!("{what} creation_time"),
            g.creation_time,
            int(&gj["creation_time"]),
        );
        d.eq(
            || format!("{what} start_time"),
            g.start_time,
            int(&gj["start_time"]),
        );
        d.eq(
            || format!("{what} end_time"),
            g.end_time,
            int(&gj["end_time"]),
        );
        compare_stats(d, &what, &g.stats, gj);

        // Go sorted by start time (no start first); ours must be too.
        let regions: Vec<_> = ours.regions_of(&g.regions).collect();
        let starts: Vec<_> = regions.iter().map(|r| r.start.map(|e| e.time)).collect();
        d.eq(
            || format!("{what} regions sorted by start"),
            starts.is_sorted(),
            true,
        );
        // tracedump breaks Go's ties by (start, end, name, task); so do we, for the comparison.
        let mut regions = regions;
        regions.sort_by(|a, b| {
            (
                a.start.map(|e| e.time),
                a.end.map(|e| e.time),
                &a.name,
                a.task,
            )
                .cmp(&(
                    b.start.map(|e| e.time),
                    b.end.map(|e| e.time),
                    &b.name,
                    b.task,
                ))
        });
        let go_regions = gj["regions"].as_array().expect("regions");
        d.eq(
            || format!("{what} region count"),
            regions.len(),
            go_regions.len(),
        );
        for (i, (r, rj)) in regions.iter().zip(go_regions).enumerate() {
            let what = format!("{what} region {i} {:?}", r.name);
            d.eq(|| format!("{what} goroutine"), r.goroutine, g.id);
            d.eq(|| format!("{what} task"), r.task, uint(&rj["task"]));
            d.eq(
                || format!("{what} name"),
                &*r.name,
                rj["name"].as_str().expect("name"),
            );
            d.eq(
                || format!("{what} start"),
                r.start.map(|e| e.time),
                opt_int(&rj["start"]),
            );
            d.eq(
                || format!("{what} start_kind"),
                r.start.map(|e| e.kind().name()),
                rj["start_kind"].as_str(),
            );
            d.eq(
                || format!("{what} end"),
                r.end.map(|e| e.time),
                opt_int(&rj["end"]),
            );
            d.eq(
                || format!("{what} end_kind"),
                r.end.map(|e| e.kind().name()),
                rj["end_kind"].as_str(),
            );
            compare_stats(d, &what, &r.stats, rj);
        }
    }

    let go_tasks = go["tasks"].as_array().expect("tasks");
    d.eq(
        || "task IDs".into(),
        ours.tasks.iter().map(|t| t.id).collect::<Vec<_>>(),
        go_tasks.iter().map(|t| uint(&t["id"])).collect(),
    );
    for (t, tj) in ours.tasks.iter().zip(go_tasks) {
        let what = format!("task {}", t.id);
        d.eq(
            || format!("{what} name"),
            &*t.name,
            tj["name"].as_str().expect("name"),
        );
        d.eq(
            || format!("{what} parent"),
            t.parent,
            (!tj["parent"].is_null()).then(|| uint(&tj["parent"])),
        );
        d.eq(
            || format!("{what} start"),
            t.start.map(|e| e.time),
            opt_int(&tj["start"]),
        );
        d.eq(
            || format!("{what} end"),
            t.end.map(|e| e.time),
            opt_int(&tj["end"]),
        );
        d.eq(
            || format!("{what} goroutines"),
            t.goroutines.clone(),
            tj["goroutines"]
                .as_array()
                .expect("goroutines")
                .iter()
                .map(int)
                .collect(),
        );
        let mut children = t.children.clone();
        children.sort_unstable();
        d.eq(
            || format!("{what} children"),
            children,
            tj["children"]
                .as_array()
                .expect("children")
                .iter()
                .map(uint)
                .collect(),
        );
        d.eq(
            || format!("{what} logs"),
            t.logs.len() as u64,
            uint(&tj["logs"]),
        );
        d.eq(
            || format!("{what} regions"),
            t.regions.len() as u64,
            uint(&tj["regions"]),
        );
    }
}

#[test]
fn summary_matches_go_on_every_fixture() {
    let traces = goroscope_testkit::fixture_traces();
    assert!(!traces.is_empty(), "no fixtures");
    let mut checked = 0;
    for trace in &traces {
        let data = std::fs::read(trace).expect("fixture");
        let Some(read) = read(trace, &data) else {
            continue;
        };
        let go = load_json(&goroscope_testkit::reference_dir(trace).join("summary.json"));
        let mut reader = Reader::new(&data).expect("reader");
        let (ours, _) = summarize(&mut reader);
        let mut d = Diffs::default();
        compare_summary(&mut d, &read, &ours, &go);
        d.check(trace);
        checked += 1;
        drop(read.reader);
    }
    assert!(checked > 0, "no fixture could be read");
}
