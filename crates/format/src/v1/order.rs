//! The rules that order v1 events across Ps.
//!
//! Events of one P are in order; events of different Ps are merged by goroutine sequence
//! numbers. Each event that changes a goroutine's state names the state (sequence number and
//! status) the goroutine must be in first, and the state it leaves it in. An event is *ready*
//! when its goroutine is in the required state. GC starts are sequenced the same way, on a
//! pseudo-goroutine. Among the ready events, the earliest by timestamp goes next, picked from
//! a binary heap that breaks ties exactly as Go's `container/heap` code does.

use crate::v1::event::Event;
use crate::v1::hash::IntMap;
use crate::v1::spec::EventType;

/// A goroutine's scheduling status as ordering sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Status {
    #[default]
    Dead,
    Runnable,
    Running,
    Waiting,
}

/// A goroutine's sequence number and status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct GState {
    pub(crate) seq: u64,
    pub(crate) status: Status,
}

const fn state(seq: u64, status: Status) -> GState {
    GState { seq, status }
}

/// The goroutine of events with no ordering constraint.
pub(crate) const UNORDERED: u64 = u64::MAX;
/// The pseudo-goroutine that sequences GC starts.
const GARBAGE: u64 = u64::MAX - 1;
/// "Any sequence number" (as a requirement) or "keep the sequence number" (as a result).
/// It shares its value with [`UNORDERED`], and sequence numbers read from the trace that
/// happen to equal it are taken the same way, as in Go.
const NOSEQ: u64 = u64::MAX;
/// "The current sequence number plus one", for events that carry no sequence number.
const SEQINC: u64 = u64::MAX - 1;

/// The goroutine an event orders, the state it requires and the state it leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    pub(crate) g: u64,
    pub(crate) init: GState,
    pub(crate) next: GState,
}

impl Transition {
    /// The transition of `ev`.
    pub(crate) fn of(ev: &Event) -> Self {
        use Status::{Dead, Runnable, Running, Waiting};
        let (g, init, next) = match ev.ty {
            EventType::GO_CREATE => (ev.args[0], state(0, Dead), state(1, Runnable)),
            EventType::GO_WAITING | EventType::GO_IN_SYSCALL => {
                (ev.g, state(1, Runnable), state(2, Waiting))
            }
            EventType::GO_START | EventType::GO_START_LABEL => (
                ev.g,
                state(ev.args[1], Runnable),
                state(ev.args[1].wrapping_add(1), Running),
            ),
            EventType::GO_START_LOCAL => (ev.g, state(NOSEQ, Runnable), state(SEQINC, Running)),
            EventType::GO_BLOCK
            | EventType::GO_BLOCK_SEND
            | EventType::GO_BLOCK_RECV
            | EventType::GO_BLOCK_SELECT
            | EventType::GO_BLOCK_SYNC
            | EventType::GO_BLOCK_COND
            | EventType::GO_BLOCK_NET
            | EventType::GO_SLEEP
            | EventType::GO_SYS_BLOCK
            | EventType::GO_BLOCK_GC => (ev.g, state(NOSEQ, Running), state(NOSEQ, Waiting)),
            EventType::GO_SCHED | EventType::GO_PREEMPT => {
                (ev.g, state(NOSEQ, Running), state(NOSEQ, Runnable))
            }
            EventType::GO_UNBLOCK | EventType::GO_SYS_EXIT => (
                ev.args[0],
                state(ev.args[1], Waiting),
                state(ev.args[1].wrapping_add(1), Runnable),
            ),
            EventType::GO_UNBLOCK_LOCAL | EventType::GO_SYS_EXIT_LOCAL => {
                (ev.args[0], state(NOSEQ, Waiting), state(SEQINC, Runnable))
            }
            EventType::GC_START => (
                GARBAGE,
                state(ev.args[0], Dead),
                state(ev.args[0].wrapping_add(1), Dead),
            ),
            _ => (UNORDERED, GState::default(), GState::default()),
        };
        Self { g, init, next }
    }

    /// Whether the event may be merged with its goroutine in state `current`.
    #[inline]
    pub(crate) fn is_ready(&self, current: GState) -> bool {
        self.g == UNORDERED
            || ((self.init.seq == NOSEQ || self.init.seq == current.seq)
                && self.init.status == current.status)
    }
}

/// The state of every ordered goroutine; absent means sequence 0, dead.
#[derive(Debug, Default)]
pub(crate) struct GStates {
    states: IntMap<u64, GState>,
}

impl GStates {
    /// The state of `g`.
    #[inline]
    pub(crate) fn get(&self, g: u64) -> GState {
        self.states.get(&g).copied().unwrap_or_default()
    }

    /// Whether `t` is ready now.
    #[inline]
    pub(crate) fn is_ready(&self, t: &Transition) -> bool {
        t.g == UNORDERED || t.is_ready(self.get(t.g))
    }

    /// Applies `t`; `false` if the goroutine is no longer in the required state.
    pub(crate) fn apply(&mut self, t: &Transition) -> bool {
        if t.g == UNORDERED {
            return true;
        }
        let current = self.get(t.g);
        if !t.is_ready(current) {
            return false;
        }
        let mut next = t.next;
        next.seq = match next.seq {
            NOSEQ => current.seq,
            SEQINC => current.seq.wrapping_add(1),
            seq => seq,
        };
        self.states.insert(t.g, next);
        true
    }
}

