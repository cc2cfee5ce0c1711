//! Loading a trace for a command: a progress bar on a terminal, Ctrl-C to stop, warnings
//! for damaged parts, and one clear line when nothing can be read.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use goroscope_analysis::summary::Summary;
use goroscope_analysis::{EventAnalyses, MmuCurve, UtilFlags};
use goroscope_trace::{LoadError, LoadOptions, Progress, Trace};

use crate::exit;

/// Why a command stopped: the exit code and the line to print (none when already printed).
#[derive(Debug)]
pub struct Fail {
    /// The exit code.
    pub code: u8,
    /// The message, without the `goroscope: ` prefix.
    pub message: Option<String>,
}

impl Fail {
    /// A failure with a message.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: Some(message.into()),
        }
    }

    /// Prints the message (if any) and returns the exit code.
    pub fn report(self) -> ExitCode {
        if let Some(m) = self.message {
            eprintln!("goroscope: {m}");
        }
        ExitCode::from(self.code)
    }
}

/// The result of a command.
pub type Outcome = Result<ExitCode, Fail>;

/// Turns an outcome into the process's exit code.
pub fn finish(o: Outcome) -> ExitCode {
    o.unwrap_or_else(Fail::report)
}

/// Set by Ctrl-C; the loader polls it.
fn cancel_flag() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Whether a load is in progress (Ctrl-C then cancels it instead of exiting at once).
static LOADING: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler (once): during loading it asks the loader to stop, so the
/// command ends cleanly with exit code 130 (or exits with 130 two seconds later if the
/// loader does not notice); otherwise, or on a second Ctrl-C, it exits at once with 130.
pub fn install_ctrlc() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let flag = Arc::clone(cancel_flag());
        // If a handler cannot be installed, Ctrl-C keeps its default effect.
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) || !LOADING.load(Ordering::SeqCst) {
                eprintln!("\ngoroscope: interrupted");
                std::process::exit(i32::from(exit::INTERRUPTED));
            }
            // The loader polls the flag between events; if it is stuck reading (a pipe, a
            // slow disk), stop anyway.
            std::thread::spawn(|| {
                std::thread::sleep(std::time::Duration::from_secs(2));
                eprintln!("\ngoroscope: interrupted");
                std::process::exit(i32::from(exit::INTERRUPTED));
            });
        });
    });
}

/// How to load.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadArgs {
    /// No progress bar.
    pub quiet: bool,
    /// Also compute Go's goroutine summary in the same pass.
    pub summary: bool,
    /// Also compute mutator utilization (for the MMU) in the same pass.
    pub mmu: bool,
}

/// A loaded trace.
pub struct Loaded {
    /// The trace.
    pub trace: Trace,
    /// Its goroutine summary, if asked for.
    pub summary: Option<Summary>,
    /// Its MMU curve (as `go tool trace` computes it), if asked for.
    pub mmu: Option<MmuCurve>,
    /// The path as given.
    pub path: String,
}

/// A progress bar on standard error, only on a terminal and without `--quiet`.
fn progress_bar(path: &Path, quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr_with_hz(10),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes}, {msg} events, {elapsed}",
    )
    .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    bar.set_prefix(format!("loading {name}"));
    bar.set_message("0");
    Some(bar)
}

/// Loads the trace at `path`: prints the warnings of damaged parts to standard error
/// first, and fails with exit code 3 when nothing can be read (130 when interrupted).
pub fn load(path: &Path, a: LoadArgs) -> Result<Loaded, Fail> {
    install_ctrlc();
    let bar = progress_bar(path, a.quiet);
    // The summary and the MMU in the loader's pass: no pass of their own.
    let mut analyses = EventAnalyses::new();
    if a.summary {
        analyses = analyses.with_summary();
    }
    if a.mmu {
        analyses = analyses.with_utilization(UtilFlags::GO_TOOL_TRACE);
    }
    let wanted = !analyses.is_empty();
    let mut feed = |ev: &goroscope_trace::Event, tables: &goroscope_trace::Tables<'_>| {
        analyses.event(ev, tables);
    };
    let mut on_progress = |p: Progress| {
        if let Some(b) = &bar {
            b.set_length(p.bytes_total);
            b.set_position(p.bytes_done);
            b.set_message(p.events.to_string());
        }
    };
    LOADING.store(true, Ordering::SeqCst);
    let result = Trace::open_with(
        path,
        LoadOptions {
            on_event: if wanted { Some(&mut feed) } else { None },
            progress: Some(&mut on_progress),
            cancel: Some(Arc::clone(cancel_flag())),
            one_thread: false,
        },
    );
    LOADING.store(false, Ordering::SeqCst);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let trace = match result {
        Ok(t) => t,
        Err(LoadError::Cancelled) => {
            return Err(Fail::new(exit::INTERRUPTED, "interrupted"));
        }
        Err(e) => return Err(Fail::new(exit::UNREADABLE, e.to_string())),
    };
    if cancel_flag().load(Ordering::SeqCst) {
        return Err(Fail::new(exit::INTERRUPTED, "interrupted"));
    }
    let t = &trace.timelines;
    if t.goroutines.is_empty()
        && t.procs.is_empty()
        && let Some(w) = trace.warnings.first()
    {
        // Damaged before anything useful: the loader kept nothing but the header.
        return Err(Fail::new(
            exit::UNREADABLE,
            format!("nothing could be read: {w}: {}", path.display()),
        ));
    }
    for w in &trace.warnings {
        eprintln!("goroscope: warning: {w}: {}", path.display());
    }
    let results = analyses.finish();
    let summary = results.summary;
    let mmu = results.utilization.map(|u| MmuCurve::new(&u));
    Ok(Loaded {
        trace,
        summary,
        mmu,
        path: path.display().to_string(),
    })
}
