//! The record kinds stored in lanes: goroutine, P and thread spans, and metric points.

use super::intern::{StackId, StrId};
use super::lane::{Record, RecordBytes, enc};
use crate::event::{GoId, GoState, ProcId};

/// "No thread" in a span's thread index.
pub const NO_THREAD_INDEX: u32 = u32::MAX;

/// One span of a goroutine's timeline: the goroutine is in `state` from `time` until the
/// next span starts (or the timeline ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoSpan {
    /// When the state began.
    pub time: i64,
    /// The state.
    pub state: GoState,
    /// Why the goroutine stopped running (block or stop reason), if it did.
    pub reason: StrId,
    /// The goroutine's stack when it entered the state (where it blocked, entered the
    /// syscall, was created, …).
    pub stack: StackId,
    /// The P it ran on (running, or entering a syscall), or -1.
    pub p: ProcId,
    /// The thread it ran on (an index into the trace's thread lanes), or
    /// [`NO_THREAD_INDEX`].
    pub m: u32,
    /// Whether this span began with an unblock (waiting → runnable).
    pub woken: bool,
    /// For an unblock: the goroutine that unblocked it, or -1 (the runtime, the network
    /// poller, a timer…).
    pub waker: GoId,
    /// For an unblock: the unblocker's stack.
    pub waker_stack: StackId,
}

impl Default for GoSpan {
    fn default() -> Self {
        Self {
            time: 0,
            state: GoState::Undetermined,
            reason: StrId(0),
            stack: StackId::NONE,
            p: -1,
            m: NO_THREAD_INDEX,
            woken: false,
            waker: -1,
            waker_stack: StackId::NONE,
        }
    }
}

const HAS_REASON: u8 = 1 << 3;
const HAS_STACK: u8 = 1 << 4;
const HAS_P: u8 = 1 << 5;
const HAS_M: u8 = 1 << 6;
const WOKEN: u8 = 1 << 7;

impl Record for GoSpan {
    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn encode(&self, prev: &Self, out: &mut RecordBytes) {
        let mut head = self.state as u8;
        if self.reason.0 != 0 {
            head |= HAS_REASON;
        }
        if self.stack.is_some() {
            head |= HAS_STACK;
        }
        if self.p >= 0 {
            head |= HAS_P;
        }
        if self.m != NO_THREAD_INDEX {
            head |= HAS_M;
        }
        if self.woken {
            head |= WOKEN;
        }
        out.byte(head);
        out.put(self.time.wrapping_sub(prev.time) as u64);
        if head & HAS_REASON != 0 {
            out.put(u64::from(self.reason.0));
        }
        if head & HAS_STACK != 0 {
            out.put_i(i64::from(self.stack.0) - i64::from(prev.stack.0));
        }
        if head & HAS_P != 0 {
            out.put(self.p as u64);
        }
        if head & HAS_M != 0 {
            out.put(u64::from(self.m));
        }
        if head & WOKEN != 0 {
            out.put_i(self.waker);
            out.put(u64::from(self.waker_stack.0));
        }
    }

    // Always inlined: out of line, the span came back through memory, and the lane
    // iterator's copies of it (its context for the next record, the item) waited on those
    // stores; the analyses that walk every span spent more time there than decoding.
    #[inline(always)]
    fn decode(prev: &Self, bytes: &[u8], pos: &mut usize) -> Self {
        let head = bytes.get(*pos).copied().unwrap_or(0);
        *pos += 1;
        let mut s = Self {
            time: prev.time.wrapping_add(enc::get(bytes, pos) as i64),
            state: GoState::from_u8(head & 7),
            stack: prev.stack,
            ..Self::default()
        };
        if head & HAS_REASON != 0 {
            s.reason = StrId(enc::get(bytes, pos) as u32);
        }
        if head & HAS_STACK != 0 {
            s.stack = StackId((i64::from(prev.stack.0) + enc::get_i(bytes, pos)) as u32);
        } else {
            s.stack = StackId::NONE;
        }
        if head & HAS_P != 0 {
            s.p = enc::get(bytes, pos) as i64;
        }
        if head & HAS_M != 0 {
            s.m = enc::get(bytes, pos) as u32;
        }
        if head & WOKEN != 0 {
            s.woken = true;
            s.waker = enc::get_i(bytes, pos);
            s.waker_stack = StackId(enc::get(bytes, pos) as u32);
        }
        s
    }
}

