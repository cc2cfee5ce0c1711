//! v1 traces (Go 1.11 to 1.21) as the same event stream Go's reader makes of them.
//!
//! Go's `internal/trace` reads a v1 trace in two steps: `tracev1.Parse` decodes and orders the
//! whole file ([`goroscope_format::v1::parse`] here), then a converter (`tracev1.go`) turns
//! each v1 event into zero, one or two events of the v2 model. [`V1Reader`] is that
//! converter, with the reader's framing around it:
//!
//! - The whole trace is one generation with one [`GenTables`]: the v1 strings under their own
//!   IDs, then the `UserLog` messages and the fixed strings the converter names reasons with,
//!   numbered after the largest v1 ID as Go numbers them; the v1 stacks with their frames.
//! - A Sync comes first, 1 ns before the first event (usually at −1, as v1 times start at 0),
//!   and last, 1 ns after the last event, with no table. An empty trace is just that last
//!   Sync.
//! - Each converted event gets a time strictly after the previous one (+1 ns if needed).
//!   Nothing else of the v2 reader's checking applies (no table validation).
//!
//! The conversion, per v1 event:
//!
//! | v1 event | becomes |
//! |----------|---------|
//! | `GoCreate` before the first `Gomaxprocs` | nothing; at that `Gomaxprocs` (which is dropped), a `GoStatus` Runnable for every such goroutine not seen since |
//! | `GoWaiting`, `GoInSyscall` | `GoStatus` Waiting, Syscall (with no thread) |
//! | `GoStart` before the first `Gomaxprocs` | `GoStatus` Running |
//! | first `ProcStart` / `ProcStop` of a P | `ProcStatus` Running / Idle |
//! | `GoStartLabel` | `GoStart`, then `GoLabel` |
//! | `GoStop`, `GoSched`, `GoPreempt`, `GoSleep`, `GoBlock*` | `GoBlock` or `GoStop` with a reason string (`forever`, `runtime.Gosched`, …) |
//! | `GoSysCall` | `GoSyscallBegin`, if the goroutine's next event is `GoSysBlock` (which is dropped; `GoSysExit` becomes `GoSyscallEndBlocked`); else `GoSyscallBegin` and, 1 ns later, `GoSyscallEnd` |
//! | `GCSTWStart` / `GCSTWDone` | `STWBegin` / `STWEnd` with the reason as a string |
//! | `UserTaskCreate` | `UserTaskBegin`, parent 0 becoming [`NO_TASK`] |
//! | `UserTaskEnd` | `UserTaskEnd` with the begin's parent (unmapped) and type, or [`NO_TASK`] and "" |
//! | `UserRegion` mode 0 / 1 | `UserRegionBegin` / `UserRegionEnd` (another mode: an event of type 0, kind Bad) |
//! | `CPUSample` | `CPUSample` with no thread |
//! | `FutileWakeup` and the record types | the error `unexpected event type N` |
//!
//! The thread (M) of an event is the runtime's `m.id` that the last `ProcStart` of its P
//! named, while that P runs; `GoStartLabel` and the 1 ns syscalls use thread 0 for a P with
//! none, as Go does. The goroutine is the v1 event's (for `GoStart*` and `GoSysExit` that is
//! the goroutine started or exiting), 0 becoming none except on `GoStartLabel` and the 1 ns
//! syscalls. Fake Ps ([`goroscope_format::v1::SYSCALL_P`], …) appear as they are.
//!
//! Any error of the v1 parser fails [`V1Reader::new`], as Go's `NewReader` fails: there is no
//! partial stream. A conversion error ends the stream after the events before it.
//!
//! One choice where Go's result is not determined: Go emits the `GoStatus` Runnable events
//! of the goroutines created before tracing in map order, that is at random; here they come
//! in ascending goroutine ID order.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::iter::FusedIterator;

use goroscope_format::Version;
use goroscope_format::v1::{self, EventType as V1};
use goroscope_format::v2::spec::{go_status, proc_status};
use goroscope_format::v2::{EventType as T, Frame, StackTable, StringTable};

use crate::error::{Error, OrderError, Result};
use crate::event::{
    Ctx, Event, GenTables, GoId, NO_GOROUTINE, NO_TASK, NO_THREAD, ProcId, SYNC, Tables, TaskId,
    ThreadId, Time,
};

