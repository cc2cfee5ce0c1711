//! `goroscope dump` (the trace's events or records in Go's debug formats, or as JSON lines)
//! and `goroscope convert` (binary ↔ Go's text form).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::exit;
use crate::load::{Fail, Outcome};
use crate::output::{stream_error, writer};

/// What `dump` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DumpFormat {
    /// Every event of the ordered stream, as `go tool trace -d=parsed` prints it.
    Go,
    /// Every record in file order, as `go tool trace -d=wire` prints it.
    Wire,
    /// Bytes and counts per event type, as `go tool trace -d=footprint` prints them.
    Footprint,
    /// Every event of the ordered stream as a JSON object, one per line, after a header
    /// line (schema `goroscope.events` in docs/json-schema.md).
    Json,
}

/// `goroscope dump`.
#[derive(Debug, Args)]
pub struct DumpCmd {
    /// What to print.
    #[arg(long, short = 'f', value_enum, default_value_t = DumpFormat::Go)]
    format: DumpFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// The trace file.
    file: PathBuf,
}

fn read(path: &Path) -> Result<Vec<u8>, Fail> {
    std::fs::read(path).map_err(|e| {
        Fail::new(
            exit::UNREADABLE,
            format!("cannot read the trace: {e}: {}", path.display()),
        )
    })
}

/// Why a dump stopped: the trace (exit code 3) or the output (4).
enum DumpError {
    Trace(String),
    Output(std::io::Error),
}

impl From<std::io::Error> for DumpError {
    fn from(e: std::io::Error) -> Self {
        Self::Output(e)
    }
}

impl DumpCmd {
    /// Runs the command. Events up to a damage are printed; then the error, with exit
    /// code 3.
    pub fn run(&self) -> Outcome {
        crate::load::install_ctrlc();
        let data = read(&self.file)?;
        let mut out = writer(self.output.as_deref())?;
        let result = match self.format {
            DumpFormat::Wire => goroscope_format::v2::write_wire_dump(&data, &mut out)
                .map_err(|e| DumpError::Trace(e.to_string())),
            DumpFormat::Footprint => match goroscope_format::v2::footprint(&data) {
                Ok(f) => out
                    .write_all(f.to_table().as_bytes())
                    .map_err(DumpError::Output),
                Err(e) => Err(DumpError::Trace(e.to_string())),
            },
            DumpFormat::Go => events(&data, &mut out, false),
            DumpFormat::Json => events(&data, &mut out, true),
        };
        let flushed = out.flush();
        match (result, flushed) {
            (Ok(()), Ok(())) => Ok(ExitCode::SUCCESS),
            (Err(DumpError::Trace(e)), _) => Err(Fail::new(
                exit::UNREADABLE,
                format!("{e}: {}", self.file.display()),
            )),
            (Err(DumpError::Output(e)), _) | (Ok(()), Err(e)) => {
                stream_error(&e, self.output.as_deref())
            }
        }
    }
}

fn events(data: &[u8], out: &mut dyn Write, json: bool) -> Result<(), DumpError> {
    let mut reader =
        goroscope_trace::EventStream::new(data).map_err(|e| DumpError::Trace(e.to_string()))?;
    if json {
        out.write_all(&goroscope_report::events::header(
            &reader.version().to_string(),
        ))?;
    }
    let mut line = Vec::with_capacity(256);
    while let Some(ev) = reader.next_event() {
        let ev = ev.map_err(|e| DumpError::Trace(e.to_string()))?;
        line.clear();
        if json {
            goroscope_report::events::write_event(&mut line, &ev, reader.tables())?;
        } else {
            goroscope_trace::print::write_event(&mut line, &ev, reader.tables())?;
            line.push(b'\n');
        }
        out.write_all(&line)?;
    }
    Ok(())
}

/// The forms `convert` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Form {
    /// Go's binary trace format (v2 only).
    Binary,
    /// Go's text form: `Trace Go1.N` then one record per line.
    Text,
}

/// `goroscope convert`.
#[derive(Debug, Args)]
pub struct ConvertCmd {
    /// The form to write.
    #[arg(long, value_enum)]
    to: Form,
    /// The output file.
    #[arg(short, long)]
    output: PathBuf,
    /// The input trace, in the other form.
    file: PathBuf,
}

impl ConvertCmd {
    /// Runs the command.
    pub fn run(&self) -> Outcome {
        let data = read(&self.file)?;
        let converted = match self.to {
            Form::Binary => match std::str::from_utf8(&data) {
                Ok(text) => goroscope_format::v2::text::text_to_binary(text),
                Err(e) => {
                    return Err(Fail::new(
                        exit::UNREADABLE,
                        format!("the text form must be UTF-8: {e}: {}", self.file.display()),
                    ));
                }
            },
            Form::Text => goroscope_format::v2::text::binary_to_text(&data).map(String::into_bytes),
        };
        let bytes = converted
            .map_err(|e| Fail::new(exit::UNREADABLE, format!("{e}: {}", self.file.display())))?;
        crate::output::write_out(Some(&self.output), &bytes)?;
        Ok(ExitCode::SUCCESS)
    }
}
