//! Timelines: what the analyses and the viewer look at.
//!
//! Built in one pass over the ordered event stream ([`Builder`], [`build`]):
//! - per goroutine: state spans (state, reason, stack, P and thread, who unblocked it and
//!   from where), creation site and creator, start function, regions, mark assists;
//! - per P: spans of what it ran (a goroutine, the scheduler, a syscall) and when it was
//!   idle; its sweeps;
//! - per thread (M): the P and goroutine it held;
//! - GC mark phases, stop-the-world pauses with their kind;
//! - the task tree, logs, labels, CPU samples;
//! - metric series (heap, heap goal, GOMAXPROCS) and the number of goroutines in each state
//!   and of busy threads over time;
//! - the wall-clock mapping from clock snapshots (Go 1.25+).
//!
//! Spans are stored compressed in [`Lane`]s; strings and stacks are trace-wide
//! ([`StrId`], [`StackId`]).

mod build;
mod intern;
mod lane;
mod procs;
mod records;

pub use build::{Builder, Pipeline, build};
pub use intern::{Frame, StackId, Stacks, StrId, Strings};
pub use lane::{CHUNK, Lane, LaneIter, Record, RecordBytes};
pub use records::{
    Counts, GoSpan, NO_THREAD_INDEX, Point, ProcActivity, ProcSpan, Sweeps, ThreadSpan,
};

use crate::event::{GoId, ProcId, TaskId, ThreadId, Time};

/// An interval of time; `start` or `end` is `None` when it lies outside the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interval {
    /// When it began, if seen.
    pub start: Option<Time>,
    /// When it ended, if seen.
    pub end: Option<Time>,
}

impl Interval {
    /// The interval clamped to `[trace_start, trace_end]`.
    pub fn clamped(&self, trace_start: Time, trace_end: Time) -> (Time, Time) {
        (
            self.start.unwrap_or(trace_start),
            self.end.unwrap_or(trace_end),
        )
    }
}

/// A goroutine and everything that happened to it.
#[derive(Debug, Clone)]
pub struct Goroutine {
    /// Its ID.
    pub id: GoId,
    /// When it was created, if in the trace.
    pub created: Option<Time>,
    /// The goroutine that created it, or -1.
    pub creator: GoId,
    /// The creator's stack at the `go` statement.
    pub creation_stack: StackId,
    /// Its entry frame (the function the `go` statement started).
    pub start_stack: StackId,
    /// Its name as Go's tools name it: the outermost frame of the first stack seen for it
    /// (the start function for goroutines created in the trace).
    pub name: StrId,
    /// When it exited, if in the trace.
    pub ended: Option<Time>,
    /// Its state spans.
    pub spans: Lane<GoSpan>,
    /// Its user regions, in begin order.
    pub regions: Vec<Region>,
    /// Its GC mark assists.
    pub assists: Vec<Interval>,
    /// Whether it is a GC worker (labelled `GC (…)` by the runtime).
    pub gc_worker: bool,
}

/// A P's timeline.
#[derive(Debug, Clone)]
pub struct Proc {
    /// Its ID.
    pub id: ProcId,
    /// What it did over time.
    pub spans: Lane<ProcSpan>,
    /// Its incremental sweeps, with bytes swept and reclaimed (when the end was seen).
    pub sweeps: Sweeps,
}

/// A thread's timeline.
#[derive(Debug, Clone)]
pub struct Thread {
    /// Its ID (the OS thread ID in Go 1.22+ traces).
    pub id: ThreadId,
    /// The P and goroutine it held over time.
    pub spans: Lane<ThreadSpan>,
}

/// An incremental sweep on a P.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sweep {
    /// When.
    pub interval: Interval,
    /// The goroutine that swept, or -1.
    pub g: GoId,
    /// Bytes swept.
    pub swept: u64,
    /// Bytes reclaimed.
    pub reclaimed: u64,
}

/// A stop-the-world pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stw {
    /// When.
    pub interval: Interval,
    /// Why (`GC mark termination`, `GOMAXPROCS`, …).
    pub kind: StrId,
    /// The goroutine that stopped the world.
    pub g: GoId,
    /// Its stack.
    pub stack: StackId,
}

/// A user task (`trace.NewTask`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Its ID.
    pub id: TaskId,
    /// Its parent, if it has one.
    pub parent: Option<TaskId>,
    /// Its type name.
    pub kind: StrId,
    /// When it began and ended.
    pub interval: Interval,
    /// The goroutine that began it, or -1.
    pub start_g: GoId,
    /// The goroutine that ended it, or -1.
    pub end_g: GoId,
    /// Where it began.
    pub start_stack: StackId,
    /// Its children, in begin order (indexes into [`Timelines::tasks`]).
    pub children: Vec<u32>,
}

/// A user region (`trace.WithRegion`, `trace.StartRegion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// The task it belongs to (0 for none).
    pub task: TaskId,
    /// Its type name.
    pub kind: StrId,
    /// When it began and ended.
    pub interval: Interval,
    /// How many regions of the goroutine enclose it.
    pub depth: u16,
    /// Where it began.
    pub stack: StackId,
}

/// A user log message (`trace.Log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Log {
    /// When.
    pub time: Time,
    /// The goroutine that logged it.
    pub g: GoId,
    /// The task (0 for none).
    pub task: TaskId,
    /// The category.
    pub category: StrId,
    /// The message.
    pub message: StrId,
    /// Where.
    pub stack: StackId,
}

