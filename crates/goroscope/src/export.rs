//! `goroscope export`: the timelines as trace-event JSON (Perfetto, chrome://tracing) or
//! as one CSV table of spans.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::load::{LoadArgs, Outcome, load};
use crate::output::{stream_error, writer};

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Trace-event JSON: open it in <https://ui.perfetto.dev> or chrome://tracing.
    ChromeJson,
    /// Every goroutine, P and thread span, GC phase and STW pause as one CSV table.
    Csv,
}

/// `goroscope export`.
#[derive(Debug, Args)]
pub struct ExportCmd {
    /// The format.
    #[arg(long, short = 'f', value_enum)]
    format: ExportFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// No progress bar while loading.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// The trace file.
    file: PathBuf,
}

impl ExportCmd {
    /// Runs the command.
    pub fn run(&self) -> Outcome {
        let l = load(
            &self.file,
            LoadArgs {
                quiet: self.quiet,
                summary: false,
                mmu: false,
            },
        )?;
        let out = writer(self.output.as_deref())?;
        let t = &l.trace.timelines;
        let result = match self.format {
            ExportFormat::ChromeJson => goroscope_report::chrome::write(t, out),
            ExportFormat::Csv => goroscope_report::spans::write(t, out),
        };
        match result {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => stream_error(&e, self.output.as_deref()),
        }
    }
}
