//! The analysis commands: `blocking`, `sched`, `critical-path`, `check` and `diff` (and the
//! analyses `summary` and `report` share with them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use goroscope_analysis::blocking::{self, Blocking};
use goroscope_analysis::critical::{Breakdown, CriticalPath, PathFinder, Target};
use goroscope_analysis::findings::{self, Config, Finding, Severity};
use goroscope_analysis::sched::{self, Diagnostics};
use goroscope_analysis::summary::Summary;
use goroscope_report::blocking::BlockingReport;
use goroscope_report::check::{CheckReport, Limits};
use goroscope_report::critical::{BreakdownOut, CriticalReport, PathOut};
use goroscope_report::diff::{DiffReport, Side};
use goroscope_report::sched::SchedReport;
use goroscope_trace::Trace;

use crate::exit;
use crate::load::{Fail, LoadArgs, Loaded, Outcome, load};
use crate::output::OutputArgs;

/// Parses a duration flag (`850ns`, `12us`, `5ms`, `1.5s`).
pub fn parse_duration(s: &str) -> Result<i64, String> {
    findings::parse_duration(s)
}

/// Parses a fraction flag: `5%` or `0.05`.
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let (num, scale) = match s.strip_suffix('%') {
        Some(n) => (n, 0.01),
        None => (s, 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a fraction (write 0.05 or 5%)"))?;
    let v = v * scale;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{s:?} is not between 0 and 100%"))
    }
}

/// Every analysis of one trace that the reports use.
pub struct Analyses {
    /// Blocking attribution.
    pub blocking: Blocking,
    /// Scheduler diagnostics.
    pub sched: Diagnostics,
    /// The findings of the rules.
    pub findings: Vec<Finding>,
}

impl Analyses {
    /// Runs the analyses on a loaded trace (blocking attribution beside the scheduler
    /// diagnostics: they only read the timelines).
    pub fn of(trace: &Trace, options: &sched::Options, config: &Config) -> Self {
        let t = &trace.timelines;
        let (blocking, sched) =
            rayon::join(|| blocking::analyze(t), || sched::diagnose(t, options));
        let findings = findings::evaluate(t, &blocking, &sched, config);
        Self {
            blocking,
            sched,
            findings,
        }
    }
}

/// Scheduler analysis options shared by several commands.
#[derive(Debug, Clone, Args)]
pub struct SchedArgs {
    /// How many equal windows to split the trace into for utilization and latency over
    /// time.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub windows: usize,
    /// Runs at least this long without a switch count as long runs.
    #[arg(long, default_value = "10ms", value_parser = parse_duration, value_name = "DURATION")]
    pub long_run: i64,
}

impl SchedArgs {
    /// The analysis options, keeping `top` items of top-N lists (0 = all).
    pub fn options(&self, top: usize) -> sched::Options {
        sched::Options {
            windows: self.windows.max(1),
            long_run: self.long_run,
            top: if top == 0 { usize::MAX } else { top },
        }
    }
}

fn title(command: &str, path: &str) -> String {
    format!("goroscope {command}: {path}")
}

fn load_for(file: &Path, out: &OutputArgs, summary: bool, mmu: bool) -> Result<Loaded, Fail> {
    load(
        file,
        LoadArgs {
            quiet: out.quiet,
            summary,
            mmu,
        },
    )
}

/// The MMU at round window lengths up to the trace's span: `(window, mmu)`.
pub fn mmu_points(l: &Loaded) -> Vec<(i64, f64)> {
    let Some(curve) = &l.mmu else {
        return Vec::new();
    };
    let t = &l.trace.timelines;
    let span = (t.end - t.start).max(1);
    MMU_WINDOWS
        .iter()
        .copied()
        .filter(|&w| w <= span)
        .map(|w| (w, (curve.mmu(w) * 1e4).round() / 1e4))
        .collect()
}

/// Windows of the MMU table: 100µs to 10s.
const MMU_WINDOWS: [i64; 6] = [
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
];

/// `goroscope blocking`.
#[derive(Debug, Args)]
pub struct BlockingCmd {
    #[command(flatten)]
    out: OutputArgs,
    /// The trace file.
    file: PathBuf,
}

impl BlockingCmd {
    /// Runs the command.
    pub fn run(&self) -> Outcome {
        let l = load_for(&self.file, &self.out, false, false)?;
        let b = blocking::analyze(&l.trace.timelines);
        let r = BlockingReport::build(&l.trace, &l.path, &b, self.out.top);
        self.out
            .emit(&title("blocking", &l.path), &r, &r.document())?;
        Ok(ExitCode::SUCCESS)
    }
}

