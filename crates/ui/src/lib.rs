//! egui widgets for goroscope: the trace timeline and the panels around it.
//!
//! - [`time_view`]: the time ↔ pixel mapping (pan, zoom at the cursor, fit, clamp).
//! - [`ruler`]: adaptive ticks in relative or wall-clock time.
//! - [`model`]: what the timeline needs from a loaded trace, computed once: goroutine
//!   groups by start function and level-of-detail summaries ([`lod`]).
//! - [`timeline`]: the timeline widget — metric plots, GC and STW lanes, P lanes, thread
//!   lanes, task and region lanes, goroutine lanes in collapsible groups, CPU sample ticks —
//!   with hover, selection, range selection and navigation.
//! - [`details`]: the panel describing the selected span, goroutine, task or region, and
//!   the critical path being shown.
//! - [`viewer`]: a trace's content: toolbar, warnings, timeline, details, analysis dock,
//!   the find box ([`find`]) and the view history ([`history`]); and the loading screen.
//! - [`panels`]: the analysis dock (range statistics, blocking sites, findings, goroutine
//!   groups, task and region types), computed on background threads.
//! - [`path`]: a critical path prepared for drawing over the lanes.
//! - [`shell`]: the window around it: menu bar, start screen and file dialog ([`open`]),
//!   drag and drop, recent files and persisted [`settings`]. It returns
//!   [`ViewerAction`]s (open this file, cancel loading) for the application to carry out.
//!
//! This crate depends on `egui`, `goroscope-trace` and `goroscope-analysis`; the window
//! (`eframe`) lives in the `goroscope` binary. Painted spans carry AccessKit names (see
//! [`describe::go_span_label`]), so tests find and click them by label.

pub mod describe;
pub mod details;
pub mod find;
pub mod history;
pub mod lod;
pub mod model;
pub mod open;
pub mod palette;
pub mod panels;
pub mod path;
pub mod plots;
pub mod ruler;
pub mod settings;
pub mod shell;
pub mod time_view;
pub mod timeline;
pub mod viewer;

pub use model::TraceModel;
pub use settings::Settings;
pub use shell::{Screen, Shell, ViewerAction};
pub use time_view::TimeView;
pub use timeline::{Item, TimelineState};
pub use viewer::{LoadingAction, TraceViewer, loading_ui};
