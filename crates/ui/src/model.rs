//! What the timeline shows of a trace, computed once after loading: goroutine groups (by
//! start function), the goroutine → group map, and level-of-detail summaries of dense lanes.

use std::sync::Arc;

use goroscope_trace::Trace;
use goroscope_trace::event::{GoId, GoState};
use goroscope_trace::timeline::{
    Counts, GoSpan, Lane, Point, ProcActivity, ProcSpan, StrId, ThreadSpan, Timelines,
};

use crate::lod::{MIP_MIN_SPANS, Mip, MipBuilder, SeriesMip};
use crate::palette::WaitKind;

/// Goroutines started by the same function.
#[derive(Debug, Clone)]
pub struct Group {
    /// The start function (Go's goroutine name).
    pub name: StrId,
    /// The name as text.
    pub label: String,
    /// The goroutines, as indexes into [`Timelines::goroutines`], by ID.
    pub goroutines: Vec<u32>,
    /// Nanoseconds its goroutines spent running, together.
    pub running_ns: i64,
}

/// Summary categories of goroutine lanes.
pub mod go_cat {
    /// Running.
    pub const RUNNING: u8 = 0;
    /// Runnable.
    pub const RUNNABLE: u8 = 1;
    /// Waiting (key: what it waits for, a [`WaitKind`](crate::palette::WaitKind)).
    pub const WAITING: u8 = 2;
    /// In a syscall.
    pub const SYSCALL: u8 = 3;
}

/// Summary categories of P lanes.
pub mod proc_cat {
    /// Running a user goroutine (key: its group).
    pub const USER: u8 = 0;
    /// Running a GC worker.
    pub const GC: u8 = 1;
    /// Its goroutine is in a syscall.
    pub const SYSCALL: u8 = 2;
    /// Held, running the scheduler.
    pub const SCHED: u8 = 3;
}

/// Summary categories of thread lanes.
pub mod thread_cat {
    /// Holding a P (key: the P).
    pub const HOLDS_P: u8 = 0;
    /// Running a goroutine without a P.
    pub const NO_P: u8 = 1;
}

/// A loaded trace with what the timeline needs to draw it fast.
pub struct TraceModel {
    /// The trace (shared with the analyses that run in the background).
    pub trace: Arc<Trace>,
    /// Goroutine groups, busiest (most running time) first.
    pub groups: Vec<Group>,
    /// The group of each goroutine (by index in [`Timelines::goroutines`]).
    group_of: Vec<u32>,
    /// Summaries of dense goroutine lanes.
    pub(crate) go_mips: Vec<Option<Mip>>,
    /// Summaries of dense P lanes.
    pub(crate) proc_mips: Vec<Option<Mip>>,
    /// Summaries of dense thread lanes.
    pub(crate) thread_mips: Vec<Option<Mip>>,
    /// Summary of the goroutine counts series.
    pub(crate) counts_mip: Option<SeriesMip<Counts>>,
    /// Summary of the live heap series.
    pub(crate) heap_mip: Option<SeriesMip<Point>>,
    /// Summary of the heap goal series.
    pub(crate) goal_mip: Option<SeriesMip<Point>>,
    /// Tasks packed into lanes: per lane, task indexes in start order, not overlapping
    /// (except in the last lane, which takes what does not fit).
    pub task_lanes: Vec<Vec<u32>>,
    /// The lane of each task (by index in [`Timelines::tasks`]).
    task_lane_of: Vec<u32>,
    /// Per task lane, the latest end of its tasks so far (ascending: binary-searchable).
    pub(crate) task_lane_reach: Vec<Vec<i64>>,
    /// The goroutines (indexes) that have regions, ascending.
    pub region_goroutines: Vec<u32>,
    /// Per goroutine with regions (as in `region_goroutines`), the latest end of its
    /// regions so far, in begin order (ascending: binary-searchable).
    region_reach: Vec<Vec<i64>>,
    /// Nesting levels drawn in region lanes (deeper regions share the last level).
    pub region_levels: u16,
    /// CPU samples on goroutines: (goroutine index, time), sorted.
    pub(crate) go_samples: Vec<(u32, i64)>,
    /// CPU samples on Ps: (P index, time), sorted.
    pub(crate) proc_samples: Vec<(u32, i64)>,
}