/// `goroscope sched`.
#[derive(Debug, Args)]
pub struct SchedCmd {
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    sched: SchedArgs,
    /// The trace file.
    file: PathBuf,
}

impl SchedCmd {
    /// Runs the command.
    pub fn run(&self) -> Outcome {
        let l = load_for(&self.file, &self.out, false, true)?;
        let d = sched::diagnose(&l.trace.timelines, &self.sched.options(self.out.top));
        let r = SchedReport::build(
            &l.trace,
            &l.path,
            &d,
            &mmu_points(&l),
            self.sched.long_run,
            self.out.top,
        );
        self.out.emit(&title("sched", &l.path), &r, &r.document())?;
        Ok(ExitCode::SUCCESS)
    }
}

/// `goroscope critical-path`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("by_type").args(["task_type", "region"]))]
pub struct CriticalCmd {
    #[command(flatten)]
    out: OutputArgs,
    /// Every task of this type (`trace.NewTask`): the slowest 1% beside the median.
    #[arg(long, value_name = "TYPE", conflicts_with_all = ["region", "goroutine", "task"])]
    task_type: Option<String>,
    /// One task, by its ID: from its start to its end on the goroutine that ended it.
    #[arg(long, value_name = "ID", conflicts_with_all = ["region", "goroutine"])]
    task: Option<u64>,
    /// Every region of this type (`trace.WithRegion`, `trace.StartRegion`).
    #[arg(long, value_name = "TYPE", conflicts_with = "goroutine")]
    region: Option<String>,
    /// With --task-type or --region: also the whole critical paths of the N slowest.
    #[arg(long, value_name = "N", requires = "by_type")]
    slowest: Option<usize>,
    /// One goroutine, from --from to --to (default: from its first to its last event).
    #[arg(long, value_name = "ID")]
    goroutine: Option<i64>,
    /// With --goroutine: the start of the interval, as a time since the trace start.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", requires = "goroutine")]
    from: Option<i64>,
    /// With --goroutine: the end of the interval, as a time since the trace start.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", requires = "goroutine")]
    to: Option<i64>,
    /// The trace file.
    file: PathBuf,
}

/// The critical-path report the `report` command shows: every task type, or else the
/// main goroutine.
pub fn default_critical(trace: &Trace, path: &str, top: usize) -> CriticalReport {
    let t = &trace.timelines;
    let finder = PathFinder::new(t).keeping(top);
    let kinds = goroscope_analysis::critical::task_kinds(t);
    if !kinds.is_empty() {
        let breakdowns = kinds
            .iter()
            .take(if top == 0 { kinds.len() } else { top.min(5) })
            .filter_map(|&(k, _)| finder.task_kind(k))
            .map(|b| BreakdownOut::of(t, "task", &b, top))
            .collect();
        return CriticalReport::new(trace, path, Vec::new(), breakdowns);
    }
    // In brief: a path through a whole trace has millions of segments, and the report
    // shows a few.
    let paths = main_goroutine(t)
        .and_then(|(g, start, end)| finder.brief(Target::Goroutine { g, start, end }, top))
        .map(|p| PathOut::of_brief(t, &p, top))
        .into_iter()
        .collect();
    CriticalReport::new(trace, path, paths, Vec::new())
}

/// The goroutine running `main.main` (else the lowest ID), from its first to its last
/// event: (goroutine, start, end).
pub fn main_goroutine(t: &goroscope_trace::timeline::Timelines) -> Option<(i64, i64, i64)> {
    let g = t
        .goroutines
        .iter()
        .find(|g| matches!(t.strings.get(g.name), b"runtime.main" | b"main.main"))
        .or_else(|| t.goroutines.first())?;
    goroutine_interval(t, g.id)
}

/// Goroutine `id` from its first event to its end (or the end of the trace): (goroutine,
/// start, end).
pub fn goroutine_interval(
    t: &goroscope_trace::timeline::Timelines,
    id: i64,
) -> Option<(i64, i64, i64)> {
    let g = t.goroutine(id)?;
    let first = g.spans.iter().next().map_or(t.start, |s| s.time);
    let end = g.ended.unwrap_or(t.end);
    Some((id, first.max(t.start), end))
}

