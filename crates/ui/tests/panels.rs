//! The analysis dock, range selection, task and region lanes, and critical paths, driven
//! headless through egui_kittest: rows and links are found by their labels and clicked; the
//! view and selection they lead to are checked against the analyses and the timelines.

use egui::{Event, Key, Modifiers, Pos2, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use goroscope_analysis::blocking;
use goroscope_trace::Trace;
use goroscope_trace::event::GoState;
use goroscope_ui::panels::Tab;
use goroscope_ui::timeline::{Header, Item};
use goroscope_ui::{TraceModel, TraceViewer};
use std::collections::HashMap;

const SIZE: Vec2 = Vec2::new(1280.0, 860.0);

fn viewer(name: &str) -> TraceViewer {
    let path = goroscope_testkit::fixtures_dir().join("traces").join(name);
    let trace = Trace::open(&path).expect("fixture loads");
    TraceViewer::new(TraceModel::new(trace))
}

fn harness(mut v: TraceViewer) -> Harness<'static, TraceViewer> {
    // Tests wait for the background analyses instead of polling for them.
    assert!(v.panels.wait_for_analyses().is_some(), "analyses finished");
    let mut h = Harness::builder()
        .with_size(SIZE)
        .with_theme(egui::Theme::Dark)
        .build_ui_state(|ui, v: &mut TraceViewer| v.ui(ui), v);
    h.run();
    h
}

fn sched() -> Harness<'static, TraceViewer> {
    harness(viewer("sched-go1.27.3.trace"))
}

fn open_tab(h: &mut Harness<'static, TraceViewer>, tab: Tab) {
    if !h.state().panels.open {
        h.get_by_label("Analysis").click();
        h.run();
    }
    h.get_by_label(tab.title()).click();
    h.run();
    assert_eq!(h.state().panels.tab, tab);
}

/// The absolute time window of the view.
fn view_abs(h: &Harness<'static, TraceViewer>) -> (f64, f64) {
    let t0 = h.state().model.timelines().start as f64;
    let v = h.state().timeline.view;
    (t0 + v.start, t0 + v.end)
}

#[test]
fn blocking_rows_match_the_analysis_and_jump_to_their_longest_wait() {
    let mut h = sched();
    open_tab(&mut h, Tab::Blocking);
    let tl = h.state().model.timelines().clone();
    let reference = blocking::analyze(&tl);
    let (label, count, total, max, first) = {
        let a = h.state_mut().panels.analyses().expect("analyses");
        let s = &a.sites[0];
        let w = &s.instances[0];
        (
            s.label.clone(),
            s.count,
            s.duration.total,
            s.duration.max,
            (w.g, w.start),
        )
    };
    // The panel's top site (longest total) is the analysis's top site.
    let top = &reference.by_site[0];
    assert_eq!(count, top.stats.count);
    assert_eq!(total, top.stats.duration.total);
    assert_eq!(max, top.stats.duration.max);
    h.get_by_label(&label).click();
    h.run();
    let Some(Item::Go { g, span }) = h.state().timeline.selected else {
        panic!("a wait is selected: {:?}", h.state().timeline.selected);
    };
    let go = &tl.goroutines[g];
    let s = go.spans.get(span).expect("span");
    assert_eq!(s.state, GoState::Waiting);
    assert_eq!((go.id, s.time), first);
    let end = go.spans.get(span + 1).map_or(tl.end, |n| n.time);
    assert_eq!(end - s.time, max, "the longest wait of the site");
    let (va, vb) = view_abs(&h);
    assert!(
        va <= s.time as f64 && end as f64 <= vb,
        "the wait is in view"
    );
    // Next steps to the second longest.
    h.get_by_label("Next ›").click();
    h.run();
    let Some(Item::Go { g: g2, span: s2 }) = h.state().timeline.selected else {
        panic!("a wait is selected");
    };
    assert_ne!((g2, s2), (g, span));
    let go2 = &tl.goroutines[g2];
    let w2 = go2.spans.get(s2).expect("span");
    let e2 = go2.spans.get(s2 + 1).map_or(tl.end, |n| n.time);
    assert_eq!(w2.state, GoState::Waiting);
    assert!(e2 - w2.time <= max);
    h.get_by_label_contains("wait 2 of");
}

