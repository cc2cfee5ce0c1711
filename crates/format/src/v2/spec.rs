//! The v2 event types and their argument specifications (Go's `tracev2/events.go`).
//!
//! Each event on the wire is one type byte followed by one uvarint per argument. Timed events
//! (those that appear in event batches) take the time delta `dt` as their first argument.
//! Stack table records (`Stack`) are followed by four uvarints per frame; records with data
//! (`String`, `ExperimentalBatch`) by a uvarint length and that many bytes.

use crate::version::Version;

/// A v2 event type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventType(pub u8);

macro_rules! event_types {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        impl EventType {
            $($(#[$doc])* pub const $name: Self = Self($value);)*
        }
    };
}

event_types! {
    /// Start of a per-M batch of events.
    EVENT_BATCH = 1;
    /// Start of a stack table batch.
    STACKS = 2;
    /// A stack table entry.
    STACK = 3;
    /// Start of a string table batch.
    STRINGS = 4;
    /// A string table entry.
    STRING = 5;
    /// Start of a CPU sample batch.
    CPU_SAMPLES = 6;
    /// A CPU profile sample.
    CPU_SAMPLE = 7;
    /// Timestamp units per second.
    FREQUENCY = 8;
    /// GOMAXPROCS changed.
    PROCS_CHANGE = 9;
    /// A P starts.
    PROC_START = 10;
    /// A P stops.
    PROC_STOP = 11;
    /// A P was stolen from a thread in a syscall.
    PROC_STEAL = 12;
    /// A P's status at the start of a generation.
    PROC_STATUS = 13;
    /// A goroutine is created.
    GO_CREATE = 14;
    /// A goroutine appears in a syscall (cgo callback).
    GO_CREATE_SYSCALL = 15;
    /// A goroutine starts running.
    GO_START = 16;
    /// A goroutine ends.
    GO_DESTROY = 17;
    /// A goroutine ends in a syscall (cgo callback).
    GO_DESTROY_SYSCALL = 18;
    /// A goroutine yields but stays runnable.
    GO_STOP = 19;
    /// A goroutine blocks.
    GO_BLOCK = 20;
    /// A goroutine is unblocked.
    GO_UNBLOCK = 21;
    /// A goroutine enters a syscall.
    GO_SYSCALL_BEGIN = 22;
    /// A goroutine leaves a syscall without having lost its P.
    GO_SYSCALL_END = 23;
    /// A goroutine leaves a syscall after having blocked in it.
    GO_SYSCALL_END_BLOCKED = 24;
    /// A goroutine's status at the start of a generation.
    GO_STATUS = 25;
    /// A stop-the-world begins.
    STW_BEGIN = 26;
    /// A stop-the-world ends.
    STW_END = 27;
    /// A GC mark phase is in progress at the start of a generation.
    GC_ACTIVE = 28;
    /// A GC mark phase begins.
    GC_BEGIN = 29;
    /// A GC mark phase ends.
    GC_END = 30;
    /// A P is sweeping at the start of a generation.
    GC_SWEEP_ACTIVE = 31;
    /// A sweep begins.
    GC_SWEEP_BEGIN = 32;
    /// A sweep ends.
    GC_SWEEP_END = 33;
    /// A goroutine is in a mark assist at the start of a generation.
    GC_MARK_ASSIST_ACTIVE = 34;
    /// A mark assist begins.
    GC_MARK_ASSIST_BEGIN = 35;
    /// A mark assist ends.
    GC_MARK_ASSIST_END = 36;
    /// The live heap size changed.
    HEAP_ALLOC = 37;
    /// The heap goal changed.
    HEAP_GOAL = 38;
    /// A label is applied to the running goroutine.
    GO_LABEL = 39;
    /// `trace.NewTask`.
    USER_TASK_BEGIN = 40;
    /// End of a task.
    USER_TASK_END = 41;
    /// A user region begins.
    USER_REGION_BEGIN = 42;
    /// A user region ends.
    USER_REGION_END = 43;
    /// `trace.Log`.
    USER_LOG = 44;
    /// A coroutine switch.
    GO_SWITCH = 45;
    /// A coroutine switch that destroys the current goroutine.
    GO_SWITCH_DESTROY = 46;
    /// A goroutine is created blocked.
    GO_CREATE_BLOCKED = 47;
    /// A goroutine's status at the start of a generation, with its stack.
    GO_STATUS_STACK = 48;
    /// Start of a batch of experimental data.
    EXPERIMENTAL_BATCH = 49;
    /// Start of a sync batch.
    SYNC = 50;
    /// A snapshot of the trace, monotonic and wall clocks.
    CLOCK_SNAPSHOT = 51;
    /// The end of a generation.
    END_OF_GENERATION = 52;
    /// AllocFree experiment: a heap span exists.
    SPAN = 128;
    /// AllocFree experiment: a heap span is allocated.
    SPAN_ALLOC = 129;
    /// AllocFree experiment: a heap span is freed.
    SPAN_FREE = 130;
    /// AllocFree experiment: a heap object exists.
    HEAP_OBJECT = 131;
    /// AllocFree experiment: a heap object is allocated.
    HEAP_OBJECT_ALLOC = 132;
    /// AllocFree experiment: a heap object is freed.
    HEAP_OBJECT_FREE = 133;
    /// AllocFree experiment: a goroutine stack exists.
    GOROUTINE_STACK = 134;
    /// AllocFree experiment: a goroutine stack is allocated.
    GOROUTINE_STACK_ALLOC = 135;
    /// AllocFree experiment: a goroutine stack is freed.
    GOROUTINE_STACK_FREE = 136;
}

impl EventType {
    /// The specification of this event type in the complete table, if it is defined.
    #[inline]
    pub fn spec(self) -> Option<&'static Spec> {
        SPECS
            .get(usize::from(self.0))
            .filter(|s| !s.name.is_empty())
    }

    /// The specification of this event type as `version` defines it.
    pub fn spec_in(self, version: Version) -> Option<&'static Spec> {
        specs(version)
            .get(usize::from(self.0))
            .filter(|s| !s.name.is_empty())
    }

    /// The event's name, or `Invalid(N)`.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match self.spec() {
            Some(s) => s.name.into(),
            None => format!("Invalid({})", self.0).into(),
        }
    }
}

