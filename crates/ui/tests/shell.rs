//! The window around a trace, driven headless through egui_kittest: the start screen and
//! its recent files, the file dialog, drag and drop, and settings that survive a restart.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{Key, Modifiers, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use goroscope_trace::Trace;
use goroscope_ui::settings::{SETTINGS_FILE, Settings, Theme};
use goroscope_ui::{Screen, Shell, TraceModel, TraceViewer, ViewerAction};

/// The application as the `goroscope` binary runs it, minus the loading thread.
struct App {
    shell: Shell,
    viewer: Option<TraceViewer>,
    actions: Vec<ViewerAction>,
}

fn fixture(name: &str) -> PathBuf {
    goroscope_testkit::fixtures_dir().join("traces").join(name)
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("goroscope-shell-{}-{name}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn harness(app: App, size: Vec2) -> Harness<'static, App> {
    let mut h = Harness::builder().with_size(size).build_ui_state(
        |ui, app: &mut App| {
            let screen = match &mut app.viewer {
                Some(v) => Screen::Trace(v),
                None => Screen::Start,
            };
            if let Some(a) = app.shell.ui(ui, screen) {
                app.actions.push(a);
            }
        },
        app,
    );
    h.run();
    h
}

fn app(settings: Option<PathBuf>) -> App {
    App {
        shell: Shell::new(settings),
        viewer: None,
        actions: Vec::new(),
    }
}

fn load(path: &Path) -> TraceViewer {
    TraceViewer::new(TraceModel::new(Trace::open(path).expect("fixture loads")))
}

#[test]
fn start_screen_lists_recent_files_and_opens_them() {
    let dir = scratch("start");
    let settings = dir.join(SETTINGS_FILE);
    let trace = fixture("sched-go1.27.3.trace");
    let mut s = Settings::default();
    s.add_recent(Path::new("/gone/old.trace"));
    s.add_recent(&trace);
    s.save(&settings).expect("saved");
    let mut h = harness(app(Some(settings)), Vec2::new(900.0, 600.0));
    h.get_by_label("Open a trace…");
    h.get_by_label("Recent traces");
    assert!(h.query_by_label_contains("old.trace").is_some());
    h.get_by_label_contains("sched-go1.27.3.trace").click();
    h.run();
    assert_eq!(h.state().actions, [ViewerAction::Open(trace.clone())]);

    // The Recent menu lists them too.
    h.get_by_label("Recent").click();
    h.run();
    h.get_by_label("Forget missing files").click();
    h.run();
    assert_eq!(
        h.state().shell.settings.recent,
        std::slice::from_ref(&trace)
    );
    // The change is saved.
    let saved = Settings::load(&dir.join(SETTINGS_FILE)).expect("loads");
    assert_eq!(saved.recent, [trace]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn snapshot_start_screen() {
    // Paths that look the same on every machine (and do not exist).
    let mut a = app(None);
    for p in [
        "/srv/traces/before.trace",
        "/srv/traces/after.trace",
        "/var/incidents/checkout-service.out",
    ] {
        a.shell.settings.add_recent(Path::new(p));
    }
    let mut h = harness(a, Vec2::new(900.0, 600.0));
    h.get_by_label_contains("checkout-service.out");
    h.snapshot("start_screen");
}

#[test]
fn the_start_screen_without_recent_files_says_where_they_will_be() {
    let mut h = harness(app(None), Vec2::new(900.0, 600.0));
    h.get_by_label("Traces you open are listed here.");
    assert!(h.query_by_label("Recent traces").is_none());
    h.get_by_label("Open a trace…").click();
    h.run();
    assert!(h.state().shell.is_dialog_open());
    h.get_by_label("Open a trace");
}

/// A directory with traces, other files and a subdirectory; the shell's recent files point
/// into it, so the dialog starts there.
fn dialog_fixture(name: &str) -> (PathBuf, Harness<'static, App>) {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("sub")).expect("sub");
    for f in ["a.trace", "b.out", "notes.txt", "sub/c.trace"] {
        std::fs::write(dir.join(f), b"not really a trace").expect("file");
    }
    let mut a = app(None);
    a.shell.settings.add_recent(&dir.join("a.trace"));
    let mut h = harness(a, Vec2::new(1000.0, 700.0));
    h.key_press_modifiers(Modifiers::COMMAND, Key::O);
    h.run();
    assert!(h.state().shell.is_dialog_open(), "Ctrl+O opens the dialog");
    (dir, h)
}

#[test]
fn the_open_dialog_shows_traces_written_while_it_is_open() {
    let (dir, mut h) = dialog_fixture("dialog-relist");
    h.get_by_label("a.trace");
    assert!(h.query_by_label("fresh.trace").is_none());
    std::fs::write(dir.join("fresh.trace"), b"written later").expect("file");
    std::fs::remove_file(dir.join("b.out")).expect("remove");
    // Frames go on (each a quarter of a second of egui's time): the directory is listed
    // again within a second.
    let steps = (goroscope_ui::open::RELIST_SECS / 0.25).ceil() as usize + 1;
    h.run_steps(steps);
    h.get_by_label("fresh.trace");
    assert!(h.query_by_label("b.out").is_none());
    h.get_by_label("a.trace");
}

#[test]
fn open_dialog_browses_filters_and_opens() {
    let (dir, mut h) = dialog_fixture("dialog");
    h.get_by_label("Open a trace");
    h.get_by_label("a.trace");
    h.get_by_label("b.out");
    h.get_by_label("sub/");
    assert!(
        h.query_by_label("notes.txt").is_none(),
        "only traces by default"
    );
    h.get_by_label("Show all files").click();
    h.run();
    h.get_by_label("notes.txt");
    h.get_by_label("Show all files").click();
    h.run();
    assert!(h.query_by_label("notes.txt").is_none());

    h.get_by_label("sub/").click();
    h.run();
    h.get_by_label("c.trace");
    assert!(h.query_by_label("a.trace").is_none());
    h.get_by_label("c.trace").click();
    h.run();
    h.get_by_label("Open").click();
    h.run();
    assert_eq!(
        h.state().actions,
        [ViewerAction::Open(dir.join("sub").join("c.trace"))]
    );
    assert!(!h.state().shell.is_dialog_open());

    // Up goes back to the parent directory.
    h.key_press_modifiers(Modifiers::COMMAND, Key::O);
    h.run();
    h.get_by_label("sub/").click();
    h.run();
    assert!(h.query_by_label("sub/").is_none());
    h.get_by_label("Up").click();
    h.run();
    h.get_by_label("sub/");
    h.get_by_label("Cancel").click();
    h.run();
    assert!(!h.state().shell.is_dialog_open());
    assert_eq!(h.state().actions.len(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn open_dialog_takes_a_typed_path() {
    let (dir, mut h) = dialog_fixture("typed");
    // A directory is entered, a missing file is an error, a file is opened.
    let path = h.get_by_label("Path");
    path.focus();
    path.type_text("sub");
    h.run();
    h.key_press(Key::Enter);
    h.run();
    h.get_by_label("c.trace");
    let path = h.get_by_label("Path");
    path.focus();
    path.type_text("nope.trace");
    h.run();
    h.key_press(Key::Enter);
    h.run();
    h.get_by_label_contains("No such file");
    assert!(h.state().actions.is_empty());
    let path = h.get_by_label("Path");
    path.focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run();
    h.get_by_label("Path").type_text("c.trace");
    h.run();
    h.key_press(Key::Enter);
    h.run();
    assert_eq!(
        h.state().actions,
        [ViewerAction::Open(dir.join("sub").join("c.trace"))]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A file dropped on the window, as the windowing integration reports it.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn dropping_a_file_opens_it() {
    let trace = fixture("sched-go1.27.3.trace");
    let mut h = harness(app(None), Vec2::new(800.0, 500.0));
    h.run();
    assert!(h.state().actions.is_empty());
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(trace.clone())));
    h.run();
    assert_eq!(h.state().actions, [ViewerAction::Open(trace.clone())]);

    // On a trace too, not only on the start screen.
    let mut a = app(None);
    a.viewer = Some(load(&trace));
    let mut h = harness(a, Vec2::new(1280.0, 800.0));
    let other = fixture("mixed-go1.27.3.trace");
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(other.clone())));
    h.run();
    assert_eq!(h.state().actions, [ViewerAction::Open(other)]);
}

#[test]
fn settings_survive_a_restart() {
    let dir = scratch("settings");
    let path = dir.join("config").join(SETTINGS_FILE);
    let trace = fixture("sched-go1.27.3.trace");
    let mut a = app(Some(path.clone()));
    let mut viewer = load(&trace);
    a.shell.opened(&trace, &mut viewer);
    assert!(viewer.timeline.wall_clock, "wall clock on by default");
    a.viewer = Some(viewer);
    let mut h = harness(a, Vec2::new(1280.0, 800.0));
    assert!(h.ctx.theme() == egui::Theme::Dark);
    h.get_by_label("Light theme").click();
    h.run();
    h.get_by_label("Wall clock").click();
    h.run();
    assert!(h.ctx.theme() == egui::Theme::Light);
    let saved = Settings::load(&path).expect("saved");
    assert_eq!(saved.theme, Theme::Light);
    assert!(!saved.wall_clock);
    assert_eq!(saved.recent, std::slice::from_ref(&trace));
    // The Recent menu reopens it.
    h.get_by_label("Recent").click();
    h.run();
    // (The toolbar names the trace too, as a label.)
    h.get_all_by_label_contains("sched-go1.27.3.trace")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
        .expect("a recent file in the menu")
        .click();
    h.run();
    assert_eq!(h.state().actions, [ViewerAction::Open(trace.clone())]);

    // A new window with the same settings: light, and the ruler in relative time.
    let mut a = app(Some(path.clone()));
    assert!(a.shell.settings_warning.is_none());
    let mut viewer = load(&trace);
    a.shell.opened(&trace, &mut viewer);
    assert!(!viewer.timeline.wall_clock);
    a.viewer = Some(viewer);
    let h = harness(a, Vec2::new(1280.0, 800.0));
    assert!(h.ctx.theme() == egui::Theme::Light);
    h.get_by_label("Dark theme");

    // A corrupt file: defaults and a warning, and the next change rewrites it.
    std::fs::write(&path, "theme = \"purple\"").expect("corrupt");
    let mut a = app(Some(path.clone()));
    assert_eq!(a.shell.settings, Settings::default());
    let warning = a.shell.settings_warning.clone().expect("a warning");
    assert!(warning.contains(SETTINGS_FILE), "{warning}");
    a.shell.settings.add_recent(&trace);
    a.shell.save_if_changed();
    assert_eq!(Settings::load(&path).expect("rewritten").recent, [trace]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn keys_and_wheel_do_not_reach_the_timeline_under_the_dialog() {
    let mut a = app(None);
    a.viewer = Some(load(&fixture("sched-go1.27.3.trace")));
    let mut h = harness(a, Vec2::new(1280.0, 800.0));
    let before = h.state().viewer.as_ref().expect("viewer").timeline.view;
    h.get_by_label("Open…").click();
    h.run();
    // Nothing focused: the keys would otherwise zoom and pan.
    h.ctx.memory_mut(|m| {
        if let Some(id) = m.focused() {
            m.surrender_focus(id);
        }
    });
    h.run();
    for key in [Key::W, Key::D, Key::Home] {
        h.key_press(key);
        h.run();
    }
    let lanes = h.get_by_label("Timeline lanes").rect();
    h.hover_at(lanes.center());
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: Vec2::new(0.0, 200.0),
        phase: egui::TouchPhase::Move,
        modifiers: Modifiers::NONE,
        source: egui::MouseWheelSource::Wheel,
    });
    h.run_steps(30);
    assert!(h.state().shell.is_dialog_open());
    assert_eq!(
        h.state().viewer.as_ref().expect("viewer").timeline.view,
        before
    );
}
