//! The summary report: what a trace holds, the headline numbers of every analysis, the
//! findings, and goroutine groups by start function.

use serde::Serialize;

use goroscope_analysis::blocking::Blocking;
use goroscope_analysis::findings::Finding;
use goroscope_analysis::sched::Diagnostics;
use goroscope_analysis::summary::Summary;
use goroscope_trace::Trace;

use crate::doc::{Document, Section, Table, Tone, Value};
use crate::model::{Dist, FindingOut, SCHEMA_VERSION, TraceInfo, findings_table, limit};
use crate::sched::{Util, mean_utilization};
use crate::units::{duration, percent};

/// GC at a glance.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Gc {
    /// Mark phases.
    pub mark_phases: usize,
    /// Time in mark phases.
    pub mark_ns: i64,
    /// Stop-the-world pauses.
    pub stw_count: usize,
    /// Their total.
    pub stw_total_ns: i64,
    /// The longest.
    pub stw_max_ns: i64,
}

/// User annotations.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Annotations {
    /// Tasks.
    pub tasks: usize,
    /// Regions.
    pub regions: usize,
    /// Logs.
    pub logs: usize,
}

/// Waiting time of one reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReasonTotal {
    /// The block reason.
    pub reason: String,
    /// Waits.
    pub count: u64,
    /// Their total.
    pub total_ns: i64,
}

/// Waiting at a glance.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Blocked {
    /// Waits.
    pub waits: u64,
    /// Their total.
    pub total_ns: i64,
    /// Goroutines still blocked at the end.
    pub open_at_end: u64,
    /// The top reasons, most time first.
    pub by_reason: Vec<ReasonTotal>,
}

/// Scheduling latency at a glance.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct SchedLatency {
    /// Runs measured.
    pub count: u64,
    /// Their latencies.
    #[serde(flatten)]
    pub latency: Dist,
}

/// One goroutine group.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupRow {
    /// The start function (empty when no stack was seen).
    pub name: String,
    /// Goroutines.
    pub count: usize,
    /// Execution time, summed.
    pub running_ns: i64,
    /// Scheduling wait, summed.
    pub sched_wait_ns: i64,
    /// p99 over the goroutines of their scheduling wait.
    pub sched_wait_p99_ns: i64,
    /// Blocked time, summed.
    pub blocked_ns: i64,
    /// Syscall time (executing and blocked), summed.
    pub syscall_ns: i64,
}

/// The summary report (`goroscope summary`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SummaryReport {
    /// `goroscope.summary`.
    pub schema: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The trace.
    pub trace: TraceInfo,
    /// Goroutines that had not exited at the end.
    pub alive_at_end: usize,
    /// GC.
    pub gc: Gc,
    /// User annotations.
    pub annotations: Annotations,
    /// Scheduling latency.
    pub sched_latency: SchedLatency,
    /// Mean P utilization.
    pub utilization: Util,
    /// Waiting.
    pub blocked: Blocked,
    /// The findings of the default rules, most severe first.
    pub findings: Vec<FindingOut>,
    /// How many goroutine groups there are.
    pub groups_total: usize,
    /// The groups shown, most execution time first.
    pub groups: Vec<GroupRow>,
}

impl SummaryReport {
    /// Builds the report, showing `top` groups (0 = all).
    pub fn build(
        trace: &Trace,
        path: &str,
        summary: &Summary,
        blocking: &Blocking,
        sched: &Diagnostics,
        findings: &[Finding],
        top: usize,
    ) -> Self {
        let t = &trace.timelines;
        let clamp = |i: &goroscope_trace::timeline::Interval| {
            let (a, b) = i.clamped(t.start, t.end);
            b - a
        };
        let stws: Vec<i64> = t.stw.iter().map(|s| clamp(&s.interval)).collect();
        let groups = summary.groups();
        Self {
            schema: "goroscope.summary",
            schema_version: SCHEMA_VERSION,
            trace: TraceInfo::of(trace, path),
            alive_at_end: t.goroutines.iter().filter(|g| g.ended.is_none()).count(),
            gc: Gc {
                mark_phases: t.gc.len(),
                mark_ns: t.gc.iter().map(clamp).sum(),
                stw_count: stws.len(),
                stw_total_ns: stws.iter().sum(),
                stw_max_ns: stws.iter().copied().max().unwrap_or(0),
            },
            annotations: Annotations {
                tasks: t.tasks.len(),
                regions: t.goroutines.iter().map(|g| g.regions.len()).sum(),
                logs: t.logs.len(),
            },
            sched_latency: SchedLatency {
                count: sched.latency.count,
                latency: sched.latency.overall.into(),
            },
            utilization: mean_utilization(sched, t.end),
            blocked: Blocked {
                waits: blocking.waits.len() as u64,
                total_ns: blocking.waits.iter().map(|w| w.duration(t.end)).sum(),
                open_at_end: blocking.waits.iter().filter(|w| w.end.is_none()).count() as u64,
                by_reason: blocking
                    .by_reason
                    .iter()
                    .take(3)
                    .map(|g| ReasonTotal {
                        reason: t.strings.lossy(g.key).into_owned(),
                        count: g.stats.count,
                        total_ns: g.stats.duration.total,
                    })
                    .collect(),
            },
            findings: findings.iter().map(|f| FindingOut::of(t, f)).collect(),
            groups_total: groups.len(),
            groups: groups
                .iter()
                .take(limit(groups.len(), top))
                .map(|g| GroupRow {
                    name: g.name.to_string(),
                    count: g.count(),
                    running_ns: g.exec_time.total,
                    sched_wait_ns: g.sched_wait_time.total,
                    sched_wait_p99_ns: g.sched_wait_time.p99,
                    blocked_ns: g.block_time.total,
                    syscall_ns: g.syscall_time.total + g.syscall_block_time.total,
                })
                .collect(),
        }
    }

