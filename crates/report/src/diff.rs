//! The diff report: the same metrics for two traces (before and after a change), with
//! deltas and ratios; blocking sites and goroutine groups side by side.

use std::collections::BTreeMap;

use serde::Serialize;

use goroscope_analysis::blocking::Blocking;
use goroscope_analysis::findings::{Finding, Severity};
use goroscope_analysis::sched::Diagnostics;
use goroscope_analysis::summary::Summary;
use goroscope_trace::Trace;

use crate::check::Num;
use crate::doc::{Document, Section, Table, Tone, Value};
use crate::model::{SCHEMA_VERSION, SiteOut, TraceInfo, describe, limit};
use crate::sched::{mean_utilization, procs};
use crate::units::ratio_of;

/// One trace and its analyses.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    /// The trace.
    pub trace: &'a Trace,
    /// Its path as given.
    pub path: &'a str,
    /// Its goroutine summary.
    pub summary: &'a Summary,
    /// Its blocking attribution.
    pub blocking: &'a Blocking,
    /// Its scheduler diagnostics.
    pub sched: &'a Diagnostics,
    /// Its findings.
    pub findings: &'a [Finding],
}

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Lower is better (latencies, pauses, waiting).
    Lower,
    /// Neither (sizes, counts of things that just are).
    Neutral,
}

/// One metric of both traces.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metric {
    /// A stable key (`sched_latency_p99_ns`).
    pub key: String,
    /// What it is.
    pub name: String,
    /// `ns`, `count` or `fraction`.
    pub unit: &'static str,
    /// Its value in the first trace.
    pub before: Num,
    /// Its value in the second trace.
    pub after: Num,
    /// `after - before`.
    pub delta: Num,
    /// `after / before`; `null` when `before` is 0 and `after` is not.
    pub ratio: Option<f64>,
    /// Which way is better.
    pub better: Better,
}

/// A blocking site in both traces.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SiteDiff {
    /// The site.
    pub site: Option<SiteOut>,
    /// Waits before.
    pub before_count: u64,
    /// Waits after.
    pub after_count: u64,
    /// Time waited before.
    pub before_ns: i64,
    /// Time waited after.
    pub after_ns: i64,
    /// `after_ns / before_ns`.
    pub ratio: Option<f64>,
}

/// A goroutine group in both traces.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupDiff {
    /// The start function.
    pub group: String,
    /// Goroutines before.
    pub before_count: usize,
    /// Goroutines after.
    pub after_count: usize,
    /// Execution time before.
    pub before_running_ns: i64,
    /// Execution time after.
    pub after_running_ns: i64,
    /// Scheduling wait before.
    pub before_sched_wait_ns: i64,
    /// Scheduling wait after.
    pub after_sched_wait_ns: i64,
    /// Blocked time before.
    pub before_blocked_ns: i64,
    /// Blocked time after.
    pub after_blocked_ns: i64,
}

/// The diff report (`goroscope diff`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DiffReport {
    /// `goroscope.diff`.
    pub schema: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The first trace.
    pub before: TraceInfo,
    /// The second trace.
    pub after: TraceInfo,
    /// The metrics, in a fixed order (then blocking reasons by name).
    pub metrics: Vec<Metric>,
    /// Blocking sites, most time (in either trace) first.
    pub blocking_sites: Vec<SiteDiff>,
    /// Goroutine groups, most execution time (in either trace) first.
    pub groups: Vec<GroupDiff>,
}

