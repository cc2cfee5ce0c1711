//! The analysis dock under the timeline: tabs for the selected range's statistics, blocking
//! sites, scheduler findings, goroutine groups, and task and region types.
//!
//! Whole-trace analyses run once per trace on a background thread ([`Job`]); a range's
//! statistics run on one when the selection settles, and stay cached for that range. Until
//! a result is ready its tab says "computing…". Tables sort by clicking a column header;
//! clicking a row moves the timeline to what it describes.

pub mod analyses;
pub mod job;
pub mod range;
pub mod table;

use egui::{Align, Layout, RichText, ScrollArea, Sense, Ui, vec2};
use goroscope_analysis::findings::Severity;
use goroscope_trace::timeline::Timelines;

pub use analyses::Analyses;
pub use job::Job;
pub use range::RangeStats;

use crate::model::TraceModel;
use crate::palette::Palette;
use crate::ruler::format_duration;
use crate::timeline::{Item, TimelineState};
use analyses::{HIST_BINS, Instance, WaitRef};
use table::{Column, Sort, SortKey, Table};

/// A tab of the dock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    /// Statistics of the selected time range.
    Range,
    /// Blocking sites.
    Blocking,
    /// Scheduler findings.
    Findings,
    /// Goroutine groups.
    Groups,
    /// Task and region types.
    Tasks,
}

impl Tab {
    /// Every tab, in display order.
    pub const ALL: [Self; 5] = [
        Self::Range,
        Self::Blocking,
        Self::Findings,
        Self::Groups,
        Self::Tasks,
    ];

    /// The tab's title (also its accessible name).
    pub fn title(self) -> &'static str {
        match self {
            Self::Range => "Range",
            Self::Blocking => "Blocking",
            Self::Findings => "Findings",
            Self::Groups => "Groups",
            Self::Tasks => "Tasks",
        }
    }
}

/// The dock's state: open or not, the tab, the analyses and per-table sort orders.
#[derive(Debug)]
pub struct Panels {
    /// Whether the dock is shown.
    pub open: bool,
    /// The tab shown.
    pub tab: Tab,
    analyses: Job<Analyses>,
    range: Option<((i64, i64), Job<RangeStats>)>,
    blocking: Table,
    findings: Table,
    groups: Table,
    kinds: Table,
    /// The blocking site (row index) whose instances are being stepped through, and the
    /// instance.
    pub site_cursor: Option<(usize, usize)>,
}

impl Panels {
    /// The dock for `model`, with its analyses started on a background thread.
    pub fn new(model: &TraceModel) -> Self {
        let trace = model.trace.clone();
        let groups: Vec<(String, Vec<u32>)> = model
            .groups
            .iter()
            .map(|g| (g.label.clone(), g.goroutines.clone()))
            .collect();
        let analyses = Job::spawn("goroscope-analyses", None, move || {
            analyses::compute(&trace.timelines, &groups)
        });
        Self {
            open: false,
            tab: Tab::Blocking,
            analyses,
            range: None,
            blocking: Table::new(3),
            findings: Table::new(0),
            groups: Table::new(2),
            kinds: Table::new(3),
            site_cursor: None,
        }
    }

    /// The whole-trace analyses, if computed.
    pub fn analyses(&mut self) -> Option<&Analyses> {
        self.analyses.poll()
    }

    /// Waits for the whole-trace analyses (tests, benchmarks).
    pub fn wait_for_analyses(&mut self) -> Option<&Analyses> {
        self.analyses.wait()
    }

    /// The statistics of the selected range, if computed.
    pub fn range_stats(&mut self) -> Option<&RangeStats> {
        self.range.as_mut().and_then(|(_, j)| j.poll())
    }

    /// Waits for the statistics of the selected range (tests).
    pub fn wait_for_range(&mut self) -> Option<&RangeStats> {
        self.range.as_mut().and_then(|(_, j)| j.wait())
    }