/// The reasons the converter names goroutine blocks and stops with, in Go's order; their
/// IDs follow the `UserLog` messages'.
const REASONS: [&str; 12] = [
    "forever",
    "preempted",
    "runtime.Gosched",
    "sleep",
    "chan send",
    "chan receive",
    "network",
    "sync",
    "sync.(*Cond).Wait",
    "select",
    "",
    "GC mark assist wait for work",
];

/// Indexes into [`REASONS`].
mod reason {
    pub(super) const FOREVER: usize = 0;
    pub(super) const PREEMPTED: usize = 1;
    pub(super) const GOSCHED: usize = 2;
    pub(super) const SLEEP: usize = 3;
    pub(super) const CHAN_SEND: usize = 4;
    pub(super) const CHAN_RECV: usize = 5;
    pub(super) const NETWORK: usize = 6;
    pub(super) const SYNC: usize = 7;
    pub(super) const SYNC_COND: usize = 8;
    pub(super) const SELECT: usize = 9;
    pub(super) const EMPTY: usize = 10;
    pub(super) const MARK_ASSIST_WAIT: usize = 11;
}

/// The stop-the-world reasons, by Go's v1 reason number (0 is unknown); their IDs follow
/// the [`REASONS`]'.
const STW_REASONS: [&str; 17] = [
    "",
    "GC mark termination",
    "GC sweep termination",
    "write heap dump",
    "goroutine profile",
    "goroutine profile cleanup",
    "all goroutine stack trace",
    "read mem stats",
    "AllThreadsSyscall",
    "GOMAXPROCS",
    "start trace",
    "stop trace",
    "CountPagesInUse (test)",
    "ReadMetricsSlow (test)",
    "ReadMemStatsSlow (test)",
    "PageCachePagesLeaked (test)",
    "ResetDebugLog (test)",
];

/// The index of the only table of a converted trace.
const TABLE: u32 = 0;

/// What a task begin left for its end.
#[derive(Debug, Clone, Copy)]
struct TaskInfo<'a> {
    /// The parent as the v1 event gave it (0 stays 0).
    parent: u64,
    name: &'a [u8],
}

/// Reads the event stream of a v1 trace, converted to the v2 event model exactly as Go's
/// reader converts it (see the module documentation).
#[derive(Debug)]
pub struct V1Reader<'a> {
    version: Version,
    events: Vec<v1::Event>,
    /// The next v1 event to convert.
    next: usize,
    /// Bit `i` is set if event `i` is a `GoSysCall` whose goroutine's next event is a
    /// `GoSysBlock`.
    blocking_syscalls: Vec<u64>,
    tables: Tables<'a>,
    /// ID of the first `UserLog` message; message `i` has ID `inline_base + i`.
    inline_base: u64,
    /// ID of the first of [`REASONS`], then of [`STW_REASONS`].
    builtin_base: u64,
    /// Converted events not returned yet.
    pending: Vec<Event>,
    pending_at: usize,
    /// Before the first `Gomaxprocs`: the goroutines created and not seen since.
    pre_init: Option<BTreeSet<GoId>>,
    seen_procs: HashSet<i32>,
    proc_ms: HashMap<i32, ThreadId>,
    tasks: HashMap<TaskId, TaskInfo<'a>>,
    extra_ids: HashMap<&'a [u8], u64>,
    last_stw_reason: u64,
    last_ts: Time,
    syncs: u64,
    done: bool,
}

impl<'a> V1Reader<'a> {
    /// A reader over the whole v1 trace `data` (header included). Fails as Go's `NewReader`
    /// does: if the header is not a v1 header or the trace does not parse.
    pub fn new(data: &'a [u8]) -> Result<Self> {
        Self::from_trace(v1::parse(data)?)
    }

