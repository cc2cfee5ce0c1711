//! The event model: the same events, with the same meaning, as Go's `internal/trace` API.
//!
//! An [`Event`] is plain data (`Copy`, 72 bytes). What it refers to (strings, stacks, clock
//! snapshots) lives in the [`Tables`] of the reader that produced it, one [`GenTables`] per
//! generation; an event names its generation's tables by index.

use goroscope_format::v2::{Batch, ClockSnapshot, EventType, Frame, StackTable, StringTable};

/// A time in nanoseconds on the trace's clock (Go's monotonic clock for v2 traces; starting
/// at 0 for v1 traces).
pub type Time = i64;
/// A goroutine ID; [`NO_GOROUTINE`] for none.
pub type GoId = i64;
/// A P ID; [`NO_PROC`] for none.
pub type ProcId = i64;
/// A thread (M) ID: the OS thread ID in v2 traces, the runtime's `m.id` in v1 traces;
/// [`NO_THREAD`] for none.
pub type ThreadId = i64;
/// A user task ID.
pub type TaskId = u64;

/// No goroutine.
pub const NO_GOROUTINE: GoId = -1;
/// No P.
pub const NO_PROC: ProcId = -1;
/// No thread.
pub const NO_THREAD: ThreadId = -1;
/// No task.
pub const NO_TASK: TaskId = u64::MAX;
/// The background task (regions outside any task belong to it).
pub const BACKGROUND_TASK: TaskId = 0;

/// The type of the synthetic Sync event (not a wire type).
pub const SYNC: EventType = EventType(255);

/// The kind of each event type ([`EventKind::of`]).
static KINDS: [EventKind; 256] = {
    let mut t = [EventKind::Bad; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = EventKind::of_type(EventType(i as u8));
        i += 1;
    }
    t
};

/// In [`TABLE_ARGS`]: no argument.
pub(crate) const NO_ARG: u8 = u8::MAX;

/// For each event type: the indexes in `args` of the stacks (two) and strings (two) it
/// names, [`NO_ARG`] where there are fewer (no spec names more than two of either).
pub(crate) static TABLE_ARGS: [[u8; 4]; 256] = table_args();

const fn table_args() -> [[u8; 4]; 256] {
    let specs = &goroscope_format::v2::spec::SPECS;
    let mut t = [[NO_ARG; 4]; 256];
    let mut i = 0;
    while i < specs.len() {
        let s = &specs[i];
        assert!(s.stack_ids.len() <= 2 && s.string_ids.len() <= 2);
        let mut k = 0;
        while k < s.stack_ids.len() {
            assert!(s.stack_ids[k] >= 1 && s.stack_ids[k] <= 4);
            t[i][k] = (s.stack_ids[k] - 1) as u8;
            k += 1;
        }
        k = 0;
        while k < s.string_ids.len() {
            assert!(s.string_ids[k] >= 1 && s.string_ids[k] <= 4);
            t[i][2 + k] = (s.string_ids[k] - 1) as u8;
            k += 1;
        }
        i += 1;
    }
    t
}

/// For each event type, the argument (1-based) that holds the event's own stack, 0 for none
/// ([`Event::stack`]): the first stack its specification names, the sample's stack for a
/// CPU sample, none for a Sync.
static STACK_ARGS: [u8; 256] = {
    let args = table_args();
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        if args[i][0] != NO_ARG {
            t[i] = args[i][0] + 1;
        }
        i += 1;
    }
    t[EventType::CPU_SAMPLE.0 as usize] = 1;
    t[SYNC.0 as usize] = 0;
    t
};

/// Where an event happened: the thread, and the P and goroutine it held *before* the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ctx {
    /// The thread.
    pub m: ThreadId,
    /// The P the thread held.
    pub p: ProcId,
    /// The goroutine the thread was running.
    pub g: GoId,
}

impl Ctx {
    /// No thread, no P, no goroutine.
    pub const NONE: Self = Self {
        m: NO_THREAD,
        p: NO_PROC,
        g: NO_GOROUTINE,
    };
}

