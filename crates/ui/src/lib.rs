//! egui widgets for goroscope: the trace timeline and the panels around it.
//!
//! - [`time_view`]: the time ↔ pixel mapping (pan, zoom at the cursor, fit, clamp).
//! - [`ruler`]: adaptive ticks in relative or wall-clock time.
//! - [`model`]: what the timeline needs from a loaded trace, computed once: goroutine
//!   groups by start function and level-of-detail summaries ([`lod`]).
//! - [`timeline`]: the timeline widget — metric plots, GC and STW lanes, P lanes, thread
//!   lanes, goroutine lanes in collapsible groups — with hover, selection and navigation.
//! - [`details`]: the panel describing the selected span and goroutine.
//! - [`viewer`]: a whole window's content: toolbar, warnings, timeline, details; and the
//!   loading screen.
//!
//! This crate depends on `egui` and `goroscope-trace` only; the window (`eframe`) lives in
//! the `goroscope` binary. Painted spans carry AccessKit names (see
//! [`describe::go_span_label`]), so tests find and click them by label.

pub mod describe;
pub mod details;
pub mod lod;
pub mod model;
pub mod palette;
pub mod panels;
pub mod path;
pub mod plots;
pub mod ruler;
pub mod time_view;
pub mod timeline;
pub mod viewer;

pub use model::TraceModel;
pub use time_view::TimeView;
pub use timeline::{Item, TimelineState};
pub use viewer::{LoadingAction, TraceViewer, loading_ui};
