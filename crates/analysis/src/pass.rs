//! One pass over the ordered events for every analysis that reads them.
//!
//! The goroutine summary ([`Summarizer`]), mutator utilization ([`MutatorUtilization`], for
//! the MMU) and Go's four pprof profiles ([`GoProfiler`]) each read the events in Go's
//! order. Ordering is most of the cost of a pass (about 1.8 s of CPU for a 285 MB trace), so
//! where several of them are wanted, [`EventAnalyses`] feeds each event to all of them: one
//! pass instead of one each. The loader can feed it too, beside the timelines it builds.
//!
//! What the analyses ask of every event (its kind, the state transition it makes, its own
//! stack) is worked out once per event, from tables of the 256 event types, and handed to
//! each of them; fed alone, an analysis works the same out for itself.

use std::sync::LazyLock;

use goroscope_format::v2::EventType;
use goroscope_trace::event::{Ctx, Resource, StackRef, StateTransition, StringRef};
use goroscope_trace::{Event, EventKind, EventStream, GoState, ProcState, Tables};

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

/// The kind of each event type, looked up instead of calling [`EventKind::of`] per event.
static KINDS: LazyLock<[EventKind; 256]> =
    LazyLock::new(|| std::array::from_fn(|t| EventKind::of(EventType(t as u8))));

/// For each event type, the argument holding the event's own stack (1-based; 0 for none),
/// as [`Event::stack`] finds it: asked once per type of a probe event whose arguments are
/// their own positions, instead of looking the type's specification up per event.
static STACK_ARGS: LazyLock<[u8; 256]> = LazyLock::new(|| {
    std::array::from_fn(|t| {
        let probe = Event {
            ty: EventType(t as u8),
            time: 0,
            ctx: Ctx::NONE,
            args: [1, 2, 3, 4],
            table: 0,
        };
        probe.stack().map_or(0, |r| r.id as u8)
    })
});

/// The event's own stack, as [`Event::stack`] has it.
#[inline]
pub(crate) fn event_stack(ev: &Event) -> Option<StackRef> {
    match STACK_ARGS[usize::from(ev.ty.0)] {
        0 => None,
        i => {
            let id = ev.args[usize::from(i - 1) & 3];
            (id != 0).then_some(StackRef {
                table: ev.table,
                id,
            })
        }
    }
}

/// What [`Event::state_transition`] says of `ev`, worked out here, where it inlines, with the
/// event's stack from [`STACK_ARGS`] instead of the type's specification. The test below
/// checks it against [`Event::state_transition`] on every event type.
#[inline]
fn transition_of(ev: &Event) -> Option<StateTransition> {
    use EventType as T;
    let go = |id: i64, old, new| Resource::Goroutine { id, old, new };
    let proc = |id: i64, old, new| Resource::Proc { id, old, new };
    let mut reason = 0;
    let mut stack = None;
    let resource = match ev.ty {
        T::PROC_START => proc(ev.args[0] as i64, ProcState::Idle, ProcState::Running),
        T::PROC_STOP => proc(ev.ctx.p, ProcState::Running, ProcState::Idle),
        T::PROC_STEAL => {
            let before = if ev.args[3] == 4 {
                ProcState::Idle
            } else {
                ProcState::Running
            };
            proc(ev.args[0] as i64, before, ProcState::Idle)
        }
        T::PROC_STATUS => proc(
            ev.args[0] as i64,
            ProcState::from_u8(ev.args[2] as u8),
            ProcState::from_wire(ev.args[1]),
        ),
        T::GO_CREATE | T::GO_CREATE_BLOCKED => {
            // The new goroutine's stack, even when its ID is 0.
            stack = Some(StackRef {
                table: ev.table,
                id: ev.args[1],
            });
            let new = if ev.ty == T::GO_CREATE_BLOCKED {
                GoState::Waiting
            } else {
                GoState::Runnable
            };
            go(ev.args[0] as i64, GoState::NotExist, new)
        }
        T::GO_CREATE_SYSCALL => go(ev.args[0] as i64, GoState::NotExist, GoState::Syscall),
        T::GO_START => go(ev.args[0] as i64, GoState::Runnable, GoState::Running),
        T::GO_DESTROY => go(ev.ctx.g, GoState::Running, GoState::NotExist),
        T::GO_DESTROY_SYSCALL => go(ev.ctx.g, GoState::Syscall, GoState::NotExist),
        T::GO_STOP | T::GO_BLOCK => {
            reason = ev.args[0];
            stack = event_stack(ev);
            let new = if ev.ty == T::GO_STOP {
                GoState::Runnable
            } else {
                GoState::Waiting
            };
            go(ev.ctx.g, GoState::Running, new)
        }
        T::GO_UNBLOCK | T::GO_SWITCH | T::GO_SWITCH_DESTROY => {
            go(ev.args[0] as i64, GoState::Waiting, GoState::Runnable)
        }
        T::GO_SYSCALL_BEGIN => {
            stack = event_stack(ev);
            go(ev.ctx.g, GoState::Running, GoState::Syscall)
        }
        T::GO_SYSCALL_END => go(ev.ctx.g, GoState::Syscall, GoState::Running),
        T::GO_SYSCALL_END_BLOCKED => go(ev.ctx.g, GoState::Syscall, GoState::Runnable),
        T::GO_STATUS | T::GO_STATUS_STACK => {
            stack = event_stack(ev);
            let packed = ev.args[2];
            go(
                ev.args[0] as i64,
                GoState::from_u8((packed >> 32) as u8),
                GoState::from_wire(packed & 0xffff_ffff),
            )
        }
        _ => return None,
    };
    Some(StateTransition {
        resource,
        reason: StringRef {
            table: ev.table,
            id: reason,
        },
        stack,
    })
}

/// Calls `f` with the facts of `ev`.
#[inline]
pub(crate) fn with_facts<R>(ev: &Event, f: impl FnOnce(Facts<'_>) -> R) -> R {
    let kind = KINDS[usize::from(ev.ty.0)];
    let transition = if kind == EventKind::StateTransition {
        transition_of(ev)
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
        let mut error = None;
        while let Some(ev) = stream.next_event() {
            match ev {
                Ok(ev) => self.event(&ev, stream.tables()),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        (self.finish(), error)
    }
}

#[cfg(test)]
mod tests {
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
                assert_eq!(event_stack(&ev), ev.stack(), "type {t}");
                with_facts(&ev, |f| {
                    assert_eq!(f.kind, ev.kind(), "type {t}");
                    assert_eq!(f.transition, ev.state_transition().as_ref(), "type {t}");
                });
            }
        }
    }
}
