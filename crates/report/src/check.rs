//! The check report: explicit limits (from flags) and the findings of the rule engine, each
//! passed or broken, for CI gates.

use serde::Serialize;

use goroscope_analysis::blocking::Blocking;
use goroscope_analysis::findings::{Finding, Severity};
use goroscope_analysis::sched::Diagnostics;
use goroscope_analysis::summary::is_system_goroutine;
use goroscope_trace::Trace;

use crate::doc::{Document, Section, Table, Tone, Value};
use crate::model::{FindingOut, SCHEMA_VERSION, SiteOut, TraceInfo, describe, severity_tone};
use crate::sched::procs;

/// Block reasons of goroutines that wait for work by design (a timer, the network, the GC),
/// which `--no-leaks` does not count.
pub const IDLE_REASONS: &[&str] = &[
    "sleep",
    "network",
    "system goroutine wait",
    "GC background sweeper wait",
    "GC scavenge wait",
    "GC weak to strong wait",
    "finalizer wait",
    "cleanup wait",
    "wait for debug call",
    "synctest",
    "",
];

/// Limits to check, each `None` (or `false`) when not asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// `--max-sched-latency-p99`: the p99 scheduling latency.
    pub sched_latency_p99: Option<i64>,
    /// `--max-sched-latency`: the longest scheduling latency.
    pub sched_latency_max: Option<i64>,
    /// `--max-stw`: the longest stop-the-world pause.
    pub stw: Option<i64>,
    /// `--max-stw-total`: all stop-the-world pauses together.
    pub stw_total: Option<i64>,
    /// `--max-lost-work`: P-time lost to idle Ps while goroutines were runnable, as a
    /// fraction of all P-time.
    pub lost_work: Option<f64>,
    /// `--max-gc-assist`: time in GC mark assists, as a fraction of all P-time.
    pub gc_assist: Option<f64>,
    /// `--max-blocking-syscalls`: syscalls that lost their P.
    pub blocking_syscalls: Option<u64>,
    /// `--max-convoy`: the most goroutines waiting at one site at once.
    pub convoy: Option<u32>,
    /// `--no-leaks`: no user goroutine blocked at the end of the trace on a channel, select,
    /// lock or condition variable (anything but [`IDLE_REASONS`]).
    pub no_leaks: bool,
}

/// A number in a limit: a duration, a count or a fraction.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Num {
    /// Nanoseconds or a count.
    Int(i64),
    /// A fraction.
    Frac(f64),
}

/// One limit and how the trace measured up.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LimitResult {
    /// The flag that set it (`--max-stw`).
    pub flag: String,
    /// What it measures.
    pub what: String,
    /// `ns`, `count` or `fraction`.
    pub unit: &'static str,
    /// The limit.
    pub limit: Num,
    /// The trace's value.
    pub actual: Num,
    /// Whether the value is within the limit.
    pub passed: bool,
    /// What broke it (for `--no-leaks`: the sites).
    pub detail: Vec<String>,
}

/// A finding and whether it fails the check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckedFinding {
    /// The finding.
    #[serde(flatten)]
    pub finding: FindingOut,
    /// Whether its severity is at or above `--fail-on`.
    pub fails: bool,
}

/// The check report (`goroscope check`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckReport {
    /// `goroscope.check`.
    pub schema: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The trace.
    pub trace: TraceInfo,
    /// Whether every limit held and no finding reached `fail_on`.
    pub passed: bool,
    /// The least severity of a finding that fails the check (`info`, `warning`, `error`), or
    /// `never`.
    pub fail_on: String,
    /// The limits asked for, in flag order.
    pub limits: Vec<LimitResult>,
    /// The findings of the enabled rules, most severe first.
    pub findings: Vec<CheckedFinding>,
}

/// Whether a goroutine with this start function belongs to the runtime or to the standard
/// library's tracing and profiling (`runtime/trace`, `runtime/pprof`).
fn is_runtime(name: &str) -> bool {
    is_system_goroutine(name) || name.starts_with("runtime/")
}