/// What a P is doing during a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum ProcActivity {
    /// Not held by any thread (or not known yet).
    #[default]
    Idle = 0,
    /// Held by a thread, running `g` (or the scheduler, when `g` is -1).
    Running = 1,
    /// Held by a thread whose goroutine `g` is in a syscall; it may be stolen.
    Syscall = 2,
    /// Not existing (GOMAXPROCS was lowered).
    NotExist = 3,
}

impl ProcActivity {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Running,
            2 => Self::Syscall,
            3 => Self::NotExist,
            _ => Self::Idle,
        }
    }
}

/// One span of a P's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSpan {
    /// When the span began.
    pub time: i64,
    /// What the P was doing.
    pub activity: ProcActivity,
    /// The goroutine it ran (or that was in the syscall), or -1.
    pub g: GoId,
    /// The thread holding it (index into the thread lanes), or [`NO_THREAD_INDEX`].
    pub m: u32,
}

impl Default for ProcSpan {
    fn default() -> Self {
        Self {
            time: 0,
            activity: ProcActivity::Idle,
            g: -1,
            m: NO_THREAD_INDEX,
        }
    }
}

impl Record for ProcSpan {
    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn encode(&self, prev: &Self, out: &mut RecordBytes) {
        // The head byte holds the activity and the low six bits of `g + 1` (goroutine IDs
        // run into the tens of thousands: a byte less than a zigzag uvarint of them).
        let g = self.g.wrapping_add(1) as u64;
        out.byte(self.activity as u8 | ((g as u8 & 0x3f) << 2));
        out.put(self.time.wrapping_sub(prev.time) as u64);
        out.put(g >> 6);
        out.put(u64::from(self.m.wrapping_add(1)));
    }

    #[inline]
    fn decode(prev: &Self, bytes: &[u8], pos: &mut usize) -> Self {
        let head = bytes.get(*pos).copied().unwrap_or(0);
        *pos += 1;
        Self {
            time: prev.time.wrapping_add(enc::get(bytes, pos) as i64),
            activity: ProcActivity::from_u8(head & 3),
            g: ((enc::get(bytes, pos) << 6) | u64::from(head >> 2)).wrapping_sub(1) as i64,
            m: (enc::get(bytes, pos) as u32).wrapping_sub(1),
        }
    }
}

/// One span of a thread's timeline: the P it held, or the goroutine it ran without a P.
///
/// While a thread holds a P, the goroutines it runs are those of the P's lane over the same
/// time ([`super::Timelines::thread_goroutine`] resolves them); `g` is only set when the
/// thread runs a goroutine without a P (a syscall that lost its P, a cgo callback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadSpan {
    /// When the span began.
    pub time: i64,
    /// The P held, or -1.
    pub p: ProcId,
    /// The goroutine it ran without a P, or -1.
    pub g: GoId,
}

impl Default for ThreadSpan {
    fn default() -> Self {
        Self {
            time: 0,
            p: -1,
            g: -1,
        }
    }
}

impl Record for ThreadSpan {
    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn encode(&self, prev: &Self, out: &mut RecordBytes) {
        out.put(self.time.wrapping_sub(prev.time) as u64);
        out.put_i(self.p.wrapping_add(1));
        out.put_i(self.g.wrapping_add(1));
    }

    #[inline]
    fn decode(prev: &Self, bytes: &[u8], pos: &mut usize) -> Self {
        Self {
            time: prev.time.wrapping_add(enc::get(bytes, pos) as i64),
            p: enc::get_i(bytes, pos).wrapping_sub(1),
            g: enc::get_i(bytes, pos).wrapping_sub(1),
        }
    }
}

/// A metric sample: the value from `time` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Point {
    /// When the value was taken.
    pub time: i64,
    /// The value.
    pub value: u64,
}

impl Record for Point {
    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn encode(&self, prev: &Self, out: &mut RecordBytes) {
        out.put(self.time.wrapping_sub(prev.time) as u64);
        out.put_i(self.value.wrapping_sub(prev.value) as i64);
    }

    #[inline]
    fn decode(prev: &Self, bytes: &[u8], pos: &mut usize) -> Self {
        Self {
            time: prev.time.wrapping_add(enc::get(bytes, pos) as i64),
            value: prev.value.wrapping_add(enc::get_i(bytes, pos) as u64),
        }
    }
}

