//! Per-goroutine execution statistics, user tasks and regions: Go's
//! `internal/trace.Summarizer` (Go 1.27 `summary.go`), with the same numbers.
//!
//! Feed every event of the stream, in order, to [`Summarizer::event`], then call
//! [`Summarizer::finalize`]; or let [`summarize`] drive an [`EventStream`]. The result is a
//! [`Summary`]: one [`GoroutineSummary`] per goroutine, one [`TaskSummary`] per user task,
//! and the [`RegionSummary`]s both refer to. [`Summary::groups`] groups goroutines by their
//! start function as `go tool trace`'s Goroutines page does, with percentiles added.
//!
//! # Go's quirks, kept on purpose
//!
//! The numbers are Go's, including where Go's are debatable, so that `goroscope` and
//! `go tool trace` never disagree. Each quirk is documented where it shows:
//!
//! - A goroutine first seen in a status event (state *Undetermined* before it) is credited
//!   with the time since the last Sync in its first known state. For *Waiting* that time is
//!   keyed by the reason `""` (status events carry no reason), so `block_time_by_reason`
//!   has a `""` entry. See [`ExecStats::block_time_by_reason`].
//! - Blocking with the reason `"forever"` (e.g. `select {}`) counts as the goroutine's end:
//!   its [`GoroutineSummary::end_time`] is set and its open regions are closed there.
//! - At a snapshot (a region boundary or the trace end), a goroutine still in a syscall that
//!   has lost its P has the blocked part added to [`ExecStats::syscall_time`] *and* to
//!   [`ExecStats::sched_wait_time`], not to [`ExecStats::syscall_block_time`] as a real exit
//!   would do. The blocked part is therefore counted twice.
//! - [`GoroutineSummary::name`] is the outermost frame of the first non-empty stack seen in
//!   one of the goroutine's transitions. For goroutines running when the trace started, that
//!   is wherever their stack happened to be rooted, usually their start function.
//! - System goroutines ([`is_system_goroutine`]) never keep regions, even the ones they
//!   inherit from their creator.
//! - A region end closes the innermost open region of the goroutine whatever its name (the
//!   reader already rejects the mismatches it can see); an end with no open region makes up
//!   a region with no start.
//! - A goroutine created while its creator is inside a region starts with a synthetic region
//!   named `""` in the same task, whose start is the creation event.
//! - [`Summarizer::finalize`] finalizes every goroutine again, including those that already
//!   ended; this only matters for a goroutine whose total time was 0, which is then
//!   recomputed up to the end of the trace.
//! - Regions are sorted by start time, regions without a start first, with Go's own unstable
//!   sort, so even ties come out in Go's order.
//! - [`ExecStats::unknown_time`] is clamped at 0; [`ExecStats::non_overlapping_stats`]
//!   merges a block reason named `syscall` into the `Block time (syscall)` label.
//!
//! Where Go would panic (a region event or a state change of a goroutine it never saw, a
//! range begun on a goroutine that already ended), the event is skipped, or the range
//! recorded, without panicking; no real trace we know of does that.
//!
//! # Cost
//!
//! One pass, no allocation per event: goroutine state lives in a vector indexed through a
//! dense ID map, and reasons, range and region names are interned once per string ID of a
//! generation, so the hot path compares `u32`s. On a loaded 2-core machine the summary's own
//! work is about 15 ns per event (0.8 s for the 56M events of a 285 MB trace, which takes
//! 3 s to read); `examples/summarize.rs` measures it.

use std::collections::BTreeMap;
use std::sync::Arc;

use goroscope_trace::event::{
    EventKind, GoId, NO_PROC, NO_TASK, ProcId, Resource, Scope, StackRef, StateTransition,
    StringRef, TaskId, Time,
};
use goroscope_trace::{Event, EventStream, GoState, ProcState, Tables};

use crate::gosort;
use crate::idmap::{FxHashMap, IdMap};
use crate::intern::{EMPTY, Interner, Sym, SymCache};
use crate::pass::{Facts, with_facts};

mod group;

pub use group::{Distribution, GoroutineGroup};

/// A duration in nanoseconds, as Go's `time.Duration`.
pub type Duration = i64;

/// Whether a goroutine with this start function is a runtime goroutine, as Go's
/// `trace.IsSystemGoroutine` decides: no name, or a name starting with `runtime.` other than
/// `runtime.main`.
pub fn is_system_goroutine(name: &str) -> bool {
    is_system_goroutine_bytes(name.as_bytes())
}

fn is_system_goroutine_bytes(name: &[u8]) -> bool {
    name.is_empty() || (name != b"runtime.main" && name.starts_with(b"runtime."))
}

/// Where a goroutine's time went (Go's `GoroutineExecStats`).
///
/// The first five fields do not overlap; [`ExecStats::total_time`] and
/// [`ExecStats::range_time`] overlap them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecStats {
    /// Time running on a P.
    pub exec_time: Duration,
    /// Time runnable, waiting for a P. Includes Go's double count of a still-blocked
    /// syscall at a snapshot (see the [module docs](self)).
    pub sched_wait_time: Duration,
    /// Time blocked, by reason (`chan receive`, `sync`, `sleep`, …). The `""` reason is
    /// real: it is time spent blocked before the goroutine's first event, when only its
    /// status was known.
    pub block_time_by_reason: BTreeMap<Arc<str>, Duration>,
    /// Time in syscalls while holding the P, and the part of blocked syscalls before the P
    /// was lost.
    pub syscall_time: Duration,
    /// Time in syscalls after the P was lost (taken by another thread or stopped).
    pub syscall_block_time: Duration,
    /// Time from creation (or the first Sync it was seen in) to the end of the goroutine or
    /// of the trace.
    pub total_time: Duration,
    /// Time in ranges (`GC mark assist`, `GC incremental sweep`,
    /// `stop-the-world (…)`), by range name; overlaps the other stats.
    pub range_time: BTreeMap<Arc<str>, Duration>,
}

impl ExecStats {
    /// The total blocked time over all reasons.
    pub fn block_time(&self) -> Duration {
        self.block_time_by_reason
            .values()
            .fold(0, |a, &d| a.wrapping_add(d))
    }

    /// What [`ExecStats::total_time`] has that the non-overlapping stats do not account for,
    /// or 0 if they add up to more (Go's `UnknownTime`).
    pub fn unknown_time(&self) -> Duration {
        let sum = self
            .exec_time
            .wrapping_add(self.sched_wait_time)
            .wrapping_add(self.syscall_time)
            .wrapping_add(self.syscall_block_time)
            .wrapping_add(self.block_time());
        if sum < self.total_time {
            self.total_time - sum
        } else {
            0
        }
    }

