//! The `goroscope` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

mod analyze;
mod dump;
mod export;
mod load;
mod meta;
mod output;
mod pprof_cmd;
mod report;
mod summary;
mod viewer;

/// Exit codes (also in `--help` and docs/cli.md).
pub mod exit {
    /// `check` found a broken limit or a failing finding.
    pub const CHECK_FAILED: u8 = 1;
    /// Bad flags or arguments, or a bad configuration file.
    pub const USAGE: u8 = 2;
    /// The trace could not be read at all (missing, not a trace, nothing readable).
    pub const UNREADABLE: u8 = 3;
    /// The output could not be written.
    pub const OUTPUT: u8 = 4;
    /// Interrupted with Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

const AFTER_HELP: &str = "\
Examples:
  goroscope trace.out                          open the trace in the viewer
  goroscope summary trace.out                  what the trace holds, the findings, goroutine groups
  goroscope blocking trace.out                 where goroutines waited and who released them
  goroscope sched --format md trace.out        scheduler diagnostics as Markdown
  goroscope check --max-sched-latency-p99 5ms --max-stw 10ms --no-leaks trace.out
                                               a CI gate: exit code 1 when a limit is broken
  goroscope diff before.out after.out          the same metrics for two traces, with deltas
  goroscope report -o report.html trace.out    one self-contained HTML page with charts
  goroscope export --format chrome-json -o trace.json trace.out
                                               open trace.json in ui.perfetto.dev

Exit codes:
  0    success
  1    check: a limit was broken or a finding failed the check
  2    usage: bad flags or arguments, bad configuration file
  3    the trace could not be read (missing file, not a trace, nothing readable)
  4    the output could not be written
  130  interrupted (Ctrl-C)

A damaged trace is not an error: its warnings come first on standard error, then the
results from the parts that could be read.";

/// Find out why a Go program was slow, from its execution trace.
///
/// `goroscope FILE` opens FILE in the viewer (as `goroscope view FILE` does). The other
/// commands analyse a trace and print a report: aligned tables by default, or JSON,
/// Markdown or CSV with --format.
#[derive(Debug, Parser)]
#[command(
    name = "goroscope",
    version,
    about,
    after_long_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The trace to open in the viewer.
    file: Option<PathBuf>,
    /// With FILE: save a PNG screenshot of the viewer once the trace is shown, then exit.
    #[arg(long, value_name = "PNG", requires = "file")]
    screenshot_to: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open a trace in the desktop viewer.
    View {
        /// Save a PNG screenshot of the window once the trace is shown, then exit.
        #[arg(long, value_name = "PNG")]
        screenshot_to: Option<PathBuf>,
        /// The trace file; without one, the start screen (open a file, recent files).
        file: Option<PathBuf>,
    },
    /// What a trace holds, the headline numbers of every analysis, the findings, and where
    /// goroutines spent their time, grouped by start function.
    Summary(summary::SummaryCmd),
    /// Where goroutines waited and who released them: by reason, blocking site, releaser
    /// site and pair; convoys (many waiters at one site); goroutines still blocked at the
    /// end (leak candidates).
    Blocking(analyze::BlockingCmd),
    /// Scheduler diagnostics: scheduling latency (overall, per P, per group, histogram), P
    /// utilization, lost work, run-queue spikes, stop-the-world pauses, mark assists,
    /// syscalls that lost their P, long runs.
    Sched(analyze::SchedCmd),
    /// Why an interval took as long as it did: the critical path of every task of a type
    /// (the slowest 1% beside the median), of a region type, or of one goroutine (by
    /// default: every task type, else the main goroutine).
    CriticalPath(analyze::CriticalCmd),
    /// A CI gate: evaluate the finding rules and the limits given as flags; exit code 1 when
    /// one is broken.
    #[command(after_long_help = "\
Examples:
  goroscope check trace.out
  goroscope check --fail-on error --max-sched-latency-p99 5ms --max-stw 10ms trace.out
  goroscope check --fail-on never --no-leaks --format json -o check.json trace.out
  goroscope check --config findings.toml trace.out

Exit codes: 0 passed, 1 failed, 2 usage or configuration error, 3 unreadable trace.")]
    Check(analyze::CheckCmd),
    /// The same metrics for two traces side by side, with deltas and ratios; blocking sites
    /// and goroutine groups of both.
    Diff(analyze::DiffCmd),
    /// One self-contained HTML page (inline SVG charts, no script, no network): findings,
    /// blocking sites and their releasers, scheduling latency, P utilization over time, STW
    /// pauses, the critical path, goroutine groups.
    Report(report::ReportCmd),
    /// Export the timelines: trace-event JSON for Perfetto and chrome://tracing (P, M and
    /// goroutine lanes, unblock arrows, GC and STW), or every span as CSV.
    Export(export::ExportCmd),
    /// Print the trace's events or records in one of Go's debug formats, or as JSON lines.
    Dump(dump::DumpCmd),
    /// Convert a trace between Go's binary form and Go's text form (the syntax of Go's
    /// golden tests and of `go tool trace -d=wire`), e.g. to hand-edit a trace.
    Convert(dump::ConvertCmd),
    /// Write a pprof profile of where goroutines waited, for `go tool pprof`: Go's own
    /// (`net`, `sync`, `syscall`, `sched`, identical to `go tool trace -pprof=KIND`) or
    /// `released-by` (blocked time charged to the code that released the waiter).
    Pprof(pprof_cmd::PprofArgs),
    /// Print a shell completion script (e.g. `goroscope completions bash >
    /// ~/.local/share/bash-completion/completions/goroscope`).
    Completions(meta::CompletionsCmd),
    /// Print the man page (roff), e.g. `goroscope man > goroscope.1`.
    Man(meta::ManCmd),
}

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    Cli::command()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        let Some(file) = cli.file else {
            Cli::command().print_help().ok();
            return ExitCode::from(exit::USAGE);
        };
        if !file.exists() {
            // Most likely a mistyped command rather than a missing trace.
            eprintln!(
                "goroscope: no such command or file: {} (see `goroscope --help`)",
                file.display()
            );
            return ExitCode::from(exit::USAGE);
        }
        return viewer::run(&viewer::ViewOptions {
            file: Some(file),
            screenshot_to: cli.screenshot_to,
        });
    };
    let outcome = match command {
        Command::View {
            screenshot_to,
            file,
        } => {
            return viewer::run(&viewer::ViewOptions {
                file,
                screenshot_to,
            });
        }
        Command::Pprof(args) => return pprof_cmd::run(&args),
        Command::Summary(c) => c.run(),
        Command::Blocking(c) => c.run(),
        Command::Sched(c) => c.run(),
        Command::CriticalPath(c) => c.run(),
        Command::Check(c) => c.run(),
        Command::Diff(c) => c.run(),
        Command::Report(c) => c.run(),
        Command::Export(c) => c.run(),
        Command::Dump(c) => c.run(),
        Command::Convert(c) => c.run(),
        Command::Completions(c) => c.run(),
        Command::Man(c) => c.run(),
    };
    load::finish(outcome)
}
