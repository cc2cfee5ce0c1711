//! The ordering state machine: Go's `internal/trace/order.go`, re-expressed.
//!
//! It emulates the scheduler state (goroutines, Ps, threads, GC, tasks, ranges) to decide
//! whether the next event of a thread can happen now ("ready"), must wait for events of other
//! threads ("not ready"), or can never happen (an error). Ready events are queued, sometimes
//! with synthesized companions, and their context and arguments are completed on the way.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use goroscope_format::v2::EventType;

use crate::error::{Error, Result};
use crate::event::{
    Ctx, Event, GoId, GoState, NO_GOROUTINE, NO_PROC, NO_TASK, NO_THREAD, ProcId, ProcState,
    ThreadId,
};
use crate::reader::PreEvent;

#[path = "speculation.rs"]
mod speculation;
use speculation::{Field, Pred};
pub(crate) use speculation::{Speculation, UNKNOWN};

/// A fast hasher for small integer keys (IDs); not for untrusted strings.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(26);
    }

    #[inline]
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}

pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Wire goroutine statuses.
mod gs {
    pub(super) const RUNNABLE: u8 = 1;
    pub(super) const RUNNING: u8 = 2;
    pub(super) const SYSCALL: u8 = 3;
    pub(super) const WAITING: u8 = 4;

    pub(super) fn name(s: u8) -> &'static str {
        goroscope_format::v2::spec::go_status::name(u64::from(s))
    }
}

/// Wire P statuses.
mod ps {
    pub(super) const RUNNING: u8 = 1;
    pub(super) const IDLE: u8 = 2;
    pub(super) const SYSCALL: u8 = 3;
    pub(super) const SYSCALL_ABANDONED: u8 = 4;

    pub(super) fn name(s: u8) -> &'static str {
        goroscope_format::v2::spec::proc_status::name(u64::from(s))
    }
}

/// A per-generation sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Seq {
    generation: u64,
    seq: u64,
}

impl Seq {
    fn new(generation: u64, seq: u64) -> Self {
        Self { generation, seq }
    }

    fn succeeds(self, prev: Self) -> bool {
        self.generation == prev.generation && self.seq == prev.seq.wrapping_add(1)
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (gen={})", self.seq, self.generation)
    }
}

/// A kind of special range bound to a goroutine or P: the begin event type and, for STW,
/// the kind string ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RangeType {
    begin: EventType,
    desc: u64,
}

impl RangeType {
    fn of(ty: EventType, desc: u64) -> Self {
        let begin = ty.spec().and_then(|s| s.start_ev).unwrap_or(ty);
        Self { begin, desc }
    }

    fn name(self) -> &'static str {
        self.begin.spec().map_or("", |s| s.name)
    }
}

#[derive(Debug, Clone, Default)]
struct Ranges(Vec<RangeType>);

impl Ranges {
    fn begin(&mut self, r: RangeType) -> Result<()> {
        if self.0.contains(&r) {
            return Err(Error::order(format!(
                "discovered event already in-flight for when starting event {}",
                r.name()
            )));
        }
        self.0.push(r);
        Ok(())
    }

    fn active(&mut self, r: RangeType, initial: bool) -> Result<()> {
        if initial {
            if self.0.contains(&r) {
                return Err(Error::order(format!(
                    "found named active range already in first gen: {}",
                    r.name()
                )));
            }
            self.0.push(r);
        } else if !self.0.contains(&r) {
            return Err(Error::order(format!(
                "resource is missing active range: {}",
                r.name()
            )));
        }
        Ok(())
    }

    /// Ends the range begun by the start event of `ty`, returning its description.
    fn end(&mut self, ty: EventType) -> Result<u64> {
        let begin = ty.spec().and_then(|s| s.start_ev).unwrap_or(ty);
        let Some(i) = self.0.iter().position(|r| r.begin == begin) else {
            return Err(Error::order(format!(
                "tried to end event {}, but not in-flight",
                begin.spec().map_or("", |s| s.name)
            )));
        };
        Ok(self.0.swap_remove(i).desc)
    }
}

#[derive(Debug, Clone, Copy)]
struct GState {
    status: u8,
    seq: Seq,
}

impl GState {
    fn new(status: u8, seq: Seq) -> Self {
        Self { status, seq }
    }
}

/// What few goroutines have: open user regions and in-flight ranges. Kept apart from
/// [`GState`] so that the per-goroutine state every event touches stays small. A goroutine
/// without an entry has neither.
#[derive(Debug, Clone, Default)]
struct GMore {
    /// Open user regions: (task, interned name).
    regions: Vec<(u64, u32)>,
    ranges: Ranges,
}

/// State per ID, for IDs that are mostly small and dense (goroutines, Ps): a vector indexed
/// by ID, and a hash map for the IDs too large for it (negative, huge, or far beyond the
/// number of entries, as only a damaged or crafted trace has). An ID below the vector's
/// length is never in the map.
#[derive(Debug, Clone)]
struct Slots<T> {
    dense: Vec<Option<T>>,
    sparse: IdMap<i64, T>,
    len: usize,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self {
            dense: Vec::new(),
            sparse: IdMap::default(),
            len: 0,
        }
    }
}

impl<T> Slots<T> {
    /// IDs below this may grow the vector: at least 64 Ki, and twice the entries.
    fn dense_limit(&self) -> usize {
        (2 * self.len).max(1 << 16)
    }

    #[inline]
    fn get(&self, id: i64) -> Option<&T> {
        match self.dense.get(id as usize) {
            Some(slot) if id >= 0 => slot.as_ref(),
            _ if self.sparse.is_empty() => None,
            _ => self.sparse.get(&id),
        }
    }

    #[inline]
    fn get_mut(&mut self, id: i64) -> Option<&mut T> {
        match self.dense.get_mut(id as usize) {
            Some(slot) if id >= 0 => slot.as_mut(),
            _ if self.sparse.is_empty() => None,
            _ => self.sparse.get_mut(&id),
        }
    }

    #[inline]
    fn contains_key(&self, id: i64) -> bool {
        self.get(id).is_some()
    }

    fn insert(&mut self, id: i64, v: T) {
        if id >= 0 && (id as usize) >= self.dense.len() && (id as usize) < self.dense_limit() {
            self.grow(id as usize + 1);
        }
        let old = match self.dense.get_mut(id as usize) {
            Some(slot) if id >= 0 => slot.replace(v),
            _ => self.sparse.insert(id, v),
        };
        if old.is_none() {
            self.len += 1;
        }
    }