    /// Starts computing the statistics of `range` unless they are cached.
    fn want_range(&mut self, model: &TraceModel, range: (i64, i64), ctx: &egui::Context) {
        if self.range.as_ref().is_some_and(|(r, _)| *r == range) {
            return;
        }
        let trace = model.trace.clone();
        // Replacing the previous range's job cancels it.
        let job = Job::spawn_cancellable("goroscope-range", Some(ctx.clone()), move |cancel| {
            range::compute(&trace.timelines, range.0, range.1, cancel)
        });
        self.range = Some((range, job));
    }

    /// The sort order of the blocking table (tests).
    pub fn blocking_sort(&self) -> Sort {
        self.blocking.sort
    }

    /// The toolbar button that shows and hides the dock.
    pub fn toggle_button(&mut self, ui: &mut Ui) {
        ui.toggle_value(&mut self.open, "Analysis")
            .on_hover_text("Blocking, findings, groups, tasks and the selected range");
    }
}

/// What a click in a panel asks the timeline to do.
#[derive(Clone, Copy)]
enum Action {
    /// Select `item` and show `[from, to]` (absolute times).
    Show(Item, i64, i64),
    /// Expand and scroll to a goroutine group.
    RevealGroup(usize),
    /// Show `[from, to]` and select a goroutine, if any.
    Window(i64, i64, Option<usize>),
}

fn apply(model: &TraceModel, state: &mut TimelineState, a: Action) {
    let t0 = model.timelines().start;
    let show = |state: &mut TimelineState, a: i64, b: i64| {
        let (a, b) = ((a - t0) as f64, (b - t0) as f64);
        state.view.show_range(a, b.max(a + 1.0), 0.25);
    };
    match a {
        Action::Show(item, from, to) => {
            state.jump_to(model, item);
            show(state, from, to);
        }
        Action::RevealGroup(g) => state.reveal_group(model, g),
        Action::Window(from, to, g) => {
            if let Some(g) = g {
                state.jump_to(model, Item::Goroutine(g));
            }
            show(state, from, to);
        }
    }
}

/// Shows the dock (a bottom panel) if it is open. Call before the timeline's central panel.
pub fn dock_ui(ui: &mut Ui, model: &TraceModel, state: &mut TimelineState, panels: &mut Panels) {
    if panels.analyses.get().is_none() {
        panels.analyses.poll();
        if panels.analyses.get().is_none() && !panels.analyses.failed() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
    // A settled range selection opens the Range tab; its statistics start computing.
    if let Some(range) = state.range
        && !state.is_selecting_range()
    {
        if panels.range.as_ref().is_none_or(|(r, _)| *r != range) {
            panels.open = true;
            panels.tab = Tab::Range;
        }
        panels.want_range(model, range, ui.ctx());
    }
    if !panels.open {
        return;
    }
    let mut action = None;
    egui::Panel::bottom("goroscope_dock")
        .resizable(true)
        .default_size(260.0)
        .min_size(120.0)
        .show(ui, |ui| {
            // The dock keeps its height whatever it shows: a resizable panel takes the
            // height of its content, so a short "computing…" would shrink it for good.
            ui.set_min_height(ui.available_height());
            ui.horizontal(|ui| {
                for t in Tab::ALL {
                    if ui.selectable_label(panels.tab == t, t.title()).clicked() {
                        panels.tab = t;
                    }
                }
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    if ui.button("Hide").clicked() {
                        panels.open = false;
                    }
                });
            });
            ui.separator();
            action = match panels.tab {
                Tab::Range => range_tab(ui, model, state, panels),
                tab => {
                    let Panels {
                        analyses,
                        blocking,
                        findings,
                        groups,
                        kinds,
                        site_cursor,
                        ..
                    } = panels;
                    match analyses.get() {
                        None if analyses.failed() => {
                            ui.label("The analyses failed.");
                            None
                        }
                        None => {
                            ui.horizontal(|ui| {
                                ui.spinner();
                                ui.label("computing…");
                            });
                            None
                        }
                        Some(a) => match tab {
                            Tab::Blocking => blocking_tab(ui, model, a, blocking, site_cursor),
                            Tab::Findings => findings_tab(ui, model, a, findings),
                            Tab::Groups => groups_tab(ui, a, groups),
                            _ => kinds_tab(ui, model, a, kinds),
                        },
                    }
                }
            };
        });
    if let Some(a) = action {
        apply(model, state, a);
    }
}

