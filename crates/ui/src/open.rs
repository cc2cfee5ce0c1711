//! Opening traces: a file dialog drawn with egui (no native dialog, no extra dependency)
//! and the start screen shown when no trace is open.

use std::path::{Path, PathBuf};

use egui::{Align, Key, Layout, Modal, RichText, ScrollArea, TextEdit, Ui};

use crate::describe::format_bytes;

/// File name extensions of Go execution traces, listed by default.
pub const TRACE_EXTENSIONS: &[&str] = &["trace", "out"];

/// Whether `path` looks like a Go execution trace by its name (`*.trace`, `*.out`).
pub fn is_trace_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| TRACE_EXTENSIONS.iter().any(|t| e.eq_ignore_ascii_case(t)))
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The file or directory name.
    pub name: String,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// The file's size in bytes (0 for directories).
    pub size: u64,
}

/// Lists `dir`: directories first, then files, each by name (ignoring case). Without
/// `all_files`, only traces ([`is_trace_name`]) and no hidden (dot) entries.
///
/// # Errors
///
/// When the directory cannot be read.
pub fn list_dir(dir: &Path, all_files: bool) -> std::io::Result<Vec<DirEntry>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let Ok(e) = e else { continue };
        let name = e.file_name().to_string_lossy().into_owned();
        if !all_files && name.starts_with('.') {
            continue;
        }
        // Follow symbolic links: a link to a directory browses like one.
        let Ok(meta) = std::fs::metadata(e.path()) else {
            continue;
        };
        let is_dir = meta.is_dir();
        if !is_dir && !all_files && !is_trace_name(Path::new(&name)) {
            continue;
        }
        out.push(DirEntry {
            name,
            is_dir,
            size: if is_dir { 0 } else { meta.len() },
        });
    }
    out.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}

/// Seconds after which the dialog lists its directory again, so that traces written while
/// it is open (a test run, a download) show up.
pub const RELIST_SECS: f64 = 1.0;

/// A directory as the dialog last listed it.
#[derive(Debug, Clone)]
struct Listing {
    dir: PathBuf,
    all_files: bool,
    /// When it was listed (egui's input time).
    at: f64,
    entries: Result<Vec<DirEntry>, String>,
}

/// A modal dialog to pick a trace: browse directories, or type a path.
#[derive(Debug, Clone, Default)]
pub struct FileDialog {
    open: bool,
    dir: PathBuf,
    /// The path typed or picked.
    path_text: String,
    /// List every file, not only traces.
    all_files: bool,
    listing: Option<Listing>,
    error: Option<String>,
    focus_path: bool,
}

impl FileDialog {
    /// Shows the dialog, browsing `dir`.
    pub fn open_in(&mut self, dir: &Path) {
        self.open = true;
        self.dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
        self.path_text.clear();
        self.error = None;
        self.listing = None;
        self.focus_path = true;
    }

    /// Whether the dialog is shown.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The directory being browsed.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Hides the dialog.
    pub fn close(&mut self) {
        self.open = false;
    }

    fn enter_dir(&mut self, dir: PathBuf) {
        self.dir = dir;
        self.path_text.clear();
        self.error = None;
    }

    /// What the typed path means: a directory to enter, a file to open, or an error.
    fn accept_typed(&mut self) -> Option<PathBuf> {
        let text = self.path_text.trim();
        if text.is_empty() {
            return None;
        }
        let path = self.dir.join(expand_home(text));
        if path.is_dir() {
            self.enter_dir(path);
            None
        } else if path.is_file() {
            self.open = false;
            Some(path)
        } else {
            self.error = Some(format!("No such file: {}", path.display()));
            None
        }
    }

    /// Shows the dialog if it is open; returns the file to open once one is chosen.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<PathBuf> {
        if !self.open {
            return None;
        }
        let mut chosen = None;
        let resp = Modal::new(egui::Id::unique("goroscope_open_dialog")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading("Open a trace");
            ui.add_space(4.0);
            ui.horizontal(|ui| {
                let parent = self.dir.parent().map(Path::to_path_buf);
                if ui
                    .add_enabled(parent.is_some(), egui::Button::new("Up"))
                    .on_hover_text("The parent directory")
                    .clicked()
                    && let Some(p) = parent
                {
                    self.enter_dir(p);
                }
                ui.monospace(self.dir.display().to_string());
            });
            ui.separator();
            let now = ui.input(|i| i.time);
            let stale = self.listing.as_ref().is_none_or(|l| {
                l.dir != self.dir || l.all_files != self.all_files || now - l.at >= RELIST_SECS
            });
            if stale {
                self.listing = Some(Listing {
                    dir: self.dir.clone(),
                    all_files: self.all_files,
                    at: now,
                    entries: list_dir(&self.dir, self.all_files).map_err(|e| e.to_string()),
                });
            }
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs_f64(RELIST_SECS));
            let mut enter = None;
            let mut pick = None;
            ScrollArea::vertical()
                .max_height(320.0)
                .min_scrolled_height(320.0)
                .auto_shrink([false, false])
                .show(ui, |ui| match self.listing.as_ref().map(|l| &l.entries) {
                    Some(Ok(entries)) if entries.is_empty() => {
                        ui.weak(if self.all_files {
                            "This directory is empty."
                        } else {
                            "No traces (*.trace, *.out) here."
                        });
                    }
                    Some(Ok(entries)) => {
                        for e in entries {
                            if e.is_dir {
                                if ui.selectable_label(false, format!("{}/", e.name)).clicked() {
                                    enter = Some(self.dir.join(&e.name));
                                }
                            } else {
                                let path = self.dir.join(&e.name);
                                let selected = Path::new(self.path_text.trim()) == path;
                                ui.horizontal(|ui| {
                                    let r = ui.selectable_label(selected, &e.name);
                                    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                                        ui.weak(format_bytes(e.size as f64));
                                    });
                                    if r.double_clicked() {
                                        pick = Some((path, true));
                                    } else if r.clicked() {
                                        pick = Some((path, false));
                                    }
                                });
                            }
                        }
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    None => {}
                });
            if let Some(d) = enter {
                self.enter_dir(d);
            }
            match pick {
                Some((p, true)) => {
                    self.open = false;
                    chosen = Some(p);
                }
                Some((p, false)) => {
                    self.path_text = p.display().to_string();
                    self.error = None;
                }
                None => {}
            }
            ui.separator();
            ui.horizontal(|ui| {
                let label = ui.label("Path");
                let edit = ui
                    .add(
                        TextEdit::singleline(&mut self.path_text)
                            .hint_text("a file or directory; relative to the one shown")
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(label.id);
                if std::mem::take(&mut self.focus_path) {
                    edit.request_focus();
                }
                if edit.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
                    chosen = chosen.take().or_else(|| self.accept_typed());
                }
            });
            if let Some(e) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            ui.horizontal(|ui| {
                ui.checkbox(&mut self.all_files, "Show all files")
                    .on_hover_text("Otherwise only Go traces: *.trace, *.out");
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    if ui.button("Cancel").clicked() {
                        self.open = false;
                    }
                    let can_open = !self.path_text.trim().is_empty();
                    if ui
                        .add_enabled(can_open, egui::Button::new("Open"))
                        .clicked()
                    {
                        chosen = chosen.take().or_else(|| self.accept_typed());
                    }
                });
            });
        });
        if resp.should_close() {
            self.open = false;
        }
        chosen
    }
}

