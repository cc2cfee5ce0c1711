//! The details panel of the selected item: the goroutine (start function, creator, time per
//! state), the span (state, reason, duration, stack) and who unblocked it, with links that
//! jump the timeline to the related span.

use egui::{Grid, RichText, ScrollArea, Ui};
use goroscope_trace::event::GoState;
use goroscope_trace::timeline::ProcActivity;

use crate::describe::{self, at};
use crate::model::TraceModel;
use crate::ruler::format_duration;
use crate::timeline::Item;

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

/// Shows the details of `item`; returns an item to jump to when a link was clicked.
pub fn details_ui(
    ui: &mut Ui,
    model: &TraceModel,
    cache: &mut DetailsCache,
    item: &Item,
) -> Option<Item> {
    let mut jump = None;
    ScrollArea::vertical().show(ui, |ui| {
        jump = details_inner(ui, model, cache, item);
    });
    jump
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
            if s.woken {
                ui.separator();
                if s.waker >= 0 {
                    let text = format!("unblocked by G{} at {}", s.waker, at(tl, s.time));
                    let target = model.goroutine_index(s.waker).and_then(|wg| {
                        let lane = &tl.goroutines.get(wg)?.spans;
                        // The waker was running when it unblocked us: its span just before.
                        let i = lane.index_at(s.time)?;
                        let i = match lane.get(i) {
                            Some(w) if w.time == s.time && w.state != GoState::Running && i > 0 => {
                                i - 1
                            }
                            _ => i,
                        };
                        Some(Item::Go { g: wg, span: i })
                    });
                    if ui.link(text).clicked() {
                        jump = target;
                    }
                } else {
                    ui.label("unblocked by the runtime (timer, network poller or scheduler)");
                }
                stack(ui, model, s.waker_stack, "unblocked at");
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
