//! The v1 event types and their argument layouts (Go's `tracev1` event table).
//!
//! Each entry names the logical arguments after the timestamp delta, whether a stack ID
//! follows them, and the first format version that may contain the event. An event on the
//! wire must carry exactly `dt` (for timed events), these arguments, and the stack ID.

use std::fmt;

use crate::version::Version;

/// A v1 event type: the low six bits of an event's first byte.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventType(pub u8);

macro_rules! event_types {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        impl EventType {
            $($(#[$doc])* pub const $name: Self = Self($value);)*
        }
    };
}

event_types! {
    /// Unused; never valid on the wire.
    NONE = 0;
    /// Start of a per-P batch: P, absolute ticks.
    BATCH = 1;
    /// Ticks per second.
    FREQUENCY = 2;
    /// A stack table entry: ID, frame count, then PC, function, file and line per frame.
    STACK = 3;
    /// GOMAXPROCS changed.
    GOMAXPROCS = 4;
    /// A P starts running on a thread.
    PROC_START = 5;
    /// A P stops.
    PROC_STOP = 6;
    /// A GC cycle starts.
    GC_START = 7;
    /// A GC cycle ends.
    GC_DONE = 8;
    /// A stop-the-world begins.
    STW_START = 9;
    /// A stop-the-world ends.
    STW_DONE = 10;
    /// A P starts sweeping.
    GC_SWEEP_START = 11;
    /// A P stops sweeping.
    GC_SWEEP_DONE = 12;
    /// A goroutine is created.
    GO_CREATE = 13;
    /// A goroutine starts running.
    GO_START = 14;
    /// A goroutine ends.
    GO_END = 15;
    /// A goroutine stops for good (like `select {}`).
    GO_STOP = 16;
    /// A goroutine calls `runtime.Gosched`.
    GO_SCHED = 17;
    /// A goroutine is preempted.
    GO_PREEMPT = 18;
    /// A goroutine sleeps.
    GO_SLEEP = 19;
    /// A goroutine blocks.
    GO_BLOCK = 20;
    /// A goroutine is unblocked.
    GO_UNBLOCK = 21;
    /// A goroutine blocks on a channel send.
    GO_BLOCK_SEND = 22;
    /// A goroutine blocks on a channel receive.
    GO_BLOCK_RECV = 23;
    /// A goroutine blocks in `select`.
    GO_BLOCK_SELECT = 24;
    /// A goroutine blocks on a mutex.
    GO_BLOCK_SYNC = 25;
    /// A goroutine blocks on a condition variable.
    GO_BLOCK_COND = 26;
    /// A goroutine blocks on the network.
    GO_BLOCK_NET = 27;
    /// A goroutine enters a syscall.
    GO_SYSCALL = 28;
    /// A goroutine leaves a syscall.
    GO_SYS_EXIT = 29;
    /// A syscall blocks and its P is handed off.
    GO_SYS_BLOCK = 30;
    /// A goroutine is blocked when tracing starts.
    GO_WAITING = 31;
    /// A goroutine is in a syscall when tracing starts.
    GO_IN_SYSCALL = 32;
    /// The live heap size changed.
    HEAP_ALLOC = 33;
    /// The heap goal changed.
    HEAP_GOAL = 34;
    /// Names a timer goroutine.
    TIMER_GOROUTINE = 35;
    /// The previous wakeup of the goroutine was futile (old runtimes only).
    FUTILE_WAKEUP = 36;
    /// A string table entry: ID, length, bytes.
    STRING = 37;
    /// A goroutine starts on the P of the previous event (no sequence number).
    GO_START_LOCAL = 38;
    /// A goroutine is unblocked on the P of the previous event (no sequence number).
    GO_UNBLOCK_LOCAL = 39;
    /// A syscall exit on the P of the previous event (no sequence number).
    GO_SYS_EXIT_LOCAL = 40;
    /// A goroutine starts running with a label.
    GO_START_LABEL = 41;
    /// A goroutine blocks on a GC assist.
    GO_BLOCK_GC = 42;
    /// A GC mark assist starts.
    GC_MARK_ASSIST_START = 43;
    /// A GC mark assist ends.
    GC_MARK_ASSIST_DONE = 44;
    /// `trace.NewTask`.
    USER_TASK_CREATE = 45;
    /// The end of a task.
    USER_TASK_END = 46;
    /// `trace.WithRegion` begin (mode 0) or end (mode 1).
    USER_REGION = 47;
    /// `trace.Log`; the message follows the arguments inline.
    USER_LOG = 48;
    /// A CPU profile sample (Go 1.19+).
    CPU_SAMPLE = 49;
}

/// The number of defined event types; every type byte at or above it is invalid.
pub const EVENT_COUNT: u8 = 50;

/// How one event type is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The event's name, as Go's `tracev1` spells it.
    pub name: &'static str,
    /// The first format version (minor Go version) that may contain the event.
    pub min_version: u8,
    /// Whether a stack ID follows the arguments.
    pub stack: bool,
    /// The names of the logical arguments, without the timestamp delta and the stack ID.
    pub args: &'static [&'static str],
}

