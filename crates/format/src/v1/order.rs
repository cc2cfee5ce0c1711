//! The rules that order v1 events across Ps.
//!
//! Events of one P are in order; events of different Ps are merged by goroutine sequence
//! numbers. Each event that changes a goroutine's state names the state (sequence number and
//! status) the goroutine must be in first, and the state it leaves it in. An event is *ready*
//! when its goroutine is in the required state. GC starts are sequenced the same way, on a
//! pseudo-goroutine. Among the ready events, the earliest by timestamp goes next, picked from
//! a binary heap that breaks ties exactly as Go's `container/heap` code does.
//!
//! Go looks at the head of every waiting P queue again after each merged event, which is
//! quadratic when many queues are stuck (a crafted trace of a few hundred kilobytes takes
//! seconds, a few megabytes minutes). [`Available`] reproduces Go's scan order exactly but
//! looks again only at the queues whose goroutine changed state.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

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

const NONE: usize = usize::MAX;

/// The P queues whose head is not in the frontier, in the order of Go's `availableProcs`
/// (a list with swap-remove), and which of them must be looked at again.
///
/// A queue whose head was found not ready stays so until the goroutine it waits for changes
/// state, so only those queues (and queues that were just added) need another look; visiting
/// them in list order, and following Go's swap-removes, yields Go's order of pushes into the
/// frontier.
#[derive(Debug)]
pub(crate) struct Available {
    /// Queue indices, Go's `availableProcs`.
    list: Vec<usize>,
    /// For each list entry: whether it must be looked at again.
    recheck: Vec<bool>,
    /// Positions in `list` with `recheck` set (and outdated entries, skipped on the way).
    pending: BinaryHeap<Reverse<usize>>,
    /// For each queue: its position in `list`, or `NONE`.
    position: Vec<usize>,
    /// For each goroutine: the first queue whose head waits for it.
    blocked_first: IntMap<u64, usize>,
    /// For each queue: the next queue waiting for the same goroutine, or `NONE`.
    blocked_next: Vec<usize>,
}

impl Available {
    /// Queues `0..n`, all to be looked at.
    pub(crate) fn new(n: usize) -> Self {
        Self {
            list: (0..n).collect(),
            recheck: vec![true; n],
            pending: (0..n).map(Reverse).collect(),
            position: (0..n).collect(),
            blocked_first: IntMap::default(),
            blocked_next: vec![NONE; n],
        }
    }

    /// The next queue to look at, with its position: the first in list order.
    pub(crate) fn next(&mut self) -> Option<(usize, usize)> {
        while let Some(Reverse(i)) = self.pending.pop() {
            if self.recheck.get(i).copied().unwrap_or(false) {
                self.recheck[i] = false;
                return Some((i, self.list[i]));
            }
        }
        None
    }

    /// Removes the queue at position `i`; the last queue takes its place (and, if it must be
    /// looked at, is looked at next, as Go's scan does).
    pub(crate) fn remove(&mut self, i: usize) -> usize {
        let queue = self.list.swap_remove(i);
        self.recheck.swap_remove(i);
        self.position[queue] = NONE;
        if let Some(&moved) = self.list.get(i) {
            self.position[moved] = i;
            if self.recheck[i] {
                self.pending.push(Reverse(i));
            }
        }
        queue
    }

    /// Notes that the head of `queue` waits for goroutine `g` to change state.
    pub(crate) fn block(&mut self, queue: usize, g: u64) {
        self.blocked_next[queue] = self.blocked_first.insert(g, queue).unwrap_or(NONE);
    }

    /// Goroutine `g` changed state: every queue waiting for it is looked at again.
    pub(crate) fn wake(&mut self, g: u64) {
        let mut queue = self.blocked_first.remove(&g).unwrap_or(NONE);
        while queue != NONE {
            let next = std::mem::replace(&mut self.blocked_next[queue], NONE);
            let i = self.position[queue];
            if i != NONE && !self.recheck[i] {
                self.recheck[i] = true;
                self.pending.push(Reverse(i));
            }
            queue = next;
        }
    }

    /// Appends `queue`, to be looked at.
    pub(crate) fn push(&mut self, queue: usize) {
        self.position[queue] = self.list.len();
        self.pending.push(Reverse(self.list.len()));
        self.list.push(queue);
        self.recheck.push(true);
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

    /// Go's scan over `availableProcs`, as a reference for [`Available`].
    fn go_scan(list: &mut Vec<usize>, ready: &dyn Fn(usize) -> Option<bool>) -> Vec<usize> {
        // `ready`: Some(true) ready, Some(false) not ready, None finished (removed).
        let mut pushed = Vec::new();
        let mut i = 0;
        while i < list.len() {
            match ready(list[i]) {
                Some(false) => i += 1,
                Some(true) => pushed.push(list.swap_remove(i)),
                None => {
                    list.swap_remove(i);
                }
            }
        }
        pushed
    }

    #[test]
    fn available_scans_in_gos_order() {
        // Queues 0..8; queue q waits for goroutine q % 3; only goroutines in `woken` move on;
        // queues 5 and 6 are finished.
        let state = |q: usize, woken: &[u64]| match q {
            5 | 6 => None,
            _ => Some(woken.contains(&((q % 3) as u64))),
        };
        let mut go: Vec<usize> = (0..8).collect();
        let mut ours = Available::new(8);
        let mut rounds = vec![];
        for woken in [&[][..], &[1][..], &[0, 2][..]] {
            let expected = go_scan(&mut go, &|q| state(q, woken));
            for &g in woken {
                ours.wake(g);
            }
            let mut pushed = vec![];
            while let Some((i, q)) = ours.next() {
                match state(q, woken) {
                    Some(false) => ours.block(q, (q % 3) as u64),
                    Some(true) => pushed.push(ours.remove(i)),
                    None => {
                        ours.remove(i);
                    }
                }
            }
            assert_eq!(pushed, expected, "woken {woken:?}");
            assert_eq!(ours.list, go);
            rounds.push(pushed);
        }
        // Swap-removes make the order differ from the queue order.
        assert_eq!(rounds, [vec![], vec![1, 7, 4], vec![0, 2, 3]]);
        ours.push(1);
        assert_eq!(ours.next(), Some((ours.list.len() - 1, 1)));
        assert_eq!(ours.next(), None);
    }
}