/// The wire experiment IDs.
pub mod experiment {
    /// No experiment.
    pub const NONE: u8 = 0;
    /// Heap span, object and goroutine-stack allocation and free events.
    pub const ALLOC_FREE: u8 = 1;

    /// The name of experiment `id` as Go reports it.
    pub fn name(id: u8) -> &'static str {
        match id {
            NONE => "None",
            ALLOC_FREE => "AllocFree",
            _ => "",
        }
    }
}

/// How one event type is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The event's name, as in Go's text form.
    pub name: &'static str,
    /// The names of the arguments on the wire, `dt` first for timed events.
    pub args: &'static [&'static str],
    /// Whether the event appears in event batches and starts with a time delta.
    pub timed: bool,
    /// Whether frames follow the arguments (the stack table record).
    pub is_stack: bool,
    /// Whether a length-prefixed byte string follows the arguments.
    pub has_data: bool,
    /// Indexes into `args` of stack IDs, the event's own stack first.
    pub stack_ids: &'static [usize],
    /// Indexes into `args` of string IDs.
    pub string_ids: &'static [usize],
    /// For the end (or active) event of a range, the event that begins it.
    pub start_ev: Option<EventType>,
    /// The experiment the event belongs to (0 for none).
    pub experiment: u8,
}

impl Spec {
    pub(crate) const EMPTY: Self = Self {
        name: "",
        args: &[],
        timed: false,
        is_stack: false,
        has_data: false,
        stack_ids: &[],
        string_ids: &[],
        start_ev: None,
        experiment: 0,
    };