/// What kind of thing an event says, as Go classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum EventKind {
    /// Not a valid event.
    Bad,
    /// A generation boundary; the first and last event of every trace.
    Sync,
    /// A metric sample (GOMAXPROCS, heap size, heap goal).
    Metric,
    /// A label applied to a goroutine.
    Label,
    /// A CPU profile sample.
    StackSample,
    /// The start of a range (GC, STW, sweep, mark assist).
    RangeBegin,
    /// A range in progress at the start of a generation.
    RangeActive,
    /// The end of a range.
    RangeEnd,
    /// A user task begins.
    TaskBegin,
    /// A user task ends.
    TaskEnd,
    /// A user region begins.
    RegionBegin,
    /// A user region ends.
    RegionEnd,
    /// A user log message.
    Log,
    /// A goroutine or P changes state.
    StateTransition,
    /// An event of an experiment.
    Experimental,
}

impl EventKind {
    /// Go's name of the kind.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bad => "Bad",
            Self::Sync => "Sync",
            Self::Metric => "Metric",
            Self::Label => "Label",
            Self::StackSample => "StackSample",
            Self::RangeBegin => "RangeBegin",
            Self::RangeActive => "RangeActive",
            Self::RangeEnd => "RangeEnd",
            Self::TaskBegin => "TaskBegin",
            Self::TaskEnd => "TaskEnd",
            Self::RegionBegin => "RegionBegin",
            Self::RegionEnd => "RegionEnd",
            Self::Log => "Log",
            Self::StateTransition => "StateTransition",
            Self::Experimental => "Experimental",
        }
    }

    /// The kind of events of wire type `ty`.
    #[inline]
    pub fn of(ty: EventType) -> Self {
        KINDS[usize::from(ty.0)]
    }

    const fn of_type(ty: EventType) -> Self {
        use EventType as T;
        match ty {
            SYNC => Self::Sync,
            T::CPU_SAMPLE => Self::StackSample,
            T::PROCS_CHANGE | T::HEAP_ALLOC | T::HEAP_GOAL => Self::Metric,
            T::PROC_START
            | T::PROC_STOP
            | T::PROC_STEAL
            | T::PROC_STATUS
            | T::GO_CREATE
            | T::GO_CREATE_SYSCALL
            | T::GO_START
            | T::GO_DESTROY
            | T::GO_DESTROY_SYSCALL
            | T::GO_STOP
            | T::GO_BLOCK
            | T::GO_UNBLOCK
            | T::GO_SYSCALL_BEGIN
            | T::GO_SYSCALL_END
            | T::GO_SYSCALL_END_BLOCKED
            | T::GO_STATUS
            | T::GO_SWITCH
            | T::GO_SWITCH_DESTROY
            | T::GO_CREATE_BLOCKED
            | T::GO_STATUS_STACK => Self::StateTransition,
            T::STW_BEGIN | T::GC_BEGIN | T::GC_SWEEP_BEGIN | T::GC_MARK_ASSIST_BEGIN => {
                Self::RangeBegin
            }
            T::GC_ACTIVE | T::GC_SWEEP_ACTIVE | T::GC_MARK_ASSIST_ACTIVE => Self::RangeActive,
            T::STW_END | T::GC_END | T::GC_SWEEP_END | T::GC_MARK_ASSIST_END => Self::RangeEnd,
            T::GO_LABEL => Self::Label,
            T::USER_TASK_BEGIN => Self::TaskBegin,
            T::USER_TASK_END => Self::TaskEnd,
            T::USER_REGION_BEGIN => Self::RegionBegin,
            T::USER_REGION_END => Self::RegionEnd,
            T::USER_LOG => Self::Log,
            t if t.0 >= 128 && t.0 <= 136 => Self::Experimental,
            _ => Self::Bad,
        }
    }
}

/// A goroutine state, as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum GoState {
    /// Not known (before its first status in the first generation).
    #[default]
    Undetermined = 0,
    /// Not created yet, or exited.
    NotExist = 1,
    /// Ready to run.
    Runnable = 2,
    /// Running on a thread.
    Running = 3,
    /// Blocked.
    Waiting = 4,
    /// In a syscall on a thread.
    Syscall = 5,
}