/// The metric values of one trace, by key.
fn metrics(s: &Side<'_>) -> Vec<(String, String, &'static str, Num, Better)> {
    use Better::{Lower, Neutral};
    let t = &s.trace.timelines;
    let d = s.sched;
    let b = s.blocking;
    let p_time = ((t.end - t.start) as f64 * procs(s.trace, d) as f64).max(1.0);
    let u = mean_utilization(d, t.end);
    let ns = |v: i64| Num::Int(v);
    let count = |v: u64| Num::Int(v as i64);
    let frac = |v: f64| Num::Frac((v * 1e6).round() / 1e6);
    let severity = |sev: Severity| s.findings.iter().filter(|f| f.severity == sev).count() as u64;
    let mut out: Vec<(String, String, &'static str, Num, Better)> = Vec::new();
    let mut m = |key: &str, name: &str, unit: &'static str, v: Num, better: Better| {
        out.push((key.to_owned(), name.to_owned(), unit, v, better));
    };
    m(
        "duration_ns",
        "trace span",
        "ns",
        ns(t.end - t.start),
        Neutral,
    );
    m("events", "events", "count", count(s.trace.events), Neutral);
    m(
        "goroutines",
        "goroutines",
        "count",
        count(t.goroutines.len() as u64),
        Neutral,
    );
    m(
        "alive_at_end",
        "goroutines alive at the end",
        "count",
        count(t.goroutines.iter().filter(|g| g.ended.is_none()).count() as u64),
        Neutral,
    );
    m(
        "sched_latency_count",
        "runs (runnable → running)",
        "count",
        count(d.latency.count),
        Neutral,
    );
    m(
        "sched_latency_p50_ns",
        "sched latency p50",
        "ns",
        ns(d.latency.overall.p50),
        Lower,
    );
    m(
        "sched_latency_p90_ns",
        "sched latency p90",
        "ns",
        ns(d.latency.overall.p90),
        Lower,
    );
    m(
        "sched_latency_p99_ns",
        "sched latency p99",
        "ns",
        ns(d.latency.overall.p99),
        Lower,
    );
    m(
        "sched_latency_max_ns",
        "sched latency max",
        "ns",
        ns(d.latency.overall.max),
        Lower,
    );
    m(
        "sched_latency_total_ns",
        "sched latency in all",
        "ns",
        ns(d.latency.overall.total),
        Lower,
    );
    m(
        "util_running",
        "Ps running goroutines",
        "fraction",
        frac(u.running),
        Neutral,
    );
    m(
        "util_gc",
        "Ps running GC workers",
        "fraction",
        frac(u.gc),
        Lower,
    );
    m("util_idle", "Ps idle", "fraction", frac(u.idle), Neutral);
    m(
        "lost_work",
        "P-time idle while runnable",
        "fraction",
        frac(d.lost_total as f64 / p_time),
        Lower,
    );
    m(
        "peak_runnable",
        "most runnable goroutines at once",
        "count",
        count(d.queue_spikes.first().map_or(0, |q| u64::from(q.runnable))),
        Lower,
    );
    m(
        "gc_mark_phases",
        "GC mark phases",
        "count",
        count(t.gc.len() as u64),
        Lower,
    );
    m(
        "stw_count",
        "stop-the-world pauses",
        "count",
        count(t.stw.len() as u64),
        Lower,
    );
    m(
        "stw_total_ns",
        "stop-the-world in all",
        "ns",
        ns(d.pause_durations.total),
        Lower,
    );
    m(
        "stw_max_ns",
        "longest stop-the-world",
        "ns",
        ns(d.pause_durations.max),
        Lower,
    );
    m(
        "gc_assist_ns",
        "GC mark assists",
        "ns",
        ns(d.assists.iter().map(|a| a.1).sum()),
        Lower,
    );
    m(
        "blocking_syscalls",
        "syscalls that lost their P",
        "count",
        count(d.blocking_syscalls.count),
        Lower,
    );
    m(
        "waits",
        "waits",
        "count",
        count(b.waits.len() as u64),
        Neutral,
    );
    m(
        "waited_ns",
        "time waited (all goroutines)",
        "ns",
        ns(b.waits.iter().map(|w| w.duration(t.end)).sum()),
        Lower,
    );
    m(
        "blocked_at_end",
        "goroutines blocked at the end",
        "count",
        count(b.waits.iter().filter(|w| w.end.is_none()).count() as u64),
        Lower,
    );
    m(
        "findings_error",
        "error findings",
        "count",
        count(severity(Severity::Error)),
        Lower,
    );
    m(
        "findings_warning",
        "warning findings",
        "count",
        count(severity(Severity::Warning)),
        Lower,
    );
    out
}

fn reasons(s: &Side<'_>) -> BTreeMap<String, i64> {
    let t = &s.trace.timelines;
    s.blocking
        .by_reason
        .iter()
        .map(|g| (t.strings.lossy(g.key).into_owned(), g.stats.duration.total))
        .collect()
}

fn as_f64(n: Num) -> f64 {
    match n {
        Num::Int(v) => v as f64,
        Num::Frac(f) => f,
    }
}

