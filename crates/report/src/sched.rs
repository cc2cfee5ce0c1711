//! The scheduler report: scheduling latency, P utilization, lost work, run-queue spikes,
//! stop-the-world pauses, mark assists, syscalls that lost their P, long runs.

use serde::Serialize;

use goroscope_analysis::sched::{Diagnostics, Utilization};
use goroscope_trace::Trace;

use crate::doc::{Document, Section, Table, Tone, Value};
use crate::model::{Dist, SCHEMA_VERSION, SiteOut, TraceInfo, describe, dist_columns, limit};
use crate::text::sparkline;

/// Scheduling latency of one P.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProcLatency {
    /// The P the goroutines then ran on.
    pub proc: i64,
    /// Their latencies.
    #[serde(flatten)]
    pub latency: Dist,
}

/// Scheduling latency of one goroutine group.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupLatency {
    /// The start function.
    pub group: String,
    /// How many runs.
    pub count: u64,
    /// Their latencies.
    #[serde(flatten)]
    pub latency: Dist,
}

/// One bucket of the latency histogram: latencies in `[from_ns, to_ns)`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Bucket {
    /// Lower bound (inclusive).
    pub from_ns: i64,
    /// Upper bound (exclusive).
    pub to_ns: i64,
    /// How many latencies.
    pub count: u64,
}

/// Scheduling latency in one window of the trace.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct WindowLatency {
    /// The window's start.
    pub start_ns: i64,
    /// The p99 of the runs that started in it (0 if none).
    pub p99_ns: i64,
    /// How many runs started in it.
    pub count: u64,
}

/// How long runnable goroutines waited for a P.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Latency {
    /// How many runs were measured.
    pub count: u64,
    /// Over all runs.
    #[serde(flatten)]
    pub overall: Dist,
    /// Per P, by P ID.
    pub per_proc: Vec<ProcLatency>,
    /// Per goroutine group, most total latency first.
    pub per_group: Vec<GroupLatency>,
    /// Log2 buckets, from the shortest latency to the longest.
    pub histogram: Vec<Bucket>,
    /// Per window of the trace, in time order.
    pub per_window: Vec<WindowLatency>,
}

/// What the Ps did, as fractions of the P-time of a window (or of the trace).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct Util {
    /// The window's start (0 for the whole trace).
    pub start_ns: i64,
    /// Running user goroutines.
    pub running: f64,
    /// Running GC workers.
    pub gc: f64,
    /// Held by a thread in a syscall.
    pub syscall: f64,
    /// Held, running no goroutine (the scheduler).
    pub scheduler: f64,
    /// Idle.
    pub idle: f64,
}

fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

impl Util {
    fn of(u: &Utilization, start: i64) -> Self {
        Self {
            start_ns: u.start - start,
            running: round(u.running),
            gc: round(u.gc),
            syscall: round(u.syscall),
            scheduler: round(u.scheduler),
            idle: round(u.idle),
        }
    }
}

/// P utilization.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProcUtilization {
    /// Time-weighted over the trace.
    pub mean: Util,
    /// Per window, in time order.
    pub windows: Vec<Util>,
}

/// A window with lost work conservation.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct LostWindow {
    /// The window's start.
    pub start_ns: i64,
    /// P-time lost in it.
    pub lost_ns: i64,
}

/// Ps idle while goroutines were runnable.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LostWork {
    /// P-time lost.
    pub total_ns: i64,
    /// As a fraction of all P-time.
    pub fraction: f64,
    /// The worst windows, worst first.
    pub windows: Vec<LostWindow>,
}

/// A peak of the run queues.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct QueueSpike {
    /// When.
    pub at_ns: i64,
    /// Runnable goroutines then.
    pub runnable: u32,
}

/// A stop-the-world pause.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Pause {
    /// When it began.
    pub start_ns: i64,
    /// How long.
    pub duration_ns: i64,
    /// Why (`GC mark termination`, …).
    pub kind: String,
}

/// Stop-the-world pauses.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Stw {
    /// How many.
    pub count: u64,
    /// Their durations.
    #[serde(flatten)]
    pub duration: Dist,
    /// The longest, longest first.
    pub pauses: Vec<Pause>,
}

/// Mark assist time of one group.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupAssist {
    /// The start function.
    pub group: String,
    /// Time in assists.
    pub total_ns: i64,
}

/// GC mark assists.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Assists {
    /// Time in assists, all goroutines.
    pub total_ns: i64,
    /// As a fraction of all P-time.
    pub fraction: f64,
    /// By goroutine group, most first.
    pub by_group: Vec<GroupAssist>,
}

