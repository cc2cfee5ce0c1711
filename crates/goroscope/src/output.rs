//! Where and how a command writes its result: aligned text (coloured on a terminal unless
//! `NO_COLOR` is set), JSON, Markdown or CSV, to standard output or a file.

use std::fs::File;
use std::io::{self, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;

use goroscope_report::doc::Document;
use goroscope_report::text::TextOptions;

use crate::exit;
use crate::load::Fail;

/// The output formats of the analysis commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned tables for people; durations scaled to a readable unit.
    Text,
    /// One JSON document (schema in docs/json-schema.md); durations in nanoseconds.
    Json,
    /// GitHub-flavoured Markdown, for issues and pull requests.
    Md,
    /// CSV: every table, each after a `# table: NAME` line (or one with --table);
    /// durations in nanoseconds.
    Csv,
}

/// When to colour text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// On a terminal, unless the NO_COLOR environment variable is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The output options every analysis command takes.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// The output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// How many rows each table keeps (0: all).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// With --format csv: only the table NAME (see the `# table:` lines), as plain CSV.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Colour the text output.
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
    /// Do not shorten long function and file names in text tables.
    #[arg(long)]
    pub wide: bool,
    /// No progress bar while loading.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Whether `NO_COLOR` asks for no colour (set and not empty, as no-color.org says).
fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl OutputArgs {
    fn color(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => self.output.is_none() && !no_color_env() && io::stdout().is_terminal(),
        }
    }

    /// Writes a report: its document as text, Markdown or CSV, or `model` as JSON.
    pub fn emit<T: Serialize>(&self, title: &str, model: &T, doc: &Document) -> Result<(), Fail> {
        let bytes = match self.format {
            Format::Json => json(model)?,
            Format::Text => goroscope_report::text::render(
                doc,
                &TextOptions {
                    color: self.color(),
                    max_cell: if self.wide { None } else { Some(72) },
                },
            )
            .into_bytes(),
            Format::Md => goroscope_report::markdown::render(doc, title).into_bytes(),
            Format::Csv => match &self.table {
                None => goroscope_report::csv::render(doc).into_bytes(),
                Some(name) => match doc.tables().find(|t| &t.key == name) {
                    Some(t) => goroscope_report::csv::table(t).into_bytes(),
                    None => {
                        return Err(Fail::new(
                            exit::USAGE,
                            format!(
                                "no table {name:?} in this report; its tables are: {}",
                                goroscope_report::csv::keys(doc).join(", ")
                            ),
                        ));
                    }
                },
            },
        };
        write_out(self.output.as_deref(), &bytes)
    }
}

/// `model` as pretty JSON with a final newline.
pub fn json<T: Serialize>(model: &T) -> Result<Vec<u8>, Fail> {
    let mut v = serde_json::to_vec_pretty(model)
        .map_err(|e| Fail::new(exit::OUTPUT, format!("cannot write JSON: {e}")))?;
    v.push(b'\n');
    Ok(v)
}

/// Writes `bytes` to the file, or to standard output (a closed pipe is not an error).
pub fn write_out(path: Option<&Path>, bytes: &[u8]) -> Result<(), Fail> {
    match path {
        Some(p) if p != Path::new("-") => std::fs::write(p, bytes)
            .map_err(|e| Fail::new(exit::OUTPUT, format!("cannot write: {e}: {}", p.display()))),
        _ => {
            let mut out = io::stdout().lock();
            match out.write_all(bytes).and_then(|()| out.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Fail::new(
                    exit::OUTPUT,
                    format!("cannot write to standard output: {e}"),
                )),
                _ => Ok(()),
            }
        }
    }
}

/// A buffered writer to the file, or to standard output.
pub fn writer(path: Option<&Path>) -> Result<Box<dyn Write>, Fail> {
    Ok(match path {
        Some(p) if p != Path::new("-") => Box::new(io::BufWriter::with_capacity(
            1 << 16,
            File::create(p).map_err(|e| {
                Fail::new(exit::OUTPUT, format!("cannot write: {e}: {}", p.display()))
            })?,
        )),
        _ => Box::new(io::BufWriter::with_capacity(1 << 16, io::stdout())),
    })
}

/// Maps an error while streaming output to a failure (a closed pipe ends quietly).
pub fn stream_error(e: &io::Error, path: Option<&Path>) -> Result<ExitCode, Fail> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return Ok(ExitCode::SUCCESS);
    }
    let to = path.map_or_else(|| "standard output".to_owned(), |p| p.display().to_string());
    Err(Fail::new(exit::OUTPUT, format!("cannot write: {e}: {to}")))
}
