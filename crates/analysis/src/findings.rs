//! Findings: rules over the blocking, scheduler and GC analyses that say, in one line each,
//! what is wrong, how bad it is, and where to look.
//!
//! Every rule has default thresholds; a TOML file can change them or turn rules off:
//!
//! ```toml
//! [sched_latency]
//! p99_warning = "5ms"
//! p99_error = "50ms"
//!
//! [leaks]
//! min_goroutines = 3
//!
//! [stw]
//! enabled = false
//! ```
//!
//! Durations are written `850ns`, `12us` (or `12µs`), `5ms`, `1.5s`.

use std::fmt;

use serde::Deserialize;

use goroscope_trace::event::{GoId, Time};
use goroscope_trace::timeline::{StackId, Timelines};

use crate::blocking::{Blocking, Site};
use crate::sched::Diagnostics;
use crate::summary::Duration;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Likely a problem.
    Warning,
    /// Almost certainly a problem.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

/// Where the viewer should go to see a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The time range to show.
    pub start: Time,
    /// Its end.
    pub end: Time,
    /// The goroutine to select, if one is central.
    pub goroutine: Option<GoId>,
}

/// Evidence behind a finding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    /// Time ranges.
    pub ranges: Vec<(Time, Time)>,
    /// Goroutines.
    pub goroutines: Vec<GoId>,
    /// Stacks.
    pub stacks: Vec<StackId>,
    /// Sites (functions and lines).
    pub sites: Vec<Site>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that fired (its name in the configuration).
    pub rule: &'static str,
    /// How bad.
    pub severity: Severity,
    /// One line saying what was found.
    pub title: String,
    /// What shows it.
    pub evidence: Evidence,
    /// Where to look.
    pub target: Target,
}

/// A duration in a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(Dur)
            .map_err(serde::de::Error::custom)
    }
}

/// Parses `850ns`, `12us`, `12µs`, `5ms`, `1.5s`, `2m` into nanoseconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("duration {s:?} has no unit (ns, us, ms, s, m)"))?;
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        u => return Err(format!("unknown duration unit {u:?} in {s:?}")),
    };
    Ok((v * scale).round() as Duration)
}

macro_rules! rule_config {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty = $default:expr),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            /// Whether the rule runs.
            pub enabled: bool,
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { enabled: true, $($field: $default,)* }
            }
        }
    };
}

rule_config!(
    /// Goroutines still blocked at the end of the trace, many at one site.
    Leaks {
        /// The fewest goroutines at one site that make a finding.
        min_goroutines: usize = 3,
        /// From this many, the finding is an error.
        error_goroutines: usize = 100,
    }
);

rule_config!(
    /// Many goroutines waiting at one site at once (lock convoys).
    Convoy {
        /// The fewest concurrent waiters that make a finding.
        min_peak: u32 = 5,
        /// The least mean number of waiters while any wait.
        min_mean: f64 = 1.5,
    }
);

rule_config!(
    /// Runnable goroutines waiting long for a P.
    SchedLatency {
        /// A p99 scheduling latency from which to warn.
        p99_warning: Dur = Dur(5_000_000),
        /// A p99 from which it is an error.
        p99_error: Dur = Dur(50_000_000),
    }
);

rule_config!(
    /// Many more runnable goroutines than Ps.
    Backlog {
        /// Runnable goroutines per P that make a finding.
        per_proc: u32 = 8,
    }
);

rule_config!(
    /// Ps idle while goroutines were runnable.
    LostWork {
        /// The fraction of all P-time lost that makes a finding.
        fraction: f64 = 0.02,
    }
);

rule_config!(
    /// Long stop-the-world pauses.
    Stw {
        /// A pause from which to warn.
        warning: Dur = Dur(10_000_000),
        /// A pause from which it is an error.
        error: Dur = Dur(100_000_000),
    }
);

rule_config!(
    /// Goroutines running a long time without a switch (latency for others on that P).
    LongRuns {
        /// A run from which to report.
        min: Dur = Dur(20_000_000),
    }
);

rule_config!(
    /// Syscalls blocking long enough to lose their P (thread hand-offs).
    BlockingSyscalls {
        /// The fewest such syscalls that make a finding.
        min_count: u64 = 50,
    }
);

rule_config!(
    /// Goroutines doing GC work (mark assists) instead of their own.
    Assists {
        /// The fraction of the trace's P-time in assists that makes a finding.
        fraction: f64 = 0.05,
    }
);

