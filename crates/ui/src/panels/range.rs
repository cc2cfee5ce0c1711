//! Statistics of a selected time range: time per goroutine state, the blocking sites of the
//! waits that overlap it, scheduling latency and P utilization, all clipped to the range.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use egui::{Grid, RichText, Ui};
use goroscope_analysis::blocking::{self, Site};
use goroscope_analysis::summary::Distribution;
use goroscope_trace::event::GoState;
use goroscope_trace::timeline::{ProcActivity, StrId, Timelines};

use super::analyses::short_site;
use crate::ruler::format_duration;
use crate::timeline::Item;

/// A blocking site's waits within a range.
#[derive(Debug, Clone)]
pub struct RangeSite {
    /// `function:line`.
    pub label: String,
    /// `function (file:line)`.
    pub full: String,
    /// The commonest reason.
    pub reason: String,
    /// How many waits overlap the range.
    pub count: u64,
    /// Their time within the range.
    pub total: i64,
    /// The longest of them (within the range).
    pub max: i64,
    /// The longest wait: goroutine index and span index.
    pub longest: (usize, usize),
}

/// What the Ps did within a range, in P-nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcUse {
    /// Running user goroutines.
    pub running: i64,
    /// Running GC workers.
    pub gc: i64,
    /// Held by a goroutine in a syscall.
    pub syscall: i64,
    /// Running the scheduler.
    pub scheduler: i64,
    /// Idle.
    pub idle: i64,
}

impl ProcUse {
    /// The busy fraction of the P-time that existed.
    pub fn utilization(&self) -> f64 {
        let busy = self.running + self.gc + self.syscall + self.scheduler;
        let all = busy + self.idle;
        if all == 0 {
            0.0
        } else {
            busy as f64 / all as f64
        }
    }
}

/// The statistics of `[from, to)`.
#[derive(Debug, Clone)]
pub struct RangeStats {
    /// The range's start (absolute).
    pub from: i64,
    /// Its end.
    pub to: i64,
    /// Goroutine-time running, summed over goroutines.
    pub running: i64,
    /// Goroutine-time runnable.
    pub runnable: i64,
    /// Goroutine-time in syscalls.
    pub syscall: i64,
    /// Goroutine-time waiting, by reason, most first.
    pub waiting: Vec<(String, i64)>,
    /// Blocking sites of the waits overlapping the range, most time first.
    pub sites: Vec<RangeSite>,
    /// How many runnable goroutines started running within the range.
    pub latency_count: u64,
    /// How long they had been runnable (whole waits, not clipped).
    pub latency: Distribution,
    /// What the Ps did.
    pub procs: ProcUse,
}

impl RangeStats {
    /// Goroutine-time waiting, all reasons.
    pub fn waiting_total(&self) -> i64 {
        self.waiting.iter().map(|w| w.1).sum()
    }
}

/// Computes the statistics of `[from, to)` (absolute times), decoding only the spans that
/// overlap it. Stops early (with partial figures) once `cancel` is set.
pub fn compute(tl: &Timelines, from: i64, to: i64, cancel: &AtomicBool) -> RangeStats {
    let (from, to) = (from.max(tl.start), to.min(tl.end));
    let mut st = [0i64; 6];
    let mut waiting: HashMap<StrId, i64> = HashMap::new();
    struct Acc {
        reasons: HashMap<StrId, u64>,
        count: u64,
        total: i64,
        max: i64,
        longest: (usize, usize),
    }
    let mut sites: HashMap<Site, Acc> = HashMap::new();
    let mut site_of = HashMap::new();
    let mut latencies = Vec::new();
    for (g, go) in tl.goroutines.iter().enumerate() {
        if g % 1024 == 0 && cancel.load(Ordering::Relaxed) {
            break;
        }
        let Some(first) = go
            .spans
            .index_at(from)
            .or((!go.spans.is_empty()).then_some(0))
        else {
            continue;
        };
        let mut it = go.spans.iter_from(first).enumerate().peekable();
        while let Some((k, s)) = it.next() {
            if s.time >= to {
                break;
            }
            let next = it.peek().map(|x| x.1);
            let end = next.map_or(tl.end, |n| n.time);
            let (a, b) = (s.time.max(from), end.min(to));
            if b <= a {
                continue;
            }
            let d = b - a;
            st[s.state as usize] += d;
            match s.state {
                GoState::Waiting => {
                    *waiting.entry(s.reason).or_default() += d;
                    let site = *site_of
                        .entry(s.stack)
                        .or_insert_with(|| blocking::site_of(tl, s.stack));
                    let acc = sites.entry(site).or_insert_with(|| Acc {
                        reasons: HashMap::new(),
                        count: 0,
                        total: 0,
                        max: -1,
                        longest: (g, first + k),
                    });
                    acc.count += 1;
                    acc.total += d;
                    *acc.reasons.entry(s.reason).or_default() += 1;
                    if d > acc.max {
                        acc.max = d;
                        acc.longest = (g, first + k);
                    }
                }
                GoState::Runnable
                    if next.is_some_and(|n| n.state == GoState::Running) && end < to =>
                {
                    latencies.push(end - s.time);
                }
                _ => {}
            }
        }
    }
    let mut procs = ProcUse::default();
    for p in &tl.procs {
        let mut it = p.spans.iter_range(from, to).peekable();
        while let Some(s) = it.next() {
            let end = it.peek().map_or(to, |n| n.time).min(to);
            let d = end - s.time.max(from);
            if d <= 0 {
                continue;
            }
            let slot = match s.activity {
                ProcActivity::NotExist => continue,
                ProcActivity::Idle => &mut procs.idle,
                ProcActivity::Syscall => &mut procs.syscall,
                ProcActivity::Running if s.g < 0 => &mut procs.scheduler,
                ProcActivity::Running => {
                    if tl.goroutine(s.g).is_some_and(|g| g.gc_worker) {
                        &mut procs.gc
                    } else {
                        &mut procs.running
                    }
                }
            };
            *slot += d;
        }
    }
    let mut waiting: Vec<(String, i64)> = waiting
        .into_iter()
        .map(|(r, d)| {
            let r = tl.strings.lossy(r);
            (
                if r.is_empty() {
                    "other".into()
                } else {
                    r.into_owned()
                },
                d,
            )
        })
        .collect();
    waiting.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut sites: Vec<(Site, Acc)> = sites.into_iter().collect();
    sites.sort_by(|a, b| b.1.total.cmp(&a.1.total).then_with(|| a.0.cmp(&b.0)));
    let sites = sites
        .into_iter()
        .map(|(site, a)| RangeSite {
            label: short_site(tl, &site),
            full: site.describe(tl),
            reason: a
                .reasons
                .iter()
                .max_by(|x, y| x.1.cmp(y.1).then_with(|| y.0.cmp(x.0)))
                .map(|(r, _)| tl.strings.lossy(*r).into_owned())
                .unwrap_or_default(),
            count: a.count,
            total: a.total,
            max: a.max,
            longest: a.longest,
        })
        .collect();
    RangeStats {
        from,
        to,
        running: st[GoState::Running as usize],
        runnable: st[GoState::Runnable as usize],
        syscall: st[GoState::Syscall as usize],
        waiting,
        sites,
        latency_count: latencies.len() as u64,
        latency: Distribution::of(&mut latencies),
        procs,
    }
}