    /// The stats `go tool trace` shows per goroutine, with its labels, in its order
    /// (`Execution time` first, then by label): Go's `NonOverlappingStats`.
    ///
    /// Each block reason becomes `Block time (<reason>)`. As in Go, a reason named `syscall`
    /// lands on the same label as [`ExecStats::syscall_block_time`] and the two are added.
    pub fn non_overlapping_stats(&self) -> Vec<(String, Duration)> {
        let mut stats: BTreeMap<String, Duration> = BTreeMap::new();
        stats.insert("Sched wait time".into(), self.sched_wait_time);
        stats.insert("Syscall execution time".into(), self.syscall_time);
        stats.insert("Block time (syscall)".into(), self.syscall_block_time);
        stats.insert("Unknown time".into(), self.unknown_time());
        for (reason, &d) in &self.block_time_by_reason {
            let v = stats.entry(format!("Block time ({reason})")).or_insert(0);
            *v = v.wrapping_add(d);
        }
        let mut out = vec![("Execution time".to_owned(), self.exec_time)];
        out.extend(stats);
        out
    }
}

/// The index of a region in [`Summary::regions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionId(pub u32);

/// One goroutine (Go's `GoroutineSummary`).
#[derive(Debug, Clone, PartialEq)]
pub struct GoroutineSummary {
    /// The goroutine ID.
    pub id: GoId,
    /// Its start function, as far as the trace shows it (see the [module docs](self)); empty
    /// if no stack was ever seen.
    pub name: Arc<str>,
    /// The PC of the frame the name was taken from; 0 if none.
    pub pc: u64,
    /// When it was created, or the time of the Sync before its first event if it existed
    /// before.
    pub creation_time: Time,
    /// When it first ran; 0 if never.
    pub start_time: Time,
    /// When it exited (or blocked forever); 0 if it did not.
    pub end_time: Time,
    /// Where its time went.
    pub stats: ExecStats,
    /// Its regions in [`Summary::regions`], sorted by start time, regions without a start
    /// first.
    pub regions: Vec<RegionId>,
}

/// A user region on one goroutine (Go's `UserRegionSummary`).
#[derive(Debug, Clone, PartialEq)]
pub struct RegionSummary {
    /// The task the region belongs to
    /// ([`BACKGROUND_TASK`](goroscope_trace::event::BACKGROUND_TASK) if none).
    pub task: TaskId,
    /// The region's name; `""` for the synthetic region a goroutine inherits from its
    /// creator.
    pub name: Arc<str>,
    /// The goroutine it ran on. (Not in Go's summary; Go keeps the region in the
    /// goroutine's list only.)
    pub goroutine: GoId,
    /// The region-begin event; for an inherited region the goroutine's creation event;
    /// `None` if the region began before the trace.
    pub start: Option<Event>,
    /// The region-end event; for a region still open when the goroutine ended, that end
    /// event; `None` if open at the end of the trace.
    pub end: Option<Event>,
    /// The goroutine's stats during the region. For a region that never reached a
    /// goroutine's list (open on a system goroutine, or on a goroutine whose summary was
    /// replaced) these are, as in Go, the stats *at its start*.
    pub stats: ExecStats,
}

/// A user task (Go's `UserTaskSummary`).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSummary {
    /// The task ID.
    pub id: TaskId,
    /// The task's type name (from its end event if that came last, which is `""` when the
    /// begin was not in the trace).
    pub name: Arc<str>,
    /// The parent task, if known.
    pub parent: Option<TaskId>,
    /// The child tasks, in the order they were first linked.
    pub children: Vec<TaskId>,
    /// The task-begin event, if in the trace.
    pub start: Option<Event>,
    /// The task-end event, if in the trace.
    pub end: Option<Event>,
    /// The log events of the task, in trace order (resolve them with the reader's
    /// [`Tables`] and [`Event::log`]).
    pub logs: Vec<Event>,
    /// The regions of the task, in the order they began (or ended, for regions without a
    /// begin). Inherited regions are not listed.
    pub regions: Vec<RegionId>,
    /// The goroutines that began, ended or logged in the task or ran one of its regions,
    /// sorted. May include an ID with no [`GoroutineSummary`] (such as −1 for an event
    /// outside any goroutine), as Go's map does.
    pub goroutines: Vec<GoId>,
}

impl TaskSummary {
    /// Whether both the begin and the end of the task are in the trace.
    pub fn complete(&self) -> bool {
        self.start.is_some() && self.end.is_some()
    }
}

/// The result of summarising a trace (Go's `Summary`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Every goroutine, sorted by ID.
    pub goroutines: Vec<GoroutineSummary>,
    /// Every task mentioned, sorted by ID (the background task 0 appears when used).
    pub tasks: Vec<TaskSummary>,
    /// Every region, referred to by [`RegionId`] from goroutines and tasks.
    pub regions: Vec<RegionSummary>,
}

impl Summary {
    /// The summary of goroutine `id`.
    pub fn goroutine(&self, id: GoId) -> Option<&GoroutineSummary> {
        let i = self.goroutines.binary_search_by_key(&id, |g| g.id).ok()?;
        Some(&self.goroutines[i])
    }

    /// The summary of task `id`.
    pub fn task(&self, id: TaskId) -> Option<&TaskSummary> {
        let i = self.tasks.binary_search_by_key(&id, |t| t.id).ok()?;
        Some(&self.tasks[i])
    }

    /// A region.
    pub fn region(&self, id: RegionId) -> &RegionSummary {
        &self.regions[id.0 as usize]
    }

    /// The regions of a goroutine or task, in its order.
    pub fn regions_of<'s>(
        &'s self,
        ids: &'s [RegionId],
    ) -> impl Iterator<Item = &'s RegionSummary> + 's {
        ids.iter().map(|&id| self.region(id))
    }

    /// Task `id` followed by all its descendants, depth first (Go's `Descendents`).
    pub fn descendants(&self, id: TaskId) -> Vec<&TaskSummary> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            if let Some(t) = self.task(id) {
                out.push(t);
                stack.extend(t.children.iter().rev());
            }
        }
        out
    }
}

/// Summarises every event `stream` yields (a trace of any version). A reader error ends the
/// stream; it is returned beside the summary of the events before it, as `go tool trace`
/// keeps them.
pub fn summarize(stream: &mut EventStream<'_>) -> (Summary, Option<goroscope_trace::Error>) {
    let mut s = Summarizer::new();
    let error = stream.for_each_event(|ev, tables| s.event(ev, tables));
    (s.finalize(), error)
}

/// Go's maps from a name to a duration or a time, as small vectors: a goroutine sees only a
/// handful of reasons and ranges.
type SymMap = Vec<(Sym, i64)>;