    const fn plain(name: &'static str, args: &'static [&'static str]) -> Self {
        Self {
            name,
            args,
            ..Self::EMPTY
        }
    }

    const fn timed(name: &'static str, args: &'static [&'static str]) -> Self {
        Self {
            name,
            args,
            timed: true,
            ..Self::EMPTY
        }
    }

    const fn stacks(mut self, ids: &'static [usize]) -> Self {
        self.stack_ids = ids;
        self
    }

    const fn strings(mut self, ids: &'static [usize]) -> Self {
        self.string_ids = ids;
        self
    }

    const fn starts(mut self, ev: u8) -> Self {
        self.start_ev = Some(EventType(ev));
        self
    }

    const fn alloc_free(mut self) -> Self {
        self.experiment = experiment::ALLOC_FREE;
        self
    }
}

/// The largest number of arguments of any timed event, `dt` included.
pub const MAX_TIMED_ARGS: usize = 5;
/// The largest batch body the runtime writes.
pub const MAX_BATCH_SIZE: u64 = 64 << 10;
/// The largest number of frames per stack the runtime writes.
pub const MAX_FRAMES_PER_STACK: u64 = 128;
/// The largest string the runtime writes.
pub const MAX_STRING_SIZE: u64 = 1 << 10;

const N: usize = 137;

/// The complete table, indexed by type byte. Undefined entries have an empty name.
pub static SPECS: [Spec; N] = {
    let mut t = [Spec::EMPTY; N];
    t[1] = Spec::plain("EventBatch", &["gen", "m", "time", "size"]);
    t[2] = Spec::plain("Stacks", &[]);
    t[3] = Spec {
        is_stack: true,
        ..Spec::plain("Stack", &["id", "nframes"])
    };
    t[4] = Spec::plain("Strings", &[]);
    t[5] = Spec {
        has_data: true,
        ..Spec::plain("String", &["id"])
    };
    t[6] = Spec::plain("CPUSamples", &[]);
    t[7] = Spec::plain("CPUSample", &["time", "m", "p", "g", "stack"]).stacks(&[4]);
    t[8] = Spec::plain("Frequency", &["freq"]);
    t[9] = Spec::timed("ProcsChange", &["dt", "procs_value", "stack"]).stacks(&[2]);
    t[10] = Spec::timed("ProcStart", &["dt", "p", "p_seq"]);
    t[11] = Spec::timed("ProcStop", &["dt"]);
    t[12] = Spec::timed("ProcSteal", &["dt", "p", "p_seq", "m"]);
    t[13] = Spec::timed("ProcStatus", &["dt", "p", "pstatus"]);
    t[14] = Spec::timed("GoCreate", &["dt", "new_g", "new_stack", "stack"]).stacks(&[3, 2]);
    t[15] = Spec::timed("GoCreateSyscall", &["dt", "new_g"]);
    t[16] = Spec::timed("GoStart", &["dt", "g", "g_seq"]);
    t[17] = Spec::timed("GoDestroy", &["dt"]);
    t[18] = Spec::timed("GoDestroySyscall", &["dt"]);
    t[19] = Spec::timed("GoStop", &["dt", "reason_string", "stack"])
        .stacks(&[2])
        .strings(&[1]);
    t[20] = Spec::timed("GoBlock", &["dt", "reason_string", "stack"])
        .stacks(&[2])
        .strings(&[1]);
    t[21] = Spec::timed("GoUnblock", &["dt", "g", "g_seq", "stack"]).stacks(&[3]);
    t[22] = Spec::timed("GoSyscallBegin", &["dt", "p_seq", "stack"]).stacks(&[2]);
    t[23] = Spec::timed("GoSyscallEnd", &["dt"]).starts(22);
    t[24] = Spec::timed("GoSyscallEndBlocked", &["dt"]).starts(22);
    t[25] = Spec::timed("GoStatus", &["dt", "g", "m", "gstatus"]);
    t[26] = Spec::timed("STWBegin", &["dt", "kind_string", "stack"])
        .stacks(&[2])
        .strings(&[1]);
    t[27] = Spec::timed("STWEnd", &["dt"]).starts(26);
    t[28] = Spec::timed("GCActive", &["dt", "gc_seq"]).starts(29);
    t[29] = Spec::timed("GCBegin", &["dt", "gc_seq", "stack"]).stacks(&[2]);
    t[30] = Spec::timed("GCEnd", &["dt", "gc_seq"]).starts(29);
    t[31] = Spec::timed("GCSweepActive", &["dt", "p"]).starts(32);
    t[32] = Spec::timed("GCSweepBegin", &["dt", "stack"]).stacks(&[1]);
    t[33] = Spec::timed("GCSweepEnd", &["dt", "swept_value", "reclaimed_value"]).starts(32);
    t[34] = Spec::timed("GCMarkAssistActive", &["dt", "g"]).starts(35);
    t[35] = Spec::timed("GCMarkAssistBegin", &["dt", "stack"]).stacks(&[1]);
    t[36] = Spec::timed("GCMarkAssistEnd", &["dt"]).starts(35);
    t[37] = Spec::timed("HeapAlloc", &["dt", "heapalloc_value"]);
    t[38] = Spec::timed("HeapGoal", &["dt", "heapgoal_value"]);
    t[39] = Spec::timed("GoLabel", &["dt", "label_string"]).strings(&[1]);
    t[40] = Spec::timed(
        "UserTaskBegin",
        &["dt", "task", "parent_task", "name_string", "stack"],
    )
    .stacks(&[4])
    .strings(&[3]);
    t[41] = Spec::timed("UserTaskEnd", &["dt", "task", "stack"]).stacks(&[2]);
    t[42] = Spec::timed("UserRegionBegin", &["dt", "task", "name_string", "stack"])
        .stacks(&[3])
        .strings(&[2]);
    t[43] = Spec::timed("UserRegionEnd", &["dt", "task", "name_string", "stack"])
        .stacks(&[3])
        .strings(&[2])
        .starts(42);
    t[44] = Spec::timed(
        "UserLog",
        &["dt", "task", "key_string", "value_string", "stack"],
    )
    .stacks(&[4])
    .strings(&[2, 3]);
    t[45] = Spec::timed("GoSwitch", &["dt", "g", "g_seq"]);
    t[46] = Spec::timed("GoSwitchDestroy", &["dt", "g", "g_seq"]);
    t[47] = Spec::timed("GoCreateBlocked", &["dt", "new_g", "new_stack", "stack"]).stacks(&[3, 2]);
    t[48] = Spec::timed("GoStatusStack", &["dt", "g", "m", "gstatus", "stack"]).stacks(&[4]);
    t[49] = Spec {
        has_data: true,
        ..Spec::plain("ExperimentalBatch", &["exp", "gen", "m", "time"])
    };
    t[50] = Spec::plain("Sync", &[]);
    t[51] = Spec::timed("ClockSnapshot", &["dt", "mono", "sec", "nsec"]);
    t[52] = Spec::plain("EndOfGeneration", &[]);
    t[128] = Spec::timed("Span", &["dt", "id", "npages_value", "kindclass"]).alloc_free();
    t[129] = Spec::timed("SpanAlloc", &["dt", "id", "npages_value", "kindclass"]).alloc_free();
    t[130] = Spec::timed("SpanFree", &["dt", "id"]).alloc_free();
    t[131] = Spec::timed("HeapObject", &["dt", "id", "type"]).alloc_free();
    t[132] = Spec::timed("HeapObjectAlloc", &["dt", "id", "type"]).alloc_free();
    t[133] = Spec::timed("HeapObjectFree", &["dt", "id"]).alloc_free();
    t[134] = Spec::timed("GoroutineStack", &["dt", "id", "order"]).alloc_free();
    t[135] = Spec::timed("GoroutineStackAlloc", &["dt", "id", "order"]).alloc_free();
    t[136] = Spec::timed("GoroutineStackFree", &["dt", "id"]).alloc_free();
    t
};

/// The table of `version`, as Go's raw reader uses it: each version defines a prefix of the
/// complete table. v1 versions have no table and get an empty slice.
pub fn specs(version: Version) -> &'static [Spec] {
    match version.minor() {
        22 => &SPECS[..=44],
        23 => &SPECS[..=49],
        25 => &SPECS[..=51],
        26 => &SPECS[..],
        _ => &[],
    }
}

/// Looks up an event type by its name in `version`'s table.
pub fn by_name(version: Version, name: &str) -> Option<EventType> {
    specs(version)
        .iter()
        .position(|s| !s.name.is_empty() && s.name == name)
        .map(|i| EventType(i as u8))
}

/// Wire goroutine statuses.
pub mod go_status {
    /// Invalid.
    pub const BAD: u64 = 0;
    /// Runnable.
    pub const RUNNABLE: u64 = 1;
    /// Running.
    pub const RUNNING: u64 = 2;
    /// In a syscall.
    pub const SYSCALL: u64 = 3;
    /// Blocked.
    pub const WAITING: u64 = 4;