    /// A reader over an already parsed v1 trace.
    pub fn from_trace(trace: v1::Trace<'a>) -> Result<Self> {
        let v1::Trace {
            version,
            events,
            strings,
            inline_strings,
            stacks,
            frames,
            ticks_per_sec,
            ..
        } = trace;
        let too_many = || Error::order("trace contains too many strings");
        let max = strings.max_id();
        let inline_base = max.checked_add(1).ok_or_else(too_many)?;
        let builtin_base = max
            .checked_add(inline_strings.len() as u64)
            .and_then(|m| m.checked_add(1))
            .ok_or_else(too_many)?;
        let builtins = REASONS.iter().chain(&STW_REASONS);
        builtin_base
            .checked_add((REASONS.len() + STW_REASONS.len()) as u64 - 1)
            .ok_or_else(too_many)?;

        let mut entries: Vec<(u64, &'a [u8])> = strings.iter().collect();
        entries.extend((inline_base..).zip(inline_strings.iter().copied()));
        entries.extend((builtin_base..).zip(builtins.map(|s| s.as_bytes())));
        let strings = StringTable::from_entries(entries)
            .map_err(|_| Error::order("couldn't add strings: duplicate string ID"))?;

        // Go looks each PC up in its frame map; a PC without a frame reads as a zero frame.
        let missing = Frame {
            pc: 0,
            func: 0,
            file: 0,
            line: 0,
        };
        let stacks = StackTable::from_stacks(stacks.iter().map(|(id, pcs)| {
            let frames = &frames;
            (
                u64::from(id),
                pcs.iter()
                    .map(move |&pc| frames.get(pc).copied().unwrap_or(missing)),
            )
        }))
        .map_err(|_| Error::order("duplicate stack ID"))?;

        let blocking_syscalls = blocking_syscalls(&events);
        let tables = Tables {
            gens: vec![GenTables {
                generation: 1,
                ns_per_tick: 1e9 / ticks_per_sec as f64,
                strings,
                stacks,
                clock: None,
                experimental: Vec::new(),
            }],
            extra: Vec::new(),
        };
        Ok(Self {
            version,
            events,
            next: 0,
            blocking_syscalls,
            tables,
            inline_base,
            builtin_base,
            pending: Vec::new(),
            pending_at: 0,
            pre_init: Some(BTreeSet::new()),
            seen_procs: HashSet::new(),
            proc_ms: HashMap::new(),
            tasks: HashMap::new(),
            extra_ids: HashMap::new(),
            last_stw_reason: 0,
            last_ts: -1,
            syncs: 0,
            done: false,
        })
    }

    /// The trace's format version (1.11, 1.19 or 1.21).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The tables: one [`GenTables`] (index 0) for the whole trace, and the task type names
    /// of the task ends converted so far in [`Tables::extra`].
    ///
    /// Its `ns_per_tick` is the v1 trace's tick length, for reference only: event times are
    /// already nanoseconds.
    pub fn tables(&self) -> &Tables<'a> {
        &self.tables
    }