#[inline]
fn sym_add(m: &mut SymMap, k: Sym, d: i64) {
    match m.iter_mut().find(|e| e.0 == k) {
        Some(e) => e.1 = e.1.wrapping_add(d),
        None => m.push((k, d)),
    }
}

#[inline]
fn sym_get(m: &SymMap, k: Sym) -> i64 {
    m.iter().find(|e| e.0 == k).map_or(0, |e| e.1)
}

#[inline]
fn sym_set(m: &mut SymMap, k: Sym, v: i64) {
    match m.iter_mut().find(|e| e.0 == k) {
        Some(e) => e.1 = v,
        None => m.push((k, v)),
    }
}

fn sym_remove(m: &mut SymMap, k: Sym) {
    if let Some(i) = m.iter().position(|e| e.0 == k) {
        m.swap_remove(i);
    }
}

/// [`ExecStats`] while they are being computed. (`repr(C)`: the counters the hot path
/// updates come first.)
#[derive(Debug, Clone, Default)]
#[repr(C)]
struct RawStats {
    exec: i64,
    sched_wait: i64,
    syscall: i64,
    syscall_block: i64,
    total: i64,
    block: SymMap,
    range: SymMap,
}

impl RawStats {
    /// `self - v` over the keys of `self` (Go's `sub`).
    fn sub(&self, v: &Self) -> Self {
        let mut r = self.clone();
        r.exec = r.exec.wrapping_sub(v.exec);
        r.sched_wait = r.sched_wait.wrapping_sub(v.sched_wait);
        for e in &mut r.block {
            e.1 = e.1.wrapping_sub(sym_get(&v.block, e.0));
        }
        r.syscall = r.syscall.wrapping_sub(v.syscall);
        r.syscall_block = r.syscall_block.wrapping_sub(v.syscall_block);
        r.total = r.total.wrapping_sub(v.total);
        for e in &mut r.range {
            e.1 = e.1.wrapping_sub(sym_get(&v.range, e.0));
        }
        r
    }

    fn output(&self, texts: &[Arc<str>]) -> ExecStats {
        let map = |m: &SymMap| {
            let mut out: BTreeMap<Arc<str>, Duration> = BTreeMap::new();
            for &(k, d) in m {
                let v = out.entry(texts[k as usize].clone()).or_insert(0);
                *v = v.wrapping_add(d);
            }
            out
        };
        ExecStats {
            exec_time: self.exec,
            sched_wait_time: self.sched_wait,
            block_time_by_reason: map(&self.block),
            syscall_time: self.syscall,
            syscall_block_time: self.syscall_block,
            total_time: self.total,
            range_time: map(&self.range),
        }
    }
}

/// A goroutine while its summary is being computed: Go's `GoroutineSummary` and its private
/// `goroutineSummary` part (the `last_*` fields, zeroed when the goroutine is finalized).
///
/// `repr(C)` keeps what a transition between running, runnable and waiting touches in the
/// first cache line (up to `stats.sched_wait`); syscalls touch the third one too.
#[derive(Debug, Clone)]
#[repr(C, align(64))]
struct GoroutineState {
    name: Sym,
    last_block_reason: Sym,
    last_start: Time,
    last_runnable: Time,
    last_block: Time,
    start: Time,
    stats: RawStats,
    last_syscall: Time,
    last_syscall_block: Time,

    id: GoId,
    pc: u64,
    creation: Time,
    end: Time,
    regions: Vec<u32>,
    last_range: SymMap,
    active_regions: Vec<u32>,
}

impl GoroutineState {
    fn new(id: GoId, creation: Time) -> Self {
        Self {
            id,
            name: EMPTY,
            pc: 0,
            creation,
            start: 0,
            end: 0,
            stats: RawStats::default(),
            regions: Vec::new(),
            last_start: 0,
            last_runnable: 0,
            last_block: 0,
            last_block_reason: EMPTY,
            last_syscall: 0,
            last_syscall_block: 0,
            last_range: Vec::new(),
            active_regions: Vec::new(),
        }
    }

    /// The stats as of `t`, with the pending intervals added (Go's `snapshotStat`).
    fn snapshot(&self, t: Time) -> RawStats {
        let mut ret = self.stats.clone();
        if self.stats.total == 0 {
            ret.total = t.wrapping_sub(self.creation);
        }
        if self.last_start != 0 {
            ret.exec = ret.exec.wrapping_add(t.wrapping_sub(self.last_start));
        }
        if self.last_runnable != 0 {
            ret.sched_wait = ret
                .sched_wait
                .wrapping_add(t.wrapping_sub(self.last_runnable));
        }
        if self.last_block != 0 {
            sym_add(
                &mut ret.block,
                self.last_block_reason,
                t.wrapping_sub(self.last_block),
            );
        }
        if self.last_syscall != 0 {
            ret.syscall = ret.syscall.wrapping_add(t.wrapping_sub(self.last_syscall));
        }
        if self.last_syscall_block != 0 {
            // Go's quirk: the blocked part of a pending syscall goes to sched wait, on top of
            // the syscall time above.
            ret.sched_wait = ret
                .sched_wait
                .wrapping_add(t.wrapping_sub(self.last_syscall_block));
        }
        for &(name, ts) in &self.last_range {
            sym_add(&mut ret.range, name, t.wrapping_sub(ts));
        }
        ret
    }
}

/// A region while being computed.
#[derive(Debug, Clone)]
struct RawRegion {
    task: TaskId,
    name: Sym,
    goroutine: GoId,
    start: Option<Event>,
    end: Option<Event>,
    stats: RawStats,
}

/// A task while being computed.
#[derive(Debug, Clone)]
struct RawTask {
    id: TaskId,
    name: Sym,
    parent: Option<TaskId>,
    children: Vec<TaskId>,
    start: Option<Event>,
    end: Option<Event>,
    logs: Vec<Event>,
    regions: Vec<u32>,
    goroutines: Vec<GoId>,
}

impl RawTask {
    fn add_goroutine(&mut self, g: GoId) {
        if self.goroutines.last() != Some(&g) {
            self.goroutines.push(g);
        }
    }
}

/// Builds a [`Summary`] from the event stream (Go's `Summarizer`).
#[derive(Debug, Clone)]
pub struct Summarizer {
    goroutines: Vec<GoroutineState>,
    /// Goroutine ID → index in `goroutines`.
    index: IdMap<Option<u32>>,
    tasks: Vec<RawTask>,
    task_index: FxHashMap<TaskId, u32>,
    regions: Vec<RawRegion>,
    /// Go's `syscallingP`: the goroutine in a syscall on each P.
    syscalling_p: IdMap<Option<GoId>>,
    /// Go's `syscallingG`: the P each goroutine entered its syscall on.
    syscalling_g: IdMap<Option<ProcId>>,
    /// Go's `rangesP`: the goroutine a P-scoped range was attributed to.
    ranges_p: FxHashMap<(ProcId, Sym), GoId>,
    last_ts: Time,
    sync_ts: Time,

