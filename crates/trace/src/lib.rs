//! Go execution traces as one ordered event stream and as timelines.
//!
//! - [`Reader`] merges the per-thread batches of a v2 trace into the same events, in the
//!   same order, as Go's `internal/trace` reader, with the same errors.
//! - [`V1Reader`] converts a v1 trace (Go 1.11 to 1.21) into the same events as Go's reader.
//! - [`EventStream`] opens a trace of any version with the right one of the two.
//! - [`event`] is the event model those events use.
//! - [`print`](mod@print) prints events exactly as `go tool trace -d=parsed` does.
//!
//! Timelines (goroutine, P and M state spans, ranges, tasks, regions, metrics) and the file
//! loader will be built on the reader.

pub mod error;
pub mod event;
pub mod load;
mod order;
pub mod print;
mod reader;
pub mod stream;
mod time;
pub mod timeline;
pub mod v1;
pub mod validate;

pub use error::{Error, OrderError, Result};
pub use event::{Ctx, Event, EventKind, GenTables, GoState, ProcState, Tables};
pub use load::{LoadError, LoadOptions, Progress, Trace, TraceData, Warning};
pub use reader::Reader;
pub use stream::EventStream;
pub use v1::V1Reader;
pub use validate::Validator;