impl GoState {
    /// Go's name of the state.
    pub fn name(self) -> &'static str {
        match self {
            Self::Undetermined => "Undetermined",
            Self::NotExist => "NotExist",
            Self::Runnable => "Runnable",
            Self::Running => "Running",
            Self::Waiting => "Waiting",
            Self::Syscall => "Syscall",
        }
    }

    /// From the numeric value; anything unknown is `Undetermined`.
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::NotExist,
            2 => Self::Runnable,
            3 => Self::Running,
            4 => Self::Waiting,
            5 => Self::Syscall,
            _ => Self::Undetermined,
        }
    }

    /// The API state of a wire goroutine status.
    pub fn from_wire(status: u64) -> Self {
        match status {
            1 => Self::Runnable,
            2 => Self::Running,
            3 => Self::Syscall,
            4 => Self::Waiting,
            _ => Self::Undetermined,
        }
    }

    /// Whether the goroutine is bound to a thread (running or in a syscall).
    pub fn executing(self) -> bool {
        matches!(self, Self::Running | Self::Syscall)
    }
}

/// A P state, as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum ProcState {
    /// Not known (before its first status in the first generation).
    #[default]
    Undetermined = 0,
    /// Does not exist (GOMAXPROCS was lower).
    NotExist = 1,
    /// Held by a thread.
    Running = 2,
    /// Idle.
    Idle = 3,
}

impl ProcState {
    /// Go's name of the state.
    pub fn name(self) -> &'static str {
        match self {
            Self::Undetermined => "Undetermined",
            Self::NotExist => "NotExist",
            Self::Running => "Running",
            Self::Idle => "Idle",
        }
    }

    /// From the numeric value; anything unknown is `Undetermined`.
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::NotExist,
            2 => Self::Running,
            3 => Self::Idle,
            _ => Self::Undetermined,
        }
    }

    /// The API state of a wire P status (a P in a syscall shows as running, an abandoned one
    /// as idle).
    pub fn from_wire(status: u64) -> Self {
        match status {
            1 | 3 => Self::Running,
            2 | 4 => Self::Idle,
            _ => Self::Undetermined,
        }
    }
}

/// One event of the ordered stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The wire event type, or [`SYNC`].
    pub ty: EventType,
    /// When it happened.
    pub time: Time,
    /// The thread, P and goroutine before the event.
    pub ctx: Ctx,
    /// The arguments after the time delta, with what ordering adds (see Go's `order.go`):
    /// the old state of status events, the old status of steals, the parent and type of
    /// task ends, the kind of STW ends. For Sync: `[n, ..]`.
    pub args: [u64; 4],
    /// Index of the generation's tables in [`Tables`], or `u32::MAX` for none.
    pub table: u32,
}

impl Event {
    /// The kind of the event.
    #[inline]
    pub fn kind(&self) -> EventKind {
        EventKind::of(self.ty)
    }

    /// The event's own stack (for a goroutine creation, the creator's; for an unblock, the
    /// unblocker's), or `None`.
    #[inline]
    pub fn stack(&self) -> Option<StackRef> {
        match STACK_ARGS[usize::from(self.ty.0)] {
            0 => None,
            i => StackRef::some(self.table, self.args[usize::from(i - 1) & 3]),
        }
    }

