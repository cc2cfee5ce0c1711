//! The whole window of a loaded trace (toolbar, warnings banner, timeline, details panel,
//! analysis dock) and the loading screen. The `eframe` shell in the `goroscope` binary only
//! adds the window, the loading thread and screenshots.

use egui::{Align, Color32, Frame, Layout, Margin, ProgressBar, RichText, Ui};
use goroscope_trace::Progress;

use crate::describe::format_bytes;
use crate::details::{DetailsCache, details_ui};
use crate::model::TraceModel;
use crate::panels::{self, Panels};
use crate::ruler::format_duration;
use crate::timeline::{self, TimelineState};

/// A loaded trace on screen.
#[derive(Debug)]
pub struct TraceViewer {
    /// The trace and its summaries.
    pub model: TraceModel,
    /// The timeline's view state.
    pub timeline: TimelineState,
    /// The analysis dock.
    pub panels: Panels,
    details: DetailsCache,
    warnings_dismissed: bool,
}

impl TraceViewer {
    /// A viewer showing the whole of `model`.
    pub fn new(model: TraceModel) -> Self {
        let timeline = TimelineState::new(&model);
        let panels = Panels::new(&model);
        Self {
            panels,
            model,
            timeline,
            details: DetailsCache::default(),
            warnings_dismissed: false,
        }
    }

    /// Shows the viewer in `ui` (usually the window's root).
    pub fn ui(&mut self, ui: &mut Ui) {
        let Self {
            model,
            timeline: state,
            panels,
            details,
            warnings_dismissed,
        } = self;
        egui::Panel::top("goroscope_toolbar").show(ui, |ui| toolbar(ui, model, state, panels));
        if !model.trace.warnings.is_empty() && !*warnings_dismissed {
            egui::Panel::top("goroscope_warnings")
                .frame(
                    Frame::new()
                        .fill(Color32::from_rgb(120, 70, 20))
                        .inner_margin(Margin::symmetric(8, 4)),
                )
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        let w = &model.trace.warnings;
                        let text = format!(
                            "Warning: {} part{} of this trace could not be read and {} skipped: {}",
                            w.len(),
                            if w.len() == 1 { "" } else { "s" },
                            if w.len() == 1 { "was" } else { "were" },
                            w.first().map(ToString::to_string).unwrap_or_default()
                        );
                        ui.label(RichText::new(text).color(Color32::WHITE));
                        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                            if ui.button("Dismiss").clicked() {
                                *warnings_dismissed = true;
                            }
                        });
                    });
                });
        }
        if state.selected.is_some() || state.path.is_some() {
            let mut jump = None;
            egui::Panel::right("goroscope_details")
                .default_size(340.0)
                .resizable(true)
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.strong("Details");
                        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                            if ui.button("Close").clicked() {
                                state.selected = None;
                            }
                        });
                    });
                    ui.separator();
                    jump = details_ui(ui, model, details, state);
                });
            if let Some(j) = jump {
                state.jump_to(model, j);
            }
        }
        panels::dock_ui(ui, model, state, panels);
        egui::CentralPanel::no_frame().show(ui, |ui| {
            timeline::show(ui, model, state);
        });
    }
}

fn toolbar(ui: &mut Ui, model: &TraceModel, state: &mut TimelineState, panels: &mut Panels) {
    ui.horizontal(|ui| {
        let t = &model.trace;
        let name = t
            .path
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or_else(|| "trace".into(), |n| n.to_string_lossy());
        ui.strong(name);
        ui.label(format!(
            "Go 1.{} format · {} · {} events · {} goroutines · {}",
            t.version.minor(),
            format_bytes(t.size as f64),
            t.events,
            t.timelines.goroutines.len(),
            format_duration(model.duration() as f64)
        ));
        ui.separator();
        if ui
            .button("Fit")
            .on_hover_text("Show the whole trace (Home)")
            .clicked()
        {
            state.view.reset();
        }
        let center = (state.view.start + state.view.end) / 2.0;
        if ui
            .button("Zoom in")
            .on_hover_text("W, wheel, Ctrl+wheel")
            .clicked()
        {
            state.view.zoom_at(center, 2.0);
        }
        if ui
            .button("Zoom out")
            .on_hover_text("S, wheel, Ctrl+wheel")
            .clicked()
        {
            state.view.zoom_at(center, 0.5);
        }
        panels.toggle_button(ui);
        if !model.timelines().clock.is_empty() {
            ui.checkbox(&mut state.wall_clock, "Wall clock");
        }
        ui.separator();
        ui.label(format!(
            "view {} – {} ({})",
            format_duration(state.view.start),
            format_duration(state.view.end),
            format_duration(state.view.span())
        ));
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            let dark = ui.visuals().dark_mode;
            let label = if dark { "Light theme" } else { "Dark theme" };
            if ui.button(label).clicked() {
                ui.ctx().set_theme(if dark {
                    egui::Theme::Light
                } else {
                    egui::Theme::Dark
                });
            }
        });
    });
}

/// What the loading screen asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadingAction {
    /// Nothing.
    None,
    /// The user clicked Cancel.
    Cancel,
}

/// The loading screen: file name, a progress bar, events read, and a Cancel button.
pub fn loading_ui(
    ui: &mut Ui,
    name: &str,
    progress: Option<Progress>,
    stage: &str,
) -> LoadingAction {
    let mut action = LoadingAction::None;
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() / 3.0);
            ui.heading(format!("Opening {name}"));
            ui.add_space(8.0);
            let frac = progress.map_or(0.0, |p| p.fraction() as f32);
            let text = match progress {
                Some(p) => format!(
                    "{stage}: {} of {}, {} events",
                    format_bytes(p.bytes_done as f64),
                    format_bytes(p.bytes_total as f64),
                    p.events
                ),
                None => stage.to_owned(),
            };
            ui.add(
                ProgressBar::new(frac)
                    .desired_width(420.0)
                    .text(text)
                    .animate(true),
            );
            ui.add_space(8.0);
            if ui.button("Cancel").clicked() {
                action = LoadingAction::Cancel;
            }
        });
    });
    action
}
