//! `goroscope pprof`: a pprof profile of where goroutines waited, for `go tool pprof`.
//!
//! `net`, `sync`, `syscall` and `sched` are the profiles of `go tool trace -pprof=KIND`,
//! sample for sample (read the trace as Go does: on a damaged trace, the events up to the
//! last Sync before the error); `released-by` charges every wait to the stack of the
//! goroutine that released it, and `critical-path` is the time on critical paths by stack,
//! under one root frame per category (both read with the loader, which skips a damaged
//! generation and carries on). See `goroscope_analysis::pprof`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use goroscope_analysis::critical::{
    Breakdown, CriticalPath, PathFinder, Profile as CriticalProfile, Target,
};
use goroscope_analysis::pprof::{GoProfileKind, GoProfiler, Profile, critical_path, released_by};
use rayon::prelude::*;

use crate::analyze::{goroutine_interval, main_goroutine, task_path};
use goroscope_trace::{EventStream, Trace, TraceData};

/// Which profile to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Time blocked on the network (`go tool trace -pprof=net`).
    Net,
    /// Time blocked on channels, select and sync primitives (`-pprof=sync`).
    Sync,
    /// Time in syscalls (`-pprof=syscall`).
    Syscall,
    /// Time runnable, waiting for a P (`-pprof=sched`).
    Sched,
    /// Time blocked, charged to the stack of the goroutine that released the waiter
    /// ("(runtime)" when no goroutine did, "(still blocked at trace end)" for waits that
    /// never ended).
    ReleasedBy,
    /// Time on critical paths, by stack, under a root frame per category (running,
    /// scheduling latency, syscall, ...): of every task (by default; else the main
    /// goroutine), or of what --task-type, --task, --region or --goroutine selects.
    CriticalPath,
}

impl Kind {
    fn go(self) -> Option<GoProfileKind> {
        Some(match self {
            Self::Net => GoProfileKind::Net,
            Self::Sync => GoProfileKind::Sync,
            Self::Syscall => GoProfileKind::Syscall,
            Self::Sched => GoProfileKind::Sched,
            Self::ReleasedBy | Self::CriticalPath => return None,
        })
    }
}

/// The arguments of `goroscope pprof`.
#[derive(Debug, Args)]
pub struct PprofArgs {
    /// Which profile.
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// Where to write the profile (gzipped profile.proto); `-` for standard output.
    #[arg(short, long, value_name = "PROFILE")]
    pub output: PathBuf,
    /// With --kind critical-path: every task of this type.
    #[arg(long, value_name = "TYPE", conflicts_with_all = ["task", "region", "goroutine"])]
    pub task_type: Option<String>,
    /// With --kind critical-path: one task, by its ID.
    #[arg(long, value_name = "ID", conflicts_with_all = ["region", "goroutine"])]
    pub task: Option<u64>,
    /// With --kind critical-path: every region of this type.
    #[arg(long, value_name = "TYPE", conflicts_with = "goroutine")]
    pub region: Option<String>,
    /// With --kind critical-path: one goroutine, from its first to its last event.
    #[arg(long, value_name = "ID")]
    pub goroutine: Option<i64>,
    /// The trace file.
    pub file: PathBuf,
}

/// Runs the command.
pub fn run(args: &PprofArgs) -> ExitCode {
    let selects = args.task_type.is_some()
        || args.task.is_some()
        || args.region.is_some()
        || args.goroutine.is_some();
    if selects && args.kind != Kind::CriticalPath {
        eprintln!(
            "goroscope: --task-type, --task, --region and --goroutine go with --kind critical-path"
        );
        return ExitCode::from(crate::exit::USAGE);
    }
    let profile = match args.kind.go() {
        Some(kind) => go_profile(kind, &args.file),
        None if args.kind == Kind::CriticalPath => critical_path_profile(args),
        None => released_by_profile(&args.file),
    };
    let profile = match profile {
        Ok(p) => p,
        Err(code) => return code,
    };
    match write(&profile, &args.output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "goroscope: cannot write the profile: {e}: {}",
                args.output.display()
            );
            ExitCode::from(crate::exit::OUTPUT)
        }
    }
}