    interner: Interner,
    strings: SymCache,
    stw_names: SymCache,
    forever: Sym,
    gc_mark: Sym,
    gc_sweep: Sym,
    gc_assist: Sym,
}

impl Default for Summarizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Summarizer {
    /// An empty summarizer.
    pub fn new() -> Self {
        let mut interner = Interner::default();
        let forever = interner.intern(b"forever");
        let gc_mark = interner.intern(b"GC concurrent mark phase");
        let gc_sweep = interner.intern(b"GC incremental sweep");
        let gc_assist = interner.intern(b"GC mark assist");
        Self {
            goroutines: Vec::new(),
            index: IdMap::default(),
            tasks: Vec::new(),
            task_index: FxHashMap::default(),
            regions: Vec::new(),
            syscalling_p: IdMap::default(),
            syscalling_g: IdMap::default(),
            ranges_p: FxHashMap::default(),
            last_ts: 0,
            sync_ts: 0,
            interner,
            strings: SymCache::default(),
            stw_names: SymCache::default(),
            forever,
            gc_mark,
            gc_sweep,
            gc_assist,
        }
    }

    /// Feeds the next event of the stream; `tables` are the reader's (for strings and
    /// stacks).
    pub fn event(&mut self, ev: &Event, tables: &Tables<'_>) {
        with_facts(ev, |facts| self.step(ev, facts, tables));
    }

    /// [`Summarizer::event`] with the event's facts worked out already.
    #[inline]
    pub(crate) fn step(&mut self, ev: &Event, facts: Facts<'_>, tables: &Tables<'_>) {
        if self.sync_ts == 0 {
            self.sync_ts = ev.time;
        }
        self.last_ts = ev.time;
        match facts.kind {
            EventKind::StateTransition => {
                if let Some(st) = facts.transition {
                    self.transition(ev, st, tables);
                }
            }
            EventKind::Sync => self.sync_ts = ev.time,
            kind => self.other_event(ev, kind, tables),
        }
    }

    /// An event of any other kind than a transition or a Sync (out of line: they are few).
    #[inline(never)]
    fn other_event(&mut self, ev: &Event, kind: EventKind, tables: &Tables<'_>) {
        match kind {
            EventKind::RangeBegin => self.range_begin(ev, false, tables),
            EventKind::RangeActive => self.range_begin(ev, true, tables),
            EventKind::RangeEnd => self.range_end(ev, tables),
            EventKind::RegionBegin => self.region_begin(ev, tables),
            EventKind::RegionEnd => self.region_end(ev, tables),
            EventKind::TaskBegin | EventKind::TaskEnd => self.task_event(ev, tables),
            EventKind::Log => {
                if let Some((task, _, _)) = ev.log() {
                    let t = self.task_slot(task);
                    let task = &mut self.tasks[t];
                    task.add_goroutine(ev.ctx.g);
                    task.logs.push(*ev);
                }
            }
            _ => {}
        }
    }

    #[inline]
    fn slot(&self, id: GoId) -> Option<usize> {
        self.index.get(id).map(|s| s as usize)
    }

    #[inline]
    fn string(&mut self, r: StringRef, tables: &Tables<'_>) -> Sym {
        let interner = &mut self.interner;
        self.strings.get(r, || interner.intern(tables.string(r)))
    }

    /// The interned name of a range event (as Go's `Range().Name`).
    fn range_name(&mut self, ev: &Event, tables: &Tables<'_>) -> Sym {
        use goroscope_format::v2::EventType as T;
        match ev.ty {
            T::STW_BEGIN | T::STW_END => {
                let r = StringRef {
                    table: ev.table,
                    id: ev.args[0],
                };
                let interner = &mut self.interner;
                self.stw_names.get(r, || {
                    let mut name = b"stop-the-world (".to_vec();
                    name.extend_from_slice(tables.string(r));
                    name.push(b')');
                    interner.intern(&name)
                })
            }
            T::GC_BEGIN | T::GC_ACTIVE | T::GC_END => self.gc_mark,
            T::GC_SWEEP_BEGIN | T::GC_SWEEP_ACTIVE | T::GC_SWEEP_END => self.gc_sweep,
            T::GC_MARK_ASSIST_BEGIN | T::GC_MARK_ASSIST_ACTIVE | T::GC_MARK_ASSIST_END => {
                self.gc_assist
            }
            _ => match ev.range_name(tables) {
                Some(name) => self.interner.intern(&name),
                None => EMPTY,
            },
        }
    }

    /// Adds a goroutine, replacing any summary with the same ID (as Go's map assignment).
    fn insert(&mut self, g: GoroutineState) -> usize {
        match self.slot(g.id) {
            Some(s) => {
                self.goroutines[s] = g;
                s
            }
            None => {
                let s = self.goroutines.len();
                self.index.set(g.id, Some(s as u32));
                self.goroutines.push(g);
                s
            }
        }
    }

    fn task_slot(&mut self, id: TaskId) -> usize {
        if let Some(&t) = self.task_index.get(&id) {
            return t as usize;
        }
        let t = self.tasks.len();
        self.tasks.push(RawTask {
            id,
            name: EMPTY,
            parent: None,
            children: Vec::new(),
            start: None,
            end: None,
            logs: Vec::new(),
            regions: Vec::new(),
            goroutines: Vec::new(),
        });
        self.task_index.insert(id, t as u32);
        t
    }

    fn push_region(&mut self, r: RawRegion) -> u32 {
        let id = u32::try_from(self.regions.len()).expect("fewer than 2^32 regions");
        self.regions.push(r);
        id
    }

