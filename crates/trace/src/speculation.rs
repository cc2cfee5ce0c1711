//! Ordering a generation ahead of the ones before it, and adopting the result.
//!
//! The state an ordering carries into a generation is mostly re-established by the
//! generation's own status events: a goroutine or P gets a status before its first event,
//! and a thread writes the status of the P and goroutine it holds before anything else. So a
//! generation can be ordered before the previous one is done, by *predicting* the state it
//! starts from, lazily: the first time the ordering reads something carried in (a
//! goroutine's status, a thread's P, the GC's sequence number, a goroutine's in-flight
//! ranges), it takes the value that a well-formed trace has there (the status the status
//! event states, the P the thread's status event names, the GC sequence just before the
//! event's) and writes the prediction down.
//!
//! When the generations before are done, [`Ordering::adopt`] checks every prediction
//! against the real state. If all hold, every read of the ordering ahead returned what the
//! sequential ordering would have read, so it made the same decisions and queued the same
//! events: the result is the sequential one. What it could not know, it left for the
//! stitch: what threads held at the start, in the context of the events that show it (marked
//! [`UNKNOWN`]), the tasks ended that began before, and the strings made up for task types.
//! If any prediction fails, or the ordering ahead failed (an error, or a case it does not
//! predict), nothing is adopted and the generation is ordered again from the real state.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use goroscope_format::v2::EventType;

use super::{GcState, GoId, IdHasher, IdMap, MState, Ordering, ProcId, RangeType, Ranges, gs};
use crate::error::Error;
use crate::event::{Ctx, Event, NO_GOROUTINE, NO_PROC, ThreadId};
use crate::reader::PreEvent;

/// What a thread held (P or goroutine) when the generation began, while ordering ahead: not
/// known yet. It appears in the context of events until the generation is adopted.
pub(crate) const UNKNOWN: i64 = i64::MIN + 0x5eed;

type IdSet<T> = HashSet<T, BuildHasherDefault<IdHasher>>;

/// A field of a thread's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    P,
    G,
}

/// A prediction about the state a generation starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pred {
    /// The goroutine exists with this wire status.
    Go { id: GoId, status: u8 },
    /// The goroutine does not exist.
    NoGo(GoId),
    /// The P exists with this wire status.
    Proc { id: ProcId, status: u8 },
    /// The goroutine's in-flight ranges are exactly these.
    GoRanges { id: GoId, ranges: Vec<RangeType> },
    /// The P's in-flight ranges are exactly these.
    ProcRanges { id: ProcId, ranges: Vec<RangeType> },
    /// The GC's state and last sequence number.
    Gc { state: GcState, seq: u64 },
    /// The thread has been seen.
    ThreadExists(ThreadId),
    /// The thread held this P or goroutine (none if never seen).
    Thread {
        m: ThreadId,
        field: Field,
        value: i64,
    },
    /// No task with this ID is active.
    NoTask(u64),
}

/// A task end whose parent and type are completed when the generation is adopted.
#[derive(Debug, Clone, Copy)]
pub(super) enum TaskEnd {
    /// The task began in the generation: its type (interned) is known.
    Begun(u32),
    /// The task, if any, began before the generation.
    Before(u64),
}

/// What ordering a generation ahead predicted and left undone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Speculation {
    /// Whether the state it starts from is predicted; if not, the generation is the trace's
    /// first and starts from nothing.
    pub(super) predict: bool,
    generation: u64,
    initial_gen: u64,
    preds: Vec<Pred>,
    /// Goroutines whose state was predicted or made: in the order first seen, and as a set.
    seen_g: Vec<GoId>,
    seen_g_set: IdSet<GoId>,
    g_ranges_known: IdSet<GoId>,
    p_ranges_known: IdSet<ProcId>,
    gc_known: bool,
    /// Task ends to complete: the index of the event and what is known.
    pub(super) task_ends: Vec<(usize, TaskEnd)>,
    /// Indexes of events whose context may hold [`UNKNOWN`].
    pub(super) unknown: Vec<usize>,
    /// The index of the first event in [`Ordering::out`] (earlier ones were moved out).
    pub(super) out_base: usize,
    /// Region ends with no region begun in the generation: goroutine, task and interned
    /// name. Each ends the innermost region begun before, if any (which must match).
    pub(super) region_ends: Vec<(GoId, u64, u32)>,
}

