//! Ctrl+F: find goroutines by id (`G42` or `42`) or by a substring of their start
//! function (their group's name), and jump to one.

use egui::{Align2, Key, Modifiers, ScrollArea, TextEdit, Ui};

use crate::model::TraceModel;
use crate::ruler::format_duration;

/// The most results listed.
pub const MAX_RESULTS: usize = 500;

/// Goroutines matching a query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindResults {
    /// Goroutine indexes (into `Timelines::goroutines`), at most [`MAX_RESULTS`].
    pub goroutines: Vec<usize>,
    /// How many goroutines matched in all.
    pub total: usize,
}

/// Finds goroutines for `query`: an id (`G42`, `g42` or `42`) finds that goroutine, and
/// any other text finds the goroutines whose start function contains it (ignoring case),
/// busiest group first. A number also matches start functions containing it.
pub fn search(model: &TraceModel, query: &str) -> FindResults {
    let q = query.trim();
    let mut out = FindResults::default();
    if q.is_empty() {
        return out;
    }
    let digits = q.strip_prefix(['G', 'g']).unwrap_or(q);
    let by_id = digits
        .parse::<i64>()
        .ok()
        .and_then(|id| model.goroutine_index(id));
    if let Some(g) = by_id {
        out.goroutines.push(g);
        out.total = 1;
    }
    let needle = q.to_lowercase();
    for group in &model.groups {
        if !group.label.to_lowercase().contains(&needle) {
            continue;
        }
        for &g in &group.goroutines {
            let g = g as usize;
            if by_id == Some(g) {
                continue;
            }
            out.total += 1;
            if out.goroutines.len() < MAX_RESULTS {
                out.goroutines.push(g);
            }
        }
    }
    out
}

/// The find box's state.
#[derive(Debug, Clone, Default)]
pub struct FindState {
    /// Whether the box is shown.
    pub open: bool,
    /// The text typed.
    pub query: String,
    /// The results for [`Self::query`].
    pub results: FindResults,
    /// The highlighted result (Enter jumps to it).
    pub cursor: usize,
    searched: Option<String>,
    focus: bool,
}

impl FindState {
    /// Shows the box and focuses its text field.
    pub fn open(&mut self) {
        self.open = true;
        self.focus = true;
    }

    /// Hides the box.
    pub fn close(&mut self) {
        self.open = false;
    }

    fn refresh(&mut self, model: &TraceModel) {
        if self.searched.as_deref() != Some(self.query.as_str()) {
            self.results = search(model, &self.query);
            self.cursor = 0;
            self.searched = Some(self.query.clone());
        }
    }

    /// Shows the find box (when open) in the top right corner of `ui`'s screen; returns the
    /// goroutine (index) to jump to when Enter is pressed or a result is clicked.
    pub fn ui(&mut self, ui: &Ui, model: &TraceModel) -> Option<usize> {
        if !self.open {
            return None;
        }
        let mut jump = None;
        let mut open = true;
        egui::Window::new("Find goroutines")
            .id(egui::Id::unique("goroscope_find"))
            .anchor(Align2::RIGHT_TOP, [-24.0, 64.0])
            .collapsible(false)
            .resizable(false)
            .default_width(380.0)
            .open(&mut open)
            .show(ui.ctx(), |ui| {
                let n = self.results.goroutines.len();
                let (down, up, escape) = ui.input_mut(|i| {
                    (
                        i.consume_key(Modifiers::NONE, Key::ArrowDown),
                        i.consume_key(Modifiers::NONE, Key::ArrowUp),
                        i.consume_key(Modifiers::NONE, Key::Escape),
                    )
                });
                if down && n > 0 {
                    self.cursor = (self.cursor + 1).min(n - 1);
                }
                if up {
                    self.cursor = self.cursor.saturating_sub(1);
                }
                if escape {
                    self.open = false;
                }
                let label = ui.label("Goroutine id or function");
                let edit = ui.add(
                    TextEdit::singleline(&mut self.query)
                        .hint_text("G42, 42 or net/http")
                        .desired_width(f32::INFINITY),
                );
                let edit = edit.labelled_by(label.id);
                if std::mem::take(&mut self.focus) {
                    edit.request_focus();
                }
                let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                self.refresh(model);
                let tl = model.timelines();
                let r = &self.results;
                ui.weak(match r.total {
                    0 if self.query.trim().is_empty() => String::new(),
                    0 => "no goroutine matches".to_owned(),
                    1 => "1 goroutine".to_owned(),
                    t if t > r.goroutines.len() => {
                        format!("{t} goroutines, the first {} listed", r.goroutines.len())
                    }
                    t => format!("{t} goroutines"),
                });
                if enter && let Some(&g) = r.goroutines.get(self.cursor) {
                    jump = Some(g);
                }
                ScrollArea::vertical().max_height(320.0).show_rows(
                    ui,
                    ui.spacing().interact_size.y,
                    r.goroutines.len(),
                    |ui, rows| {
                        for i in rows {
                            let g = r.goroutines[i];
                            let Some(go) = tl.goroutines.get(g) else {
                                continue;
                            };
                            let from = go.created.unwrap_or(tl.start);
                            let to = go.ended.unwrap_or(tl.end);
                            let text = format!(
                                "G{} · {} · {}",
                                go.id,
                                tl.strings.lossy(go.name),
                                format_duration((to - from) as f64)
                            );
                            let resp = ui.selectable_label(i == self.cursor, text);
                            if i == self.cursor && (down || up) {
                                resp.scroll_to_me(None);
                            }
                            if resp.clicked() {
                                self.cursor = i;
                                jump = Some(g);
                            }
                        }
                    },
                );
            });
        if !open {
            self.open = false;
        }
        jump
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> TraceModel {
        let path = goroscope_testkit::fixtures_dir()
            .join("traces")
            .join("sched-go1.27.3.trace");
        TraceModel::new(goroscope_trace::Trace::open(&path).expect("fixture"))
    }

    #[test]
    fn finds_by_id_and_by_function() {
        let m = model();
        let tl = m.timelines();
        let g = tl
            .goroutines
            .iter()
            .position(|g| tl.strings.lossy(g.name) == "main.leakyLocker")
            .expect("a leaky locker");
        let id = tl.goroutines[g].id;
        for q in [format!("G{id}"), format!("g{id}"), format!(" {id} ")] {
            let r = search(&m, &q);
            assert_eq!(r.goroutines.first(), Some(&g), "{q}");
        }
        let r = search(&m, "LEAKYlock");
        assert_eq!(r.total, 3);
        assert!(
            r.goroutines
                .iter()
                .all(|&i| { tl.strings.lossy(tl.goroutines[i].name) == "main.leakyLocker" })
        );
        // Every goroutine whose start function matches, the busiest group first.
        let r = search(&m, "main.");
        let expected = tl
            .goroutines
            .iter()
            .filter(|g| tl.strings.lossy(g.name).contains("main."))
            .count();
        assert_eq!(r.total, expected);
        assert_eq!(r.goroutines.len(), expected.min(MAX_RESULTS));
        assert_eq!(
            m.group_of(r.goroutines[0]),
            Some(0),
            "{:?}",
            m.groups[0].label
        );
        // An id also finds functions containing the number.
        assert!(search(&m, "G1").total >= 1);
        assert_eq!(search(&m, "no such function"), FindResults::default());
        assert_eq!(search(&m, "  "), FindResults::default());
        assert_eq!(search(&m, "G99999999").total, 0);
    }
}