    /// A state transition. The common case (a goroutine that has a summary moves between
    /// running, runnable, waiting and syscall) stays here; the rest is out of line.
    #[inline]
    fn transition(&mut self, ev: &Event, st: &StateTransition, tables: &Tables<'_>) {
        let t = ev.time;
        let (id, old, new) = match st.resource {
            Resource::Goroutine { id, old, new } if old != new => (id, old, new),
            Resource::Goroutine { .. } => return,
            Resource::Proc { id, old, new } => {
                if old != new && new == ProcState::Idle {
                    self.proc_idle(id, t);
                }
                return;
            }
        };
        let reason = if new == GoState::Waiting {
            self.string(st.reason, tables)
        } else {
            EMPTY
        };

        // Leave the old state.
        let slot = match old {
            GoState::Undetermined | GoState::NotExist => {
                self.new_goroutine(ev, id, old, new, reason)
            }
            _ => {
                let Some(slot) = self.slot(id) else {
                    // Go would dereference a nil summary here.
                    return;
                };
                let g = &mut self.goroutines[slot];
                match old {
                    GoState::Running => {
                        g.stats.exec = g.stats.exec.wrapping_add(t.wrapping_sub(g.last_start));
                        g.last_start = 0;
                    }
                    GoState::Waiting => {
                        if g.last_block != 0 {
                            sym_add(
                                &mut g.stats.block,
                                g.last_block_reason,
                                t.wrapping_sub(g.last_block),
                            );
                            g.last_block = 0;
                        }
                    }
                    GoState::Runnable => {
                        if g.last_runnable != 0 {
                            g.stats.sched_wait = g
                                .stats
                                .sched_wait
                                .wrapping_add(t.wrapping_sub(g.last_runnable));
                            g.last_runnable = 0;
                        }
                    }
                    GoState::Syscall => {
                        if g.last_syscall != 0 {
                            self.syscall_exit(slot, id, t);
                        }
                    }
                    GoState::Undetermined | GoState::NotExist => {}
                }
                slot
            }
        };

        // Name the goroutine after the outermost frame of the first stack seen.
        if self.goroutines[slot].name == EMPTY
            && let Some(stack) = st.stack
        {
            self.name_goroutine(slot, stack, tables);
        }

        // Enter the new state.
        let g = &mut self.goroutines[slot];
        match new {
            GoState::Running => {
                g.last_start = t;
                if g.start == 0 {
                    g.start = t;
                }
            }
            GoState::Runnable => g.last_runnable = t,
            GoState::Waiting if reason != self.forever => {
                g.last_block = t;
                g.last_block_reason = reason;
            }
            // Blocking forever is like goroutine death.
            GoState::Waiting | GoState::NotExist => {
                self.finalize_goroutine(slot, t, Some(ev));
            }
            GoState::Syscall => {
                g.last_syscall = t;
                self.syscalling_p.set(ev.ctx.p, Some(id));
                self.syscalling_g.set(id, Some(ev.ctx.p));
            }
            GoState::Undetermined => {}
        }
    }

    /// A goroutine first seen (`old` is Undetermined) or created (`old` is NotExist): a new
    /// summary, replacing any with its ID. Returns its slot.
    #[inline(never)]
    fn new_goroutine(
        &mut self,
        ev: &Event,
        id: GoId,
        old: GoState,
        new: GoState,
        reason: Sym,
    ) -> usize {
        let t = ev.time;
        if old == GoState::Undetermined {
            // Known since the last Sync: credit that time to the new state.
            let mut g = GoroutineState::new(id, self.sync_ts);
            let d = t.wrapping_sub(self.sync_ts);
            match new {
                GoState::Running => g.stats.exec = d,
                GoState::Waiting => sym_add(&mut g.stats.block, reason, d),
                GoState::Runnable => g.stats.sched_wait = d,
                GoState::Syscall if ev.ctx.p == NO_PROC => g.stats.syscall_block = d,
                GoState::Syscall => g.stats.syscall = d,
                GoState::Undetermined | GoState::NotExist => {}
            }
            return self.insert(g);
        }
        let mut g = GoroutineState::new(id, t);
        // Inherit the task of the creator's innermost region.
        let inherited = self
            .slot(ev.ctx.g)
            .and_then(|c| self.goroutines[c].active_regions.last())
            .map(|&r| self.regions[r as usize].task);
        if let Some(task) = inherited {
            let r = self.push_region(RawRegion {
                task,
                name: EMPTY,
                goroutine: id,
                start: Some(*ev),
                end: None,
                stats: RawStats::default(),
            });
            g.active_regions.push(r);
        }
        self.insert(g)
    }

    /// Goroutine `id` (in `slot`) leaves the syscall it entered, at `t`.
    #[inline(never)]
    fn syscall_exit(&mut self, slot: usize, id: GoId, t: Time) {
        let g = &mut self.goroutines[slot];
        if g.last_syscall_block != 0 {
            g.stats.syscall_block = g
                .stats
                .syscall_block
                .wrapping_add(t.wrapping_sub(g.last_syscall_block));
            g.stats.syscall = g
                .stats
                .syscall
                .wrapping_add(g.last_syscall_block.wrapping_sub(g.last_syscall));
        } else {
            g.stats.syscall = g.stats.syscall.wrapping_add(t.wrapping_sub(g.last_syscall));
        }
        g.last_syscall = 0;
        g.last_syscall_block = 0;
        // Go deletes P 0's entry (a missing key's zero value) if the goroutine has no
        // recorded P.
        let p = self.syscalling_g.get(id).unwrap_or(0);
        self.syscalling_p.set(p, None);
        self.syscalling_g.set(id, None);
    }

    /// Names the goroutine in `slot` after the outermost frame of `stack`, if it has one.
    #[inline(never)]
    fn name_goroutine(&mut self, slot: usize, stack: StackRef, tables: &Tables<'_>) {
        if let Some(frame) = tables.frames(stack).last() {
            let name = self.interner.intern(frame.func);
            let g = &mut self.goroutines[slot];
            g.pc = frame.pc;
            g.name = name;
        }
    }

    /// P `id` goes idle at `t`: a goroutine in a syscall on it now blocks.
    #[inline(never)]
    fn proc_idle(&mut self, id: ProcId, t: Time) {
        if let Some(goid) = self.syscalling_p.get(id) {
            if let Some(slot) = self.slot(goid) {
                self.goroutines[slot].last_syscall_block = t;
            }
            self.syscalling_p.set(id, None);
        }
    }

    /// A range begins, or is `active` since before this generation.
    fn range_begin(&mut self, ev: &Event, active: bool, tables: &Tables<'_>) {
        let name = self.range_name(ev, tables);
        let slot = match ev.range_scope() {
            Some(Scope::Goroutine(g)) => self.slot(g),
            Some(Scope::Proc(p)) => {
                // Attributed to the goroutine on the P, if it ends on that goroutine too.
                let slot = self.slot(ev.ctx.g);
                if slot.is_some() {
                    self.ranges_p.insert((p, name), ev.ctx.g);
                }
                slot
            }
            Some(Scope::None) | None => None,
        };
        let Some(slot) = slot else {
            return;
        };
        let sync_ts = self.sync_ts;
        let g = &mut self.goroutines[slot];
        if active {
            // In progress since before this generation: counted from the last Sync.
            let ts = sym_get(&g.last_range, name);
            if ts != 0 {
                sym_add(&mut g.stats.range, name, sync_ts.wrapping_sub(ts));
            }
            sym_set(&mut g.last_range, name, sync_ts);
        } else {
            sym_set(&mut g.last_range, name, ev.time);
        }
    }

