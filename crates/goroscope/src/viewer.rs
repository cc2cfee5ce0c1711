//! The desktop viewer: an `eframe` window around `goroscope_ui::TraceViewer`.
//!
//! The trace loads on a named background thread (progress bar, Cancel button) and the
//! timeline's summaries are computed there too, so the window never stalls. With
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
use goroscope_ui::{LoadingAction, TraceModel, TraceViewer, loading_ui};

/// What the viewer was asked to do.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// The trace to open.
    pub file: PathBuf,
    /// Save a screenshot here once the trace is shown, then exit.
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
    Loading {
        rx: Receiver<Msg>,
        progress: Option<Progress>,
        stage: &'static str,
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
    name: String,
    phase: Phase,
    cancel: Arc<AtomicBool>,
    screenshot_to: Option<PathBuf>,
    frames_ready: u32,
    requested: bool,
    shot: Arc<Mutex<Shot>>,
    exit: Arc<Mutex<Option<ExitCode>>>,
}

/// Opens the viewer window on `opts.file`; returns when the window closes.
pub fn run(opts: &ViewOptions) -> ExitCode {
    let name = opts.file.file_name().map_or_else(
        || opts.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let exit = Arc::new(Mutex::new(None));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(format!("{name} — goroscope"))
            .with_inner_size([1400.0, 900.0]),
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
            let cancel = Arc::new(AtomicBool::new(false));
            let rx = spawn_loader(&file, cc.egui_ctx.clone(), Arc::clone(&cancel))?;
            Ok(Box::new(ViewerApp {
                name,
                phase: Phase::Loading {
                    rx,
                    progress: None,
                    stage: "Reading",
                },
                cancel,
                screenshot_to,
                frames_ready: 0,
                requested: false,
                shot: Arc::new(Mutex::new(Shot::Pending)),
                exit: app_exit,
            }))
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
    fn set_exit(&self, code: ExitCode) {
        if let Ok(mut e) = self.exit.lock() {
            *e = Some(code);
        }
    }

    fn poll_loader(&mut self) {
        let Phase::Loading {
            rx,
            progress,
            stage,
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
        match done {
            Some(Ok(model)) => self.phase = Phase::Ready(Box::new(TraceViewer::new(model))),
            Some(Err(LoadError::Cancelled)) => {
                self.phase = Phase::Failed("Loading was cancelled.".to_owned());
            }
            Some(Err(e)) => {
                eprintln!("goroscope: {e}");
                self.set_exit(ExitCode::from(3));
                self.phase = Phase::Failed(e.to_string());
            }
            None => {}
        }
    }

    /// Takes the screenshot when due, and closes the window once it is saved.
    fn screenshot(&mut self, ctx: &egui::Context) {
        let Some(path) = self.screenshot_to.clone() else {
            return;
        };
        match &self.phase {
            Phase::Ready(_) => self.frames_ready += 1,
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
        self.poll_loader();
        match &mut self.phase {
            Phase::Loading {
                progress, stage, ..
            } => {
                if loading_ui(ui, &self.name, *progress, stage) == LoadingAction::Cancel {
                    self.cancel.store(true, Ordering::Relaxed);
                }
            }
            Phase::Ready(viewer) => viewer.ui(ui),
            Phase::Failed(msg) => {
                let msg = msg.clone();
                egui::CentralPanel::default().show(ui, |ui| {
                    ui.vertical_centered(|ui| {
                        ui.add_space(ui.available_height() / 3.0);
                        ui.heading(format!("Cannot show {}", self.name));
                        ui.label(msg);
                    });
                });
            }
        }
        let ctx = ui.ctx().clone();
        self.screenshot(&ctx);
    }
}
