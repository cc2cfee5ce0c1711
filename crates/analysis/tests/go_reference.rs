//! Differential tests against Go's own analyses of every bundled fixture.
//!
//! `fixtures/reference/<trace>/summary.json` and `mmu.json` were written by
//! `fixtures/tools/tracedump` from Go 1.27.3's `Summarizer` and MMU code (schema in its
//! README). Every goroutine, region and task field and every stored MMU value must be equal;
//! floats are compared bit for bit (Go prints them in shortest round-trip form, which Rust
//! parses back to the same `f64`).
//!
//! Traces are read with `EventStream`, so v1 traces (Go ≤ 1.21, converted to the v2 event
//! model as Go's reader does) are compared too; a version the stream does not support is
//! skipped with a note.
//!
//! When the tracedump binary is built (`scripts/fixtures.sh` puts it in
//! `$GOROSCOPE_CACHE/tracedump/bin`), the same comparisons also run on Go's own test traces
//! (`internal/trace/testdata/tests`, which exercise syscall steals, generation boundaries and
//! tasks across generations) and on any trace listed in `GOROSCOPE_EXTRA_TRACES`
//! (`:`-separated paths), with tracedump run on the spot; and on small traces written here in
//! Go's text form to reach code paths the fixtures miss.

use std::collections::BTreeMap;
use std::path::Path;

use goroscope_analysis::mmu::{MmuCurve, MutatorUtil, UtilFlags, mutator_utilization};
use goroscope_analysis::summary::{ExecStats, Summary, summarize};
use goroscope_trace::EventStream;
use serde_json::Value;

/// What reading a fixture gave: every event up to the first error, and the error.
struct Read<'a> {
    reader: EventStream<'a>,
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
    let mut reader = match EventStream::new(data) {
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
        let mut reader = EventStream::new(&data).expect("reader");
        let (ours, _) = summarize(&mut reader);
        let mut d = Diffs::default();
        compare_summary(&mut d, &read, &ours, &go);
        d.check(trace);
        eprintln!("{}: summary same as Go", trace.display());
        checked += 1;
    }
    assert!(checked > 0, "no fixture could be read");
}

/// A float as tracedump prints it: a JSON number, or a string for NaN and ±Inf.
fn float(v: &Value) -> f64 {
    match v {
        Value::String(s) => match s.as_str() {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            _ => panic!("not a float: {v}"),
        },
        _ => v.as_f64().unwrap_or_else(|| panic!("not a float: {v}")),
    }
}