/// Syscalls of one stack that lost their P.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SyscallSite {
    /// The site of the syscall's stack.
    pub site: Option<SiteOut>,
    /// The stack, innermost frame first.
    pub stack: Vec<SiteOut>,
    /// How many.
    pub count: u64,
    /// Their total duration.
    pub total_ns: i64,
}

/// Syscalls that blocked long enough to lose their P.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BlockingSyscalls {
    /// How many.
    pub count: u64,
    /// Their durations.
    #[serde(flatten)]
    pub duration: Dist,
    /// By stack, most time first.
    pub by_stack: Vec<SyscallSite>,
}

/// A long run without a switch.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LongRun {
    /// The goroutine.
    pub goroutine: i64,
    /// Its start function.
    pub group: String,
    /// The P.
    pub proc: i64,
    /// When it started running.
    pub start_ns: i64,
    /// How long.
    pub duration_ns: i64,
    /// The state it went to (`Runnable` = preempted, `Waiting`, …), or `null` if it ran to
    /// the end of the trace.
    pub ended_by: Option<String>,
    /// Where it was when it stopped.
    pub site: Option<SiteOut>,
}

/// A GOMAXPROCS value from a time on.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Gomaxprocs {
    /// From when.
    pub at_ns: i64,
    /// The value.
    pub value: u64,
}

/// The minimum mutator utilization at one window length.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct MmuPoint {
    /// The window length.
    pub window_ns: i64,
    /// The lowest share of P-time left to user goroutines over any window of that length
    /// (GC work: stop-the-world pauses, background workers, assists), from 0 to 1.
    pub mmu: f64,
}

/// The scheduler report (`goroscope sched`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SchedReport {
    /// `goroscope.sched`.
    pub schema: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The trace.
    pub trace: TraceInfo,
    /// The length of the windows the trace was split into.
    pub window_ns: i64,
    /// Scheduling latency.
    pub latency: Latency,
    /// P utilization.
    pub utilization: ProcUtilization,
    /// Lost work conservation.
    pub lost_work: LostWork,
    /// The deepest run queues, deepest first.
    pub queue_spikes: Vec<QueueSpike>,
    /// Stop-the-world pauses.
    pub stw: Stw,
    /// GC mark assists.
    pub assists: Assists,
    /// Syscalls that lost their P.
    pub blocking_syscalls: BlockingSyscalls,
    /// Runs at least `long_run_ns` long, longest first.
    pub long_runs: Vec<LongRun>,
    /// The threshold of a long run.
    pub long_run_ns: i64,
    /// GOMAXPROCS over time.
    pub gomaxprocs: Vec<Gomaxprocs>,
    /// Minimum mutator utilization (as `go tool trace`'s MMU page computes it) at round
    /// window lengths up to the trace's span; empty when not computed.
    pub mmu: Vec<MmuPoint>,
    /// The most threads busy at once.
    pub peak_threads: u32,
}

/// Time-weighted mean utilization over the windows of `d`.
pub fn mean_utilization(d: &Diagnostics, end: i64) -> Util {
    let mut sum = [0f64; 5];
    let mut weight = 0f64;
    for u in &d.utilization {
        let w = ((u.start + d.window).min(end) - u.start).max(0) as f64;
        for (s, x) in sum
            .iter_mut()
            .zip([u.running, u.gc, u.syscall, u.scheduler, u.idle])
        {
            *s += x * w;
        }
        weight += w;
    }
    let f = |x: f64| if weight > 0.0 { round(x / weight) } else { 0.0 };
    Util {
        start_ns: 0,
        running: f(sum[0]),
        gc: f(sum[1]),
        syscall: f(sum[2]),
        scheduler: f(sum[3]),
        idle: f(sum[4]),
    }
}

/// The number of Ps to divide P-time by: the largest GOMAXPROCS seen, else the Ps seen.
pub fn procs(trace: &Trace, d: &Diagnostics) -> u64 {
    d.gomaxprocs
        .iter()
        .map(|x| x.1)
        .max()
        .unwrap_or(trace.timelines.procs.len() as u64)
        .max(1)
}