    /// Grows the vector to at least `min` slots, moving in the map's entries it now covers.
    #[cold]
    fn grow(&mut self, min: usize) {
        let new_len = min.next_power_of_two().min(self.dense_limit()).max(min);
        self.dense.resize_with(new_len, || None);
        if !self.sparse.is_empty() {
            let moved: Vec<i64> = self
                .sparse
                .keys()
                .copied()
                .filter(|&id| id >= 0 && (id as usize) < new_len)
                .collect();
            for id in moved {
                self.dense[id as usize] = self.sparse.remove(&id);
            }
        }
    }

    fn remove(&mut self, id: i64) -> Option<T> {
        let old = match self.dense.get_mut(id as usize) {
            Some(slot) if id >= 0 => slot.take(),
            _ => self.sparse.remove(&id),
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    /// Every `(id, state)`, in no particular order.
    fn iter(&self) -> impl Iterator<Item = (i64, &T)> {
        let dense = self
            .dense
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i as i64, s)));
        #[allow(clippy::iter_over_hash_type)] // Callers sort.
        let sparse = self.sparse.iter().map(|(&id, s)| (id, s));
        dense.chain(sparse)
    }
}

#[derive(Debug, Clone)]
struct PState {
    status: u8,
    seq: Seq,
    ranges: Ranges,
}

#[derive(Debug, Clone, Copy)]
struct MState {
    g: GoId,
    p: ProcId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GcState {
    Undetermined,
    NotRunning,
    Running,
}

/// What ordering needs from the current generation's tables.
pub(crate) trait StringLookup {
    /// The string with `id`, if present (0 is the empty string).
    fn lookup(&self, id: u64) -> Option<&[u8]>;
}

/// The scheduler state carried through the trace.
#[derive(Debug, Clone)]
pub(crate) struct Ordering {
    g: Slots<GState>,
    /// Regions and ranges of the goroutines that have any.
    g_more: IdMap<GoId, GMore>,
    p: Slots<PState>,
    /// Thread states, indexed through `m_index` (threads are never forgotten).
    ms: Vec<MState>,
    m_index: IdMap<ThreadId, u32>,
    tasks: IdMap<u64, (u32, u64)>,
    gc_seq: u64,
    gc: GcState,
    initial_gen: u64,
    /// Ready events, in order: the reader hands them out from here.
    pub(crate) out: Vec<Event>,
    /// The tables of the event being advanced (for the events it queues).
    table: u32,
    /// Interned strings (region and task names), compared by value across generations.
    names: Vec<Vec<u8>>,
    name_ids: HashMap<Vec<u8>, u32>,
    /// IDs of the strings made up for events (task types) in `Tables::extra`.
    extra_ids: HashMap<Vec<u8>, u64>,
    /// Set while a generation is ordered on its own, ahead of the ones before it.
    pub(crate) spec: Option<Box<Speculation>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    No,
    May,
    Must,
}

#[derive(Clone, Copy)]
struct Reqs {
    m: Need,
    p: Need,
    g: Need,
}

const USER_GO: Reqs = Reqs {
    m: Need::Must,
    p: Need::Must,
    g: Need::Must,
};

#[inline(always)]
fn validate(ctx: Ctx, r: Reqs) -> Result<()> {
    let ok = (r.m != Need::Must || ctx.m != NO_THREAD)
        && (r.m != Need::No || ctx.m == NO_THREAD)
        && (r.p != Need::Must || ctx.p != NO_PROC)
        && (r.p != Need::No || ctx.p == NO_PROC)
        && (r.g != Need::Must || ctx.g != NO_GOROUTINE)
        && (r.g != Need::No || ctx.g == NO_GOROUTINE);
    if ok {
        Ok(())
    } else {
        Err(validate_error(ctx, r))
    }
}

#[cold]
fn validate_error(ctx: Ctx, r: Reqs) -> Error {
    let msg = if r.m == Need::Must && ctx.m == NO_THREAD {
        "expected a thread but didn't have one"
    } else if r.m == Need::No && ctx.m != NO_THREAD {
        "expected no thread but had one"
    } else if r.p == Need::Must && ctx.p == NO_PROC {
        "expected a proc but didn't have one"
    } else if r.p == Need::No && ctx.p != NO_PROC {
        "expected no proc but had one"
    } else if r.g == Need::Must && ctx.g == NO_GOROUTINE {
        "expected a goroutine but didn't have one"
    } else if r.g == Need::No && ctx.g != NO_GOROUTINE {
        "expected no goroutine but had one"
    } else {
        "internal error: context check"
    };
    Error::order(msg)
}

/// The result of a handler: ready with the thread's new context, or not ready.
type Step = Result<Option<Ctx>>;

impl Default for Ordering {
    fn default() -> Self {
        Self {
            g: Slots::default(),
            g_more: IdMap::default(),
            p: Slots::default(),
            ms: Vec::new(),
            m_index: IdMap::default(),
            tasks: IdMap::default(),
            gc_seq: 0,
            gc: GcState::Undetermined,
            initial_gen: 0,
            out: Vec::new(),
            table: u32::MAX,
            names: Vec::new(),
            name_ids: HashMap::new(),
            extra_ids: HashMap::new(),
            spec: None,
        }
    }
}

#[cold]
fn running_g_error(ty: EventType, cur: Ctx, want: u8, exists: bool) -> Error {
    if !exists {
        return Error::order(format!(
            "event {} for goroutine ({}) that doesn't exist",
            ev_name(ty),
            cur.g
        ));
    }
    let name = if want == gs::SYSCALL && ty == EventType::GO_DESTROY_SYSCALL {
        "Syscall"
    } else {
        "Running"
    };
    Error::order(format!(
        "{} event for goroutine that's not {name}",
        ev_name(ty)
    ))
}

fn ev_name(ty: EventType) -> std::borrow::Cow<'static, str> {
    ty.name()
}

impl Ordering {
    /// The index of thread `m`'s state, created if new.
    fn thread(&mut self, m: ThreadId) -> usize {
        if let Some(&i) = self.m_index.get(&m) {
            return i as usize;
        }
        // Ordered ahead, a thread's P and goroutine are what it held when the generation
        // began: unknown yet.
        let none = if self.predicting() { UNKNOWN } else { NO_PROC };
        let i = self.ms.len();
        self.ms.push(MState { g: none, p: none });
        self.m_index.insert(m, i as u32);
        i
    }