/// How many blocking sites the range panel lists.
const TOP_SITES: usize = 10;

/// Shows `stats`; returns a wait to jump to when a site was clicked.
pub fn range_ui(ui: &mut Ui, stats: &RangeStats) -> Option<Item> {
    let mut jump = None;
    let d = |ns: i64| format_duration(ns as f64);
    ui.horizontal_top(|ui| {
        ui.vertical(|states| {
            states.label(RichText::new("Time per state").strong());
            Grid::new("range_states")
                .num_columns(3)
                .striped(true)
                .show(states, |ui| {
                    let share = |ns: i64| {
                        let all =
                            stats.running + stats.runnable + stats.syscall + stats.waiting_total();
                        if all == 0 {
                            String::new()
                        } else {
                            format!("{:.1}%", ns as f64 / all as f64 * 100.0)
                        }
                    };
                    for (name, ns) in [
                        ("running", stats.running),
                        ("runnable", stats.runnable),
                        ("syscall", stats.syscall),
                    ] {
                        ui.label(name);
                        ui.label(d(ns));
                        ui.label(share(ns));
                        ui.end_row();
                    }
                    for (reason, ns) in &stats.waiting {
                        ui.label(format!("waiting ({reason})"));
                        ui.label(d(*ns));
                        ui.label(share(*ns));
                        ui.end_row();
                    }
                });
        });
        ui.add_space(32.0);
        ui.vertical(|sites| {
            sites.label(RichText::new("Top blocking sites").strong());
            if stats.sites.is_empty() {
                sites.weak("no waits in this range");
            }
            Grid::new("range_sites")
                .num_columns(4)
                .striped(true)
                .show(sites, |ui| {
                    ui.weak("site");
                    ui.weak("waits");
                    ui.weak("time");
                    ui.weak("max");
                    ui.end_row();
                    for s in stats.sites.iter().take(TOP_SITES) {
                        let r = ui
                            .link(&s.label)
                            .on_hover_text(format!("{} ({})", s.full, s.reason));
                        if r.clicked() {
                            jump = Some(Item::Go {
                                g: s.longest.0,
                                span: s.longest.1,
                            });
                        }
                        ui.label(s.count.to_string());
                        ui.label(d(s.total));
                        ui.label(d(s.max));
                        ui.end_row();
                    }
                });
        });
        ui.add_space(32.0);
        ui.vertical(|sched| {
            sched.label(RichText::new("Scheduling latency").strong());
            let l = &stats.latency;
            sched.label(format!(
                "{} goroutines started running",
                stats.latency_count
            ));
            if stats.latency_count > 0 {
                sched.label(format!(
                    "p50 {} · p90 {} · p99 {} · max {}",
                    d(l.p50),
                    d(l.p90),
                    d(l.p99),
                    d(l.max)
                ));
            }
            sched.add_space(6.0);
            sched.label(RichText::new("P utilization").strong());
            let u = stats.procs.utilization();
            sched.add(
                egui::ProgressBar::new(u as f32)
                    .text(format!("{:.1}% busy", u * 100.0))
                    .desired_width(220.0),
            );
            let p = &stats.procs;
            let pt = |ns: i64| format!("{} P-time", d(ns));
            Grid::new("range_procs").num_columns(2).show(sched, |ui| {
                for (name, ns) in [
                    ("user goroutines", p.running),
                    ("GC workers", p.gc),
                    ("syscalls", p.syscall),
                    ("scheduler", p.scheduler),
                    ("idle", p.idle),
                ] {
                    if ns > 0 {
                        ui.label(name);
                        ui.label(pt(ns));
                        ui.end_row();
                    }
                }
            });
        });
    });
    jump
}
