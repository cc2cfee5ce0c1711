//! The command line, run for real on the bundled fixtures: every subcommand, every output
//! format and every error path, with the outputs checked in as insta snapshots
//! (`tests/snapshots/`). After an intended change, regenerate them with
//! `INSTA_UPDATE=always cargo test -p goroscope --test cli` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root; commands run there so that paths in outputs are relative and stable.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const SCHED: &str = "fixtures/traces/sched-go1.27.3.trace";
const MIXED: &str = "fixtures/traces/mixed-go1.27.3.trace";
const MIXED_OLD: &str = "fixtures/traces/mixed-go1.26.6.trace";
const ANNOTATIONS: &str = "fixtures/traces/annotations-go1.27.3.trace";
const V1: &str = "fixtures/traces/mixed-go1.21.13.trace";

/// A finished run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Exit code, standard error and standard output, for one snapshot.
    fn all(&self) -> String {
        format!(
            "exit code: {}\n--- stderr\n{}--- stdout\n{}",
            self.code, self.stderr, self.stdout
        )
    }
}

fn goroscope(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_goroscope"))
        .args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .env("COLUMNS", "100")
        .output()
        .expect("run goroscope");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs and asserts success.
fn ok(args: &[&str]) -> String {
    let r = goroscope(args);
    assert_eq!(r.code, 0, "goroscope {args:?} failed:\n{}", r.stderr);
    assert!(r.stderr.is_empty(), "unexpected stderr: {}", r.stderr);
    r.stdout
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// The sched fixture cut off in its second generation (the first is kept).
fn damaged() -> PathBuf {
    let path = scratch("damaged").join("damaged.trace");
    let data = std::fs::read(root().join(SCHED)).expect("fixture");
    std::fs::write(&path, &data[..30_000]).expect("write");
    path
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON: {e}\n{s}"))
}

// --- summary ------------------------------------------------------------------------

#[test]
fn summary_text() {
    insta::assert_snapshot!(ok(&["summary", SCHED]));
}

#[test]
fn summary_text_of_a_v1_trace() {
    insta::assert_snapshot!(ok(&["summary", "--top", "5", V1]));
}

#[test]
fn summary_json() {
    let out = ok(&["summary", "--format", "json", "--top", "5", SCHED]);
    let v = json(&out);
    assert_eq!(v["schema"], "goroscope.summary");
    assert_eq!(v["schema_version"], 1);
    insta::assert_snapshot!(out);
}

#[test]
fn summary_markdown() {
    insta::assert_snapshot!(ok(&["summary", "--format", "md", ANNOTATIONS]));
}

#[test]
fn summary_csv() {
    insta::assert_snapshot!(ok(&["summary", "--format", "csv", "--top", "5", SCHED]));
}

// --- blocking -----------------------------------------------------------------------

#[test]
fn blocking_text() {
    insta::assert_snapshot!(ok(&["blocking", "--top", "6", SCHED]));
}

#[test]
fn blocking_json() {
    let out = ok(&["blocking", "--format", "json", "--top", "3", SCHED]);
    let v = json(&out);
    assert_eq!(v["schema"], "goroscope.blocking");
    assert_eq!(v["convoys"][0]["site"]["function"], "main.convoyWorker");
    insta::assert_snapshot!(out);
}

#[test]
fn blocking_markdown() {
    insta::assert_snapshot!(ok(&["blocking", "--format", "md", "--top", "4", MIXED]));
}

#[test]
fn blocking_csv_and_one_table() {
    insta::assert_snapshot!(ok(&["blocking", "--format", "csv", "--top", "4", SCHED]));
    insta::assert_snapshot!(
        "blocking_csv_leaks_only",
        ok(&["blocking", "-f", "csv", "--table", "leaks", SCHED])
    );
}

// --- sched --------------------------------------------------------------------------

#[test]
fn sched_text() {
    insta::assert_snapshot!(ok(&["sched", "--top", "4", SCHED]));
}

#[test]
fn sched_json() {
    let out = ok(&[
        "sched",
        "--format",
        "json",
        "--top",
        "3",
        "--windows",
        "8",
        MIXED,
    ]);
    let v = json(&out);
    assert_eq!(v["schema"], "goroscope.sched");
    assert_eq!(
        v["utilization"]["windows"].as_array().map(Vec::len),
        Some(8)
    );
    insta::assert_snapshot!(out);
}

#[test]
fn sched_markdown() {
    insta::assert_snapshot!(ok(&["sched", "--format", "md", "--top", "3", MIXED]));
}

#[test]
fn sched_csv() {
    insta::assert_snapshot!(ok(&["sched", "--format", "csv", "--top", "3", SCHED]));
}

#[test]
fn sched_long_run_threshold() {
    let out = ok(&["sched", "-f", "json", "--long-run", "25ms", SCHED]);
    let v = json(&out);
    assert_eq!(v["long_run_ns"], 25_000_000);
    let runs = v["long_runs"].as_array().expect("long runs");
    assert!(!runs.is_empty());
    assert!(
        runs.iter()
            .all(|r| r["duration_ns"].as_i64() >= Some(25_000_000))
    );
}

// --- critical-path ------------------------------------------------------------------

#[test]
fn critical_path_text_of_every_task_type() {
    insta::assert_snapshot!(ok(&["critical-path", "--top", "3", ANNOTATIONS]));
}

#[test]
fn critical_path_of_the_main_goroutine() {
    insta::assert_snapshot!(ok(&["critical-path", "--top", "5", SCHED]));
}

#[test]
fn critical_path_json_of_one_task_type() {
    let out = ok(&[
        "critical-path",
        "--format",
        "json",
        "--task-type",
        "child-0",
        "--top",
        "3",
        ANNOTATIONS,
    ]);
    let v = json(&out);
    assert_eq!(v["schema"], "goroscope.critical_path");
    assert_eq!(v["breakdowns"][0]["name"], "child-0");
    insta::assert_snapshot!(out);
}

#[test]
fn critical_path_markdown_and_csv_of_one_goroutine() {
    insta::assert_snapshot!(
        "critical_path_goroutine_md",
        ok(&[
            "critical-path",
            "-f",
            "md",
            "--goroutine",
            "1",
            "--from",
            "1ms",
            "--to",
            "8ms",
            "--top",
            "4",
            ANNOTATIONS
        ])
    );
    insta::assert_snapshot!(
        "critical_path_goroutine_csv",
        ok(&[
            "critical-path",
            "-f",
            "csv",
            "--goroutine",
            "1",
            "--top",
            "4",
            ANNOTATIONS
        ])
    );
}

#[test]
fn critical_path_of_one_task_and_of_the_slowest_of_a_type() {
    // One task by ID: a single path over the task's whole interval.
    let one = json(&ok(&[
        "critical-path",
        "-f",
        "json",
        "--task",
        "1",
        ANNOTATIONS,
    ]));
    let path = &one["paths"][0];
    assert_eq!(one["paths"].as_array().unwrap().len(), 1);
    assert_eq!(path["target"]["kind"], "task");
    let span = path["end_ns"].as_i64().unwrap() - path["start_ns"].as_i64().unwrap();
    let cats: i64 = path["categories"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(cats, span, "the categories tile the task");
    // A type with --slowest 2: the breakdown and the two slowest paths, slowest first.
    let slow = json(&ok(&[
        "critical-path",
        "-f",
        "json",
        "--region",
        "step",
        "--slowest",
        "2",
        ANNOTATIONS,
    ]));
    let paths = slow["paths"].as_array().unwrap();
    assert_eq!(
        paths.len(),
        2.min(slow["breakdowns"][0]["count"].as_u64().unwrap() as usize)
    );
    let dur =
        |p: &serde_json::Value| p["end_ns"].as_i64().unwrap() - p["start_ns"].as_i64().unwrap();
    assert!(dur(&paths[0]) >= dur(&paths[1]));
    assert_eq!(
        dur(&paths[0]),
        slow["breakdowns"][0]["duration"]["max_ns"]
            .as_i64()
            .unwrap()
    );
    // Unknown task, and --slowest without a type.
    let r = goroscope(&["critical-path", "--task", "999999", ANNOTATIONS]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("task 999999 is not in the trace"),
        "{}",
        r.stderr
    );
    assert_eq!(
        goroscope(&["critical-path", "--slowest", "2", ANNOTATIONS]).code,
        2
    );
}

#[test]
fn pprof_critical_path_profile() {
    let out = scratch("pprof").join("critical-path.pb.gz");
    let r = goroscope(&[
        "pprof",
        "--kind",
        "critical-path",
        "-o",
        out.to_str().unwrap(),
        ANNOTATIONS,
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&out).unwrap()),
        &mut raw,
    )
    .unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("[critical path: running]"));
    assert!(text.contains("[critical path: sched latency]"));
    // The selectors go with critical-path only; unknown types are usage errors.
    let r = goroscope(&[
        "pprof",
        "--kind",
        "sync",
        "--task",
        "1",
        "-o",
        "-",
        ANNOTATIONS,
    ]);
    assert_eq!(r.code, 2);
    let r = goroscope(&[
        "pprof",
        "--kind",
        "critical-path",
        "--task-type",
        "nope",
        "-o",
        "-",
        ANNOTATIONS,
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no task of type \"nope\""),
        "{}",
        r.stderr
    );
}

#[test]
fn critical_path_of_an_unknown_task_type_is_a_usage_error() {
    let r = goroscope(&["critical-path", "--task-type", "no-such-task", ANNOTATIONS]);
    assert_eq!(r.code, 2);
    insta::assert_snapshot!(r.all());
}

// --- check --------------------------------------------------------------------------

#[test]
fn check_fails_on_findings_and_broken_limits() {
    let r = goroscope(&[
        "check",
        "--max-sched-latency-p99",
        "5ms",
        "--max-stw",
        "10ms",
        "--no-leaks",
        SCHED,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!(r.all());
}

#[test]
fn check_passes_within_limits() {
    let r = goroscope(&[
        "check",
        "--fail-on",
        "never",
        "--max-sched-latency-p99",
        "1ms",
        "--max-stw",
        "10ms",
        "--max-stw-total",
        "5ms",
        "--max-lost-work",
        "5%",
        "--max-gc-assist",
        "0.1",
        "--max-blocking-syscalls",
        "10",
        "--max-convoy",
        "8",
        "--no-leaks",
        MIXED,
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!(r.all());
}

#[test]
fn check_fail_on_error_ignores_warnings() {
    let r = goroscope(&["check", "--fail-on", "error", MIXED]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = goroscope(&["check", "--fail-on", "warning", MIXED]);
    assert_eq!(r.code, 1, "{}", r.all());
}

#[test]
fn check_json_markdown_csv() {
    let args = ["check", "--max-stw", "100us", "--no-leaks", "--top", "3"];
    let with = |f: &str| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--format", f, SCHED]);
        let r = goroscope(&a);
        assert_eq!(r.code, 1, "{}", r.all());
        r.stdout
    };
    let out = with("json");
    let v = json(&out);
    assert_eq!(v["schema"], "goroscope.check");
    assert_eq!(v["passed"], false);
    assert_eq!(v["limits"][0]["flag"], "--max-stw");
    assert_eq!(v["limits"][0]["passed"], true);
    insta::assert_snapshot!("check_json", out);
    insta::assert_snapshot!("check_md", with("md"));
    insta::assert_snapshot!("check_csv", with("csv"));
}

#[test]
fn check_with_a_configuration_file() {
    let dir = scratch("config");
    let config = dir.join("findings.toml");
    std::fs::write(
        &config,
        "[sched_latency]\nenabled = false\n\n[backlog]\nenabled = false\n\n[convoy]\nmin_peak = 100\n\n[leaks]\nmin_goroutines = 50\n",
    )
    .expect("write config");
    let r = goroscope(&["check", "--config", config.to_str().expect("utf-8"), SCHED]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!(r.all());
}

#[test]
fn check_with_a_bad_configuration_file_is_a_usage_error() {
    let dir = scratch("bad-config");
    let config = dir.join("findings.toml");
    std::fs::write(&config, "[sched_latency]\np99_warning = \"fast\"\n").expect("write");
    let r = goroscope(&["check", "--config", config.to_str().expect("utf-8"), SCHED]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    let err = r
        .stderr
        .replace(config.to_str().expect("utf-8"), "[CONFIG]");
    insta::assert_snapshot!(err);
}

// --- diff ---------------------------------------------------------------------------

#[test]
fn diff_text() {
    insta::assert_snapshot!(ok(&["diff", "--top", "5", MIXED_OLD, MIXED]));
}

#[test]
fn diff_json() {
    let out = ok(&["diff", "--format", "json", "--top", "3", MIXED_OLD, MIXED]);
    let v = json(&out);
    assert_eq!(v["schema"], "goroscope.diff");
    let p99 = v["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["key"] == "sched_latency_p99_ns")
        .expect("p99 metric");
    assert_eq!(
        p99["delta"].as_i64(),
        Some(p99["after"].as_i64().unwrap() - p99["before"].as_i64().unwrap())
    );
    insta::assert_snapshot!(out);
}

#[test]
fn diff_markdown_and_csv() {
    insta::assert_snapshot!(
        "diff_md",
        ok(&["diff", "-f", "md", "--top", "3", MIXED_OLD, MIXED])
    );
    insta::assert_snapshot!(
        "diff_csv",
        ok(&["diff", "-f", "csv", "--top", "3", SCHED, MIXED])
    );
}

#[test]
fn diff_of_a_trace_with_itself_changes_nothing() {
    let v = json(&ok(&["diff", "-f", "json", SCHED, SCHED]));
    for m in v["metrics"].as_array().expect("metrics") {
        assert!(
            m["delta"] == 0 || m["delta"] == 0.0,
            "{} changed: {}",
            m["key"],
            m["delta"]
        );
    }
}

// --- report -------------------------------------------------------------------------

#[test]
fn report_is_one_self_contained_html_file() {
    let out = scratch("report").join("report.html");
    let o = out.to_str().expect("utf-8");
    assert_eq!(ok(&["report", "-o", o, SCHED]), "");
    let html = std::fs::read_to_string(&out).expect("report written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for id in [
        "findings",
        "blocking",
        "latency",
        "utilization",
        "stw",
        "critical",
        "groups",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "section {id} missing"
        );
    }
    // Self-contained: no script, no stylesheet or image from elsewhere, no fetch.
    assert!(!html.contains("<script"));
    for bad in ["src=", "href=", "url(", "@import"] {
        assert!(!html.contains(bad), "{bad} in the report");
    }
    let outside: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..(i + 30).min(html.len())])
        .filter(|s| !s.starts_with("http://www.w3.org/2000/svg"))
        .collect();
    assert!(outside.is_empty(), "links out: {outside:?}");
    assert!(html.matches("<svg").count() >= 5, "charts missing");
    // Deterministic.
    assert_eq!(ok(&["report", "-o", o, SCHED]), "");
    assert_eq!(std::fs::read_to_string(&out).expect("again"), html);
}

#[test]
fn report_of_a_damaged_trace_says_so() {
    let bad = damaged();
    let out = scratch("report-damaged").join("report.html");
    let r = goroscope(&[
        "report",
        "-o",
        out.to_str().expect("utf-8"),
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("goroscope: warning: lost generation 2")
    );
    let html = std::fs::read_to_string(&out).expect("report");
    assert!(html.contains("Damaged trace."));
}

// --- export -------------------------------------------------------------------------

#[test]
fn export_chrome_json() {
    let out = ok(&["export", "--format", "chrome-json", SCHED]);
    let v = json(&out);
    let events = v["traceEvents"].as_array().expect("traceEvents");
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for e in events {
        let key = format!(
            "ph={} pid={} cat={}",
            e["ph"].as_str().unwrap_or(""),
            e["pid"],
            e["cat"].as_str().unwrap_or("-")
        );
        *counts.entry(key).or_default() += 1;
    }
    let summary: String = counts.iter().map(|(k, n)| format!("{k}: {n}\n")).collect();
    insta::assert_snapshot!(summary);
    // Every flow start has its end, on another goroutine's lane.
    let starts = events.iter().filter(|e| e["ph"] == "s").count();
    let ends = events.iter().filter(|e| e["ph"] == "f").count();
    assert_eq!(starts, ends);
    // Lanes are named.
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "M" && e["args"]["name"] == "P0")
    );
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "M" && e["args"]["name"] == "G1 main.main")
    );
}

#[test]
fn export_csv() {
    let dir = scratch("export-csv");
    let out = dir.join("spans.csv");
    assert_eq!(
        ok(&[
            "export",
            "-f",
            "csv",
            "-o",
            out.to_str().expect("utf-8"),
            ANNOTATIONS
        ]),
        ""
    );
    let csv = std::fs::read_to_string(&out).expect("written");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "lane,id,state,start_ns,end_ns,duration_ns,goroutine,proc,reason,site,unblocked_by"
    );
    let mut lanes = std::collections::BTreeMap::<&str, usize>::new();
    for l in &lines[1..] {
        *lanes.entry(l.split(',').next().unwrap_or("")).or_default() += 1;
    }
    let head: String = lines[..12].iter().map(|l| format!("{l}\n")).collect();
    insta::assert_snapshot!(format!("{head}...\nrows per lane: {lanes:?}\n"));
}

// --- dump ---------------------------------------------------------------------------

#[test]
fn dump_json_lines() {
    let out = ok(&["dump", "--format", "json", ANNOTATIONS]);
    let mut lines = out.lines();
    let header = json(lines.next().expect("header"));
    assert_eq!(header["schema"], "goroscope.events");
    let mut n = 0;
    let mut last = i64::MIN;
    for l in lines {
        let v = json(l);
        let t = v["time"].as_i64().expect("time");
        assert!(t >= last, "events out of order");
        last = t;
        n += 1;
    }
    let go = ok(&["dump", "--format", "go", ANNOTATIONS]);
    let go_events = go.lines().filter(|l| l.starts_with("M=")).count();
    assert_eq!(n, go_events, "one JSON line per event");
    let head: String = out.lines().take(12).map(|l| format!("{l}\n")).collect();
    insta::assert_snapshot!(head);
}

#[test]
fn dump_of_a_damaged_trace_prints_what_it_read_then_fails() {
    let bad = damaged();
    let r = goroscope(&["dump", "-f", "json", bad.to_str().expect("utf-8")]);
    assert_eq!(r.code, 3);
    assert!(r.stdout.lines().count() > 100);
    insta::assert_snapshot!(r.stderr.replace(bad.to_str().expect("utf-8"), "[TRACE]"));
}

// --- errors -------------------------------------------------------------------------

#[test]
fn an_unreadable_file_exits_3() {
    let r = goroscope(&["summary", "fixtures/traces/no-such.trace"]);
    assert_eq!(r.code, 3);
    insta::assert_snapshot!(r.all());
}

#[test]
fn not_a_trace_exits_3_with_the_offset_and_the_path_last() {
    for cmd in [
        "summary", "blocking", "sched", "check", "report", "export", "dump",
    ] {
        let mut args = vec![cmd];
        match cmd {
            "report" => args.extend(["-o", "/dev/null"]),
            "export" => args.extend(["-f", "csv"]),
            _ => {}
        }
        args.push("Cargo.toml");
        let r = goroscope(&args);
        assert_eq!(r.code, 3, "{cmd}: {}", r.all());
        assert_eq!(
            r.stderr,
            "goroscope: bad file format: not a Go execution trace? at byte 0: Cargo.toml\n",
            "{cmd}"
        );
        assert!(r.stdout.is_empty(), "{cmd}");
    }
}

#[test]
fn a_damaged_trace_warns_first_then_reports_the_rest() {
    let bad = damaged();
    let path = bad.to_str().expect("utf-8");
    let r = goroscope(&["summary", "--top", "5", path]);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.all().replace(path, "[TRACE]"));
    let v = json(&ok_or_warn(&["blocking", "-f", "json", path]));
    assert_eq!(v["trace"]["warnings"][0]["generation"], 2);
}