/// Goroutines `--no-leaks` counts: user goroutines blocked at the end on anything but
/// [`IDLE_REASONS`], by (site, reason).
pub fn leaks(trace: &Trace, blocking: &Blocking) -> (usize, Vec<String>) {
    let t = &trace.timelines;
    let mut n = 0;
    let mut detail = Vec::new();
    for l in &blocking.leaks {
        let reason = t.strings.lossy(l.reason);
        if IDLE_REASONS.contains(&reason.as_ref()) {
            continue;
        }
        let user = l
            .goroutines
            .iter()
            .filter(|&&g| {
                t.goroutine(g)
                    .is_some_and(|g| !is_runtime(&t.strings.lossy(g.name)))
            })
            .count();
        if user == 0 {
            continue;
        }
        n += user;
        detail.push(format!(
            "{user} blocked ({reason}) at {}",
            describe(SiteOut::of(t, l.site).as_ref(), "(no stack)")
        ));
    }
    (n, detail)
}

impl CheckReport {
    /// Checks `limits` and the findings (failing at `fail_on` and above; `None` = never).
    pub fn build(
        trace: &Trace,
        path: &str,
        blocking: &Blocking,
        sched: &Diagnostics,
        findings: &[Finding],
        limits: &Limits,
        fail_on: Option<Severity>,
    ) -> Self {
        let t = &trace.timelines;
        let p_time = ((t.end - t.start) as f64 * procs(trace, sched) as f64).max(1.0);
        let mut out = Vec::new();
        let mut int = |flag: &str, what: &str, unit, limit: Option<i64>, actual: i64| {
            if let Some(limit) = limit {
                out.push(LimitResult {
                    flag: flag.to_owned(),
                    what: what.to_owned(),
                    unit,
                    limit: Num::Int(limit),
                    actual: Num::Int(actual),
                    passed: actual <= limit,
                    detail: Vec::new(),
                });
            }
        };
        int(
            "--max-sched-latency-p99",
            "p99 scheduling latency",
            "ns",
            limits.sched_latency_p99,
            sched.latency.overall.p99,
        );
        int(
            "--max-sched-latency",
            "longest scheduling latency",
            "ns",
            limits.sched_latency_max,
            sched.latency.overall.max,
        );
        int(
            "--max-stw",
            "longest stop-the-world pause",
            "ns",
            limits.stw,
            sched.pause_durations.max,
        );
        int(
            "--max-stw-total",
            "stop-the-world pauses in all",
            "ns",
            limits.stw_total,
            sched.pause_durations.total,
        );
        int(
            "--max-blocking-syscalls",
            "syscalls that lost their P",
            "count",
            limits.blocking_syscalls.map(|n| n as i64),
            sched.blocking_syscalls.count as i64,
        );
        int(
            "--max-convoy",
            "most goroutines waiting at one site at once",
            "count",
            limits.convoy.map(i64::from),
            blocking
                .congestion
                .iter()
                .filter(|c| c.released > 0)
                .map(|c| i64::from(c.peak))
                .max()
                .unwrap_or(0),
        );
        let mut frac = |flag: &str, what: &str, limit: Option<f64>, actual: f64| {
            if let Some(limit) = limit {
                let actual = (actual * 1e6).round() / 1e6;
                out.push(LimitResult {
                    flag: flag.to_owned(),
                    what: what.to_owned(),
                    unit: "fraction",
                    limit: Num::Frac(limit),
                    actual: Num::Frac(actual),
                    passed: actual <= limit,
                    detail: Vec::new(),
                });
            }
        };
        frac(
            "--max-lost-work",
            "P-time idle while goroutines were runnable",
            limits.lost_work,
            sched.lost_total as f64 / p_time,
        );
        frac(
            "--max-gc-assist",
            "P-time in GC mark assists",
            limits.gc_assist,
            sched.assists.iter().map(|a| a.1).sum::<i64>() as f64 / p_time,
        );
        if limits.no_leaks {
            let (n, detail) = leaks(trace, blocking);
            out.push(LimitResult {
                flag: "--no-leaks".to_owned(),
                what: "user goroutines blocked at the end (not sleeping or on the network)"
                    .to_owned(),
                unit: "count",
                limit: Num::Int(0),
                actual: Num::Int(n as i64),
                passed: n == 0,
                detail,
            });
        }
        let findings: Vec<CheckedFinding> = findings
            .iter()
            .map(|f| CheckedFinding {
                finding: FindingOut::of(t, f),
                fails: fail_on.is_some_and(|s| f.severity >= s),
            })
            .collect();
        Self {
            schema: "goroscope.check",
            schema_version: SCHEMA_VERSION,
            trace: TraceInfo::of(trace, path),
            passed: out.iter().all(|l| l.passed) && !findings.iter().any(|f| f.fails),
            fail_on: fail_on.map_or_else(|| "never".to_owned(), |s| s.to_string()),
            limits: out,
            findings,
        }
    }