impl CriticalCmd {
    /// Runs the command.
    pub fn run(&self) -> Outcome {
        let l = load_for(&self.file, &self.out, false, false)?;
        let t = &l.trace.timelines;
        let top = self.out.top;
        let finder = PathFinder::new(t).keeping(top);
        let kind = |name: &str, what: &str| {
            t.strings.find(name.as_bytes()).ok_or_else(|| {
                Fail::new(
                    exit::USAGE,
                    format!("no {what} of type {name:?} in the trace: {}", l.path),
                )
            })
        };
        // The whole paths of the `--slowest N` of a breakdown, slowest first.
        let slowest = |b: &Breakdown| -> Vec<PathOut> {
            let n = self.slowest.unwrap_or(0);
            b.paths
                .iter()
                .take(n)
                .filter_map(|s| finder.path(s.target))
                .map(|p| PathOut::of(t, &p, top))
                .collect()
        };
        let report = if let Some(name) = &self.task_type {
            let b = finder.task_kind(kind(name, "task")?).ok_or_else(|| {
                Fail::new(
                    exit::USAGE,
                    format!("no task of type {name:?} ended in the trace: {}", l.path),
                )
            })?;
            CriticalReport::new(
                &l.trace,
                &l.path,
                slowest(&b),
                vec![BreakdownOut::of(t, "task", &b, top)],
            )
        } else if let Some(name) = &self.region {
            let b = finder.region_kind(kind(name, "region")?).ok_or_else(|| {
                Fail::new(
                    exit::USAGE,
                    format!("no region of type {name:?} in the trace: {}", l.path),
                )
            })?;
            CriticalReport::new(
                &l.trace,
                &l.path,
                slowest(&b),
                vec![BreakdownOut::of(t, "region", &b, top)],
            )
        } else if let Some(id) = self.task {
            let p = task_path(&finder, id)
                .map_err(|why| Fail::new(exit::USAGE, format!("task {id} {why}: {}", l.path)))?;
            CriticalReport::new(&l.trace, &l.path, vec![PathOut::of(t, &p, top)], Vec::new())
        } else if let Some(g) = self.goroutine {
            let (g, first, last) = goroutine_interval(t, g).ok_or_else(|| {
                Fail::new(
                    exit::USAGE,
                    format!("no goroutine {g} in the trace: {}", l.path),
                )
            })?;
            let start = self.from.map_or(first, |d| t.start + d);
            let end = self.to.map_or(last, |d| t.start + d);
            let p = finder
                .brief(Target::Goroutine { g, start, end }, top)
                .ok_or_else(|| {
                    Fail::new(
                        exit::USAGE,
                        format!(
                            "goroutine {g} has no critical path in that interval: {}",
                            l.path
                        ),
                    )
                })?;
            CriticalReport::new(
                &l.trace,
                &l.path,
                vec![PathOut::of_brief(t, &p, top)],
                Vec::new(),
            )
        } else {
            default_critical(&l.trace, &l.path, top)
        };
        self.out.emit(
            &title("critical-path", &l.path),
            &report,
            &report.document(),
        )?;
        Ok(ExitCode::SUCCESS)
    }
}

/// The critical path of the task with ID `id`, or why there is none.
pub fn task_path(finder: &PathFinder<'_>, id: u64) -> Result<CriticalPath, &'static str> {
    let t = finder.timelines();
    let index = t
        .tasks
        .iter()
        .position(|task| task.id == id)
        .ok_or("is not in the trace")?;
    finder
        .task(index)
        .ok_or("did not end in the trace (a critical path walks back from the end)")
}

/// The least severity that fails `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Info,
    /// Warnings and errors.
    Warning,
    /// Errors only.
    Error,
    /// No finding fails the check; only the limits do.
    Never,
}

impl FailOn {
    fn severity(self) -> Option<Severity> {
        match self {
            Self::Info => Some(Severity::Info),
            Self::Warning => Some(Severity::Warning),
            Self::Error => Some(Severity::Error),
            Self::Never => None,
        }
    }
}

/// Reads a findings configuration file (TOML); a bad file is a usage error.
pub fn read_config(path: Option<&Path>) -> Result<Config, Fail> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Fail::new(
            exit::USAGE,
            format!("cannot read the configuration: {e}: {}", path.display()),
        )
    })?;
    Config::from_toml(&text).map_err(|e| {
        let one_line = e.split_whitespace().collect::<Vec<_>>().join(" ");
        Fail::new(
            exit::USAGE,
            format!("bad configuration: {one_line}: {}", path.display()),
        )
    })
}

