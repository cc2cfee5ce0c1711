//! Go execution traces as one ordered event stream and as timelines.
//!
//! This crate will own the ordering of per-thread batches into the same events, in the same
//! order, as Go's `internal/trace` reader; the goroutine, P and M timelines built from them;
//! and the loader that maps trace files.
