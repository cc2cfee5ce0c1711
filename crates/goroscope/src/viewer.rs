//! The desktop viewer: an `eframe` window around `goroscope_ui::TraceViewer`.
//!
//! The window's content is `goroscope_ui::Shell`: start screen, file dialog, recent files,
//! drag and drop and persisted settings; it asks for traces to be opened, and each loads on
//! a named background thread (progress bar, Cancel button) with the timeline's summaries
//! computed there too, so the window never stalls. With
//! `--screenshot-to`, the viewer saves a PNG of the window a few frames after the trace is
//! on screen and exits: a smoke test that needs no window manager, only an X server
//! (Xvfb) and a software renderer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use eframe::egui;
use goroscope_trace::{LoadError, LoadOptions, Progress, Trace};
use goroscope_ui::settings::settings_path;
use goroscope_ui::{Screen, Shell, TraceModel, TraceViewer, ViewerAction};

/// What the viewer was asked to do.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// The trace to open; without one, the start screen.
    pub file: Option<PathBuf>,
    /// Save a screenshot here once the trace (or the start screen) is shown, then exit.
    pub screenshot_to: Option<PathBuf>,
}

/// Frames drawn after the trace is on screen before the screenshot is taken.
const SCREENSHOT_AFTER_FRAMES: u32 = 4;

/// Messages from the loading thread.
enum Msg {
    Progress(Progress),
    Preparing,
    Done(Box<Result<TraceModel, LoadError>>),
}

enum Phase {
    Start,
    Loading {
        path: PathBuf,
        rx: Receiver<Msg>,
        progress: Option<Progress>,
        stage: &'static str,
        /// The trace shown before, back on screen if loading is cancelled.
        previous: Option<Box<TraceViewer>>,
    },
    Ready(Box<TraceViewer>),
    Failed(String),
}

/// How the screenshot went.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shot {
    Pending,
    Saved,
    Failed(String),
}

struct ViewerApp {
    shell: Shell,
    /// The name of the file shown or being opened.
    name: String,
    phase: Phase,
    cancel: Arc<AtomicBool>,
    screenshot_to: Option<PathBuf>,
    frames_ready: u32,
    requested: bool,
    shot: Arc<Mutex<Shot>>,
    exit: Arc<Mutex<Option<ExitCode>>>,
    /// The window's inner size in the last frame, saved in the settings on exit.
    window_size: Option<[f32; 2]>,
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn title(name: Option<&str>) -> String {
    name.map_or_else(|| "goroscope".to_owned(), |n| format!("{n} — goroscope"))
}

/// Opens the viewer window on `opts.file` (or the start screen); returns when the window
/// closes.
pub fn run(opts: &ViewOptions) -> ExitCode {
    let mut shell = Shell::new(settings_path());
    if let Some(w) = shell.settings_warning.take() {
        eprintln!("goroscope: {w}");
    }
    let name = opts.file.as_deref().map(file_name);
    let exit = Arc::new(Mutex::new(None));
    let size = shell
        .settings
        .window_size
        .filter(|s| s.iter().all(|v| v.is_finite()))
        .map_or([1400.0, 900.0], |[w, h]| [w.max(480.0), h.max(320.0)]);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(title(name.as_deref()))
            .with_inner_size(size)
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Wgpu,
        ..Default::default()
    };
    let app_exit = Arc::clone(&exit);
    let file = opts.file.clone();
    let screenshot_to = opts.screenshot_to.clone();
    let result = eframe::run_native(
        "goroscope",
        options,
        Box::new(move |cc| {
            cc.egui_ctx.set_theme(shell.settings.theme.egui());
            let mut app = ViewerApp::new(shell, screenshot_to, app_exit);
            if let Some(f) = file {
                app.open(&cc.egui_ctx, f)?;
            }
            Ok(Box::new(app))
        }),
    );
    if let Err(e) = result {
        eprintln!("goroscope: cannot open the viewer window: {e}");
        return ExitCode::from(1);
    }
    exit.lock()
        .ok()
        .and_then(|mut e| e.take())
        .unwrap_or(ExitCode::SUCCESS)
}

