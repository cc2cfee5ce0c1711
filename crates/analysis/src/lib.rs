//! Analyses of Go execution traces.
//!
//! Every analysis reads the event stream of `goroscope-trace` and returns plain data that
//! the command line, the reports and the viewer share.
//!
//! - [`summary`]: per-goroutine execution statistics, user tasks and regions, identical to
//!   Go's `internal/trace.Summarizer`, and goroutines grouped by start function as
//!   `go tool trace` groups them.

mod gosort;
mod idmap;
mod intern;
pub mod summary;

pub use summary::{Summarizer, Summary, summarize};
