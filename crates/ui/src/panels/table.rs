//! Sortable tables with fixed column widths whose rows are laid out only when scrolled into
//! view, so a table of a hundred thousand rows costs what the visible ones cost.

use egui::{
    Align, CornerRadius, Label, Layout, Rect, RichText, ScrollArea, Sense, Ui, WidgetText, vec2,
};

/// The height of a table row.
pub const ROW_H: f32 = 20.0;

/// A table's sort order: a column and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// The column index.
    pub column: usize,
    /// Largest first.
    pub descending: bool,
}

/// A value rows sort by.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum SortKey {
    /// A number.
    Num(f64),
    /// A text.
    Text(String),
}

impl From<i64> for SortKey {
    fn from(v: i64) -> Self {
        Self::Num(v as f64)
    }
}

/// A column: its title and width.
pub type Column = (&'static str, f32);

/// A table's sort order and the row order it gives (recomputed only when it changes).
#[derive(Debug, Clone)]
pub struct Table {
    /// The sort order.
    pub sort: Sort,
    order: Option<(Sort, Vec<usize>)>,
}

impl Table {
    /// A table sorted by `column`, largest first.
    pub fn new(column: usize) -> Self {
        Self {
            sort: Sort {
                column,
                descending: true,
            },
            order: None,
        }
    }

    /// The row order: `key(row, column)` compared, ties by row index.
    fn order(&mut self, n: usize, key: impl Fn(usize, usize) -> SortKey) -> &[usize] {
        let sort = self.sort;
        if self
            .order
            .as_ref()
            .is_none_or(|(s, o)| *s != sort || o.len() != n)
        {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| {
                let (ka, kb) = (key(a, sort.column), key(b, sort.column));
                let o = ka.partial_cmp(&kb).unwrap_or(std::cmp::Ordering::Equal);
                let o = if sort.descending { o.reverse() } else { o };
                o.then(a.cmp(&b))
            });
            self.order = Some((sort, order));
        }
        self.order.as_ref().map_or(&[], |(_, o)| o)
    }

    /// Shows the header and the visible rows of a table of `n` rows. Clicking a header sorts
    /// by it (again: reverses). `row(cells, i)` fills row `i` (an index into the data).
    pub fn show(
        &mut self,
        ui: &mut Ui,
        id: &str,
        columns: &[Column],
        n: usize,
        key: impl Fn(usize, usize) -> SortKey,
        mut row: impl FnMut(&mut Cells<'_>, usize),
    ) {
        let width: f32 = columns.iter().map(|c| c.1).sum();
        ScrollArea::horizontal()
            .id_salt(("table_h", id))
            .auto_shrink([false, true])
            .show(ui, |ui| {
                ui.set_min_width(width);
                ui.horizontal(|ui| {
                    let mut cells = Cells::new(ui, columns);
                    for (i, (name, _)) in columns.iter().enumerate() {
                        let on = self.sort.column == i;
                        let descending = self.sort.descending;
                        let clicked = cells.cell(|ui| {
                            let r = ui
                                .selectable_label(on, RichText::new(*name).strong())
                                .on_hover_text("sort by this column (again: reverse)");
                            if on {
                                sort_arrow(ui, descending);
                            }
                            r.clicked()
                        });
                        if clicked {
                            self.sort = if on {
                                Sort {
                                    column: i,
                                    descending: !descending,
                                }
                            } else {
                                // Names sort A to Z first, numbers largest first.
                                Sort {
                                    column: i,
                                    descending: i != 0,
                                }
                            };
                        }
                    }
                });
                let order = self.order(n, key);
                let stripe = ui.visuals().faint_bg_color;
                ScrollArea::vertical()
                    .id_salt(("table_v", id))
                    .auto_shrink([false, false])
                    .show_rows(ui, ROW_H, order.len(), |ui, range| {
                        for k in range {
                            let top = ui.cursor().min;
                            if k % 2 == 1 {
                                ui.painter().rect_filled(
                                    Rect::from_min_size(top, vec2(width, ROW_H)),
                                    CornerRadius::ZERO,
                                    stripe,
                                );
                            }
                            ui.horizontal(|ui| {
                                ui.set_height(ROW_H);
                                row(&mut Cells::new(ui, columns), order[k]);
                            });
                        }
                    });
            });
    }
}

/// The cells of one row, filled left to right, each as wide as its column.
pub struct Cells<'a> {
    ui: &'a mut Ui,
    columns: &'a [Column],
    next: usize,
}

impl<'a> Cells<'a> {
    fn new(ui: &'a mut Ui, columns: &'a [Column]) -> Self {
        Self {
            ui,
            columns,
            next: 0,
        }
    }

    /// The next cell, filled by `add`.
    pub fn cell<R>(&mut self, add: impl FnOnce(&mut Ui) -> R) -> R {
        let w = self.columns.get(self.next).map_or(80.0, |c| c.1);
        self.next += 1;
        self.ui
            .allocate_ui_with_layout(vec2(w, ROW_H), Layout::left_to_right(Align::Center), |ui| {
                ui.set_min_width(w);
                ui.set_max_width(w);
                add(ui)
            })
            .inner
    }

    /// The next cell: a text, cut to fit.
    pub fn text(&mut self, text: impl Into<WidgetText>) {
        self.cell(|ui| ui.add(Label::new(text).truncate()));
    }

    /// The next cell: a clickable text (the row's link); whether it was clicked.
    pub fn link(&mut self, selected: bool, text: &str, hover: &str) -> bool {
        self.cell(|ui| {
            ui.add(egui::Button::selectable(selected, text).truncate())
                .on_hover_text(hover)
                .clicked()
        })
    }
}

/// A small triangle: pointing down for largest first.
fn sort_arrow(ui: &mut Ui, descending: bool) {
    let (rect, _) = ui.allocate_exact_size(vec2(8.0, 8.0), Sense::hover());
    let c = rect.center();
    let (tip, base) = if descending { (4.0, -3.0) } else { (-4.0, 3.0) };
    ui.painter().add(egui::Shape::convex_polygon(
        vec![
            egui::pos2(c.x - 4.0, c.y + base),
            egui::pos2(c.x + 4.0, c.y + base),
            egui::pos2(c.x, c.y + tip),
        ],
        ui.visuals().strong_text_color(),
        egui::Stroke::NONE,
    ));
}