/// At most this many task lanes; tasks that overlap every lane go to the last.
pub const MAX_TASK_LANES: usize = 32;
/// At most this many region nesting levels are drawn apart.
pub const MAX_REGION_LEVELS: u16 = 4;

impl std::fmt::Debug for TraceModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceModel")
            .field("goroutines", &self.trace.timelines.goroutines.len())
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

/// A span's end: the next span's start, or the timeline's end.
fn ends<R: goroscope_trace::timeline::Record>(
    lane: &Lane<R>,
    end: i64,
) -> impl Iterator<Item = (R, i64)> + '_ {
    let mut it = lane.iter().peekable();
    std::iter::from_fn(move || {
        let r = it.next()?;
        let e = it.peek().map_or(end, |n| n.time());
        Some((r, e.max(r.time())))
    })
}

impl TraceModel {
    /// Prepares `trace` for viewing: groups goroutines and summarises dense lanes. Costs one
    /// pass over every span.
    pub fn new(trace: Trace) -> Self {
        let tl = &trace.timelines;
        let n = tl.goroutines.len();
        // Groups by name, and running time per goroutine group.
        let mut by_name: std::collections::HashMap<StrId, u32> = Default::default();
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of = vec![0u32; n];
        for (i, g) in tl.goroutines.iter().enumerate() {
            let gi = *by_name.entry(g.name).or_insert_with(|| {
                let label = tl.strings.lossy(g.name);
                groups.push(Group {
                    name: g.name,
                    label: if label.is_empty() {
                        "(unnamed)".to_owned()
                    } else {
                        label.into_owned()
                    },
                    goroutines: Vec::new(),
                    running_ns: 0,
                });
                (groups.len() - 1) as u32
            });
            group_of[i] = gi;
            groups[gi as usize].goroutines.push(i as u32);
        }
        // The wait kind of each string used as a block reason, classified once.
        let wait_kinds = wait_kinds(tl);
        // The metric series' summaries on a thread of their own, meanwhile.
        let series = || {
            let weight = |c: &Counts| u64::from(c.running + c.runnable + c.syscall + c.waiting);
            (
                SeriesMip::build(&tl.metrics.counts, tl.end, weight),
                SeriesMip::build(&tl.metrics.heap_alloc, tl.end, |p: &Point| p.value),
                SeriesMip::build(&tl.metrics.heap_goal, tl.end, |p: &Point| p.value),
            )
        };
        let (per_goroutine, (counts_mip, heap_mip, goal_mip)) = std::thread::scope(|s| {
            let series = std::thread::Builder::new()
                .name("goroscope-lod-series".to_owned())
                .spawn_scoped(s, series)
                .map_err(|_| series);
            let per_goroutine = par_map(&tl.goroutines, |g| {
                let dense = g.spans.len() > MIP_MIN_SPANS;
                let mut mip = dense.then(|| {
                    let first = g.spans.get(0).map_or(tl.start, |s| s.time);
                    MipBuilder::new(first, tl.end, g.spans.len(), go_cat::WAITING)
                });
                let mut running = 0i64;
                for (s, e) in ends(&g.spans, tl.end) {
                    if s.state == GoState::Running {
                        running += e - s.time;
                    }
                    if let Some(m) = mip.as_mut() {
                        let cat = go_category(&s);
                        // The key only counts in the key category, waiting.
                        let key = if cat == Some(go_cat::WAITING) {
                            wait_kinds
                                .get(s.reason.0 as usize)
                                .copied()
                                .unwrap_or_else(|| WaitKind::of(tl.strings.get(s.reason)) as u32)
                        } else {
                            0
                        };
                        m.add(s.time, e, cat, key);
                    }
                }
                (mip.map(MipBuilder::finish), running)
            });
            let series = match series {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(series) => series(),
            };
            (per_goroutine, series)
        });
        let mut go_mips = Vec::with_capacity(n);
        for (i, (mip, running)) in per_goroutine.into_iter().enumerate() {
            groups[group_of[i] as usize].running_ns += running;
            go_mips.push(mip);
        }
        // Busiest groups first; ties by name, for a stable order.
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by(|&a, &b| {
            groups[b]
                .running_ns
                .cmp(&groups[a].running_ns)
                .then_with(|| groups[a].label.cmp(&groups[b].label))
        });
        let mut rank = vec![0u32; groups.len()];
        for (r, &gi) in order.iter().enumerate() {
            rank[gi] = r as u32;
        }
        for g in &mut group_of {
            *g = rank[*g as usize];
        }
        let mut slots: Vec<Option<Group>> = groups.into_iter().map(Some).collect();
        let groups = order.iter().filter_map(|&i| slots[i].take()).collect();
        let running_keys = RunningKeys::new(tl, &group_of);
        let proc_mips = par_map(&tl.procs, |p| {
            (p.spans.len() > MIP_MIN_SPANS).then(|| {
                let first = p.spans.get(0).map_or(tl.start, |s| s.time);
                let mut m = MipBuilder::new(first, tl.end, p.spans.len(), proc_cat::USER);
                let mut last: (GoId, Option<(u8, u32)>) = (i64::MIN, None);
                for (s, e) in ends(&p.spans, tl.end) {
                    let (cat, key) = if s.g == last.0 && s.activity == ProcActivity::Running {
                        last.1.unzip()
                    } else {
                        let ck = proc_category(&running_keys, &s);
                        if s.activity == ProcActivity::Running {
                            last = (s.g, ck);
                        }
                        ck.unzip()
                    };
                    m.add(s.time, e, cat, key.unwrap_or(0));
                }
                m.finish()
            })
        });
        let thread_mips = par_map(&tl.threads, |t| {
            (t.spans.len() > MIP_MIN_SPANS).then(|| {
                let first = t.spans.get(0).map_or(tl.start, |s| s.time);
                let mut m = MipBuilder::new(first, tl.end, t.spans.len(), thread_cat::HOLDS_P);
                for (s, e) in ends(&t.spans, tl.end) {
                    let (cat, key) = thread_category(&s).unzip();
                    m.add(s.time, e, cat, key.unwrap_or(0));
                }
                m.finish()
            })
        });
        let (task_lanes, task_lane_of) = pack_tasks(tl);
        let task_lane_reach = task_lanes
            .iter()
            .map(|lane| {
                let mut reach = i64::MIN;
                lane.iter()
                    .map(|&i| {
                        reach = reach.max(task_interval(tl, &tl.tasks[i as usize]).1);
                        reach
                    })
                    .collect()
            })
            .collect();
        let region_goroutines: Vec<u32> = (0..n as u32)
            .filter(|&g| !tl.goroutines[g as usize].regions.is_empty())
            .collect();
        let region_reach = region_goroutines
            .iter()
            .map(|&g| {
                let mut reach = i64::MIN;
                tl.goroutines[g as usize]
                    .regions
                    .iter()
                    .map(|r| {
                        reach = reach.max(r.interval.clamped(tl.start, tl.end).1);
                        reach
                    })
                    .collect()
            })
            .collect();
        let region_levels = tl
            .goroutines
            .iter()
            .flat_map(|g| g.regions.iter().map(|r| r.depth + 1))
            .max()
            .unwrap_or(1)
            .min(MAX_REGION_LEVELS);
        let mut go_samples = Vec::new();
        let mut proc_samples = Vec::new();
        for s in &tl.cpu_samples {
            if s.g >= 0
                && let Ok(g) = tl.goroutines.binary_search_by_key(&s.g, |g| g.id)
            {
                go_samples.push((g as u32, s.time));
            }
            if s.p >= 0
                && let Ok(p) = tl.procs.binary_search_by_key(&s.p, |p| p.id)
            {
                proc_samples.push((p as u32, s.time));
            }
        }
        go_samples.sort_unstable();
        proc_samples.sort_unstable();
        Self {
            task_lanes,
            task_lane_of,
            task_lane_reach,
            region_goroutines,
            region_reach,
            region_levels,
            go_samples,
            proc_samples,
            trace: Arc::new(trace),
            groups,
            group_of,
            go_mips,
            proc_mips,
            thread_mips,
            counts_mip,
            heap_mip,
            goal_mip,
        }
    }

