//! The `goroscope` command line.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod summary;
mod table;
mod viewer;

/// Find out why a Go program was slow, from its execution trace.
///
/// `goroscope FILE` opens FILE in the viewer (as `goroscope view FILE` does).
#[derive(Debug, Parser)]
#[command(
    name = "goroscope",
    version,
    about,
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
        /// The trace file.
        file: PathBuf,
    },
    /// Summarise a trace: what it holds, and where goroutines spent their time, grouped by
    /// start function.
    Summary {
        /// How many goroutine groups to show (the busiest first).
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// The trace file.
        file: PathBuf,
    },
    /// Print the trace's events or records in one of Go's debug formats.
    Dump {
        /// What to print.
        #[arg(long, value_enum, default_value_t = DumpFormat::Go)]
        format: DumpFormat,
        /// The trace file.
        file: PathBuf,
    },
    /// Convert a trace between Go's binary form and Go's text form (the syntax of Go's
    /// golden tests and of `go tool trace -d=wire`), e.g. to hand-edit a trace.
    Convert {
        /// The form to write.
        #[arg(long, value_enum)]
        to: Form,
        /// The output file.
        #[arg(short, long)]
        output: PathBuf,
        /// The input trace, in the other form.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Form {
    /// Go's binary trace format (v2 only).
    Binary,
    /// Go's text form: `Trace Go1.N` then one record per line.
    Text,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DumpFormat {
    /// Every event of the ordered stream, as `go tool trace -d=parsed` prints it.
    Go,
    /// Every record in file order, as `go tool trace -d=wire` prints it.
    Wire,
    /// Bytes and counts per event type, as `go tool trace -d=footprint` prints them.
    Footprint,
}

/// Exit codes.
mod exit {
    /// The trace could not be read.
    pub const UNREADABLE: u8 = 3;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        let Some(file) = cli.file else {
            use clap::CommandFactory as _;
            Cli::command().print_help().ok();
            return ExitCode::from(2);
        };
        return viewer::run(&viewer::ViewOptions {
            file,
            screenshot_to: cli.screenshot_to,
        });
    };
    match command {
        Command::View {
            screenshot_to,
            file,
        } => viewer::run(&viewer::ViewOptions {
            file,
            screenshot_to,
        }),
        Command::Summary { top, file } => summary::run(&file, top),
        Command::Dump { format, file } => dump(format, &file),
        Command::Convert { to, output, file } => convert(to, &file, &output),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ExitCode> {
    std::fs::read(path).map_err(|e| {
        eprintln!("goroscope: cannot read the trace: {e}: {}", path.display());
        ExitCode::from(exit::UNREADABLE)
    })
}

fn dump(format: DumpFormat, path: &Path) -> ExitCode {
    let data = match read(path) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result: Result<(), String> = match format {
        DumpFormat::Wire => {
            goroscope_format::v2::write_wire_dump(&data, &mut out).map_err(|e| e.to_string())
        }
        DumpFormat::Footprint => goroscope_format::v2::footprint(&data)
            .map_err(|e| e.to_string())
            .and_then(|f| {
                out.write_all(f.to_table().as_bytes())
                    .map_err(|e| e.to_string())
            }),
        DumpFormat::Go => dump_go(&data, &mut out),
    };
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(e), _) => {
            eprintln!("goroscope: {e}: {}", path.display());
            ExitCode::from(1)
        }
        (Ok(()), Err(e)) => {
            eprintln!("goroscope: writing output: {e}");
            ExitCode::from(1)
        }
    }
}

fn dump_go(data: &[u8], out: &mut dyn Write) -> Result<(), String> {
    let mut reader = goroscope_trace::EventStream::new(data).map_err(|e| e.to_string())?;
    let mut line = Vec::with_capacity(256);
    while let Some(ev) = reader.next_event() {
        let ev = ev.map_err(|e| e.to_string())?;
        line.clear();
        goroscope_trace::print::write_event(&mut line, &ev, reader.tables())
            .map_err(|e| e.to_string())?;
        line.push(b'\n');
        out.write_all(&line).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn convert(to: Form, input: &Path, output: &Path) -> ExitCode {
    let data = match read(input) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let converted = match to {
        Form::Binary => match std::str::from_utf8(&data) {
            Ok(text) => goroscope_format::v2::text::text_to_binary(text),
            Err(e) => {
                eprintln!(
                    "goroscope: the text form must be UTF-8: {e}: {}",
                    input.display()
                );
                return ExitCode::from(exit::UNREADABLE);
            }
        },
        Form::Text => goroscope_format::v2::text::binary_to_text(&data).map(String::into_bytes),
    };
    let bytes = match converted {
        Ok(b) => b,
        Err(e) => {
            eprintln!("goroscope: {e}: {}", input.display());
            return ExitCode::from(exit::UNREADABLE);
        }
    };
    if let Err(e) = std::fs::write(output, bytes) {
        eprintln!("goroscope: cannot write: {e}: {}", output.display());
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