impl SchedReport {
    /// Builds the report, keeping the first `top` rows of each list (0 = all); `mmu` is
    /// `(window, MMU)` pairs.
    pub fn build(
        trace: &Trace,
        path: &str,
        d: &Diagnostics,
        mmu: &[(i64, f64)],
        long_run_ns: i64,
        top: usize,
    ) -> Self {
        let t = &trace.timelines;
        let rel = |x: i64| x - t.start;
        let name = |s| t.strings.lossy(s).into_owned();
        let p_time = ((t.end - t.start) as f64 * procs(trace, d) as f64).max(1.0);
        let assist_total: i64 = d.assists.iter().map(|a| a.1).sum();
        let take = |n: usize| limit(n, top);
        Self {
            schema: "goroscope.sched",
            schema_version: SCHEMA_VERSION,
            trace: TraceInfo::of(trace, path),
            window_ns: d.window,
            latency: Latency {
                count: d.latency.count,
                overall: d.latency.overall.into(),
                per_proc: d
                    .latency
                    .per_proc
                    .iter()
                    .map(|&(p, dist)| ProcLatency {
                        proc: p,
                        latency: dist.into(),
                    })
                    .collect(),
                per_group: d
                    .latency
                    .per_group
                    .iter()
                    .take(take(d.latency.per_group.len()))
                    .map(|&(g, n, dist)| GroupLatency {
                        group: name(g),
                        count: n,
                        latency: dist.into(),
                    })
                    .collect(),
                histogram: d
                    .latency
                    .histogram
                    .iter()
                    .enumerate()
                    .skip_while(|(_, n)| **n == 0)
                    .map(|(i, &n)| Bucket {
                        from_ns: if i == 0 { 0 } else { 1i64 << i },
                        to_ns: 1i64 << (i + 1),
                        count: n,
                    })
                    .collect(),
                per_window: d
                    .latency
                    .per_window
                    .iter()
                    .map(|&(s, p99, n)| WindowLatency {
                        start_ns: rel(s),
                        p99_ns: p99,
                        count: n,
                    })
                    .collect(),
            },
            utilization: ProcUtilization {
                mean: mean_utilization(d, t.end),
                windows: d.utilization.iter().map(|u| Util::of(u, t.start)).collect(),
            },
            lost_work: LostWork {
                total_ns: d.lost_total,
                fraction: round(d.lost_total as f64 / p_time),
                windows: d
                    .lost_windows
                    .iter()
                    .take(take(d.lost_windows.len()))
                    .map(|w| LostWindow {
                        start_ns: rel(w.start),
                        lost_ns: w.lost,
                    })
                    .collect(),
            },
            queue_spikes: d
                .queue_spikes
                .iter()
                .take(take(d.queue_spikes.len()))
                .map(|q| QueueSpike {
                    at_ns: rel(q.time),
                    runnable: q.runnable,
                })
                .collect(),
            stw: Stw {
                count: t.stw.len() as u64,
                duration: d.pause_durations.into(),
                pauses: d
                    .pauses
                    .iter()
                    .take(take(d.pauses.len()))
                    .map(|p| Pause {
                        start_ns: rel(p.start),
                        duration_ns: p.duration,
                        kind: name(p.kind),
                    })
                    .collect(),
            },
            assists: Assists {
                total_ns: assist_total,
                fraction: round(assist_total as f64 / p_time),
                by_group: d
                    .assists
                    .iter()
                    .take(take(d.assists.len()))
                    .map(|&(g, total)| GroupAssist {
                        group: name(g),
                        total_ns: total,
                    })
                    .collect(),
            },
            blocking_syscalls: BlockingSyscalls {
                count: d.blocking_syscalls.count,
                duration: d.blocking_syscalls.duration.into(),
                by_stack: d
                    .blocking_syscalls
                    .by_stack
                    .iter()
                    .take(take(d.blocking_syscalls.by_stack.len()))
                    .map(|&(s, n, total)| SyscallSite {
                        site: SiteOut::of_stack(t, s),
                        stack: crate::model::frames(t, s),
                        count: n,
                        total_ns: total,
                    })
                    .collect(),
            },
            long_runs: d
                .long_runs
                .iter()
                .take(take(d.long_runs.len()))
                .map(|r| LongRun {
                    goroutine: r.g,
                    group: t.goroutine(r.g).map(|g| name(g.name)).unwrap_or_default(),
                    proc: r.p,
                    start_ns: rel(r.start),
                    duration_ns: r.duration,
                    ended_by: r.ended_by.map(|s| s.name().to_owned()),
                    site: SiteOut::of_stack(t, r.stack),
                })
                .collect(),
            long_run_ns,
            gomaxprocs: d
                .gomaxprocs
                .iter()
                .map(|&(at, v)| Gomaxprocs {
                    at_ns: rel(at),
                    value: v,
                })
                .collect(),
            peak_threads: d.peak_threads,
            mmu: mmu
                .iter()
                .map(|&(window_ns, mmu)| MmuPoint { window_ns, mmu })
                .collect(),
        }
    }