/// Starts the loading thread; it reports progress, then the prepared model.
fn spawn_loader(
    path: &Path,
    ctx: egui::Context,
    cancel: Arc<AtomicBool>,
) -> std::io::Result<Receiver<Msg>> {
    let (tx, rx) = channel();
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("goroscope-load".to_owned())
        .spawn(move || load(&path, &ctx, cancel, &tx))?;
    Ok(rx)
}

fn load(path: &Path, ctx: &egui::Context, cancel: Arc<AtomicBool>, tx: &Sender<Msg>) {
    let mut report = |p: Progress| {
        tx.send(Msg::Progress(p)).ok();
        ctx.request_repaint();
    };
    let result = Trace::open_with(
        path,
        LoadOptions {
            progress: Some(&mut report),
            cancel: Some(cancel),
            ..LoadOptions::default()
        },
    );
    let result = result.map(|trace| {
        tx.send(Msg::Preparing).ok();
        ctx.request_repaint();
        TraceModel::new(trace)
    });
    tx.send(Msg::Done(Box::new(result))).ok();
    ctx.request_repaint();
}

impl ViewerApp {
    fn new(
        shell: Shell,
        screenshot_to: Option<PathBuf>,
        exit: Arc<Mutex<Option<ExitCode>>>,
    ) -> Self {
        Self {
            shell,
            name: String::new(),
            phase: Phase::Start,
            cancel: Arc::new(AtomicBool::new(false)),
            screenshot_to,
            frames_ready: 0,
            requested: false,
            shot: Arc::new(Mutex::new(Shot::Pending)),
            exit,
            window_size: None,
        }
    }

    fn set_exit(&self, code: ExitCode) {
        if let Ok(mut e) = self.exit.lock() {
            *e = Some(code);
        }
    }

