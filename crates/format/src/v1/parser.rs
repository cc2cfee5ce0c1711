//! Decoding and ordering a whole v1 trace.
//!
//! The steps follow Go's `tracev1.Parse`:
//!
//! 1. **Index**: one pass over every record finds the batches of each P and decodes the CPU
//!    samples, checking only the structure.
//! 2. **Merge**: each P's batches are decoded one at a time, when the P's previous batch has
//!    been merged, and the heads of all P queues are merged by the rules of
//!    [`order`](super::order). Strings, stacks, the frequency and the timer goroutines are
//!    collected as their batches are decoded.
//! 3. **Timestamps**: the merged stream must be sorted by time; syscall exits then take their
//!    real time and the stream is sorted again (stably). Ticks become nanoseconds since the
//!    first event, and timer unblocks and syscall exits move to their fake Ps.
//! 4. **Validation**: [`validate`](super::validate).

use std::collections::HashMap;

use crate::error::{Error, ErrorKind, Result};
use crate::v1::event::Event;
use crate::v1::hash::{IntMap, IntSet};
use crate::v1::order::{Available, Frontier, GStates, Ready, Transition, UNORDERED};
use crate::v1::raw::{Args, Mode, Reader, Record, v1_error};
use crate::v1::spec::{EventType, PROFILE_P, SYSCALL_P, TIMER_P};
use crate::v1::tables::{FrameTable, StackTable, StringTable};
use crate::v1::validate::validate;
use crate::v1::{TIME_ORDER, Trace};
use crate::v2::Frame;
use crate::version::Version;

/// The largest frame count of a stack record Go accepts.
const MAX_FRAMES: u64 = 1000;

/// The batches of one P, in file order.
#[derive(Debug)]
struct PBatches {
    pid: i32,
    offsets: Vec<usize>,
    next: usize,
}

/// One P's queue of decoded, not yet merged events.
#[derive(Debug)]
struct Proc {
    pid: i32,
    events: Vec<Event>,
    pos: usize,
    done: bool,
}

pub(crate) struct Parser<'a> {
    data: &'a [u8],
    reader: Reader<'a>,
    start: usize,
    batches: Vec<PBatches>,
    batch_of_pid: IntMap<i32, usize>,
    cpu_samples: Vec<Event>,
    timed_events: usize,

    strings: IntMap<u64, &'a [u8]>,
    inline_strings: Vec<&'a [u8]>,
    inline_ids: HashMap<&'a [u8], u64>,
    stacks: IntMap<u32, (u32, u32)>,
    stack_pcs: Vec<u64>,
    frames: IntMap<u64, Frame>,
    ticks_per_sec: i64,
    timer_goroutines: IntSet<u64>,

    last_ts: i64,
    last_g: u64,
    last_p: i32,
    last_g_of_p: IntMap<i32, u64>,
}

fn time_order(offset: u64) -> Error {
    Error::new(ErrorKind::V1(TIME_ORDER.to_owned()), offset)
}

/// Go's `Timestamp(f)` for a float64 `f` on amd64: truncation toward zero, and the "integer
/// indefinite" value `i64::MIN` for NaN and anything out of range.
fn go_f64_to_i64(f: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if (-LIMIT..LIMIT).contains(&f) {
        f as i64
    } else {
        i64::MIN
    }
}

impl<'a> Parser<'a> {
    /// A parser of format `minor` over `data`, whose records start at byte `start`.
    pub(crate) fn new(data: &'a [u8], start: usize, minor: u32) -> Self {
        Self {
            data,
            reader: Reader::new(data, start, minor),
            start,
            batches: Vec::new(),
            batch_of_pid: IntMap::default(),
            cpu_samples: Vec::new(),
            timed_events: 0,
            strings: IntMap::default(),
            inline_strings: Vec::new(),
            inline_ids: HashMap::new(),
            stacks: IntMap::default(),
            stack_pcs: Vec::new(),
            frames: IntMap::default(),
            ticks_per_sec: 0,
            timer_goroutines: IntSet::default(),
            last_ts: 0,
            last_g: 0,
            last_p: 0,
            last_g_of_p: IntMap::default(),
        }
    }

    /// Runs every step and returns the ordered, validated events.
    pub(crate) fn parse(mut self, version: Version) -> Result<Trace<'a>> {
        self.index()?;
        let mut events = self.merge()?;
        fix_syscall_exits(&mut events)?;
        if self.ticks_per_sec == 0 {
            return Err(v1_error("no EvFrequency event", self.data.len()));
        }
        self.to_nanoseconds(&mut events);