/// The labels of the blocking table's rows on screen, top to bottom.
fn rows_on_screen(h: &Harness<'static, TraceViewer>, labels: &[String]) -> Vec<String> {
    let mut ys: Vec<(f32, String)> = labels
        .iter()
        .filter_map(|l| Some((h.query_by_label(l)?.rect().top(), l.clone())))
        .collect();
    ys.sort_by(|a, b| a.0.total_cmp(&b.0));
    ys.into_iter().map(|x| x.1).collect()
}

#[test]
fn clicking_a_column_header_sorts_the_rows() {
    let mut h = sched();
    open_tab(&mut h, Tab::Blocking);
    let sites: Vec<(String, u64)> = {
        let a = h.state_mut().panels.analyses().expect("analyses");
        a.sites.iter().map(|s| (s.label.clone(), s.count)).collect()
    };
    assert!(sites.len() >= 6, "the convoy trace blocks at many sites");
    let labels: Vec<String> = sites.iter().map(|s| s.0.clone()).collect();
    // The data's order by count, largest first; ties keep the default (total) order.
    let mut by_count: Vec<usize> = (0..sites.len()).collect();
    by_count.sort_by(|&a, &b| sites[b].1.cmp(&sites[a].1).then(a.cmp(&b)));
    let expect = |order: &[usize], n: usize| -> Vec<String> {
        order.iter().take(n).map(|&i| sites[i].0.clone()).collect()
    };
    let before = rows_on_screen(&h, &labels);
    assert!(before.len() >= 4, "rows on screen: {before:?}");
    assert_eq!(
        before,
        expect(&(0..sites.len()).collect::<Vec<_>>(), before.len())
    );
    h.get_by_label("count").click();
    h.run();
    assert_eq!(h.state().panels.blocking_sort().column, 2);
    let shown = rows_on_screen(&h, &labels);
    assert_eq!(shown, expect(&by_count, shown.len()));
    assert_ne!(before, shown, "sorting by count moved rows");
    // Again: smallest first.
    h.get_by_label("count").click();
    h.run();
    let mut asc: Vec<usize> = (0..sites.len()).collect();
    asc.sort_by(|&a, &b| sites[a].1.cmp(&sites[b].1).then(a.cmp(&b)));
    let shown = rows_on_screen(&h, &labels);
    assert_eq!(shown, expect(&asc, shown.len()));
}

#[test]
fn a_finding_row_zooms_to_its_window() {
    let mut h = sched();
    open_tab(&mut h, Tab::Findings);
    let (title, target) = {
        let a = h.state_mut().panels.analyses().expect("analyses");
        let f = a
            .findings
            .first()
            .expect("the sched fixture has findings (leaks, convoy)");
        (f.title.clone(), f.target)
    };
    h.get_by_label(&title).click();
    h.run();
    let (va, vb) = view_abs(&h);
    let (a, b) = (target.start as f64, target.end as f64);
    assert!(
        va <= a + 1.0 && b <= vb + 1.0,
        "view {va}..{vb} shows {a}..{b}"
    );
    // The window fills most of the view.
    assert!((b - a) >= (vb - va) * 0.5, "view {va}..{vb} for {a}..{b}");
    if let Some(g) = target.goroutine {
        let sel = h.state().timeline.selected;
        let gi = h.state().model.goroutine_index(g);
        assert_eq!(sel, gi.map(Item::Goroutine));
    }
}

