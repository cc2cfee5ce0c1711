//! Every task (or region) of one type: where the slowest 1% spend their critical path,
//! beside the median.

use std::collections::HashMap;

use rayon::prelude::*;

use goroscope_trace::timeline::{StrId, Timelines};

use super::spans::SiteTimes;
use super::{CategoryTotals, PathBrief, PathFinder, Profile, SiteTime, Target, sites_of_times};
use crate::summary::{Distribution, Duration};

/// One target's path in brief.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathSummary {
    /// The task or region.
    pub target: Target,
    /// Its duration.
    pub duration: Duration,
    /// Its critical path per category.
    pub totals: CategoryTotals,
}

/// The slowest paths of a [`Breakdown`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slowest {
    /// The slowest 1% (at least one), slowest first.
    pub paths: Vec<PathSummary>,
    /// The slowest one's path in brief, with as many of its longest segments as the
    /// finder keeps ([`PathFinder::keeping`]). (A path through a whole trace has millions
    /// of segments; [`PathFinder::path`] of its target gives them all.)
    pub path: PathBrief,
    /// Their mean time per category.
    pub mean: CategoryTotals,
    /// Their time per function, summed, most first.
    pub sites: Vec<SiteTime>,
    /// Their profile, merged.
    pub profile: Profile,
}

/// The critical paths of every task (or region) of one type: why the slow ones are slow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    /// The type name.
    pub kind: StrId,
    /// Every target with a path, slowest first (ties in target order).
    pub paths: Vec<PathSummary>,
    /// Targets of the type without a path (tasks that did not end in the trace).
    pub skipped: usize,
    /// Their durations.
    pub duration: Distribution,
    /// The mean time per category over all of them.
    pub mean: CategoryTotals,
    /// The median one (the lower median by duration), with the totals of its path's
    /// segments.
    pub median: PathSummary,
    /// Its time per function, most first.
    pub median_sites: Vec<SiteTime>,
    /// The slowest 1%.
    pub slowest: Slowest,
}

/// The task types of `t` with how many tasks each has, most first (ties by name).
pub fn task_kinds(t: &Timelines) -> Vec<(StrId, usize)> {
    let mut by: HashMap<StrId, usize> = HashMap::new();
    for task in &t.tasks {
        *by.entry(task.kind).or_default() += 1;
    }
    let mut out: Vec<(StrId, usize)> = by.into_iter().collect();
    out.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| t.strings.get(a.0).cmp(t.strings.get(b.0)))
    });
    out
}

/// Time per category of time per (stack, category): the totals of the segments.
fn totals_of_times(times: &SiteTimes) -> CategoryTotals {
    let mut totals = CategoryTotals::default();
    #[allow(clippy::iter_over_hash_type)] // Integer sums: any order gives the same.
    for (&(_, category), &(time, _)) in times {
        totals.add(category, time);
    }
    totals
}

/// `a` with the times and counts of `b` added.
fn merge(mut a: SiteTimes, b: SiteTimes) -> SiteTimes {
    #[allow(clippy::iter_over_hash_type)] // Integer sums: any order gives the same.
    for (k, v) in b {
        let e = a.entry(k).or_default();
        e.0 += v.0;
        e.1 += v.1;
    }
    a
}