/// Runs, asserting exit code 0 (warnings allowed), and returns standard output.
fn ok_or_warn(args: &[&str]) -> String {
    let r = goroscope(args);
    assert_eq!(r.code, 0, "{}", r.all());
    r.stdout
}

#[test]
fn a_trace_damaged_in_its_first_generation_exits_3() {
    let path = scratch("damaged-first").join("first.trace");
    let data = std::fs::read(root().join(MIXED)).expect("fixture");
    std::fs::write(&path, &data[..data.len() / 2]).expect("write");
    let p = path.to_str().expect("utf-8");
    let r = goroscope(&["blocking", p]);
    assert_eq!(r.code, 3);
    assert!(r.stdout.is_empty());
    insta::assert_snapshot!(r.stderr.replace(p, "[TRACE]"));
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        &["summary", "--format", "yaml", SCHED][..],
        &["check", "--max-stw", "banana", SCHED],
        &["check", "--max-lost-work", "150%", SCHED],
        &["sched", "--no-such-flag", SCHED],
        &["blocking"],
        &["critical-path", "--from", "1ms", SCHED],
        &["diff", SCHED],
        &["report", SCHED],
    ] {
        let r = goroscope(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(r.stdout.is_empty(), "{args:?}");
    }
    let r = goroscope(&["check", "--max-stw", "banana", SCHED]);
    insta::assert_snapshot!(r.all());
}

