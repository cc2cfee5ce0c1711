//! The record kinds stored in lanes: goroutine, P and thread spans, and metric points.

use super::intern::{StackId, StrId};
use super::lane::{Lane, Record, RecordBytes, enc};
use super::{Interval, Sweep};
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

/// In a goroutine span's head byte, after the state (three bits): the span began with an
/// unblock (the waker and its stack follow).
const WOKEN: u8 = 1 << 3;
/// Two bits of how the P and thread are told: neither (-1 and [`NO_THREAD_INDEX`]), …
const PM_NONE: u8 = 0;
/// … those of the last span that had either (a goroutine mostly runs on the same P and
/// thread), …
const PM_SAME: u8 = 1 << 4;
/// … or given: uvarints of `p + 1` and `m + 1`.
const PM_GIVEN: u8 = 2 << 4;
const PM_MASK: u8 = 3 << 4;
/// Two bits of how the reason and stack are told: neither, …
const SITE_NONE: u8 = 0;
/// … those of the last span that had either (a goroutine mostly blocks at the same few
/// places), …
const SITE_SAME: u8 = 1 << 6;
/// … given: a uvarint of the reason and the stack's difference from the last stack, …
const SITE_GIVEN: u8 = 2 << 6;
/// … or a stack only (no reason): its difference from the last stack.
const SITE_STACK: u8 = 3 << 6;
const SITE_MASK: u8 = 3 << 6;

impl GoSpan {
    /// Whether the span names a reason or a stack.
    fn has_site(&self) -> bool {
        self.reason.0 != 0 || self.stack.is_some()
    }

    /// Whether the span names a P or a thread.
    fn has_pm(&self) -> bool {
        self.p != -1 || self.m != NO_THREAD_INDEX
    }
}

impl Record for GoSpan {
    /// The time of the span before, and the reason and stack, and the P and thread, of the
    /// last spans that had them.
    type Context = (i64, (StrId, StackId), (ProcId, u32));

    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn context(&self, before: &Self::Context) -> Self::Context {
        let site = if self.has_site() {
            (self.reason, self.stack)
        } else {
            before.1
        };
        let pm = if self.has_pm() {
            (self.p, self.m)
        } else {
            before.2
        };
        (self.time, site, pm)
    }

    #[inline(always)]
    fn encode(&self, prev: &Self::Context, out: &mut RecordBytes) {
        let &(time, site, pm) = prev;
        let mut head = self.state as u8;
        if self.woken {
            head |= WOKEN;
        }
        head |= if !self.has_pm() {
            PM_NONE
        } else if (self.p, self.m) == pm {
            PM_SAME
        } else {
            PM_GIVEN
        };
        head |= if !self.has_site() {
            SITE_NONE
        } else if (self.reason, self.stack) == site {
            SITE_SAME
        } else if self.reason.0 == 0 {
            SITE_STACK
        } else {
            SITE_GIVEN
        };
        out.byte(head);
        out.put(self.time.wrapping_sub(time) as u64);
        let mode = head & SITE_MASK;
        if mode == SITE_GIVEN {
            out.put(u64::from(self.reason.0));
        }
        if mode == SITE_GIVEN || mode == SITE_STACK {
            out.put_i(i64::from(self.stack.0) - i64::from(site.1.0));
        }
        if head & PM_MASK == PM_GIVEN {
            out.put(self.p.wrapping_add(1) as u64);
            out.put(u64::from(self.m.wrapping_add(1)));
        }
        if self.woken {
            out.put_i(self.waker);
            out.put(u64::from(self.waker_stack.0));
        }
    }