/// The ordering ahead met a case it does not predict.
#[cold]
pub(super) fn unsure(why: &str) -> Error {
    Error::order(format!(
        "ordered ahead: the state before the generation is needed ({why})"
    ))
}

impl Ordering {
    /// An ordering of generation `generation` alone, ahead of the ones before it.
    /// `initial_gen` is the trace's first generation; if that is `generation`, nothing is
    /// predicted (the state starts empty, as it really does).
    pub(crate) fn ahead(generation: u64, initial_gen: u64) -> Self {
        let predict = generation != initial_gen;
        let mut o = Self::default();
        if predict {
            o.initial_gen = initial_gen;
        }
        o.spec = Some(Box::new(Speculation {
            predict,
            generation,
            initial_gen,
            ..Speculation::default()
        }));
        o
    }

    /// Takes the events ordered so far (the index of the next one stays right).
    pub(crate) fn take_out(&mut self, empty: Vec<Event>) -> Vec<Event> {
        let out = std::mem::replace(&mut self.out, empty);
        if let Some(s) = &mut self.spec {
            s.out_base += out.len();
        }
        out
    }

    pub(super) fn predict(&mut self, pred: Pred) {
        if let Some(s) = &mut self.spec {
            s.preds.push(pred);
        }
    }

    /// Whether goroutine `id` is seen for the first time while ordering ahead (its state
    /// is then predicted).
    pub(super) fn first_sight(&mut self, id: GoId) -> bool {
        let Some(s) = &mut self.spec else {
            return false;
        };
        let first = s.seen_g_set.insert(id);
        if first {
            s.seen_g.push(id);
        }
        first
    }

    /// Goroutine `id` is created: ordered ahead, it must not exist before.
    pub(super) fn new_goroutine(&mut self, id: GoId) {
        if self.predicting() && self.first_sight(id) {
            self.predict(Pred::NoGo(id));
        }
    }

    /// Before a GC event with sequence number `seq`: ordered ahead, the first one predicts
    /// the GC state it needs.
    pub(super) fn predict_gc(&mut self, ty: EventType, seq: u64) {
        let Some(s) = &mut self.spec else {
            return;
        };
        if !s.predict || s.gc_known {
            return;
        }
        s.gc_known = true;
        let state = if ty == EventType::GC_BEGIN {
            GcState::NotRunning
        } else {
            GcState::Running
        };
        self.gc = state;
        self.gc_seq = seq.wrapping_sub(1);
        self.predict(Pred::Gc {
            state,
            seq: self.gc_seq,
        });
    }

    /// Before P `id`'s ranges are used by an event of type `ty`: ordered ahead, the first
    /// use predicts them (a sweep in flight if the event says so, else none).
    pub(super) fn predict_p_ranges(&mut self, id: ProcId, ty: EventType) {
        let Some(s) = &mut self.spec else {
            return;
        };
        if !s.predict || !s.p_ranges_known.insert(id) {
            return;
        }
        let ranges = predicted_ranges(ty);
        if let Some(p) = self.p.get_mut(id) {
            p.ranges = Ranges(ranges.clone());
        }
        self.predict(Pred::ProcRanges { id, ranges });
    }

    /// Like [`Ordering::predict_p_ranges`], for goroutine `id` (a mark assist).
    pub(super) fn predict_g_ranges(&mut self, id: GoId, ty: EventType) {
        let Some(s) = &mut self.spec else {
            return;
        };
        if !s.predict || !s.g_ranges_known.insert(id) {
            return;
        }
        let ranges = predicted_ranges(ty);
        if !ranges.is_empty() {
            self.g_more.entry(id).or_default().ranges = Ranges(ranges.clone());
        }
        self.predict(Pred::GoRanges { id, ranges });
    }

