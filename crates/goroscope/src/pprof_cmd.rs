//! `goroscope pprof`: a pprof profile of where goroutines waited, for `go tool pprof`.
//!
//! `net`, `sync`, `syscall` and `sched` are the profiles of `go tool trace -pprof=KIND`,
//! sample for sample (read the trace as Go does: on a damaged trace, the events up to the
//! last Sync before the error); `released-by` charges every wait to the stack of the
//! goroutine that released it (read with the loader, which skips a damaged generation and
//! carries on). See `goroscope_analysis::pprof`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use goroscope_analysis::pprof::{GoProfileKind, GoProfiler, Profile, released_by};
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
}

impl Kind {
    fn go(self) -> Option<GoProfileKind> {
        Some(match self {
            Self::Net => GoProfileKind::Net,
            Self::Sync => GoProfileKind::Sync,
            Self::Syscall => GoProfileKind::Syscall,
            Self::Sched => GoProfileKind::Sched,
            Self::ReleasedBy => return None,
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
    /// The trace file.
    pub file: PathBuf,
}

/// Runs the command.
pub fn run(args: &PprofArgs) -> ExitCode {
    let profile = match args.kind.go() {
        Some(kind) => go_profile(kind, &args.file),
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
    while let Some(ev) = stream.next_event() {
        match ev {
            Ok(ev) => {
                profiler.event(&ev, stream.tables());
                events += 1;
            }
            Err(e) => {
                // As `go tool trace`: nothing useful without one whole generation;
                // otherwise the profile of the generations before the error.
                if events == 0 {
                    eprintln!("goroscope: {e}: {}", path.display());
                    return Err(ExitCode::from(crate::exit::UNREADABLE));
                }
                eprintln!(
                    "goroscope: warning: {e}; the profile has the events up to the last \
                     generation boundary before it: {}",
                    path.display()
                );
                break;
            }
        }
    }
    Ok(profiler.finish().take(kind))
}

fn released_by_profile(path: &Path) -> Result<Profile, ExitCode> {
    let trace = Trace::open(path).map_err(|e| {
        eprintln!("goroscope: {e}");
        ExitCode::from(crate::exit::UNREADABLE)
    })?;
    for w in &trace.warnings {
        eprintln!("goroscope: warning: {w}: {}", path.display());
    }
    let t = &trace.timelines;
    let blocking = goroscope_analysis::blocking::analyze(t);
    Ok(released_by(t, &blocking.waits, |_| true))
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
