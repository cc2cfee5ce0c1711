//! The details panel of the selected item: the goroutine (start function, creator, time per
//! state), the span (state, reason, duration, stack) and who unblocked it, tasks and
//! regions, with links that jump the timeline to the related span; and the critical path of
//! the selection (computed on request, drawn over the lanes, listed here).

use egui::{Color32, Grid, RichText, ScrollArea, Ui};
use goroscope_analysis::critical::{Category, Target};
use goroscope_trace::event::{GoId, GoState};
use goroscope_trace::timeline::ProcActivity;

use crate::describe::{self, at};
use crate::model::TraceModel;
use crate::palette::Palette;
use crate::path::category_color;
use crate::ruler::format_duration;
use crate::timeline::{Item, TimelineState};

/// Cached per-goroutine figures (computing them decodes every span of the goroutine).
#[derive(Debug, Default, Clone)]
pub struct DetailsCache {
    /// Goroutine index and its time per state (indexed by `GoState as usize`).
    totals: Option<(usize, [i64; 6])>,
}

impl DetailsCache {
    fn totals(&mut self, model: &TraceModel, g: usize) -> [i64; 6] {
        if let Some((cg, t)) = self.totals
            && cg == g
        {
            return t;
        }
        let tl = model.timelines();
        let mut t = [0i64; 6];
        if let Some(go) = tl.goroutines.get(g) {
            let mut it = go.spans.iter().peekable();
            while let Some(s) = it.next() {
                let e = it.peek().map_or(tl.end, |n| n.time);
                t[s.state as usize] += e - s.time;
            }
        }
        self.totals = Some((g, t));
        t
    }
}

/// Shows the details of the selected item and the critical path, if one is shown; returns
/// an item to jump to when a link was clicked.
pub fn details_ui(
    ui: &mut Ui,
    model: &TraceModel,
    cache: &mut DetailsCache,
    state: &mut TimelineState,
) -> Option<Item> {
    let mut jump = None;
    ScrollArea::vertical().show(ui, |ui| {
        if let Some(item) = state.selected {
            if let Some((target, title)) = path_target(model, state, &item) {
                let r = ui
                    .button("Critical path")
                    .on_hover_text(format!("The critical path of {title}; Esc clears it"));
                if r.clicked() {
                    state.find_path(model, Some(ui.ctx().clone()), target, title);
                }
            }
            jump = details_inner(ui, model, cache, &item);
        }
        if let Some((_, what)) = &state.path_job {
            ui.separator();
            let what = what.clone();
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Finding the critical path…");
                if ui.button("Stop").clicked() {
                    state.path_job = None;
                }
            });
            ui.weak(what);
        } else if state.path.is_some() {
            ui.separator();
            jump = path_section(ui, model, state).or(jump);
        }
    });
    jump
}

/// What the critical-path button of `item` finds the path of: a goroutine span (over the
/// selected range if the span lies in one), a goroutine's life, a task or a region.
fn path_target(model: &TraceModel, state: &TimelineState, item: &Item) -> Option<(Target, String)> {
    let tl = model.timelines();
    let go_target = |g: usize, a: i64, b: i64| {
        let go = tl.goroutines.get(g)?;
        let (a, b) = match state.range {
            Some((ra, rb)) if ra < b && a < rb => (
                ra.max(go.created.unwrap_or(tl.start)),
                rb.min(go.ended.unwrap_or(tl.end)),
            ),
            _ => (a, b),
        };
        (a < b).then(|| {
            (
                Target::Goroutine {
                    g: go.id,
                    start: a,
                    end: b,
                },
                format!("G{} from {} to {}", go.id, at(tl, a), at(tl, b)),
            )
        })
    };
    match *item {
        Item::Go { g, span } => {
            let lane = &tl.goroutines.get(g)?.spans;
            let a = lane.get(span)?.time;
            go_target(g, a, model.span_end(lane, span))
        }
        Item::Goroutine(g) => {
            let go = tl.goroutines.get(g)?;
            go_target(
                g,
                go.created.unwrap_or(tl.start),
                go.ended.unwrap_or(tl.end),
            )
        }
        Item::Task(i) => {
            let t = tl.tasks.get(i)?;
            t.interval.end?;
            Some((
                Target::Task(u32::try_from(i).ok()?),
                format!("task {}", tl.strings.lossy(t.kind)),
            ))
        }
        Item::Region { g, index } => {
            let go = tl.goroutines.get(g)?;
            let r = go.regions.get(index)?;
            Some((
                Target::Region {
                    g: go.id,
                    index: u32::try_from(index).ok()?,
                },
                format!("region {} on G{}", tl.strings.lossy(r.kind), go.id),
            ))
        }
        _ => None,
    }
}