/// Thresholds of every rule; `Config::default()` holds the defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Leak candidates.
    pub leaks: Leaks,
    /// Lock convoys.
    pub convoy: Convoy,
    /// Scheduling latency.
    pub sched_latency: SchedLatency,
    /// Run-queue backlog.
    pub backlog: Backlog,
    /// Lost work conservation.
    pub lost_work: LostWork,
    /// Stop-the-world pauses.
    pub stw: Stw,
    /// Long runs.
    pub long_runs: LongRuns,
    /// Syscalls that lose their P.
    pub blocking_syscalls: BlockingSyscalls,
    /// Mark assists.
    pub assists: Assists,
}

impl Config {
    /// Reads a configuration from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// Evaluates every enabled rule; findings come most severe first.
pub fn evaluate(
    t: &Timelines,
    blocking: &Blocking,
    sched: &Diagnostics,
    c: &Config,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let span = (t.start, t.end);
    let dur = crate::table_duration;
    if c.leaks.enabled {
        for l in &blocking.leaks {
            let n = l.goroutines.len();
            if n < c.leaks.min_goroutines {
                continue;
            }
            let severity = if n >= c.leaks.error_goroutines {
                Severity::Error
            } else {
                Severity::Warning
            };
            let first = blocking
                .waits
                .iter()
                .filter(|w| w.end.is_none() && l.goroutines.binary_search(&w.g).is_ok())
                .map(|w| w.start)
                .min()
                .unwrap_or(t.start);
            out.push(Finding {
                rule: "leaks",
                severity,
                title: format!(
                    "{n} goroutines still blocked ({}) at {} when the trace ended",
                    t.strings.lossy(l.reason),
                    l.site.describe(t)
                ),
                evidence: Evidence {
                    ranges: vec![(first, t.end)],
                    goroutines: l.goroutines.clone(),
                    sites: std::iter::once(l.site)
                        .chain(l.created_at.iter().map(|c| c.0))
                        .collect(),
                    ..Evidence::default()
                },
                target: Target {
                    start: first,
                    end: t.end,
                    goroutine: l.goroutines.first().copied(),
                },
            });
        }
    }
    if c.convoy.enabled {
        for cg in &blocking.congestion {
            // Goroutines parked for good at one site are leaks, not a convoy.
            if cg.peak < c.convoy.min_peak
                || cg.mean < c.convoy.min_mean
                || cg.released < u64::from(c.convoy.min_peak)
            {
                continue;
            }
            let stats = blocking
                .by_site
                .iter()
                .find(|g| g.key == cg.site)
                .map(|g| g.stats);
            let total = stats.map_or(0, |s| s.duration.total);
            out.push(Finding {
                rule: "convoy",
                severity: Severity::Warning,
                title: format!(
                    "up to {} goroutines waited at once at {} ({} waits, {} in all)",
                    cg.peak,
                    cg.site.describe(t),
                    stats.map_or(0, |s| s.count),
                    dur(total)
                ),
                evidence: Evidence {
                    ranges: vec![(cg.at, cg.at)],
                    sites: vec![cg.site],
                    ..Evidence::default()
                },
                target: Target {
                    start: cg.at,
                    end: cg.at,
                    goroutine: None,
                },
            });
        }
    }
    if c.sched_latency.enabled {
        let p99 = sched.latency.overall.p99;
        if p99 >= c.sched_latency.p99_warning.0 {
            let severity = if p99 >= c.sched_latency.p99_error.0 {
                Severity::Error
            } else {
                Severity::Warning
            };
            let worst = sched.latency.per_window.iter().max_by_key(|w| w.1).copied();
            let (ws, we) = worst.map_or(span, |w| (w.0, w.0 + sched.window));
            out.push(Finding {
                rule: "sched_latency",
                severity,
                title: format!(
                    "runnable goroutines waited up to {} for a P (p99 {}, median {})",
                    dur(sched.latency.overall.max),
                    dur(p99),
                    dur(sched.latency.overall.p50)
                ),
                evidence: Evidence {
                    ranges: vec![(ws, we)],
                    ..Evidence::default()
                },
                target: Target {
                    start: ws,
                    end: we,
                    goroutine: None,
                },
            });
        }
    }
    let procs = sched
        .gomaxprocs
        .iter()
        .map(|x| x.1)
        .max()
        .unwrap_or(t.procs.len() as u64)
        .max(1);
    if c.backlog.enabled
        && let Some(s) = sched.queue_spikes.first()
        && u64::from(s.runnable) >= u64::from(c.backlog.per_proc) * procs
    {
        out.push(Finding {
            rule: "backlog",
            severity: Severity::Warning,
            title: format!(
                "{} goroutines were runnable at once on {procs} P{}",
                s.runnable,
                if procs == 1 { "" } else { "s" }
            ),
            evidence: Evidence {
                ranges: sched
                    .queue_spikes
                    .iter()
                    .map(|q| (q.time, q.time))
                    .collect(),
                ..Evidence::default()
            },
            target: Target {
                start: s.time,
                end: s.time,
                goroutine: None,
            },
        });
    }
    let p_time = ((t.end - t.start) as f64 * procs as f64).max(1.0);
    if c.lost_work.enabled && sched.lost_total as f64 / p_time >= c.lost_work.fraction {
        let w = sched.lost_windows.first();
        let (ws, we) = w.map_or(span, |w| (w.start, w.start + sched.window));
        out.push(Finding {
            rule: "lost_work",
            severity: Severity::Warning,
            title: format!(
                "Ps sat idle for {} while goroutines were runnable ({:.1}% of P time)",
                dur(sched.lost_total),
                100.0 * sched.lost_total as f64 / p_time
            ),
            evidence: Evidence {
                ranges: sched
                    .lost_windows
                    .iter()
                    .map(|w| (w.start, w.start + sched.window))
                    .collect(),
                ..Evidence::default()
            },
            target: Target {
                start: ws,
                end: we,
                goroutine: None,
            },
        });
    }
    if c.stw.enabled
        && let Some(p) = sched.pauses.first()
        && p.duration >= c.stw.warning.0
    {
        let severity = if p.duration >= c.stw.error.0 {
            Severity::Error
        } else {
            Severity::Warning
        };
        let long: Vec<_> = sched
            .pauses
            .iter()
            .filter(|x| x.duration >= c.stw.warning.0)
            .collect();
        out.push(Finding {
            rule: "stw",
            severity,
            title: format!(
                "{} stop-the-world pause{} of at least {}; the longest, {}, for {}",
                long.len(),
                if long.len() == 1 { "" } else { "s" },
                dur(c.stw.warning.0),
                dur(p.duration),
                t.strings.lossy(p.kind)
            ),
            evidence: Evidence {
                ranges: long
                    .iter()
                    .map(|x| (x.start, x.start + x.duration))
                    .collect(),
                ..Evidence::default()
            },
            target: Target {
                start: p.start,
                end: p.start + p.duration,
                goroutine: None,
            },
        });
    }
    if c.long_runs.enabled {
        let long: Vec<_> = sched
            .long_runs
            .iter()
            .filter(|r| r.duration >= c.long_runs.min.0)
            .collect();
        if let Some(r) = long.first() {
            let name = t
                .goroutine(r.g)
                .map(|g| t.strings.lossy(g.name).into_owned())
                .unwrap_or_default();
            out.push(Finding {
                rule: "long_runs",
                severity: Severity::Info,
                title: format!(
                    "{} run{} of at least {} without a switch; the longest, {}, by goroutine {} ({name})",
                    long.len(),
                    if long.len() == 1 { "" } else { "s" },
                    dur(c.long_runs.min.0),
                    dur(r.duration),
                    r.g
                ),
                evidence: Evidence {
                    ranges: long.iter().map(|r| (r.start, r.start + r.duration)).collect(),
                    goroutines: long.iter().map(|r| r.g).collect(),
                    stacks: long.iter().map(|r| r.stack).filter(|s| s.is_some()).collect(),
                    ..Evidence::default()
                },
                target: Target {
                    start: r.start,
                    end: r.start + r.duration,
                    goroutine: Some(r.g),
                },
            });
        }
    }
    if c.blocking_syscalls.enabled && sched.blocking_syscalls.count >= c.blocking_syscalls.min_count
    {
        let b = &sched.blocking_syscalls;
        out.push(Finding {
            rule: "blocking_syscalls",
            severity: Severity::Info,
            title: format!(
                "{} syscalls blocked long enough to hand their P to another thread ({} in all)",
                b.count,
                dur(b.duration.total)
            ),
            evidence: Evidence {
                stacks: b.by_stack.iter().map(|s| s.0).collect(),
                ..Evidence::default()
            },
            target: Target {
                start: t.start,
                end: t.end,
                goroutine: None,
            },
        });
    }
    if c.assists.enabled {
        let total: Duration = sched.assists.iter().map(|a| a.1).sum();
        if total as f64 / p_time >= c.assists.fraction {
            let top = sched.assists.first();
            out.push(Finding {
                rule: "assists",
                severity: Severity::Warning,
                title: format!(
                    "goroutines spent {} in GC mark assists ({:.1}% of P time){}",
                    dur(total),
                    100.0 * total as f64 / p_time,
                    top.map_or(String::new(), |a| format!(
                        ", most in {}",
                        t.strings.lossy(a.0)
                    ))
                ),
                evidence: Evidence::default(),
                target: Target {
                    start: t.start,
                    end: t.end,
                    goroutine: None,
                },
            });
        }
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.rule.cmp(b.rule)));
    out
}