    /// For a state transition: what changed.
    #[inline]
    pub fn state_transition(&self) -> Option<StateTransition> {
        use EventType as T;
        let go = |id: i64, old, new| Resource::Goroutine { id, old, new };
        let proc = |id: i64, old, new| Resource::Proc { id, old, new };
        let mut reason = 0;
        let mut stack = None;
        let resource = match self.ty {
            T::PROC_START => proc(self.args[0] as i64, ProcState::Idle, ProcState::Running),
            T::PROC_STOP => proc(self.ctx.p, ProcState::Running, ProcState::Idle),
            T::PROC_STEAL => {
                let before = if self.args[3] == 4 {
                    ProcState::Idle
                } else {
                    ProcState::Running
                };
                proc(self.args[0] as i64, before, ProcState::Idle)
            }
            T::PROC_STATUS => proc(
                self.args[0] as i64,
                ProcState::from_u8(self.args[2] as u8),
                ProcState::from_wire(self.args[1]),
            ),
            T::GO_CREATE | T::GO_CREATE_BLOCKED => {
                // Go keeps the new goroutine's stack even when its ID is 0, so it prints an
                // empty TransitionStack then.
                stack = Some(StackRef {
                    table: self.table,
                    id: self.args[1],
                });
                let new = if self.ty == T::GO_CREATE_BLOCKED {
                    GoState::Waiting
                } else {
                    GoState::Runnable
                };
                go(self.args[0] as i64, GoState::NotExist, new)
            }
            T::GO_CREATE_SYSCALL => go(self.args[0] as i64, GoState::NotExist, GoState::Syscall),
            T::GO_START => go(self.args[0] as i64, GoState::Runnable, GoState::Running),
            T::GO_DESTROY => go(self.ctx.g, GoState::Running, GoState::NotExist),
            T::GO_DESTROY_SYSCALL => go(self.ctx.g, GoState::Syscall, GoState::NotExist),
            T::GO_STOP | T::GO_BLOCK => {
                reason = self.args[0];
                stack = self.stack();
                let new = if self.ty == T::GO_STOP {
                    GoState::Runnable
                } else {
                    GoState::Waiting
                };
                go(self.ctx.g, GoState::Running, new)
            }
            T::GO_UNBLOCK | T::GO_SWITCH | T::GO_SWITCH_DESTROY => {
                go(self.args[0] as i64, GoState::Waiting, GoState::Runnable)
            }
            T::GO_SYSCALL_BEGIN => {
                stack = self.stack();
                go(self.ctx.g, GoState::Running, GoState::Syscall)
            }
            T::GO_SYSCALL_END => go(self.ctx.g, GoState::Syscall, GoState::Running),
            T::GO_SYSCALL_END_BLOCKED => go(self.ctx.g, GoState::Syscall, GoState::Runnable),
            T::GO_STATUS | T::GO_STATUS_STACK => {
                stack = self.stack();
                let packed = self.args[2];
                go(
                    self.args[0] as i64,
                    GoState::from_u8((packed >> 32) as u8),
                    GoState::from_wire(packed & 0xffff_ffff),
                )
            }
            _ => return None,
        };
        Some(StateTransition {
            resource,
            reason: StringRef {
                table: self.table,
                id: reason,
            },
            stack,
        })
    }
}

/// What a range is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Nothing (the GC mark phase).
    None,
    /// A goroutine.
    Goroutine(GoId),
    /// A P.
    Proc(ProcId),
}