    /// The report as a document.
    pub fn document(&self) -> Document {
        let tr = &self.trace;
        let mut head = Section::new("")
            .fact("trace", tr.path.as_str())
            .fact(
                "format",
                format!(
                    "{} ({} events, {})",
                    tr.format,
                    tr.events,
                    crate::units::bytes(tr.bytes)
                ),
            )
            .fact(
                "span",
                format!(
                    "{} on {} Ps and {} threads; {} goroutines, {} alive at the end",
                    duration(tr.duration_ns),
                    tr.procs,
                    tr.threads,
                    tr.goroutines,
                    self.alive_at_end
                ),
            )
            .fact(
                "GC",
                format!(
                    "{} mark phases ({} in all); {} stop-the-world pauses ({} in all, longest {})",
                    self.gc.mark_phases,
                    duration(self.gc.mark_ns),
                    self.gc.stw_count,
                    duration(self.gc.stw_total_ns),
                    duration(self.gc.stw_max_ns)
                ),
            );
        if self.annotations.tasks > 0 || self.annotations.regions > 0 {
            head = head.fact(
                "annotations",
                format!(
                    "{} tasks, {} regions, {} logs",
                    self.annotations.tasks, self.annotations.regions, self.annotations.logs
                ),
            );
        }
        let l = &self.sched_latency.latency;
        let u = &self.utilization;
        head = head
            .fact(
                "sched",
                format!(
                    "latency p50 {}, p99 {}, max {} over {} runs; Ps running goroutines {}, GC {}, idle {}",
                    duration(l.p50_ns),
                    duration(l.p99_ns),
                    duration(l.max_ns),
                    self.sched_latency.count,
                    percent(u.running),
                    percent(u.gc),
                    percent(u.idle)
                ),
            )
            .fact(
                "blocked",
                format!(
                    "{} waits, {} in all{}; {} goroutines still blocked at the end",
                    self.blocked.waits,
                    duration(self.blocked.total_ns),
                    if self.blocked.by_reason.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; most on {}",
                            self.blocked
                                .by_reason
                                .iter()
                                .map(|r| format!("{} ({})", r.reason, duration(r.total_ns)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    },
                    self.blocked.open_at_end
                ),
            );
        if !tr.warnings.is_empty() {
            head = head.fact(
                "damaged",
                Value::text(format!(
                    "{} part(s) could not be read (see the warnings)",
                    tr.warnings.len()
                ))
                .tone(Tone::Warn),
            );
        }
        let mut sections = vec![head];
        sections.push(
            Section::new(format!(
                "Findings ({}; goroscope check gates on them)",
                self.findings.len()
            ))
            .with_table(findings_table(&self.findings), "nothing stands out"),
        );
        let mut groups = Table::new(
            "groups",
            &[
                ("name", "start function"),
                ("count", "count"),
                ("running_ns", "running"),
                ("sched_wait_ns", "sched wait"),
                ("sched_wait_p99_ns", "p99 wait"),
                ("blocked_ns", "blocked"),
                ("syscall_ns", "syscall"),
            ],
        );
        for g in &self.groups {
            groups.row(vec![
                Value::text(if g.name.is_empty() {
                    "(no stack seen)"
                } else {
                    &g.name
                }),
                Value::Int(g.count as i64),
                Value::Dur(g.running_ns),
                Value::Dur(g.sched_wait_ns),
                Value::Dur(g.sched_wait_p99_ns),
                Value::Dur(g.blocked_ns),
                Value::Dur(g.syscall_ns),
            ]);
        }
        sections.push(
            Section::new(format!(
                "Goroutines by start function ({} of {} groups, most execution time first)",
                self.groups.len(),
                self.groups_total
            ))
            .with_table(groups, "no goroutines"),
        );
        Document { sections }
    }
}
