//! The v1 trace format (Go 1.11 to 1.21).
//!
//! A v1 trace is the header (`go 1.11 trace`, `go 1.19 trace` or `go 1.21 trace`) followed by
//! records. Records are grouped into per-P batches, but batches carry no length: every record
//! must be read to find where the next batch starts.
//!
//! | bytes     | field                                                                   |
//! |-----------|-------------------------------------------------------------------------|
//! | 1         | type (low 6 bits) and argument count `n` (top 2 bits)                    |
//! | `n` < 3   | `n + 1` uvarints: the time delta `dt`, then the arguments               |
//! | `n` = 3   | uvarint byte length (≤ 2048), then that many bytes of uvarints           |
//!
//! | record                 | layout                                                       |
//! |------------------------|--------------------------------------------------------------|
//! | `Batch` (0x41)         | P (`^0` for the global buffer), absolute ticks: no `dt`       |
//! | `Frequency`            | ticks per second: no `dt`                                    |
//! | `TimerGoroutine`       | goroutine ID: no `dt`                                        |
//! | `String`               | ID (non-zero), length (1 to 10⁶), bytes; the count bits are ignored |
//! | `Stack`                | ID, frame count (≤ 1000), then PC, function string, file string, line per frame |
//! | `UserLog`              | length-prefixed arguments, then the message: length, bytes   |
//! | `CPUSample` (1.19+)    | `dt`, real ticks, P, goroutine, stack: length-prefixed       |
//! | every other event      | `dt` (ticks since the previous event of the batch), the arguments of [`SPECS`], then a stack ID if [`Spec::stack`] |
//!
//! [`parse`] decodes and orders a whole trace as Go's `internal/trace/internal/tracev1`
//! does: batches are merged by goroutine sequence numbers, syscall exits take their real
//! times, ticks become nanoseconds since the first event, some events move to fake Ps, and
//! the result is checked for consistency. Any error fails the whole trace: there is no
//! partial result, as in Go.
//!
//! All three versions encode stack frames alike (four values per frame, as in Go's 1.11
//! testdata); they differ only in the events they may contain ([`Spec::min_version`]: CPU
//! samples from 1.19) and in how `STW_START` kinds read ([`StwReason::from_kind`]).
//!
//! Where the result is not fully determined by Go's code, this module chooses:
//! - Go visits the Ps in random map order, which decides the order of events of different Ps
//!   with equal timestamps. Ps are visited in ascending order here, one of Go's possible
//!   orders; the differential tests patch Go to the same order and then match exactly.
//! - Go sorts the CPU samples by time with an unstable sort; here the sort is stable. The two
//!   can differ only for samples with equal timestamps in traces of more than twelve samples.
//! - Go converts out-of-range nanosecond values with the CPU's float-to-int conversion; here
//!   they become `i64::MIN`, as on amd64 (only crafted traces get there).

mod event;
mod hash;
mod order;
mod parser;
mod raw;
mod spec;
mod tables;
mod validate;

pub use event::Event;
pub use spec::{
    EVENT_COUNT, EventType, GC_P, NETPOLL_P, NO_P, PROFILE_P, SPECS, SYSCALL_P, Spec, StwReason,
    TIMER_P,
};
pub use tables::{FrameTable, StackTable, StringTable};

pub use crate::v2::Frame;

use crate::error::{Error, ErrorKind, Result};
use crate::version::{Version, read_header};

/// The message of Go's `ErrTimeOrder`: the timestamps contradict the order the sequence
/// numbers impose (or the frequency is not positive). Go's tests accept traces that fail
/// only this way as "skipped" rather than broken.
pub const TIME_ORDER: &str = "time stamps out of order";

/// A whole v1 trace, decoded and ordered: what Go's `tracev1.Parse` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace<'a> {
    /// The format version (11, 19 or 21).
    pub version: Version,
    /// Every event, CPU samples included, sorted by time (nanoseconds from the first
    /// event).
    pub events: Vec<Event>,
    /// The string table.
    pub strings: StringTable<'a>,
    /// The distinct `UserLog` messages, in the order the batches were decoded;
    /// [`Event::args`]`[2]` of a `USER_LOG` indexes this list.
    pub inline_strings: Vec<&'a [u8]>,
    /// The stack table.
    pub stacks: StackTable,
    /// The frame of every PC in the stack table.
    pub frames: FrameTable,
    /// The timer goroutines, sorted.
    pub timer_goroutines: Vec<u64>,
    /// Ticks per second, as written by the runtime (always positive).
    pub ticks_per_sec: u64,
}

impl Trace<'_> {
    /// The CPU profile samples, in time order. Each has `g` (0 for none), `p` and `stack`
    /// set.
    pub fn cpu_samples(&self) -> impl Iterator<Item = &Event> + '_ {
        self.events.iter().filter(|e| e.ty == EventType::CPU_SAMPLE)
    }

    /// Why the world was stopped, from the kind argument (`args[0]`) of an `STW_START`.
    pub fn stw_reason(&self, kind: u64) -> StwReason {
        StwReason::from_kind(self.version, kind)
    }
}

/// Whether `err` is Go's "time stamps out of order" error.
pub fn is_time_order(err: &Error) -> bool {
    matches!(&err.kind, ErrorKind::V1(m) if m == TIME_ORDER)
}

/// Decodes and orders the v1 trace `data` (the whole file, header included).
///
/// Fails with [`ErrorKind::NotATrace`] or [`ErrorKind::UnsupportedVersion`] on a bad header,
/// with [`ErrorKind::V1`] if the header names a v2 format, and with an [`ErrorKind::V1`]
/// message in Go's words for anything wrong in the trace. Errors carry the byte offset where
/// the problem was found and, for errors inside a batch, the offset of the batch.
pub fn parse(data: &[u8]) -> Result<Trace<'_>> {
    let (version, start) = read_header(data)?;
    if !version.is_v1() {
        return Err(Error::new(
            ErrorKind::V1(format!("{version} trace is not in the v1 format")),
            0,
        ));
    }
    parser::Parser::new(data, start, version.minor()).parse(version)
}

#[cfg(test)]
mod tests;
