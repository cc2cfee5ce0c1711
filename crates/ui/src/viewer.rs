//! The whole window of a loaded trace (toolbar, warnings banner, timeline, details panel,
//! find box, view history, analysis dock) and the loading screen. [`crate::shell`] puts it
//! in a window with a menu bar; the `eframe` shell in the `goroscope` binary only adds the
//! window, the loading thread and screenshots.

use egui::{Align, Color32, Frame, Key, Layout, Margin, PointerButton, ProgressBar, RichText, Ui};
use goroscope_trace::Progress;

use crate::describe::format_bytes;
use crate::details::{DetailsCache, details_ui};
use crate::find::FindState;
use crate::history::{SETTLE_SECS, ViewHistory};
use crate::model::TraceModel;
use crate::panels::{self, Panels};
use crate::ruler::format_duration;
use crate::timeline::{self, TimelineState, item_extent};

/// A loaded trace on screen.
#[derive(Debug)]
pub struct TraceViewer {
    /// The trace and its summaries.
    pub model: TraceModel,
    /// The timeline's view state.
    pub timeline: TimelineState,
    /// Back and forward through the time view.
    pub history: ViewHistory,
    /// The find box (Ctrl+F).
    pub find: FindState,
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
            history: ViewHistory::new(timeline.view),
            find: FindState::default(),
            panels,
            model,
            timeline,
            details: DetailsCache::default(),
            warnings_dismissed: false,
        }
    }

    /// Goes back to the previous view in the history.
    pub fn back(&mut self) {
        if let Some(v) = self.history.back() {
            self.timeline.view = v;
        }
    }

    /// Goes forward to the next view in the history.
    pub fn forward(&mut self) {
        if let Some(v) = self.history.forward() {
            self.timeline.view = v;
        }
    }

    /// Zooms to the selected item, if any.
    pub fn zoom_to_selection(&mut self) {
        let Some(item) = self.timeline.selected else {
            return;
        };
        let Some((_, a, b)) = item_extent(&self.model, &item) else {
            return;
        };
        let start = self.model.timelines().start;
        navigate(&mut self.history, &mut self.timeline, |s| {
            s.view
                .show_range((a - start) as f64, (b - start) as f64, 0.05);
        });
    }

    /// Selects goroutine `g` (index), expands its group, scrolls its lane into view and
    /// zooms to its lifetime; recorded in the history.
    pub fn reveal_goroutine(&mut self, g: usize) {
        let model = &self.model;
        navigate(&mut self.history, &mut self.timeline, |s| {
            s.reveal_goroutine(model, g);
        });
    }

    /// The navigation buttons (Back, Forward, Zoom to selection, Find), for a menu bar.
    pub fn nav_ui(&mut self, ui: &mut Ui) {
        if ui
            .add_enabled(self.history.can_go_back(), egui::Button::new("Back"))
            .on_hover_text("The previous view (Alt+Left, mouse back button)")
            .clicked()
        {
            self.back();
        }
        if ui
            .add_enabled(self.history.can_go_forward(), egui::Button::new("Forward"))
            .on_hover_text("The next view (Alt+Right, mouse forward button)")
            .clicked()
        {
            self.forward();
        }
        if ui
            .add_enabled(
                self.timeline.selected.is_some(),
                egui::Button::new("Zoom to selection"),
            )
            .on_hover_text("Z")
            .clicked()
        {
            self.zoom_to_selection();
        }
        if ui
            .button("Find…")
            .on_hover_text("Find goroutines by id or function (Ctrl+F)")
            .clicked()
        {
            self.find.open();
        }
    }

    /// Keyboard and mouse-button shortcuts: Ctrl+F, Alt+Left/Right, back/forward buttons, Z.
    fn shortcuts(&mut self, ui: &Ui) {
        let typing = ui.ctx().memory(|m| m.focused().is_some());
        let (find, back, forward, zoom) = ui.input_mut(|i| {
            let find = i.consume_key(egui::Modifiers::COMMAND, Key::F);
            let back = i.consume_key(egui::Modifiers::ALT, Key::ArrowLeft)
                || i.pointer.button_pressed(PointerButton::Extra1);
            let forward = i.consume_key(egui::Modifiers::ALT, Key::ArrowRight)
                || i.pointer.button_pressed(PointerButton::Extra2);
            let zoom = !typing && i.consume_key(egui::Modifiers::NONE, Key::Z);
            (find, back, forward, zoom)
        });
        if find {
            self.find.open();
        }
        if back {
            self.back();
        }
        if forward {
            self.forward();
        }
        if zoom {
            self.zoom_to_selection();
        }
    }

    /// Shows the viewer in `ui` (usually the window's root).
    pub fn ui(&mut self, ui: &mut Ui) {
        self.shortcuts(ui);
        if let Some(g) = self.find.ui(ui, &self.model) {
            self.reveal_goroutine(g);
        }
        let Self {
            model,
            timeline: state,
            history,
            panels,
            details,
            warnings_dismissed,
            ..
        } = self;
        egui::Panel::top("goroscope_toolbar")
            .show(ui, |ui| toolbar(ui, model, state, history, panels));
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
        state.poll_path(model);
        if state.selected.is_some() || state.path.is_some() || state.path_job.is_some() {
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
                navigate(history, state, |s| s.jump_to(model, j));
            }
        }
        // A row of the dock that moves the view is a jump: both views go in the history.
        let before = state.view;
        panels::dock_ui(ui, model, state, panels);
        if state.view != before {
            history.commit(before);
            history.commit(state.view);
        }
        egui::CentralPanel::no_frame().show(ui, |ui| {
            timeline::show(ui, model, state);
        });
        // A pan or zoom gesture becomes a history entry once it settles.
        let (now, busy) = ui.input(|i| {
            let scrolling = i.smooth_scroll_delta != egui::Vec2::ZERO || i.zoom_delta() != 1.0;
            (i.time, i.pointer.any_down() || scrolling)
        });
        history.observe(state.view, now, busy);
        if state.view != history.current() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs_f64(SETTLE_SECS));
        }
    }
}

/// Runs a discrete navigation (a jump, fit, zoom to selection) and records it in the history:
/// the view before it (if a gesture left it unrecorded) and the view after it.
fn navigate(
    history: &mut ViewHistory,
    state: &mut TimelineState,
    f: impl FnOnce(&mut TimelineState),
) {
    history.commit(state.view);
    f(state);
    history.commit(state.view);
}

fn toolbar(
    ui: &mut Ui,
    model: &TraceModel,
    state: &mut TimelineState,
    history: &mut ViewHistory,
    panels: &mut Panels,
) {
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
            navigate(history, state, |s| s.view.reset());
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