    /// The report as a document.
    pub fn document(&self) -> Document {
        let l = &self.latency;
        let u = &self.utilization.mean;
        let mut sections = vec![self.trace.section()];

        let mut lat = Section::new(format!(
            "Scheduling latency: how long runnable goroutines waited for a P ({} runs)",
            l.count
        ))
        .fact(
            "overall",
            format!(
                "p50 {}, p90 {}, p99 {}, max {}; {} in all",
                crate::units::duration(l.overall.p50_ns),
                crate::units::duration(l.overall.p90_ns),
                crate::units::duration(l.overall.p99_ns),
                crate::units::duration(l.overall.max_ns),
                crate::units::duration(l.overall.total_ns),
            ),
        );
        if !l.per_window.is_empty() {
            let max = l
                .per_window
                .iter()
                .map(|w| w.p99_ns)
                .max()
                .unwrap_or(0)
                .max(1) as f64;
            let p99s: Vec<f64> = l.per_window.iter().map(|w| w.p99_ns as f64 / max).collect();
            lat = lat.fact(
                "p99 over time",
                format!(
                    "{}  (peak {})",
                    sparkline(&p99s, 60),
                    crate::units::duration(max as i64)
                ),
            );
        }
        let mut hist = Table::new(
            "latency_histogram",
            &[
                ("from_ns", "from"),
                ("to_ns", "to"),
                ("count", "runs"),
                ("bar", ""),
            ],
        );
        let most = l
            .histogram
            .iter()
            .map(|b| b.count)
            .max()
            .unwrap_or(1)
            .max(1);
        for b in &l.histogram {
            let bar = "█".repeat(((b.count as f64 / most as f64) * 40.0).ceil() as usize);
            hist.row(vec![
                Value::Dur(b.from_ns),
                Value::Dur(b.to_ns),
                Value::Int(b.count as i64),
                Value::text(bar),
            ]);
        }
        sections.push(lat.with_table(hist, "no goroutine went from runnable to running"));

        let mut per_proc = Table::new("latency_per_proc", &dist_columns(&[("proc", "P")])[..]);
        per_proc.columns.retain(|c| c.key != "count");
        for p in &l.per_proc {
            let mut r = vec![Value::Int(p.proc)];
            r.extend(p.latency.cells());
            per_proc.row(r);
        }
        sections.push(Section::new("Scheduling latency per P").with_table(per_proc, "none"));

        let mut per_group = Table::new(
            "latency_per_group",
            &dist_columns(&[("group", "goroutine group")]),
        );
        for g in &l.per_group {
            let mut r = vec![Value::text(&g.group), Value::Int(g.count as i64)];
            r.extend(g.latency.cells());
            per_group.row(r);
        }
        sections.push(
            Section::new("Scheduling latency per goroutine group (most total first)")
                .with_table(per_group, "none"),
        );

        let busy = |x: f64| Value::Frac(x);
        let running: Vec<f64> = self
            .utilization
            .windows
            .iter()
            .map(|w| w.running + w.gc)
            .collect();
        sections.push(
            Section::new("P utilization (share of P-time)")
                .fact("running goroutines", busy(u.running))
                .fact("GC workers", busy(u.gc))
                .fact("in syscalls", busy(u.syscall))
                .fact("scheduler", busy(u.scheduler))
                .fact(
                    "idle",
                    busy(u.idle).tone(if u.idle > 0.5 { Tone::Dim } else { Tone::Plain }),
                )
                .fact("busy over time", sparkline(&running, 60))
                .fact(
                    "GOMAXPROCS",
                    self.gomaxprocs
                        .iter()
                        .map(|g| g.value.to_string())
                        .collect::<Vec<_>>()
                        .join(" → "),
                )
                .fact("peak threads", Value::Int(i64::from(self.peak_threads))),
        );

        let mut lost = Table::new(
            "lost_work",
            &[("start_ns", "window at"), ("lost_ns", "P-time lost")],
        );
        for w in &self.lost_work.windows {
            lost.row(vec![Value::Time(w.start_ns), Value::Dur(w.lost_ns)]);
        }
        sections.push(
            Section::new("Lost work: Ps idle while goroutines were runnable (worst windows)")
                .fact(
                    "lost",
                    format!(
                        "{} of P-time ({})",
                        crate::units::duration(self.lost_work.total_ns),
                        crate::units::percent(self.lost_work.fraction)
                    ),
                )
                .with_table(lost, "no P sat idle while a goroutine was runnable"),
        );

        let mut q = Table::new(
            "queue_spikes",
            &[("at_ns", "at"), ("runnable", "runnable goroutines")],
        );
        for s in &self.queue_spikes {
            q.row(vec![
                Value::Time(s.at_ns),
                Value::Int(i64::from(s.runnable)),
            ]);
        }
        sections.push(
            Section::new("Run-queue spikes (deepest first)")
                .with_table(q, "no goroutine was ever runnable"),
        );

        let mut stw = Table::new(
            "stw",
            &[
                ("start_ns", "at"),
                ("duration_ns", "duration"),
                ("kind", "kind"),
            ],
        );
        for p in &self.stw.pauses {
            stw.row(vec![
                Value::Time(p.start_ns),
                Value::Dur(p.duration_ns),
                Value::text(&p.kind),
            ]);
        }
        sections.push(
            Section::new("Stop-the-world pauses (longest first)")
                .fact(
                    "pauses",
                    format!(
                        "{}, {} in all, p99 {}, longest {}",
                        self.stw.count,
                        crate::units::duration(self.stw.duration.total_ns),
                        crate::units::duration(self.stw.duration.p99_ns),
                        crate::units::duration(self.stw.duration.max_ns),
                    ),
                )
                .with_table(stw, "no stop-the-world pause"),
        );

        if !self.mmu.is_empty() {
            let mut mmu = Table::new(
                "mmu",
                &[
                    ("window_ns", "window"),
                    ("mmu", "minimum mutator utilization"),
                ],
            );
            for p in &self.mmu {
                mmu.row(vec![Value::Dur(p.window_ns), Value::Frac(p.mmu)]);
            }
            sections.push(
                Section::new(
                    "GC: the least P-time left to goroutines in any window of each length (MMU)",
                )
                .with_table(mmu, ""),
            );
        }

        let mut assists = Table::new(
            "assists",
            &[("group", "goroutine group"), ("total_ns", "assisting")],
        );
        for a in &self.assists.by_group {
            assists.row(vec![Value::text(&a.group), Value::Dur(a.total_ns)]);
        }
        sections.push(
            Section::new("GC mark assists (goroutines doing GC work instead of their own)")
                .fact(
                    "assists",
                    format!(
                        "{} ({} of P-time)",
                        crate::units::duration(self.assists.total_ns),
                        crate::units::percent(self.assists.fraction)
                    ),
                )
                .with_table(assists, "no mark assist"),
        );

        let mut sys = Table::new(
            "blocking_syscalls",
            &[
                ("site", "syscall site"),
                ("count", "count"),
                ("total_ns", "total"),
            ],
        );
        for s in &self.blocking_syscalls.by_stack {
            sys.row(vec![
                Value::text(describe(s.site.as_ref(), "(no stack)")),
                Value::Int(s.count as i64),
                Value::Dur(s.total_ns),
            ]);
        }
        sections.push(
            Section::new("Syscalls that blocked long enough to lose their P")
                .fact(
                    "syscalls",
                    format!(
                        "{}, {} in all, p99 {}",
                        self.blocking_syscalls.count,
                        crate::units::duration(self.blocking_syscalls.duration.total_ns),
                        crate::units::duration(self.blocking_syscalls.duration.p99_ns),
                    ),
                )
                .with_table(sys, "no syscall lost its P"),
        );

        let mut runs = Table::new(
            "long_runs",
            &[
                ("goroutine", "G"),
                ("group", "goroutine group"),
                ("proc", "P"),
                ("start_ns", "at"),
                ("duration_ns", "ran for"),
                ("ended_by", "then"),
                ("site", "stopped at"),
            ],
        );
        for r in &self.long_runs {
            runs.row(vec![
                Value::Int(r.goroutine),
                Value::text(&r.group),
                Value::Int(r.proc),
                Value::Time(r.start_ns),
                Value::Dur(r.duration_ns),
                Value::text(match r.ended_by.as_deref() {
                    Some("Runnable") => "preempted",
                    Some("Waiting") => "blocked",
                    Some("Syscall") => "syscall",
                    Some("NotExist") => "exited",
                    Some(other) => other,
                    None => "(end of trace)",
                }),
                Value::text(describe(r.site.as_ref(), "")),
            ]);
        }
        sections.push(
            Section::new(format!(
                "Long runs without a switch (at least {}, longest first)",
                crate::units::duration(self.long_run_ns)
            ))
            .with_table(runs, "none"),
        );
        Document { sections }
    }
}