    fn thread_state(&mut self, m: ThreadId) -> Option<&mut MState> {
        let i = match self.m_index.get(&m) {
            Some(&i) => i,
            None if self.predicting() => {
                // Ordered ahead: the thread existed before (it is named by a goroutine in a
                // syscall, or as the victim of a steal).
                self.predict(Pred::ThreadExists(m));
                self.thread(m) as u32
            }
            None => return None,
        };
        self.ms.get_mut(i as usize)
    }

    /// Whether the ordering runs ahead, predicting the state it starts from.
    #[inline(always)]
    fn predicting(&self) -> bool {
        self.spec.as_ref().is_some_and(|s| s.predict)
    }

    /// Forgets goroutine `g` (it ended), with its regions and ranges.
    fn remove_g(&mut self, g: GoId) {
        self.g.remove(g);
        if !self.g_more.is_empty() {
            self.g_more.remove(&g);
        }
    }

    /// Drops `g`'s entry of regions and ranges if it holds none.
    fn forget_empty_more(&mut self, g: GoId) {
        if self
            .g_more
            .get(&g)
            .is_some_and(|m| m.regions.is_empty() && m.ranges.0.is_empty())
        {
            self.g_more.remove(&g);
        }
    }

    /// The uneventful cases of the commonest events, decided and applied without the general
    /// machinery: a goroutine that starts when it is its turn, or stops or blocks while
    /// running, on a thread that holds a P. Returns `false`, having changed nothing, for
    /// anything else, which [`Ordering::advance`] then decides (it gives the same answer
    /// for these cases). `m_slot` is the thread's state, known already.
    #[inline(always)]
    pub(crate) fn advance_fast(
        &mut self,
        ev: &PreEvent,
        at: (u64, u32),
        m: ThreadId,
        m_slot: u32,
    ) -> bool {
        if m == NO_THREAD || self.initial_gen == 0 {
            return false;
        }
        let Some(&ms) = self.ms.get(m_slot as usize) else {
            return false;
        };
        let cur = Ctx {
            m,
            p: ms.p,
            g: ms.g,
        };
        // No P, or (ordering ahead) a P not known yet: [`UNKNOWN`] is negative too. A
        // goroutine not known yet is never found by ID below.
        if cur.p < 0 {
            return false;
        }
        let g = match ev.ty {
            EventType::GO_START => {
                let gid = ev.args[0] as GoId;
                let seq = Seq::new(at.0, ev.args[1]);
                if cur.g != NO_GOROUTINE {
                    return false;
                }
                match self.g.get_mut(gid) {
                    Some(s) if s.status == gs::RUNNABLE && seq.succeeds(s.seq) => {
                        s.status = gs::RUNNING;
                        s.seq = seq;
                    }
                    _ => return false,
                }
                gid
            }
            EventType::GO_STOP | EventType::GO_BLOCK => {
                if cur.g == NO_GOROUTINE {
                    return false;
                }
                match self.g.get_mut(cur.g) {
                    Some(s) if s.status == gs::RUNNING => {
                        s.status = if ev.ty == EventType::GO_STOP {
                            gs::RUNNABLE
                        } else {
                            gs::WAITING
                        };
                    }
                    _ => return false,
                }
                NO_GOROUTINE
            }
            _ => return false,
        };
        self.out.push(Event {
            ty: ev.ty,
            time: ev.time,
            ctx: cur,
            args: ev.args,
            table: at.1,
        });
        self.ms[m_slot as usize].g = g;
        true
    }

    /// Tries to advance `ev` from thread `m`; `at` is the generation and the index of its
    /// tables. Returns whether it was ready; ready events (and any they synthesize) are
    /// appended to [`Ordering::out`]. `m_slot` caches the index of the thread's state
    /// between calls (`u32::MAX` until the first call, which creates the state, as Go's
    /// reader does on a thread's first event).
    #[inline(always)]
    pub(crate) fn advance(
        &mut self,
        ev: &PreEvent,
        at: (u64, u32),
        strings: &dyn StringLookup,
        extra: &mut Vec<Vec<u8>>,
        m: ThreadId,
        m_slot: &mut u32,
    ) -> Result<bool> {
        let (generation, table) = at;
        if self.initial_gen == 0 {
            self.initial_gen = generation;
        }
        self.table = table;
        let cur = if m == NO_THREAD {
            Ctx::NONE
        } else {
            if *m_slot == u32::MAX {
                *m_slot = self.thread(m) as u32;
            }
            let ms = self.ms[*m_slot as usize];
            Ctx {
                m,
                p: ms.p,
                g: ms.g,
            }
        };
        if self.spec.is_some() {
            return self.advance_ahead(ev, cur, generation, strings, extra, m, *m_slot);
        }
        self.dispatch(ev, cur, generation, strings, extra, m, *m_slot)
    }

