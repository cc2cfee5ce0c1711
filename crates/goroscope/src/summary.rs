//! `goroscope summary`: what a trace holds, the headline numbers of every analysis, the
//! findings, and where goroutines spent their time, grouped by start function.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use goroscope_analysis::findings::Config;
use goroscope_analysis::sched;
use goroscope_report::summary::SummaryReport;

use crate::analyze::Analyses;
use crate::load::{LoadArgs, Outcome, load};
use crate::output::OutputArgs;

/// `goroscope summary`.
#[derive(Debug, Args)]
pub struct SummaryCmd {
    #[command(flatten)]
    out: OutputArgs,
    /// The trace file.
    file: PathBuf,
}

impl SummaryCmd {
    /// Runs the command.
    pub fn run(&self) -> Outcome {
        let l = load(
            &self.file,
            LoadArgs {
                quiet: self.out.quiet,
                summary: true,
                mmu: false,
            },
        )?;
        let a = Analyses::of(&l.trace, &sched::Options::default(), &Config::default());
        let summary = l.summary.unwrap_or_default();
        let r = SummaryReport::build(
            &l.trace,
            &l.path,
            &summary,
            &a.blocking,
            &a.sched,
            &a.findings,
            self.out.top,
        );
        self.out
            .emit(&format!("goroscope summary: {}", l.path), &r, &r.document())?;
        Ok(ExitCode::SUCCESS)
    }
}
