//! Critical paths: why an interval of a goroutine, a user task or a region took as long as
//! it did.
//!
//! The path is found by walking back from the end of the interval:
//!
//! - time the goroutine spent **running** stays on it (split off as **GC assist** while it
//!   assisted the GC — in any of its recorded assists, which may overlap — and as **STW**
//!   while the world was stopped);
//! - time it spent **runnable** is **scheduling latency**; the path names the goroutines
//!   that held the Ps meanwhile (from the P lanes) and how much P-time sat idle
//!   ([`CriticalPath::holders`]);
//! - time in a **syscall** is its own category;
//! - a **wait** released by another goroutine (a channel send, a mutex unlock, …) jumps to
//!   that goroutine at the moment it released the waiter, and follows *its* path back — but
//!   only as far as the start of the wait. This is the contention-aware rule of Felix
//!   Geisendörfer's critical-path analysis: what the releaser did before the waiter started
//!   waiting did not delay the waiter, so unrelated earlier work never enters the path.
//!   When the releaser's path reaches the start of the wait, the walk returns to the waiter;
//! - a wait released by the runtime (a timer, the network poller: no goroutine named) is
//!   **runtime wait**, with the block reason saying which;
//! - a goroutine's creation jumps to its creator at the `go` statement; before a goroutine
//!   that the runtime created (a `time.AfterFunc` callback) existed, the time is runtime
//!   wait;
//! - what cannot be explained is **blocked** (a wait whose release is not in the trace) or
//!   **unknown** (before the goroutine's first event, after a damaged part of the trace).
//!
//! The result ([`CriticalPath`]) is a list of [`Segment`]s that tile the interval exactly, in
//! time order, with totals per [`Category`], per function ([`CriticalPath::by_site`], the
//! segment's site as [`site_of`] finds it) and as a profile ([`Profile`], stack → time) that a
//! pprof writer can use.
//!
//! [`PathFinder`] walks one interval in O(segments · log spans): spans are read from the
//! goroutines' compressed lanes one chunk at a time (a few thousand chunks are kept), and
//! goroutines, STW pauses and assists are found by binary search; only the pauses and each
//! goroutine's assists are sorted (and merged where they overlap) up front.
//! [`PathFinder::totals`] walks without keeping segments, and [`PathFinder::brief`] into
//! what a report shows of a path ([`PathBrief`]: totals, sites, goroutines and the longest
//! segments). [`PathFinder::task_kind`] analyses every task of a type in parallel (rayon)
//! and compares the slowest 1% with the median task ([`Breakdown`]): why slow requests are
//! slow. On a 285 MB trace (50M spans),
//! the breakdowns of its two task types (762 tasks, and one across the whole trace) take
//! about 2.5 s of CPU.
//!
//! [`DependencyGraph`] is the same model as a whole-trace graph (petgraph): nodes are span
//! boundaries of goroutines, edges are each goroutine's continuity, wait edges (from a waiter,
//! at the start of its wait and at every later instant of it that has a node, to its releaser
//! at that instant), release and creation edges. Its [`DependencyGraph::longest_path`]
//! between two events weighs every edge by the time it explains (a wait that another
//! goroutine released weighs nothing, so the path prefers the releaser's work). Where the
//! walk's path starts at the graph path's first event, both are the same path, segment for
//! segment; the walk also covers intervals whose path starts on another goroutine (a task
//! ended by a goroutine that was waiting for it before it began). The graph costs about
//! 70 bytes and half a microsecond per span to build; the walk needs none of it.
//!
//! # Limitations
//!
//! - A running segment's stack is where the goroutine was at the end of it (the stack of the
//!   release or creation the path follows, or of its next block, stop or syscall): traces
//!   record no stacks while a goroutine runs.
//! - A wait is attributed to the goroutine the unblock event names. The runtime sometimes
//!   readies a goroutine on behalf of another from inside a third goroutine's time slice
//!   (a timer run by whichever goroutine's P checks timers): the path then follows that
//!   goroutine, as the trace says.
//! - Waits have no object identity in traces, so a path cannot tell a contended mutex from
//!   a slow producer; the releaser's stack ([`Segment::stack`] of the segment before a
//!   [`Link::Released`]) says which.
//! - Scheduling latency counts a P held by a goroutine in a syscall as held by it.

mod breakdown;
mod graph;
mod spans;