impl DiffReport {
    /// Compares two traces, keeping `top` sites and groups (0 = all).
    pub fn build(before: &Side<'_>, after: &Side<'_>, top: usize) -> Self {
        let mut out = Vec::new();
        for (b, a) in metrics(before).into_iter().zip(metrics(after)) {
            let (key, name, unit, bv, better) = b;
            let av = a.3;
            let delta = match (bv, av) {
                (Num::Int(x), Num::Int(y)) => Num::Int(y - x),
                (x, y) => Num::Frac(((as_f64(y) - as_f64(x)) * 1e6).round() / 1e6),
            };
            out.push(Metric {
                key,
                name,
                unit,
                before: bv,
                after: av,
                delta,
                ratio: ratio_of(as_f64(bv), as_f64(av)).map(|r| (r * 1e4).round() / 1e4),
                better,
            });
        }
        let (rb, ra) = (reasons(before), reasons(after));
        let mut names: Vec<&String> = rb.keys().chain(ra.keys()).collect();
        names.sort();
        names.dedup();
        for r in names {
            let (x, y) = (
                rb.get(r).copied().unwrap_or(0),
                ra.get(r).copied().unwrap_or(0),
            );
            let label = crate::blocking::reason_label(r);
            out.push(Metric {
                key: format!("waited_ns:{r}"),
                name: format!("waited on {label}"),
                unit: "ns",
                before: Num::Int(x),
                after: Num::Int(y),
                delta: Num::Int(y - x),
                ratio: ratio_of(x as f64, y as f64).map(|r| (r * 1e4).round() / 1e4),
                better: Better::Lower,
            });
        }

        // Blocking sites, matched by function, file and line.
        let mut sites: BTreeMap<Option<SiteOut>, [(u64, i64); 2]> = BTreeMap::new();
        for (i, s) in [before, after].iter().enumerate() {
            let t = &s.trace.timelines;
            for g in &s.blocking.by_site {
                let e = sites.entry(SiteOut::of(t, g.key)).or_default();
                e[i].0 += g.stats.count;
                e[i].1 += g.stats.duration.total;
            }
        }
        let mut blocking_sites: Vec<SiteDiff> = sites
            .into_iter()
            .map(|(site, [b, a])| SiteDiff {
                site,
                before_count: b.0,
                after_count: a.0,
                before_ns: b.1,
                after_ns: a.1,
                ratio: ratio_of(b.1 as f64, a.1 as f64).map(|r| (r * 1e4).round() / 1e4),
            })
            .collect();
        blocking_sites.sort_by(|x, y| {
            y.before_ns
                .max(y.after_ns)
                .cmp(&x.before_ns.max(x.after_ns))
                .then_with(|| x.site.cmp(&y.site))
        });
        blocking_sites.truncate(limit(blocking_sites.len(), top));

        let mut groups: BTreeMap<String, GroupDiff> = BTreeMap::new();
        for (i, s) in [before, after].iter().enumerate() {
            for g in s.summary.groups() {
                let e = groups
                    .entry(g.name.to_string())
                    .or_insert_with(|| GroupDiff {
                        group: g.name.to_string(),
                        before_count: 0,
                        after_count: 0,
                        before_running_ns: 0,
                        after_running_ns: 0,
                        before_sched_wait_ns: 0,
                        after_sched_wait_ns: 0,
                        before_blocked_ns: 0,
                        after_blocked_ns: 0,
                    });
                if i == 0 {
                    e.before_count = g.count();
                    e.before_running_ns = g.exec_time.total;
                    e.before_sched_wait_ns = g.sched_wait_time.total;
                    e.before_blocked_ns = g.block_time.total;
                } else {
                    e.after_count = g.count();
                    e.after_running_ns = g.exec_time.total;
                    e.after_sched_wait_ns = g.sched_wait_time.total;
                    e.after_blocked_ns = g.block_time.total;
                }
            }
        }
        let mut groups: Vec<GroupDiff> = groups.into_values().collect();
        groups.sort_by(|x, y| {
            y.before_running_ns
                .max(y.after_running_ns)
                .cmp(&x.before_running_ns.max(x.after_running_ns))
                .then_with(|| x.group.cmp(&y.group))
        });
        groups.truncate(limit(groups.len(), top));

        Self {
            schema: "goroscope.diff",
            schema_version: SCHEMA_VERSION,
            before: TraceInfo::of(before.trace, before.path),
            after: TraceInfo::of(after.trace, after.path),
            metrics: out,
            blocking_sites,
            groups,
        }
    }