        let stacks = StackTable::new(
            self.stacks
                .into_iter()
                .map(|(id, range)| (u64::from(id), range))
                .collect(),
            self.stack_pcs,
        );
        validate(&mut events, &stacks)?;
        let mut timer_goroutines: Vec<u64> = self.timer_goroutines.into_iter().collect();
        timer_goroutines.sort_unstable();
        Ok(Trace {
            version,
            events,
            strings: StringTable::new(self.strings.into_iter().collect()),
            inline_strings: self.inline_strings,
            stacks,
            frames: FrameTable::new(self.frames.into_values().collect()),
            timer_goroutines,
            ticks_per_sec: self.ticks_per_sec as u64,
        })
    }

    /// Step 1: finds the batches of every P and decodes the CPU samples.
    fn index(&mut self) -> Result<()> {
        self.reader.seek(self.start);
        let mut current: Option<usize> = None;
        loop {
            let at = self.reader.position();
            let batch = current.and_then(|i| {
                let b = &self.batches[i];
                b.offsets.last().map(|&o| o as u64)
            });
            let in_batch = |e: Error| match batch {
                Some(b) => e.in_batch(b),
                None => e,
            };
            let Some(rec) = self.reader.next(Mode::Index, |_| false).map_err(in_batch)? else {
                break;
            };
            let (ty, args) = match rec {
                Record::String { .. } => continue,
                Record::Batch { pid, .. } => {
                    let i = *self.batch_of_pid.entry(pid).or_insert_with(|| {
                        self.batches.push(PBatches {
                            pid,
                            offsets: Vec::new(),
                            next: 0,
                        });
                        self.batches.len() - 1
                    });
                    self.batches[i].offsets.push(at);
                    current = Some(i);
                    continue;
                }
                Record::Event { ty, args, .. } => (ty, args),
            };
            if current.is_none() {
                return Err(v1_error(
                    format_args!(
                        "read event {} with current P of 0, but P has no batches yet",
                        ty.0
                    ),
                    at,
                ));
            }
            if ty == EventType::CPU_SAMPLE {
                let sample = cpu_sample(args, at).map_err(in_batch)?;
                self.cpu_samples.push(sample);
            } else if ty.is_timed() {
                self.timed_events += 1;
            }
        }
        // Go visits the Ps in map order, which is random; sorting by P makes the result
        // deterministic, and it is one of the orders Go may pick.
        self.batches.sort_by_key(|b| b.pid);
        for (i, b) in self.batches.iter().enumerate() {
            self.batch_of_pid.insert(b.pid, i);
        }
        Ok(())
    }

    /// Step 2: decodes the batches and merges them into one stream (timestamps in ticks).
    fn merge(&mut self) -> Result<Vec<Event>> {
        // The samples were written in the order the tracer collected them; order them by
        // the time the signal handler took.
        let mut samples = std::mem::take(&mut self.cpu_samples);
        samples.sort_by_key(|e| e.ts);

        let mut procs: Vec<Proc> = self
            .batches
            .iter()
            .map(|b| Proc {
                pid: b.pid,
                events: Vec::new(),
                pos: 0,
                done: false,
            })
            .collect();
        let sample_count = samples.len();
        procs.push(Proc {
            pid: PROFILE_P,
            events: samples,
            pos: 0,
            done: false,
        });

        let mut events = Vec::with_capacity(self.timed_events.saturating_add(sample_count));
        let mut gs = GStates::default();
        let mut frontier = Frontier::default();
        let mut available = Available::new(procs.len());
        // Offset of the first event whose time is before its predecessor's; reported only
        // if the merge itself succeeds, as in Go.
        let mut out_of_order: Option<u64> = None;
        loop {
            'scan: while let Some((i, queue)) = available.next() {
                let proc = &mut procs[queue];
                while proc.pos == proc.events.len() {
                    if !self.load_batch(proc)? {
                        proc.done = true;
                        available.remove(i);
                        continue 'scan;
                    }
                }
                let ev = &proc.events[proc.pos];
                let transition = Transition::of(ev);
                if !gs.is_ready(&transition) {
                    available.block(queue, transition.g);
                    continue;
                }
                let ts = ev.ts;
                proc.pos += 1;
                frontier.push(Ready {
                    ts,
                    proc: available.remove(i),
                });
            }

            let Some(Ready { proc, .. }) = frontier.pop() else {
                if let Some(stuck) = procs.iter().find(|p| !p.done) {
                    let offset = stuck.events.get(stuck.pos).map_or(0, |e| e.offset);
                    return Err(Error::new(
                        ErrorKind::V1("no consistent ordering of events possible".into()),
                        offset,
                    ));
                }
                break;
            };
            // The event is still the last one taken from its queue.
            let queue = &procs[proc];
            let Some(&(mut ev)) = queue.pos.checked_sub(1).and_then(|i| queue.events.get(i)) else {
                return Err(v1_error("internal error: a ready event went missing", 0));
            };
            let transition = Transition::of(&ev);
            ev.ty = match ev.ty {
                EventType::GO_START_LOCAL => EventType::GO_START,
                EventType::GO_UNBLOCK_LOCAL => EventType::GO_UNBLOCK,
                EventType::GO_SYS_EXIT_LOCAL => EventType::GO_SYS_EXIT,
                ty => ty,
            };
            if out_of_order.is_none() && events.last().is_some_and(|l: &Event| ev.ts < l.ts) {
                out_of_order = Some(ev.offset);
            }
            events.push(ev);
            if !gs.apply(&transition) {
                return Err(v1_error(
                    "encountered impossible goroutine state transition",
                    ev.offset as usize,
                ));
            }
            if transition.g != UNORDERED {
                available.wake(transition.g);
            }
            available.push(proc);
        }

        // The merge follows sequence numbers, not time; the times must agree with it.
        match out_of_order {
            Some(offset) => Err(time_order(offset)),
            None => Ok(events),
        }
    }

    /// Decodes the next batch of `proc`'s P into its queue; `false` when there is none.
    fn load_batch(&mut self, proc: &mut Proc) -> Result<bool> {
        let Some(&slot) = self.batch_of_pid.get(&proc.pid) else {
            return Ok(false);
        };
        let batch = &mut self.batches[slot];
        let Some(&offset) = batch.offsets.get(batch.next) else {
            return Ok(false);
        };
        batch.next += 1;
        proc.events.clear();
        proc.pos = 0;
        self.reader.seek(offset);
        self.load_records(offset, &mut proc.events)
            .map_err(|e| e.in_batch(offset as u64))?;
        Ok(true)
    }

    fn load_records(&mut self, offset: usize, out: &mut Vec<Event>) -> Result<()> {
        debug_assert_eq!(self.reader.position(), offset);
        let mut got_header = false;
        loop {
            let at = self.reader.position();
            let strings = &self.strings;
            let Some(rec) = self
                .reader
                .next(Mode::Full, |id| strings.contains_key(&id))?
            else {
                return Ok(());
            };
            match rec {
                Record::String { id, bytes } => {
                    self.strings.insert(id, bytes);
                    continue;
                }
                Record::Event {
                    ty: EventType::CPU_SAMPLE,
                    ..
                } => continue,
                Record::Batch { pid, ticks } => {
                    if got_header {
                        return Ok(());
                    }
                    got_header = true;
                    self.last_g_of_p.insert(self.last_p, self.last_g);
                    self.last_p = pid;
                    self.last_g = self.last_g_of_p.get(&pid).copied().unwrap_or(0);
                    self.last_ts = ticks as i64;
                }
                Record::Event { ty, args, log } => {
                    if let Some(ev) = self.event(ty, args, log, at)? {
                        out.push(ev);
                    }
                }
            }
        }
    }

    /// Decodes one record of a batch; `Some` for a timed event.
    fn event(
        &mut self,
        ty: EventType,
        args: Args<'a>,
        log: &'a [u8],
        at: usize,
    ) -> Result<Option<Event>> {
        if ty == EventType::STACK {
            self.stack(args, at)?;
            return Ok(None);
        }
        let want = ty.arg_count().unwrap_or(0);
        if args.len() != want {
            return Err(v1_error(
                format_args!(
                    "{} has wrong number of arguments: want {want}, got {}",
                    ty.name(),
                    args.len()
                ),
                at,
            ));
        }
        let mut values = args.iter();
        match ty {
            EventType::FREQUENCY => {
                self.ticks_per_sec = values.next().unwrap_or(0) as i64;
                if self.ticks_per_sec <= 0 {
                    // Most likely ticks that differ between CPUs.
                    return Err(time_order(at as u64));
                }
                return Ok(None);
            }
            EventType::TIMER_GOROUTINE => {
                self.timer_goroutines.insert(values.next().unwrap_or(0));
                return Ok(None);
            }
            _ => {}
        }
        let dt = values.next().unwrap_or(0);
        self.last_ts = self.last_ts.wrapping_add(dt as i64);
        let mut ev = Event {
            ts: self.last_ts,
            g: self.last_g,
            offset: at as u64,
            p: self.last_p,
            ty,
            ..Event::default()
        };
        let has_stack = ty.spec().is_some_and(|s| s.stack);
        for (i, v) in values.enumerate() {
            if has_stack && i + 2 == want {
                ev.stack = v as u32;
            } else if let Some(slot) = ev.args.get_mut(i) {
                *slot = v;
            }
        }
        match ty {
            EventType::GO_START | EventType::GO_START_LOCAL | EventType::GO_START_LABEL => {
                self.last_g = ev.args[0];
                ev.g = self.last_g;
            }
            EventType::GO_SYS_EXIT | EventType::GO_WAITING | EventType::GO_IN_SYSCALL => {
                ev.g = ev.args[0];
            }
            EventType::USER_LOG => {
                let next = self.inline_strings.len() as u64;
                let id = *self.inline_ids.entry(log).or_insert(next);
                if id == next {
                    self.inline_strings.push(log);
                }
                ev.args[2] = id;
            }
            ty if ty.stops_goroutine() => self.last_g = 0,
            _ => {}
        }
        Ok(Some(ev))
    }

    /// Decodes a stack record: ID, frame count, then PC, function, file and line per frame.
    fn stack(&mut self, args: Args<'a>, at: usize) -> Result<()> {
        let len = args.len();
        if len < 2 {
            return Err(v1_error(
                format_args!("EvStack has wrong number of arguments: want at least 2, got {len}"),
                at,
            ));
        }
        let mut values = args.iter();
        let id = values.next().unwrap_or(0);
        let frames = values.next().unwrap_or(0);
        if frames > MAX_FRAMES {
            return Err(v1_error(
                format_args!("EvStack has bad number of frames: {frames}"),
                at,
            ));
        }
        let want = 2 + 4 * frames;
        if len as u64 != want {
            return Err(v1_error(
                format_args!("EvStack has wrong number of arguments: want {want}, got {len}"),
                at,
            ));
        }
        // Go keys stacks by the low 32 bits of the ID.
        let id = id as u32;
        if id == 0 || frames == 0 {
            return Ok(());
        }
        let start = u32::try_from(self.stack_pcs.len())
            .map_err(|_| Error::new(ErrorKind::TooLarge("stack table"), at as u64))?;
        for _ in 0..frames {
            let pc = values.next().unwrap_or(0);
            let func = values.next().unwrap_or(0);
            let file = values.next().unwrap_or(0);
            let line = values.next().unwrap_or(0);
            self.stack_pcs.push(pc);
            self.frames.entry(pc).or_insert(Frame {
                pc,
                func,
                file,
                line,
            });
        }
        self.stacks.insert(id, (start, frames as u32));
        Ok(())
    }

    /// Step 3 (end): ticks since the first event become nanoseconds, computed in floating
    /// point as Go does; timer unblocks and syscall exits move to their fake Ps.
    fn to_nanoseconds(&self, events: &mut [Event]) {
        let Some(first) = events.first() else {
            return;
        };
        let min = first.ts;
        let ns_per_tick = 1e9 / self.ticks_per_sec as f64;
        for ev in events {
            ev.ts = go_f64_to_i64(ev.ts.wrapping_sub(min) as f64 * ns_per_tick);
            if ev.ty == EventType::GO_UNBLOCK && self.timer_goroutines.contains(&ev.g) {
                ev.p = TIMER_P;
            }
            if ev.ty == EventType::GO_SYS_EXIT {
                ev.p = SYSCALL_P;
            }
        }
    }
}