/// `goroscope check`.
#[derive(Debug, Args)]
pub struct CheckCmd {
    #[command(flatten)]
    out: OutputArgs,
    /// Rule thresholds (TOML; see docs/cli.md): change defaults or turn rules off.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The least severity of a finding that fails the check.
    #[arg(long, value_enum, default_value_t = FailOn::Warning, value_name = "SEVERITY")]
    fail_on: FailOn,
    /// Fail if the p99 scheduling latency is above DURATION.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    max_sched_latency_p99: Option<i64>,
    /// Fail if any scheduling latency is above DURATION.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    max_sched_latency: Option<i64>,
    /// Fail if a stop-the-world pause is longer than DURATION.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    max_stw: Option<i64>,
    /// Fail if stop-the-world pauses add up to more than DURATION.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    max_stw_total: Option<i64>,
    /// Fail if Ps sat idle while goroutines were runnable for more than this share of
    /// P-time (`2%` or `0.02`).
    #[arg(long, value_parser = parse_fraction, value_name = "FRACTION")]
    max_lost_work: Option<f64>,
    /// Fail if GC mark assists took more than this share of P-time.
    #[arg(long, value_parser = parse_fraction, value_name = "FRACTION")]
    max_gc_assist: Option<f64>,
    /// Fail if more than N syscalls blocked long enough to lose their P.
    #[arg(long, value_name = "N")]
    max_blocking_syscalls: Option<u64>,
    /// Fail if more than N goroutines waited at one site at once (lock convoys).
    #[arg(long, value_name = "N")]
    max_convoy: Option<u32>,
    /// Fail if any user goroutine is still blocked at the end of the trace on a channel,
    /// select, lock or condition variable (sleeping and network waits do not count).
    #[arg(long)]
    no_leaks: bool,
    /// The trace file.
    file: PathBuf,
}

impl CheckCmd {
    /// Runs the command: exit code 0 if the check passed, 1 if not.
    pub fn run(&self) -> Outcome {
        let config = read_config(self.config.as_deref())?;
        let l = load_for(&self.file, &self.out, false, false)?;
        let a = Analyses::of(&l.trace, &sched::Options::default(), &config);
        let limits = Limits {
            sched_latency_p99: self.max_sched_latency_p99,
            sched_latency_max: self.max_sched_latency,
            stw: self.max_stw,
            stw_total: self.max_stw_total,
            lost_work: self.max_lost_work,
            gc_assist: self.max_gc_assist,
            blocking_syscalls: self.max_blocking_syscalls,
            convoy: self.max_convoy,
            no_leaks: self.no_leaks,
        };
        let r = CheckReport::build(
            &l.trace,
            &l.path,
            &a.blocking,
            &a.sched,
            &a.findings,
            &limits,
            self.fail_on.severity(),
        );
        self.out.emit(&title("check", &l.path), &r, &r.document())?;
        Ok(if r.passed {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(exit::CHECK_FAILED)
        })
    }
}

fn side<'a>(l: &'a Loaded, an: &'a Analyses, summary: &'a Summary) -> Side<'a> {
    Side {
        trace: &l.trace,
        path: &l.path,
        summary,
        blocking: &an.blocking,
        sched: &an.sched,
        findings: &an.findings,
    }
}

/// `goroscope diff`.
#[derive(Debug, Args)]
pub struct DiffCmd {
    #[command(flatten)]
    out: OutputArgs,
    /// The trace before the change.
    before: PathBuf,
    /// The trace after the change.
    after: PathBuf,
}

impl DiffCmd {
    /// Runs the command.
    pub fn run(&self) -> Outcome {
        let b = load_for(&self.before, &self.out, true, false)?;
        let a = load_for(&self.after, &self.out, true, false)?;
        let options = sched::Options::default();
        let config = Config::default();
        let (ab, aa) = (
            Analyses::of(&b.trace, &options, &config),
            Analyses::of(&a.trace, &options, &config),
        );
        let empty = Summary::default();
        let (sb, sa) = (
            b.summary.as_ref().unwrap_or(&empty),
            a.summary.as_ref().unwrap_or(&empty),
        );
        let r = DiffReport::build(&side(&b, &ab, sb), &side(&a, &aa, sa), self.out.top);
        self.out.emit(
            &format!("goroscope diff: {} → {}", b.path, a.path),
            &r,
            &r.document(),
        )?;
        Ok(ExitCode::SUCCESS)
    }
}
