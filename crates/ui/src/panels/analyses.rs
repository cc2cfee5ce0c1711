//! The whole-trace analyses behind the panels, computed once per trace on a background
//! thread: blocking by site, scheduler findings, goroutine groups, task and region types.

use std::collections::HashMap;

use goroscope_analysis::blocking::{self, Site, Wait};
use goroscope_analysis::findings::{self, Finding};
use goroscope_analysis::sched;
use goroscope_analysis::summary::Distribution;
use goroscope_trace::event::{GoId, GoState};
use goroscope_trace::timeline::{StrId, Timelines};

/// Waits at one blocking site.
#[derive(Debug, Clone)]
pub struct SiteRow {
    /// The site.
    pub site: Site,
    /// `function:line`.
    pub label: String,
    /// `function (file:line)`.
    pub full: String,
    /// The commonest reason of its waits.
    pub reason: String,
    /// How many waits.
    pub count: u64,
    /// Their durations (waits still open count up to the trace end).
    pub duration: Distribution,
    /// The releaser site that released the most waiting time here (`runtime` when no
    /// goroutine did, `(still waiting)` for waits that never ended).
    pub releaser: String,
    /// Its longest waits, longest first (at most [`MAX_INSTANCES`]).
    pub instances: Vec<WaitRef>,
}

/// How many of a site's waits [`SiteRow::instances`] keeps.
pub const MAX_INSTANCES: usize = 1000;

/// One wait, as much of it as the panel needs to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitRef {
    /// The goroutine that waited.
    pub g: GoId,
    /// When it began waiting.
    pub start: i64,
    /// When it was released (`None`: still waiting at the end of the trace).
    pub end: Option<i64>,
}

/// One goroutine group (start function) with per-goroutine time distributions.
#[derive(Debug, Clone)]
pub struct GroupRow {
    /// The index into [`crate::TraceModel::groups`].
    pub group: usize,
    /// The start function.
    pub label: String,
    /// How many goroutines.
    pub count: usize,
    /// Running time per goroutine.
    pub exec: Distribution,
    /// Runnable time per goroutine (scheduling wait).
    pub sched_wait: Distribution,
    /// Waiting time per goroutine.
    pub blocked: Distribution,
    /// Syscall time per goroutine.
    pub syscall: Distribution,
}

/// One instance of a task or region type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    /// A task (index into [`Timelines::tasks`]).
    Task(usize),
    /// A region: goroutine index and region index.
    Region {
        /// The goroutine (index into [`Timelines::goroutines`]).
        g: usize,
        /// The region's index in its goroutine's list.
        index: usize,
    },
}

/// How many bars the duration histograms have.
pub const HIST_BINS: usize = 16;

/// The tasks or regions of one type.
#[derive(Debug, Clone)]
pub struct KindRow {
    /// `true` for tasks, `false` for regions.
    pub task: bool,
    /// The type name.
    pub name: String,
    /// How many ended in the trace (their durations are known).
    pub count: usize,
    /// Their durations.
    pub duration: Distribution,
    /// Durations binned on a log scale between the shortest and the longest.
    pub histogram: [u32; HIST_BINS],
    /// The shortest duration (the histogram's left edge).
    pub min: i64,
    /// The slowest instance.
    pub slowest: Instance,
}

/// Everything the panels show about the whole trace.
#[derive(Debug)]
pub struct Analyses {
    /// Waits by blocking site, longest total first.
    pub sites: Vec<SiteRow>,
    /// Scheduler and blocking findings, most severe first.
    pub findings: Vec<Finding>,
    /// Goroutine groups, in the timeline's order.
    pub groups: Vec<GroupRow>,
    /// Task types, then region types, by total duration.
    pub kinds: Vec<KindRow>,
}

/// `function:line` of a site, with the function's package path dropped.
pub fn short_site(tl: &Timelines, s: &Site) -> String {
    if *s == Site::UNKNOWN {
        return "unknown".to_owned();
    }
    let f = tl.strings.lossy(s.func);
    let short = f.rsplit('/').next().unwrap_or(&f);
    format!("{short}:{}", s.line)
}

/// Computes every analysis of `tl`. `groups` are the timeline's goroutine groups (label and
/// goroutine indexes), so that the panel's groups are the timeline's.
pub fn compute(tl: &Timelines, groups: &[(String, Vec<u32>)]) -> Analyses {
    let b = blocking::analyze(tl);
    let diag = sched::diagnose(tl, &sched::Options::default());
    let findings = findings::evaluate(tl, &b, &diag, &findings::Config::default());
    let sites = site_rows(tl, &b.waits);
    Analyses {
        sites,
        findings,
        groups: group_rows(tl, groups),
        kinds: kind_rows(tl),
    }
}

/// Who ended a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Releaser {
    /// A goroutine, from this site.
    Site(Site),
    /// The runtime (a timer, the network poller), or the trace does not say.
    Runtime,
    /// Nobody: still waiting at the end of the trace.
    Nobody,
}

