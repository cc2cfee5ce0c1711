//! Everything in the window around a trace: the menu bar (Open, recent files, navigation),
//! the start screen, the loading and error screens, the file dialog, drag and drop, and the
//! persisted settings.
//!
//! The shell never opens files itself: it returns [`ViewerAction`]s, and the application
//! (the `eframe` window in the `goroscope` binary) loads the trace on a background thread.

use std::path::{Path, PathBuf};

use egui::{Align2, Color32, FontId, Id, Key, LayerId, Modifiers, Order, Ui};
use goroscope_trace::Progress;

use crate::open::{FileDialog, StartAction, recent_button, start_screen_ui};
use crate::settings::{Settings, Theme};
use crate::viewer::{LoadingAction, TraceViewer, loading_ui};

/// What the shell asks the application to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewerAction {
    /// Open this trace (from the file dialog, a recent file, or a dropped file).
    Open(PathBuf),
    /// Stop loading the trace being opened.
    CancelLoading,
}

/// What the window shows under the menu bar.
#[derive(Debug)]
pub enum Screen<'a> {
    /// No trace: the start screen.
    Start,
    /// A trace being read.
    Loading {
        /// The file's name.
        name: &'a str,
        /// How far reading has got.
        progress: Option<Progress>,
        /// What is being done.
        stage: &'a str,
    },
    /// A trace that could not be opened, and why.
    Failed {
        /// The file's name.
        name: &'a str,
        /// Why.
        message: &'a str,
    },
    /// A trace on screen.
    Trace(&'a mut TraceViewer),
}

/// The window's state outside any one trace: settings and the file dialog.
#[derive(Debug)]
pub struct Shell {
    /// The settings (saved to [`Self::settings_path`] when they change).
    pub settings: Settings,
    settings_path: Option<PathBuf>,
    saved: Settings,
    /// The last problem with the settings file, for the caller to report.
    pub settings_warning: Option<String>,
    dialog: FileDialog,
    theme_applied: bool,
}

impl Shell {
    /// A shell with settings loaded from `settings_path` (`None`: not persisted). A settings
    /// file that cannot be read gives the defaults and [`Self::settings_warning`].
    pub fn new(settings_path: Option<PathBuf>) -> Self {
        let (settings, warning) = match &settings_path {
            Some(p) => Settings::load_or_default(p),
            None => (Settings::default(), None),
        };
        Self {
            saved: settings.clone(),
            settings,
            settings_path,
            settings_warning: warning,
            dialog: FileDialog::default(),
            theme_applied: false,
        }
    }

    /// Where the settings are saved.
    pub fn settings_path(&self) -> Option<&Path> {
        self.settings_path.as_deref()
    }

    /// Whether the file dialog is shown.
    pub fn is_dialog_open(&self) -> bool {
        self.dialog.is_open()
    }

    /// Shows the file dialog, in the directory of the most recent file (or the current one).
    pub fn show_open_dialog(&mut self) {
        let dir = self
            .settings
            .recent
            .first()
            .and_then(|p| p.parent())
            .filter(|d| d.is_dir())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        self.dialog.open_in(&dir);
    }

    /// Call once a trace has been opened: remembers it in the recent files and applies the
    /// settings to its viewer.
    pub fn opened(&mut self, path: &Path, viewer: &mut TraceViewer) {
        self.settings.add_recent(path);
        if !viewer.model.timelines().clock.is_empty() {
            viewer.timeline.wall_clock = self.settings.wall_clock;
        }
        self.save_if_changed();
    }

    /// Saves the settings if they differ from what was last loaded or saved. A failure is
    /// kept in [`Self::settings_warning`] (the viewer goes on without persisting).
    pub fn save_if_changed(&mut self) {
        if self.settings == self.saved {
            return;
        }
        self.saved = self.settings.clone();
        if let Some(p) = &self.settings_path
            && let Err(e) = self.settings.save(p)
        {
            self.settings_warning = Some(format!("cannot save settings: {e}"));
        }
    }

    /// Shows the window's content; returns what the application should do.
    pub fn ui(&mut self, ui: &mut Ui, screen: Screen<'_>) -> Option<ViewerAction> {
        let ctx = ui.ctx().clone();
        if !self.theme_applied {
            self.theme_applied = true;
            ctx.set_theme(self.settings.theme.egui());
        }
        let mut action = None;
        let dropped = ui.input(|i| i.raw.dropped_files.first().map(|f| f.path().to_owned()));
        if let Some(p) = dropped {
            action = Some(ViewerAction::Open(p));
        }
        if ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::O)) {
            self.show_open_dialog();
        }
        let mut screen = screen;
        egui::Panel::top("goroscope_menu").show(ui, |ui| {
            ui.horizontal(|ui| {
                if ui
                    .button("Open…")
                    .on_hover_text("Open a trace (Ctrl+O)")
                    .clicked()
                {
                    self.show_open_dialog();
                }
                ui.add_enabled_ui(!self.settings.recent.is_empty(), |ui| {
                    ui.menu_button("Recent", |ui| {
                        let mut missing = false;
                        for p in &self.settings.recent {
                            if recent_button(ui, p).clicked() {
                                action = Some(ViewerAction::Open(p.clone()));
                                ui.close();
                            }
                            missing |= !p.exists();
                        }
                        ui.separator();
                        if missing && ui.button("Forget missing files").clicked() {
                            self.settings.recent.retain(|r| r.exists());
                        }
                        if ui.button("Clear recent files").clicked() {
                            self.settings.recent.clear();
                            ui.close();
                        }
                    });
                });
                if let Screen::Trace(v) = &mut screen {
                    ui.separator();
                    v.nav_ui(ui);
                }
            });
        });
        match screen {
            Screen::Start => {
                if let Some(a) = start_screen_ui(ui, &self.settings.recent, None) {
                    action = self.start_action(a).or(action);
                }
            }
            Screen::Failed { name, message } => {
                let text = format!("Cannot open {name}: {message}");
                if let Some(a) = start_screen_ui(ui, &self.settings.recent, Some(&text)) {
                    action = self.start_action(a).or(action);
                }
            }
            Screen::Loading {
                name,
                progress,
                stage,
            } => {
                if loading_ui(ui, name, progress, stage) == LoadingAction::Cancel {
                    action = Some(ViewerAction::CancelLoading);
                }
            }
            Screen::Trace(v) => {
                v.ui(ui);
                if !v.model.timelines().clock.is_empty() {
                    self.settings.wall_clock = v.timeline.wall_clock;
                }
            }
        }
        if let Some(p) = self.dialog.show(&ctx) {
            action = Some(ViewerAction::Open(p));
        }
        drop_hint(&ctx);
        self.settings.theme = Theme::from_egui(ctx.theme());
        self.save_if_changed();
        action
    }

    fn start_action(&mut self, a: StartAction) -> Option<ViewerAction> {
        match a {
            StartAction::Browse => {
                self.show_open_dialog();
                None
            }
            StartAction::Open(p) => Some(ViewerAction::Open(p)),
        }
    }
}

/// While a file is dragged over the window: a veil saying it will be opened.
fn drop_hint(ctx: &egui::Context) {
    let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
    if !hovering {
        return;
    }
    let painter = ctx.layer_painter(LayerId::new(
        Order::Foreground,
        Id::unique("goroscope_drop"),
    ));
    let rect = ctx.content_rect();
    painter.rect_filled(rect, 0.0, Color32::from_black_alpha(180));
    painter.text(
        rect.center(),
        Align2::CENTER_CENTER,
        "Drop the trace to open it",
        FontId::proportional(24.0),
        Color32::WHITE,
    );
}