    /// The timelines.
    pub fn timelines(&self) -> &Timelines {
        &self.trace.timelines
    }

    /// The trace's length in ns.
    pub fn duration(&self) -> i64 {
        self.trace.timelines.end - self.trace.timelines.start
    }

    /// The index of goroutine `id` in [`Timelines::goroutines`].
    pub fn goroutine_index(&self, id: GoId) -> Option<usize> {
        self.trace.timelines.goroutine_index(id)
    }

    /// The group of the goroutine at `index`.
    pub fn group_of(&self, index: usize) -> Option<usize> {
        self.group_of.get(index).map(|&g| g as usize)
    }

    /// The group of goroutine `id`.
    pub fn group_of_id(&self, id: GoId) -> Option<usize> {
        self.goroutine_index(id).and_then(|i| self.group_of(i))
    }

    /// For diagnostics: per thread lane, its span count and finest summary resolution (ns).
    pub fn thread_lod_info(&self) -> Vec<(usize, Option<f64>)> {
        self.trace
            .timelines
            .threads
            .iter()
            .zip(&self.thread_mips)
            .map(|(t, m)| (t.spans.len(), m.as_ref().map(Mip::finest_ns)))
            .collect()
    }

    /// Heap bytes of the level-of-detail summaries.
    pub fn lod_heap_bytes(&self) -> usize {
        self.go_mips
            .iter()
            .chain(&self.proc_mips)
            .chain(&self.thread_mips)
            .flatten()
            .map(Mip::heap_bytes)
            .sum::<usize>()
            + self.counts_mip.as_ref().map_or(0, SeriesMip::heap_bytes)
            + self.heap_mip.as_ref().map_or(0, SeriesMip::heap_bytes)
            + self.goal_mip.as_ref().map_or(0, SeriesMip::heap_bytes)
    }