impl Event {
    /// For a range event: the range's name, as Go names it (`GC concurrent mark phase`,
    /// `stop-the-world (<kind>)`, …).
    pub fn range_name<'t>(&self, tables: &Tables<'t>) -> Option<std::borrow::Cow<'t, [u8]>> {
        use EventType as T;
        Some(match self.ty {
            T::STW_BEGIN | T::STW_END => {
                let kind = tables.string(StringRef {
                    table: self.table,
                    id: self.args[0],
                });
                let mut name = b"stop-the-world (".to_vec();
                name.extend_from_slice(kind);
                name.push(b')');
                name.into()
            }
            T::GC_BEGIN | T::GC_ACTIVE | T::GC_END => (&b"GC concurrent mark phase"[..]).into(),
            T::GC_SWEEP_BEGIN | T::GC_SWEEP_ACTIVE | T::GC_SWEEP_END => {
                (&b"GC incremental sweep"[..]).into()
            }
            T::GC_MARK_ASSIST_BEGIN | T::GC_MARK_ASSIST_ACTIVE | T::GC_MARK_ASSIST_END => {
                (&b"GC mark assist"[..]).into()
            }
            _ => return None,
        })
    }

    /// For a range event: what the range is bound to.
    pub fn range_scope(&self) -> Option<Scope> {
        use EventType as T;
        Some(match self.ty {
            T::STW_BEGIN | T::STW_END => Scope::Goroutine(self.ctx.g),
            T::GC_BEGIN | T::GC_ACTIVE | T::GC_END => Scope::None,
            T::GC_SWEEP_ACTIVE => Scope::Proc(self.args[0] as i64),
            T::GC_SWEEP_BEGIN | T::GC_SWEEP_END => Scope::Proc(self.ctx.p),
            T::GC_MARK_ASSIST_ACTIVE => Scope::Goroutine(self.args[0] as i64),
            T::GC_MARK_ASSIST_BEGIN | T::GC_MARK_ASSIST_END => Scope::Goroutine(self.ctx.g),
            _ => return None,
        })
    }

    /// For a metric event: its name and value.
    pub fn metric(&self) -> Option<(&'static str, u64)> {
        let name = match self.ty {
            EventType::PROCS_CHANGE => "/sched/gomaxprocs:threads",
            EventType::HEAP_ALLOC => "/memory/classes/heap/objects:bytes",
            EventType::HEAP_GOAL => "/gc/heap/goal:bytes",
            _ => return None,
        };
        Some((name, self.args[0]))
    }

    /// For a task event: the task ID, its parent, and a reference to its type name (a table
    /// string for a begin, an extra string for an end: see [`Tables::task_type`]).
    pub fn task(&self) -> Option<(TaskId, TaskId)> {
        match self.ty {
            EventType::USER_TASK_BEGIN => Some((self.args[0], self.args[1])),
            EventType::USER_TASK_END => Some((self.args[0], self.args[2])),
            _ => None,
        }
    }

    /// For a region begin or end: the task and a reference to the region's type name (Go's
    /// `Event.Region()`).
    pub fn region(&self) -> Option<(TaskId, StringRef)> {
        match self.ty {
            EventType::USER_REGION_BEGIN | EventType::USER_REGION_END => Some((
                self.args[0],
                StringRef {
                    table: self.table,
                    id: self.args[1],
                },
            )),
            _ => None,
        }
    }

    /// For a label event: a reference to the label, which applies to the goroutine of the
    /// event's context (Go's `Event.Label()`).
    pub fn label(&self) -> Option<StringRef> {
        (self.ty == EventType::GO_LABEL).then_some(StringRef {
            table: self.table,
            id: self.args[0],
        })
    }

    /// For a log event: the task and references to the category and the message (Go's
    /// `Event.Log()`).
    pub fn log(&self) -> Option<(TaskId, StringRef, StringRef)> {
        (self.ty == EventType::USER_LOG).then_some((
            self.args[0],
            StringRef {
                table: self.table,
                id: self.args[1],
            },
            StringRef {
                table: self.table,
                id: self.args[2],
            },
        ))
    }

    /// For a Sync event: its number `N`, counting generations from 1 (Go's
    /// `Event.Sync().N`).
    pub fn sync_n(&self) -> Option<u64> {
        (self.ty == SYNC).then_some(self.args[0])
    }
}

/// A reference to a stack of a generation's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StackRef {
    /// The generation's table index.
    pub table: u32,
    /// The stack ID (0 only for a creation's empty new stack).
    pub id: u64,
}

impl StackRef {
    fn some(table: u32, id: u64) -> Option<Self> {
        (id != 0).then_some(Self { table, id })
    }
}

/// A reference to a string of a generation's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StringRef {
    /// The generation's table index.
    pub table: u32,
    /// The string ID (0 is the empty string).
    pub id: u64,
}

/// The resource whose state changes, with the old and new states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A goroutine.
    Goroutine {
        /// Its ID.
        id: GoId,
        /// The state before.
        old: GoState,
        /// The state after.
        new: GoState,
    },
    /// A P.
    Proc {
        /// Its ID.
        id: ProcId,
        /// The state before.
        old: ProcState,
        /// The state after.
        new: ProcState,
    },
}

/// A state transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateTransition {
    /// What changed.
    pub resource: Resource,
    /// Why (the block or stop reason), for goroutines leaving the running state.
    pub reason: StringRef,
    /// The stack of the resource at the transition.
    pub stack: Option<StackRef>,
}

