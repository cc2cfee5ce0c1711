//! The timeline as a user sees it, driven headless through egui_kittest: lanes and spans
//! are found by their accessible names, hovered, clicked, zoomed and panned; key views are
//! compared with PNG snapshots rendered on lavapipe (`UPDATE_SNAPSHOTS=1` to accept new ones).

use egui::{Event, Key, Modifiers, MouseWheelUnit, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use goroscope_trace::Trace;
use goroscope_ui::timeline::Item;
use goroscope_ui::{TraceModel, TraceViewer};

const SIZE: Vec2 = Vec2::new(1280.0, 800.0);

fn viewer(name: &str) -> TraceViewer {
    let path = goroscope_testkit::fixtures_dir().join("traces").join(name);
    let trace = Trace::open(&path).expect("fixture loads");
    TraceViewer::new(TraceModel::new(trace))
}

fn harness(v: TraceViewer, theme: egui::Theme) -> Harness<'static, TraceViewer> {
    let mut h = Harness::builder()
        .with_size(SIZE)
        .with_theme(theme)
        .build_ui_state(|ui, v: &mut TraceViewer| v.ui(ui), v);
    h.run();
    h
}

fn sched() -> Harness<'static, TraceViewer> {
    harness(viewer("sched-go1.27.3.trace"), egui::Theme::Dark)
}

#[test]
fn lanes_are_found_by_label() {
    let h = sched();
    for label in [
        "P0",
        "P1",
        "GC",
        "STW",
        "Heap",
        "GOMAXPROCS",
        "Busy threads",
        "Goroutines by state",
    ] {
        h.get_by_label(label);
    }
    for section in ["Runtime", "Procs", "Threads", "Goroutines"] {
        h.get_by_label(section);
    }
    // Groups by start function, busiest first; small groups are expanded.
    h.get_by_label("main.cpuHog ×200");
    h.get_by_label("main.convoyWorker ×40");
    h.get_by_label("main.leakyLocker ×3");
    h.get_by_label("G31 main.leakyLocker");
    // Thread lanes show which P each thread held.
    assert!(
        !h.get_all_by_label_contains("M")
            .collect::<Vec<_>>()
            .is_empty()
    );
}

#[test]
fn p_lane_spans_are_clickable_and_open_the_details_panel() {
    let mut h = sched();
    // At the whole-trace zoom, P0 shows wide spans of goroutines (labelled by accessible
    // name "P0 G<id> <function> <duration> at <time>").
    let span = h
        .get_all_by_label_contains("P0 G")
        .next()
        .expect("a wide P0 span");
    let label = format!("{:?}", span.rect());
    span.click();
    h.run();
    let selected = h.state().timeline.selected;
    assert!(
        matches!(selected, Some(Item::Proc { .. })),
        "{selected:?} after clicking {label}"
    );
    h.get_by_label("Details");
    assert!(h.query_by_label_contains("Goroutine G").is_some());
    assert!(h.query_by_label("time per state").is_some());
    h.get_by_label("Close").click();
    h.run();
    assert_eq!(h.state().timeline.selected, None);
}

#[test]
fn hovering_a_span_shows_a_tooltip() {
    let mut h = sched();
    let span = h
        .get_all_by_label_contains("P1 G")
        .next()
        .expect("a wide P1 span");
    span.hover();
    h.run();
    h.run();
    let hovered = h.state().timeline.hovered;
    assert!(matches!(hovered, Some(Item::Proc { .. })), "{hovered:?}");
    // The tooltip names the P and the goroutine.
    assert!(h.query_by_label_contains("P1: G").is_some());
}

#[test]
fn wheel_zooms_at_the_cursor_and_shift_wheel_pans() {
    let mut h = sched();
    let before = h.state().timeline.view;
    let p0 = h.get_by_label("Timeline lanes").rect().center();
    h.hover_at(p0);
    h.event(Event::MouseWheel {
        unit: MouseWheelUnit::Point,
        delta: Vec2::new(0.0, 200.0),
        phase: egui::TouchPhase::Move,
        modifiers: Modifiers::NONE,
        source: egui::MouseWheelSource::Wheel,
    });
    for _ in 0..10 {
        h.run();
    }
    let zoomed = h.state().timeline.view;
    assert!(
        zoomed.span() < before.span() / 1.5,
        "{before:?} -> {zoomed:?}"
    );
    // The time under the cursor stayed (about) where it was.
    let mid_before = (before.start + before.end) / 2.0;
    assert!(zoomed.start < mid_before && mid_before < zoomed.end);

    h.event(Event::MouseWheel {
        unit: MouseWheelUnit::Point,
        delta: Vec2::new(0.0, -100.0),
        phase: egui::TouchPhase::Move,
        modifiers: Modifiers::SHIFT,
        source: egui::MouseWheelSource::Wheel,
    });
    for _ in 0..10 {
        h.run();
    }
    let panned = h.state().timeline.view;
    assert!(
        (panned.span() - zoomed.span()).abs() < 1.0,
        "{zoomed:?} -> {panned:?}"
    );
    assert!(panned.start != zoomed.start, "{zoomed:?} -> {panned:?}");
}

#[test]
fn keys_zoom_pan_and_fit() {
    let mut h = sched();
    let full = h.state().timeline.view;
    h.key_press(Key::W);
    h.run();
    h.key_press(Key::W);
    h.run();
    let z = h.state().timeline.view;
    assert!(z.span() < full.span() / 2.0, "{full:?} -> {z:?}");
    h.key_press(Key::D);
    h.run();
    let d = h.state().timeline.view;
    assert!(d.start > z.start, "{z:?} -> {d:?}");
    h.key_press(Key::A);
    h.run();
    assert!(h.state().timeline.view.start < d.start);
    h.key_press(Key::Home);
    h.run();
    assert_eq!(h.state().timeline.view, full);
}