    /// Ordered ahead, before the handler of `ev` runs on thread `cur.m` (state `m_slot`):
    /// predicts what the thread held when the generation began, where the handler decides
    /// on it. Where it only copies it into events, it stays [`UNKNOWN`].
    #[inline]
    pub(super) fn speculate(
        &mut self,
        ev: &PreEvent,
        mut cur: Ctx,
        m_slot: u32,
    ) -> Result<Ctx, Error> {
        if ev.args.contains(&(UNKNOWN as u64)) || cur.m == UNKNOWN {
            // An ID that looks like the marker: order it from the real state.
            return Err(unsure("an ID is the marker of an unknown value"));
        }
        if cur.p != UNKNOWN && cur.g != UNKNOWN {
            return Ok(cur);
        }
        let (p, g) = decided(ev, cur.m);
        let ms = &mut self.ms[m_slot as usize];
        let mut preds = [None, None];
        if cur.p == UNKNOWN
            && let Some(v) = p
        {
            ms.p = v;
            cur.p = v;
            preds[0] = Some((Field::P, v));
        }
        if cur.g == UNKNOWN
            && let Some(v) = g
        {
            ms.g = v;
            cur.g = v;
            preds[1] = Some((Field::G, v));
        }
        for (field, value) in preds.into_iter().flatten() {
            self.predict(Pred::Thread {
                m: cur.m,
                field,
                value,
            });
        }
        Ok(cur)
    }

    /// What thread `m` holds (none if never seen).
    fn held(&self, m: ThreadId, field: Field) -> i64 {
        match (self.m_index.get(&m), field) {
            (Some(&i), Field::P) => self.ms[i as usize].p,
            (Some(&i), Field::G) => self.ms[i as usize].g,
            (None, Field::P) => NO_PROC,
            (None, Field::G) => NO_GOROUTINE,
        }
    }