fn range_tab(
    ui: &mut Ui,
    model: &TraceModel,
    state: &mut TimelineState,
    panels: &mut Panels,
) -> Option<Action> {
    let tl = model.timelines();
    let Some((from, to)) = state.range else {
        ui.label("Drag in the time ruler (or Shift+drag in the lanes) to select a range.");
        return None;
    };
    let mut action = None;
    ui.horizontal(|ui| {
        ui.strong(format!(
            "Range {} – {} ({})",
            crate::describe::at(tl, from),
            crate::describe::at(tl, to),
            format_duration((to - from) as f64)
        ));
        if ui.button("Zoom to range").on_hover_text("Z").clicked() {
            state.zoom_to_range(model);
        }
        if ui.button("Clear range").on_hover_text("Esc").clicked() {
            state.range = None;
        }
    });
    if state.is_selecting_range() {
        return None;
    }
    match panels.range_stats() {
        Some(stats) => {
            let jump = ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| range::range_ui(ui, stats))
                .inner;
            if let Some(item) = jump
                && let Some((_, a, b)) = crate::timeline::item_extent(model, &item)
            {
                action = Some(Action::Show(item, a, b));
            }
        }
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("computing…");
            });
        }
    }
    action
}

fn dur(ns: i64) -> String {
    format_duration(ns as f64)
}

fn wait_item(model: &TraceModel, w: &WaitRef) -> Option<(Item, i64, i64)> {
    let tl = model.timelines();
    let g = model.goroutine_index(w.g)?;
    let span = tl.goroutines.get(g)?.spans.index_at(w.start)?;
    Some((Item::Go { g, span }, w.start, w.end.unwrap_or(tl.end)))
}

fn blocking_tab(
    ui: &mut Ui,
    model: &TraceModel,
    a: &Analyses,
    table: &mut Table,
    cursor: &mut Option<(usize, usize)>,
) -> Option<Action> {
    let mut action = None;
    if a.sites.is_empty() {
        ui.label("No goroutine waited in this trace.");
        return None;
    }
    // The instance stepper of the selected site.
    if let Some((row, i)) = *cursor
        && let Some(s) = a.sites.get(row)
    {
        ui.horizontal(|ui| {
            ui.label(format!(
                "{}: wait {} of {} (longest first{})",
                s.label,
                i + 1,
                s.count,
                if s.instances.len() < s.count as usize {
                    format!("; the longest {} can be stepped through", s.instances.len())
                } else {
                    String::new()
                }
            ));
            let mut go = None;
            if ui
                .add_enabled(i > 0, egui::Button::new("‹ Previous"))
                .clicked()
            {
                go = Some(i - 1);
            }
            if ui
                .add_enabled(i + 1 < s.instances.len(), egui::Button::new("Next ›"))
                .clicked()
            {
                go = Some(i + 1);
            }
            if let Some(j) = go {
                *cursor = Some((row, j));
                if let Some(w) = s.instances.get(j) {
                    action = wait_item(model, w).map(|(it, x, y)| Action::Show(it, x, y));
                }
            }
        });
    }
    const COLUMNS: [Column; 8] = [
        ("blocking site", 260.0),
        ("reason", 130.0),
        ("count", 64.0),
        ("total", 76.0),
        ("p50", 76.0),
        ("p99", 76.0),
        ("max", 76.0),
        ("top releaser", 240.0),
    ];
    let key = |r: usize, c: usize| {
        let s = &a.sites[r];
        match c {
            0 => SortKey::Text(s.label.clone()),
            1 => SortKey::Text(s.reason.clone()),
            2 => SortKey::Num(s.count as f64),
            3 => s.duration.total.into(),
            4 => s.duration.p50.into(),
            5 => s.duration.p99.into(),
            6 => s.duration.max.into(),
            _ => SortKey::Text(s.releaser.clone()),
        }
    };
    let selected = cursor.map(|c| c.0);
    let mut clicked = None;
    table.show(ui, "blocking", &COLUMNS, a.sites.len(), key, |cells, r| {
        let s = &a.sites[r];
        if cells.link(selected == Some(r), &s.label, &s.full) {
            clicked = Some(r);
        }
        cells.text(&s.reason);
        cells.text(s.count.to_string());
        for d in [
            s.duration.total,
            s.duration.p50,
            s.duration.p99,
            s.duration.max,
        ] {
            cells.text(dur(d));
        }
        cells.text(&s.releaser);
    });
    if let Some(r) = clicked {
        *cursor = Some((r, 0));
        action = a.sites[r]
            .instances
            .first()
            .and_then(|w| wait_item(model, w))
            .map(|(it, x, y)| Action::Show(it, x, y));
    }
    action
}