#[test]
fn a_mistyped_command_exits_2() {
    let r = goroscope(&["sumary", SCHED]);
    assert_eq!(r.code, 2, "{}", r.all());
    let r = goroscope(&["sumary"]);
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!(r.all());
}

#[test]
fn an_unknown_csv_table_exits_2() {
    let r = goroscope(&["sched", "-f", "csv", "--table", "nope", SCHED]);
    assert_eq!(r.code, 2);
    insta::assert_snapshot!(r.all());
}

#[test]
fn an_unwritable_output_exits_4() {
    let r = goroscope(&["report", "-o", "/nonexistent-dir/r.html", SCHED]);
    assert_eq!(r.code, 4, "{}", r.all());
    insta::assert_snapshot!(r.all());
}

// --- colour, help, completions, man ---------------------------------------------------

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let plain = ok(&["summary", "--top", "3", SCHED]);
    assert!(!plain.contains('\x1b'), "colour on a pipe");
    let coloured = ok(&["summary", "--top", "3", "--color", "always", SCHED]);
    assert!(coloured.contains("\x1b[1m"));
    assert!(coloured.contains("\x1b[31merror\x1b[0m"));
    let stripped = coloured
        .replace("\x1b[1m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[33m", "")
        .replace("\x1b[32m", "")
        .replace("\x1b[2m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, plain);
    let never = ok(&["summary", "--top", "3", "--color", "never", SCHED]);
    assert_eq!(never, plain);
}

