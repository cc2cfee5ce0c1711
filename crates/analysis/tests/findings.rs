//! Findings on the fixtures: the scheduler-trouble program's leaks, convoy and backlog are
//! reported; the configuration changes thresholds and turns rules off.

use goroscope_analysis::blocking::analyze;
use goroscope_analysis::findings::{Config, Severity, evaluate, parse_duration};
use goroscope_analysis::sched::{Options, diagnose};
use goroscope_testkit::fixture_traces;
use goroscope_trace::Trace;

fn sched_trace() -> Trace {
    let path = fixture_traces()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("sched-go1.27.3"))
        .unwrap();
    Trace::open(&path).unwrap()
}

#[test]
fn the_scheduler_trouble_is_found_by_name() {
    let trace = sched_trace();
    let t = &trace.timelines;
    let findings = evaluate(
        t,
        &analyze(t),
        &diagnose(t, &Options::default()),
        &Config::default(),
    );
    let titles: Vec<&str> = findings.iter().map(|f| f.title.as_str()).collect();
    let has = |rule: &str, text: &str| {
        findings
            .iter()
            .any(|f| f.rule == rule && f.title.contains(text))
    };
    assert!(has("leaks", "main.leakyReceiver"), "{titles:#?}");
    assert!(has("leaks", "main.leakyLocker"), "{titles:#?}");
    assert!(has("convoy", "main.convoyWorker"), "{titles:#?}");
    assert!(findings.iter().any(|f| f.rule == "backlog"), "{titles:#?}");
    assert!(
        findings.iter().any(|f| f.rule == "sched_latency"),
        "{titles:#?}"
    );
    // Most severe first; every target lies in the trace.
    assert!(findings.windows(2).all(|w| w[0].severity >= w[1].severity));
    for f in &findings {
        assert!(
            f.target.start >= t.start && f.target.end <= t.end && f.target.start <= f.target.end,
            "{f:?}"
        );
    }
    let leak = findings
        .iter()
        .find(|f| f.title.contains("leakyReceiver"))
        .unwrap();
    assert_eq!(leak.evidence.goroutines.len(), 10);
    assert_eq!(leak.severity, Severity::Warning);
}

#[test]
fn configuration_changes_thresholds_and_disables_rules() {
    let trace = sched_trace();
    let t = &trace.timelines;
    let (b, d) = (analyze(t), diagnose(t, &Options::default()));
    let config = Config::from_toml(
        r#"
        [leaks]
        min_goroutines = 5
        [convoy]
        enabled = false
        [sched_latency]
        p99_warning = "10s"
        p99_error = "20s"
        "#,
    )
    .unwrap();
    let findings = evaluate(t, &b, &d, &config);
    assert!(findings.iter().all(|f| f.rule != "convoy"));
    assert!(findings.iter().all(|f| f.rule != "sched_latency"));
    let leaks: Vec<_> = findings.iter().filter(|f| f.rule == "leaks").collect();
    assert_eq!(leaks.len(), 1, "only the 10 leaky receivers reach 5");
    assert!(
        Config::from_toml("[leaks]\nmin_goroutine = 2").is_err(),
        "unknown keys are errors"
    );
    assert!(Config::from_toml("[stw]\nwarning = \"5 parsecs\"").is_err());
}

#[test]
fn durations_parse() {
    assert_eq!(parse_duration("850ns"), Ok(850));
    assert_eq!(parse_duration("12us"), Ok(12_000));
    assert_eq!(parse_duration("12µs"), Ok(12_000));
    assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
    assert_eq!(parse_duration("2m"), Ok(120_000_000_000));
    assert!(parse_duration("5").is_err());
    assert!(parse_duration("5h").is_err());
}