/// A CPU sample as the index pass decodes it: `[dt, ts, p, g, stack]`, all in one block.
fn cpu_sample(args: Args<'_>, at: usize) -> Result<Event> {
    let want = EventType::CPU_SAMPLE.arg_count().unwrap_or(0);
    if args.len() != want {
        return Err(v1_error(
            format_args!(
                "CPU sample has wrong number of arguments: want {want}, got {}",
                args.len()
            ),
            at,
        ));
    }
    let mut v = [0u64; 5];
    for (slot, value) in v.iter_mut().zip(args.iter()) {
        *slot = value;
    }
    let [_, ts, p, g, stack] = v;
    Ok(Event {
        ts: ts as i64,
        g,
        args: [0, p, g],
        offset: at as u64,
        stack: stack as u32,
        p: p as i32,
        ty: EventType::CPU_SAMPLE,
    })
}

/// Step 3: checks that the stream is consistent with the real syscall exit times, moves
/// each exit to its real time, and restores time order stably.
fn fix_syscall_exits(events: &mut [Event]) -> Result<()> {
    let mut blocked_at: IntMap<u64, i64> = IntMap::default();
    for ev in events.iter_mut() {
        match ev.ty {
            EventType::GO_SYS_BLOCK | EventType::GO_IN_SYSCALL => {
                blocked_at.insert(ev.g, ev.ts);
            }
            EventType::GO_SYS_EXIT => {
                // Exits merged from GO_SYS_EXIT_LOCAL have their real time in args[1] and
                // zero here; Go leaves them alone, and so do we.
                let ts = ev.args[2] as i64;
                if ts == 0 {
                    continue;
                }
                let block = blocked_at.get(&ev.g).copied().unwrap_or(0);
                if block == 0 {
                    return Err(v1_error("stray syscall exit", ev.offset as usize));
                }
                if ts < block {
                    return Err(time_order(ev.offset));
                }
                ev.ts = ts;
            }
            _ => {}
        }
    }
    stable_sort_by_time(events);
    Ok(())
}