#[test]
fn help_lists_examples_and_exit_codes() {
    insta::assert_snapshot!(ok(&["--help"]));
}

#[test]
fn check_help() {
    insta::assert_snapshot!(ok(&["check", "--help"]));
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = ok(&["completions", shell]);
        for cmd in [
            "summary", "blocking", "sched", "check", "diff", "report", "export",
        ] {
            assert!(out.contains(cmd), "{shell} completions lack {cmd}");
        }
    }
    let man = ok(&["man"]);
    assert!(man.contains(".TH goroscope"));
    assert!(man.contains("critical\\-path"));
    let r = goroscope(&["completions", "tcsh"]);
    assert_eq!(r.code, 2);
}

#[test]
fn output_to_a_file_equals_standard_output() {
    let out = scratch("output").join("blocking.md");
    let o = out.to_str().expect("utf-8");
    assert_eq!(ok(&["blocking", "-f", "md", "-o", o, SCHED]), "");
    assert_eq!(
        std::fs::read_to_string(&out).expect("written"),
        ok(&["blocking", "-f", "md", SCHED])
    );
}

// --- the documentation ----------------------------------------------------------------

#[test]
fn the_documented_rule_thresholds_are_the_defaults() {
    let doc = std::fs::read_to_string(root().join("docs/cli.md")).expect("docs/cli.md");
    let start = doc.find("```toml\n[leaks]").expect("the config example") + "```toml\n".len();
    let toml = &doc[start..start + doc[start..].find("```").expect("end of block")];
    let config = scratch("doc-config").join("findings.toml");
    std::fs::write(&config, toml).expect("write");
    let with = goroscope(&["check", "--config", config.to_str().expect("utf-8"), SCHED]);
    let without = goroscope(&["check", SCHED]);
    assert_eq!(with.code, without.code);
    assert_eq!(with.stdout, without.stdout);
    assert!(with.stderr.is_empty(), "{}", with.stderr);
}