/// How many goroutines are in each state, and how many threads are busy, from `time` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// When the counts took these values.
    pub time: i64,
    /// Runnable goroutines (the run queues).
    pub runnable: u32,
    /// Running goroutines.
    pub running: u32,
    /// Blocked goroutines.
    pub waiting: u32,
    /// Goroutines in syscalls.
    pub syscall: u32,
    /// Threads holding a P or running a goroutine.
    pub threads: u32,
}

impl Record for Counts {
    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn encode(&self, prev: &Self, out: &mut RecordBytes) {
        out.put(self.time.wrapping_sub(prev.time) as u64);
        for (a, b) in self.fields().into_iter().zip(prev.fields()) {
            out.put_i(i64::from(a) - i64::from(b));
        }
    }

    #[inline]
    fn decode(prev: &Self, bytes: &[u8], pos: &mut usize) -> Self {
        let time = prev.time.wrapping_add(enc::get(bytes, pos) as i64);
        let f = prev
            .fields()
            .map(|b| (i64::from(b) + enc::get_i(bytes, pos)) as u32);
        Self {
            time,
            runnable: f[0],
            running: f[1],
            waiting: f[2],
            syscall: f[3],
            threads: f[4],
        }
    }
}

impl Counts {
    fn fields(&self) -> [u32; 5] {
        [
            self.runnable,
            self.running,
            self.waiting,
            self.syscall,
            self.threads,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::lane::Lane;
    use super::*;

    #[test]
    fn go_spans_round_trip() {
        let spans = [
            GoSpan {
                time: 100,
                state: GoState::Runnable,
                stack: StackId(7),
                ..GoSpan::default()
            },
            GoSpan {
                time: 150,
                state: GoState::Running,
                p: 1,
                m: 0,
                ..GoSpan::default()
            },
            GoSpan {
                time: 900,
                state: GoState::Waiting,
                reason: StrId(3),
                stack: StackId(12),
                ..GoSpan::default()
            },
            GoSpan {
                time: 1_000_000,
                state: GoState::Runnable,
                woken: true,
                waker: -1,
                waker_stack: StackId(2),
                ..GoSpan::default()
            },
        ];
        let mut lane = Lane::default();
        for s in spans {
            lane.push(s);
        }
        assert_eq!(lane.iter().collect::<Vec<_>>(), spans);
    }

    #[test]
    fn proc_thread_and_count_records_round_trip() {
        let mut p = Lane::default();
        let ps = [
            ProcSpan {
                time: 5,
                activity: ProcActivity::Running,
                g: 12,
                m: 3,
            },
            ProcSpan {
                time: 9,
                ..ProcSpan::default()
            },
        ];
        ps.iter().for_each(|&s| p.push(s));
        assert_eq!(p.iter().collect::<Vec<_>>(), ps);
        let mut c = Lane::default();
        let cs = [
            Counts {
                time: 1,
                runnable: 200,
                running: 2,
                ..Counts::default()
            },
            Counts {
                time: 2,
                runnable: 199,
                running: 2,
                waiting: 5,
                syscall: 0,
                threads: 3,
            },
        ];
        cs.iter().for_each(|&x| c.push(x));
        assert_eq!(c.iter().collect::<Vec<_>>(), cs);
    }

    #[test]
    fn proc_spans_keep_every_goroutine_id() {
        // IDs around the six bits kept in the head byte, large ones, and what a damaged
        // trace may name (any i64).
        let ids = [
            -1,
            0,
            62,
            63,
            64,
            8191,
            25_000,
            1 << 40,
            i64::MAX,
            i64::MIN,
            -2,
        ];
        let activities = [
            ProcActivity::Idle,
            ProcActivity::Running,
            ProcActivity::Syscall,
            ProcActivity::NotExist,
        ];
        let spans: Vec<ProcSpan> = ids
            .iter()
            .enumerate()
            .map(|(i, &g)| ProcSpan {
                time: i as i64 * 1000,
                activity: activities[i % 4],
                g,
                m: if i % 3 == 0 {
                    NO_THREAD_INDEX
                } else {
                    i as u32
                },
            })
            .collect();
        let mut lane = Lane::default();
        for &s in &spans {
            lane.push(s);
        }
        assert_eq!(lane.iter().collect::<Vec<_>>(), spans);
    }
}