/// Sorts by timestamp, keeping the order of equal timestamps. The input is sorted except for
/// the syscall exits that moved, so an insertion sort is linear in practice; past a budget of
/// moves (hostile input) it gives way to the library's stable sort, which yields the same
/// order.
fn stable_sort_by_time(events: &mut [Event]) {
    let mut budget = events.len().saturating_mul(4).saturating_add(4096);
    for i in 1..events.len() {
        let ts = events[i].ts;
        if events[i - 1].ts <= ts {
            continue;
        }
        let dest = events[..i].partition_point(|e| e.ts <= ts);
        let moves = i - dest;
        if moves > budget {
            events.sort_by_key(|e| e.ts);
            return;
        }
        budget -= moves;
        events[dest..=i].rotate_right(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_conversion_matches_go_on_amd64() {
        assert_eq!(go_f64_to_i64(1.9), 1);
        assert_eq!(go_f64_to_i64(-1.9), -1);
        assert_eq!(go_f64_to_i64(9.3e18), i64::MIN);
        assert_eq!(go_f64_to_i64(-9.3e18), i64::MIN);
        assert_eq!(go_f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(go_f64_to_i64(-9_223_372_036_854_775_808.0), i64::MIN);
    }

    #[test]
    fn stable_sort_keeps_equal_times_in_order() {
        let mk = |ts, offset| Event {
            ts,
            offset,
            ..Event::default()
        };
        let mut events = [mk(1, 0), mk(3, 1), mk(3, 2), mk(2, 3), mk(3, 4), mk(0, 5)];
        stable_sort_by_time(&mut events);
        let order: Vec<_> = events.iter().map(|e| (e.ts, e.offset)).collect();
        assert_eq!(order, [(0, 5), (1, 0), (2, 3), (3, 1), (3, 2), (3, 4)]);

        // Past the budget the library sort takes over, with the same result.
        let mut many: Vec<Event> = (0..10_000).map(|i| mk(10_000 - i, i as u64)).collect();
        stable_sort_by_time(&mut many);
        assert!(many.windows(2).all(|w| w[0].ts < w[1].ts));
    }

    #[test]
    fn syscall_exits_take_their_real_time() {
        let mk = |ty, ts, g, real| Event {
            ty,
            ts,
            g,
            args: [g, 0, real],
            ..Event::default()
        };
        let mut events = [
            mk(EventType::GO_SYS_BLOCK, 10, 1, 0),
            mk(EventType::HEAP_ALLOC, 20, 0, 0),
            mk(EventType::GO_SYS_EXIT, 30, 1, 15),
        ];
        fix_syscall_exits(&mut events).unwrap();
        let order: Vec<_> = events.iter().map(|e| (e.ty, e.ts)).collect();
        assert_eq!(
            order,
            [
                (EventType::GO_SYS_BLOCK, 10),
                (EventType::GO_SYS_EXIT, 15),
                (EventType::HEAP_ALLOC, 20)
            ]
        );

        let mut early = [
            mk(EventType::GO_SYS_BLOCK, 10, 1, 0),
            mk(EventType::GO_SYS_EXIT, 30, 1, 5),
        ];
        let err = fix_syscall_exits(&mut early).unwrap_err();
        assert_eq!(err.kind, ErrorKind::V1(TIME_ORDER.into()));

        let mut stray = [mk(EventType::GO_SYS_EXIT, 30, 1, 5)];
        let err = fix_syscall_exits(&mut stray).unwrap_err();
        assert_eq!(err.kind, ErrorKind::V1("stray syscall exit".into()));
    }
}