/// How many segments the critical-path list shows.
const MAX_SEGMENTS: usize = 300;

fn path_section(ui: &mut Ui, model: &TraceModel, state: &mut TimelineState) -> Option<Item> {
    let tl = model.timelines();
    let pal = Palette::for_visuals(ui.visuals());
    let mut jump = None;
    let mut clear = false;
    let path = state.path.as_ref()?;
    ui.horizontal(|ui| {
        ui.heading("Critical path");
        if ui.button("Clear").on_hover_text("Esc").clicked() {
            clear = true;
        }
    });
    ui.label(&path.title);
    let p = &path.path;
    ui.label(format!(
        "{} segments on {} goroutines, {} hops",
        p.segments.len(),
        path.goroutines().count(),
        path.hops.len()
    ));
    let total = (p.end - p.start).max(1) as f64;
    Grid::new("path_totals").num_columns(3).show(ui, |ui| {
        for c in Category::ALL {
            let d = p.totals.get(c);
            if d == 0 {
                continue;
            }
            swatch(ui, category_color(&pal, c));
            ui.label(c.name());
            ui.label(format!(
                "{} ({:.1}%)",
                format_duration(d as f64),
                d as f64 / total * 100.0
            ));
            ui.end_row();
        }
    });
    ui.label(RichText::new("segments").strong());
    for (i, s) in p.segments.iter().enumerate().take(MAX_SEGMENTS) {
        ui.horizontal(|ui| {
            swatch(ui, category_color(&pal, s.category));
            let text = format!(
                "G{} {} {} at {}",
                s.g,
                s.category.name(),
                format_duration(s.duration() as f64),
                at(tl, s.start)
            );
            if ui.link(text).clicked() {
                jump = path.segment_item(tl, i);
            }
        });
    }
    if p.segments.len() > MAX_SEGMENTS {
        ui.weak(format!("… and {} more", p.segments.len() - MAX_SEGMENTS));
    }
    if clear {
        state.path = None;
    }
    jump
}