/// The tables of one generation.
#[derive(Debug, Clone)]
pub struct GenTables<'a> {
    /// The generation number.
    pub generation: u64,
    /// Nanoseconds per tick.
    pub ns_per_tick: f64,
    /// The string table.
    pub strings: StringTable<'a>,
    /// The stack table.
    pub stacks: StackTable,
    /// The clock snapshot (Go 1.25+).
    pub clock: Option<ClockSnapshot>,
    /// Experimental batches, in file order.
    pub experimental: Vec<Batch<'a>>,
}

impl GenTables<'_> {
    /// Converts ticks to nanoseconds exactly as Go does (on amd64, a float out of the
    /// int64 range converts to the smallest int64).
    #[inline]
    pub fn ticks_to_ns(&self, ticks: u64) -> Time {
        const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
        let ns = ticks as f64 * self.ns_per_tick;
        if (-LIMIT..LIMIT).contains(&ns) {
            ns as Time
        } else {
            Time::MIN
        }
    }
}

/// All tables of a trace, plus the strings the ordering makes up.
#[derive(Debug, Clone, Default)]
pub struct Tables<'a> {
    /// One entry per generation, in order.
    pub gens: Vec<GenTables<'a>>,
    /// Strings not from any table (task types carried across generations); index 0 is "".
    pub extra: Vec<Vec<u8>>,
}

impl<'a> Tables<'a> {
    /// The tables of generation index `table`.
    #[inline]
    pub fn gen_tables(&self, table: u32) -> Option<&GenTables<'a>> {
        self.gens.get(table as usize)
    }

    /// A string of a generation's table; missing strings read as empty.
    pub fn string(&self, r: StringRef) -> &'a [u8] {
        self.gen_tables(r.table)
            .and_then(|t| t.strings.get(r.id))
            .unwrap_or_default()
    }

    /// A string made up by the ordering.
    pub fn extra_string(&self, id: u64) -> &[u8] {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.extra.get(i))
            .map_or(&[][..], Vec::as_slice)
    }

    /// The type name of a task begin or end event.
    pub fn task_type(&self, ev: &Event) -> &[u8] {
        match ev.ty {
            EventType::USER_TASK_BEGIN => self.string(StringRef {
                table: ev.table,
                id: ev.args[2],
            }),
            EventType::USER_TASK_END => self.extra_string(ev.args[3]),
            _ => &[],
        }
    }

    /// The frames of a stack, innermost first.
    pub fn frames(&self, r: StackRef) -> impl Iterator<Item = ResolvedFrame<'a>> + '_ {
        let t = self.gen_tables(r.table);
        let frames = t.and_then(|t| t.stacks.get(r.id));
        frames.into_iter().flatten().map(move |f: &Frame| {
            let strings = t.map(|t| &t.strings);
            ResolvedFrame {
                pc: f.pc,
                func: strings.and_then(|s| s.get(f.func)).unwrap_or_default(),
                file: strings.and_then(|s| s.get(f.file)).unwrap_or_default(),
                line: f.line,
            }
        })
    }
}

/// A stack frame with its strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedFrame<'a> {
    /// The program counter.
    pub pc: u64,
    /// The function name.
    pub func: &'a [u8],
    /// The file name.
    pub file: &'a [u8],
    /// The line number.
    pub line: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_finds_its_own_stack_where_its_specification_says() {
        for t in 0..=255u8 {
            let ty = EventType(t);
            for args in [[1, 2, 3, 4], [0, 0, 0, 0], [9, 0, 7, 0]] {
                let ev = Event {
                    ty,
                    time: 5,
                    ctx: Ctx::NONE,
                    args,
                    table: 2,
                };
                let arg = if ty == SYNC {
                    None
                } else if ty == EventType::CPU_SAMPLE {
                    Some(1)
                } else {
                    ty.spec().and_then(|s| s.stack_ids.first().copied())
                };
                let want = arg
                    .map(|i| args[i - 1])
                    .filter(|&id| id != 0)
                    .map(|id| StackRef { table: 2, id });
                assert_eq!(ev.stack(), want, "type {t}, args {args:?}");
            }
        }
    }
}