/// `~/x` as `$HOME/x`; other paths unchanged.
fn expand_home(text: &str) -> PathBuf {
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(text)
}

/// What the start screen asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAction {
    /// Show the file dialog.
    Browse,
    /// Open this (recent) file.
    Open(PathBuf),
}

/// The start screen: an Open button, the recent files, and a hint about drag and drop.
/// `message` (e.g. why the last trace could not be opened) is shown above them.
pub fn start_screen_ui(
    ui: &mut Ui,
    recent: &[PathBuf],
    message: Option<&str>,
) -> Option<StartAction> {
    let mut action = None;
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space((ui.available_height() / 5.0).min(160.0));
            ui.heading(RichText::new("goroscope").size(28.0));
            ui.label("Find out why a Go program was slow, from its execution trace.");
            ui.add_space(12.0);
            if let Some(m) = message {
                ui.colored_label(ui.visuals().error_fg_color, m);
                ui.add_space(8.0);
            }
            if ui
                .add(egui::Button::new(RichText::new("Open a trace…").size(16.0)))
                .on_hover_text("Ctrl+O")
                .clicked()
            {
                action = Some(StartAction::Browse);
            }
            ui.weak("or drop a trace file on this window");
            ui.add_space(24.0);
            if recent.is_empty() {
                ui.weak("Traces you open are listed here.");
                return;
            }
            ui.strong("Recent traces");
            ui.add_space(4.0);
            for p in recent {
                if recent_button(ui, p).clicked() {
                    action = Some(StartAction::Open(p.clone()));
                }
            }
        });
    });
    action
}

/// A button naming a recent file (file name, then its directory, weak).
pub fn recent_button(ui: &mut Ui, path: &Path) -> egui::Response {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let dir = path
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let missing = !path.exists();
    let mut job = egui::text::LayoutJob::default();
    let style = ui.style();
    RichText::new(&name).append_to(&mut job, style, egui::FontSelection::Default, Align::Center);
    let detail = if missing {
        format!("  {dir} (missing)")
    } else {
        format!("  {dir}")
    };
    RichText::new(detail).weak().small().append_to(
        &mut job,
        style,
        egui::FontSelection::Default,
        Align::Center,
    );
    ui.add(egui::Button::new(job).frame(false))
        .on_hover_text(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_names() {
        for n in ["a.trace", "trace.out", "X.TRACE", "/d/b.out"] {
            assert!(is_trace_name(Path::new(n)), "{n}");
        }
        for n in ["a.txt", "trace", "out", ".trace.gz"] {
            assert!(!is_trace_name(Path::new(n)), "{n}");
        }
    }

    #[test]
    fn lists_directories_first_and_filters_traces() {
        let d = std::env::temp_dir().join(format!("goroscope-list-{}", std::process::id()));
        std::fs::remove_dir_all(&d).ok();
        std::fs::create_dir_all(d.join("sub")).expect("dir");
        std::fs::create_dir_all(d.join(".hidden")).expect("dir");
        for f in ["b.trace", "A.out", "notes.txt", ".c.trace"] {
            std::fs::write(d.join(f), b"x").expect("file");
        }
        let names = |all| -> Vec<String> {
            list_dir(&d, all)
                .expect("listed")
                .into_iter()
                .map(|e| e.name)
                .collect()
        };
        assert_eq!(names(false), ["sub", "A.out", "b.trace"]);
        assert_eq!(
            names(true),
            [
                ".hidden",
                "sub",
                ".c.trace",
                "A.out",
                "b.trace",
                "notes.txt"
            ]
        );
        assert!(list_dir(&d.join("nope"), false).is_err());
        std::fs::remove_dir_all(&d).ok();
    }
}