    // Always inlined: out of line, the span came back through memory, and the lane
    // iterator's copies of it (its context for the next record, the item) waited on those
    // stores; the analyses that walk every span spent more time there than decoding.
    #[inline(always)]
    fn decode(prev: &Self::Context, bytes: &[u8], pos: &mut usize) -> Self {
        let &(time, site, pm) = prev;
        let head = bytes.get(*pos).copied().unwrap_or(0);
        *pos += 1;
        let mut s = Self {
            time: time.wrapping_add(enc::get(bytes, pos) as i64),
            state: GoState::from_u8(head & 7),
            ..Self::default()
        };
        match head & SITE_MASK {
            SITE_NONE => {}
            SITE_SAME => (s.reason, s.stack) = site,
            mode => {
                if mode == SITE_GIVEN {
                    s.reason = StrId(enc::get(bytes, pos) as u32);
                }
                s.stack = StackId((i64::from(site.1.0) + enc::get_i(bytes, pos)) as u32);
            }
        }
        match head & PM_MASK {
            PM_NONE => {}
            PM_SAME => (s.p, s.m) = pm,
            _ => {
                s.p = (enc::get(bytes, pos) as i64).wrapping_sub(1);
                s.m = (enc::get(bytes, pos) as u32).wrapping_sub(1);
            }
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

/// In a P span's head byte, after the activity (two bits): the span's thread is the span
/// before's.
const P_SAME_M: u8 = 1 << 2;
/// Two bits of how the span's goroutine is told: none (-1), …
const P_G_NONE: u8 = 0;
/// … the goroutine of the span before that (a busy P alternates between goroutines and
/// its scheduler, which is none), …
const P_G_AGAIN: u8 = 1 << 3;
/// … the goroutine of the span before, …
const P_G_SAME: u8 = 2 << 3;
/// … or a uvarint of `g + 1` after the time.
const P_G_GIVEN: u8 = 3 << 3;
const P_G_MASK: u8 = 3 << 3;
/// The head byte's top three bits are the time delta's lowest; a uvarint of the rest
/// follows (P spans are short: most take two bytes in all).
const P_TIME_SHIFT: u32 = 5;

impl Record for ProcSpan {
    /// The time, goroutine and thread of the span before, and the goroutine of the span
    /// before that.
    type Context = (i64, GoId, u32, GoId);

    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn context(&self, before: &Self::Context) -> Self::Context {
        (self.time, self.g, self.m, before.1)
    }

    #[inline(always)]
    fn encode(&self, prev: &Self::Context, out: &mut RecordBytes) {
        let &(time, g, m, g_before) = prev;
        let dt = self.time.wrapping_sub(time) as u64;
        let mut head = self.activity as u8 | ((dt as u8) << P_TIME_SHIFT);
        if self.m == m {
            head |= P_SAME_M;
        }
        head |= if self.g == -1 {
            P_G_NONE
        } else if self.g == g {
            P_G_SAME
        } else if self.g == g_before {
            P_G_AGAIN
        } else {
            P_G_GIVEN
        };
        out.byte(head);
        out.put(dt >> (8 - P_TIME_SHIFT));
        if head & P_G_MASK == P_G_GIVEN {
            out.put(self.g.wrapping_add(1) as u64);
        }
        if self.m != m {
            out.put(u64::from(self.m.wrapping_add(1)));
        }
    }

    #[inline]
    fn decode(prev: &Self::Context, bytes: &[u8], pos: &mut usize) -> Self {
        let &(time, g, m, g_before) = prev;
        let head = bytes.get(*pos).copied().unwrap_or(0);
        *pos += 1;
        let dt = (enc::get(bytes, pos) << (8 - P_TIME_SHIFT)) | u64::from(head >> P_TIME_SHIFT);
        let g = match head & P_G_MASK {
            P_G_NONE => -1,
            P_G_SAME => g,
            P_G_AGAIN => g_before,
            _ => (enc::get(bytes, pos) as i64).wrapping_sub(1),
        };
        let m = if head & P_SAME_M != 0 {
            m
        } else {
            (enc::get(bytes, pos) as u32).wrapping_sub(1)
        };
        Self {
            time: time.wrapping_add(dt as i64),
            activity: ProcActivity::from_u8(head & 3),
            g,
            m,
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
    type Context = i64;

    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn context(&self, _: &Self::Context) -> i64 {
        self.time
    }

    #[inline(always)]
    fn encode(&self, prev: &Self::Context, out: &mut RecordBytes) {
        out.put(self.time.wrapping_sub(*prev) as u64);
        out.put_i(self.p.wrapping_add(1));
        out.put_i(self.g.wrapping_add(1));
    }

    #[inline]
    fn decode(prev: &Self::Context, bytes: &[u8], pos: &mut usize) -> Self {
        Self {
            time: prev.wrapping_add(enc::get(bytes, pos) as i64),
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
    type Context = (i64, u64);

    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn context(&self, _: &Self::Context) -> (i64, u64) {
        (self.time, self.value)
    }

    #[inline(always)]
    fn encode(&self, prev: &Self::Context, out: &mut RecordBytes) {
        out.put(self.time.wrapping_sub(prev.0) as u64);
        out.put_i(self.value.wrapping_sub(prev.1) as i64);
    }

    #[inline]
    fn decode(prev: &Self::Context, bytes: &[u8], pos: &mut usize) -> Self {
        Self {
            time: prev.0.wrapping_add(enc::get(bytes, pos) as i64),
            value: prev.1.wrapping_add(enc::get_i(bytes, pos) as u64),
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
    type Context = Self;

    fn time(&self) -> i64 {
        self.time
    }

    #[inline(always)]
    fn context(&self, _: &Self::Context) -> Self {
        *self
    }

    #[inline(always)]
    fn encode(&self, prev: &Self::Context, out: &mut RecordBytes) {
        // A byte of which counts changed (most records change one or two), then the
        // changes.
        let (now, before) = (self.fields(), prev.fields());
        let mut changed = 0u8;
        for (i, (a, b)) in now.iter().zip(&before).enumerate() {
            changed |= u8::from(a != b) << i;
        }
        out.byte(changed);
        out.put(self.time.wrapping_sub(prev.time) as u64);
        for (i, (a, b)) in now.into_iter().zip(before).enumerate() {
            if changed & (1 << i) != 0 {
                out.put_i(i64::from(a) - i64::from(b));
            }
        }
    }

    #[inline]
    fn decode(prev: &Self::Context, bytes: &[u8], pos: &mut usize) -> Self {
        let changed = bytes.get(*pos).copied().unwrap_or(0);
        *pos += 1;
        let time = prev.time.wrapping_add(enc::get(bytes, pos) as i64);
        let mut f = prev.fields();
        for (i, v) in f.iter_mut().enumerate() {
            if changed & (1 << i) != 0 {
                *v = (i64::from(*v) + enc::get_i(bytes, pos)) as u32;
            }
        }
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

/// A P's incremental sweeps, in the order they began, kept compressed (a few bytes each
/// instead of a [`Sweep`]'s 56).
#[derive(Debug, Clone, Default)]
pub struct Sweeps {
    lane: Lane<SweepRecord>,
}

impl Sweeps {
    /// The number of sweeps.
    pub fn len(&self) -> usize {
        self.lane.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.lane.is_empty()
    }

    /// Every sweep, in the order they began (or were first seen).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Sweep> + '_ {
        self.lane.iter().map(|r| r.sweep)
    }

    /// Bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.lane.heap_bytes()
    }

    /// Whether a sweep is open: begun (or seen under way) and not ended.
    pub(crate) fn is_open(&self) -> bool {
        self.lane
            .last()
            .is_some_and(|r| r.sweep.interval.end.is_none())
    }

    /// Opens a sweep by `g` seen at `at`: begun then if `begun`, else already under way.
    pub(crate) fn open(&mut self, at: i64, begun: bool, g: GoId) {
        self.lane.push(SweepRecord {
            seen: at,
            sweep: Sweep {
                interval: Interval {
                    start: begun.then_some(at),
                    end: None,
                },
                g,
                swept: 0,
                reclaimed: 0,
            },
        });
    }

    /// Ends the open sweep at `at`, or, with none open, records one by `g` seen only
    /// ending.
    pub(crate) fn end(&mut self, at: i64, g: GoId, swept: u64, reclaimed: u64) {
        let mut r = match self.lane.last() {
            Some(last) if last.sweep.interval.end.is_none() => last,
            _ => {
                self.lane.push(SweepRecord {
                    seen: at,
                    sweep: Sweep {
                        g,
                        ..Sweep::default()
                    },
                });
                self.lane.last().expect("just pushed")
            }
        };
        r.sweep.interval.end = Some(at);
        r.sweep.swept = swept;
        r.sweep.reclaimed = reclaimed;
        self.lane.replace_last(r);
    }

    /// Releases unused capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.lane.shrink_to_fit();
    }
}

/// A sweep in a lane, ordered by when it was first seen: its start if it was seen
/// beginning, else when it was seen under way or ending.
#[derive(Debug, Clone, Copy, Default)]
struct SweepRecord {
    seen: i64,
    sweep: Sweep,
}

/// In a sweep record's head byte: it was seen beginning (its start is when it was seen).
const BEGUN: u8 = 1;
/// It was seen ending.
const ENDED: u8 = 1 << 1;

impl Record for SweepRecord {
    type Context = i64;

    fn time(&self) -> i64 {
        self.seen
    }

    #[inline(always)]
    fn context(&self, _: &Self::Context) -> i64 {
        self.seen
    }

    fn encode(&self, prev: &Self::Context, out: &mut RecordBytes) {
        let Interval { start, end } = self.sweep.interval;
        debug_assert!(start.is_none_or(|s| s == self.seen));
        let mut head = 0;
        if start.is_some() {
            head |= BEGUN;
        }
        if end.is_some() {
            head |= ENDED;
        }
        out.byte(head);
        out.put(self.seen.wrapping_sub(*prev) as u64);
        if let Some(end) = end {
            out.put_i(end.wrapping_sub(self.seen));
        }
        out.put_i(self.sweep.g);
        out.put(self.sweep.swept);
        out.put(self.sweep.reclaimed);
    }

    fn decode(prev: &Self::Context, bytes: &[u8], pos: &mut usize) -> Self {
        let head = bytes.get(*pos).copied().unwrap_or(0);
        *pos += 1;
        let seen = prev.wrapping_add(enc::get(bytes, pos) as i64);
        let end = (head & ENDED != 0).then(|| seen.wrapping_add(enc::get_i(bytes, pos)));
        Self {
            seen,
            sweep: Sweep {
                interval: Interval {
                    start: (head & BEGUN != 0).then_some(seen),
                    end,
                },
                g: enc::get_i(bytes, pos),
                swept: enc::get(bytes, pos),
                reclaimed: enc::get(bytes, pos),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_keep_each_way_a_sweep_is_seen() {
        let mut s = Sweeps::default();
        // Under way when first seen, then ended.
        s.open(10, false, 4);
        s.end(25, 4, 1 << 20, 300);
        // Seen only ending.
        s.end(40, -1, 7, 0);
        // Begun and ended; then begun and never ended.
        s.open(50, true, 9);
        assert!(s.is_open());
        s.end(50, 9, 0, 0);
        assert!(!s.is_open());
        for i in 0..200 {
            s.open(100 + i * 10, true, i);
            if i % 2 == 0 {
                s.end(105 + i * 10, i, i as u64 * 1000, i as u64);
            }
        }
        let all: Vec<Sweep> = s.iter().collect();
        assert_eq!(all.len(), 203);
        let iv = |start, end| Interval { start, end };
        assert_eq!(all[0].interval, iv(None, Some(25)));
        assert_eq!(
            (all[0].g, all[0].swept, all[0].reclaimed),
            (4, 1 << 20, 300)
        );
        assert_eq!(all[1].interval, iv(None, Some(40)));
        assert_eq!(all[1].g, -1);
        assert_eq!(all[2].interval, iv(Some(50), Some(50)));
        for (i, w) in all[3..].iter().enumerate() {
            let i = i as i64;
            let end = (i % 2 == 0).then_some(105 + i * 10);
            assert_eq!(w.interval, iv(Some(100 + i * 10), end));
            assert_eq!(w.g, i);
            assert_eq!(w.swept, if i % 2 == 0 { i as u64 * 1000 } else { 0 });
        }
        assert!(s.is_open());
        assert!(s.heap_bytes() < 203 * 16, "{}", s.heap_bytes());
    }

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
    fn go_spans_keep_every_field_told_each_way() {
        // Sites and P-thread pairs none, the last's again, given; stacks without reasons,
        // reasons without stacks; odd values a damaged trace may give; across checkpoints.
        let sites = [
            (StrId(0), StackId(0)),
            (StrId(3), StackId(12)),
            (StrId(3), StackId(12)),
            (StrId(0), StackId(40)),
            (StrId(9), StackId(0)),
            (StrId(u32::MAX), StackId(u32::MAX)),
            (StrId(3), StackId(11)),
        ];
        let pms = [
            (-1, NO_THREAD_INDEX),
            (2, 5),
            (2, 5),
            (-1, 5),
            (7, NO_THREAD_INDEX),
            (i64::MIN, 0),
            (-2, u32::MAX - 1),
            (2, 6),
        ];
        let states = [
            GoState::Running,
            GoState::Waiting,
            GoState::Runnable,
            GoState::Syscall,
            GoState::NotExist,
            GoState::Undetermined,
        ];
        let mut spans = Vec::new();
        let mut time = 0i64;
        for i in 0..300usize {
            time += [0, 1, 127, 128, 1 << 33][i % 5];
            let (reason, stack) = sites[(i * 3 / 2) % sites.len()];
            let (p, m) = pms[(i / 2) % pms.len()];
            let woken = i % 11 == 0;
            spans.push(GoSpan {
                time,
                state: states[i % states.len()],
                reason,
                stack,
                p,
                m,
                woken,
                waker: if woken { i as i64 - 50 } else { -1 },
                waker_stack: if woken {
                    StackId(i as u32)
                } else {
                    StackId::NONE
                },
            });
        }
        let mut lane = Lane::default();
        for &s in &spans {
            lane.push(s);
        }
        assert_eq!(lane.iter().collect::<Vec<_>>(), spans);
        for i in [0, 63, 64, 65, 128, 299] {
            assert_eq!(lane.get(i), Some(spans[i]), "{i}");
        }
        // A replaced last span is encoded against what the one before it was.
        let mut last = spans[299];
        (last.reason, last.stack, last.p, last.m) = (StrId(3), StackId(12), 2, 5);
        lane.replace_last(last);
        spans[299] = last;
        let next = GoSpan {
            time: last.time + 1,
            ..last
        };
        lane.push(next);
        spans.push(next);
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

        // Any subset of the counts changing, across checkpoints.
        let mut c = Lane::default();
        let mut x = Counts::default();
        let mut all = Vec::new();
        for i in 0..500u32 {
            x.time += i64::from(i % 7);
            let mask = i.wrapping_mul(2_654_435_761) >> 27;
            let step = |v: u32, bit: u32| {
                if mask & (1 << bit) != 0 {
                    v ^ (i * 37 + bit)
                } else {
                    v
                }
            };
            x.runnable = step(x.runnable, 0);
            x.running = step(x.running, 1);
            x.waiting = step(x.waiting, 2);
            x.syscall = step(x.syscall, 3);
            x.threads = step(x.threads, 4);
            c.push(x);
            all.push(x);
        }
        assert_eq!(c.iter().collect::<Vec<_>>(), all);
        assert_eq!(c.get(321), Some(all[321]));
    }

    #[test]
    fn proc_spans_keep_every_goroutine_id() {
        // Goroutines told each way (none, the span before's, the one before that, given:
        // small, large, and whatever a damaged trace may name), times a few bits apart and
        // far apart, threads kept and changed, across checkpoints.
        let ids = [
            -1,
            0,
            62,
            63,
            64,
            127,
            128,
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
        let gaps = [0, 1, 7, 8, 9, 255, 256, 1023, 1 << 20, 1 << 40];
        let mut spans = Vec::new();
        let mut time = 0i64;
        for i in 0..400usize {
            time += gaps[i % gaps.len()];
            let g = match i % 5 {
                // A goroutine, the scheduler, the same goroutine again.
                0 | 2 => ids[(i / 5) % ids.len()],
                4 => ids[(i / 3) % ids.len()],
                _ => -1,
            };
            spans.push(ProcSpan {
                time,
                activity: activities[i % 4],
                g,
                m: match i % 7 {
                    0 => NO_THREAD_INDEX,
                    1 | 2 => i as u32 / 7,
                    _ => 3,
                },
            });
        }
        let mut lane = Lane::default();
        for &s in &spans {
            lane.push(s);
        }
        assert_eq!(lane.iter().collect::<Vec<_>>(), spans);
        for i in [0, 63, 64, 65, 200, 399] {
            assert_eq!(lane.get(i), Some(spans[i]), "{i}");
        }

        // A replaced last span is encoded against what the one before it was.
        let mut last = spans[399];
        last.g = spans[397].g;
        last.m = 77;
        lane.replace_last(last);
        spans[399] = last;
        let next = ProcSpan {
            time: last.time + 5,
            g: spans[398].g,
            ..last
        };
        lane.push(next);
        spans.push(next);
        assert_eq!(lane.iter().collect::<Vec<_>>(), spans);
    }
}
