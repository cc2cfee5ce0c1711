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
//! - [`doc`]: a report as sections of facts and tables, rendered by [`text`] (aligned,
//!   optionally coloured), [`markdown`] and [`csv`].
//! - The report models, each serializable to the JSON of `docs/json-schema.md` and
//!   convertible to a [`doc::Document`]: [`summary`], [`blocking`], [`sched`], [`check`]
//!   (limits and findings for CI gates), [`diff`] (two traces side by side) and
//!   [`critical`] (critical paths and task breakdowns), on the shared parts in [`model`].
//! - [`html`]: one self-contained page with inline [`svg`] charts.
//! - Exports of the whole trace: [`events`] (the ordered events as JSON lines),
//!   [`chrome`] (trace-event JSON for Perfetto and `chrome://tracing`) and [`spans`]
//!   (every span as CSV).

pub mod blocking;
pub mod check;
pub mod chrome;
pub mod critical;
pub mod csv;
pub mod diff;
pub mod doc;
pub mod events;
pub mod html;
pub mod markdown;
pub mod model;
pub mod pprof;
pub mod sched;
pub mod spans;
pub mod summary;
pub mod svg;
pub mod text;
pub mod units;