#[test]
fn every_json_schema_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/json-schema.md")).expect("doc");
    let mut seen = Vec::new();
    for args in [
        &["summary", "-f", "json", SCHED][..],
        &["blocking", "-f", "json", SCHED],
        &["sched", "-f", "json", SCHED],
        &["critical-path", "-f", "json", ANNOTATIONS],
        &["check", "-f", "json", "--fail-on", "never", SCHED],
        &["diff", "-f", "json", SCHED, SCHED],
    ] {
        let v = json(&ok(args));
        let schema = v["schema"].as_str().expect("schema").to_owned();
        assert!(
            doc.contains(&format!("## `{schema}`")),
            "{schema} undocumented"
        );
        assert_eq!(v["schema_version"], 1);
        seen.push(schema);
    }
    let events = ok(&["dump", "-f", "json", ANNOTATIONS]);
    let header = json(events.lines().next().expect("header"));
    assert!(doc.contains(&format!(
        "## `{}`",
        header["schema"].as_str().expect("schema")
    )));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6);
}

// --- convert, Ctrl-C -------------------------------------------------------------------

#[test]
fn convert_to_text_and_back_keeps_every_event() {
    let dir = scratch("convert");
    let (text, binary) = (dir.join("a.txt"), dir.join("a.trace"));
    let (t, b) = (
        text.to_str().expect("utf-8"),
        binary.to_str().expect("utf-8"),
    );
    assert_eq!(ok(&["convert", "--to", "text", "-o", t, ANNOTATIONS]), "");
    assert!(
        std::fs::read_to_string(&text)
            .expect("text")
            .starts_with("Trace Go1.")
    );
    assert_eq!(ok(&["convert", "--to", "binary", "-o", b, t]), "");
    assert_eq!(ok(&["dump", b]), ok(&["dump", ANNOTATIONS]));
    let r = goroscope(&["convert", "--to", "binary", "-o", b, SCHED]);
    assert_eq!(r.code, 3, "binary input to --to binary: {}", r.all());
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_loading_exits_130() {
    use std::io::Write as _;
    use std::time::{Duration, Instant};
    let dir = scratch("ctrl-c");
    let fifo = dir.join("trace.fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipping: mkfifo failed");
        return;
    }
    let child = Command::new(env!("CARGO_BIN_EXE_goroscope"))
        .args(["summary", "--quiet"])
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Start a trace and keep the pipe open: goroscope is busy loading.
    let mut writer = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .expect("open fifo");
    writer.write_all(b"go 1.26 trace\0\0\0").expect("write");
    std::thread::sleep(Duration::from_millis(500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let start = Instant::now();
    let out = child.wait_with_output().expect("wait");
    drop(writer);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&out.stderr).contains("goroscope: interrupted"));
    assert!(out.stdout.is_empty());
}
