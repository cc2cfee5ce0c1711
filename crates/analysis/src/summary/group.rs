//! Goroutines grouped by start function, as `go tool trace`'s Goroutines page
//! (`cmd/trace/goroutines.go`) groups them, with percentiles per stat.

use std::collections::BTreeMap;
use std::sync::Arc;

use goroscope_trace::event::GoId;

use super::{Duration, ExecStats, GoroutineSummary, Summary};

/// How one stat is distributed over the goroutines of a group.
///
/// Percentiles use the nearest-rank method: `p50` is the smallest value that at least half
/// of the goroutines do not exceed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Distribution {
    /// The sum over the group.
    pub total: Duration,
    /// The median.
    pub p50: Duration,
    /// The 90th percentile.
    pub p90: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The largest value.
    pub max: Duration,
}

impl Distribution {
    /// The distribution of `values` (reordered in place, only partly: do not read an order
    /// into them afterwards). Percentiles are nearest-rank; they are selected, not sorted
    /// for, so this takes linear time: p50 first, then each higher one among the values the
    /// one before left above it.
    pub fn of(values: &mut [Duration]) -> Self {
        let n = values.len();
        if n == 0 {
            return Self::default();
        }
        let rank = |p: usize| (p * n).div_ceil(100).max(1) - 1;
        let total = values.iter().fold(0, |a: Duration, &v| a.wrapping_add(v));
        let max = values.iter().copied().max().unwrap_or_default();
        let (r50, r90, r99) = (rank(50), rank(90), rank(99));
        let p50 = *values.select_nth_unstable(r50).1;
        let p90 = if r90 > r50 {
            *values[r50 + 1..].select_nth_unstable(r90 - r50 - 1).1
        } else {
            p50
        };
        let p99 = if r99 > r90 {
            *values[r90 + 1..].select_nth_unstable(r99 - r90 - 1).1
        } else {
            p90
        };
        Self {
            total,
            p50,
            p90,
            p99,
            max,
        }
    }
}

/// The goroutines that share a start function (Go's `goroutineGroup`, extended).
#[derive(Debug, Clone, PartialEq)]
pub struct GoroutineGroup {
    /// The start function ([`GoroutineSummary::name`]); empty for goroutines whose stack was
    /// never seen (`go tool trace` shows "(Inactive, no stack trace sampled)").
    pub name: Arc<str>,
    /// The goroutines of the group, sorted by ID; their number is Go's `N`.
    pub goroutines: Vec<GoId>,
    /// Execution time (its total is Go's group `ExecTime`).
    pub exec_time: Distribution,
    /// Sched wait time.
    pub sched_wait_time: Distribution,
    /// Block time over all reasons.
    pub block_time: Distribution,
    /// Syscall execution time.
    pub syscall_time: Distribution,
    /// Syscall block time.
    pub syscall_block_time: Distribution,
    /// Unknown time ([`ExecStats::unknown_time`]).
    pub unknown_time: Distribution,
    /// Total time.
    pub total_time: Distribution,
    /// Block time per reason, summed over the group.
    pub block_time_by_reason: BTreeMap<Arc<str>, Duration>,
    /// Range time per range name, summed over the group.
    pub range_time: BTreeMap<Arc<str>, Duration>,
}

impl GoroutineGroup {
    /// The number of goroutines.
    pub fn count(&self) -> usize {
        self.goroutines.len()
    }

    fn of(name: Arc<str>, members: &[&GoroutineSummary]) -> Self {
        let mut values = vec![0; members.len()];
        let mut dist = |f: &dyn Fn(&ExecStats) -> Duration| {
            for (v, g) in values.iter_mut().zip(members) {
                *v = f(&g.stats);
            }
            Distribution::of(&mut values)
        };
        let exec_time = dist(&|s| s.exec_time);
        let sched_wait_time = dist(&|s| s.sched_wait_time);
        let block_time = dist(&ExecStats::block_time);
        let syscall_time = dist(&|s| s.syscall_time);
        let syscall_block_time = dist(&|s| s.syscall_block_time);
        let unknown_time = dist(&ExecStats::unknown_time);
        let total_time = dist(&|s| s.total_time);
        let mut block_time_by_reason = BTreeMap::new();
        let mut range_time = BTreeMap::new();
        for g in members {
            for (k, &d) in &g.stats.block_time_by_reason {
                let v: &mut Duration = block_time_by_reason.entry(k.clone()).or_default();
                *v = v.wrapping_add(d);
            }
            for (k, &d) in &g.stats.range_time {
                let v: &mut Duration = range_time.entry(k.clone()).or_default();
                *v = v.wrapping_add(d);
            }
        }
        Self {
            name,
            goroutines: members.iter().map(|g| g.id).collect(),
            exec_time,
            sched_wait_time,
            block_time,
            syscall_time,
            syscall_block_time,
            unknown_time,
            total_time,
            block_time_by_reason,
            range_time,
        }
    }
}

impl Summary {
    /// The goroutines grouped by start function, largest total execution time first (as
    /// `go tool trace` lists them), ties by name.
    pub fn groups(&self) -> Vec<GoroutineGroup> {
        let mut by_name: BTreeMap<&Arc<str>, Vec<&GoroutineSummary>> = BTreeMap::new();
        for g in &self.goroutines {
            by_name.entry(&g.name).or_default().push(g);
        }
        let mut groups: Vec<GoroutineGroup> = by_name
            .into_iter()
            .map(|(name, members)| GoroutineGroup::of(name.clone(), &members))
            .collect();
        groups.sort_by(|a, b| {
            b.exec_time
                .total
                .cmp(&a.exec_time.total)
                .then_with(|| a.name.cmp(&b.name))
        });
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<Duration> = (1..=100).rev().collect();
        let d = Distribution::of(&mut v);
        assert_eq!(
            (d.total, d.p50, d.p90, d.p99, d.max),
            (5050, 50, 90, 99, 100)
        );
        let d = Distribution::of(&mut [7]);
        assert_eq!((d.p50, d.p90, d.p99, d.max), (7, 7, 7, 7));
        let d = Distribution::of(&mut [1, 2]);
        assert_eq!((d.p50, d.p90, d.max), (1, 2, 2));
        assert_eq!(Distribution::of(&mut []), Distribution::default());
        // The selected percentiles are those of the sorted values.
        for n in [1usize, 2, 3, 10, 99, 100, 101, 1000, 4321] {
            let mut v: Vec<Duration> = (0..n as i64).map(|i| (i * 7919 + 13) % 1009).collect();
            let mut sorted = v.clone();
            sorted.sort_unstable();
            let at = |p: usize| sorted[(p * n).div_ceil(100).max(1) - 1];
            let d = Distribution::of(&mut v);
            assert_eq!(
                (d.total, d.p50, d.p90, d.p99, d.max),
                (sorted.iter().sum(), at(50), at(90), at(99), sorted[n - 1]),
                "{n} values"
            );
        }
    }
}