fn go_profile(kind: GoProfileKind, path: &Path) -> Result<Profile, ExitCode> {
    let data = TraceData::open(path).map_err(|e| {
        eprintln!("goroscope: cannot read the trace: {e}: {}", path.display());
        ExitCode::from(crate::exit::UNREADABLE)
    })?;
    let mut stream = EventStream::new(&data).map_err(|e| {
        eprintln!("goroscope: {e}: {}", path.display());
        ExitCode::from(crate::exit::UNREADABLE)
    })?;
    let mut profiler = GoProfiler::new();
    let mut events = 0u64;
    let error = stream.for_each_event(|ev, tables| {
        profiler.event(ev, tables);
        events += 1;
    });
    if let Some(e) = error {
        // As `go tool trace`: nothing useful without one whole generation; otherwise the
        // profile of the generations before the error.
        if events == 0 {
            eprintln!("goroscope: {e}: {}", path.display());
            return Err(ExitCode::from(crate::exit::UNREADABLE));
        }
        eprintln!(
            "goroscope: warning: {e}; the profile has the events up to the last generation \
             boundary before it: {}",
            path.display()
        );
    }
    Ok(profiler.finish().take(kind))
}

/// Opens the trace at `path` with its timelines, printing what was lost of it.
fn open(path: &Path) -> Result<Trace, ExitCode> {
    let trace = Trace::open(path).map_err(|e| {
        eprintln!("goroscope: {e}");
        ExitCode::from(crate::exit::UNREADABLE)
    })?;
    for w in &trace.warnings {
        eprintln!("goroscope: warning: {w}: {}", path.display());
    }
    Ok(trace)
}

fn released_by_profile(path: &Path) -> Result<Profile, ExitCode> {
    let trace = open(path)?;
    let t = &trace.timelines;
    let blocking = goroscope_analysis::blocking::analyze(t);
    Ok(released_by(t, &blocking.waits, |_| true))
}

fn critical_path_profile(args: &PprofArgs) -> Result<Profile, ExitCode> {
    let path = &args.file;
    let trace = open(path)?;
    let t = &trace.timelines;
    let finder = PathFinder::new(t);
    let usage = |what: String| {
        eprintln!("goroscope: {what}: {}", path.display());
        ExitCode::from(crate::exit::USAGE)
    };
    let kind = |name: &str, what: &str| {
        t.strings
            .find(name.as_bytes())
            .ok_or_else(|| usage(format!("no {what} of type {name:?} in the trace")))
    };
    // Every path of a breakdown: the slowest 1% and the median are only a part of them.
    let all = |b: Option<Breakdown>, what: String| -> Result<Vec<CriticalPath>, ExitCode> {
        let b = b.ok_or_else(|| usage(what))?;
        Ok(b.paths
            .iter()
            .filter_map(|s| finder.path(s.target))
            .collect())
    };
    let paths = if let Some(name) = &args.task_type {
        all(
            finder.task_kind(kind(name, "task")?),
            format!("no task of type {name:?} ended in the trace"),
        )?
    } else if let Some(name) = &args.region {
        all(
            finder.region_kind(kind(name, "region")?),
            format!("no region of type {name:?} in the trace"),
        )?
    } else if let Some(id) = args.task {
        vec![task_path(&finder, id).map_err(|why| usage(format!("task {id} {why}")))?]
    } else if let Some(g) = args.goroutine {
        let p = goroutine_interval(t, g)
            .and_then(|(g, start, end)| finder.path(Target::Goroutine { g, start, end }));
        vec![p.ok_or_else(|| usage(format!("goroutine {g} has no critical path")))?]
    } else {
        // Every task that ended; without tasks, the main goroutine.
        let tasks: Vec<CriticalPath> = (0..t.tasks.len())
            .into_par_iter()
            .filter_map(|i| finder.task(i))
            .collect();
        if tasks.is_empty() {
            main_goroutine(t)
                .and_then(|(g, start, end)| finder.path(Target::Goroutine { g, start, end }))
                .into_iter()
                .collect()
        } else {
            tasks
        }
    };
    Ok(critical_path(t, &CriticalProfile::of(&paths)))
}

fn write(profile: &Profile, output: &Path) -> io::Result<()> {
    if output == Path::new("-") {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        goroscope_report::pprof::write_gzip(profile, &mut out)?;
        return out.flush();
    }
    let mut out = BufWriter::new(File::create(output)?);
    goroscope_report::pprof::write_gzip(profile, &mut out)?;
    out.flush()
}
