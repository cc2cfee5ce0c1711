//! Moving around a trace, driven headless through egui_kittest: the view history (Back,
//! Forward, Alt+arrows, mouse buttons), zoom to the selection, Ctrl+wheel zoom, the find box
//! and the tooltip of a goroutine span.

use egui::{Event, Key, Modifiers, MouseWheelUnit, PointerButton, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use goroscope_trace::Trace;
use goroscope_ui::timeline::{Item, item_extent};
use goroscope_ui::{Screen, Shell, TimeView, TraceModel, TraceViewer};

const SIZE: Vec2 = Vec2::new(1280.0, 800.0);

fn viewer() -> TraceViewer {
    let path = goroscope_testkit::fixtures_dir()
        .join("traces")
        .join("sched-go1.27.3.trace");
    TraceViewer::new(TraceModel::new(Trace::open(&path).expect("fixture loads")))
}

/// The viewer inside the shell (whose menu bar holds Back, Forward and Find).
fn harness(v: TraceViewer) -> Harness<'static, (Shell, TraceViewer)> {
    // Frames a 60th of a second apart, so that navigations take a while to settle.
    let mut h = Harness::builder()
        .with_size(SIZE)
        .with_step_dt(1.0 / 60.0)
        .build_ui_state(
            |ui, (shell, v): &mut (Shell, TraceViewer)| {
                shell.ui(ui, Screen::Trace(v));
            },
            (Shell::new(None), v),
        );
    h.run();
    h
}

fn view(h: &Harness<'static, (Shell, TraceViewer)>) -> TimeView {
    h.state().1.timeline.view
}

/// Runs frames for longer than a navigation takes to settle.
fn settle(h: &mut Harness<'static, (Shell, TraceViewer)>) {
    for _ in 0..40 {
        h.step();
    }
}

fn history_len(h: &Harness<'static, (Shell, TraceViewer)>) -> usize {
    h.state().1.history.len()
}