    fn range_end(&mut self, ev: &Event, tables: &Tables<'_>) {
        let name = self.range_name(ev, tables);
        let slot = match ev.range_scope() {
            Some(Scope::Goroutine(g)) => self.slot(g),
            Some(Scope::Proc(p)) => match self.ranges_p.remove(&(p, name)) {
                Some(goid) if goid == ev.ctx.g => self.slot(goid),
                _ => None,
            },
            Some(Scope::None) | None => None,
        };
        let Some(slot) = slot else {
            return;
        };
        let g = &mut self.goroutines[slot];
        let ts = sym_get(&g.last_range, name);
        if ts == 0 {
            return;
        }
        sym_add(&mut g.stats.range, name, ev.time.wrapping_sub(ts));
        sym_remove(&mut g.last_range, name);
    }

    fn region_begin(&mut self, ev: &Event, tables: &Tables<'_>) {
        let Some((task, name)) = ev.region() else {
            return;
        };
        let Some(slot) = self.slot(ev.ctx.g) else {
            return;
        };
        let name = self.string(name, tables);
        let g = &self.goroutines[slot];
        let region = RawRegion {
            task,
            name,
            goroutine: g.id,
            start: Some(*ev),
            end: None,
            stats: g.snapshot(ev.time),
        };
        let goid = g.id;
        let r = self.push_region(region);
        self.goroutines[slot].active_regions.push(r);
        let t = self.task_slot(task);
        self.tasks[t].regions.push(r);
        self.tasks[t].add_goroutine(goid);
    }

    fn region_end(&mut self, ev: &Event, tables: &Tables<'_>) {
        let Some((task, name)) = ev.region() else {
            return;
        };
        let Some(slot) = self.slot(ev.ctx.g) else {
            return;
        };
        let goid = self.goroutines[slot].id;
        // The innermost open region ends, whatever its name.
        let r = match self.goroutines[slot].active_regions.pop() {
            Some(r) => r,
            None => {
                // An end without a begin: make the region up.
                let name = self.string(name, tables);
                let r = self.push_region(RawRegion {
                    task,
                    name,
                    goroutine: goid,
                    start: None,
                    end: None,
                    stats: RawStats::default(),
                });
                let t = self.task_slot(task);
                self.tasks[t].add_goroutine(goid);
                self.tasks[t].regions.push(r);
                r
            }
        };
        let snapshot = self.goroutines[slot].snapshot(ev.time);
        let region = &mut self.regions[r as usize];
        region.stats = snapshot.sub(&region.stats);
        region.end = Some(*ev);
        self.goroutines[slot].regions.push(r);
    }

    fn task_event(&mut self, ev: &Event, tables: &Tables<'_>) {
        let Some((id, parent)) = ev.task() else {
            return;
        };
        let name = self.interner.intern(tables.task_type(ev));
        let t = self.task_slot(id);
        let task = &mut self.tasks[t];
        task.name = name;
        task.add_goroutine(ev.ctx.g);
        if ev.kind() == EventKind::TaskBegin {
            task.start = Some(*ev);
        } else {
            task.end = Some(*ev);
        }
        if parent != NO_TASK && task.parent.is_none() {
            task.parent = Some(parent);
            let p = self.task_slot(parent);
            self.tasks[p].children.push(id);
        }
    }

    /// Ends a goroutine's accounting at `t` (Go's `finalize`): stores the snapshot, closes
    /// its open regions (unless it is a system goroutine) and clears the pending state.
    fn finalize_goroutine(&mut self, slot: usize, t: Time, trigger: Option<&Event>) {
        let g = &mut self.goroutines[slot];
        if let Some(ev) = trigger {
            g.end = ev.time;
        }
        g.stats = g.snapshot(t);
        let active = std::mem::take(&mut g.active_regions);
        if !is_system_goroutine_bytes(self.interner.bytes(g.name)) {
            for r in active {
                let region = &mut self.regions[r as usize];
                region.end = trigger.copied();
                region.stats = g.stats.sub(&region.stats);
                g.regions.push(r);
            }
        }
        g.last_start = 0;
        g.last_runnable = 0;
        g.last_block = 0;
        g.last_block_reason = EMPTY;
        g.last_syscall = 0;
        g.last_syscall_block = 0;
        g.last_range.clear();
    }

    /// Finishes the summary at the last event (Go's `Finalize`).
    pub fn finalize(mut self) -> Summary {
        let last_ts = self.last_ts;
        for slot in 0..self.goroutines.len() {
            self.finalize_goroutine(slot, last_ts, None);
        }
        let texts = self.interner.texts();
        let regions = &self.regions;
        let mut goroutines: Vec<GoroutineSummary> = self
            .goroutines
            .iter_mut()
            .map(|g| {
                // Go's unstable sort by start time, no start first.
                gosort::sort_func(&mut g.regions, |&a, &b| {
                    match (&regions[a as usize].start, &regions[b as usize].start) {
                        (None, Some(_)) => true,
                        (Some(x), Some(y)) => x.time < y.time,
                        _ => false,
                    }
                });
                GoroutineSummary {
                    id: g.id,
                    name: texts[g.name as usize].clone(),
                    pc: g.pc,
                    creation_time: g.creation,
                    start_time: g.start,
                    end_time: g.end,
                    stats: g.stats.output(&texts),
                    regions: g.regions.iter().map(|&r| RegionId(r)).collect(),
                }
            })
            .collect();
        goroutines.sort_by_key(|g| g.id);
        let mut tasks: Vec<TaskSummary> = self
            .tasks
            .into_iter()
            .map(|t| {
                let mut goroutines = t.goroutines;
                goroutines.sort_unstable();
                goroutines.dedup();
                TaskSummary {
                    id: t.id,
                    name: texts[t.name as usize].clone(),
                    parent: t.parent,
                    children: t.children,
                    start: t.start,
                    end: t.end,
                    logs: t.logs,
                    regions: t.regions.into_iter().map(RegionId).collect(),
                    goroutines,
                }
            })
            .collect();
        tasks.sort_by_key(|t| t.id);
        let regions = self
            .regions
            .into_iter()
            .map(|r| RegionSummary {
                task: r.task,
                name: texts[r.name as usize].clone(),
                goroutine: r.goroutine,
                start: r.start,
                end: r.end,
                stats: r.stats.output(&texts),
            })
            .collect();
        Summary {
            goroutines,
            tasks,
            regions,
        }
    }
}