#[test]
fn a_group_row_reveals_the_group() {
    let mut h = sched();
    let gi = h
        .state()
        .model
        .groups
        .iter()
        .position(|g| g.label == "main.cpuHog")
        .expect("group");
    assert!(
        h.state()
            .timeline
            .is_collapsed(&h.state().model, Header::Group(gi)),
        "200 goroutines start collapsed"
    );
    open_tab(&mut h, Tab::Groups);
    // The groups table lists the group's totals; its row reveals it.
    h.get_all_by_label("main.cpuHog")
        .next()
        .expect("the cpuHog row")
        .click();
    h.run();
    h.run();
    let model = &h.state().model;
    assert!(!h.state().timeline.is_collapsed(model, Header::Group(gi)));
    // The group's first goroutine lane is on screen.
    let first = model.groups[gi].goroutines[0] as usize;
    let id = model.timelines().goroutines[first].id;
    h.get_by_label(&format!("G{id} main.cpuHog"));
    // Its running total is the group's running time, as the timeline counts it.
    let running = model.groups[gi].running_ns;
    let a = h.state_mut().panels.analyses().expect("analyses");
    let row = a.groups.iter().find(|r| r.group == gi).expect("row");
    assert_eq!(row.count, 200);
    assert_eq!(row.exec.total, running);
}

#[test]
fn task_and_region_rows_know_their_shortest_instance() {
    for name in ["mixed-go1.27.3.trace", "annotations-go1.27.3.trace"] {
        let mut h = harness(viewer(name));
        open_tab(&mut h, Tab::Tasks);
        let tl = h.state().model.timelines();
        // Every ended task's and region's duration, by (task?, type name).
        let mut want: HashMap<(bool, String), Vec<i64>> = HashMap::new();
        for t in &tl.tasks {
            if let (Some(a), Some(b)) = (t.interval.start, t.interval.end) {
                let key = (true, tl.strings.lossy(t.kind).into_owned());
                want.entry(key).or_default().push(b - a);
            }
        }
        for g in &tl.goroutines {
            for r in &g.regions {
                if let (Some(a), Some(b)) = (r.interval.start, r.interval.end) {
                    let key = (false, tl.strings.lossy(r.kind).into_owned());
                    want.entry(key).or_default().push(b - a);
                }
            }
        }
        let a = h.state_mut().panels.analyses().expect("analyses");
        assert_eq!(a.kinds.len(), want.len(), "{name}");
        for k in &a.kinds {
            let d = &want[&(k.task, k.name.clone())];
            assert_eq!(k.count, d.len(), "{name}: {}", k.name);
            assert_eq!(k.min, *d.iter().min().unwrap(), "{name}: {}", k.name);
            assert_eq!(
                k.duration.max,
                *d.iter().max().unwrap(),
                "{name}: {}",
                k.name
            );
        }
    }
}