    /// Takes over the state of `ahead`, which ordered the next generation ahead into `out`
    /// (its events one part after the other),
    /// if everything it predicted holds in this state (which must be the state after the
    /// generations before). Completes `out`: what threads held where it is [`UNKNOWN`]
    /// (the events at `unknown`), and task ends (made-up strings go to `extra`). Returns
    /// `false`, changing nothing, if a prediction fails: the generation must be ordered
    /// again from this state.
    pub(crate) fn adopt(
        &mut self,
        mut ahead: Ordering,
        out: &mut [Vec<Event>],
        extra: &mut Vec<Vec<u8>>,
    ) -> bool {
        let Some(spec) = ahead.spec.take() else {
            return false;
        };
        if !spec.predict {
            // The trace's first generation, ordered from the empty state: right if nothing
            // was ordered before.
            if self.initial_gen != 0 {
                return false;
            }
            self.finish_task_ends(&ahead, &spec, out, extra);
            ahead.out = std::mem::take(&mut self.out);
            ahead.extra_ids = std::mem::take(&mut self.extra_ids);
            *self = ahead;
            return true;
        }
        if self.initial_gen != spec.initial_gen || !self.holds(&spec) {
            return false;
        }
        let Some(ended) = self.regions_ended(&ahead, &spec) else {
            return false;
        };
        let generation = spec.generation;
        for &i in &spec.unknown {
            let Some(ev) = event_at(out, i) else {
                continue;
            };
            let ctx = &mut ev.ctx;
            if ctx.p == UNKNOWN {
                ctx.p = self.held(ctx.m, Field::P);
            }
            if ctx.g == UNKNOWN {
                ctx.g = self.held(ctx.m, Field::G);
            }
        }
        self.finish_task_ends(&ahead, &spec, out, extra);
        #[allow(clippy::iter_over_hash_type)] // Each goroutine is done on its own.
        for (id, n) in ended {
            if let Some(more) = self.g_more.get_mut(&id) {
                let keep = more.regions.len().saturating_sub(n);
                more.regions.truncate(keep);
                self.forget_empty_more(id);
            }
        }
        for &id in &spec.seen_g {
            let Some(&st) = ahead.g.get(id) else {
                self.remove_g(id);
                continue;
            };
            let mut st = st;
            if st.seq.generation != generation
                && let Some(old) = self.g.get(id)
            {
                st.seq = old.seq;
            }
            self.g.insert(id, st);
            let ranges = spec
                .g_ranges_known
                .contains(&id)
                .then(|| ahead.g_more.get(&id).map(|m| m.ranges.clone()));
            let regions: Vec<(u64, u32)> = match ahead.g_more.get(&id) {
                Some(m) => m
                    .regions
                    .iter()
                    .map(|&(task, name)| (task, self.intern(&ahead.names[name as usize])))
                    .collect(),
                None => Vec::new(),
            };
            if ranges.is_some() || !regions.is_empty() {
                let more = self.g_more.entry(id).or_default();
                if let Some(r) = ranges {
                    more.ranges = r.unwrap_or_default();
                }
                more.regions.extend(regions);
                self.forget_empty_more(id);
            }
        }
        for (id, st) in ahead.p.iter() {
            let mut st = st.clone();
            if let Some(old) = self.p.get(id) {
                if st.seq.generation != generation {
                    st.seq = old.seq;
                }
                if !spec.p_ranges_known.contains(&id) {
                    st.ranges = old.ranges.clone();
                }
            }
            self.p.insert(id, st);
        }
        #[allow(clippy::iter_over_hash_type)] // Each thread is taken over on its own.
        for (&m, &i) in &ahead.m_index {
            let ms = ahead.ms[i as usize];
            let p = if ms.p == UNKNOWN {
                self.held(m, Field::P)
            } else {
                ms.p
            };
            let g = if ms.g == UNKNOWN {
                self.held(m, Field::G)
            } else {
                ms.g
            };
            let j = self.thread(m);
            self.ms[j] = MState { g, p };
        }
        #[allow(clippy::iter_over_hash_type)] // Each task is taken over on its own.
        for (&id, &(name, parent)) in &ahead.tasks {
            let name = self.intern(&ahead.names[name as usize]);
            self.tasks.insert(id, (name, parent));
        }
        if spec.gc_known {
            self.gc = ahead.gc;
            self.gc_seq = ahead.gc_seq;
        }
        true
    }

    /// Whether every prediction of `spec` holds in this state.
    fn holds(&self, spec: &Speculation) -> bool {
        let generation = spec.generation;
        spec.preds.iter().all(|pred| match *pred {
            Pred::Go { id, status } => self
                .g
                .get(id)
                .is_some_and(|s| s.status == status && s.seq.generation != generation),
            Pred::NoGo(id) => !self.g.contains_key(id),
            Pred::Proc { id, status } => self
                .p
                .get(id)
                .is_some_and(|s| s.status == status && s.seq.generation != generation),
            Pred::GoRanges { id, ref ranges } => {
                self.g_more.get(&id).map_or(&[][..], |m| &m.ranges.0[..]) == &ranges[..]
            }
            Pred::ProcRanges { id, ref ranges } => {
                self.p.get(id).map_or(&[][..], |p| &p.ranges.0[..]) == &ranges[..]
            }
            Pred::Gc { state, seq } => self.gc == state && self.gc_seq == seq,
            Pred::ThreadExists(m) => self.m_index.contains_key(&m),
            Pred::Thread { m, field, value } => self.held(m, field) == value,
            Pred::NoTask(id) => !self.tasks.contains_key(&id),
        })
    }