    /// The report as a document.
    pub fn document(&self) -> Document {
        let mut sections = vec![self.trace.section()];
        let broken_limits = self.limits.iter().filter(|l| !l.passed).count();
        let failing = self.findings.iter().filter(|f| f.fails).count();
        let verdict = if self.passed {
            Value::text("PASSED").tone(Tone::Good)
        } else if self.fail_on == "never" {
            Value::text(format!("FAILED: {broken_limits} limit(s) broken")).tone(Tone::Bad)
        } else {
            Value::text(format!(
                "FAILED: {broken_limits} limit(s) broken, {failing} finding(s) at {} or above",
                self.fail_on
            ))
            .tone(Tone::Bad)
        };
        sections[0] = sections[0].clone().fact("check", verdict);
        let mut limits = Table::new(
            "limits",
            &[
                ("result", "result"),
                ("flag", "limit"),
                ("limit", "max"),
                ("actual", "actual"),
                ("what", "measures"),
            ],
        );
        let num = |n: Num, unit: &str| match (n, unit) {
            (Num::Int(v), "ns") => Value::Dur(v),
            (Num::Int(v), _) => Value::Int(v),
            (Num::Frac(f), _) => Value::Frac(f),
        };
        for l in &self.limits {
            limits.row(vec![
                if l.passed {
                    Value::text("ok").tone(Tone::Good)
                } else {
                    Value::text("BROKEN").tone(Tone::Bad)
                },
                Value::text(&l.flag),
                num(l.limit, l.unit),
                num(l.actual, l.unit),
                Value::text(&l.what),
            ]);
        }
        let mut s = Section::new("Limits").with_table(limits, "no limits given");
        for l in &self.limits {
            for d in &l.detail {
                s = s.note(Value::text(format!("{}: {d}", l.flag)).tone(if l.passed {
                    Tone::Plain
                } else {
                    Tone::Bad
                }));
            }
        }
        sections.push(s);
        let mut f = Table::new(
            "findings",
            &[
                ("result", "result"),
                ("severity", "severity"),
                ("rule", "rule"),
                ("at_ns", "at"),
                ("title", "finding"),
            ],
        );
        for c in &self.findings {
            f.row(vec![
                if c.fails {
                    Value::text("FAIL").tone(Tone::Bad)
                } else {
                    Value::text("note").tone(Tone::Dim)
                },
                Value::text(&c.finding.severity).tone(severity_tone(&c.finding.severity)),
                Value::text(&c.finding.rule),
                Value::Time(c.finding.target.start_ns),
                Value::text(&c.finding.title),
            ]);
        }
        sections.push(
            Section::new(if self.fail_on == "never" {
                "Findings (none fails the check: --fail-on never)".to_owned()
            } else {
                format!(
                    "Findings (those at {} or above fail the check)",
                    self.fail_on
                )
            })
            .with_table(f, "no findings"),
        );
        Document { sections }
    }
}
