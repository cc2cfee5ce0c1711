//! `goroscope completions` and `goroscope man`: shell completions and the man page,
//! generated from the command-line definition.

use std::process::ExitCode;

use clap::Args;
use clap_complete::Shell;

use crate::load::Outcome;
use crate::output::write_out;

/// `goroscope completions`.
#[derive(Debug, Args)]
pub struct CompletionsCmd {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

impl CompletionsCmd {
    /// Prints the completion script.
    pub fn run(&self) -> Outcome {
        let mut cmd = crate::command();
        let mut out = Vec::new();
        clap_complete::generate(self.shell, &mut cmd, "goroscope", &mut out);
        write_out(None, &out)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// `goroscope man`.
#[derive(Debug, Args)]
pub struct ManCmd {}

impl ManCmd {
    /// Prints the man page of goroscope (roff).
    pub fn run(&self) -> Outcome {
        let mut out = Vec::new();
        clap_mangen::Man::new(crate::command())
            .render(&mut out)
            .map_err(|e| {
                crate::load::Fail::new(crate::exit::OUTPUT, format!("cannot render: {e}"))
            })?;
        write_out(None, &out)?;
        Ok(ExitCode::SUCCESS)
    }
}