impl Spec {
    const fn new(
        name: &'static str,
        min_version: u8,
        stack: bool,
        args: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            min_version,
            stack,
            args,
        }
    }
}

/// The event table, indexed by type byte.
pub static SPECS: [Spec; EVENT_COUNT as usize] = [
    Spec::new("None", 5, false, &[]),
    Spec::new("Batch", 5, false, &["p", "ticks"]),
    Spec::new("Frequency", 5, false, &["freq"]),
    Spec::new("Stack", 5, false, &["id", "siz"]),
    Spec::new("Gomaxprocs", 5, true, &["procs"]),
    Spec::new("ProcStart", 5, false, &["thread"]),
    Spec::new("ProcStop", 5, false, &[]),
    Spec::new("GCStart", 5, true, &["seq"]),
    Spec::new("GCDone", 5, false, &[]),
    Spec::new("GCSTWStart", 5, false, &["kindid"]),
    Spec::new("GCSTWDone", 5, false, &[]),
    Spec::new("GCSweepStart", 5, true, &[]),
    Spec::new("GCSweepDone", 5, false, &["swept", "reclaimed"]),
    Spec::new("GoCreate", 5, true, &["g", "stack"]),
    Spec::new("GoStart", 5, false, &["g", "seq"]),
    Spec::new("GoEnd", 5, false, &[]),
    Spec::new("GoStop", 5, true, &[]),
    Spec::new("GoSched", 5, true, &[]),
    Spec::new("GoPreempt", 5, true, &[]),
    Spec::new("GoSleep", 5, true, &[]),
    Spec::new("GoBlock", 5, true, &[]),
    Spec::new("GoUnblock", 5, true, &["g", "seq"]),
    Spec::new("GoBlockSend", 5, true, &[]),
    Spec::new("GoBlockRecv", 5, true, &[]),
    Spec::new("GoBlockSelect", 5, true, &[]),
    Spec::new("GoBlockSync", 5, true, &[]),
    Spec::new("GoBlockCond", 5, true, &[]),
    Spec::new("GoBlockNet", 5, true, &[]),
    Spec::new("GoSysCall", 5, true, &[]),
    Spec::new("GoSysExit", 5, false, &["g", "seq", "ts"]),
    Spec::new("GoSysBlock", 5, false, &[]),
    Spec::new("GoWaiting", 5, false, &["g"]),
    Spec::new("GoInSyscall", 5, false, &["g"]),
    Spec::new("HeapAlloc", 5, false, &["mem"]),
    Spec::new("HeapGoal", 5, false, &["mem"]),
    Spec::new("TimerGoroutine", 5, false, &["g"]),
    Spec::new("FutileWakeup", 5, false, &[]),
    Spec::new("String", 7, false, &[]),
    Spec::new("GoStartLocal", 7, false, &["g"]),
    Spec::new("GoUnblockLocal", 7, true, &["g"]),
    Spec::new("GoSysExitLocal", 7, false, &["g", "ts"]),
    Spec::new("GoStartLabel", 8, false, &["g", "seq", "labelid"]),
    Spec::new("GoBlockGC", 8, true, &[]),
    Spec::new("GCMarkAssistStart", 9, true, &[]),
    Spec::new("GCMarkAssistDone", 9, false, &[]),
    Spec::new("UserTaskCreate", 11, true, &["taskid", "pid", "typeid"]),
    Spec::new("UserTaskEnd", 11, true, &["taskid"]),
    Spec::new("UserRegion", 11, true, &["taskid", "mode", "typeid"]),
    Spec::new("UserLog", 11, true, &["id", "keyid"]),
    Spec::new("CPUSample", 19, true, &["ts", "p", "g"]),
];