use std::collections::HashMap;

use goroscope_trace::event::{GoId, Time};
use goroscope_trace::timeline::{StackId, StrId, Timelines};

use crate::blocking::{Site, site_of};
use crate::idmap::FxHashSet;
use crate::summary::Duration;

pub use breakdown::{Breakdown, PathSummary, Slowest, task_kinds};
pub use graph::{Dep, DepKind, DependencyGraph, GraphError, GraphPath, Node};

use spans::{Brief, Context, Piece, Segments, Sink, SiteTimes, SpanReader, Wake};

/// What a stretch of a critical path was spent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Running on a P.
    Running,
    /// Running a GC mark assist.
    GcAssist,
    /// Runnable, waiting for a P.
    SchedLatency,
    /// In a system call (or cgo call).
    Syscall,
    /// Stopped by, or stopping, the world.
    Stw,
    /// Waiting for the runtime: a timer, the network poller, the scheduler (no goroutine
    /// released the wait; the segment's reason says why it waited).
    RuntimeWait,
    /// Waiting, and the release cannot be followed (the wait is still open at the end of
    /// the interval, or the trace does not say who ended it).
    Blocked,
    /// The goroutine's state is not known (before its first event, after a damaged part of
    /// the trace, or while it did not exist).
    Unknown,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::Running,
        Self::GcAssist,
        Self::SchedLatency,
        Self::Syscall,
        Self::Stw,
        Self::RuntimeWait,
        Self::Blocked,
        Self::Unknown,
    ];

    /// A short lowercase name (`running`, `sched latency`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::GcAssist => "GC assist",
            Self::SchedLatency => "sched latency",
            Self::Syscall => "syscall",
            Self::Stw => "STW",
            Self::RuntimeWait => "runtime wait",
            Self::Blocked => "blocked",
            Self::Unknown => "unknown",
        }
    }
}

/// Time per [`Category`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CategoryTotals([Duration; 8]);

impl CategoryTotals {
    /// The time of `c`.
    pub fn get(&self, c: Category) -> Duration {
        self.0[c as usize]
    }

    /// Adds `d` to `c`.
    pub fn add(&mut self, c: Category, d: Duration) {
        self.0[c as usize] += d;
    }

    /// Adds every category of `other`.
    pub fn add_all(&mut self, other: &Self) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// The sum over all categories.
    pub fn total(&self) -> Duration {
        self.0.iter().sum()
    }

    /// Every category with its time, in [`Category::ALL`] order (zeros included).
    pub fn iter(&self) -> impl Iterator<Item = (Category, Duration)> + '_ {
        Category::ALL.iter().map(|&c| (c, self.get(c)))
    }

    /// Each category divided by `n` (rounded down), e.g. the mean over `n` paths.
    pub fn div(&self, n: u64) -> Self {
        let n = n.max(1) as Duration;
        Self(self.0.map(|d| d / n))
    }
}

/// A goroutine that held a P while a goroutine on the path was runnable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Holder {
    /// The goroutine (running on the P, or in a syscall holding it).
    pub g: GoId,
    /// For how long, summed over the Ps it held during the segment.
    pub time: Duration,
}

/// How the path goes on after a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// On the same goroutine.
    Continue,
    /// The goroutine blocked at the end of the segment; the path goes on with the goroutine
    /// that released it (or the one that released that one, …).
    Blocked,
    /// The goroutine released the next segment's goroutine from a wait.
    Released,
    /// The goroutine created the next segment's goroutine.
    Created,
    /// The last segment of the path.
    End,
}

/// One stretch of a critical path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The goroutine.
    pub g: GoId,
    /// What the time went to.
    pub category: Category,
    /// When the segment starts.
    pub start: Time,
    /// When it ends.
    pub end: Time,
    /// Where the goroutine was: for waits, syscalls and scheduling latency, its stack while
    /// it sat there; for running time, its stack at the end of the segment (where it released
    /// the next goroutine or created it, or else where it next stopped).
    pub stack: StackId,
    /// Why: the block reason of waits, the stop reason of scheduling latency (`preempted`, …),
    /// the kind of STW pauses; empty otherwise.
    pub reason: StrId,
    /// How the path goes on.
    pub next: Link,
}