    /// The lane of task `i` (index into [`TraceModel::task_lanes`]).
    pub fn task_lane(&self, i: usize) -> Option<usize> {
        self.task_lane_of.get(i).map(|&l| l as usize)
    }

    /// The position of goroutine `g` (index) among the goroutines with regions.
    pub fn region_row(&self, g: usize) -> Option<usize> {
        self.region_goroutines.binary_search(&(g as u32)).ok()
    }

    /// The index of the first region of goroutine `g` (index) that ends at or after `t`
    /// (regions that end earlier all begin earlier too).
    pub fn first_region_reaching(&self, g: usize, t: i64) -> usize {
        self.region_row(g)
            .and_then(|i| self.region_reach.get(i))
            .map_or(0, |reach| reach.partition_point(|&e| e < t))
    }

    /// The times of the CPU samples of goroutine `g` (index), or P `p` (index).
    pub fn samples(&self, of: SamplesOf) -> &[(u32, i64)] {
        let (all, k) = match of {
            SamplesOf::Goroutine(g) => (&self.go_samples, g as u32),
            SamplesOf::Proc(p) => (&self.proc_samples, p as u32),
        };
        let a = all.partition_point(|s| s.0 < k);
        let b = all.partition_point(|s| s.0 <= k);
        &all[a..b]
    }

    /// The end of span `i` of `lane` (the next span's start, or the trace end).
    pub fn span_end<R: goroscope_trace::timeline::Record>(&self, lane: &Lane<R>, i: usize) -> i64 {
        lane.get(i + 1)
            .map_or(self.trace.timelines.end, |r| r.time())
    }
}

/// Whose CPU samples [`TraceModel::samples`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplesOf {
    /// A goroutine (index).
    Goroutine(usize),
    /// A P (index).
    Proc(usize),
}

/// The interval of task `t`, clamped to the trace.
pub fn task_interval(tl: &Timelines, t: &goroscope_trace::timeline::Task) -> (i64, i64) {
    t.interval.clamped(tl.start, tl.end)
}

/// Packs tasks into lanes (first lane where the previous task has ended), in start order.
fn pack_tasks(tl: &Timelines) -> (Vec<Vec<u32>>, Vec<u32>) {
    let mut order: Vec<u32> = (0..tl.tasks.len() as u32).collect();
    order.sort_by_key(|&i| (task_interval(tl, &tl.tasks[i as usize]).0, i));
    let mut lanes: Vec<Vec<u32>> = Vec::new();
    let mut ends: Vec<i64> = Vec::new();
    let mut lane_of = vec![0u32; tl.tasks.len()];
    for i in order {
        let (a, b) = task_interval(tl, &tl.tasks[i as usize]);
        let l = match ends.iter().position(|&e| e <= a) {
            Some(l) => l,
            None if lanes.len() < MAX_TASK_LANES => {
                lanes.push(Vec::new());
                ends.push(i64::MIN);
                lanes.len() - 1
            }
            None => lanes.len() - 1,
        };
        lanes[l].push(i);
        ends[l] = ends[l].max(b);
        lane_of[i as usize] = l as u32;
    }
    (lanes, lane_of)
}