#[test]
fn task_and_region_lanes_and_the_slowest_instance() {
    let mut h = harness(viewer("annotations-go1.27.3.trace"));
    h.get_by_label("Tasks & regions");
    h.get_by_label("Tasks 1");
    assert!(h.query_all_by_label_contains(" regions").count() > 0);
    open_tab(&mut h, Tab::Tasks);
    let (name, max, task) = {
        let a = h.state_mut().panels.analyses().expect("analyses");
        let k = a.kinds.first().expect("task types");
        (k.name.clone(), k.duration.max, k.task)
    };
    h.get_all_by_label(&name)
        .next()
        .expect("the type's row")
        .click();
    h.run();
    let sel = h.state().timeline.selected.expect("selected");
    let tl = h.state().model.timelines();
    let (kind, d) = match sel {
        Item::Task(i) => {
            assert!(task);
            let t = &tl.tasks[i];
            (t.kind, t.interval.end.unwrap() - t.interval.start.unwrap())
        }
        Item::Region { g, index } => {
            assert!(!task);
            let r = &tl.goroutines[g].regions[index];
            (r.kind, r.interval.end.unwrap() - r.interval.start.unwrap())
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(tl.strings.lossy(kind), name);
    assert_eq!(d, max, "the slowest instance");
    h.get_by_label_contains(if task { "Task " } else { "Region " });
}

#[test]
fn task_bars_are_clickable() {
    let mut h = harness(viewer("annotations-go1.27.3.trace"));
    let bar = h
        .get_all_by_label_contains("task ")
        .next()
        .expect("a wide task bar");
    bar.click();
    h.run();
    let Some(Item::Task(i)) = h.state().timeline.selected else {
        panic!("{:?}", h.state().timeline.selected);
    };
    let task = h.state().model.timelines().tasks[i].clone();
    let kind = h
        .state()
        .model
        .timelines()
        .strings
        .lossy(task.kind)
        .into_owned();
    assert!(
        h.query_all_by_label(&format!("Task {kind}"))
            .next()
            .is_some()
    );
    // A task that ended has a critical path from its start to its end.
    if let (Some(a), Some(b)) = (task.interval.start, task.interval.end) {
        critical_path(&mut h);
        let path = h.state().timeline.path.as_ref().expect("a path");
        assert_eq!((path.path.start, path.path.end), (a, b));
        assert_eq!(path.path.totals.total(), b - a);
    }
}

/// Clicks "Critical path" and waits for the path, computed on its own thread, to show. The
/// details panel says it is being computed meanwhile.
fn critical_path(h: &mut Harness<'static, TraceViewer>) {
    h.get_by_label("Critical path").click();
    h.run();
    if h.state().timeline.path_job.is_some() {
        h.get_by_label_contains("Finding the critical path");
    }
    let v = h.state_mut();
    v.timeline.wait_path(&v.model);
    h.run();
    assert!(h.state().timeline.path_job.is_none());
}

/// Drags from `a` to `b` (with `modifiers` held).
fn drag(h: &mut Harness<'static, TraceViewer>, a: Pos2, b: Pos2, modifiers: Modifiers) {
    h.event(Event::ModifiersChanged(modifiers));
    h.hover_at(a);
    h.run();
    h.drag_at(a);
    h.run();
    for i in 1..=4 {
        h.hover_at(a + (b - a) * (i as f32 / 4.0));
        h.run();
    }
    h.drop_at(b);
    h.event(Event::ModifiersChanged(Modifiers::NONE));
    h.run();
}

/// Goroutine-time in `state` within `[from, to)`, summed over goroutines.
fn clipped(tl: &goroscope_trace::timeline::Timelines, state: GoState, from: i64, to: i64) -> i64 {
    let mut total = 0;
    for g in &tl.goroutines {
        let spans: Vec<_> = g.spans.iter().collect();
        for (i, s) in spans.iter().enumerate() {
            let e = spans.get(i + 1).map_or(tl.end, |n| n.time);
            if s.state == state {
                total += (e.min(to) - s.time.max(from)).max(0);
            }
        }
    }
    total
}

#[test]
fn dragging_in_the_ruler_selects_a_range_with_its_statistics() {
    let mut h = sched();
    let ruler = h.get_by_label("Time ruler").rect();
    let (a, b) = (
        Pos2::new(ruler.left() + ruler.width() * 0.3, ruler.center().y),
        Pos2::new(ruler.left() + ruler.width() * 0.6, ruler.center().y),
    );
    let view_before = h.state().timeline.view;
    drag(&mut h, a, b, Modifiers::NONE);
    assert_eq!(
        h.state().timeline.view,
        view_before,
        "a ruler drag does not pan"
    );
    let (from, to) = h.state().timeline.range.expect("a range");
    let tl = h.state().model.timelines().clone();
    let len = (to - from) as f64;
    let expect = view_before.span() * 0.3;
    assert!((len - expect).abs() < expect * 0.02, "{len} vs {expect}");
    assert!(h.state().panels.open);
    assert_eq!(h.state().panels.tab, Tab::Range);
    let stats = h
        .state_mut()
        .panels
        .wait_for_range()
        .expect("range statistics")
        .clone();
    h.run();
    assert_eq!((stats.from, stats.to), (from, to));
    assert_eq!(stats.running, clipped(&tl, GoState::Running, from, to));
    assert_eq!(stats.runnable, clipped(&tl, GoState::Runnable, from, to));
    assert_eq!(
        stats.waiting_total(),
        clipped(&tl, GoState::Waiting, from, to)
    );
    assert!(stats.latency_count > 0);
    assert!(stats.procs.utilization() > 0.0 && stats.procs.utilization() <= 1.0);
    h.get_by_label_contains("Range +");
    h.get_by_label("Time per state");
    h.get_by_label("Top blocking sites");
    h.get_by_label_contains("goroutines started running");
    h.get_by_label_contains("% busy");
    // Zoom to the selection.
    h.get_by_label("Zoom to range").click();
    h.run();
    let (va, vb) = view_abs(&h);
    assert!((va - from as f64).abs() < 1.0 && (vb - to as f64).abs() < 1.0);
    // Esc clears it.
    h.key_press(Key::Escape);
    h.run();
    assert_eq!(h.state().timeline.range, None);
}

#[test]
fn shift_dragging_in_the_lanes_selects_a_range_and_plain_dragging_pans() {
    let mut h = sched();
    let lanes = h.get_by_label("Timeline lanes").rect();
    let a = lanes.center() - Vec2::new(200.0, 0.0);
    let b = lanes.center() + Vec2::new(100.0, 0.0);
    let before = h.state().timeline.view;
    drag(&mut h, a, b, Modifiers::SHIFT);
    assert_eq!(h.state().timeline.view, before, "no pan while selecting");
    let (from, to) = h.state().timeline.range.expect("a range");
    let expect = before.span() * 300.0 / f64::from(lanes.width());
    let len = (to - from) as f64;
    assert!((len - expect).abs() < expect * 0.02, "{len} vs {expect}");
}

/// A wait span of a convoy worker released by another goroutine.
fn released_wait(v: &TraceViewer) -> (usize, usize, i64) {
    let tl = v.model.timelines();
    tl.goroutines
        .iter()
        .enumerate()
        .filter(|(_, g)| tl.strings.lossy(g.name) == "main.convoyWorker")
        .find_map(|(gi, go)| {
            let spans: Vec<_> = go.spans.iter().collect();
            spans.windows(2).enumerate().find_map(|(i, w)| {
                (w[0].state == GoState::Waiting && w[1].woken && w[1].waker >= 0)
                    .then_some((gi, i, w[1].waker))
            })
        })
        .expect("a released wait")
}

#[test]
fn a_wait_links_to_the_goroutine_that_released_it() {
    let mut v = viewer("sched-go1.27.3.trace");
    let (g, span, waker) = released_wait(&v);
    let model = &v.model;
    v.timeline.jump_to(model, Item::Go { g, span });
    let mut h = harness(v);
    h.get_by_label_contains(&format!("unblocked by G{waker} at"))
        .click();
    h.run();
    let Some(Item::Go { g: wg, span: ws }) = h.state().timeline.selected else {
        panic!("{:?}", h.state().timeline.selected);
    };
    let tl = h.state().model.timelines();
    assert_eq!(tl.goroutines[wg].id, waker);
    // The releaser was running when the wait ended.
    let end = tl.goroutines[g].spans.get(span + 1).unwrap().time;
    let r = tl.goroutines[wg].spans.get(ws).unwrap();
    assert_eq!(r.state, GoState::Running);
    assert!(r.time <= end);
    assert!(h.state().model.span_end(&tl.goroutines[wg].spans, ws) >= end);
}

#[test]
fn the_critical_path_of_a_wait_runs_through_its_releaser() {
    let mut v = viewer("sched-go1.27.3.trace");
    let (g, span, waker) = released_wait(&v);
    let model = &v.model;
    v.timeline.jump_to(model, Item::Go { g, span });
    let mut h = harness(v);
    critical_path(&mut h);
    let path = h.state().timeline.path.clone().expect("a path");
    let tl = h.state().model.timelines();
    let lane = &tl.goroutines[g].spans;
    let (a, b) = (
        lane.get(span).unwrap().time,
        h.state().model.span_end(lane, span),
    );
    assert_eq!((path.path.start, path.path.end), (a, b));
    // The segments tile the wait, and the path visits the releaser.
    let segs = &path.path.segments;
    assert_eq!(segs.first().unwrap().start, a);
    assert_eq!(segs.last().unwrap().end, b);
    assert!(segs.windows(2).all(|w| w[0].end == w[1].start));
    assert!(segs.iter().any(|s| s.g == waker), "{segs:?}");
    assert!(!path.hops.is_empty());
    assert_eq!(path.path.totals.total(), b - a);
    h.get_by_label_contains(&format!("{} segments on", segs.len()));
    assert!(
        h.query_all_by_label_contains(&format!("G{waker} "))
            .next()
            .is_some()
    );
    h.key_press(Key::Escape);
    h.run();
    assert!(h.state().timeline.path.is_none());
}

#[test]
fn cpu_samples_are_indexed_by_goroutine_and_p() {
    // A trace recorded with the CPU profiler on: its samples are in the timelines.
    let path = goroscope_testkit::fixtures_dir()
        .join("traces")
        .join("cpuprofile-go1.27.3.trace");
    let trace = Trace::open(&path).expect("fixture");
    let tl = &trace.timelines;
    assert!(tl.cpu_samples.len() > 10);
    // The goroutine with the most samples, and every sample's P.
    let mut per_g: HashMap<i64, usize> = HashMap::new();
    let mut per_p: HashMap<i64, usize> = HashMap::new();
    for s in &tl.cpu_samples {
        *per_g.entry(s.g).or_default() += 1;
        *per_p.entry(s.p).or_default() += 1;
    }
    let (&g, &n) = per_g
        .iter()
        .filter(|(g, _)| **g >= 0)
        .max_by_key(|(g, n)| (**n, -**g))
        .expect("samples on goroutines");
    let gi = tl.goroutine_index(g).expect("the sampled goroutine");
    let model = TraceModel::new(trace);
    use goroscope_ui::model::SamplesOf;
    let gs = model.samples(SamplesOf::Goroutine(gi));
    assert_eq!(gs.len(), n);
    assert!(gs.windows(2).all(|w| w[0].1 <= w[1].1));
    let tl = model.timelines();
    for (pi, p) in tl.procs.iter().enumerate() {
        let want = per_p.get(&p.id).copied().unwrap_or(0);
        assert_eq!(model.samples(SamplesOf::Proc(pi)).len(), want);
    }
    // The ticks are drawn on the goroutine's lane, zoomed in on its first sample.
    let first = gs[0].1;
    let name = tl.strings.lossy(tl.goroutines[gi].name).into_owned();
    let mut v = TraceViewer::new(model);
    v.timeline.jump_to(&v.model, Item::Goroutine(gi));
    let mut h = harness(v);
    let t0 = h.state().model.timelines().start;
    h.state_mut().timeline.view.show_range(
        (first - t0 - 50_000) as f64,
        (first - t0 + 50_000) as f64,
        0.5,
    );
    h.run();
    h.get_by_label(&format!("G{g} {name}"));
}

#[test]
fn snapshot_blocking_panel() {
    let mut h = sched();
    open_tab(&mut h, Tab::Blocking);
    let label = h.state_mut().panels.analyses().expect("a").sites[0]
        .label
        .clone();
    h.get_by_label(&label).click();
    h.run();
    h.remove_cursor();
    h.run();
    h.snapshot("panels_blocking");
}

#[test]
fn snapshot_range_statistics() {
    let mut h = sched();
    let ruler = h.get_by_label("Time ruler").rect();
    let a = Pos2::new(ruler.left() + ruler.width() * 0.35, ruler.center().y);
    let b = Pos2::new(ruler.left() + ruler.width() * 0.55, ruler.center().y);
    drag(&mut h, a, b, Modifiers::NONE);
    h.state_mut().panels.wait_for_range().expect("stats");
    h.run();
    h.snapshot("panels_range");
}

#[test]
fn snapshot_critical_path() {
    let mut v = viewer("sched-go1.27.3.trace");
    let (g, span, _) = released_wait(&v);
    let model = &v.model;
    v.timeline.jump_to(model, Item::Go { g, span });
    let mut h = harness(v);
    critical_path(&mut h);
    h.remove_cursor();
    h.run();
    h.snapshot("critical_path");
}

#[test]
fn a_range_site_jumps_to_its_longest_wait_in_the_range() {
    let mut h = sched();
    let ruler = h.get_by_label("Time ruler").rect();
    let a = Pos2::new(ruler.left() + ruler.width() * 0.2, ruler.center().y);
    let b = Pos2::new(ruler.left() + ruler.width() * 0.5, ruler.center().y);
    drag(&mut h, a, b, Modifiers::NONE);
    let stats = h
        .state_mut()
        .panels
        .wait_for_range()
        .expect("stats")
        .clone();
    h.run();
    let site = stats.sites.first().expect("waits in the range");
    h.get_by_label(&site.label).click();
    h.run();
    let Some(Item::Go { g, span }) = h.state().timeline.selected else {
        panic!("{:?}", h.state().timeline.selected);
    };
    assert_eq!((g, span), site.longest);
    let tl = h.state().model.timelines();
    let s = tl.goroutines[g].spans.get(span).unwrap();
    assert_eq!(s.state, GoState::Waiting);
    // The wait overlaps the range, and its clipped length is the site's longest.
    let e = h.state().model.span_end(&tl.goroutines[g].spans, span);
    assert_eq!(e.min(stats.to) - s.time.max(stats.from), site.max);
}

#[test]
fn snapshot_tasks_and_regions() {
    let mut h = harness(viewer("annotations-go1.27.3.trace"));
    open_tab(&mut h, Tab::Tasks);
    h.remove_cursor();
    h.run();
    h.snapshot("annotations_tasks_and_regions");
}

#[test]
fn created_by_links_to_the_creator_at_the_go_statement() {
    let mut v = viewer("sched-go1.27.3.trace");
    let tl = v.model.timelines();
    let (g, creator, created) = tl
        .goroutines
        .iter()
        .enumerate()
        .find_map(|(i, go)| {
            (go.creator >= 0 && tl.strings.lossy(go.name) == "main.leakyReceiver")
                .then(|| (i, go.creator, go.created.expect("created in the trace")))
        })
        .expect("a goroutine created in the trace");
    // The link names the creator and the function with the go statement.
    let site = goroscope_ui::describe::leaf_function(tl, tl.goroutines[g].creation_stack)
        .expect("a creation stack");
    v.timeline.selected = Some(Item::Goroutine(g));
    let mut h = harness(v);
    h.get_by_label(&format!("G{creator} {site}")).click();
    h.run();
    let Some(Item::Go { g: cg, span }) = h.state().timeline.selected else {
        panic!("{:?}", h.state().timeline.selected);
    };
    let tl = h.state().model.timelines();
    assert_eq!(tl.goroutines[cg].id, creator);
    let s = tl.goroutines[cg].spans.get(span).unwrap();
    assert_eq!(
        s.state,
        GoState::Running,
        "the creator ran the go statement"
    );
    assert!(
        s.time <= created && created <= h.state().model.span_end(&tl.goroutines[cg].spans, span)
    );
}

#[test]
fn a_critical_path_expands_the_groups_it_runs_through() {
    let mut v = viewer("sched-go1.27.3.trace");
    let (g, span, waker) = released_wait(&v);
    let model = &v.model;
    let gi = model.group_of(g).expect("group");
    v.timeline.jump_to(model, Item::Go { g, span });
    // Collapse the waiter's group: the path opens it again.
    v.timeline.toggle(Header::Group(gi));
    assert!(v.timeline.is_collapsed(&v.model, Header::Group(gi)));
    let mut h = harness(v);
    critical_path(&mut h);
    assert!(
        !h.state()
            .timeline
            .is_collapsed(&h.state().model, Header::Group(gi))
    );
    // The releaser's lane is shown (the arrows end on it).
    let wi = h.state().model.goroutine_index(waker).expect("releaser");
    let tl = h.state().model.timelines();
    let label = format!("G{waker} {}", tl.strings.lossy(tl.goroutines[wi].name));
    h.state_mut()
        .timeline
        .reveal(goroscope_ui::timeline::Row::Goroutine(wi));
    h.run();
    h.get_by_label(&label);
}

#[test]
fn with_a_range_selected_the_critical_path_covers_the_range() {
    let mut v = viewer("sched-go1.27.3.trace");
    let (g, span, _) = released_wait(&v);
    let model = &v.model;
    let lane = &model.timelines().goroutines[g].spans;
    let (a, b) = (lane.get(span).unwrap().time, model.span_end(lane, span));
    // A range around the second half of the wait and a little after it.
    let range = ((a + b) / 2, b + (b - a) / 4);
    v.timeline.jump_to(model, Item::Go { g, span });
    v.timeline.range = Some(range);
    let mut h = harness(v);
    critical_path(&mut h);
    let path = h.state().timeline.path.as_ref().expect("a path");
    let go = &h.state().model.timelines().goroutines[g];
    let end = range.1.min(go.ended.unwrap_or(i64::MAX));
    assert_eq!((path.path.start, path.path.end), (range.0, end));
    assert!(path.title.starts_with(&format!("G{} from", go.id)));
}

#[test]
fn region_bars_are_clickable_and_hover_finds_the_innermost() {
    let mut h = harness(viewer("annotations-go1.27.3.trace"));
    let bar = h
        .get_all_by_label_contains("region setup.inner ")
        .next()
        .expect("a nested region bar");
    bar.click();
    h.run();
    let Some(Item::Region { g, index }) = h.state().timeline.selected else {
        panic!("{:?}", h.state().timeline.selected);
    };
    let tl = h.state().model.timelines();
    let r = tl.goroutines[g].regions[index];
    assert_eq!(tl.strings.lossy(r.kind), "setup.inner");
    assert!(r.depth > 0);
    // Hovering the nested bar names it (the innermost region under the pointer). The
    // details panel took some width: find the bar again.
    let rect = h
        .get_all_by_label_contains("region setup.inner ")
        .next()
        .expect("the bar")
        .rect();
    h.hover_at(rect.center());
    h.run();
    assert_eq!(h.state().timeline.hovered, Some(Item::Region { g, index }));
}

#[test]
fn the_dock_keeps_its_height_from_frame_to_frame() {
    // A resizable panel takes its content's height: a short "computing…" or an empty tab
    // must not shrink the dock below its default height for good.
    let mut h = sched();
    open_tab(&mut h, Tab::Groups);
    for tab in [
        Tab::Range,
        Tab::Blocking,
        Tab::Findings,
        Tab::Tasks,
        Tab::Groups,
    ] {
        h.get_by_label(tab.title()).click();
        h.run();
        let top = h.get_by_label("Hide").rect().top();
        assert!(
            top <= SIZE.y - 250.0,
            "{tab:?}: the dock shrank to {}",
            SIZE.y - top
        );
        for _ in 0..20 {
            h.step();
        }
        h.run();
        assert_eq!(h.get_by_label("Hide").rect().top(), top, "{tab:?}");
    }
}