impl PathFinder<'_> {
    /// The breakdown of every task of type `kind`, or `None` if none has a path.
    pub fn task_kind(&self, kind: StrId) -> Option<Breakdown> {
        let targets: Vec<Target> = (0..self.ctx.t.tasks.len() as u32)
            .filter(|&i| self.ctx.t.tasks[i as usize].kind == kind)
            .map(Target::Task)
            .collect();
        self.breakdown(kind, &targets)
    }

    /// The breakdown of every region of type `kind` (on every goroutine), or `None` if
    /// there is none.
    pub fn region_kind(&self, kind: StrId) -> Option<Breakdown> {
        let targets: Vec<Target> = self
            .ctx
            .t
            .goroutines
            .iter()
            .flat_map(|g| {
                g.regions
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.kind == kind)
                    .map(|(i, _)| Target::Region {
                        g: g.id,
                        index: i as u32,
                    })
            })
            .collect();
        self.breakdown(kind, &targets)
    }

    /// The breakdown of `targets` (named `kind`), or `None` if none has a path. Paths are
    /// found in parallel; only the slowest keeps some of its segments (the longest).
    pub fn breakdown(&self, kind: StrId, targets: &[Target]) -> Option<Breakdown> {
        // Which targets have a path, and how long each is, is known before any walk: the
        // slowest and the median are chosen first, so that their paths are walked beside
        // the totals of all.
        let found: Vec<Option<(Target, Duration)>> = targets
            .iter()
            .map(|&target| {
                let (g, start, end) = self.resolve(target)?;
                self.ctx.index(g)?;
                Some((target, end - start))
            })
            .collect();
        let skipped = found.iter().filter(|p| p.is_none()).count();
        let mut order: Vec<(Target, Duration)> = found.into_iter().flatten().collect();
        if order.is_empty() {
            return None;
        }
        // Slowest first; the sort is stable, so ties stay in target order.
        order.sort_by_key(|p| std::cmp::Reverse(p.1));
        let n = order.len();
        // The median as `Distribution` ranks it, counted from the fastest; with one path,
        // it is also the slowest.
        let rank = (n * 50).div_ceil(100).max(1) - 1;
        let slow_n = n.div_ceil(100).max(1);
        let median = order[n - 1 - rank].0;
        let t = self.ctx.t;
        // Only the slowest path keeps some segments (its longest, in its brief); the other
        // slow ones and the median are walked again into time per (stack, category), which
        // is all their sites and profile need (the slowest one's come with its brief).
        let slowest = order[0].0;
        // The slowest path's totals come with its brief (the same split of the same
        // pieces), so it is not walked twice: on a trace with one task across it all, that
        // walk is most of the breakdown.
        let (others_found, (path, (others, median_times))) = rayon::join(
            || {
                order[1..]
                    .par_iter()
                    .map(|&(target, _)| {
                        let (duration, totals) = self.totals(target)?;
                        Some(PathSummary {
                            target,
                            duration,
                            totals,
                        })
                    })
                    .collect::<Option<Vec<PathSummary>>>()
            },
            || {
                rayon::join(
                    || self.brief_times(slowest, self.keep),
                    || {
                        rayon::join(
                            || {
                                order[1..slow_n]
                                    .par_iter()
                                    .filter_map(|p| self.site_times(p.0))
                                    .reduce(SiteTimes::default, merge)
                            },
                            || (median != slowest).then(|| self.site_times(median)),
                        )
                    },
                )
            },
        );
        let (path, own) = path?;
        let mut paths = Vec::with_capacity(n);
        paths.push(PathSummary {
            target: slowest,
            duration: path.duration(),
            totals: path.totals,
        });
        paths.extend(others_found?);
        let mut durations: Vec<Duration> = paths.iter().map(|p| p.duration).collect();
        let duration = Distribution::of(&mut durations);
        let mut sum = CategoryTotals::default();
        for p in &paths {
            sum.add_all(&p.totals);
        }
        let median = paths[n - 1 - rank];
        let median_times = match median_times {
            Some(times) => times?,
            None => own.clone(),
        };
        let slow_times = merge(others, own);
        Some(Breakdown {
            kind,
            skipped,
            duration,
            mean: sum.div(n as u64),
            median: PathSummary {
                totals: totals_of_times(&median_times),
                ..median
            },
            median_sites: sites_of_times(t, &median_times),
            slowest: Slowest {
                mean: totals_of_times(&slow_times).div(slow_n as u64),
                sites: sites_of_times(t, &slow_times),
                profile: Profile::of_times(&slow_times),
                path,
                paths: paths[..slow_n].to_vec(),
            },
            paths,
        })
    }
}
