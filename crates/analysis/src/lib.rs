//! Analyses of Go execution traces.
//!
//! Every analysis reads the event stream of `goroscope-trace` (events in Go's order, with
//! the reader's string and stack tables) in one pass and returns plain data that the command
//! line, the reports and the viewer share. Where Go's own tools compute the same thing, the
//! numbers are Go's, bit for bit, checked against Go's output on every fixture.
//!
//! - [`summary`]: per-goroutine execution statistics, user tasks and regions, identical to
//!   Go's `internal/trace.Summarizer` (what `go tool trace` shows on its Goroutines pages),
//!   and goroutines grouped by start function with percentiles per stat.
//! - [`blocking`]: every wait of every goroutine with who released it and from where,
//!   aggregated by reason, blocking site, releaser site and pair; lock convoys (peak
//!   concurrent waiters per site) and leak candidates (still waiting at the end).
//! - [`sched`]: scheduler diagnostics: scheduling latency (overall, per P, per group, per
//!   window), P utilization, idle Ps while goroutines were runnable, run-queue spikes, STW
//!   pauses, mark assists by group, syscalls that lost their P, long runs, GOMAXPROCS.
//! - [`mmu`]: mutator utilization and the minimum mutator utilization curve, identical to
//!   Go's `MutatorUtilizationV2` and `MMUCurve` (`go tool trace`'s MMU page), with a
//!   corrected variant of Go's background-worker accounting.
//!
//! This crate depends on the event model of `goroscope-trace` and on the wire-level event
//! types of `goroscope-format`; it never parses bytes itself.

pub mod blocking;
mod gosort;
mod idmap;
mod intern;
pub mod mmu;
pub mod sched;
pub mod summary;

pub use mmu::{MmuCurve, MutatorUtilization, UtilFlags};
pub use summary::{Summarizer, Summary, summarize};
