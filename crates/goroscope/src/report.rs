//! `goroscope report`: one self-contained HTML page of every analysis.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use goroscope_analysis::findings::Config;
use goroscope_analysis::sched;
use goroscope_report::blocking::BlockingReport;
use goroscope_report::html::{Inputs, render};
use goroscope_report::sched::SchedReport;
use goroscope_report::summary::SummaryReport;

use crate::analyze::{Analyses, SchedArgs, default_critical, mmu_points, read_config};
use crate::load::{LoadArgs, Outcome, load};
use crate::output::write_out;

/// `goroscope report`.
#[derive(Debug, Args)]
pub struct ReportCmd {
    /// The HTML file to write (`-` for standard output).
    #[arg(long, short = 'o', value_name = "FILE.html")]
    output: PathBuf,
    /// Rule thresholds for the findings (TOML, as `check --config`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How many rows each table keeps.
    #[arg(long, default_value_t = 20, value_name = "N")]
    top: usize,
    #[command(flatten)]
    sched: SchedArgs,
    /// No progress bar while loading.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// The trace file.
    file: PathBuf,
}

impl ReportCmd {
    /// Runs the command.
    pub fn run(&self) -> Outcome {
        let config: Config = read_config(self.config.as_deref())?;
        let l = load(
            &self.file,
            LoadArgs {
                quiet: self.quiet,
                summary: true,
                mmu: true,
            },
        )?;
        let options: sched::Options = self.sched.options(self.top);
        // The critical paths beside the other analyses: all only read the timelines, and
        // the paths are walked in brief (a few MB).
        let (a, c) = rayon::join(
            || Analyses::of(&l.trace, &options, &config),
            || default_critical(&l.trace, &l.path, self.top),
        );
        let summary = l.summary.clone().unwrap_or_default();
        let s = SummaryReport::build(
            &l.trace,
            &l.path,
            &summary,
            &a.blocking,
            &a.sched,
            &a.findings,
            self.top,
        );
        let b = BlockingReport::build(&l.trace, &l.path, &a.blocking, self.top);
        let d = SchedReport::build(
            &l.trace,
            &l.path,
            &a.sched,
            &mmu_points(&l),
            self.sched.long_run,
            self.top,
        );
        let generator = format!("goroscope {}", env!("CARGO_PKG_VERSION"));
        let mut html = render(&Inputs {
            summary: &s,
            blocking: &b,
            sched: &d,
            critical: Some(&c),
            generator: &generator,
        });
        html.push('\n');
        write_out(Some(&self.output), html.as_bytes())?;
        Ok(ExitCode::SUCCESS)
    }
}
