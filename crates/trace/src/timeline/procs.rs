//! The P and thread half of the timeline build: every P's and every thread's lane, the
//! sweeps, and the counts of goroutines by state and of busy threads. It needs nothing from
//! the other half and no tables, so it can run on its own thread ahead of the goroutine
//! half (see [`super::build::Pipeline`]); all the goroutine half needs from it is the
//! numbering of threads ([`ProcPart::new_threads`]).

use goroscope_format::v2::EventType;

use super::lane::Lane;
use super::records::{Counts, NO_THREAD_INDEX, ProcActivity, ProcSpan, Sweeps, ThreadSpan};
use super::{Proc, Thread};
use crate::event::{
    Event, EventKind, GoId, GoState, NO_GOROUTINE, NO_PROC, ProcId, ProcState, Resource, ThreadId,
};
use crate::order::IdMap;

/// The coalescing window of the goroutine-count series.
pub(super) const COUNTS_RESOLUTION_NS: i64 = 1_000;

/// P IDs below this are looked up in a table rather than a map (a damaged trace may name
/// any ID; real ones are below GOMAXPROCS).
const P_SLOTS: ProcId = 1 << 12;

/// Builds the P and thread lanes from events fed in order.
#[derive(Debug)]
pub(super) struct ProcPart {
    pub procs: Vec<Proc>,
    pub threads: Vec<Thread>,
    /// The goroutine and busy-thread counts (`Metrics::counts`).
    pub counts_lane: Lane<Counts>,
    counts: Counts,
    /// The last point of `counts`, not yet in the lane.
    pending_counts: Option<Counts>,
    ps: IdMap<ProcId, u32>,
    /// Per P ID below [`P_SLOTS`]: its index, or `u32::MAX` (the hot path of `ps`).
    p_slots: Vec<u32>,
    ms: IdMap<ThreadId, u32>,
    /// Per thread index: the P and goroutine it holds.
    m_state: Vec<(ProcId, GoId)>,
    busy_threads: u32,
    /// The last thread looked up, and its index (threads are few and events come in runs).
    last_thread: (ThreadId, u32),
    /// The time of the last event, and whether there was one (events are clamped to it as
    /// the goroutine half clamps them).
    end: i64,
    first: bool,
    /// Threads seen for the first time since the goroutine half last took them: their ID
    /// and index, in order.
    pub new_threads: Vec<(ThreadId, u32)>,
}

impl ProcPart {
    pub fn new() -> Self {
        Self {
            procs: Vec::new(),
            threads: Vec::new(),
            counts_lane: Lane::default(),
            counts: Counts::default(),
            pending_counts: None,
            ps: IdMap::default(),
            p_slots: Vec::new(),
            ms: IdMap::default(),
            m_state: Vec::new(),
            busy_threads: 0,
            last_thread: (-1, NO_THREAD_INDEX),
            end: 0,
            first: true,
            new_threads: Vec::new(),
        }
    }

    /// Records the counts at `time`: points closer than the resolution to the last one
    /// replace it (keeping its time). The last point waits in `pending_counts` until a
    /// later one does not replace it (re-encoding the lane's last record on every event
    /// cost a tenth of the build).
    pub fn push_counts(&mut self, time: i64) {
        self.counts.time = time;
        match &mut self.pending_counts {
            Some(last) if time - last.time < COUNTS_RESOLUTION_NS => {
                let t = last.time;
                *last = self.counts;
                last.time = t;
            }
            pending => {
                if let Some(last) = pending.replace(self.counts) {
                    self.counts_lane.push(last);
                }
            }
        }
    }

    fn count(&mut self, state: GoState, delta: i32) {
        let slot = match state {
            GoState::Runnable => &mut self.counts.runnable,
            GoState::Running => &mut self.counts.running,
            GoState::Waiting => &mut self.counts.waiting,
            GoState::Syscall => &mut self.counts.syscall,
            _ => return,
        };
        *slot = slot.saturating_add_signed(delta);
    }

    /// Ends the build: the last count point joins its lane.
    pub fn finish(&mut self) {
        if let Some(last) = self.pending_counts.take() {
            self.counts_lane.push(last);
        }
    }

