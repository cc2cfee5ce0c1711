//! A checker of the invariants every event stream must keep: a port of Go's
//! `internal/trace/testtrace` validator, run over Go's golden tests and our fixtures.
//!
//! It checks that times strictly increase, Syncs count up and carry clock snapshots (Go
//! 1.25+), stack frames are complete, metrics and labels are well-formed, state transitions
//! start from the state the resource was in, executing goroutines and Ps are bound to one
//! thread at a time, ranges begin before they end, and task ends match their begins.

use std::collections::HashMap;

use goroscope_format::Version;

use crate::event::{
    BACKGROUND_TASK, Event, EventKind, GoId, GoState, NO_GOROUTINE, NO_PROC, NO_TASK, NO_THREAD,
    ProcId, ProcState, Resource, Scope, StackRef, Tables, ThreadId,
};

#[derive(Debug, Clone, Copy)]
struct Binding {
    p: ProcId,
    g: GoId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RangeOwner {
    None,
    Goroutine(GoId),
    Proc(ProcId),
}

/// Checks events one at a time; see the module documentation.
#[derive(Debug)]
pub struct Validator {
    version: Version,
    last_ts: i64,
    gs: HashMap<GoId, (GoState, Option<ThreadId>)>,
    ps: HashMap<ProcId, (ProcState, Option<ThreadId>)>,
    ms: HashMap<ThreadId, Binding>,
    ranges: HashMap<RangeOwner, Vec<Vec<u8>>>,
    tasks: HashMap<u64, Vec<u8>>,
    last_sync: Option<(u64, Option<Snapshot>)>,
}

/// A clock snapshot as the validator compares it: trace time, mono time, wall (sec, nsec).
type Snapshot = (i64, u64, (i64, i64));

impl Validator {
    /// A validator for a trace of `version` (older versions get Go's leniencies).
    pub fn new(version: Version) -> Self {
        Self {
            version,
            last_ts: 0,
            gs: HashMap::new(),
            ps: HashMap::new(),
            ms: HashMap::new(),
            ranges: HashMap::new(),
            tasks: HashMap::new(),
            last_sync: None,
        }
    }

