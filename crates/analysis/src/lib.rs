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
//! - [`findings`]: rules over the analyses (leaks, convoys, scheduling latency, backlog, lost
//!   work, STW, long runs, blocking syscalls, mark assists) with default thresholds that a
//!   TOML file can change; each finding has a severity, a title, evidence and a target.
//! - [`critical`]: critical paths of goroutine intervals, tasks and regions (contention-aware
//!   walk back from the end: running, scheduling latency with the goroutines that held the
//!   Ps, syscalls, GC assists, STW, runtime waits), per category, function and stack; the
//!   slowest 1% of a task type beside its median; a whole-trace dependency graph with longest
//!   paths between events.
//! - [`mmu`]: mutator utilization and the minimum mutator utilization curve, identical to
//!   Go's `MutatorUtilizationV2` and `MMUCurve` (`go tool trace`'s MMU page), with a
//!   corrected variant of Go's background-worker accounting.
//! - [`pprof`]: pprof-style profiles of waiting time, identical sample for sample to
//!   `go tool trace -pprof=net|sync|syscall|sched`, and `released-by` (blocked time charged
//!   to the stack of the goroutine that released the waiter); a [`pprof::ProfileBuilder`] for
//!   any analysis's `(stack, count, duration)` samples.
//! - [`pass`]: the summary, mutator utilization and Go's pprof profiles in one pass over
//!   the ordered events ([`EventAnalyses`]), instead of one pass each.
//!
//! This crate depends on the event model of `goroscope-trace` and on the wire-level event
//! types of `goroscope-format`; it never parses bytes itself.

pub mod blocking;
pub mod critical;
pub mod findings;
mod gosort;
mod idmap;
mod intern;
pub mod mmu;
pub mod pass;
pub mod pprof;
pub mod sched;
pub mod summary;

pub use mmu::{MmuCurve, MutatorUtilization, UtilFlags};
pub use pass::{EventAnalyses, EventResults};
pub use summary::{Summarizer, Summary, summarize};

/// Formats nanoseconds with a unit (`12.3ms`), for titles and messages.
pub(crate) fn table_duration(ns: i64) -> String {
    let a = ns.unsigned_abs() as f64;
    if a >= 1e9 {
        format!("{:.2}s", ns as f64 / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}ms", ns as f64 / 1e6)
    } else if a >= 1e3 {
        format!("{:.2}µs", ns as f64 / 1e3)
    } else {
        format!("{ns}ns")
    }
}