fn mouse_button(h: &Harness<'static, (Shell, TraceViewer)>, button: PointerButton) {
    let pos = h.get_by_label("Timeline lanes").rect().center();
    for pressed in [true, false] {
        h.event(Event::PointerButton {
            pos,
            button,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
}

#[test]
fn history_goes_back_and_forward_through_settled_views() {
    let mut h = harness(viewer());
    let full = view(&h);
    assert_eq!(history_len(&h), 1);
    // Two quick zooms are one navigation, recorded once the view settles.
    h.key_press(Key::W);
    h.run();
    h.key_press(Key::W);
    h.run();
    assert_eq!(history_len(&h), 1, "not settled yet");
    settle(&mut h);
    assert_eq!(history_len(&h), 2);
    let zoomed = view(&h);
    assert!(zoomed.span() < full.span() / 2.0);
    h.key_press(Key::D);
    h.run();
    settle(&mut h);
    let panned = view(&h);
    assert!(panned.start > zoomed.start);
    assert_eq!(history_len(&h), 3);

    h.get_by_label("Back").click();
    h.run();
    assert_eq!(view(&h), zoomed);
    h.key_press_modifiers(Modifiers::ALT, Key::ArrowLeft);
    h.run();
    assert_eq!(view(&h), full);
    assert!(!h.state().1.history.can_go_back());
    // Nothing further back.
    h.key_press_modifiers(Modifiers::ALT, Key::ArrowLeft);
    h.run();
    assert_eq!(view(&h), full);

    h.get_by_label("Forward").click();
    h.run();
    assert_eq!(view(&h), zoomed);
    mouse_button(&h, PointerButton::Extra2);
    h.run();
    assert_eq!(view(&h), panned);
    mouse_button(&h, PointerButton::Extra1);
    h.run();
    assert_eq!(view(&h), zoomed);
    h.key_press_modifiers(Modifiers::ALT, Key::ArrowRight);
    h.run();
    assert_eq!(view(&h), panned);
    // Settling on a view from the history adds nothing.
    settle(&mut h);
    assert_eq!(history_len(&h), 3);

    // Going back and navigating elsewhere drops the views ahead.
    h.get_by_label("Back").click();
    h.run();
    h.get_by_label("Fit").click();
    h.run();
    assert_eq!(view(&h), full);
    assert_eq!(
        history_len(&h),
        3,
        "full view recorded at once, panned dropped"
    );
    assert!(!h.state().1.history.can_go_forward());
    h.key_press_modifiers(Modifiers::ALT, Key::ArrowLeft);
    h.run();
    assert_eq!(view(&h), zoomed);
}

#[test]
fn zoom_to_selection_and_back() {
    let mut h = harness(viewer());
    let full = view(&h);
    h.get_all_by_label_contains("P0 G")
        .next()
        .expect("a wide P0 span")
        .click();
    h.run();
    let sel = h.state().1.timeline.selected.expect("selected");
    let (_, a, b) = item_extent(&h.state().1.model, &sel).expect("extent");
    let start = h.state().1.model.timelines().start;
    let (a, b) = ((a - start) as f64, (b - start) as f64);
    h.get_by_label("Zoom to selection").click();
    h.run();
    let v = view(&h);
    assert!(v.start <= a && b <= v.end, "{v:?} shows {a}..{b}");
    assert!(
        v.span() < (b - a) * 1.2 + 200.0,
        "{v:?} is close to {a}..{b}"
    );
    h.get_by_label("Back").click();
    h.run();
    assert_eq!(view(&h), full);
    // Z does the same.
    h.key_press(Key::Z);
    h.run();
    assert_eq!(view(&h), v);
}

#[test]
fn ctrl_wheel_zooms_at_the_cursor() {
    let mut h = harness(viewer());
    let before = view(&h);
    let lanes = h.get_by_label("Timeline lanes").rect();
    let x = lanes.left() + lanes.width() / 4.0;
    h.hover_at(egui::pos2(x, lanes.center().y));
    h.run_steps(2);
    let t = |v: &TimeView| v.time_at(x, lanes.left(), lanes.right());
    h.event(Event::MouseWheel {
        unit: MouseWheelUnit::Line,
        delta: Vec2::new(0.0, 3.0),
        phase: egui::TouchPhase::Move,
        modifiers: Modifiers::CTRL,
        source: egui::MouseWheelSource::Wheel,
    });
    h.run_steps(20);
    let after = view(&h);
    assert!(
        after.span() < before.span() * 0.9,
        "{before:?} -> {after:?}"
    );
    let (tb, ta) = (t(&before), t(&after));
    assert!(
        (tb - ta).abs() < before.span() * 1e-3,
        "the time under the cursor moved: {tb} -> {ta}"
    );
}

#[test]
fn find_by_function_jumps_to_a_goroutine() {
    let mut h = harness(viewer());
    let full = view(&h);
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run();
    let field = h.get_by_label("Goroutine id or function");
    assert!(field.is_focused(), "Ctrl+F focuses the field");
    field.type_text("LEAKYlocker");
    h.run();
    h.get_by_label("3 goroutines");
    let first = h.state().1.find.results.goroutines[0];
    h.key_press(Key::ArrowDown);
    h.run();
    let second = h.state().1.find.results.goroutines[1];
    assert_eq!(h.state().1.find.cursor, 1);
    h.get_by_label("Goroutine id or function").focus();
    h.run();
    h.key_press(Key::Enter);
    h.run();
    h.run();
    assert_ne!(first, second);
    assert_eq!(h.state().1.timeline.selected, Some(Item::Goroutine(second)));
    let (_, a, b) = item_extent(&h.state().1.model, &Item::Goroutine(second)).expect("extent");
    let start = h.state().1.model.timelines().start;
    let v = view(&h);
    assert!(v.start <= (a - start) as f64 && (b - start) as f64 <= v.end);
    assert!(v.span() < full.span() || (b - a) as f64 > full.span() * 0.9);
    // Its lane is on screen.
    let tl = h.state().1.model.timelines();
    let lane = format!("G{} main.leakyLocker", tl.goroutines[second].id);
    h.get_by_label(&lane);
    // Escape closes the box.
    h.get_by_label("Goroutine id or function").focus();
    h.run();
    h.key_press(Key::Escape);
    h.run();
    assert!(!h.state().1.find.open);
    assert!(h.query_by_label("Goroutine id or function").is_none());
}

#[test]
fn find_by_id_expands_a_collapsed_group() {
    let v = viewer();
    // A goroutine of a big group (which starts collapsed) that lived for part of the trace.
    let tl = v.model.timelines();
    let (g, gi) = v
        .model
        .groups
        .iter()
        .enumerate()
        .filter(|(_, gr)| gr.goroutines.len() > 8)
        .flat_map(|(gi, gr)| gr.goroutines.iter().map(move |&g| (g as usize, gi)))
        .find(|&(g, _)| {
            let go = &tl.goroutines[g];
            let (a, b) = (go.created.unwrap_or(tl.start), go.ended.unwrap_or(tl.end));
            (b - a) * 2 < tl.end - tl.start
        })
        .expect("a short-lived goroutine in a big group");
    let id = tl.goroutines[g].id;
    let name = v.model.groups[gi].label.clone();
    let mut h = harness(v);
    let lane = format!("G{id} {name}");
    assert!(h.query_by_label(&lane).is_none());
    h.get_by_label("Find…").click();
    h.run();
    h.get_by_label("Goroutine id or function")
        .type_text(&format!("G{id}"));
    h.run();
    // The goroutine with that id comes first; clicking it jumps.
    h.get_by_label_contains(&format!("G{id} · {name}")).click();
    h.run();
    h.run();
    assert_eq!(h.state().1.timeline.selected, Some(Item::Goroutine(g)));
    h.get_by_label(&lane);
    // Back restores the view from before the jump.
    let jumped = view(&h);
    h.get_by_label("Back").click();
    h.run();
    assert_ne!(view(&h), jumped);
    h.get_by_label("Forward").click();
    h.run();
    assert_eq!(view(&h), jumped);
}

#[test]
fn snapshot_find_results() {
    let mut h = harness(viewer());
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run();
    h.get_by_label("Goroutine id or function")
        .type_text("convoy");
    h.run();
    h.get_by_label("40 goroutines");
    h.snapshot("find_results");
}

#[test]
fn hovering_a_goroutine_span_shows_state_reason_duration_and_stack() {
    let mut v = viewer();
    let model = &v.model;
    let tl = model.timelines();
    let (g, span) = tl
        .goroutines
        .iter()
        .enumerate()
        .find_map(|(g, go)| {
            let i = go.spans.iter().position(|s| {
                s.state == goroscope_trace::event::GoState::Waiting
                    && !tl.strings.lossy(s.reason).is_empty()
                    && !goroscope_ui::describe::stack_lines(tl, s.stack, 1).is_empty()
            })?;
            Some((g, i))
        })
        .expect("a waiting span with a reason and a stack");
    let go = &tl.goroutines[g];
    let id = go.id;
    let s = go.spans.get(span).expect("span");
    let end = model.span_end(&go.spans, span);
    let label = goroscope_ui::describe::go_span_label(tl, id, &s, end);
    let state = goroscope_ui::describe::state_text(tl, &s);
    let reason = tl.strings.lossy(s.reason).into_owned();
    let frames = goroscope_ui::describe::stack_lines(tl, s.stack, 5);
    let title = format!("G{id} {}", tl.strings.lossy(go.name));
    let dur = goroscope_ui::ruler::format_duration((end - s.time) as f64);
    let t0 = tl.start;
    let from = (s.time - t0) as f64;
    v.timeline.jump_to(model, Item::Go { g, span });
    // Wide enough to be labelled.
    v.timeline.view.show_range(from, (end - t0) as f64, 0.5);
    // No details panel: the stack is only in the tooltip.
    v.timeline.selected = None;
    let mut h = harness(v);
    let lanes_named = h.query_all_by_label(&title).count();
    h.get_by_label(&label).hover();
    h.run();
    h.run();
    assert_eq!(h.state().1.timeline.hovered, Some(Item::Go { g, span }));
    // Goroutine and function (besides its lane name), state with its reason, duration.
    assert_eq!(h.query_all_by_label(&title).count(), lanes_named + 1);
    assert!(state.contains(&reason), "{state} names {reason}");
    h.get_by_label(&format!("{state} for {dur}"));
    // The innermost frames of the stack.
    for f in &frames {
        h.get_by_label(f);
    }
}

#[test]
fn wheel_over_the_find_box_scrolls_it_not_the_timeline() {
    let mut h = harness(viewer());
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run();
    h.get_by_label("Goroutine id or function")
        .type_text("main.");
    h.run();
    let before = view(&h);
    let over = h
        .get_all_by_label_contains(" · main.")
        .nth(3)
        .expect("a result")
        .rect()
        .center();
    let lanes = h.get_by_label("Timeline lanes").rect();
    assert!(lanes.contains(over), "the box lies over the lanes");
    h.hover_at(over);
    h.run_steps(2);
    // Towards zooming in (the whole trace is shown: zooming out would change nothing).
    for modifiers in [Modifiers::NONE, Modifiers::CTRL] {
        h.event(Event::MouseWheel {
            unit: MouseWheelUnit::Point,
            delta: Vec2::new(0.0, 200.0),
            phase: egui::TouchPhase::Move,
            modifiers,
            source: egui::MouseWheelSource::Wheel,
        });
        h.run_steps(10);
    }
    // Until smooth scrolling has spent the wheel's movement.
    h.run_steps(120);
    assert_eq!(view(&h), before);
    // Keys typed into the box do not pan or zoom either.
    h.get_by_label("Goroutine id or function").focus();
    h.run_steps(2);
    h.get_by_label("Goroutine id or function").type_text("wasd");
    h.key_press(Key::W);
    h.run_steps(3);
    assert_eq!(view(&h), before);
}