fn severity_text(s: Severity) -> RichText {
    let (text, color) = match s {
        Severity::Error => ("error", egui::Color32::from_rgb(230, 80, 70)),
        Severity::Warning => ("warning", egui::Color32::from_rgb(230, 170, 50)),
        Severity::Info => ("info", egui::Color32::from_rgb(110, 160, 230)),
    };
    RichText::new(text).color(color).strong()
}

fn findings_tab(
    ui: &mut Ui,
    model: &TraceModel,
    a: &Analyses,
    table: &mut Table,
) -> Option<Action> {
    let tl = model.timelines();
    if a.findings.is_empty() {
        ui.label("No findings: no rule fired on this trace.");
        return None;
    }
    const COLUMNS: [Column; 4] = [
        ("severity", 80.0),
        ("finding", 560.0),
        ("rule", 130.0),
        ("evidence", 360.0),
    ];
    let key = |r: usize, c: usize| {
        let f = &a.findings[r];
        match c {
            0 => SortKey::Num(f.severity as u8 as f64),
            1 => SortKey::Text(f.title.clone()),
            2 => SortKey::Text(f.rule.to_owned()),
            _ => SortKey::Num(f.evidence.goroutines.len() as f64),
        }
    };
    let mut clicked = None;
    table.show(
        ui,
        "findings",
        &COLUMNS,
        a.findings.len(),
        key,
        |cells, r| {
            let f = &a.findings[r];
            cells.text(severity_text(f.severity));
            if cells.link(false, &f.title, "show its time window") {
                clicked = Some(r);
            }
            cells.text(f.rule);
            cells.text(evidence_text(tl, f));
        },
    );
    clicked.map(|r| {
        let f = &a.findings[r];
        let g = f.target.goroutine.and_then(|g| model.goroutine_index(g));
        Action::Window(f.target.start, f.target.end, g)
    })
}

fn evidence_text(tl: &Timelines, f: &goroscope_analysis::findings::Finding) -> String {
    let e = &f.evidence;
    let mut parts = Vec::new();
    if !e.goroutines.is_empty() {
        let ids: Vec<String> = e
            .goroutines
            .iter()
            .take(4)
            .map(|g| format!("G{g}"))
            .collect();
        let more = if e.goroutines.len() > 4 {
            format!(" +{}", e.goroutines.len() - 4)
        } else {
            String::new()
        };
        parts.push(format!("{}{more}", ids.join(" ")));
    }
    if let Some(s) = e.sites.first() {
        parts.push(analyses::short_site(tl, s));
    }
    if let Some(&(a, b)) = e.ranges.first() {
        parts.push(format!("{} at {}", dur(b - a), crate::describe::at(tl, a)));
    }
    parts.join(" · ")
}