    /// Takes the tables out of the reader (after the last event).
    pub fn into_tables(self) -> Tables<'a> {
        self.tables
    }

    /// Reads the next event; `None` after the last one or after an error.
    pub fn next_event(&mut self) -> Option<Result<Event>> {
        if self.done {
            return None;
        }
        if self.syncs == 0
            && let Some(first) = self.events.first()
        {
            return Some(Ok(self.sync(TABLE, first.ts.wrapping_sub(1))));
        }
        match self.convert_next() {
            Ok(Some(ev)) => Some(Ok(ev)),
            Ok(None) => {
                self.done = true;
                let t = self.last_ts.wrapping_add(1);
                Some(Ok(self.sync(u32::MAX, t)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    fn sync(&mut self, table: u32, time: Time) -> Event {
        self.syncs += 1;
        Event {
            ty: SYNC,
            time,
            ctx: Ctx::NONE,
            args: [self.syncs, 0, 0, 0],
            table,
        }
    }

    /// The next converted event with its time made strictly increasing; `None` at the end.
    fn convert_next(&mut self) -> Result<Option<Event>> {
        loop {
            let ev = if let Some(&ev) = self.pending.get(self.pending_at) {
                self.pending_at += 1;
                if self.pending_at == self.pending.len() {
                    self.pending.clear();
                    self.pending_at = 0;
                }
                ev
            } else {
                let Some(&ev) = self.events.get(self.next) else {
                    return Ok(None);
                };
                let i = self.next;
                self.next += 1;
                match self.convert(&ev, i)? {
                    Some(ev) => ev,
                    None => continue,
                }
            };
            let mut ev = ev;
            if ev.time <= self.last_ts {
                ev.time = self.last_ts.wrapping_add(1);
            }
            self.last_ts = ev.time;
            return Ok(Some(ev));
        }
    }

    fn reason(&self, r: usize) -> u64 {
        self.builtin_base + r as u64
    }

    fn stw_reason(&self, kind: u64) -> u64 {
        let name = v1::StwReason::from_kind(self.version, kind).as_str();
        let i = STW_REASONS.iter().position(|&s| s == name).unwrap_or(0);
        self.builtin_base + (REASONS.len() + i) as u64
    }

    /// An ID in [`Tables::extra`] for `s`, 0 for "".
    fn extra_string(&mut self, s: &'a [u8]) -> u64 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&id) = self.extra_ids.get(s) {
            return id;
        }
        let extra = &mut self.tables.extra;
        if extra.is_empty() {
            extra.push(Vec::new());
        }
        let id = extra.len() as u64;
        extra.push(s.to_vec());
        self.extra_ids.insert(s, id);
        id
    }

    /// An event in the context of P `p` with its last started thread (0 if none) and
    /// goroutine `g` as is: the context Go gives the events it builds by hand.
    fn on_p(&self, ty: T, ev: &v1::Event, time: Time, args: [u64; 4]) -> Event {
        Event {
            ty,
            time,
            ctx: Ctx {
                m: self.proc_ms.get(&ev.p).copied().unwrap_or(0),
                p: ProcId::from(ev.p),
                g: ev.g as GoId,
            },
            args,
            table: TABLE,
        }
    }

    /// Converts v1 event `i`; `None` if it yields no event (yet).
    fn convert(&mut self, ev: &v1::Event, i: usize) -> Result<Option<Event>> {
        let stack = u64::from(ev.stack);
        let time = ev.ts;
        let [a0, a1, a2] = ev.args;
        let mut args = [a0, a1, a2, 0];
        let reasons = self.builtin_base;
        let block = move |r: usize| (T::GO_BLOCK, [reasons + r as u64, stack, 0, 0]);
        let (ty, new_args) = match ev.ty {
            V1::GOMAXPROCS => {
                if let Some(created) = self.pre_init.take() {
                    // The first Gomaxprocs ends the trace's start: every goroutine that
                    // existed then has been seen.
                    self.pending.extend(created.into_iter().map(|g| Event {
                        ty: T::GO_STATUS,
                        time,
                        ctx: Ctx::NONE,
                        args: [g as u64, u64::MAX, go_status::RUNNABLE, 0],
                        table: TABLE,
                    }));
                    return Ok(None);
                }
                (T::PROCS_CHANGE, args)
            }
            V1::PROC_START => {
                self.proc_ms.insert(ev.p, a0 as ThreadId);
                let p = ev.p as u64;
                if self.seen_procs.insert(ev.p) {
                    (T::PROC_STATUS, [p, proc_status::RUNNING, 0, 0])
                } else {
                    (T::PROC_START, [p, 0, 0, 0])
                }
            }
            V1::PROC_STOP => {
                let p = ev.p as u64;
                if self.seen_procs.insert(ev.p) {
                    (T::PROC_STATUS, [p, proc_status::IDLE, 0, 0])
                } else {
                    (T::PROC_STOP, [p, 0, 0, 0])
                }
            }
            V1::GC_START => (T::GC_BEGIN, args),
            V1::GC_DONE => (T::GC_END, args),
            V1::STW_START => {
                self.last_stw_reason = self.stw_reason(a0);
                (T::STW_BEGIN, [self.last_stw_reason, 0, 0, 0])
            }
            V1::STW_DONE => (T::STW_END, [self.last_stw_reason, 0, 0, 0]),
            V1::GC_SWEEP_START => (T::GC_SWEEP_BEGIN, args),
            V1::GC_SWEEP_DONE => (T::GC_SWEEP_END, args),
            V1::GO_CREATE => {
                if let Some(created) = &mut self.pre_init {
                    created.insert(a0 as GoId);
                    return Ok(None);
                }
                (T::GO_CREATE, args)
            }
            V1::GO_START => {
                if let Some(created) = &mut self.pre_init {
                    created.remove(&(a0 as GoId));
                    (T::GO_STATUS, [a0, u64::MAX, go_status::RUNNING, 0])
                } else {
                    (T::GO_START, args)
                }
            }
            V1::GO_START_LABEL => {
                let label = self.on_p(T::GO_LABEL, ev, time, [a2, 0, 0, 0]);
                self.pending.push(label);
                return Ok(Some(self.on_p(T::GO_START, ev, time, args)));
            }
            V1::GO_END => (T::GO_DESTROY, args),
            V1::GO_STOP => block(reason::FOREVER),
            V1::GO_SCHED => (T::GO_STOP, [self.reason(reason::GOSCHED), stack, 0, 0]),
            V1::GO_PREEMPT => (T::GO_STOP, [self.reason(reason::PREEMPTED), stack, 0, 0]),
            V1::GO_SLEEP => block(reason::SLEEP),
            V1::GO_BLOCK => block(reason::EMPTY),
            V1::GO_UNBLOCK => (T::GO_UNBLOCK, args),
            V1::GO_BLOCK_SEND => block(reason::CHAN_SEND),
            V1::GO_BLOCK_RECV => block(reason::CHAN_RECV),
            V1::GO_BLOCK_SELECT => block(reason::SELECT),
            V1::GO_BLOCK_SYNC => block(reason::SYNC),
            V1::GO_BLOCK_COND => block(reason::SYNC_COND),
            V1::GO_BLOCK_NET => block(reason::NETWORK),
            V1::GO_BLOCK_GC => block(reason::MARK_ASSIST_WAIT),
            V1::GO_SYSCALL => {
                if bit(&self.blocking_syscalls, i) {
                    (T::GO_SYSCALL_BEGIN, [0, stack, 0, 0])
                } else {
                    // A syscall that did not block: 1 ns long.
                    let begin = self.on_p(T::GO_SYSCALL_BEGIN, ev, time, [0, stack, 0, 0]);
                    let end = self.on_p(T::GO_SYSCALL_END, ev, time.wrapping_add(1), [0; 4]);
                    self.pending.push(end);
                    return Ok(Some(begin));
                }
            }
            V1::GO_SYS_EXIT => (T::GO_SYSCALL_END_BLOCKED, args),
            V1::GO_SYS_BLOCK => return Ok(None),
            V1::GO_WAITING | V1::GO_IN_SYSCALL => {
                if let Some(created) = &mut self.pre_init {
                    created.remove(&(a0 as GoId));
                }
                let status = if ev.ty == V1::GO_WAITING {
                    go_status::WAITING
                } else {
                    // v1 does not say which thread the syscall is on.
                    go_status::SYSCALL
                };
                (T::GO_STATUS, [a0, u64::MAX, status, 0])
            }
            V1::HEAP_ALLOC => (T::HEAP_ALLOC, args),
            V1::HEAP_GOAL => (T::HEAP_GOAL, args),
            V1::GC_MARK_ASSIST_START => (T::GC_MARK_ASSIST_BEGIN, args),
            V1::GC_MARK_ASSIST_DONE => (T::GC_MARK_ASSIST_END, args),
            V1::USER_TASK_CREATE => {
                let name = self.tables.gens[0].strings.get(a2).unwrap_or_default();
                self.tasks.insert(a0, TaskInfo { parent: a1, name });
                let parent = if a1 == 0 { NO_TASK } else { a1 };
                (T::USER_TASK_BEGIN, [a0, parent, a2, stack])
            }
            V1::USER_TASK_END => {
                // The task's parent and type travel in the extra arguments.
                let (parent, name) = match self.tasks.remove(&a0) {
                    Some(t) => (t.parent, t.name),
                    None => (NO_TASK, &[][..]),
                };
                (T::USER_TASK_END, [a0, a1, parent, self.extra_string(name)])
            }
            V1::USER_REGION => {
                let ty = match a1 {
                    0 => T::USER_REGION_BEGIN,
                    1 => T::USER_REGION_END,
                    // Go leaves the type unset: an event of type 0.
                    _ => T(0),
                };
                (ty, [a0, a2, stack, 0])
            }
            V1::USER_LOG => (
                T::USER_LOG,
                [a0, a1, self.inline_base.wrapping_add(a2), stack],
            ),
            V1::CPU_SAMPLE => (T::CPU_SAMPLE, [stack, u64::MAX, ev.p as u64, ev.g]),
            other => {
                return Err(Error::Order(OrderError {
                    message: format!("unexpected event type {}", other.0),
                    generation: None,
                    offset: Some(ev.offset),
                }));
            }
        };
        args = new_args;
        // The v1 stack goes where the v2 event keeps its own stack.
        if ev.ty.spec().is_some_and(|s| s.stack)
            && let Some(&i) = ty.spec().and_then(|s| s.stack_ids.first())
        {
            args[i - 1] = stack;
        }
        let mut m = NO_THREAD;
        if ev.p != v1::NO_P
            && ev.ty != V1::CPU_SAMPLE
            && let Some(&t) = self.proc_ms.get(&ev.p)
        {
            m = t;
        }
        if ev.ty == V1::PROC_STOP {
            self.proc_ms.remove(&ev.p);
        }
        let g = if ev.g == 0 {
            NO_GOROUTINE
        } else {
            ev.g as GoId
        };
        Ok(Some(Event {
            ty,
            time,
            ctx: Ctx {
                m,
                p: ProcId::from(ev.p),
                g,
            },
            args,
            table: TABLE,
        }))
    }
}

impl Iterator for V1Reader<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event()
    }
}

impl FusedIterator for V1Reader<'_> {}

fn bit(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
}

/// Which `GoSysCall` events are followed, as the next event of their goroutine, by a
/// `GoSysBlock` (CPU samples count as events of their goroutine, as in Go).
fn blocking_syscalls(events: &[v1::Event]) -> Vec<u64> {
    let mut bits = vec![0u64; events.len().div_ceil(64)];
    let mut next_of: HashMap<u64, V1> = HashMap::new();
    for (i, ev) in events.iter().enumerate().rev() {
        if ev.ty == V1::GO_SYSCALL && next_of.get(&ev.g) == Some(&V1::GO_SYS_BLOCK) {
            bits[i / 64] |= 1 << (i % 64);
        }
        next_of.insert(ev.g, ev.ty);
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, ty: V1, p: i32, g: u64, args: [u64; 3]) -> v1::Event {
        v1::Event {
            ts,
            g,
            args,
            offset: 0,
            stack: 0,
            p,
            ty,
        }
    }

    fn convert(events: Vec<v1::Event>) -> (Vec<Event>, Tables<'static>) {
        let trace = v1::Trace {
            version: Version::GO121,
            events,
            strings: v1::StringTable::default(),
            inline_strings: vec![b"msg"],
            stacks: v1::StackTable::default(),
            frames: v1::FrameTable::default(),
            timer_goroutines: Vec::new(),
            ticks_per_sec: 1_000_000_000,
        };
        let mut r = V1Reader::from_trace(trace).unwrap();
        let events = r.by_ref().collect::<Result<Vec<_>>>().unwrap();
        (events, r.into_tables())
    }

    fn summary(events: &[Event]) -> Vec<(u8, Time, ThreadId, GoId)> {
        events
            .iter()
            .map(|e| (e.ty.0, e.time, e.ctx.m, e.ctx.g))
            .collect()
    }

    #[test]
    fn goroutines_from_before_the_trace_become_runnable_at_the_first_gomaxprocs() {
        let (events, _) = convert(vec![
            ev(0, V1::GO_CREATE, 0, 0, [5, 0, 0]),
            ev(1, V1::GO_CREATE, 0, 0, [3, 0, 0]),
            ev(2, V1::GO_CREATE, 0, 0, [4, 0, 0]),
            ev(3, V1::GO_WAITING, 0, 4, [4, 0, 0]),
            ev(4, V1::GOMAXPROCS, 0, 0, [2, 0, 0]),
            ev(5, V1::GOMAXPROCS, 0, 0, [2, 0, 0]),
        ]);
        let status = |g: u64| [g, u64::MAX, go_status::RUNNABLE, 0];
        assert_eq!(events[0].ty, SYNC);
        assert_eq!(events[0].time, -1);
        assert_eq!(events[1].ty, T::GO_STATUS);
        assert_eq!(events[1].args[2], go_status::WAITING);
        assert_eq!((events[2].time, events[2].args), (4, status(3)));
        assert_eq!((events[3].time, events[3].args), (5, status(5)));
        assert_eq!(events[3].ctx, Ctx::NONE);
        // The second Gomaxprocs is a metric, bumped after the statuses.
        assert_eq!((events[4].ty, events[4].time), (T::PROCS_CHANGE, 6));
        assert_eq!(
            (events[5].ty, events[5].time, events[5].args[0]),
            (SYNC, 7, 2)
        );
        assert_eq!(events[5].table, u32::MAX);
    }

    #[test]
    fn syscalls_block_only_if_the_goroutine_next_blocks() {
        let (events, _) = convert(vec![
            ev(10, V1::PROC_START, 1, 0, [7, 0, 0]),
            ev(20, V1::GO_SYSCALL, 1, 9, [0; 3]),
            ev(25, V1::CPU_SAMPLE, 1, 9, [0, 1, 9]),
            ev(30, V1::GO_SYSCALL, 1, 9, [0; 3]),
            ev(31, V1::GO_SYS_BLOCK, 1, 9, [0; 3]),
            ev(40, V1::GO_SYS_EXIT, v1::SYSCALL_P, 9, [9, 1, 0]),
            ev(50, V1::GO_SYSCALL, 2, 8, [0; 3]),
        ]);
        assert_eq!(
            summary(&events),
            [
                (SYNC.0, 9, NO_THREAD, NO_GOROUTINE),
                (T::PROC_STATUS.0, 10, 7, NO_GOROUTINE),
                (T::GO_SYSCALL_BEGIN.0, 20, 7, 9),
                (T::GO_SYSCALL_END.0, 21, 7, 9),
                (T::CPU_SAMPLE.0, 25, NO_THREAD, 9),
                (T::GO_SYSCALL_BEGIN.0, 30, 7, 9),
                (T::GO_SYSCALL_END_BLOCKED.0, 40, NO_THREAD, 9),
                // On a P that never started: thread 0, as Go's map lookup gives.
                (T::GO_SYSCALL_BEGIN.0, 50, 0, 8),
                (T::GO_SYSCALL_END.0, 51, 0, 8),
                (SYNC.0, 52, NO_THREAD, NO_GOROUTINE),
            ]
        );
    }

    #[test]
    fn tasks_regions_and_logs() {
        let (events, tables) = convert(vec![
            ev(0, V1::USER_TASK_CREATE, 0, 1, [4, 0, 0]),
            ev(1, V1::USER_REGION, 0, 1, [4, 0, 0]),
            ev(2, V1::USER_REGION, 0, 1, [4, 2, 0]),
            ev(3, V1::USER_LOG, 0, 1, [4, 0, 0]),
            ev(4, V1::USER_TASK_END, 0, 1, [4, 0, 0]),
            ev(5, V1::USER_TASK_END, 0, 1, [6, 0, 0]),
        ]);
        let args: Vec<_> = events[1..7].iter().map(|e| (e.ty, e.args)).collect();
        assert_eq!(
            args,
            [
                (T::USER_TASK_BEGIN, [4, NO_TASK, 0, 0]),
                (T::USER_REGION_BEGIN, [4, 0, 0, 0]),
                // Neither begin nor end: Go leaves the type 0.
                (T(0), [4, 0, 0, 0]),
                // The message's ID follows the largest string ID (none here).
                (T::USER_LOG, [4, 0, 1, 0]),
                // The parent as the begin gave it, not mapped to NoTask.
                (T::USER_TASK_END, [4, 0, 0, 0]),
                (T::USER_TASK_END, [6, 0, NO_TASK, 0]),
            ]
        );
        let g = &tables.gens[0];
        assert_eq!(g.strings.get(1), Some(&b"msg"[..]));
        assert_eq!(g.strings.get(2), Some(&b"forever"[..]));
        assert_eq!(g.strings.get(2 + 12 + 10), Some(&b"start trace"[..]));
        assert_eq!(g.strings.len(), 1 + 12 + 17);
    }

    #[test]
    fn record_types_are_unexpected_events() {
        let trace = v1::Trace {
            version: Version::GO111,
            events: vec![ev(0, V1::FUTILE_WAKEUP, 0, 0, [0; 3])],
            strings: v1::StringTable::default(),
            inline_strings: Vec::new(),
            stacks: v1::StackTable::default(),
            frames: v1::FrameTable::default(),
            timer_goroutines: Vec::new(),
            ticks_per_sec: 1,
        };
        let mut r = V1Reader::from_trace(trace).unwrap();
        assert!(r.next_event().unwrap().is_ok());
        let err = r.next_event().unwrap().unwrap_err();
        assert_eq!(err.to_string(), "unexpected event type 36 (at byte 0)");
        assert!(r.next_event().is_none());
    }

    #[test]
    fn blocking_syscalls_look_at_the_next_event_of_the_goroutine() {
        let events = [
            ev(0, V1::GO_SYSCALL, 0, 1, [0; 3]),
            ev(1, V1::GO_SYSCALL, 0, 2, [0; 3]),
            ev(2, V1::GO_SYS_BLOCK, 0, 2, [0; 3]),
            ev(3, V1::GO_SYS_BLOCK, 0, 1, [0; 3]),
            ev(4, V1::GO_SYSCALL, 0, 1, [0; 3]),
        ];
        let bits = blocking_syscalls(&events);
        let blocking: Vec<bool> = (0..events.len()).map(|i| bit(&bits, i)).collect();
        assert_eq!(blocking, [true, true, false, false, false]);
    }
}