fn swatch(ui: &mut Ui, color: Color32) {
    let (r, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().rect_filled(r, 2.0, color);
}

/// The span of goroutine `waker` (ID) that unblocked someone at `t`: it was running then,
/// so the span just before a state change at `t`.
fn waker_item(model: &TraceModel, waker: GoId, t: i64) -> Option<Item> {
    let tl = model.timelines();
    let wg = model.goroutine_index(waker)?;
    let lane = &tl.goroutines.get(wg)?.spans;
    let i = lane.index_at(t)?;
    let i = match lane.get(i) {
        Some(w) if w.time == t && w.state != GoState::Running && i > 0 => i - 1,
        _ => i,
    };
    Some(Item::Go { g: wg, span: i })
}

fn details_inner(
    ui: &mut Ui,
    model: &TraceModel,
    cache: &mut DetailsCache,
    item: &Item,
) -> Option<Item> {
    let tl = model.timelines();
    let mut jump = None;
    match *item {
        Item::Go { g, span } => {
            let go = tl.goroutines.get(g)?;
            let s = go.spans.get(span)?;
            let e = model.span_end(&go.spans, span);
            ui.heading(describe::state_text(tl, &s));
            Grid::new("span").num_columns(2).show(ui, |ui| {
                ui.label("duration");
                ui.label(format_duration((e - s.time) as f64));
                ui.end_row();
                ui.label("from");
                ui.label(format!("{} to {}", at(tl, s.time), at(tl, e)));
                ui.end_row();
                if s.p >= 0 {
                    ui.label("on");
                    let m = describe::thread_text(tl, s.m).unwrap_or_default();
                    ui.label(format!("P{} {m}", s.p));
                    ui.end_row();
                }
            });
            // A wait ends when the next span begins; that span says who woke it. A span that
            // was woken says the same about itself.
            let woken = if s.woken {
                Some(s)
            } else if s.state == GoState::Waiting {
                go.spans.get(span + 1).filter(|n| n.woken)
            } else {
                None
            };
            if let Some(w) = woken {
                ui.separator();
                if w.waker >= 0 {
                    let text = format!("unblocked by G{} at {}", w.waker, at(tl, w.time));
                    if ui.link(text).clicked() {
                        jump = waker_item(model, w.waker, w.time);
                    }
                } else {
                    ui.label("unblocked by the runtime (timer, network poller or scheduler)");
                }
                stack(ui, model, w.waker_stack, "unblocked at");
            } else if s.state == GoState::Waiting && span + 1 >= go.spans.len() {
                ui.separator();
                ui.label("still waiting when the trace ended");
            }
            stack(ui, model, s.stack, "stack");
            ui.separator();
            jump = jump.or(goroutine_section(ui, model, cache, g));
        }
        Item::Goroutine(g) => {
            jump = goroutine_section(ui, model, cache, g);
        }
        Item::Proc { p, span } => {
            let proc = tl.procs.get(p)?;
            let s = proc.spans.get(span)?;
            let e = model.span_end(&proc.spans, span);
            ui.heading(format!(
                "P{}: {}",
                proc.id,
                describe::proc_activity_text(model, &s)
            ));
            ui.label(format!(
                "{} from {}",
                format_duration((e - s.time) as f64),
                at(tl, s.time)
            ));
            if let Some(m) = describe::thread_text(tl, s.m) {
                ui.label(format!("held by {m}"));
            }
            if s.g >= 0
                && matches!(s.activity, ProcActivity::Running | ProcActivity::Syscall)
                && let Some(g) = model.goroutine_index(s.g)
            {
                ui.separator();
                let lane = &tl.goroutines.get(g)?.spans;
                if let Some(i) = lane.index_at(s.time)
                    && ui.link(format!("show G{}'s span", s.g)).clicked()
                {
                    jump = Some(Item::Go { g, span: i });
                }
                jump = jump.or(goroutine_section(ui, model, cache, g));
            }
        }
        Item::Thread { m, span } => {
            let th = tl.threads.get(m)?;
            let s = th.spans.get(span)?;
            let e = model.span_end(&th.spans, span);
            ui.heading(format!(
                "M{}: {}",
                th.id,
                describe::thread_activity_text(&s)
            ));
            ui.label(format!(
                "{} from {}",
                format_duration((e - s.time) as f64),
                at(tl, s.time)
            ));
        }
        Item::Gc(i) => {
            let (a, b) = tl.gc.get(i)?.clamped(tl.start, tl.end);
            ui.heading("GC mark phase");
            ui.label(format!(
                "{} from {}",
                format_duration((b - a) as f64),
                at(tl, a)
            ));
        }
        Item::Stw(i) => {
            let s = tl.stw.get(i)?;
            let (a, b) = s.interval.clamped(tl.start, tl.end);
            ui.heading(format!("Stop the world: {}", tl.strings.lossy(s.kind)));
            ui.label(format!(
                "{} from {}",
                format_duration((b - a) as f64),
                at(tl, a)
            ));
            if let Some(g) = model.goroutine_index(s.g)
                && ui.link(format!("stopped by G{}", s.g)).clicked()
            {
                jump = Some(Item::Goroutine(g));
            }
            stack(ui, model, s.stack, "stack");
        }
        Item::Merged { count, .. } => {
            ui.label(format!("{count} spans"));
        }
        Item::Task(i) => {
            let task = tl.tasks.get(i)?;
            let (a, b) = crate::model::task_interval(tl, task);
            ui.heading(format!("Task {}", tl.strings.lossy(task.kind)));
            Grid::new("task").num_columns(2).show(ui, |ui| {
                ui.label("duration");
                ui.label(if task.interval.end.is_some() {
                    format_duration((b - a) as f64)
                } else {
                    format!("{} (did not end)", format_duration((b - a) as f64))
                });
                ui.end_row();
                ui.label("from");
                ui.label(format!("{} to {}", at(tl, a), at(tl, b)));
                ui.end_row();
                ui.label("ID");
                ui.label(task.id.to_string());
                ui.end_row();
                for (what, g) in [("begun by", task.start_g), ("ended by", task.end_g)] {
                    if let Some(gi) = model.goroutine_index(g) {
                        ui.label(what);
                        if ui.link(format!("G{g}")).clicked() {
                            jump = Some(Item::Goroutine(gi));
                        }
                        ui.end_row();
                    }
                }
            });
            if let Some(parent) = task.parent
                && let Some(pi) = tl.tasks.iter().position(|t| t.id == parent)
                && ui.link(format!("parent task {parent}")).clicked()
            {
                jump = Some(Item::Task(pi));
            }
            stack(ui, model, task.start_stack, "begun at");
        }
        Item::Region { g, index } => {
            let go = tl.goroutines.get(g)?;
            let r = go.regions.get(index)?;
            let (a, b) = r.interval.clamped(tl.start, tl.end);
            ui.heading(format!("Region {}", tl.strings.lossy(r.kind)));
            Grid::new("region").num_columns(2).show(ui, |ui| {
                ui.label("duration");
                ui.label(format_duration((b - a) as f64));
                ui.end_row();
                ui.label("from");
                ui.label(format!("{} to {}", at(tl, a), at(tl, b)));
                ui.end_row();
                ui.label("depth");
                ui.label(r.depth.to_string());
                ui.end_row();
            });
            if r.task != 0
                && let Some(ti) = tl.tasks.iter().position(|t| t.id == r.task)
                && ui.link(format!("in task {}", r.task)).clicked()
            {
                jump = Some(Item::Task(ti));
            }
            stack(ui, model, r.stack, "begun at");
            ui.separator();
            jump = jump.or(goroutine_section(ui, model, cache, g));
        }
    }
    jump
}

fn stack(ui: &mut Ui, model: &TraceModel, id: goroscope_trace::timeline::StackId, title: &str) {
    let lines = describe::stack_lines(model.timelines(), id, 32);
    if lines.is_empty() {
        return;
    }
    ui.label(RichText::new(title).strong());
    for l in lines {
        ui.monospace(l);
    }
}

fn goroutine_section(
    ui: &mut Ui,
    model: &TraceModel,
    cache: &mut DetailsCache,
    g: usize,
) -> Option<Item> {
    let tl = model.timelines();
    let go = tl.goroutines.get(g)?;
    let mut jump = None;
    ui.heading(format!("Goroutine G{}", go.id));
    let name = tl.strings.lossy(go.name);
    Grid::new("goroutine").num_columns(2).show(ui, |ui| {
        ui.label("start function");
        ui.label(if name.is_empty() {
            "(unknown)".into()
        } else {
            name
        });
        ui.end_row();
        if let Some(gi) = model.group_of(g).and_then(|i| model.groups.get(i)) {
            ui.label("group");
            ui.label(format!("{} goroutines", gi.goroutines.len()));
            ui.end_row();
        }
        ui.label("created");
        match go.created {
            Some(t) => ui.label(at(tl, t)),
            None => ui.label("before the trace"),
        };
        ui.end_row();
        if go.creator >= 0 {
            ui.label("created by");
            let site = describe::leaf_function(tl, go.creation_stack).unwrap_or_default();
            if ui.link(format!("G{} {site}", go.creator)).clicked() {
                jump = model.goroutine_index(go.creator).and_then(|cg| {
                    let lane = &tl.goroutines.get(cg)?.spans;
                    let t = go.created.unwrap_or(tl.start);
                    Some(Item::Go {
                        g: cg,
                        span: lane.index_at(t).unwrap_or(0),
                    })
                });
            }
            ui.end_row();
        }
        if let Some(t) = go.ended {
            ui.label("ended");
            ui.label(at(tl, t));
            ui.end_row();
        }
        if go.gc_worker {
            ui.label("kind");
            ui.label("GC worker");
            ui.end_row();
        }
    });
    let totals = cache.totals(model, g);
    ui.label(RichText::new("time per state").strong());
    Grid::new("states").num_columns(2).show(ui, |ui| {
        for st in [
            GoState::Running,
            GoState::Runnable,
            GoState::Waiting,
            GoState::Syscall,
            GoState::Undetermined,
        ] {
            let d = totals[st as usize];
            if d > 0 {
                ui.label(st.name());
                ui.label(format_duration(d as f64));
                ui.end_row();
            }
        }
    });
    stack(ui, model, go.creation_stack, "created at");
    jump
}