fn groups_tab(ui: &mut Ui, a: &Analyses, table: &mut Table) -> Option<Action> {
    const COLUMNS: [Column; 10] = [
        ("start function", 260.0),
        ("goroutines", 84.0),
        ("running", 76.0),
        ("running p50", 90.0),
        ("running p99", 90.0),
        ("runnable", 76.0),
        ("runnable p99", 96.0),
        ("waiting", 76.0),
        ("waiting p99", 90.0),
        ("syscall", 76.0),
    ];
    let key = |r: usize, c: usize| {
        let g = &a.groups[r];
        match c {
            0 => SortKey::Text(g.label.clone()),
            1 => SortKey::Num(g.count as f64),
            2 => g.exec.total.into(),
            3 => g.exec.p50.into(),
            4 => g.exec.p99.into(),
            5 => g.sched_wait.total.into(),
            6 => g.sched_wait.p99.into(),
            7 => g.blocked.total.into(),
            8 => g.blocked.p99.into(),
            _ => g.syscall.total.into(),
        }
    };
    let mut clicked = None;
    table.show(ui, "groups", &COLUMNS, a.groups.len(), key, |cells, r| {
        let g = &a.groups[r];
        if cells.link(false, &g.label, "show the group in the timeline") {
            clicked = Some(g.group);
        }
        cells.text(g.count.to_string());
        for d in [
            g.exec.total,
            g.exec.p50,
            g.exec.p99,
            g.sched_wait.total,
            g.sched_wait.p99,
            g.blocked.total,
            g.blocked.p99,
            g.syscall.total,
        ] {
            cells.text(dur(d));
        }
    });
    clicked.map(Action::RevealGroup)
}

fn kinds_tab(ui: &mut Ui, model: &TraceModel, a: &Analyses, table: &mut Table) -> Option<Action> {
    if a.kinds.is_empty() {
        ui.label("This trace has no user tasks or regions that ended.");
        return None;
    }
    const COLUMNS: [Column; 9] = [
        ("type", 200.0),
        ("kind", 64.0),
        ("count", 64.0),
        ("total", 76.0),
        ("p50", 76.0),
        ("p90", 76.0),
        ("p99", 76.0),
        ("max", 76.0),
        ("distribution", 110.0),
    ];
    let key = |r: usize, c: usize| {
        let k = &a.kinds[r];
        match c {
            0 => SortKey::Text(k.name.clone()),
            1 => SortKey::Num(f64::from(u8::from(k.task))),
            2 => SortKey::Num(k.count as f64),
            3 => k.duration.total.into(),
            4 => k.duration.p50.into(),
            5 => k.duration.p90.into(),
            6 => k.duration.p99.into(),
            _ => k.duration.max.into(),
        }
    };
    let color = Palette::for_visuals(ui.visuals()).running();
    let mut clicked = None;
    table.show(ui, "kinds", &COLUMNS, a.kinds.len(), key, |cells, r| {
        let k = &a.kinds[r];
        if cells.link(false, &k.name, "show the slowest one") {
            clicked = Some(k.slowest);
        }
        cells.text(if k.task { "task" } else { "region" });
        cells.text(k.count.to_string());
        for d in [
            k.duration.total,
            k.duration.p50,
            k.duration.p90,
            k.duration.p99,
            k.duration.max,
        ] {
            cells.text(dur(d));
        }
        cells.cell(|ui| histogram_ui(ui, &k.histogram, k.min, k.duration.max, color));
    });
    clicked.and_then(|inst| instance_action(model, inst))
}

fn instance_action(model: &TraceModel, inst: Instance) -> Option<Action> {
    let item = match inst {
        Instance::Task(i) => Item::Task(i),
        Instance::Region { g, index } => Item::Region { g, index },
    };
    let (_, a, b) = crate::timeline::item_extent(model, &item)?;
    Some(Action::Show(item, a, b))
}

/// A small bar chart of a duration histogram (log-scale bins from `min` to `max`).
fn histogram_ui(ui: &mut Ui, bins: &[u32; HIST_BINS], min: i64, max: i64, color: egui::Color32) {
    let (rect, resp) = ui.allocate_exact_size(vec2(HIST_BINS as f32 * 6.0, 18.0), Sense::hover());
    let peak = bins.iter().copied().max().unwrap_or(0).max(1) as f32;
    let p = ui.painter_at(rect);
    p.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
    for (i, &n) in bins.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let h = (rect.height() - 2.0) * (0.15 + 0.85 * n as f32 / peak);
        let x = rect.left() + i as f32 * 6.0;
        p.rect_filled(
            egui::Rect::from_min_max(
                egui::pos2(x + 0.5, rect.bottom() - h),
                egui::pos2(x + 5.5, rect.bottom()),
            ),
            0.0,
            color,
        );
    }
    resp.on_hover_text(format!(
        "{} to {} (log scale); bars: how many",
        dur(min),
        dur(max)
    ));
}