/// Who held the Ps while a scheduling-latency segment of a path waited for one (see
/// [`CriticalPath::holders`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Contention {
    /// The segment's index.
    segment: u32,
    /// Its holders: `first..last` of the path's holder list.
    first: u32,
    last: u32,
    /// P-time that Ps sat idle meanwhile.
    idle_procs: Duration,
}

impl Segment {
    /// Its length.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

/// What to find the critical path of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// An interval of one goroutine, ending on that goroutine.
    Goroutine {
        /// The goroutine.
        g: GoId,
        /// The start of the interval.
        start: Time,
        /// The end of the interval.
        end: Time,
    },
    /// A user task, by index into [`Timelines::tasks`]: from its end on the goroutine that
    /// ended it, back to its start.
    Task(u32),
    /// A user region, by goroutine and index into its [`regions`](goroscope_trace::timeline::Goroutine::regions).
    Region {
        /// The goroutine.
        g: GoId,
        /// The region's index.
        index: u32,
    },
}

/// The critical path of an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalPath {
    /// What it is the path of.
    pub target: Target,
    /// The start of the interval.
    pub start: Time,
    /// The end of the interval.
    pub end: Time,
    /// The segments, in time order; they tile `[start, end]` exactly.
    pub segments: Vec<Segment>,
    /// Time per category; sums to `end - start`.
    pub totals: CategoryTotals,
    /// The holders of the scheduling-latency segments, by segment index (a side table: a
    /// path through a whole trace has millions of segments, most of them without).
    contention: Vec<Contention>,
    /// Their holder lists, one after another.
    held: Vec<Holder>,
}

/// A critical path in brief: what a report shows of it (its totals, its time per function,
/// the goroutines it passes through and its longest segments), without the segments
/// themselves. A path through a whole trace has millions; [`PathFinder::brief`] walks one
/// without keeping them, and [`CriticalPath::brief`] makes the same brief of a whole path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathBrief {
    /// What it is the path of.
    pub target: Target,
    /// The start of the interval.
    pub start: Time,
    /// The end of the interval.
    pub end: Time,
    /// Time per category; sums to `end - start`.
    pub totals: CategoryTotals,
    /// How many segments the path has.
    pub segment_count: usize,
    /// The goroutines it passes through, sorted.
    pub goroutines: Vec<GoId>,
    /// Time per function, most first ([`CriticalPath::by_site`]).
    pub by_site: Vec<SiteTime>,
    /// Its longest segments (the earlier of equally long ones), as many as were asked
    /// for, in time order, each with its index in [`CriticalPath::segments`].
    pub longest: Vec<(usize, Segment)>,
}

impl PathBrief {
    /// The length of the interval.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

/// A function's share of one or more critical paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteTime {
    /// The function and line ([`site_of`] the segments' stacks).
    pub site: Site,
    /// The time, all categories.
    pub total: Duration,
    /// The time per category.
    pub by_category: CategoryTotals,
}

/// One entry of a [`Profile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileSample {
    /// The stack (innermost frame first in [`Timelines::stacks`]).
    pub stack: StackId,
    /// The category.
    pub category: Category,
    /// How much path time had this stack and category.
    pub time: Duration,
    /// How many segments contributed.
    pub count: u64,
}

/// Critical-path time by (stack, category), as a pprof profile would hold it (one sample per
/// entry, value = time), most time first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// The samples, most time first, then by stack and category.
    pub samples: Vec<ProfileSample>,
}

impl Profile {
    /// The profile of the segments of `paths`, merged.
    pub fn of<'a>(paths: impl IntoIterator<Item = &'a CriticalPath>) -> Self {
        Self::of_times(&site_times(paths))
    }

    fn of_times(by: &SiteTimes) -> Self {
        let mut samples: Vec<ProfileSample> = by
            .iter()
            .map(|(&(stack, category), &(time, count))| ProfileSample {
                stack,
                category,
                time,
                count,
            })
            .collect();
        samples.sort_by(|a, b| {
            b.time
                .cmp(&a.time)
                .then_with(|| a.stack.cmp(&b.stack))
                .then_with(|| a.category.cmp(&b.category))
        });
        Self { samples }
    }

    /// The total time.
    pub fn total(&self) -> Duration {
        self.samples.iter().map(|s| s.time).sum()
    }
}

/// Time per function over the segments of `paths`, most time first (ties by site).
pub fn by_site<'a>(
    t: &Timelines,
    paths: impl IntoIterator<Item = &'a CriticalPath>,
) -> Vec<SiteTime> {
    sites_of_times(t, &site_times(paths))
}

