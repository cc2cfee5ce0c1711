//! The error type of the decoder.
//!
//! Every error names the byte offset in the input where decoding stopped and, where it is
//! known, the generation and the byte offset of the batch being decoded.

use std::fmt;

/// What went wrong while decoding a trace.
///
/// The messages follow the wording of Go's `internal/trace` reader where one exists, so that
/// users who know Go's tools recognise them and Go's golden test expectations match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input does not start with a `go 1.N trace\0\0\0` header.
    #[error("bad file format: not a Go execution trace?")]
    NotATrace,
    /// The header names a Go version whose trace format does not exist or is not supported.
    #[error("unknown or unsupported trace version go 1.{0}")]
    UnsupportedVersion(u32),
    /// The input ended in the middle of a value.
    #[error("unexpected end of data while reading {0}")]
    UnexpectedEof(&'static str),
    /// A uvarint is longer than 10 bytes or does not fit in 64 bits.
    #[error("invalid uvarint while reading {0}: overflows a 64-bit integer")]
    UvarintOverflow(&'static str),
    /// A byte at the top level of a v2 trace is not a batch header.
    #[error("expected batch event, got event {0}")]
    ExpectedBatch(u8),
    /// A batch announces a body larger than Go's writer can produce.
    #[error("invalid batch size {size}, maximum is {max}")]
    InvalidBatchSize {
        /// The size found in the batch header.
        size: u64,
        /// The largest size Go writes.
        max: u64,
    },
    /// The input ends inside a batch body.
    #[error("failed to read full batch: read {read} but wanted {wanted}")]
    ShortBatch {
        /// Bytes that were present.
        read: u64,
        /// Bytes the batch header announced.
        wanted: u64,
    },
    /// A batch header names generation 0, which the runtime never writes.
    #[error("invalid generation number 0")]
    GenerationZero,
    /// (Go 1.26+) A batch of another generation appeared before the end-of-generation marker.
    #[error("broken trace: missing end-of-generation event, or generations are interleaved")]
    MissingEndOfGeneration,
    /// (Go 1.22–1.25) A batch's generation is neither the current one nor the next.
    #[error("generations out of order: generation {found} after generation {current}")]
    GenerationsOutOfOrder {
        /// The generation being read.
        current: u64,
        /// The generation of the offending batch.
        found: u64,
    },
    /// (Go 1.26+) The input ended after some event batches of a generation but before its
    /// end-of-generation marker.
    #[error("incomplete generation found; trace likely truncated")]
    IncompleteGeneration,
    /// An event type byte that no trace version defines.
    #[error("found invalid event type: {0}")]
    InvalidEventType(u8),
    /// An event type that may not appear in an event batch (it has no timestamp).
    #[error("found event without a timestamp: type={0}")]
    EventWithoutTimestamp(u8),
    /// A uvarint in an event is truncated or overflows.
    #[error("found invalid uvarint{}", if *timestamp { " for timestamp" } else { "" })]
    EventUvarint {
        /// Whether it is the event's time delta.
        timestamp: bool,
    },
    /// An event type that this trace version does not define.
    #[error("event type {ty} is not defined in trace version go 1.{version}")]
    EventNotInVersion {
        /// The event type byte.
        ty: u8,
        /// The minor Go version of the trace header.
        version: u32,
    },
    /// A table batch holds a record of the wrong kind.
    #[error("expected {expected} event, got {found}")]
    UnexpectedRecord {
        /// The record kind the batch holds.
        expected: &'static str,
        /// The type byte found.
        found: u8,
    },
    /// A string longer than the runtime ever writes.
    #[error("invalid string size {size}, maximum is {max}")]
    InvalidStringSize {
        /// The announced size.
        size: u64,
        /// The largest size Go writes.
        max: u64,
    },
    /// A stack with more frames than the runtime ever writes.
    #[error("invalid stack size {size}, maximum is {max}")]
    InvalidStackSize {
        /// The announced frame count.
        size: u64,
        /// The largest count Go writes.
        max: u64,
    },
    /// Two strings of one generation share an ID.
    #[error("multiple strings with the same ID: id={0}")]
    DuplicateString(u64),
    /// Two stacks of one generation share an ID.
    #[error("multiple stacks with the same ID: id={0}")]
    DuplicateStack(u64),
    /// A stack frame names a function string that the generation does not define.
    #[error("found invalid func string ID {string} for stack {stack}")]
    InvalidFuncString {
        /// The missing string ID.
        string: u64,
        /// The stack that references it.
        stack: u64,
    },
    /// A stack frame names a file string that the generation does not define.
    #[error("found invalid file string ID {string} for stack {stack}")]
    InvalidFileString {
        /// The missing string ID.
        string: u64,
        /// The stack that references it.
        stack: u64,
    },
    /// A sync batch holds two frequency records.
    #[error("found multiple frequency events")]
    MultipleFrequencies,
    /// A sync batch holds two clock snapshots.
    #[error("found multiple clock snapshot events")]
    MultipleClockSnapshots,
    /// A sync batch holds something other than a frequency or a clock snapshot.
    #[error("expected frequency or clock snapshot event, got {0}")]
    UnexpectedSyncRecord(u8),
    /// A generation has no frequency record.
    #[error("no frequency event found")]
    MissingFrequency,
    /// A Go 1.25+ generation has no clock snapshot.
    #[error("no clock snapshot event found")]
    MissingClockSnapshot,
    /// A generation holds more data than the decoder is willing to keep.
    #[error("too large: {0}")]
    TooLarge(&'static str),
    /// A v1 (Go 1.11–1.21) trace breaks a rule of its format.
    #[error("{0}")]
    V1(String),
    /// Go's text form of a trace could not be read.
    #[error("line {line}: {message}")]
    Text {
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

/// A decoding error: what went wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset in the input (from the start of the file, header included) where decoding
    /// stopped.
    pub offset: u64,
    /// The generation being decoded, when known.
    pub generation: Option<u64>,
    /// Byte offset of the start of the batch being decoded, when known.
    pub batch: Option<u64>,
}

impl Error {
    /// An error at `offset` with no generation or batch context.
    pub fn new(kind: ErrorKind, offset: u64) -> Self {
        Self {
            kind,
            offset,
            generation: None,
            batch: None,
        }
    }

    /// Adds the generation, unless one is already set.
    #[must_use]
    pub fn in_generation(mut self, generation: u64) -> Self {
        self.generation.get_or_insert(generation);
        self
    }

    /// Adds the offset of the batch, unless one is already set.
    #[must_use]
    pub fn in_batch(mut self, batch_offset: u64) -> Self {
        self.batch.get_or_insert(batch_offset);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)?;
        match (self.generation, self.batch) {
            (Some(g), Some(b)) => write!(f, " (generation {g}, batch at byte {b})"),
            (Some(g), None) => write!(f, " (generation {g})"),
            (None, Some(b)) => write!(f, " (batch at byte {b})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
