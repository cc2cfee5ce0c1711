//! Errors of reading a trace.

use std::fmt;

/// Why a trace could not be read (further).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytes could not be decoded.
    #[error(transparent)]
    Decode(#[from] goroscope_format::Error),
    /// The events cannot be put in an order that Go's runtime could have produced, or break
    /// a rule of the format that only shows when ordering.
    #[error("{0}")]
    Order(OrderError),
}

/// An ordering error: Go's message, and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderError {
    /// The message, worded as Go's reader words it.
    pub message: String,
    /// The generation being ordered.
    pub generation: Option<u64>,
    /// Byte offset of the offending event, when known.
    pub offset: Option<u64>,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match (self.offset, self.generation) {
            (Some(o), Some(g)) => write!(f, " (at byte {o}, generation {g})"),
            (Some(o), None) => write!(f, " (at byte {o})"),
            (None, Some(g)) => write!(f, " (generation {g})"),
            (None, None) => Ok(()),
        }
    }
}

impl Error {
    /// An ordering error with Go's `message`.
    pub(crate) fn order(message: impl Into<String>) -> Self {
        Self::Order(OrderError {
            message: message.into(),
            generation: None,
            offset: None,
        })
    }

    /// Adds the generation and byte offset to an ordering error that lacks them.
    pub(crate) fn at(mut self, generation: u64, offset: u64) -> Self {
        if let Self::Order(e) = &mut self {
            e.generation.get_or_insert(generation);
            e.offset.get_or_insert(offset);
        }
        self
    }

    /// The byte offset in the file the error points at, if known.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Self::Decode(e) => Some(e.offset),
            Self::Order(e) => e.offset,
        }
    }

    /// The generation the error happened in, if known.
    pub fn generation(&self) -> Option<u64> {
        match self {
            Self::Decode(e) => e.generation,
            Self::Order(e) => e.generation,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