#[test]
fn dragging_pans_the_view() {
    let mut h = sched();
    h.key_press(Key::W);
    h.run();
    h.key_press(Key::W);
    h.run();
    let before = h.state().timeline.view;
    let c = h.get_by_label("Timeline lanes").rect().center();
    h.drag_at(c);
    h.run();
    h.hover_at(c + Vec2::new(200.0, 0.0));
    h.run();
    h.drop_at(c + Vec2::new(200.0, 0.0));
    h.run();
    let after = h.state().timeline.view;
    assert!(after.start < before.start, "{before:?} -> {after:?}");
    assert!((after.span() - before.span()).abs() < 1.0);
}

#[test]
fn groups_collapse_and_expand() {
    let mut h = sched();
    let before = h.query_all_by_label_contains(" main.cpuHog").count();
    h.get_by_label("main.cpuHog ×200").click();
    h.run();
    let after = h.query_all_by_label_contains(" main.cpuHog").count();
    assert!(
        after > before,
        "expanding shows goroutine lanes: {before} -> {after}"
    );
    h.get_by_label("main.cpuHog ×200").click();
    h.run();
    assert_eq!(
        h.query_all_by_label_contains(" main.cpuHog").count(),
        before
    );
}

#[test]
fn unblocked_by_link_jumps_to_the_waker() {
    let mut v = viewer("sched-go1.27.3.trace");
    // Find a span that was unblocked by another goroutine (the lock convoy has many).
    let tl = v.model.timelines();
    let (g, span) = tl
        .goroutines
        .iter()
        .enumerate()
        .find_map(|(gi, go)| {
            go.spans
                .iter()
                .position(|s| s.woken && s.waker >= 0)
                .map(|i| (gi, i))
        })
        .expect("a woken span");
    let waker = tl.goroutines[g].spans.get(span).unwrap().waker;
    let model = &v.model;
    v.timeline.jump_to(model, Item::Go { g, span });
    let mut h = harness(v, egui::Theme::Dark);
    let text = format!("unblocked by G{waker}");
    h.get_by_label_contains(&text).click();
    h.run();
    h.run();
    let sel = h.state().timeline.selected;
    let Some(Item::Go { g: wg, .. }) = sel else {
        panic!("selection after the jump: {sel:?}");
    };
    assert_eq!(h.state().model.timelines().goroutines[wg].id, waker);
    // The waker's lane is now on screen.
    let go = &h.state().model.timelines().goroutines[wg];
    let lane = format!(
        "G{waker} {}",
        h.state().model.timelines().strings.lossy(go.name)
    );
    h.get_by_label(&lane);
}

#[test]
fn snapshot_sched_whole_trace_dark() {
    let mut h = sched();
    h.snapshot("sched_whole_trace_dark");
}

#[test]
fn snapshot_sched_whole_trace_light() {
    let mut h = harness(viewer("sched-go1.27.3.trace"), egui::Theme::Light);
    h.snapshot("sched_whole_trace_light");
}

#[test]
fn snapshot_lock_convoy_zoomed_with_details() {
    let mut v = viewer("sched-go1.27.3.trace");
    let model = &v.model;
    let gi = model
        .groups
        .iter()
        .position(|g| g.label == "main.convoyWorker")
        .expect("convoy group");
    let g = model.groups[gi].goroutines[0] as usize;
    let span = model.timelines().goroutines[g]
        .spans
        .iter()
        .position(|s| s.woken && s.waker >= 0)
        .unwrap_or(0);
    v.timeline.jump_to(model, Item::Go { g, span });
    let mut h = harness(v, egui::Theme::Dark);
    h.run();
    h.snapshot("sched_convoy_zoomed_details");
}

#[test]
fn snapshot_mixed_dense_lanes() {
    // mixed: 92k spans on P0 and a goroutine with 91k spans: drawn from summaries.
    let mut h = harness(viewer("mixed-go1.27.3.trace"), egui::Theme::Dark);
    h.snapshot("mixed_whole_trace_lod");
}

#[test]
fn damaged_trace_shows_a_warning_banner() {
    let path = goroscope_testkit::fixtures_dir()
        .join("traces")
        .join("longrun-go1.27.3.trace");
    let bytes = std::fs::read(path).expect("fixture");
    // Cut the trace in the middle of a generation: the loader keeps what it can.
    let cut = &bytes[..bytes.len() * 2 / 3];
    let trace = Trace::load(cut, goroscope_trace::LoadOptions::default()).expect("salvaged");
    assert!(!trace.warnings.is_empty());
    let mut h = harness(TraceViewer::new(TraceModel::new(trace)), egui::Theme::Dark);
    h.get_by_label_contains("could not be read");
    h.get_by_label("Dismiss").click();
    h.run();
    assert!(h.query_by_label_contains("could not be read").is_none());
    // The timeline still shows what was kept.
    h.get_by_label("P0");
}

#[test]
fn loading_screen_shows_progress_and_cancels() {
    let progress = goroscope_trace::Progress {
        bytes_done: 3 << 20,
        bytes_total: 12 << 20,
        events: 123_456,
    };
    let mut h = Harness::builder()
        .with_size(Vec2::new(800.0, 400.0))
        .build_ui_state(
            move |ui, cancelled: &mut bool| {
                if goroscope_ui::loading_ui(ui, "big.trace", Some(progress), "Reading")
                    == goroscope_ui::LoadingAction::Cancel
                {
                    *cancelled = true;
                }
            },
            false,
        );
    h.run_steps(3);
    h.get_by_label("Opening big.trace");
    h.get_by_label_contains("123456 events");
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    assert!(*h.state());
}