/// A ready event: its timestamp and the index of the P queue whose head it is. The event
/// stays in its queue until it leaves the frontier.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ready {
    pub(crate) ts: i64,
    pub(crate) proc: usize,
}

/// The ready events, a min-heap on the timestamp with Go's sift rules, so that equal
/// timestamps leave in the same order as in Go.
#[derive(Debug, Default)]
pub(crate) struct Frontier {
    heap: Vec<Ready>,
}

impl Frontier {
    #[inline]
    fn less(&self, i: usize, j: usize) -> bool {
        self.heap[i].ts < self.heap[j].ts
    }

    pub(crate) fn push(&mut self, r: Ready) {
        self.heap.push(r);
        let mut j = self.heap.len() - 1;
        while j > 0 {
            let parent = (j - 1) / 2;
            if !self.less(j, parent) {
                break;
            }
            self.heap.swap(parent, j);
            j = parent;
        }
    }

    pub(crate) fn pop(&mut self) -> Option<Ready> {
        let n = self.heap.len().checked_sub(1)?;
        self.heap.swap(0, n);
        self.sift_down(n);
        self.heap.pop()
    }

    /// Restores the heap order of the first `n` elements after the root changed.
    fn sift_down(&mut self, n: usize) {
        let mut i = 0;
        loop {
            let left = 2 * i + 1;
            if left >= n {
                break;
            }
            let mut j = left;
            let right = left + 1;
            if right < n && self.less(right, left) {
                j = right;
            }
            if !self.less(j, i) {
                break;
            }
            self.heap.swap(i, j);
            i = j;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ty: EventType, g: u64, args: [u64; 3]) -> Event {
        Event {
            ty,
            g,
            args,
            ..Event::default()
        }
    }

    #[test]
    fn goroutine_lifecycle_orders_by_sequence() {
        let mut gs = GStates::default();
        let create = Transition::of(&ev(EventType::GO_CREATE, 1, [5, 0, 0]));
        let start = Transition::of(&ev(EventType::GO_START, 5, [5, 1, 0]));
        let block = Transition::of(&ev(EventType::GO_BLOCK, 5, [0; 3]));
        let unblock = Transition::of(&ev(EventType::GO_UNBLOCK, 1, [5, 2, 0]));
        let start_local = Transition::of(&ev(EventType::GO_START_LOCAL, 5, [5, 0, 0]));
        assert!(!gs.is_ready(&start));
        assert!(gs.apply(&create));
        assert!(gs.is_ready(&start) && !gs.is_ready(&unblock));
        assert!(gs.apply(&start));
        assert!(gs.apply(&block));
        assert_eq!(gs.get(5), state(2, Status::Waiting));
        assert!(gs.apply(&unblock));
        assert!(gs.apply(&start_local));
        assert_eq!(gs.get(5), state(4, Status::Running));
        assert!(!gs.apply(&create));
    }

    #[test]
    fn gc_starts_are_sequenced() {
        let mut gs = GStates::default();
        let gc = |seq| Transition::of(&ev(EventType::GC_START, 0, [seq, 0, 0]));
        assert!(!gs.is_ready(&gc(1)));
        assert!(gs.apply(&gc(0)));
        assert!(gs.apply(&gc(1)));
        assert!(Transition::of(&ev(EventType::HEAP_ALLOC, 0, [0; 3])).is_ready(GState::default()));
    }

    #[test]
    fn sequence_numbers_that_look_like_markers_act_like_them() {
        // A start with sequence u64::MAX reads as "any sequence" and leaves the wrapped
        // sequence 0; one with u64::MAX - 2 leaves u64::MAX - 1, which reads as "plus one".
        let mut gs = GStates::default();
        let start = |seq| Transition::of(&ev(EventType::GO_START, 9, [9, seq, 0]));
        assert!(gs.apply(&Transition::of(&ev(EventType::GO_CREATE, 0, [9, 0, 0]))));
        assert!(gs.apply(&start(u64::MAX)));
        assert_eq!(gs.get(9), state(0, Status::Running));

        let mut gs = GStates::default();
        gs.states.insert(9, state(u64::MAX - 2, Status::Runnable));
        assert!(gs.apply(&start(u64::MAX - 2)));
        assert_eq!(gs.get(9), state(u64::MAX - 1, Status::Running));
    }

    #[test]
    fn frontier_pops_in_time_order_like_go() {
        let mut f = Frontier::default();
        for (i, ts) in [5, 3, 5, 1, 3, 5].into_iter().enumerate() {
            f.push(Ready { ts, proc: i });
        }
        let order: Vec<_> = std::iter::from_fn(|| f.pop())
            .map(|r| (r.ts, r.proc))
            .collect();
        // Ties come out in the order Go's heap produces, not insertion order.
        assert_eq!(order, [(1, 3), (3, 1), (3, 4), (5, 0), (5, 2), (5, 5)]);
        assert!(f.pop().is_none());
    }
}