    /// The report as a document.
    pub fn document(&self) -> Document {
        let head = Section::new("")
            .fact(
                "before",
                format!(
                    "{} ({}, {} events, {})",
                    self.before.path,
                    self.before.format,
                    self.before.events,
                    crate::units::duration(self.before.duration_ns)
                ),
            )
            .fact(
                "after",
                format!(
                    "{} ({}, {} events, {})",
                    self.after.path,
                    self.after.format,
                    self.after.events,
                    crate::units::duration(self.after.duration_ns)
                ),
            );
        let mut m = Table::new(
            "metrics",
            &[
                ("metric", "metric"),
                ("before", "before"),
                ("after", "after"),
                ("delta", "delta"),
                ("ratio", "ratio"),
            ],
        );
        for x in &self.metrics {
            let tone = tone(x.better, as_f64(x.delta));
            let v = |n: Num| match (n, x.unit) {
                (Num::Int(v), "ns") => Value::Dur(v),
                (Num::Int(v), _) => Value::Int(v),
                (Num::Frac(f), _) => Value::Frac(f),
            };
            let delta = match (x.delta, x.unit) {
                (Num::Int(v), "ns") => Value::DurDelta(v),
                (Num::Int(v), _) => Value::IntDelta(v),
                (Num::Frac(f), _) => Value::FracDelta(f),
            };
            m.row(vec![
                Value::text(&x.name),
                v(x.before),
                v(x.after),
                delta.tone(tone),
                Value::Ratio(x.ratio).tone(tone),
            ]);
        }
        let mut sites = Table::new(
            "blocking_sites",
            &[
                ("site", "blocking site"),
                ("before_count", "waits before"),
                ("after_count", "after"),
                ("before_ns", "waited before"),
                ("after_ns", "after"),
                ("delta_ns", "delta"),
                ("ratio", "ratio"),
            ],
        );
        for s in &self.blocking_sites {
            let d = s.after_ns - s.before_ns;
            let tone = tone(Better::Lower, d as f64);
            sites.row(vec![
                Value::text(describe(s.site.as_ref(), "(no stack)")),
                Value::Int(s.before_count as i64),
                Value::Int(s.after_count as i64),
                Value::Dur(s.before_ns),
                Value::Dur(s.after_ns),
                Value::DurDelta(d).tone(tone),
                Value::Ratio(s.ratio).tone(tone),
            ]);
        }
        let mut groups = Table::new(
            "groups",
            &[
                ("group", "start function"),
                ("before_count", "count before"),
                ("after_count", "after"),
                ("before_running_ns", "running before"),
                ("after_running_ns", "after"),
                ("before_sched_wait_ns", "sched wait before"),
                ("after_sched_wait_ns", "after"),
                ("before_blocked_ns", "blocked before"),
                ("after_blocked_ns", "after"),
            ],
        );
        for g in &self.groups {
            groups.row(vec![
                Value::text(if g.group.is_empty() {
                    "(no stack seen)"
                } else {
                    &g.group
                }),
                Value::Int(g.before_count as i64),
                Value::Int(g.after_count as i64),
                Value::Dur(g.before_running_ns),
                Value::Dur(g.after_running_ns),
                Value::Dur(g.before_sched_wait_ns),
                Value::Dur(g.after_sched_wait_ns),
                Value::Dur(g.before_blocked_ns),
                Value::Dur(g.after_blocked_ns),
            ]);
        }
        Document {
            sections: vec![
                head,
                Section::new("Metrics (delta = after - before; ratio = after / before)")
                    .with_table(m, "no metrics"),
                Section::new("Blocking sites (most time in either trace first)")
                    .with_table(sites, "no waits in either trace"),
                Section::new("Goroutine groups (most execution time in either trace first)")
                    .with_table(groups, "no goroutines"),
            ],
        }
    }
}

/// Red for worse, green for better, when a direction is known.
fn tone(better: Better, delta: f64) -> Tone {
    match better {
        Better::Lower if delta > 0.0 => Tone::Bad,
        Better::Lower if delta < 0.0 => Tone::Good,
        _ => Tone::Plain,
    }
}
