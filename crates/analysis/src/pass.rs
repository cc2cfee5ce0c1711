//! One pass over the ordered events for every analysis that reads them.
//!
//! The goroutine summary ([`Summarizer`]), mutator utilization ([`MutatorUtilization`], for
//! the MMU) and Go's four pprof profiles ([`GoProfiler`]) each read the events in Go's
//! order. Ordering is most of the cost of a pass (about 1.8 s of CPU for a 285 MB trace), so
//! where several of them are wanted, [`EventAnalyses`] feeds each event to all of them: one
//! pass instead of one each. The loader can feed it too, beside the timelines it builds.
//!
//! What the analyses ask of every event (its kind, the state transition it makes) is worked
//! out once per event and handed to each of them; fed alone, an analysis works the same out
//! for itself.

use goroscope_trace::event::StateTransition;
use goroscope_trace::{Event, EventKind, EventStream, Tables};

use crate::mmu::{MutatorUtil, MutatorUtilization, UtilFlags};
use crate::pprof::{GoProfiler, GoProfiles};
use crate::summary::{Summarizer, Summary};

/// What the analyses ask of every event, worked out once per event for all of them (see
/// [`with_facts`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    /// The event's kind.
    pub(crate) kind: EventKind,
    /// For a state transition, what changed ([`Event::state_transition`]); `None` for
    /// every other kind.
    pub(crate) transition: Option<&'a StateTransition>,
}

/// Calls `f` with the facts of `ev`.
#[inline]
pub(crate) fn with_facts<R>(ev: &Event, f: impl FnOnce(Facts<'_>) -> R) -> R {
    let kind = EventKind::of(ev.ty);
    let transition = if kind == EventKind::StateTransition {
        ev.state_transition()
    } else {
        None
    };
    f(Facts {
        kind,
        transition: transition.as_ref(),
    })
}

/// The analyses one pass over the events computes; each is optional.
#[derive(Debug, Clone, Default)]
pub struct EventAnalyses {
    summary: Option<Summarizer>,
    utilization: Option<MutatorUtilization>,
    profiles: Option<GoProfiler>,
}

/// What an [`EventAnalyses`] pass computed: the analyses it was asked for.
#[derive(Debug, Clone, Default)]
pub struct EventResults {
    /// Go's goroutine summary.
    pub summary: Option<Summary>,
    /// The mutator utilization functions (for [`crate::MmuCurve::new`]).
    pub utilization: Option<Vec<Vec<MutatorUtil>>>,
    /// Go's four pprof profiles.
    pub profiles: Option<GoProfiles>,
}

impl EventAnalyses {
    /// A pass that computes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also computes the goroutine summary.
    #[must_use]
    pub fn with_summary(mut self) -> Self {
        self.summary = Some(Summarizer::new());
        self
    }

    /// Also computes mutator utilization with `flags`.
    #[must_use]
    pub fn with_utilization(mut self, flags: UtilFlags) -> Self {
        self.utilization = Some(MutatorUtilization::new(flags));
        self
    }

    /// Also computes Go's four pprof profiles.
    #[must_use]
    pub fn with_profiles(mut self) -> Self {
        self.profiles = Some(GoProfiler::new());
        self
    }

    /// Whether it computes nothing (a pass would be wasted).
    pub fn is_empty(&self) -> bool {
        self.summary.is_none() && self.utilization.is_none() && self.profiles.is_none()
    }

    /// Feeds the next event of the stream to every analysis; `tables` are the reader's.
    pub fn event(&mut self, ev: &Event, tables: &Tables<'_>) {
        with_facts(ev, |facts| {
            if let Some(s) = self.summary.as_mut() {
                s.step(ev, facts, tables);
            }
            if let Some(u) = self.utilization.as_mut() {
                u.step(ev, facts, tables);
            }
            if let Some(p) = self.profiles.as_mut() {
                p.step(ev, facts, tables);
            }
        });
    }

    /// The results of the events fed so far.
    pub fn finish(self) -> EventResults {
        EventResults {
            summary: self.summary.map(Summarizer::finalize),
            utilization: self.utilization.map(MutatorUtilization::finish),
            profiles: self.profiles.map(GoProfiler::finish),
        }
    }

    /// Feeds every event `stream` yields. A reader error ends the stream; it is returned
    /// beside the results of the events before it (as [`crate::summarize`] and
    /// [`crate::pprof::go_profiles`] each do).
    pub fn run(
        mut self,
        stream: &mut EventStream<'_>,
    ) -> (EventResults, Option<goroscope_trace::Error>) {
        let error = stream.for_each_event(|ev, tables| self.event(ev, tables));
        (self.finish(), error)
    }
}

#[cfg(test)]
mod tests {
    use goroscope_format::v2::EventType;
    use goroscope_trace::event::Ctx;

    use super::*;

    #[test]
    fn facts_are_the_events_own() {
        // Every state in a GoStatus's packed states, every P status, a steal from an idle P.
        let mut patterns = vec![[7, 8, 9, 10], [0, 0, 0, 0], [0, 5, 0, 6], [3, 1, 2, 4]];
        for old in 0..8u64 {
            for new in 0..7u64 {
                patterns.push([5, new, old << 32 | new, old]);
            }
        }
        let ctxs = [Ctx::NONE, Ctx { m: 2, p: 1, g: 17 }];
        for t in 0..=255u8 {
            for (args, ctx) in patterns.iter().flat_map(|&a| ctxs.map(|c| (a, c))) {
                let ev = Event {
                    ty: EventType(t),
                    time: 1,
                    ctx,
                    args,
                    table: 3,
                };
                with_facts(&ev, |f| {
                    assert_eq!(f.kind, ev.kind(), "type {t}");
                    assert_eq!(f.transition, ev.state_transition().as_ref(), "type {t}");
                });
            }
        }
    }
}
