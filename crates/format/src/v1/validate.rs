//! The consistency checks Go runs on an ordered v1 trace (`postProcessTrace`), and the
//! fix-ups they make on the way.
//!
//! Every P and goroutine is followed through the event stream: a P runs at most one
//! goroutine, a goroutine is unblocked only while waiting, GC cycles, stop-the-worlds and
//! sweeps nest properly, task IDs are unique and regions close in order. Along the way:
//! GC starts move to [`GC_P`], unblocks of goroutines parked on the network move to
//! [`NETPOLL_P`], a goroutine's first start takes the stack its creation recorded for it, and
//! stack IDs that name no stack with frames become 0.

use std::collections::hash_map::Entry;
use std::fmt::Display;

use crate::error::Result;
use crate::quote::quote;
use crate::v1::event::Event;
use crate::v1::hash::IntMap;
use crate::v1::raw::v1_error;
use crate::v1::spec::{EventType, GC_P, NETPOLL_P, TIMER_P};
use crate::v1::tables::StackTable;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Dead,
    Runnable,
    Running,
    Waiting,
}

#[derive(Debug, Clone, Copy, Default)]
struct GDesc {
    state: State,
    /// The type of the event that last made the goroutine runnable or waiting, if any.
    last: Option<EventType>,
    /// The stack recorded for the goroutine by its creation, until it first starts.
    created_stack: Option<u64>,
    in_mark_assist: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct PDesc {
    running: bool,
    g: u64,
    sweeping: bool,
}

/// The open regions of every goroutine, as linked stacks in one arena.
#[derive(Debug, Default)]
struct Regions {
    /// `(event index, previous entry)`; `u32::MAX` ends a stack.
    arena: Vec<(u32, u32)>,
    top: IntMap<u64, u32>,
}

impl Regions {
    const END: u32 = u32::MAX;

    fn push(&mut self, g: u64, event: usize) {
        let prev = self.top.get(&g).copied().unwrap_or(Self::END);
        self.top.insert(g, self.arena.len() as u32);
        self.arena.push((event as u32, prev));
    }

    fn peek(&self, g: u64) -> Option<usize> {
        let top = *self.top.get(&g)?;
        self.arena.get(top as usize).map(|e| e.0 as usize)
    }

    fn pop(&mut self, g: u64) {
        if let Entry::Occupied(mut e) = self.top.entry(g) {
            match self.arena.get(*e.get() as usize) {
                Some(&(_, prev)) if prev != Self::END => {
                    e.insert(prev);
                }
                _ => {
                    e.remove();
                }
            }
        }
    }

    fn clear(&mut self, g: u64) {
        self.top.remove(&g);
    }
}

struct Checker<'t> {
    gs: IntMap<u64, GDesc>,
    ps: IntMap<i32, PDesc>,
    /// Open tasks: ID to the index of the creating event.
    tasks: IntMap<u64, usize>,
    regions: Regions,
    in_gc: bool,
    in_stw: bool,
    stacks: &'t StackTable,
}

fn fail<T>(ev: &Event, message: impl Display) -> Result<T> {
    Err(v1_error(message, ev.offset as usize))
}

/// Checks `events` (ordered, timestamps in nanoseconds) and applies Go's fix-ups.
pub(crate) fn validate(events: &mut [Event], stacks: &StackTable) -> Result<()> {
    if events.len() >= u32::MAX as usize {
        // Region bookkeeping indexes events with u32.
        return Err(crate::error::Error::new(
            crate::error::ErrorKind::TooLarge("more than 4 billion events"),
            0,
        ));
    }
    let mut c = Checker {
        gs: IntMap::default(),
        ps: IntMap::default(),
        tasks: IntMap::default(),
        regions: Regions::default(),
        in_gc: false,
        in_stw: false,
        stacks,
    };
    c.gs.insert(
        0,
        GDesc {
            state: State::Running,
            ..GDesc::default()
        },
    );
    for i in 0..events.len() {
        c.event(events, i)?;
        let ev = &mut events[i];
        if ev.stack != 0 && !c.stacks.contains(ev.stack) {
            ev.stack = 0;
        }
    }
    Ok(())
}