impl EventType {
    /// The layout of this event type, if it is defined.
    #[inline]
    pub fn spec(self) -> Option<&'static Spec> {
        SPECS.get(usize::from(self.0))
    }

    /// Whether a trace of format `minor` (the minor Go version of the header) may contain
    /// this event type. `NONE` is never valid.
    #[inline]
    pub fn is_valid_in(self, minor: u32) -> bool {
        self != Self::NONE
            && self
                .spec()
                .is_some_and(|s| u32::from(s.min_version) <= minor)
    }

    /// Whether the event starts with a timestamp delta. Batch headers, the frequency, timer
    /// goroutine, stack and string records do not.
    #[inline]
    pub fn is_timed(self) -> bool {
        !matches!(
            self,
            Self::BATCH | Self::FREQUENCY | Self::TIMER_GOROUTINE | Self::STACK | Self::STRING
        )
    }

    /// The number of values the event carries on the wire, the timestamp delta and stack ID
    /// included. Stack records have a variable count and get `None`.
    #[inline]
    pub fn arg_count(self) -> Option<usize> {
        let spec = self.spec()?;
        if self == Self::STACK {
            return None;
        }
        Some(spec.args.len() + usize::from(spec.stack) + usize::from(self.is_timed()))
    }

    /// The event's name as Go spells it, or `Invalid(N)`.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match self.spec() {
            Some(s) => s.name.into(),
            None => format!("Invalid({})", self.0).into(),
        }
    }

    /// Whether the goroutine stops running (ends, blocks, yields or enters a blocking
    /// syscall) with this event.
    #[inline]
    pub(crate) fn stops_goroutine(self) -> bool {
        matches!(
            self,
            Self::GO_END
                | Self::GO_STOP
                | Self::GO_SCHED
                | Self::GO_PREEMPT
                | Self::GO_SLEEP
                | Self::GO_BLOCK
                | Self::GO_BLOCK_SEND
                | Self::GO_BLOCK_RECV
                | Self::GO_BLOCK_SELECT
                | Self::GO_BLOCK_SYNC
                | Self::GO_BLOCK_COND
                | Self::GO_BLOCK_NET
                | Self::GO_SYS_BLOCK
                | Self::GO_BLOCK_GC
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The P of events that happen on no P: the global buffer (`^0` on the wire).
pub const NO_P: i32 = -1;
/// The fake P of timer goroutine unblocks.
pub const TIMER_P: i32 = 1_000_001;
/// The fake P of unblocks by the network poller.
pub const NETPOLL_P: i32 = 1_000_002;
/// The fake P of syscall exits.
pub const SYSCALL_P: i32 = 1_000_003;
/// The fake P of GC starts.
pub const GC_P: i32 = 1_000_004;
/// The fake P whose batch holds the CPU samples during ordering. Samples keep their own P
/// in the result.
pub const PROFILE_P: i32 = 1_000_005;

/// Why the world was stopped, decoded from an `STW_START` kind argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StwReason {
    /// The kind is not known in this version.
    Unknown,
    /// GC mark termination.
    GcMarkTermination,
    /// GC sweep termination.
    GcSweepTermination,
    /// `debug.WriteHeapDump`.
    WriteHeapDump,
    /// A goroutine profile.
    GoroutineProfile,
    /// The end of a goroutine profile.
    GoroutineProfileCleanup,
    /// A stack dump of all goroutines.
    AllGoroutinesStackTrace,
    /// `runtime.ReadMemStats`.
    ReadMemStats,
    /// `syscall.AllThreadsSyscall`.
    AllThreadsSyscall,
    /// `runtime.GOMAXPROCS`.
    Gomaxprocs,
    /// `trace.Start`.
    StartTrace,
    /// `trace.Stop`.
    StopTrace,
    /// A runtime test hook.
    CountPagesInUse,
    /// A runtime test hook.
    ReadMetricsSlow,
    /// A runtime test hook.
    ReadMemStatsSlow,
    /// A runtime test hook.
    PageCachePagesLeaked,
    /// A runtime test hook.
    ResetDebugLog,
}

impl StwReason {
    const BY_KIND: [Self; 17] = [
        Self::Unknown,
        Self::GcMarkTermination,
        Self::GcSweepTermination,
        Self::WriteHeapDump,
        Self::GoroutineProfile,
        Self::GoroutineProfileCleanup,
        Self::AllGoroutinesStackTrace,
        Self::ReadMemStats,
        Self::AllThreadsSyscall,
        Self::Gomaxprocs,
        Self::StartTrace,
        Self::StopTrace,
        Self::CountPagesInUse,
        Self::ReadMetricsSlow,
        Self::ReadMemStatsSlow,
        Self::PageCachePagesLeaked,
        Self::ResetDebugLog,
    ];

    /// Decodes the kind argument of an `STW_START` event as Go does: before Go 1.21 only
    /// 0 (mark termination) and 1 (sweep termination) exist; Go 1.21 numbers every reason.
    pub fn from_kind(version: Version, kind: u64) -> Self {
        let index = match version.minor() {
            ..21 if kind <= 1 => kind + 1,
            21 => kind,
            _ => 0,
        };
        usize::try_from(index)
            .ok()
            .and_then(|i| Self::BY_KIND.get(i))
            .copied()
            .unwrap_or(Self::Unknown)
    }

    /// The reason as the v2 format names it (the string Go's v1 converter emits); `""` for
    /// [`StwReason::Unknown`].
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "",
            Self::GcMarkTermination => "GC mark termination",
            Self::GcSweepTermination => "GC sweep termination",
            Self::WriteHeapDump => "write heap dump",
            Self::GoroutineProfile => "goroutine profile",
            Self::GoroutineProfileCleanup => "goroutine profile cleanup",
            Self::AllGoroutinesStackTrace => "all goroutine stack trace",
            Self::ReadMemStats => "read mem stats",
            Self::AllThreadsSyscall => "AllThreadsSyscall",
            Self::Gomaxprocs => "GOMAXPROCS",
            Self::StartTrace => "start trace",
            Self::StopTrace => "stop trace",
            Self::CountPagesInUse => "CountPagesInUse (test)",
            Self::ReadMetricsSlow => "ReadMetricsSlow (test)",
            Self::ReadMemStatsSlow => "ReadMemStatsSlow (test)",
            Self::PageCachePagesLeaked => "PageCachePagesLeaked (test)",
            Self::ResetDebugLog => "ResetDebugLog (test)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_counts_follow_go() {
        assert_eq!(EventType::BATCH.arg_count(), Some(2));
        assert_eq!(EventType::FREQUENCY.arg_count(), Some(1));
        assert_eq!(EventType::TIMER_GOROUTINE.arg_count(), Some(1));
        assert_eq!(EventType::STACK.arg_count(), None);
        assert_eq!(EventType::GO_CREATE.arg_count(), Some(4));
        assert_eq!(EventType::PROC_STOP.arg_count(), Some(1));
        assert_eq!(EventType::USER_TASK_CREATE.arg_count(), Some(5));
        assert_eq!(EventType::USER_LOG.arg_count(), Some(4));
        assert_eq!(EventType::CPU_SAMPLE.arg_count(), Some(5));
        assert_eq!(EventType(50).arg_count(), None);
    }

    #[test]
    fn no_event_has_more_than_three_plain_arguments() {
        // `Event::args` has three slots.
        for s in &SPECS {
            assert!(s.args.len() <= 3, "{}", s.name);
        }
    }

    #[test]
    fn versions_gate_event_types() {
        assert!(!EventType::NONE.is_valid_in(21));
        assert!(EventType::USER_LOG.is_valid_in(11));
        assert!(!EventType::CPU_SAMPLE.is_valid_in(11));
        assert!(EventType::CPU_SAMPLE.is_valid_in(19));
        assert!(!EventType::STRING.is_valid_in(5));
        assert!(!EventType(50).is_valid_in(21));
        assert_eq!(EventType(63).name(), "Invalid(63)");
        assert_eq!(EventType::STW_START.to_string(), "GCSTWStart");
    }

    #[test]
    fn stw_reasons_depend_on_the_version() {
        assert_eq!(
            StwReason::from_kind(Version::GO119, 0),
            StwReason::GcMarkTermination
        );
        assert_eq!(
            StwReason::from_kind(Version::GO111, 1),
            StwReason::GcSweepTermination
        );
        assert_eq!(StwReason::from_kind(Version::GO119, 2), StwReason::Unknown);
        assert_eq!(StwReason::from_kind(Version::GO121, 0), StwReason::Unknown);
        assert_eq!(
            StwReason::from_kind(Version::GO121, 10),
            StwReason::StartTrace
        );
        assert_eq!(StwReason::from_kind(Version::GO121, 17), StwReason::Unknown);
        assert_eq!(StwReason::from_kind(Version::GO122, 1), StwReason::Unknown);
        assert_eq!(StwReason::StopTrace.as_str(), "stop trace");
    }
}