    /// Feeds the next event.
    pub fn event(&mut self, ev: &Event) {
        let time = if !self.first && ev.time < self.end {
            self.end
        } else {
            ev.time
        };
        self.first = false;
        self.end = time;
        match ev.kind() {
            EventKind::StateTransition => self.transition(ev, time),
            EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
                self.sweep(ev, time);
            }
            _ => {}
        }
    }

    #[inline]
    fn thread(&mut self, m: ThreadId) -> u32 {
        if self.last_thread.0 == m && m >= 0 {
            return self.last_thread.1;
        }
        self.other_thread(m)
    }

    fn other_thread(&mut self, m: ThreadId) -> u32 {
        if m < 0 {
            return NO_THREAD_INDEX;
        }
        if let Some(&i) = self.ms.get(&m) {
            self.last_thread = (m, i);
            return i;
        }
        let i = self.threads.len() as u32;
        self.threads.push(Thread {
            id: m,
            spans: Lane::default(),
        });
        self.m_state.push((NO_PROC, NO_GOROUTINE));
        self.ms.insert(m, i);
        self.new_threads.push((m, i));
        self.last_thread = (m, i);
        i
    }

    /// Records that thread `m` now holds `p` (if given) and runs `g` (if given).
    fn set_thread(&mut self, time: i64, m: ThreadId, p: Option<ProcId>, g: Option<GoId>) {
        let i = self.thread(m);
        if i == NO_THREAD_INDEX {
            return;
        }
        let (op, og) = self.m_state[i as usize];
        let (np, ng) = (p.unwrap_or(op), g.unwrap_or(og));
        if (np, ng) == (op, og) {
            return;
        }
        let was_busy = op >= 0 || og >= 0;
        let busy = np >= 0 || ng >= 0;
        if was_busy != busy {
            if busy {
                self.busy_threads += 1;
            } else {
                self.busy_threads = self.busy_threads.saturating_sub(1);
            }
            self.counts.threads = self.busy_threads;
            self.push_counts(time);
        }
        self.m_state[i as usize] = (np, ng);
        // While the thread holds a P, the goroutine it runs is on the P's lane; the thread's
        // lane records the P, and the goroutine only when it runs one without a P.
        let shown = if np >= 0 { NO_GOROUTINE } else { ng };
        let lane = &mut self.threads[i as usize].spans;
        if lane.last().is_some_and(|l| l.p == np && l.g == shown) {
            return;
        }
        let span = ThreadSpan {
            time,
            p: np,
            g: shown,
        };
        if lane.last().is_some_and(|l| l.time == time) {
            lane.replace_last(span);
        } else {
            lane.push(span);
        }
    }

    #[inline]
    fn proc_index(&mut self, p: ProcId) -> Option<u32> {
        // P IDs are small: most are found in `p_slots` without hashing.
        if let Some(&slot) = usize::try_from(p).ok().and_then(|p| self.p_slots.get(p))
            && slot != u32::MAX
        {
            return Some(slot);
        }
        self.other_proc(p)
    }

    fn other_proc(&mut self, p: ProcId) -> Option<u32> {
        if p < 0 {
            return None;
        }
        if let Some(&i) = self.ps.get(&p) {
            return Some(i);
        }
        let i = self.procs.len() as u32;
        self.procs.push(Proc {
            id: p,
            spans: Lane::default(),
            sweeps: Sweeps::default(),
        });
        self.ps.insert(p, i);
        if p < P_SLOTS {
            let p = p as usize;
            if self.p_slots.len() <= p {
                self.p_slots.resize(p + 1, u32::MAX);
            }
            self.p_slots[p] = i;
        }
        Some(i)
    }

    fn set_proc(&mut self, time: i64, p: ProcId, activity: ProcActivity, g: GoId, m: ThreadId) {
        let Some(i) = self.proc_index(p) else {
            return;
        };
        let m = if activity == ProcActivity::Idle {
            NO_THREAD_INDEX
        } else {
            self.thread(m)
        };
        let span = ProcSpan {
            time,
            activity,
            g,
            m,
        };
        let lane = &mut self.procs[i as usize].spans;
        match lane.last() {
            Some(l) if l.activity == span.activity && l.g == span.g && l.m == span.m => {}
            Some(l) if l.time == time => lane.replace_last(span),
            _ => lane.push(span),
        }
    }

    fn transition(&mut self, ev: &Event, t: i64) {
        let Some(tr) = ev.state_transition() else {
            return;
        };
        match tr.resource {
            Resource::Goroutine { id, old, new } => {
                if old == new {
                    return;
                }
                self.count(old, -1);
                self.count(new, 1);
                self.push_counts(t);
                // What the goroutine's thread and P do now.
                match (old, new) {
                    (_, GoState::Running) => {
                        self.set_thread(t, ev.ctx.m, None, Some(id));
                        self.set_proc(t, ev.ctx.p, ProcActivity::Running, id, ev.ctx.m);
                    }
                    (_, GoState::Syscall) => {
                        self.set_thread(t, ev.ctx.m, None, Some(id));
                        self.set_proc(t, ev.ctx.p, ProcActivity::Syscall, id, ev.ctx.m);
                    }
                    (GoState::Running | GoState::Syscall, _) => {
                        self.set_thread(t, ev.ctx.m, None, Some(NO_GOROUTINE));
                        if old == GoState::Running {
                            self.set_proc(
                                t,
                                ev.ctx.p,
                                ProcActivity::Running,
                                NO_GOROUTINE,
                                ev.ctx.m,
                            );
                        }
                    }
                    _ => {}
                }
            }
            Resource::Proc { id, old, new } => {
                if old == new && old != ProcState::Undetermined {
                    return;
                }
                match new {
                    ProcState::Running => {
                        let (activity, g) = if ev.ty == EventType::PROC_STATUS && ev.args[1] == 3 {
                            (ProcActivity::Syscall, ev.ctx.g)
                        } else {
                            (ProcActivity::Running, NO_GOROUTINE)
                        };
                        self.set_proc(t, id, activity, g, ev.ctx.m);
                        self.set_thread(t, ev.ctx.m, Some(id), None);
                    }
                    ProcState::Idle | ProcState::NotExist => {
                        let activity = if new == ProcState::Idle {
                            ProcActivity::Idle
                        } else {
                            ProcActivity::NotExist
                        };
                        self.set_proc(t, id, activity, NO_GOROUTINE, -1);
                        match ev.ty {
                            EventType::PROC_STOP => {
                                self.set_thread(t, ev.ctx.m, Some(NO_PROC), None);
                            }
                            EventType::PROC_STEAL if ev.args[3] != 4 => {
                                // The thread that lost the P: the stealer itself for a
                                // self-steal, otherwise the victim named in the event.
                                let victim = if ev.args[2] as i64 == ev.ctx.m || ev.args[2] == 0 {
                                    ev.ctx.m
                                } else {
                                    ev.args[2] as i64
                                };
                                self.set_thread(t, victim, Some(NO_PROC), None);
                            }
                            _ => {}
                        }
                    }
                    ProcState::Undetermined => {}
                }
            }
        }
    }

    fn sweep(&mut self, ev: &Event, t: i64) {
        use EventType as T;
        match ev.ty {
            T::GC_SWEEP_BEGIN | T::GC_SWEEP_ACTIVE => {
                let p = if ev.ty == T::GC_SWEEP_ACTIVE {
                    ev.args[0] as i64
                } else {
                    ev.ctx.p
                };
                let Some(i) = self.proc_index(p) else {
                    return;
                };
                let sweeps = &mut self.procs[i as usize].sweeps;
                if ev.ty == T::GC_SWEEP_ACTIVE && sweeps.is_open() {
                    return;
                }
                sweeps.open(t, ev.ty == T::GC_SWEEP_BEGIN, ev.ctx.g);
            }
            T::GC_SWEEP_END => {
                let Some(i) = self.proc_index(ev.ctx.p) else {
                    return;
                };
                let sweeps = &mut self.procs[i as usize].sweeps;
                sweeps.end(t, ev.ctx.g, ev.args[0], ev.args[1]);
            }
            _ => {}
        }
    }

    /// Marks a gap after `time` (see [`super::Builder::gap`]): Ps and threads become idle,
    /// and the counts start again from zero.
    pub fn gap(&mut self, time: i64) {
        let procs: Vec<ProcId> = self.ps.keys().copied().collect();
        for p in procs {
            self.set_proc(time, p, ProcActivity::Idle, NO_GOROUTINE, -1);
        }
        let threads: Vec<ThreadId> = self.ms.keys().copied().collect();
        for m in threads {
            self.set_thread(time, m, Some(NO_PROC), Some(NO_GOROUTINE));
        }
        self.busy_threads = 0;
        self.counts = Counts::default();
        self.push_counts(time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_closer_than_the_resolution_replace_the_last_point() {
        let mut b = ProcPart::new();
        let res = COUNTS_RESOLUTION_NS;
        // (time, runnable): runs of close points, far points, a point exactly one
        // resolution after the last kept one.
        let mut time = 0;
        let mut steps = Vec::new();
        for i in 0..200u32 {
            time += match i % 7 {
                0 => res * 3,
                3 => res,
                _ => res / 5,
            };
            steps.push((time, i));
        }
        // The rule, on a plain vector: a point within the resolution of the last one
        // replaces it and keeps its time.
        let mut want: Vec<Counts> = Vec::new();
        for &(time, runnable) in &steps {
            let c = Counts {
                time,
                runnable,
                ..Counts::default()
            };
            match want.last_mut() {
                Some(l) if time - l.time < res => *l = Counts { time: l.time, ..c },
                _ => want.push(c),
            }
        }
        for &(time, runnable) in &steps {
            b.counts.runnable = runnable;
            b.push_counts(time);
        }
        b.finish();
        let got: Vec<Counts> = b.counts_lane.iter().collect();
        assert_eq!(got, want);
        assert!(want.len() > 40 && want.len() < 150, "{}", want.len());
    }
}