impl Checker<'_> {
    fn g(&self, g: u64) -> GDesc {
        self.gs.get(&g).copied().unwrap_or_default()
    }

    fn p(&self, p: i32) -> PDesc {
        self.ps.get(&p).copied().unwrap_or_default()
    }

    /// Go's `checkRunning`: the event's goroutine runs, on the event's P.
    fn check_running(&self, ev: &Event, allow_g0: bool) -> Result<()> {
        let name = ev.ty.name();
        if self.g(ev.g).state != State::Running {
            return fail(
                ev,
                format_args!("g {} is not running while {name} (time {})", ev.g, ev.ts),
            );
        }
        if self.p(ev.p).g != ev.g {
            return fail(
                ev,
                format_args!(
                    "p {} is not running g {} while {name} (time {})",
                    ev.p, ev.g, ev.ts
                ),
            );
        }
        if !allow_g0 && ev.g == 0 {
            return fail(ev, format_args!("g 0 did {name} (time {})", ev.ts));
        }
        Ok(())
    }

    fn event(&mut self, events: &mut [Event], i: usize) -> Result<()> {
        let ev = events[i];
        let time = ev.ts;
        match ev.ty {
            EventType::PROC_START => {
                let mut p = self.p(ev.p);
                if p.running {
                    return fail(
                        &ev,
                        format_args!("p {} is running before start (time {time})", ev.p),
                    );
                }
                p.running = true;
                self.ps.insert(ev.p, p);
            }
            EventType::PROC_STOP => {
                let mut p = self.p(ev.p);
                if !p.running {
                    return fail(
                        &ev,
                        format_args!("p {} is not running before stop (time {time})", ev.p),
                    );
                }
                if p.g != 0 {
                    return fail(
                        &ev,
                        format_args!(
                            "p {} is running a goroutine {} during stop (time {time})",
                            ev.p, p.g
                        ),
                    );
                }
                p.running = false;
                self.ps.insert(ev.p, p);
            }
            EventType::GC_START => {
                if self.in_gc {
                    return fail(
                        &ev,
                        format_args!("previous GC is not ended before a new one (time {time})"),
                    );
                }
                self.in_gc = true;
                events[i].p = GC_P;
            }
            EventType::GC_DONE => {
                if !self.in_gc {
                    return fail(&ev, format_args!("bogus GC end (time {time})"));
                }
                self.in_gc = false;
            }
            EventType::STW_START => {
                if self.in_stw {
                    return fail(
                        &ev,
                        format_args!("previous STW is not ended before a new one (time {time})"),
                    );
                }
                self.in_stw = true;
            }
            EventType::STW_DONE => {
                if !self.in_stw {
                    return fail(&ev, format_args!("bogus STW end (time {time})"));
                }
                self.in_stw = false;
            }
            EventType::GC_SWEEP_START => {
                let mut p = self.p(ev.p);
                if p.sweeping {
                    return fail(
                        &ev,
                        format_args!(
                            "previous sweeping is not ended before a new one (time {time})"
                        ),
                    );
                }
                p.sweeping = true;
                self.ps.insert(ev.p, p);
            }
            EventType::GC_SWEEP_DONE => {
                let mut p = self.p(ev.p);
                if !p.sweeping {
                    return fail(&ev, format_args!("bogus sweeping end (time {time})"));
                }
                p.sweeping = false;
                self.ps.insert(ev.p, p);
            }
            EventType::GC_MARK_ASSIST_START => {
                let mut g = self.g(ev.g);
                if g.in_mark_assist {
                    return fail(
                        &ev,
                        format_args!(
                            "previous mark assist is not ended before a new one (time {time})"
                        ),
                    );
                }
                g.in_mark_assist = true;
                self.gs.insert(ev.g, g);
            }
            EventType::GC_MARK_ASSIST_DONE => {
                // An assist may be under way when tracing starts: no check.
                let mut g = self.g(ev.g);
                g.in_mark_assist = false;
                self.gs.insert(ev.g, g);
            }
            EventType::GO_WAITING | EventType::GO_IN_SYSCALL => {
                let mut g = self.g(ev.g);
                if g.state != State::Runnable {
                    let which = if ev.ty == EventType::GO_WAITING {
                        "EvGoWaiting"
                    } else {
                        "EvGoInSyscall"
                    };
                    return fail(
                        &ev,
                        format_args!("g {} is not runnable before {which} (time {time})", ev.g),
                    );
                }
                g.state = State::Waiting;
                g.last = Some(ev.ty);
                self.gs.insert(ev.g, g);
            }
            EventType::GO_CREATE => {
                self.check_running(&ev, true)?;
                let new = ev.args[0];
                if self.gs.contains_key(&new) {
                    return fail(&ev, format_args!("g {new} already exists (time {time})"));
                }
                self.gs.insert(
                    new,
                    GDesc {
                        state: State::Runnable,
                        last: Some(ev.ty),
                        created_stack: Some(ev.args[1]),
                        in_mark_assist: false,
                    },
                );
            }
            EventType::GO_START | EventType::GO_START_LABEL => {
                let mut g = self.g(ev.g);
                let mut p = self.p(ev.p);
                if g.state != State::Runnable {
                    return fail(
                        &ev,
                        format_args!("g {} is not runnable before start (time {time})", ev.g),
                    );
                }
                if p.g != 0 {
                    return fail(
                        &ev,
                        format_args!(
                            "p {} is already running g {} while start g {} (time {time})",
                            ev.p, p.g, ev.g
                        ),
                    );
                }
                g.state = State::Running;
                p.g = ev.g;
                if let Some(stack) = g.created_stack.take() {
                    events[i].stack = stack as u32;
                }
                g.last = None;
                self.gs.insert(ev.g, g);
                self.ps.insert(ev.p, p);
            }
            EventType::GO_END | EventType::GO_STOP => {
                self.check_running(&ev, false)?;
                let mut g = self.g(ev.g);
                let mut p = self.p(ev.p);
                g.state = State::Dead;
                p.g = 0;
                if ev.ty == EventType::GO_END {
                    self.regions.clear(ev.g);
                }
                self.gs.insert(ev.g, g);
                self.ps.insert(ev.p, p);
            }
            EventType::GO_SCHED | EventType::GO_PREEMPT => {
                self.check_running(&ev, false)?;
                let mut g = self.g(ev.g);
                let mut p = self.p(ev.p);
                g.state = State::Runnable;
                g.last = Some(ev.ty);
                p.g = 0;
                self.gs.insert(ev.g, g);
                self.ps.insert(ev.p, p);
            }
            EventType::GO_UNBLOCK => {
                let g = self.g(ev.g);
                let p = self.p(ev.p);
                if g.state != State::Running {
                    return fail(
                        &ev,
                        format_args!("g {} is not running while unpark (time {time})", ev.g),
                    );
                }
                if ev.p != TIMER_P && p.g != ev.g {
                    return fail(
                        &ev,
                        format_args!(
                            "p {} is not running g {} while unpark (time {time})",
                            ev.p, ev.g
                        ),
                    );
                }
                let target = ev.args[0];
                let mut g1 = self.g(target);
                if g1.state != State::Waiting {
                    return fail(
                        &ev,
                        format_args!("g {target} is not waiting before unpark (time {time})"),
                    );
                }
                if g1.last == Some(EventType::GO_BLOCK_NET) {
                    events[i].p = NETPOLL_P;
                }
                g1.state = State::Runnable;
                g1.last = Some(ev.ty);
                self.gs.insert(target, g1);
            }
            EventType::GO_SYSCALL => {
                self.check_running(&ev, false)?;
                let mut g = self.g(ev.g);
                g.last = Some(ev.ty);
                self.gs.insert(ev.g, g);
            }
            EventType::GO_SYS_BLOCK => {
                self.check_running(&ev, false)?;
                let mut g = self.g(ev.g);
                let mut p = self.p(ev.p);
                g.state = State::Waiting;
                p.g = 0;
                self.gs.insert(ev.g, g);
                self.ps.insert(ev.p, p);
            }
            EventType::GO_SYS_EXIT => {
                let mut g = self.g(ev.g);
                if g.state != State::Waiting {
                    return fail(
                        &ev,
                        format_args!(
                            "g {} is not waiting during syscall exit (time {time})",
                            ev.g
                        ),
                    );
                }
                g.state = State::Runnable;
                g.last = Some(ev.ty);
                self.gs.insert(ev.g, g);
            }
            EventType::GO_SLEEP
            | EventType::GO_BLOCK
            | EventType::GO_BLOCK_SEND
            | EventType::GO_BLOCK_RECV
            | EventType::GO_BLOCK_SELECT
            | EventType::GO_BLOCK_SYNC
            | EventType::GO_BLOCK_COND
            | EventType::GO_BLOCK_NET
            | EventType::GO_BLOCK_GC => {
                self.check_running(&ev, false)?;
                let mut g = self.g(ev.g);
                let mut p = self.p(ev.p);
                g.state = State::Waiting;
                g.last = Some(ev.ty);
                p.g = 0;
                self.gs.insert(ev.g, g);
                self.ps.insert(ev.p, p);
            }
            EventType::USER_TASK_CREATE => {
                let task = ev.args[0];
                if let Some(&prev) = self.tasks.get(&task) {
                    return fail(
                        &ev,
                        format_args!(
                            "task id conflicts (id:{task}), {} vs {}",
                            quote(ev.to_string().as_bytes()),
                            quote(events[prev].to_string().as_bytes())
                        ),
                    );
                }
                self.tasks.insert(task, i);
            }
            EventType::USER_TASK_END => {
                self.tasks.remove(&ev.args[0]);
            }
            EventType::USER_REGION => match ev.args[1] {
                0 => self.regions.push(ev.g, i),
                1 => {
                    if let Some(start) = self.regions.peek(ev.g) {
                        let s = events[start];
                        if s.args[0] != ev.args[0] || s.args[2] != ev.args[2] {
                            return fail(
                                &ev,
                                format_args!(
                                    "misuse of region in goroutine {}: span end {} when the \
                                     inner-most active span start event is {}",
                                    ev.g,
                                    quote(ev.to_string().as_bytes()),
                                    quote(s.to_string().as_bytes())
                                ),
                            );
                        }
                        self.regions.pop(ev.g);
                    }
                }
                _ => {
                    return fail(
                        &ev,
                        format_args!(
                            "invalid user region mode: {}",
                            quote(ev.to_string().as_bytes())
                        ),
                    );
                }
            },
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::v1::spec::SYSCALL_P;

    fn ev(ty: EventType, p: i32, g: u64, args: [u64; 3]) -> Event {
        Event {
            ty,
            p,
            g,
            args,
            ..Event::default()
        }
    }

    fn check(events: &mut [Event]) -> Result<(), String> {
        let stacks = StackTable::new(vec![(5, (0, 1))], vec![0x1000]);
        validate(events, &stacks).map_err(|e| match e.kind {
            ErrorKind::V1(m) => m,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn a_consistent_schedule_passes_and_is_fixed_up() {
        let mut events = [
            ev(EventType::PROC_START, 0, 0, [1, 0, 0]),
            ev(EventType::GO_CREATE, 0, 0, [7, 5, 0]),
            ev(EventType::GC_START, 0, 0, [0; 3]),
            ev(EventType::GO_START, 0, 7, [7, 1, 0]),
            ev(EventType::GO_BLOCK_NET, 0, 7, [0; 3]),
            ev(EventType::GC_DONE, 0, 0, [0; 3]),
            ev(EventType::GO_START, 0, 0, [0, 0, 0]),
            ev(EventType::GO_UNBLOCK, 0, 0, [7, 2, 0]),
        ];
        events[4].stack = 9; // no such stack
        events[6].ty = EventType::HEAP_ALLOC;
        check(&mut events).unwrap();
        assert_eq!(events[2].p, GC_P);
        assert_eq!(events[3].stack, 5, "the start takes the creation's stack");
        assert_eq!(events[4].stack, 0, "unknown stacks are dropped");
        assert_eq!(events[7].p, NETPOLL_P);
    }

    #[test]
    fn inconsistencies_are_reported_as_go_does() {
        let cases: Vec<(Vec<Event>, &str)> = vec![
            (
                vec![
                    ev(EventType::PROC_START, 0, 0, [0; 3]),
                    ev(EventType::PROC_START, 0, 0, [0; 3]),
                ],
                "p 0 is running before start (time 0)",
            ),
            (
                vec![ev(EventType::PROC_STOP, 3, 0, [0; 3])],
                "p 3 is not running before stop (time 0)",
            ),
            (
                vec![ev(EventType::GO_CREATE, 0, 4, [0; 3])],
                "g 4 is not running while GoCreate (time 0)",
            ),
            (
                vec![
                    ev(EventType::PROC_START, 0, 0, [0; 3]),
                    ev(EventType::GO_SYSCALL, 0, 0, [0; 3]),
                ],
                "g 0 did GoSysCall (time 0)",
            ),
            (
                vec![ev(EventType::GO_UNBLOCK, 0, 0, [8, 0, 0])],
                "g 8 is not waiting before unpark (time 0)",
            ),
            (
                vec![ev(EventType::GO_SYS_EXIT, SYSCALL_P, 8, [8, 0, 0])],
                "g 8 is not waiting during syscall exit (time 0)",
            ),
            (
                vec![ev(EventType::GO_WAITING, 0, 8, [8, 0, 0])],
                "g 8 is not runnable before EvGoWaiting (time 0)",
            ),
            (
                vec![ev(EventType::GC_DONE, 0, 0, [0; 3])],
                "bogus GC end (time 0)",
            ),
            (
                vec![ev(EventType::STW_DONE, 0, 0, [0; 3])],
                "bogus STW end (time 0)",
            ),
            (
                vec![ev(EventType::GC_SWEEP_DONE, 0, 0, [0; 3])],
                "bogus sweeping end (time 0)",
            ),
            (
                vec![
                    ev(EventType::USER_TASK_CREATE, 0, 0, [1, 0, 2]),
                    ev(EventType::USER_TASK_CREATE, 0, 0, [1, 0, 3]),
                ],
                "task id conflicts (id:1), \"0 UserTaskCreate p=0 g=0 stk=0 taskid=1 pid=0 \
                 typeid=3\" vs \"0 UserTaskCreate p=0 g=0 stk=0 taskid=1 pid=0 typeid=2\"",
            ),
            (
                vec![
                    ev(EventType::USER_REGION, 0, 0, [1, 0, 2]),
                    ev(EventType::USER_REGION, 0, 0, [1, 1, 3]),
                ],
                "misuse of region in goroutine 0: span end \"0 UserRegion p=0 g=0 stk=0 \
                 taskid=1 mode=1 typeid=3\" when the inner-most active span start event is \
                 \"0 UserRegion p=0 g=0 stk=0 taskid=1 mode=0 typeid=2\"",
            ),
            (
                vec![ev(EventType::USER_REGION, 0, 0, [1, 2, 3])],
                "invalid user region mode: \"0 UserRegion p=0 g=0 stk=0 taskid=1 mode=2 \
                 typeid=3\"",
            ),
        ];
        for (mut events, want) in cases {
            assert_eq!(check(&mut events).unwrap_err(), want);
        }
    }

    #[test]
    fn regions_nest_per_goroutine() {
        let mut events = [
            ev(EventType::USER_REGION, 0, 1, [1, 0, 2]),
            ev(EventType::USER_REGION, 0, 1, [1, 0, 3]),
            ev(EventType::USER_REGION, 0, 2, [1, 0, 4]),
            ev(EventType::USER_REGION, 0, 1, [1, 1, 3]),
            ev(EventType::USER_REGION, 0, 1, [1, 1, 2]),
            // An end with no open region is accepted.
            ev(EventType::USER_REGION, 0, 1, [1, 1, 9]),
            ev(EventType::USER_REGION, 0, 2, [1, 1, 4]),
        ];
        check(&mut events).unwrap();
    }
}