    /// Go's name of a wire goroutine status.
    pub fn name(s: u64) -> &'static str {
        match s {
            RUNNABLE => "Runnable",
            RUNNING => "Running",
            SYSCALL => "Syscall",
            WAITING => "Waiting",
            _ => "Bad",
        }
    }
}

/// Wire P statuses.
pub mod proc_status {
    /// Invalid.
    pub const BAD: u64 = 0;
    /// Running.
    pub const RUNNING: u64 = 1;
    /// Idle.
    pub const IDLE: u64 = 2;
    /// Held by a thread in a syscall.
    pub const SYSCALL: u64 = 3;
    /// Its thread is in a syscall, and the P was about to be stolen.
    pub const SYSCALL_ABANDONED: u64 = 4;

    /// Go's name of a wire P status.
    pub fn name(s: u64) -> &'static str {
        match s {
            RUNNING => "Running",
            IDLE => "Idle",
            SYSCALL => "Syscall",
            SYSCALL_ABANDONED => "SyscallAbandoned",
            _ => "Bad",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_timed_event_fits_the_argument_array() {
        for s in SPECS.iter().filter(|s| s.timed) {
            assert!(s.args.len() <= MAX_TIMED_ARGS, "{}", s.name);
            assert_eq!(s.args[0], "dt", "{}", s.name);
            for &i in s.stack_ids.iter().chain(s.string_ids) {
                assert!(i > 0 && i < s.args.len(), "{}", s.name);
            }
        }
    }

    #[test]
    fn versions_define_prefixes() {
        assert_eq!(specs(Version::GO122).len(), 45);
        assert!(EventType::GO_SWITCH.spec_in(Version::GO122).is_none());
        assert!(EventType::GO_SWITCH.spec_in(Version::GO123).is_some());
        assert!(EventType::SYNC.spec_in(Version::GO123).is_none());
        assert!(
            EventType::END_OF_GENERATION
                .spec_in(Version::GO125)
                .is_none()
        );
        assert!(EventType::SPAN.spec_in(Version::GO125).is_none());
        assert_eq!(
            EventType::SPAN.spec_in(Version::GO126).unwrap().name,
            "Span"
        );
        assert!(specs(Version::GO121).is_empty());
    }

    #[test]
    fn names_round_trip() {
        for v in [
            Version::GO122,
            Version::GO123,
            Version::GO125,
            Version::GO126,
        ] {
            for (i, s) in specs(v).iter().enumerate() {
                if !s.name.is_empty() {
                    assert_eq!(by_name(v, s.name), Some(EventType(i as u8)));
                }
            }
        }
        assert_eq!(EventType(60).name(), "Invalid(60)");
    }
}