/// Time and segment count per (stack, category) over the segments of `paths`.
fn site_times<'a>(paths: impl IntoIterator<Item = &'a CriticalPath>) -> SiteTimes {
    let mut by = SiteTimes::default();
    for p in paths {
        for s in &p.segments {
            let e = by.entry((s.stack, s.category)).or_default();
            e.0 += s.duration();
            e.1 += 1;
        }
    }
    by
}

/// Time per function of time per (stack, category), most time first (ties by site).
fn sites_of_times(t: &Timelines, times: &SiteTimes) -> Vec<SiteTime> {
    let mut sites: HashMap<StackId, Site> = HashMap::new();
    let mut by: HashMap<Site, CategoryTotals> = HashMap::new();
    #[allow(clippy::iter_over_hash_type)] // Integer sums, sorted below.
    for (&(stack, category), &(time, _)) in times {
        let site = *sites.entry(stack).or_insert_with(|| site_of(t, stack));
        by.entry(site).or_default().add(category, time);
    }
    let mut out: Vec<SiteTime> = by
        .into_iter()
        .map(|(site, by_category)| SiteTime {
            site,
            total: by_category.total(),
            by_category,
        })
        .collect();
    out.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.site.cmp(&b.site)));
    out
}

impl CriticalPath {
    /// The length of the interval.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// Time per function (the [`site_of`] each segment's stack), most time first.
    pub fn by_site(&self, t: &Timelines) -> Vec<SiteTime> {
        by_site(t, [self])
    }

    /// The path as a profile: time by (stack, category).
    pub fn profile(&self) -> Profile {
        Profile::of([self])
    }

    /// The goroutines the path passes through, sorted.
    pub fn goroutines(&self) -> Vec<GoId> {
        // A path through a whole trace has millions of segments on a few goroutines.
        let set: FxHashSet<GoId> = self.segments.iter().map(|s| s.g).collect();
        let mut gs: Vec<GoId> = set.into_iter().collect();
        gs.sort_unstable();
        gs
    }

    /// The path in brief, with its `keep` longest segments (0: all of them).
    pub fn brief(&self, t: &Timelines, keep: usize) -> PathBrief {
        let keep = if keep == 0 { usize::MAX } else { keep };
        let mut heap = std::collections::BinaryHeap::new();
        for (i, s) in self.segments.iter().enumerate() {
            spans::offer(
                &mut heap,
                keep,
                (std::cmp::Reverse(s.duration()), i as u64),
                s,
            );
        }
        let mut longest: Vec<(usize, Segment)> = heap
            .into_iter()
            .map(|l| (l.key.1 as usize, l.segment))
            .collect();
        longest.sort_unstable_by_key(|l| l.0);
        PathBrief {
            target: self.target,
            start: self.start,
            end: self.end,
            totals: self.totals,
            segment_count: self.segments.len(),
            goroutines: self.goroutines(),
            by_site: self.by_site(t),
            longest,
        }
    }

    /// For a scheduling-latency segment (by index in [`CriticalPath::segments`]): the
    /// goroutines that held Ps meanwhile, longest first, and the P-time that Ps sat idle
    /// (lost work conservation). Empty and zero for other segments.
    pub fn holders(&self, segment: usize) -> (&[Holder], Duration) {
        match self
            .contention
            .binary_search_by_key(&segment, |c| c.segment as usize)
        {
            Ok(i) => {
                let c = &self.contention[i];
                (&self.held[c.first as usize..c.last as usize], c.idle_procs)
            }
            Err(_) => (&[], 0),
        }
    }

    fn from_backward(target: Target, start: Time, end: Time, out: Segments) -> Self {
        let Segments {
            mut segments,
            mut contention,
            held,
        } = out;
        segments.reverse();
        contention.reverse();
        let last = segments.len().saturating_sub(1) as u32;
        for c in &mut contention {
            c.segment = last - c.segment;
        }
        let mut totals = CategoryTotals::default();
        for s in &segments {
            totals.add(s.category, s.duration());
        }
        Self {
            target,
            start,
            end,
            segments,
            totals,
            contention,
            held,
        }
    }
}