    /// Checks the next event, returning every problem found with it.
    pub fn event(&mut self, ev: &Event, tables: &Tables<'_>) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        if self.last_ts != 0 {
            if ev.time <= self.last_ts {
                errs.push(format!(
                    "timestamp out-of-order (want > {}) for event at {}",
                    self.last_ts, ev.time
                ));
            } else {
                self.last_ts = ev.time;
            }
        } else {
            self.last_ts = ev.time;
        }
        check_stack(&mut errs, ev.stack(), tables);
        match ev.kind() {
            EventKind::Sync => self.sync(&mut errs, ev, tables),
            EventKind::Metric => {
                if let Some((name, _)) = ev.metric()
                    && !name.contains(':')
                {
                    errs.push(format!("invalid metric name {name:?}"));
                }
            }
            EventKind::Label => {
                let label = tables.string(crate::event::StringRef {
                    table: ev.table,
                    id: ev.args[0],
                });
                if label.is_empty() {
                    errs.push("invalid label \"\"".to_owned());
                }
                if !self.gs.contains_key(&ev.ctx.g) {
                    errs.push(format!("label for invalid goroutine {}", ev.ctx.g));
                }
            }
            EventKind::StateTransition => self.transition(&mut errs, ev, tables),
            EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
                let name = ev.range_name(tables).unwrap_or_default().into_owned();
                let owner = match ev.range_scope() {
                    Some(Scope::Goroutine(g)) => RangeOwner::Goroutine(g),
                    Some(Scope::Proc(p)) => RangeOwner::Proc(p),
                    _ => RangeOwner::None,
                };
                let list = self.ranges.entry(owner).or_default();
                let active = list.contains(&name);
                match ev.kind() {
                    EventKind::RangeBegin => {
                        if active {
                            errs.push(format!(
                                "already active range {:?} on {owner:?} begun again",
                                String::from_utf8_lossy(&name)
                            ));
                        }
                        list.push(name);
                    }
                    EventKind::RangeActive => {
                        if !active {
                            list.push(name);
                        }
                    }
                    _ => {
                        if !active {
                            errs.push(format!(
                                "inactive range {:?} on {owner:?} ended",
                                String::from_utf8_lossy(&name)
                            ));
                        }
                        if let Some(i) = list.iter().position(|n| *n == name) {
                            list.remove(i);
                        }
                    }
                }
            }
            EventKind::TaskBegin => {
                let (id, parent) = ev.task().unwrap_or_default();
                let ty = tables.task_type(ev).to_vec();
                if id == NO_TASK || id == BACKGROUND_TASK {
                    errs.push(format!(
                        "found invalid task ID for task of type {}",
                        String::from_utf8_lossy(&ty)
                    ));
                }
                if parent == BACKGROUND_TASK {
                    errs.push(format!(
                        "found background task as the parent for task of type {}",
                        String::from_utf8_lossy(&ty)
                    ));
                }
                self.tasks.insert(id, ty);
            }
            EventKind::TaskEnd => {
                let (id, _) = ev.task().unwrap_or_default();
                if let Some(ty) = self.tasks.remove(&id)
                    && tables.task_type(ev) != ty.as_slice()
                {
                    errs.push(format!(
                        "task end type {:?} doesn't match task start type {:?} for task {id}",
                        String::from_utf8_lossy(tables.task_type(ev)),
                        String::from_utf8_lossy(&ty)
                    ));
                }
            }
            _ => {}
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    fn sync(&mut self, errs: &mut Vec<String>, ev: &Event, tables: &Tables<'_>) {
        let n = ev.args[0];
        let last_n = self.last_sync.map_or(0, |s| s.0);
        if n != last_n + 1 {
            errs.push(format!(
                "sync count is not sequential: expected {}, got {n}",
                last_n + 1
            ));
        }
        let snap = tables.gen_tables(ev.table).and_then(|t| {
            t.clock.map(|c| {
                (
                    t.ticks_to_ns(c.ticks),
                    c.mono,
                    (c.sec as i64, c.nsec as i64),
                )
            })
        });
        if self.version >= Version::GO125 && !(n > 1 && snap.is_none()) {
            match snap {
                None => errs.push(format!("sync {n} has no clock snapshot")),
                Some((trace, mono, wall)) => {
                    if mono == 0 {
                        errs.push(format!("sync {n} has zero mono time"));
                    }
                    if trace == 0 {
                        errs.push(format!("sync {n} has zero trace time"));
                    }
                    if n >= 2
                        && let Some((_, Some((ptrace, pmono, pwall)))) = self.last_sync
                    {
                        if normalize(wall) <= normalize(pwall) {
                            errs.push(format!("sync {n} has non-increasing wall time"));
                        }
                        if mono <= pmono {
                            errs.push(format!("sync {n} has non-increasing mono time"));
                        }
                        if trace <= ptrace {
                            errs.push(format!("sync {n} has non-increasing trace time"));
                        }
                    }
                }
            }
        }
        self.last_sync = Some((n, snap));
    }

    fn thread(&mut self, errs: &mut Vec<String>, ev: &Event, lenient: bool) -> Option<ThreadId> {
        let m = ev.ctx.m;
        if m == NO_THREAD && !lenient {
            errs.push("must have thread, but thread ID is none".to_owned());
            return None;
        }
        self.ms.entry(m).or_insert(Binding {
            p: NO_PROC,
            g: NO_GOROUTINE,
        });
        Some(m)
    }

    fn has_any_range(&self, owner: RangeOwner) -> bool {
        self.ranges.get(&owner).is_some_and(|r| !r.is_empty())
    }