/// Bit equality, except that any NaN equals any NaN.
fn same_float(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn point(v: &Value) -> Option<(i64, f64)> {
    let a = v.as_array()?;
    Some((int(&a[0]), float(&a[1])))
}

/// Compares with tracedump's `mmu.json`. Configurations where Go's code panicked are skipped
/// if `allow_go_panics`, else fail.
fn compare_mmu(d: &mut Diffs, read: &Read<'_>, go: &Value, allow_go_panics: bool) {
    // As cmd/trace: after a reader error, only the events up to the last Sync.
    let valid = if read.error.is_some() {
        read.events
            .iter()
            .rposition(|e| e.kind() == goroscope_trace::EventKind::Sync)
            .map_or(0, |i| i + 1)
    } else {
        read.events.len()
    };
    let events = &read.events[..valid];
    d.eq(|| "events".into(), events.len() as u64, uint(&go["events"]));
    let windows: Vec<i64> = go["windows_ns"]
        .as_array()
        .expect("windows")
        .iter()
        .map(int)
        .collect();
    for config in go["configs"].as_array().expect("configs") {
        let name = config["name"].as_str().expect("name");
        let flags = UtilFlags::from_bits(uint(&config["flags_value"]) as u32);
        if !config["error"].is_null() {
            // Go panicked (it indexes its per-P state with NoProc, for example); we do not.
            assert!(
                allow_go_panics,
                "Go's MMU code failed on {name}: {}",
                config["error"]
            );
            eprintln!(
                "{name}: not compared, Go's code failed: {}",
                config["error"]
            );
            continue;
        }
        let util = mutator_utilization(events, read.reader.tables(), flags);
        let go_series = config["series"].as_array().expect("series");
        d.eq(|| format!("{name} series"), util.len(), go_series.len());
        for (i, (s, sj)) in util.iter().zip(go_series).enumerate() {
            d.eq(
                || format!("{name} series {i} points"),
                s.len() as u64,
                uint(&sj["points"]),
            );
            let ends = |p: Option<&MutatorUtil>| p.map(|p| (p.time, p.util.to_bits()));
            let go_ends = |v: &Value| point(v).map(|(t, u)| (t, u.to_bits()));
            d.eq(
                || format!("{name} series {i} first"),
                ends(s.first()),
                go_ends(&sj["first"]),
            );
            d.eq(
                || format!("{name} series {i} last"),
                ends(s.last()),
                go_ends(&sj["last"]),
            );
        }
        let curve = MmuCurve::new(&util);
        let go_mmu = config["mmu"].as_array().expect("mmu");
        d.eq(|| format!("{name} mmu count"), go_mmu.len(), windows.len());
        for mj in go_mmu {
            let window = int(&mj["window_ns"]);
            let ours = curve.mmu(window);
            let go = float(&mj["mmu"]);
            if !same_float(ours, go) {
                d.0.push(format!("{name} mmu({window}): ours {ours:?}, Go {go:?}"));
            }
        }
    }
}

#[test]
fn mmu_matches_go_on_every_fixture() {
    let mut checked = 0;
    for trace in &goroscope_testkit::fixture_traces() {
        let data = std::fs::read(trace).expect("fixture");
        let Some(read) = read(trace, &data) else {
            continue;
        };
        let go = load_json(&goroscope_testkit::reference_dir(trace).join("mmu.json"));
        let mut d = Diffs::default();
        compare_mmu(&mut d, &read, &go, false);
        d.check(trace);
        eprintln!("{}: MMU same as Go", trace.display());
        checked += 1;
    }
    assert!(checked > 0, "no fixture could be read");
}

/// The tracedump binary, if built.
fn tracedump() -> Option<std::path::PathBuf> {
    let bin = goroscope_testkit::cache_dir()?.join("tracedump/bin/tracedump");
    bin.is_file().then_some(bin)
}

/// Runs `tracedump KIND TRACE` and parses its JSON; `None` if it printed none (no event up
/// to a Sync).
fn run_tracedump(bin: &Path, kind: &str, trace: &Path) -> Option<Value> {
    let out = std::process::Command::new(bin)
        .arg(kind)
        .arg(trace)
        .output()
        .expect("tracedump runs");
    if out.stdout.is_empty() {
        return None;
    }
    Some(serde_json::from_slice(&out.stdout).expect("tracedump JSON"))
}

/// Compares our summary and MMU of the trace file `path` with tracedump's; says which of
/// the two tracedump had output for.
fn compare_with_tracedump(bin: &Path, path: &Path, data: &[u8], d: &mut Diffs) -> [bool; 2] {
    let Some(read) = read(path, data) else {
        return [false; 2];
    };
    let mut compared = [false; 2];
    if let Some(go) = run_tracedump(bin, "summary", path) {
        let mut reader = EventStream::new(data).expect("reader");
        let (ours, _) = summarize(&mut reader);
        compare_summary(d, &read, &ours, &go);
        compared[0] = true;
    }
    if let Some(go) = run_tracedump(bin, "mmu", path) {
        compare_mmu(d, &read, &go, true);
        compared[1] = true;
    }
    compared
}

#[test]
fn go_test_traces_match_tracedump() {
    let Some(goroot) = goroscope_testkit::require_goroot("go_test_traces_match_tracedump") else {
        return;
    };
    let Some(bin) = tracedump() else {
        eprintln!("skipped: no tracedump binary (run scripts/fixtures.sh)");
        return;
    };
    let dir = goroot.join("src/internal/trace/testdata/tests");
    let mut tests: Vec<_> = std::fs::read_dir(&dir)
        .expect("Go's test traces")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    tests.sort();
    assert!(!tests.is_empty());
    let tmp = std::env::temp_dir().join(format!("goroscope-analysis-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut failures = Vec::new();
    for test in &tests {
        let text = std::fs::read_to_string(test).expect("test file");
        let golden = goroscope_format::v2::golden::GoldenTest::parse(&text).expect("test");
        let data = golden.to_binary().expect("binary trace");
        let path = tmp
            .join(test.file_stem().expect("name"))
            .with_extension("trace");
        std::fs::write(&path, &data).expect("temp trace");
        let mut d = Diffs::default();
        let compared = compare_with_tracedump(&bin, &path, &data, &mut d);
        eprintln!("{}: compared {compared:?}", test.display());
        if !d.0.is_empty() {
            failures.push(format!("{}:\n{}", test.display(), d.0.join("\n")));
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn extra_traces_match_tracedump() {
    let Some(paths) = std::env::var_os("GOROSCOPE_EXTRA_TRACES") else {
        return;
    };
    let bin = tracedump().expect("GOROSCOPE_EXTRA_TRACES needs the tracedump binary");
    for path in std::env::split_paths(&paths) {
        let data = std::fs::read(&path).expect("extra trace");
        let mut d = Diffs::default();
        compare_with_tracedump(&bin, &path, &data, &mut d);
        d.check(&path);
        eprintln!("{}: same as Go", path.display());
    }
}

/// Assembles a trace in Go's text form, computing every batch's `size` (written as 0).
fn assemble(text: &str) -> Vec<u8> {
    use goroscope_format::v2::EventType;
    use goroscope_format::v2::text::{TextReader, TextRecord};
    let mut reader = TextReader::new(text).expect("text trace");
    let mut out = reader.version().header();
    let mut batch: Option<(TextRecord, Vec<u8>)> = None;
    let flush = |out: &mut Vec<u8>, batch: Option<(TextRecord, Vec<u8>)>| {
        if let Some((mut header, body)) = batch {
            header.args[3] = body.len() as u64;
            header.write_binary(out);
            out.extend_from_slice(&body);
        }
    };
    while let Some(rec) = reader.next_record().expect("record") {
        if rec.ty == EventType::EVENT_BATCH {
            flush(&mut out, batch.take());
            batch = Some((rec, Vec::new()));
        } else {
            let (_, body) = batch.as_mut().expect("records inside a batch");
            rec.write_binary(body);
        }
    }
    flush(&mut out, batch);
    out
}

/// G1 sits in a syscall whose P is stolen when the trace ends, with a region open: Go adds
/// the blocked part to both syscall and sched wait time (at the snapshot of the trace end),
/// for the goroutine and the region.
const BLOCKED_SYSCALL_AT_END: &str = "Trace Go1.22
EventBatch gen=1 m=0 time=0 size=0
ProcStatus dt=1 p=0 pstatus=1
GoStatus dt=1 g=1 m=0 gstatus=2
UserRegionBegin dt=1 task=0 name_string=1 stack=0
GoSyscallBegin dt=3 p_seq=1 stack=1
EventBatch gen=1 m=1 time=0 size=0
ProcStatus dt=1 p=1 pstatus=1
GoStatus dt=1 g=2 m=1 gstatus=2
ProcSteal dt=50 p=0 p_seq=2 m=0
GoStop dt=70 reason_string=2 stack=0
EventBatch gen=1 m=18446744073709551615 time=0 size=0
Frequency freq=15625000
EventBatch gen=1 m=18446744073709551615 time=0 size=0
Stacks
Stack id=1 nframes=2
\tpc=4200100 func=5 file=4 line=20
\tpc=4200000 func=3 file=4 line=10
EventBatch gen=1 m=18446744073709551615 time=0 size=0
Strings
String id=1
\tdata=\"region A\"
String id=2
\tdata=\"preempted\"
String id=3
\tdata=\"main.main\"
String id=4
\tdata=\"main.go\"
String id=5
\tdata=\"syscall.read\"
";

/// A goroutine whose syscall blocks (P stolen) and ends inside two regions of a task, one of
/// which it ends while the other stays open; a goroutine created inside them inherits the
/// task.
const SYSCALL_IN_REGIONS: &str = "Trace Go1.22
EventBatch gen=1 m=0 time=0 size=0
ProcStatus dt=1 p=0 pstatus=1
GoStatus dt=1 g=1 m=0 gstatus=2
UserTaskBegin dt=1 task=7 parent_task=0 name_string=6 stack=0
UserRegionBegin dt=1 task=7 name_string=1 stack=0
UserRegionBegin dt=1 task=7 name_string=6 stack=0
GoCreate dt=1 new_g=3 new_stack=1 stack=0
GoSyscallBegin dt=3 p_seq=1 stack=1
GoSyscallEndBlocked dt=90
EventBatch gen=1 m=1 time=0 size=0
ProcStatus dt=1 p=1 pstatus=1
GoStatus dt=1 g=2 m=1 gstatus=2
ProcSteal dt=50 p=0 p_seq=2 m=0
GoStop dt=50 reason_string=2 stack=0
GoStart dt=1 g=1 g_seq=1
UserRegionEnd dt=1 task=7 name_string=6 stack=0
UserLog dt=1 task=7 key_string=1 value_string=6 stack=0
UserTaskEnd dt=1 task=7 stack=0
GoStop dt=20 reason_string=2 stack=0
EventBatch gen=1 m=18446744073709551615 time=0 size=0
Frequency freq=15625000
EventBatch gen=1 m=18446744073709551615 time=0 size=0
Stacks
Stack id=1 nframes=2
\tpc=4200100 func=5 file=4 line=20
\tpc=4200000 func=3 file=4 line=10
EventBatch gen=1 m=18446744073709551615 time=0 size=0
Strings
String id=1
\tdata=\"region A\"
String id=2
\tdata=\"preempted\"
String id=3
\tdata=\"main.main\"
String id=4
\tdata=\"main.go\"
String id=5
\tdata=\"syscall.read\"
String id=6
\tdata=\"task or region B\"
";

#[test]
fn scenario_traces_match_tracedump() {
    let scenarios = [
        ("blocked-syscall-at-end", BLOCKED_SYSCALL_AT_END),
        ("syscall-in-regions", SYSCALL_IN_REGIONS),
    ];
    let tracedump = tracedump();
    let tmp = std::env::temp_dir().join(format!("goroscope-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut failures = Vec::new();
    for (name, text) in scenarios {
        let data = assemble(text);
        let path = tmp.join(name).with_extension("trace");
        std::fs::write(&path, &data).expect("temp trace");
        // The scenario must read without error (otherwise it tests nothing).
        let read = read(&path, &data).expect("a v2 trace");
        assert_eq!(read.error, None, "{name}");
        let Some(bin) = &tracedump else {
            continue;
        };
        let mut d = Diffs::default();
        let compared = compare_with_tracedump(bin, &path, &data, &mut d);
        assert_eq!(compared, [true, true], "{name}: tracedump gave no output");
        if !d.0.is_empty() {
            failures.push(format!("{name}:\n{}", d.0.join("\n")));
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
    if tracedump.is_none() {
        eprintln!("scenarios read, not compared: no tracedump binary (run scripts/fixtures.sh)");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