fn site_rows(tl: &Timelines, waits: &[Wait]) -> Vec<SiteRow> {
    #[derive(Default)]
    struct Acc {
        instances: Vec<u32>,
        reasons: HashMap<StrId, u64>,
        releasers: HashMap<Releaser, i64>,
    }
    let mut site_of = HashMap::new();
    let mut by: HashMap<Site, Acc> = HashMap::new();
    for (i, w) in waits.iter().enumerate() {
        let mut site = |s| *site_of.entry(s).or_insert_with(|| blocking::site_of(tl, s));
        let a = by.entry(site(w.stack)).or_default();
        a.instances.push(i as u32);
        *a.reasons.entry(w.reason).or_default() += 1;
        let r = match (w.end, w.releaser) {
            (None, _) => Releaser::Nobody,
            (Some(_), r) if r >= 0 => Releaser::Site(site(w.releaser_stack)),
            _ => Releaser::Runtime,
        };
        *a.releasers.entry(r).or_default() += w.duration(tl.end);
    }
    let mut rows: Vec<SiteRow> = by
        .into_iter()
        .map(|(site, mut a)| {
            let dur = |i: &u32| waits[*i as usize].duration(tl.end);
            let longest_first = |x: &u32, y: &u32| dur(y).cmp(&dur(x)).then_with(|| x.cmp(y));
            let mut ds: Vec<i64> = a.instances.iter().map(dur).collect();
            let count = a.instances.len() as u64;
            // The longest few, in order (the rest are only counted).
            if a.instances.len() > MAX_INSTANCES {
                a.instances
                    .select_nth_unstable_by(MAX_INSTANCES - 1, longest_first);
                a.instances.truncate(MAX_INSTANCES);
            }
            a.instances.sort_by(longest_first);
            let reason = a
                .reasons
                .iter()
                .max_by(|x, y| x.1.cmp(y.1).then_with(|| y.0.cmp(x.0)))
                .map(|(r, _)| tl.strings.lossy(*r).into_owned())
                .unwrap_or_default();
            let releaser = a
                .releasers
                .iter()
                .max_by(|x, y| x.1.cmp(y.1).then_with(|| y.0.cmp(x.0)))
                .map_or_else(String::new, |(r, _)| match r {
                    Releaser::Site(s) => short_site(tl, s),
                    Releaser::Runtime => "runtime".to_owned(),
                    Releaser::Nobody => "(still waiting)".to_owned(),
                });
            SiteRow {
                label: short_site(tl, &site),
                full: site.describe(tl),
                site,
                reason,
                count,
                duration: Distribution::of(&mut ds),
                releaser,
                instances: a
                    .instances
                    .iter()
                    .map(|&i| {
                        let w = &waits[i as usize];
                        WaitRef {
                            g: w.g,
                            start: w.start,
                            end: w.end,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.duration
            .total
            .cmp(&a.duration.total)
            .then_with(|| a.site.cmp(&b.site))
    });
    rows
}

/// Time per state of one goroutine (indexed by `GoState as usize`).
pub fn state_totals(tl: &Timelines, g: usize) -> [i64; 6] {
    let mut t = [0i64; 6];
    if let Some(go) = tl.goroutines.get(g) {
        let mut it = go.spans.iter().peekable();
        while let Some(s) = it.next() {
            let e = it.peek().map_or(tl.end, |n| n.time);
            t[s.state as usize] += e - s.time;
        }
    }
    t
}

fn group_rows(tl: &Timelines, groups: &[(String, Vec<u32>)]) -> Vec<GroupRow> {
    groups
        .iter()
        .enumerate()
        .map(|(gi, (label, members))| {
            let mut cols: [Vec<i64>; 4] = Default::default();
            for &g in members {
                let t = state_totals(tl, g as usize);
                for (c, st) in cols.iter_mut().zip([
                    GoState::Running,
                    GoState::Runnable,
                    GoState::Waiting,
                    GoState::Syscall,
                ]) {
                    c.push(t[st as usize]);
                }
            }
            let [mut e, mut r, mut w, mut s] = cols;
            GroupRow {
                group: gi,
                label: label.clone(),
                count: members.len(),
                exec: Distribution::of(&mut e),
                sched_wait: Distribution::of(&mut r),
                blocked: Distribution::of(&mut w),
                syscall: Distribution::of(&mut s),
            }
        })
        .collect()
}

fn kind_rows(tl: &Timelines) -> Vec<KindRow> {
    // (is task, kind) -> instances with their durations.
    let mut by: HashMap<(bool, StrId), Vec<(i64, Instance)>> = HashMap::new();
    for (i, t) in tl.tasks.iter().enumerate() {
        if let (Some(a), Some(b)) = (t.interval.start, t.interval.end) {
            by.entry((true, t.kind))
                .or_default()
                .push((b - a, Instance::Task(i)));
        }
    }
    for (g, go) in tl.goroutines.iter().enumerate() {
        for (index, r) in go.regions.iter().enumerate() {
            if let (Some(a), Some(b)) = (r.interval.start, r.interval.end) {
                by.entry((false, r.kind))
                    .or_default()
                    .push((b - a, Instance::Region { g, index }));
            }
        }
    }
    let mut rows: Vec<KindRow> = by
        .into_iter()
        .filter_map(|((task, kind), inst)| {
            let &(_, slowest) = inst.iter().max_by_key(|x| x.0)?;
            let mut ds: Vec<i64> = inst.iter().map(|x| x.0).collect();
            // Before `Distribution::of`, which leaves the values only partly ordered.
            let min = ds.iter().copied().min().unwrap_or(0);
            let duration = Distribution::of(&mut ds);
            Some(KindRow {
                task,
                name: tl.strings.lossy(kind).into_owned(),
                count: ds.len(),
                histogram: histogram(&ds, min, duration.max),
                min,
                duration,
                slowest,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        b.task
            .cmp(&a.task)
            .then_with(|| b.duration.total.cmp(&a.duration.total))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// The bin of duration `d` on a log scale from `min` to `max`.
pub fn hist_bin(d: i64, min: i64, max: i64) -> usize {
    let lo = (min.max(1) as f64).ln();
    let hi = (max.max(1) as f64).ln();
    if hi - lo < 1e-9 {
        return 0;
    }
    let f = ((d.max(1) as f64).ln() - lo) / (hi - lo);
    ((f * HIST_BINS as f64) as usize).min(HIST_BINS - 1)
}

fn histogram(ds: &[i64], min: i64, max: i64) -> [u32; HIST_BINS] {
    let mut h = [0u32; HIST_BINS];
    for &d in ds {
        h[hist_bin(d, min, max)] += 1;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_row_knows_its_shortest_instance_among_many() {
        use goroscope_trace::timeline::{Goroutine, Interval, Lane, Region, StackId, StrId};
        // Fifty regions of one type, durations 1..=50 ms in a scrambled order: selecting the
        // percentiles leaves them only partly ordered.
        let regions = (0..50i64)
            .map(|i| {
                let d = ((i * 37) % 50 + 1) * 1_000_000;
                Region {
                    task: 0,
                    kind: StrId(0),
                    interval: Interval {
                        start: Some(i * 100_000_000),
                        end: Some(i * 100_000_000 + d),
                    },
                    depth: 0,
                    stack: StackId::NONE,
                }
            })
            .collect();
        let mut tl = Timelines::default();
        tl.goroutines.push(Goroutine {
            id: 1,
            created: None,
            creator: -1,
            creation_stack: StackId::NONE,
            start_stack: StackId::NONE,
            name: StrId(0),
            ended: None,
            spans: Lane::default(),
            regions,
            assists: Vec::new(),
            gc_worker: false,
        });
        let rows = kind_rows(&tl);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.count, 50);
        assert_eq!(r.min, 1_000_000);
        assert_eq!(r.duration.max, 50_000_000);
        assert_eq!(r.histogram.iter().sum::<u32>(), 50);
    }

    #[test]
    fn sites_keep_their_longest_waits_in_order() {
        let tl = Timelines {
            start: 0,
            end: 1_000_000,
            ..Timelines::default()
        };
        let n = MAX_INSTANCES + 500;
        // Durations 1..=n ns, shuffled by a multiplier coprime with n.
        let waits: Vec<Wait> = (0..n)
            .map(|i| {
                let d = ((i * 7919) % n + 1) as i64;
                Wait {
                    g: i as i64,
                    reason: StrId::default(),
                    stack: goroscope_trace::timeline::StackId::NONE,
                    start: 10,
                    end: Some(10 + d),
                    releaser: -1,
                    releaser_stack: goroscope_trace::timeline::StackId::NONE,
                }
            })
            .collect();
        let rows = site_rows(&tl, &waits);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.count, n as u64);
        assert_eq!(r.duration.max, n as i64);
        assert_eq!(r.duration.total, (n * (n + 1) / 2) as i64);
        assert_eq!(r.instances.len(), MAX_INSTANCES);
        let ds: Vec<i64> = r
            .instances
            .iter()
            .map(|w| w.end.unwrap() - w.start)
            .collect();
        let want: Vec<i64> = (0..MAX_INSTANCES).map(|k| (n - k) as i64).collect();
        assert_eq!(ds, want);
        assert_eq!(r.releaser, "runtime");
    }

    #[test]
    fn histogram_bins_span_min_to_max() {
        let ds = [10, 100, 1000, 10_000];
        let h = histogram(&ds, 10, 10_000);
        assert_eq!(h.iter().sum::<u32>(), 4);
        assert_eq!(h[0], 1);
        assert_eq!(h[HIST_BINS - 1], 1);
        // Equal durations all land in the first bin.
        assert_eq!(histogram(&[5, 5], 5, 5)[0], 2);
    }
}
