//! Reports of the analyses of Go execution traces, in the forms people and programs read.
//!
//! The analyses of `goroscope-analysis` return plain data keyed by trace-wide string and
//! stack IDs. This crate resolves them into report models (plain, serializable structs whose
//! JSON form is documented and versioned in `docs/json-schema.md`) and renders those as
//! aligned text tables, Markdown, CSV, a self-contained HTML page with SVG charts, and
//! exports the timelines as trace-event JSON (Perfetto, `chrome://tracing`) and CSV.
//!
//! It never opens files or parses bytes: callers hand it loaded traces and analysis
//! results, and a `Write` for the output.
//!
//! - [`pprof`]: a [`Profile`](goroscope_analysis::pprof::Profile) as a gzipped
//!   `profile.proto`, the format `go tool pprof` reads, laid out as `go tool trace -pprof`
//!   lays out its profiles.

pub mod pprof;