    fn transition(&mut self, errs: &mut Vec<String>, ev: &Event, tables: &Tables<'_>) {
        let Some(tr) = ev.state_transition() else {
            return;
        };
        check_stack(errs, tr.stack, tables);
        let after_first_sync = self.last_sync.is_some_and(|s| s.0 > 1);
        match tr.resource {
            Resource::Goroutine { id, old, new } => {
                if new == GoState::Undetermined {
                    errs.push(format!(
                        "transition to undetermined state for goroutine {id}"
                    ));
                }
                if after_first_sync && old == GoState::Undetermined {
                    errs.push(format!(
                        "undetermined goroutine {id} after first global sync"
                    ));
                }
                if new == GoState::NotExist && self.has_any_range(RangeOwner::Goroutine(id)) {
                    errs.push(format!("goroutine {id} died with active ranges"));
                }
                let binding = match self.gs.get_mut(&id) {
                    Some(state) => {
                        if old != state.0 {
                            errs.push(format!(
                                "bad old state for goroutine {id}: got {}, want {}",
                                old.name(),
                                state.0.name()
                            ));
                        }
                        state.0 = new;
                        state.1
                    }
                    None => {
                        if old != GoState::Undetermined && old != GoState::NotExist {
                            errs.push(format!(
                                "bad old state for unregistered goroutine {id}: {}",
                                old.name()
                            ));
                        }
                        self.gs.insert(id, (new, None));
                        None
                    }
                };
                if new.executing() {
                    let lenient = self.version < Version::GO122
                        && old == GoState::Undetermined
                        && new == GoState::Syscall;
                    if let Some(m) = self.thread(errs, ev, lenient) {
                        let ctx = self.ms.get_mut(&m).expect("thread registered");
                        if ctx.g != NO_GOROUTINE && ctx.g != id {
                            errs.push(format!(
                                "tried to run goroutine {id} when one was already executing ({}) on thread {m}",
                                ctx.g
                            ));
                        }
                        ctx.g = id;
                        if let Some(s) = self.gs.get_mut(&id) {
                            s.1 = Some(m);
                        }
                    }
                } else if old.executing() {
                    if tr.stack != ev.stack() {
                        errs.push("StateTransition.Stack doesn't match Event.Stack".to_owned());
                    }
                    match binding.and_then(|m| self.ms.get_mut(&m).map(|c| (m, c))) {
                        Some((_, ctx)) => {
                            if ctx.g != id {
                                errs.push(format!(
                                    "tried to stop goroutine {id} when it wasn't currently executing (currently executing {}) on thread {}",
                                    ctx.g, ev.ctx.m
                                ));
                            }
                            ctx.g = NO_GOROUTINE;
                            if let Some(s) = self.gs.get_mut(&id) {
                                s.1 = None;
                            }
                        }
                        None => errs.push(format!(
                            "stopping goroutine {id} not bound to any active context"
                        )),
                    }
                }
            }
            Resource::Proc { id, old, new } => {
                if new == ProcState::Undetermined {
                    errs.push(format!("transition to undetermined state for proc {id}"));
                }
                if after_first_sync && old == ProcState::Undetermined {
                    errs.push(format!("undetermined proc {id} after first global sync"));
                }
                if new == ProcState::NotExist && self.has_any_range(RangeOwner::Proc(id)) {
                    errs.push(format!("proc {id} died with active ranges"));
                }
                let binding = match self.ps.get_mut(&id) {
                    Some(state) => {
                        if old != state.0 {
                            errs.push(format!(
                                "bad old state for proc {id}: got {}, want {}",
                                old.name(),
                                state.0.name()
                            ));
                        }
                        state.0 = new;
                        state.1
                    }
                    None => {
                        if old != ProcState::Undetermined && old != ProcState::NotExist {
                            errs.push(format!(
                                "bad old state for unregistered proc {id}: {}",
                                old.name()
                            ));
                        }
                        self.ps.insert(id, (new, None));
                        None
                    }
                };
                if new == ProcState::Running {
                    if let Some(m) = self.thread(errs, ev, false) {
                        let ctx = self.ms.get_mut(&m).expect("thread registered");
                        if ctx.p != NO_PROC && ctx.p != id {
                            errs.push(format!(
                                "tried to run proc {id} when one was already executing ({}) on thread {m}",
                                ctx.p
                            ));
                        }
                        ctx.p = id;
                        if let Some(s) = self.ps.get_mut(&id) {
                            s.1 = Some(m);
                        }
                    }
                } else if old == ProcState::Running {
                    match binding.and_then(|m| self.ms.get_mut(&m).map(|c| (m, c))) {
                        Some((m, ctx)) => {
                            if ctx.p != id {
                                errs.push(format!(
                                    "tried to stop proc {id} when it wasn't currently executing (currently executing {}) on thread {m}",
                                    ctx.p
                                ));
                            }
                            ctx.p = NO_PROC;
                            if let Some(s) = self.ps.get_mut(&id) {
                                s.1 = None;
                            }
                        }
                        None => {
                            errs.push(format!(
                                "stopping proc {id} not bound to any active context"
                            ));
                        }
                    }
                }
            }
        }
    }
}

fn normalize((sec, nsec): (i64, i64)) -> (i64, i64) {
    (
        sec.saturating_add(nsec.div_euclid(1_000_000_000)),
        nsec.rem_euclid(1_000_000_000),
    )
}

fn check_stack(errs: &mut Vec<String>, stack: Option<StackRef>, tables: &Tables<'_>) {
    let Some(stack) = stack else {
        return;
    };
    for f in tables.frames(stack).skip(1) {
        if f.func.is_empty() || f.file.is_empty() || f.pc == 0 || f.line == 0 {
            errs.push(format!(
                "invalid stack frame {{PC:{:#x} Func:{:?} File:{:?} Line:{}}}: missing information",
                f.pc,
                String::from_utf8_lossy(f.func),
                String::from_utf8_lossy(f.file),
                f.line
            ));
        }
    }
}