    /// How many regions begun before the generation the region ends of `spec` end, per
    /// goroutine; `None` if one does not match the innermost one (ordering here fails).
    fn regions_ended(&self, ahead: &Ordering, spec: &Speculation) -> Option<IdMap<GoId, usize>> {
        let mut ended: IdMap<GoId, usize> = IdMap::default();
        for &(g, task, name) in &spec.region_ends {
            let open = self.g_more.get(&g).map_or(&[][..], |m| &m.regions[..]);
            let n = ended.entry(g).or_default();
            let Some(&(t, nm)) = open.len().checked_sub(*n + 1).map(|i| &open[i]) else {
                continue;
            };
            if t != task || self.names[nm as usize] != ahead.names[name as usize] {
                return None;
            }
            *n += 1;
        }
        Some(ended)
    }

    /// Completes the task ends of `out` that `ahead` left undone, in order.
    fn finish_task_ends(
        &mut self,
        ahead: &Ordering,
        spec: &Speculation,
        out: &mut [Vec<Event>],
        extra: &mut Vec<Vec<u8>>,
    ) {
        for &(i, end) in &spec.task_ends {
            let Some(ev) = event_at(out, i) else {
                continue;
            };
            let name = match end {
                TaskEnd::Begun(name) => ahead.names[name as usize].clone(),
                TaskEnd::Before(id) => match self.tasks.remove(&id) {
                    Some((name, parent)) => {
                        ev.args[2] = parent;
                        self.names[name as usize].clone()
                    }
                    None => continue,
                },
            };
            ev.args[3] = self.extra_string(extra, &name);
        }
    }
}

/// Event `i` of events stored one part after the other.
fn event_at(parts: &mut [Vec<Event>], mut i: usize) -> Option<&mut Event> {
    for p in parts {
        if i < p.len() {
            return p.get_mut(i);
        }
        i -= p.len();
    }
    None
}

/// The ranges predicted for a resource first used by an event of type `ty`: the range it
/// says is active, else none.
fn predicted_ranges(ty: EventType) -> Vec<RangeType> {
    if ty == EventType::GC_SWEEP_ACTIVE || ty == EventType::GC_MARK_ASSIST_ACTIVE {
        vec![RangeType::of(ty, 0)]
    } else {
        Vec::new()
    }
}

/// For an event of thread `m`: the predictions for the P and the goroutine the thread held
/// when the generation began, for those the event's handler decides on (`None` for those it
/// only copies into the events it queues). A well-formed trace re-establishes both with
/// status events first, so a value still unknown is none, except where the event says.
fn decided(ev: &PreEvent, m: ThreadId) -> (Option<i64>, Option<i64>) {
    use EventType as T;
    let none = (Some(NO_PROC), Some(NO_GOROUTINE));
    match ev.ty {
        T::PROC_STATUS => {
            let p = ev.args[0] as ProcId;
            ((p == NO_PROC).then_some(NO_PROC), None)
        }
        T::GO_STATUS | T::GO_STATUS_STACK => {
            let gid = ev.args[0] as GoId;
            if ev.args[2] == u64::from(gs::SYSCALL) {
                if ev.args[1] as ThreadId == m {
                    // A goroutine in a syscall on this thread: the thread holds it.
                    (None, Some(gid))
                } else {
                    none
                }
            } else {
                (None, (gid == NO_GOROUTINE).then_some(NO_GOROUTINE))
            }
        }
        T::PROC_START => (Some(NO_PROC), None),
        T::PROC_STEAL => {
            if ev.args[2] as ThreadId == m {
                // A thread stealing its own P back holds it.
                (Some(ev.args[0] as ProcId), None)
            } else {
                (None, None)
            }
        }
        T::GO_UNBLOCK | T::GC_SWEEP_ACTIVE | T::GC_MARK_ASSIST_ACTIVE => (None, None),
        t if (128..=136).contains(&t.0) => (None, None),
        T::HEAP_ALLOC | T::HEAP_GOAL | T::GC_SWEEP_BEGIN | T::GC_SWEEP_END => (Some(NO_PROC), None),
        T::GO_CREATE_SYSCALL => (None, Some(NO_GOROUTINE)),
        _ => none,
    }
}