#[cfg(test)]
mod tests {
    use goroscope_format::v2::{EventType as T, Frame, StackTable, StringTable};
    use goroscope_trace::event::{Ctx, GenTables, NO_GOROUTINE, SYNC};

    use super::*;

    const SLEEP: u64 = 1;
    const FOREVER: u64 = 2;
    const REGION_A: u64 = 5;
    const REGION_B: u64 = 6;
    /// Stack 1 is rooted in `main.worker`, stack 2 in `runtime.gcBgMarkWorker`.
    const WORKER: u64 = 1;
    const GC_WORKER: u64 = 2;

    fn tables() -> Tables<'static> {
        let strings: Vec<(u64, &[u8])> = vec![
            (SLEEP, b"sleep"),
            (FOREVER, b"forever"),
            (3, b"main.worker"),
            (4, b"runtime.gcBgMarkWorker"),
            (REGION_A, b"region A"),
            (REGION_B, b"region B"),
            (7, b"x.go"),
            (8, b"main.helper"),
        ];
        let frame = |pc, func| Frame {
            pc,
            func,
            file: 7,
            line: 1,
        };
        let stacks = StackTable::from_stacks([
            (WORKER, vec![frame(0x10, 8), frame(0x20, 3)]),
            (GC_WORKER, vec![frame(0x30, 4)]),
        ])
        .expect("stacks");
        Tables {
            gens: vec![GenTables {
                generation: 1,
                ns_per_tick: 1.0,
                strings: StringTable::from_entries(strings).expect("strings"),
                stacks,
                clock: None,
                experimental: Vec::new(),
            }],
            extra: vec![Vec::new()],
        }
    }

    /// An event at `time` on P `p` with goroutine `g` running.
    fn ev(ty: T, time: Time, p: ProcId, g: GoId, args: &[u64]) -> Event {
        let mut a = [0; 4];
        a[..args.len()].copy_from_slice(args);
        Event {
            ty,
            time,
            ctx: Ctx { m: 1, p, g },
            args: a,
            table: 0,
        }
    }

    fn sync(time: Time, n: u64) -> Event {
        Event {
            ty: SYNC,
            time,
            ctx: Ctx::NONE,
            args: [n, 0, 0, 0],
            table: 0,
        }
    }

    /// A GoStatus of `g` (first generation: from Undetermined) with a wire status.
    fn status(time: Time, g: GoId, wire: u64) -> Event {
        ev(T::GO_STATUS, time, 0, NO_GOROUTINE, &[g as u64, 1, wire])
    }

    fn run(events: &[Event]) -> Summary {
        let tables = tables();
        let mut s = Summarizer::new();
        for e in events {
            s.event(e, &tables);
        }
        s.finalize()
    }

    fn block(s: &ExecStats) -> Vec<(&str, Duration)> {
        s.block_time_by_reason
            .iter()
            .map(|(k, &v)| (&**k, v))
            .collect()
    }

    #[test]
    fn a_syscall_blocked_at_a_region_end_is_counted_twice() {
        let s = run(&[
            sync(10, 1),
            status(11, 1, 2),
            ev(T::USER_REGION_BEGIN, 20, 0, 1, &[0, REGION_A]),
            ev(T::GO_SYSCALL_BEGIN, 30, 0, 1, &[1, 0]),
            // The P is taken from the syscall: it blocks from here.
            ev(T::PROC_STEAL, 40, 1, 2, &[0, 2, 1, 3]),
            ev(T::USER_REGION_END, 50, -1, 1, &[0, REGION_A]),
            ev(T::GO_SYSCALL_END_BLOCKED, 60, -1, 1, &[]),
            sync(70, 2),
        ]);
        let g = s.goroutine(1).expect("G1");
        let r = s.region(g.regions[0]);
        // Go's quirk: the blocked 10 ns show as syscall *and* sched wait time in the region.
        assert_eq!(r.stats.syscall_time, 20);
        assert_eq!(r.stats.sched_wait_time, 10);
        assert_eq!(r.stats.syscall_block_time, 0);
        assert_eq!(r.stats.exec_time, 10);
        assert_eq!(r.stats.total_time, 30);
        assert_eq!(r.stats.unknown_time(), 0);
        // At the real exit, the blocked part is syscall block time.
        assert_eq!(g.stats.exec_time, 20);
        assert_eq!(g.stats.syscall_time, 10);
        assert_eq!(g.stats.syscall_block_time, 20);
        assert_eq!(g.stats.sched_wait_time, 10);
        assert_eq!(g.stats.total_time, 60);
        assert_eq!(g.stats.unknown_time(), 0);
    }

    #[test]
    fn status_time_has_an_empty_reason_and_forever_is_death() {
        let s = run(&[
            sync(10, 1),
            status(12, 2, 4),
            ev(T::GO_UNBLOCK, 20, 0, 1, &[2, 1, 0]),
            ev(T::GO_START, 25, 0, NO_GOROUTINE, &[2, 2]),
            ev(T::GO_BLOCK, 30, 0, 2, &[FOREVER, WORKER]),
            sync(40, 2),
        ]);
        let g = s.goroutine(2).expect("G2");
        assert_eq!(block(&g.stats), [("", 10)]);
        assert_eq!(g.end_time, 30);
        assert_eq!(
            (
                g.stats.exec_time,
                g.stats.sched_wait_time,
                g.stats.total_time
            ),
            (5, 5, 20)
        );
        assert_eq!((&*g.name, g.pc), ("main.worker", 0x20));
        assert_eq!(g.creation_time, 10);
        assert_eq!(g.start_time, 25);
    }

    #[test]
    fn regions_as_go_sees_them() {
        let s = run(&[
            sync(10, 1),
            status(11, 1, 2),
            ev(T::USER_REGION_BEGIN, 12, 0, 1, &[0, REGION_A]),
            ev(T::USER_REGION_BEGIN, 13, 0, 1, &[7, REGION_B]),
            // Created inside region B: both inherit task 7.
            ev(T::GO_CREATE, 14, 0, 1, &[2, WORKER, 0]),
            ev(T::GO_CREATE, 15, 0, 1, &[3, GC_WORKER, 0]),
            // Ends "region A" by name, but closes the innermost region, B.
            ev(T::USER_REGION_END, 16, 0, 1, &[0, REGION_A]),
            ev(T::USER_REGION_END, 17, 0, 1, &[0, REGION_A]),
            // An end without a begin.
            ev(T::USER_REGION_END, 18, 0, 1, &[9, REGION_B]),
            ev(T::GO_STOP, 19, 0, 1, &[SLEEP, 0]),
            ev(T::GO_START, 20, 0, NO_GOROUTINE, &[2, 1]),
            ev(T::GO_DESTROY, 21, 0, 2, &[]),
            sync(30, 2),
        ]);
        let g1 = s.goroutine(1).expect("G1");
        let names: Vec<_> = s.regions_of(&g1.regions).map(|r| &*r.name).collect();
        assert_eq!(names, ["region B", "region A", "region B"]);
        let made_up = s.region(g1.regions[0]);
        assert_eq!((made_up.task, made_up.start), (9, None));
        assert_eq!(made_up.end.map(|e| e.time), Some(18));
        let b = s.region(g1.regions[2]);
        assert_eq!((b.task, b.start.map(|e| e.time)), (7, Some(13)));
        assert_eq!(b.end.map(|e| e.time), Some(16));

        // G2 inherited task 7 in a region named "" from its creation to its end.
        let g2 = s.goroutine(2).expect("G2");
        assert_eq!(&*g2.name, "main.worker");
        let inherited: Vec<_> = s.regions_of(&g2.regions).collect();
        assert_eq!(inherited.len(), 1);
        let r = inherited[0];
        assert_eq!((&*r.name, r.task, r.goroutine), ("", 7, 2));
        assert_eq!(
            r.start.map(|e| (e.time, e.kind())),
            Some((14, EventKind::StateTransition))
        );
        assert_eq!(
            r.end.map(|e| (e.time, e.kind())),
            Some((21, EventKind::StateTransition))
        );
        assert_eq!(r.stats.total_time, 7);

        // G3 is a system goroutine: its inherited region is dropped.
        let g3 = s.goroutine(3).expect("G3");
        assert_eq!(&*g3.name, "runtime.gcBgMarkWorker");
        assert!(g3.regions.is_empty());

        // Tasks list the regions begun in them (not the inherited ones).
        let task = |id| s.task(id).expect("task");
        assert_eq!(task(0).regions.len(), 1);
        assert_eq!(task(7).regions.len(), 1);
        assert_eq!(task(9).regions.len(), 1);
        assert_eq!(task(7).goroutines, [1]);
        assert_eq!(s.tasks.len(), 3);
    }

    #[test]
    fn finalize_recomputes_a_zero_total_time() {
        // A goroutine created and gone at the same instant has a total time of 0 when it
        // dies; Go's Finalize then recomputes it up to the end of the trace.
        let s = run(&[
            sync(10, 1),
            status(11, 1, 2),
            ev(T::GO_CREATE, 20, 0, 1, &[5, WORKER, 0]),
            ev(T::GO_STOP, 20, 0, 1, &[SLEEP, 0]),
            ev(T::GO_START, 20, 0, NO_GOROUTINE, &[5, 1]),
            ev(T::GO_DESTROY, 20, 0, 5, &[]),
            sync(50, 2),
        ]);
        let g = s.goroutine(5).expect("G5");
        assert_eq!(g.end_time, 20);
        assert_eq!(g.stats.total_time, 30);
        assert_eq!(g.stats.unknown_time(), 30);
    }

    #[test]
    fn tasks_and_logs() {
        let s = run(&[
            sync(10, 1),
            status(11, 1, 2),
            ev(T::USER_TASK_BEGIN, 12, 0, 1, &[4, NO_TASK, 3]),
            ev(T::USER_TASK_BEGIN, 13, 0, 1, &[5, 4, 3]),
            ev(T::USER_LOG, 14, 0, 1, &[5, SLEEP, FOREVER]),
            ev(T::USER_LOG, 15, 0, 1, &[6, SLEEP, FOREVER]),
            sync(20, 2),
        ]);
        let ids: Vec<_> = s.tasks.iter().map(|t| t.id).collect();
        assert_eq!(ids, [4, 5, 6]);
        let t4 = s.task(4).expect("task 4");
        assert_eq!((t4.parent, &t4.children[..]), (None, &[5][..]));
        assert_eq!(&*t4.name, "main.worker");
        let t5 = s.task(5).expect("task 5");
        assert_eq!(t5.parent, Some(4));
        assert_eq!(t5.logs.len(), 1);
        assert!(!t5.complete());
        let t6 = s.task(6).expect("task 6");
        assert_eq!(
            (t6.start, &*t6.name, &t6.goroutines[..]),
            (None, "", &[1][..])
        );
        let tree: Vec<_> = s.descendants(4).iter().map(|t| t.id).collect();
        assert_eq!(tree, [4, 5]);
    }

    #[test]
    fn non_overlapping_stats_merge_a_syscall_reason() {
        let mut stats = ExecStats {
            exec_time: 5,
            syscall_block_time: 3,
            total_time: 20,
            ..ExecStats::default()
        };
        stats.block_time_by_reason.insert("syscall".into(), 4);
        stats.block_time_by_reason.insert("".into(), 1);
        let got = stats.non_overlapping_stats();
        let labels: Vec<_> = got.iter().map(|(l, d)| (l.as_str(), *d)).collect();
        assert_eq!(
            labels,
            [
                ("Execution time", 5),
                ("Block time ()", 1),
                ("Block time (syscall)", 7),
                ("Sched wait time", 0),
                ("Syscall execution time", 0),
                ("Unknown time", 7),
            ]
        );
        assert!(is_system_goroutine(""));
        assert!(is_system_goroutine("runtime.gcBgMarkWorker"));
        assert!(!is_system_goroutine("runtime.main"));
        assert!(!is_system_goroutine("main.main"));
    }

    #[test]
    fn groups_by_start_function() {
        let s = run(&[
            sync(10, 1),
            ev(T::GO_CREATE, 11, 0, NO_GOROUTINE, &[2, WORKER, 0]),
            ev(T::GO_CREATE, 12, 0, NO_GOROUTINE, &[3, WORKER, 0]),
            ev(T::GO_CREATE, 13, 0, NO_GOROUTINE, &[4, GC_WORKER, 0]),
            ev(T::GO_START, 14, 0, NO_GOROUTINE, &[2, 1]),
            ev(T::GO_STOP, 24, 0, 2, &[SLEEP, 0]),
            ev(T::GO_START, 25, 0, NO_GOROUTINE, &[3, 1]),
            ev(T::GO_STOP, 28, 0, 3, &[SLEEP, 0]),
            sync(40, 2),
        ]);
        let groups = s.groups();
        let names: Vec<_> = groups.iter().map(|g| (&*g.name, g.count())).collect();
        assert_eq!(names, [("main.worker", 2), ("runtime.gcBgMarkWorker", 1)]);
        let w = &groups[0];
        assert_eq!(w.goroutines, [2, 3]);
        assert_eq!(
            (w.exec_time.total, w.exec_time.p50, w.exec_time.max),
            (13, 3, 10)
        );
        assert_eq!(w.total_time.total, 29 + 28);
    }
}