/// A goroutine label (the runtime labels GC workers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    /// When.
    pub time: Time,
    /// The goroutine.
    pub g: GoId,
    /// The label.
    pub label: StrId,
}

/// A CPU profile sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSample {
    /// When.
    pub time: Time,
    /// The goroutine, or -1.
    pub g: GoId,
    /// The P, or -1.
    pub p: ProcId,
    /// The thread ID.
    pub m: ThreadId,
    /// The stack.
    pub stack: StackId,
}

/// A clock snapshot: the same instant on the trace clock and the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSync {
    /// The trace time (ns).
    pub trace: Time,
    /// Wall-clock nanoseconds since the Unix epoch.
    pub wall_ns: i128,
}

/// Metric series.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Live heap bytes (`/memory/classes/heap/objects:bytes`).
    pub heap_alloc: Lane<Point>,
    /// The heap goal (`/gc/heap/goal:bytes`).
    pub heap_goal: Lane<Point>,
    /// GOMAXPROCS.
    pub gomaxprocs: Lane<Point>,
    /// Goroutines per state and busy threads, coalesced to at most one point per
    /// [`Metrics::counts_resolution`].
    pub counts: Lane<Counts>,
    /// The coalescing window of `counts`, in ns.
    pub counts_resolution: i64,
}

/// All timelines of a trace.
#[derive(Debug, Clone, Default)]
pub struct Timelines {
    /// The time of the first event.
    pub start: Time,
    /// The time of the last event.
    pub end: Time,
    /// Trace-wide strings.
    pub strings: Strings,
    /// Trace-wide stacks.
    pub stacks: Stacks,
    /// Goroutines, by ID.
    pub goroutines: Vec<Goroutine>,
    /// Ps, by ID.
    pub procs: Vec<Proc>,
    /// Threads, in order of first appearance (span `m` fields index this).
    pub threads: Vec<Thread>,
    /// GC mark phases, in order.
    pub gc: Vec<Interval>,
    /// Stop-the-world pauses, in order.
    pub stw: Vec<Stw>,
    /// User tasks, in begin order (tasks already running at trace start come first).
    pub tasks: Vec<Task>,
    /// User logs, in order.
    pub logs: Vec<Log>,
    /// Goroutine labels, in order.
    pub labels: Vec<Label>,
    /// CPU samples, in order.
    pub cpu_samples: Vec<CpuSample>,
    /// Metric series.
    pub metrics: Metrics,
    /// Clock snapshots, in order (Go 1.25+).
    pub clock: Vec<ClockSync>,
}

impl Timelines {
    /// The goroutine with `id`.
    pub fn goroutine(&self, id: GoId) -> Option<&Goroutine> {
        self.goroutine_index(id).map(|i| &self.goroutines[i])
    }

    /// The index in [`Timelines::goroutines`] of the goroutine with `id`.
    pub fn goroutine_index(&self, id: GoId) -> Option<usize> {
        self.goroutines.binary_search_by_key(&id, |g| g.id).ok()
    }

    /// The P with `id`.
    pub fn proc(&self, id: ProcId) -> Option<&Proc> {
        self.procs
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &self.procs[i])
    }

    /// The P and goroutine thread `m` (an index into [`Timelines::threads`]) held at time
    /// `t`.
    pub fn thread_goroutine(&self, m: u32, t: Time) -> (ProcId, GoId) {
        let Some(thread) = self.threads.get(m as usize) else {
            return (-1, -1);
        };
        let Some(span) = thread.spans.index_at(t).and_then(|i| thread.spans.get(i)) else {
            return (-1, -1);
        };
        if span.p < 0 {
            return (-1, span.g);
        }
        let g = self
            .proc(span.p)
            .and_then(|p| p.spans.index_at(t).and_then(|i| p.spans.get(i)))
            .filter(|ps| ps.m == m)
            .map_or(-1, |ps| ps.g);
        (span.p, g)
    }

    /// The wall-clock time (ns since the Unix epoch) of trace time `t`, from the nearest
    /// clock snapshot at or before it (or the first one).
    pub fn wall_clock(&self, t: Time) -> Option<i128> {
        let i = self.clock.partition_point(|c| c.trace <= t);
        let c = self.clock.get(i.saturating_sub(1))?;
        Some(c.wall_ns + i128::from(t - c.trace))
    }

    /// Approximate heap bytes used by the timelines.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let g: usize = self
            .goroutines
            .iter()
            .map(|g| {
                size_of::<Goroutine>()
                    + g.spans.heap_bytes()
                    + g.regions.capacity() * size_of::<Region>()
                    + g.assists.capacity() * size_of::<Interval>()
            })
            .sum();
        let p: usize = self
            .procs
            .iter()
            .map(|p| p.spans.heap_bytes() + p.sweeps.heap_bytes())
            .sum();
        let m: usize = self.threads.iter().map(|t| t.spans.heap_bytes()).sum();
        g + p
            + m
            + self.metrics.heap_alloc.heap_bytes()
            + self.metrics.heap_goal.heap_bytes()
            + self.metrics.counts.heap_bytes()
            + self.cpu_samples.capacity() * size_of::<CpuSample>()
            + self.logs.capacity() * size_of::<Log>()
    }
}