    /// [`Ordering::advance`] while ordering a generation ahead: predicts what the event
    /// needs of the thread's state, and notes the events whose context is still unknown.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn advance_ahead(
        &mut self,
        ev: &PreEvent,
        cur: Ctx,
        generation: u64,
        strings: &dyn StringLookup,
        extra: &mut Vec<Vec<u8>>,
        m: ThreadId,
        m_slot: u32,
    ) -> Result<bool> {
        let cur = self.speculate(ev, cur, m_slot)?;
        let start = self.out.len();
        let ready = self.dispatch(ev, cur, generation, strings, extra, m, m_slot)?;
        if cur.p == UNKNOWN || cur.g == UNKNOWN {
            let end = self.out.len();
            if let Some(s) = &mut self.spec {
                s.unknown.extend(s.out_base + start..s.out_base + end);
            }
        }
        Ok(ready)
    }

    /// Decides on `ev` in context `cur` and applies it.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &mut self,
        ev: &PreEvent,
        cur: Ctx,
        generation: u64,
        strings: &dyn StringLookup,
        extra: &mut Vec<Vec<u8>>,
        m: ThreadId,
        m_slot: u32,
    ) -> Result<bool> {
        use EventType as T;
        // The two commonest events first, each on its own path to the end, so that their
        // results stay in registers.
        let settle = |this: &mut Self, step: Option<Ctx>| match step {
            Some(new) => {
                if m != NO_THREAD {
                    let ms = &mut this.ms[m_slot as usize];
                    ms.p = new.p;
                    ms.g = new.g;
                }
                true
            }
            None => false,
        };
        match ev.ty {
            T::GO_START => {
                let step = self.go_start(ev, cur, generation)?;
                return Ok(settle(self, step));
            }
            T::GO_STOP | T::GO_BLOCK => {
                let step = self.go_stop_exec(ev, cur)?;
                return Ok(settle(self, step));
            }
            _ => {}
        }
        let step = match ev.ty {
            T::PROCS_CHANGE | T::GO_LABEL | T::USER_LOG => self.annotation(ev, cur),
            T::PROC_START => self.proc_start(ev, cur, generation),
            T::PROC_STOP => self.proc_stop(ev, cur),
            T::PROC_STEAL => self.proc_steal(&mut { *ev }, cur, generation),
            T::PROC_STATUS => self.proc_status(&mut { *ev }, cur, generation),
            T::GO_CREATE | T::GO_CREATE_BLOCKED => self.go_create(ev, cur, generation),
            T::GO_CREATE_SYSCALL => self.go_create_syscall(ev, cur, generation),
            T::GO_START => self.go_start(ev, cur, generation),
            T::GO_DESTROY | T::GO_STOP | T::GO_BLOCK => self.go_stop_exec(ev, cur),
            T::GO_DESTROY_SYSCALL => self.go_destroy_syscall(ev, cur),
            T::GO_UNBLOCK => self.go_unblock(ev, cur, generation),
            T::GO_SYSCALL_BEGIN => self.go_syscall_begin(ev, cur, generation),
            T::GO_SYSCALL_END => self.go_syscall_end(ev, cur),
            T::GO_SYSCALL_END_BLOCKED => self.go_syscall_end_blocked(ev, cur),
            T::GO_STATUS | T::GO_STATUS_STACK => self.go_status(&mut { *ev }, cur, generation),
            T::STW_BEGIN | T::GC_MARK_ASSIST_BEGIN => self.go_range_begin(ev, cur),
            T::STW_END | T::GC_MARK_ASSIST_END => self.go_range_end(&mut { *ev }, cur),
            T::GC_MARK_ASSIST_ACTIVE => self.go_range_active(ev, cur, generation),
            T::GC_ACTIVE => self.gc_active(ev, cur, generation),
            T::GC_BEGIN => self.gc_begin(ev, cur),
            T::GC_END => self.gc_end(ev, cur),
            T::GC_SWEEP_ACTIVE => self.gc_sweep_active(ev, cur, generation),
            T::GC_SWEEP_BEGIN => self.gc_sweep_begin(ev, cur),
            T::GC_SWEEP_END => self.gc_sweep_end(ev, cur),
            T::HEAP_ALLOC | T::HEAP_GOAL => self.heap_metric(ev, cur),
            T::USER_TASK_BEGIN => self.task_begin(&mut { *ev }, cur, strings),
            T::USER_TASK_END => self.task_end(&mut { *ev }, cur, extra),
            T::USER_REGION_BEGIN | T::USER_REGION_END => self.region(ev, cur, strings),
            T::GO_SWITCH | T::GO_SWITCH_DESTROY => self.go_switch(ev, cur, generation),
            t if (128..=136).contains(&t.0) => self.alloc_free(ev, cur),
            t => {
                return Err(Error::order(format!(
                    "bad event type found while ordering: {}",
                    t.0
                )));
            }
        }?;
        Ok(settle(self, step))
    }

    #[inline(always)]
    fn push(&mut self, ev: &PreEvent, ctx: Ctx) {
        self.out.push(Event {
            ty: ev.ty,
            time: ev.time,
            ctx,
            args: ev.args,
            table: self.table,
        });
    }

    #[inline(always)]
    fn push_event(&mut self, e: Event) {
        self.out.push(e);
    }

    fn proc_status(&mut self, ev: &mut PreEvent, mut cur: Ctx, generation: u64) -> Step {
        let pid = ev.args[0] as ProcId;
        let status = ev.args[1];
        if status >= 5 {
            return Err(Error::order(format!(
                "invalid status for proc {pid}: {status}"
            )));
        }
        let status = status as u8;
        let mut old = ProcState::from_wire(u64::from(status));
        let seq = Seq::new(generation, 0);
        if self.predicting() && !self.p.contains_key(pid) {
            // Ordered ahead: the P had this status when the generation began.
            self.predict(Pred::Proc { id: pid, status });
            self.p.insert(
                pid,
                PState {
                    status,
                    seq: Seq::new(generation ^ 1, 0),
                    ranges: Ranges::default(),
                },
            );
        }
        if let Some(s) = self.p.get_mut(pid) {
            if status == ps::SYSCALL_ABANDONED && s.status == ps::SYSCALL {
                old = ProcState::Running;
                ev.args[1] = u64::from(ps::SYSCALL);
            } else if status == ps::SYSCALL_ABANDONED && s.status == ps::SYSCALL_ABANDONED {
                old = ProcState::Idle;
                ev.args[1] = u64::from(ps::SYSCALL_ABANDONED);
            } else if s.status != status {
                return Err(Error::order(format!(
                    "inconsistent status for proc {pid}: old {} vs. new {}",
                    ps::name(s.status),
                    ps::name(status)
                )));
            }
            s.seq = seq;
        } else {
            self.p.insert(
                pid,
                PState {
                    status,
                    seq,
                    ranges: Ranges::default(),
                },
            );
            old = if generation == self.initial_gen {
                ProcState::Undetermined
            } else {
                ProcState::NotExist
            };
        }
        ev.args[2] = old as u64;
        let mut new = cur;
        if status == ps::RUNNING || status == ps::SYSCALL {
            new.p = pid;
        }
        if status == ps::SYSCALL_ABANDONED && old == ProcState::Running {
            if self.predicting() {
                // Which thread holds the P depends on threads not seen yet.
                return Err(speculation::unsure(
                    "the thread about to lose a P to a steal",
                ));
            }
            // The status is emitted by the thread about to steal the P; report it in the
            // context of the thread that holds it. Pick the lowest such thread ID so the
            // choice is deterministic (Go takes whichever its map yields last).
            let holder = self
                .m_index
                .iter()
                .map(|(&id, &i)| (id, self.ms[i as usize]))
                .filter(|(_, ms)| ms.p == pid)
                .min_by_key(|&(id, _)| id);
            let Some((mid, ms)) = holder else {
                return Err(Error::order(format!(
                    "failed to find sched context for proc {pid} that's about to be stolen"
                )));
            };
            cur = Ctx {
                m: mid,
                p: pid,
                g: ms.g,
            };
        }
        self.push(ev, cur);
        Ok(Some(new))
    }

    #[inline]
    fn proc_start(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        let pid = ev.args[0] as ProcId;
        let seq = Seq::new(generation, ev.args[1]);
        let Some(state) = self.p.get_mut(pid) else {
            return Ok(None);
        };
        if state.status != ps::IDLE || !seq.succeeds(state.seq) || cur.p != NO_PROC {
            return Ok(None);
        }
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::No,
                g: Need::May,
            },
        )?;
        state.status = ps::RUNNING;
        state.seq = seq;
        self.push(ev, cur);
        Ok(Some(Ctx { p: pid, ..cur }))
    }

    #[inline]
    fn proc_stop(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        let Some(state) = self.p.get_mut(cur.p) else {
            return Err(Error::order(format!(
                "event {} for proc ({}) that doesn't exist",
                ev_name(ev.ty),
                cur.p
            )));
        };
        if state.status != ps::RUNNING && state.status != ps::SYSCALL {
            return Err(Error::order(format!(
                "{} event for proc that's not Running or Syscall",
                ev_name(ev.ty)
            )));
        }
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::Must,
                g: Need::May,
            },
        )?;
        state.status = ps::IDLE;
        self.push(ev, cur);
        Ok(Some(Ctx { p: NO_PROC, ..cur }))
    }

    fn proc_steal(&mut self, ev: &mut PreEvent, cur: Ctx, generation: u64) -> Step {
        let pid = ev.args[0] as ProcId;
        let seq = Seq::new(generation, ev.args[1]);
        let Some(state) = self.p.get_mut(pid) else {
            return Ok(None);
        };
        if (state.status != ps::SYSCALL && state.status != ps::SYSCALL_ABANDONED)
            || !seq.succeeds(state.seq)
        {
            return Ok(None);
        }
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::May,
                g: Need::May,
            },
        )?;
        let old = state.status;
        ev.args[3] = u64::from(old);
        state.status = ps::IDLE;
        state.seq = seq;
        if old == ps::SYSCALL_ABANDONED {
            self.push(ev, cur);
            return Ok(Some(cur));
        }
        let mid = ev.args[2] as ThreadId;
        if mid == cur.m {
            if cur.p != pid {
                return Err(Error::order(format!(
                    "tried to self-steal proc {pid} (thread {mid}), but got proc {} instead",
                    cur.p
                )));
            }
            self.push(ev, cur);
            return Ok(Some(Ctx { p: NO_PROC, ..cur }));
        }
        let predicting = self.predicting();
        let Some(victim) = self.thread_state(mid) else {
            return Err(Error::order(format!(
                "stole proc from non-existent thread {mid}"
            )));
        };
        if predicting && victim.p == UNKNOWN {
            // Ordered ahead: the victim held the P in its syscall.
            victim.p = pid;
            self.predict(Pred::Thread {
                m: mid,
                field: Field::P,
                value: pid,
            });
        }
        let Some(victim) = self.thread_state(mid) else {
            return Err(speculation::unsure("the victim of a steal"));
        };
        if victim.p != pid {
            return Err(Error::order(format!(
                "tried to steal proc {pid} from thread {mid}, but got proc {} instead",
                victim.p
            )));
        }
        victim.p = NO_PROC;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn go_status(&mut self, ev: &mut PreEvent, mut cur: Ctx, generation: u64) -> Step {
        let gid = ev.args[0] as GoId;
        let mid = ev.args[1] as ThreadId;
        let status = ev.args[2];
        if status >= 5 {
            return Err(Error::order(format!(
                "invalid status for goroutine {gid}: {status}"
            )));
        }
        let status = status as u8;
        let mut old = GoState::from_wire(u64::from(status));
        let seq = Seq::new(generation, 0);
        if self.predicting() && !self.g.contains_key(gid) && self.first_sight(gid) {
            // Ordered ahead: the goroutine had this status when the generation began.
            self.predict(Pred::Go { id: gid, status });
            self.g
                .insert(gid, GState::new(status, Seq::new(generation ^ 1, 0)));
        }
        if let Some(s) = self.g.get_mut(gid) {
            if s.status != status {
                return Err(Error::order(format!(
                    "inconsistent status for goroutine {gid}: old {} vs. new {}",
                    gs::name(s.status),
                    gs::name(status)
                )));
            }
            s.seq = seq;
        } else if generation == self.initial_gen {
            self.g.insert(gid, GState::new(status, seq));
            old = GoState::Undetermined;
        } else {
            return Err(Error::order(format!(
                "found goroutine status for new goroutine after the first generation: id={gid} status={}",
                gs::name(status)
            )));
        }
        ev.args[2] = ((old as u64) << 32) | u64::from(status);
        let mut new = cur;
        match status {
            gs::RUNNING => new.g = gid,
            gs::SYSCALL => {
                if mid == NO_THREAD {
                    return Err(Error::order(format!(
                        "found goroutine {gid} in syscall without a thread"
                    )));
                }
                if mid == cur.m {
                    if generation != self.initial_gen && cur.g != gid {
                        return Err(Error::order(format!(
                            "inconsistent thread for syscalling goroutine {gid}: thread has goroutine {}",
                            cur.g
                        )));
                    }
                    new.g = gid;
                } else {
                    if let Some(ms) = self.thread_state(mid)
                        && ms.g == UNKNOWN
                    {
                        // Ordered ahead: that thread held the goroutine in its syscall.
                        ms.g = gid;
                        self.predict(Pred::Thread {
                            m: mid,
                            field: Field::G,
                            value: gid,
                        });
                    }
                    match self.thread_state(mid).copied() {
                        Some(ms) => {
                            if ms.g != gid {
                                return Err(Error::order(format!(
                                    "inconsistent thread for syscalling goroutine {gid}: thread has goroutine {}",
                                    ms.g
                                )));
                            }
                            cur.g = ms.g;
                        }
                        None => {
                            let i = self.thread(mid);
                            self.ms[i] = MState { g: gid, p: NO_PROC };
                        }
                    }
                    cur.m = mid;
                }
            }
            _ => {}
        }
        self.push(ev, cur);
        Ok(Some(new))
    }

    fn go_create(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::Must,
                g: Need::May,
            },
        )?;
        if let Some(s) = self.g.get(cur.g)
            && s.status != gs::RUNNING
        {
            return Err(Error::order(format!(
                "{} event for goroutine that's not Running",
                ev_name(ev.ty)
            )));
        }
        let new_g = ev.args[0] as GoId;
        if self.g.contains_key(new_g) {
            return Err(Error::order(format!(
                "tried to create goroutine ({new_g}) that already exists"
            )));
        }
        self.new_goroutine(new_g);
        let status = if ev.ty == EventType::GO_CREATE_BLOCKED {
            gs::WAITING
        } else {
            gs::RUNNABLE
        };
        self.g
            .insert(new_g, GState::new(status, Seq::new(generation, 0)));
        self.push(ev, cur);
        Ok(Some(cur))
    }

    #[inline]
    fn running_g(&mut self, ty: EventType, cur: Ctx, want: u8) -> Result<&mut GState> {
        match self.g.get_mut(cur.g) {
            Some(state) if state.status == want => Ok(state),
            found => Err(running_g_error(ty, cur, want, found.is_some())),
        }
    }

    #[inline(always)]
    fn go_stop_exec(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        validate(cur, USER_GO)?;
        let ty = ev.ty;
        let state = self.running_g(ty, cur, gs::RUNNING)?;
        match ty {
            EventType::GO_STOP => state.status = gs::RUNNABLE,
            EventType::GO_BLOCK => state.status = gs::WAITING,
            _ => {
                self.remove_g(cur.g);
            }
        }
        self.push(ev, cur);
        Ok(Some(Ctx {
            g: NO_GOROUTINE,
            ..cur
        }))
    }

    #[inline(always)]
    fn go_start(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        let gid = ev.args[0] as GoId;
        let seq = Seq::new(generation, ev.args[1]);
        let Some(state) = self.g.get_mut(gid) else {
            return Ok(None);
        };
        if state.status != gs::RUNNABLE || !seq.succeeds(state.seq) {
            return Ok(None);
        }
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::Must,
                g: Need::No,
            },
        )?;
        state.status = gs::RUNNING;
        state.seq = seq;
        self.push(ev, cur);
        Ok(Some(Ctx { g: gid, ..cur }))
    }

    #[inline]
    fn go_unblock(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        let gid = ev.args[0] as GoId;
        let seq = Seq::new(generation, ev.args[1]);
        let Some(state) = self.g.get_mut(gid) else {
            return Ok(None);
        };
        if state.status != gs::WAITING || !seq.succeeds(state.seq) {
            return Ok(None);
        }
        state.status = gs::RUNNABLE;
        state.seq = seq;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn go_switch(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        validate(cur, USER_GO)?;
        let ty = ev.ty;
        self.running_g(ty, cur, gs::RUNNING)?;
        let next = ev.args[0] as GoId;
        let seq = Seq::new(generation, ev.args[1]);
        match self.g.get(next) {
            Some(s) if s.status == gs::WAITING && seq.succeeds(s.seq) => {}
            _ => return Ok(None),
        }
        self.push(ev, cur);
        let mut synth = Event {
            ty: EventType::GO_BLOCK,
            time: ev.time,
            ctx: cur,
            args: [0; 4],
            table: self.table,
        };
        if ty == EventType::GO_SWITCH {
            if let Some(s) = self.g.get_mut(cur.g) {
                s.status = gs::WAITING;
            }
        } else {
            self.remove_g(cur.g);
            synth.ty = EventType::GO_DESTROY;
        }
        self.push_event(synth);
        if let Some(s) = self.g.get_mut(next) {
            s.status = gs::RUNNING;
            s.seq = seq;
        }
        let start = Event {
            ty: EventType::GO_START,
            time: ev.time,
            ctx: Ctx {
                g: NO_GOROUTINE,
                ..cur
            },
            args: [next as u64, ev.args[1], 0, 0],
            table: self.table,
        };
        self.push_event(start);
        Ok(Some(Ctx { g: next, ..cur }))
    }

    #[inline]
    fn go_syscall_begin(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        validate(cur, USER_GO)?;
        let ty = ev.ty;
        self.running_g(ty, cur, gs::RUNNING)?.status = gs::SYSCALL;
        let Some(p) = self.p.get_mut(cur.p) else {
            return Err(Error::order(format!(
                "uninitialized proc {} found during {}",
                cur.p,
                ev_name(ty)
            )));
        };
        p.status = ps::SYSCALL;
        let seq = Seq::new(generation, ev.args[0]);
        if !seq.succeeds(p.seq) {
            return Err(Error::order(format!(
                "failed to advance {}: can't make sequence: {} -> {seq}",
                ev_name(ty),
                p.seq
            )));
        }
        p.seq = seq;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    #[inline]
    fn go_syscall_end(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        validate(cur, USER_GO)?;
        let ty = ev.ty;
        self.running_g(ty, cur, gs::SYSCALL)?.status = gs::RUNNING;
        let Some(p) = self.p.get_mut(cur.p) else {
            return Err(Error::order(format!(
                "uninitialized proc {} found during {}",
                cur.p,
                ev_name(ty)
            )));
        };
        if p.status != ps::SYSCALL {
            return Err(Error::order(format!(
                "expected proc {} in state Syscall, but got {} instead",
                cur.p,
                ps::name(p.status)
            )));
        }
        p.status = ps::RUNNING;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn go_syscall_end_blocked(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        if cur.p != NO_PROC {
            let Some(p) = self.p.get(cur.p) else {
                return Err(Error::order(format!(
                    "uninitialized proc {} found during {}",
                    cur.p,
                    ev_name(ev.ty)
                )));
            };
            if p.status == ps::SYSCALL {
                return Ok(None);
            }
        }
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::May,
                g: Need::Must,
            },
        )?;
        self.running_g(ev.ty, cur, gs::SYSCALL)?.status = gs::RUNNABLE;
        self.push(ev, cur);
        Ok(Some(Ctx {
            g: NO_GOROUTINE,
            ..cur
        }))
    }

    fn go_create_syscall(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::May,
                g: Need::No,
            },
        )?;
        let new_g = ev.args[0] as GoId;
        if self.g.contains_key(new_g) {
            return Err(Error::order(format!(
                "tried to create goroutine ({new_g}) in syscall that already exists"
            )));
        }
        self.new_goroutine(new_g);
        self.g
            .insert(new_g, GState::new(gs::SYSCALL, Seq::new(generation, 0)));
        self.push(ev, cur);
        Ok(Some(Ctx { g: new_g, ..cur }))
    }

    fn go_destroy_syscall(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::May,
                g: Need::Must,
            },
        )?;
        self.running_g(ev.ty, cur, gs::SYSCALL)?;
        self.remove_g(cur.g);
        let mut new = Ctx {
            g: NO_GOROUTINE,
            ..cur
        };
        if cur.p != NO_PROC {
            let Some(p) = self.p.get_mut(cur.p) else {
                return Err(Error::order(format!(
                    "found invalid proc {} during {}",
                    cur.p,
                    ev_name(ev.ty)
                )));
            };
            if p.status != ps::SYSCALL {
                return Err(Error::order(format!(
                    "proc {} in unexpected state {} during {}",
                    cur.p,
                    ps::name(p.status),
                    ev_name(ev.ty)
                )));
            }
            p.status = ps::SYSCALL_ABANDONED;
            new.p = NO_PROC;
            self.push_event(Event {
                ty: EventType::PROC_STEAL,
                time: ev.time,
                ctx: cur,
                args: [cur.p as u64, 0, 0, u64::from(ps::SYSCALL)],
                table: self.table,
            });
        }
        self.push(ev, cur);
        Ok(Some(new))
    }

    fn intern(&mut self, s: &[u8]) -> u32 {
        if let Some(&id) = self.name_ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.to_vec());
        self.name_ids.insert(s.to_vec(), id);
        id
    }

    fn extra_string(&mut self, extra: &mut Vec<Vec<u8>>, s: &[u8]) -> u64 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&id) = self.extra_ids.get(s) {
            return id;
        }
        if extra.is_empty() {
            extra.push(Vec::new());
        }
        let id = extra.len() as u64;
        extra.push(s.to_vec());
        self.extra_ids.insert(s.to_vec(), id);
        id
    }

    fn task_begin(&mut self, ev: &mut PreEvent, cur: Ctx, strings: &dyn StringLookup) -> Step {
        let id = ev.args[0];
        if self.tasks.contains_key(&id) {
            return Err(Error::order(format!("task ID conflict: {id}")));
        }
        if self.predicting() {
            self.predict(Pred::NoTask(id));
        }
        let mut parent = ev.args[1];
        if parent == 0 {
            parent = NO_TASK;
            ev.args[1] = NO_TASK;
        }
        let Some(name) = strings.lookup(ev.args[2]) else {
            return Err(Error::order(format!(
                "invalid string ID {} for {} event",
                ev.args[2], ev.ty.0
            )));
        };
        let name = self.intern(name);
        self.tasks.insert(id, (name, parent));
        validate(cur, USER_GO)?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn task_end(&mut self, ev: &mut PreEvent, cur: Ctx, extra: &mut Vec<Vec<u8>>) -> Step {
        let id = ev.args[0];
        if let Some(spec) = &mut self.spec {
            // Ordered ahead: the type's string is made when the generation is stitched,
            // and a task begun before it is looked up then.
            validate(cur, USER_GO)?;
            let at = spec.out_base + self.out.len();
            if let Some((name, parent)) = self.tasks.remove(&id) {
                ev.args[2] = parent;
                ev.args[3] = 0;
                spec.task_ends.push((at, speculation::TaskEnd::Begun(name)));
            } else {
                ev.args[2] = NO_TASK;
                ev.args[3] = 0;
                if spec.predict {
                    spec.task_ends.push((at, speculation::TaskEnd::Before(id)));
                }
            }
            self.push(ev, cur);
            return Ok(Some(cur));
        }
        if let Some((name, parent)) = self.tasks.remove(&id) {
            ev.args[2] = parent;
            let name = self.names[name as usize].clone();
            ev.args[3] = self.extra_string(extra, &name);
        } else {
            ev.args[2] = NO_TASK;
            ev.args[3] = 0;
        }
        validate(cur, USER_GO)?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn region(&mut self, ev: &PreEvent, cur: Ctx, strings: &dyn StringLookup) -> Step {
        validate(cur, USER_GO)?;
        let task = ev.args[0];
        let Some(name) = strings.lookup(ev.args[1]) else {
            return Err(Error::order(format!(
                "invalid string ID {} for {} event",
                ev.args[1], ev.ty.0
            )));
        };
        let name = self.intern(name);
        let begin = ev.ty == EventType::USER_REGION_BEGIN;
        if !self.g.contains_key(cur.g) {
            let which = if begin {
                "EvUserRegionBegin"
            } else {
                "EvUserRegionEnd"
            };
            return Err(Error::order(format!(
                "encountered {which} without known state for current goroutine {}",
                cur.g
            )));
        }
        if !begin
            && self.predicting()
            && self.g_more.get(&cur.g).is_none_or(|m| m.regions.is_empty())
            && let Some(s) = &mut self.spec
        {
            // Ordered ahead: ends a region begun before the generation (if any), checked
            // when the generation is adopted.
            s.region_ends.push((cur.g, task, name));
            self.push(ev, cur);
            return Ok(Some(cur));
        }
        if begin {
            self.g_more
                .entry(cur.g)
                .or_default()
                .regions
                .push((task, name));
        } else if let Some(more) = self.g_more.get_mut(&cur.g)
            && let Some(&top) = more.regions.last()
        {
            if top != (task, name) {
                let names = &self.names;
                return Err(Error::order(format!(
                    "misuse of region in goroutine {}: region end {{{} {}}} when the inner-most active region start event is {{{} {}}}",
                    cur.g,
                    task,
                    String::from_utf8_lossy(&names[name as usize]),
                    top.0,
                    String::from_utf8_lossy(&names[top.1 as usize]),
                )));
            }
            more.regions.pop();
            self.forget_empty_more(cur.g);
        }
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn gc_active(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        let seq = ev.args[0];
        self.predict_gc(ev.ty, seq);
        if generation == self.initial_gen {
            if self.gc != GcState::Undetermined {
                return Err(Error::order(
                    "GCActive in the first generation isn't first GC event",
                ));
            }
            self.gc_seq = seq;
            self.gc = GcState::Running;
            self.push(ev, cur);
            return Ok(Some(cur));
        }
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(None);
        }
        if self.gc != GcState::Running {
            return Err(Error::order(
                "encountered GCActive while GC was not in progress",
            ));
        }
        self.gc_seq = seq;
        validate(cur, USER_GO)?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn gc_begin(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        let seq = ev.args[0];
        self.predict_gc(ev.ty, seq);
        if self.gc == GcState::Undetermined {
            self.gc_seq = seq;
            self.gc = GcState::Running;
            self.push(ev, cur);
            return Ok(Some(cur));
        }
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(None);
        }
        if self.gc == GcState::Running {
            return Err(Error::order(
                "encountered GCBegin while GC was already in progress",
            ));
        }
        self.gc_seq = seq;
        self.gc = GcState::Running;
        validate(cur, USER_GO)?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn gc_end(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        let seq = ev.args[0];
        self.predict_gc(ev.ty, seq);
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(None);
        }
        match self.gc {
            GcState::NotRunning => {
                return Err(Error::order(
                    "encountered GCEnd when GC was not in progress",
                ));
            }
            GcState::Undetermined => {
                return Err(Error::order(
                    "encountered GCEnd when GC was in an undetermined state",
                ));
            }
            GcState::Running => {}
        }
        self.gc_seq = seq;
        self.gc = GcState::NotRunning;
        validate(cur, USER_GO)?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    #[inline]
    fn annotation(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        validate(cur, USER_GO)?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    #[inline]
    fn heap_metric(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::Must,
                g: Need::May,
            },
        )?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    #[inline]
    fn gc_sweep_begin(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::Must,
                g: Need::May,
            },
        )?;
        let r = RangeType::of(ev.ty, 0);
        self.p_ranges(cur.p, ev.ty)?.begin(r)?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn p_ranges(&mut self, p: ProcId, ty: EventType) -> Result<&mut Ranges> {
        self.predict_p_ranges(p, ty);
        // Go dereferences the P's state without a check; a missing one cannot happen in a
        // trace that got this far, but report it rather than crash.
        match self.p.get_mut(p) {
            Some(s) => Ok(&mut s.ranges),
            None => Err(Error::order(format!(
                "uninitialized proc {p} found during {}",
                ev_name(ty)
            ))),
        }
    }

    fn gc_sweep_active(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        let pid = ev.args[0] as ProcId;
        let initial = generation == self.initial_gen;
        self.predict_p_ranges(pid, ev.ty);
        let Some(p) = self.p.get_mut(pid) else {
            return Err(Error::order(format!(
                "encountered GCSweepActive for unknown proc {pid}"
            )));
        };
        p.ranges.active(RangeType::of(ev.ty, 0), initial)?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    #[inline]
    fn gc_sweep_end(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::Must,
                g: Need::May,
            },
        )?;
        self.p_ranges(cur.p, ev.ty)?.end(ev.ty)?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn go_range_begin(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        validate(cur, USER_GO)?;
        let desc = if ev.ty == EventType::STW_BEGIN {
            ev.args[0]
        } else {
            0
        };
        if !self.g.contains_key(cur.g) {
            return Err(Error::order(format!(
                "encountered event of type {} without known state for current goroutine {}",
                ev.ty.0, cur.g
            )));
        }
        self.predict_g_ranges(cur.g, ev.ty);
        let more = self.g_more.entry(cur.g).or_default();
        more.ranges.begin(RangeType::of(ev.ty, desc))?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn go_range_active(&mut self, ev: &PreEvent, cur: Ctx, generation: u64) -> Step {
        let gid = ev.args[0] as GoId;
        let initial = generation == self.initial_gen;
        if !self.g.contains_key(gid) {
            return Err(Error::order(format!(
                "uninitialized goroutine {gid} found during {}",
                ev_name(ev.ty)
            )));
        }
        self.predict_g_ranges(gid, ev.ty);
        let more = self.g_more.entry(gid).or_default();
        let r = more.ranges.active(RangeType::of(ev.ty, 0), initial);
        self.forget_empty_more(gid);
        r?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn go_range_end(&mut self, ev: &mut PreEvent, cur: Ctx) -> Step {
        validate(cur, USER_GO)?;
        if !self.g.contains_key(cur.g) {
            return Err(Error::order(format!(
                "encountered event of type {} without known state for current goroutine {}",
                ev.ty.0, cur.g
            )));
        }
        self.predict_g_ranges(cur.g, ev.ty);
        let more = self.g_more.entry(cur.g).or_default();
        let desc = more.ranges.end(ev.ty);
        self.forget_empty_more(cur.g);
        let desc = desc?;
        if ev.ty == EventType::STW_END {
            ev.args[0] = desc;
        }
        self.push(ev, cur);
        Ok(Some(cur))
    }

    fn alloc_free(&mut self, ev: &PreEvent, cur: Ctx) -> Step {
        validate(
            cur,
            Reqs {
                m: Need::Must,
                p: Need::May,
                g: Need::May,
            },
        )?;
        self.push(ev, cur);
        Ok(Some(cur))
    }

    /// A dump of the state for "failed to advance" errors, sorted for determinism.
    pub(crate) fn dump(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let mut gs: Vec<_> = self.g.iter().collect();
        gs.sort_by_key(|&(id, _)| id);
        for (id, st) in gs {
            let _ = writeln!(s, "G {id} [status={} seq={}]", gs::name(st.status), st.seq);
        }
        s.push('\n');
        let mut pss: Vec<_> = self.p.iter().collect();
        pss.sort_by_key(|&(id, _)| id);
        for (id, st) in pss {
            let _ = writeln!(s, "P {id} [status={} seq={}]", ps::name(st.status), st.seq);
        }
        s.push('\n');
        let mut ms: Vec<_> = self
            .m_index
            .iter()
            .map(|(id, &i)| (id, self.ms[i as usize]))
            .collect();
        ms.sort_by_key(|(id, _)| **id);
        for (id, st) in ms {
            let _ = writeln!(s, "M {id} [g={} p={}]", st.g, st.p);
        }
        s.push('\n');
        let gc = match self.gc {
            GcState::Undetermined => "Undetermined",
            GcState::NotRunning => "NotRunning",
            GcState::Running => "Running",
        };
        let _ = writeln!(s, "GC {} {gc}", self.gc_seq);
        s
    }
}