    /// Starts loading `path` on a new thread, cancelling any load under way; the trace on
    /// screen stays until the new one is ready (and comes back if this one is cancelled).
    fn open(&mut self, ctx: &egui::Context, path: PathBuf) -> std::io::Result<()> {
        self.cancel.store(true, Ordering::Relaxed);
        self.cancel = Arc::new(AtomicBool::new(false));
        let rx = spawn_loader(&path, ctx.clone(), Arc::clone(&self.cancel))?;
        self.name = file_name(&path);
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(title(Some(&self.name))));
        let previous = match std::mem::replace(&mut self.phase, Phase::Start) {
            Phase::Ready(v) => Some(v),
            Phase::Loading { previous, .. } => previous,
            Phase::Start | Phase::Failed(_) => None,
        };
        self.phase = Phase::Loading {
            path,
            rx,
            progress: None,
            stage: "Reading",
            previous,
        };
        Ok(())
    }

    fn poll_loader(&mut self, ctx: &egui::Context) {
        let Phase::Loading {
            rx,
            progress,
            stage,
            ..
        } = &mut self.phase
        else {
            return;
        };
        let mut done = None;
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Msg::Progress(p) => *progress = Some(p),
                Msg::Preparing => *stage = "Preparing the timeline",
                Msg::Done(r) => done = Some(*r),
            }
        }
        let Some(result) = done else { return };
        let Phase::Loading { path, previous, .. } =
            std::mem::replace(&mut self.phase, Phase::Start)
        else {
            return;
        };
        match result {
            Ok(model) => {
                let mut viewer = TraceViewer::new(model);
                self.shell.opened(&path, &mut viewer);
                if let Ok(mut e) = self.exit.lock() {
                    *e = None;
                }
                self.phase = Phase::Ready(Box::new(viewer));
            }
            Err(LoadError::Cancelled) => {
                self.phase = match previous {
                    Some(v) => {
                        self.name = v
                            .model
                            .trace
                            .path
                            .as_deref()
                            .map_or_else(String::new, file_name);
                        Phase::Ready(v)
                    }
                    None => {
                        self.name.clear();
                        Phase::Start
                    }
                };
                let name = (!self.name.is_empty()).then_some(self.name.as_str());
                ctx.send_viewport_cmd(egui::ViewportCommand::Title(title(name)));
            }
            Err(e) => {
                eprintln!("goroscope: {e}");
                self.set_exit(ExitCode::from(3));
                self.phase = Phase::Failed(e.to_string());
            }
        }
    }

    /// Takes the screenshot when due, and closes the window once it is saved.
    fn screenshot(&mut self, ctx: &egui::Context) {
        let Some(path) = self.screenshot_to.clone() else {
            return;
        };
        match &self.phase {
            Phase::Ready(_) | Phase::Start => self.frames_ready += 1,
            Phase::Failed(_) => {
                // Nothing to show: exit with the loader's code (or 1).
                if self.exit.lock().is_ok_and(|e| e.is_none()) {
                    self.set_exit(ExitCode::from(1));
                }
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                return;
            }
            Phase::Loading { .. } => {}
        }
        if self.frames_ready >= SCREENSHOT_AFTER_FRAMES && !self.requested {
            self.requested = true;
            let shot = Arc::clone(&self.shot);
            let waker = ctx.clone();
            ctx.request_screenshot(move |img| {
                let r = save_png(&path, &img);
                if let Ok(mut s) = shot.lock() {
                    *s = match r {
                        Ok(()) => Shot::Saved,
                        Err(e) => Shot::Failed(e),
                    };
                }
                waker.request_repaint();
            });
        }
        let state = self.shot.lock().map(|s| s.clone()).unwrap_or(Shot::Pending);
        match state {
            Shot::Pending => ctx.request_repaint(),
            Shot::Saved => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Shot::Failed(e) => {
                eprintln!("goroscope: cannot save the screenshot: {e}");
                self.set_exit(ExitCode::from(1));
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }
}

fn save_png(path: &Path, img: &egui::ColorImage) -> Result<(), String> {
    let bytes: Vec<u8> = img.pixels.iter().flat_map(|c| c.to_array()).collect();
    let [w, h] = img.size;
    let (Ok(w), Ok(h)) = (u32::try_from(w), u32::try_from(h)) else {
        return Err("image too large".to_owned());
    };
    image::save_buffer(path, &bytes, w, h, image::ColorType::Rgba8)
        .map_err(|e| format!("{e}: {}", path.display()))
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll_loader(&ctx);
        if let Some(r) = ctx.input(|i| i.viewport().inner_rect) {
            self.window_size = Some([r.width(), r.height()]);
        }
        let screen = match &mut self.phase {
            Phase::Start => Screen::Start,
            Phase::Loading {
                progress, stage, ..
            } => Screen::Loading {
                name: &self.name,
                progress: *progress,
                stage,
            },
            Phase::Ready(viewer) => Screen::Trace(viewer),
            Phase::Failed(msg) => Screen::Failed {
                name: &self.name,
                message: msg,
            },
        };
        match self.shell.ui(ui, screen) {
            Some(ViewerAction::Open(path)) => {
                if let Err(e) = self.open(&ctx, path) {
                    self.phase = Phase::Failed(format!("cannot start loading: {e}"));
                }
            }
            Some(ViewerAction::CancelLoading) => self.cancel.store(true, Ordering::Relaxed),
            None => {}
        }
        self.screenshot(&ctx);
    }

    fn on_exit(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        if self.screenshot_to.is_none() && self.window_size.is_some() {
            self.shell.settings.window_size = self.window_size;
            self.shell.save_if_changed();
        }
        if let Some(w) = &self.shell.settings_warning {
            eprintln!("goroscope: {w}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn fixture(name: &str) -> PathBuf {
        goroscope_testkit::fixtures_dir().join("traces").join(name)
    }

    fn app() -> ViewerApp {
        ViewerApp::new(Shell::new(None), None, Arc::new(Mutex::new(None)))
    }

    /// Polls the loader until it is done.
    fn finish(app: &mut ViewerApp, ctx: &egui::Context) {
        let start = Instant::now();
        while matches!(app.phase, Phase::Loading { .. }) {
            assert!(start.elapsed() < Duration::from_secs(120), "loading hangs");
            std::thread::sleep(Duration::from_millis(5));
            app.poll_loader(ctx);
        }
    }

    fn shown(app: &ViewerApp) -> Option<PathBuf> {
        match &app.phase {
            Phase::Ready(v) => v.model.trace.path.clone(),
            _ => None,
        }
    }

    fn exit_code(app: &ViewerApp) -> Option<ExitCode> {
        *app.exit.lock().expect("lock")
    }

    #[test]
    fn opens_one_trace_after_another() {
        let ctx = egui::Context::default();
        let mut app = app();
        let sched = fixture("sched-go1.27.3.trace");
        app.open(&ctx, sched.clone()).expect("started");
        assert_eq!(app.name, "sched-go1.27.3.trace");
        finish(&mut app, &ctx);
        assert_eq!(shown(&app).as_deref(), Some(sched.as_path()));
        assert_eq!(app.shell.settings.recent.first(), Some(&sched));

        // A file that is not a trace: an error screen, exit code 3, the trace is gone.
        let dir = std::env::temp_dir().join(format!("goroscope-app-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let bad = dir.join("bad.trace");
        std::fs::write(&bad, b"not a trace").expect("write");
        app.open(&ctx, bad).expect("started");
        assert!(matches!(
            &app.phase,
            Phase::Loading {
                previous: Some(_),
                ..
            }
        ));
        finish(&mut app, &ctx);
        assert!(matches!(app.phase, Phase::Failed(_)));
        assert_eq!(exit_code(&app), Some(ExitCode::from(3)));
        assert_eq!(
            app.shell.settings.recent.len(),
            1,
            "failures are not recent"
        );

        // A good one again: shown, and the exit code is success again.
        let mixed = fixture("mixed-go1.27.3.trace");
        app.open(&ctx, mixed.clone()).expect("started");
        finish(&mut app, &ctx);
        assert_eq!(shown(&app).as_deref(), Some(mixed.as_path()));
        assert_eq!(exit_code(&app), None);
        assert_eq!(app.shell.settings.recent, [mixed, sched]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_cancelled_load_brings_back_the_previous_trace() {
        let ctx = egui::Context::default();
        let mut app = app();
        let sched = fixture("sched-go1.27.3.trace");
        app.open(&ctx, sched.clone()).expect("started");
        finish(&mut app, &ctx);
        // A load that ends cancelled (sent by hand: a real one may finish first).
        let (tx, rx) = channel();
        let Phase::Ready(previous) = std::mem::replace(&mut app.phase, Phase::Start) else {
            panic!("not ready");
        };
        app.name = "other.trace".to_owned();
        app.phase = Phase::Loading {
            path: PathBuf::from("other.trace"),
            rx,
            progress: None,
            stage: "Reading",
            previous: Some(previous),
        };
        tx.send(Msg::Done(Box::new(Err(LoadError::Cancelled))))
            .expect("send");
        app.poll_loader(&ctx);
        assert_eq!(shown(&app).as_deref(), Some(sched.as_path()));
        assert_eq!(app.name, "sched-go1.27.3.trace");

        // Without a previous trace: the start screen.
        let (tx, rx) = channel();
        app.phase = Phase::Loading {
            path: PathBuf::from("other.trace"),
            rx,
            progress: None,
            stage: "Reading",
            previous: None,
        };
        tx.send(Msg::Done(Box::new(Err(LoadError::Cancelled))))
            .expect("send");
        app.poll_loader(&ctx);
        assert!(matches!(app.phase, Phase::Start));
        assert_eq!(exit_code(&app), None);
    }
}