/// Finds critical paths in one trace's timelines. Cheap to create (it sorts the trace's STW
/// pauses and mark assists); [`Sync`], so one finder serves many threads.
#[derive(Debug)]
pub struct PathFinder<'t> {
    ctx: Context<'t>,
    /// How many of its longest segments a breakdown's slowest path keeps (0: all).
    keep: usize,
}

/// One level of the walk: a goroutine followed back no further than `bound`.
#[derive(Debug, Clone, Copy)]
struct Frame {
    gi: u32,
    bound: Time,
    hint: Option<usize>,
}

impl<'t> PathFinder<'t> {
    /// A finder over `t`.
    pub fn new(t: &'t Timelines) -> Self {
        Self {
            ctx: Context::new(t),
            keep: Self::KEEP,
        }
    }

    /// How many of its longest segments a breakdown's slowest path keeps unless told
    /// otherwise ([`PathFinder::keeping`]): as many as a report shows by default.
    pub const KEEP: usize = 20;

    /// The finder with breakdowns keeping the `keep` longest segments of their slowest
    /// path ([`Slowest::path`]; 0: all of them).
    #[must_use]
    pub fn keeping(mut self, keep: usize) -> Self {
        self.keep = keep;
        self
    }

    /// The timelines.
    pub fn timelines(&self) -> &'t Timelines {
        self.ctx.t
    }

    /// The critical path of `target`, or `None` if the target is not in the trace (an
    /// unknown goroutine, task or region, a task that did not end in the trace, an interval
    /// that ends before it starts). Intervals are clamped to the trace; regions and tasks
    /// that began before the trace start at its start.
    pub fn path(&self, target: Target) -> Option<CriticalPath> {
        let (g, start, end) = self.resolve(target)?;
        let gi = self.ctx.index(g)?;
        let sink = Sink::Segments(Segments::default());
        let Sink::Segments(out) = self.walk(gi, start, end, sink) else {
            unreachable!("the walk returns the sink it was given")
        };
        Some(CriticalPath::from_backward(target, start, end, out))
    }

    /// The critical path of goroutine `g` over `[start, end]`.
    pub fn goroutine(&self, g: GoId, start: Time, end: Time) -> Option<CriticalPath> {
        self.path(Target::Goroutine { g, start, end })
    }

    /// The critical path of the task at `index` in [`Timelines::tasks`].
    pub fn task(&self, index: usize) -> Option<CriticalPath> {
        self.path(Target::Task(u32::try_from(index).ok()?))
    }

    /// The critical path of region `index` of goroutine `g`.
    pub fn region(&self, g: GoId, index: usize) -> Option<CriticalPath> {
        self.path(Target::Region {
            g,
            index: u32::try_from(index).ok()?,
        })
    }

    /// Where a target's path ends and starts: (goroutine at the end, start, end).
    pub fn resolve(&self, target: Target) -> Option<(GoId, Time, Time)> {
        let t = self.ctx.t;
        let (g, start, end) = match target {
            Target::Goroutine { g, start, end } => (g, start, end),
            Target::Task(i) => {
                let task = t.tasks.get(i as usize)?;
                let end = task.interval.end?;
                (task.end_g, task.interval.start.unwrap_or(t.start), end)
            }
            Target::Region { g, index } => {
                let r = t.goroutine(g)?.regions.get(index as usize)?;
                let (s, e) = r.interval.clamped(t.start, t.end);
                (g, s, e)
            }
        };
        let (start, end) = (start.max(t.start), end.min(t.end));
        (start <= end && t.goroutine(g).is_some()).then_some((g, start, end))
    }

    /// The length of `target`'s path and its time per category, without the segments
    /// (cheaper than [`PathFinder::path`]).
    pub fn totals(&self, target: Target) -> Option<(Duration, CategoryTotals)> {
        let (g, start, end) = self.resolve(target)?;
        let gi = self.ctx.index(g)?;
        let sink = Sink::Totals(CategoryTotals::default());
        let Sink::Totals(totals) = self.walk(gi, start, end, sink) else {
            unreachable!("the walk returns the sink it was given")
        };
        Some((end - start, totals))
    }

    /// `target`'s path in brief, with its `keep` longest segments (0: all of them), walked
    /// without keeping its segments or finding the holders of its scheduling latency: the
    /// same as [`CriticalPath::brief`] of [`PathFinder::path`], for a fraction of the
    /// memory.
    pub fn brief(&self, target: Target, keep: usize) -> Option<PathBrief> {
        self.brief_times(target, keep).map(|b| b.0)
    }

    /// [`PathFinder::brief`] with the time and segment count per (stack, category).
    fn brief_times(&self, target: Target, keep: usize) -> Option<(PathBrief, SiteTimes)> {
        let (g, start, end) = self.resolve(target)?;
        let gi = self.ctx.index(g)?;
        let keep = if keep == 0 { usize::MAX } else { keep };
        let sink = Sink::Brief(Brief::new(keep));
        let Sink::Brief(b) = self.walk(gi, start, end, sink) else {
            unreachable!("the walk returns the sink it was given")
        };
        let n = b.count;
        let mut longest: Vec<(usize, Segment)> = b
            .longest
            .into_iter()
            // Counted from the latest: `u64::MAX - k` is the k-th from the end.
            .map(|l| ((n - 1 - (u64::MAX - l.key.1)) as usize, l.segment))
            .collect();
        longest.sort_unstable_by_key(|l| l.0);
        let mut goroutines: Vec<GoId> = b.goroutines.into_iter().collect();
        goroutines.sort_unstable();
        let mut totals = CategoryTotals::default();
        #[allow(clippy::iter_over_hash_type)] // Integer sums: any order gives the same.
        for (&(_, category), &(time, _)) in &b.times {
            totals.add(category, time);
        }
        let brief = PathBrief {
            target,
            start,
            end,
            totals,
            segment_count: n as usize,
            goroutines,
            by_site: sites_of_times(self.ctx.t, &b.times),
            longest,
        };
        Some((brief, b.times))
    }

    /// The time and segment count per (stack, category) of `target`'s path, without
    /// keeping its segments or finding holders.
    fn site_times(&self, target: Target) -> Option<SiteTimes> {
        let (g, start, end) = self.resolve(target)?;
        let gi = self.ctx.index(g)?;
        let sink = Sink::Profile(SiteTimes::default());
        let Sink::Profile(times) = self.walk(gi, start, end, sink) else {
            unreachable!("the walk returns the sink it was given")
        };
        Some(times)
    }

    /// The backward walk, emitting segments latest first into `out`.
    fn walk(&self, gi: u32, start: Time, end: Time, mut out: Sink) -> Sink {
        let ctx = &self.ctx;
        let mut spans = SpanReader::new(ctx.t);
        let mut frames: Vec<Frame> = Vec::new();
        let mut cur = Frame {
            gi,
            bound: start,
            hint: None,
        };
        let mut t = end;
        let mut link = Link::End;
        let mut end_stack = None;
        loop {
            spans.trim();
            if t <= cur.bound {
                let Some(f) = frames.pop() else { break };
                cur = f;
                link = Link::Blocked;
                end_stack = None;
                continue;
            }
            let Some(i) = spans.locate(cur.gi, t, cur.hint) else {
                // Before the goroutine's first span: its creation, or unknown.
                if let Some(ci) = ctx.creator(&mut spans, cur.gi, t) {
                    end_stack = Some(ctx.goroutine(cur.gi).creation_stack);
                    cur = Frame {
                        gi: ci,
                        bound: cur.bound,
                        hint: None,
                    };
                    link = Link::Created;
                    continue;
                }
                let piece = Piece {
                    gi: cur.gi,
                    span: None,
                    start: cur.bound,
                    end: t,
                    end_stack,
                    next: link,
                };
                ctx.emit(&mut spans, &piece, &mut out);
                t = cur.bound;
                link = Link::Continue;
                end_stack = None;
                continue;
            };
            cur.hint = Some(i);
            let (span, span_end) = spans.get_with_end(cur.gi, i);
            let a = span.time.max(cur.bound);
            if span.state == goroscope_trace::GoState::Waiting
                && t == span_end
                && let Wake::Goroutine { gi: wi, stack, .. } = ctx.wake(&mut spans, cur.gi, i)
            {
                frames.push(cur);
                cur = Frame {
                    gi: wi,
                    bound: a,
                    hint: None,
                };
                link = Link::Released;
                end_stack = Some(stack);
                continue;
            }
            let piece = Piece {
                gi: cur.gi,
                span: Some(i),
                start: a,
                end: t,
                end_stack,
                next: link,
            };
            ctx.emit(&mut spans, &piece, &mut out);
            t = a;
            link = Link::Continue;
            end_stack = None;
        }
        out
    }
}