/// The summary category of a goroutine span.
pub fn go_category(s: &GoSpan) -> Option<u8> {
    match s.state {
        GoState::Running => Some(go_cat::RUNNING),
        GoState::Runnable => Some(go_cat::RUNNABLE),
        GoState::Waiting => Some(go_cat::WAITING),
        GoState::Syscall => Some(go_cat::SYSCALL),
        GoState::NotExist | GoState::Undetermined => None,
    }
}

/// The wait kind of each string (by [`StrId`]) as a block reason, classified once rather
/// than at every waiting span.
fn wait_kinds(tl: &Timelines) -> Vec<u32> {
    (0..tl.strings.len())
        .map(|i| WaitKind::of(tl.strings.get(StrId(i as u32))) as u32)
        .collect()
}

/// The summary category and key of P spans running each goroutine, looked up by goroutine
/// ID in a table when IDs are dense enough (one lookup per P span instead of a binary
/// search).
struct RunningKeys<'a> {
    tl: &'a Timelines,
    /// By goroutine index.
    by_index: Vec<(u8, u32)>,
    /// By goroutine ID, if the IDs are dense enough; IDs of no goroutine map to
    /// [`RunningKeys::UNKNOWN`].
    by_id: Vec<(u8, u32)>,
}

impl<'a> RunningKeys<'a> {
    /// The category and key of a goroutine that is not in the timelines.
    const UNKNOWN: (u8, u32) = (proc_cat::USER, u32::MAX);

    fn new(tl: &'a Timelines, group_of: &[u32]) -> Self {
        let by_index: Vec<(u8, u32)> = tl
            .goroutines
            .iter()
            .zip(group_of)
            .map(|(g, &group)| {
                if g.gc_worker {
                    (proc_cat::GC, 0)
                } else {
                    (proc_cat::USER, group)
                }
            })
            .collect();
        let max_id = tl.goroutines.last().map_or(-1, |g| g.id);
        let dense = usize::try_from(max_id).is_ok_and(|m| m < 4 * tl.goroutines.len() + (1 << 16))
            && tl.goroutines.first().is_none_or(|g| g.id >= 0);
        let mut by_id = Vec::new();
        if dense {
            by_id = vec![Self::UNKNOWN; usize::try_from(max_id + 1).unwrap_or(0)];
            for (g, &k) in tl.goroutines.iter().zip(&by_index) {
                by_id[g.id as usize] = k;
            }
        }
        Self {
            tl,
            by_index,
            by_id,
        }
    }

    /// The category and key of goroutine `g` (an ID of 0 or more).
    fn get(&self, g: GoId) -> (u8, u32) {
        if !self.by_id.is_empty() {
            return usize::try_from(g)
                .ok()
                .and_then(|i| self.by_id.get(i))
                .copied()
                .unwrap_or(Self::UNKNOWN);
        }
        match self.tl.goroutine_index(g) {
            Some(i) => self.by_index[i],
            None => Self::UNKNOWN,
        }
    }
}

/// The summary category and key of a P span.
fn proc_category(keys: &RunningKeys<'_>, s: &ProcSpan) -> Option<(u8, u32)> {
    match s.activity {
        ProcActivity::Idle | ProcActivity::NotExist => None,
        ProcActivity::Syscall => Some((proc_cat::SYSCALL, 0)),
        ProcActivity::Running if s.g < 0 => Some((proc_cat::SCHED, 0)),
        ProcActivity::Running => Some(keys.get(s.g)),
    }
}

/// The summary category and key of a thread span.
fn thread_category(s: &ThreadSpan) -> Option<(u8, u32)> {
    if s.p >= 0 {
        Some((thread_cat::HOLDS_P, s.p as u32))
    } else if s.g >= 0 {
        Some((thread_cat::NO_P, 0))
    } else {
        None
    }
}

/// Maps `items` with `f` on all cores (workers take the next item as they finish, so a few
/// huge lanes do not leave cores idle); the results are in `items`' order.
fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(items.len())
        .min(16);
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut out = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return out;
            };
            out.push((i, f(item)));
        }
    };
    let mut all: Vec<(usize, U)> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..workers)
            .filter_map(|w| {
                std::thread::Builder::new()
                    .name(format!("goroscope-lod-{w}"))
                    .spawn_scoped(s, work)
                    .ok()
            })
            .collect();
        let mut all = work();
        for h in handles {
            match h.join() {
                Ok(part) => all.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, u)| u).collect()
}
