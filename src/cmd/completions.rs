//! `cutover completions SHELL`: the completion script on stdout.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use super::say::print_text;
use crate::cli::{self, CompletionsArgs};

/// Text for the shell: no log, no runtime.
pub fn run(args: &CompletionsArgs) -> Result<ExitCode> {
    let mut script = Vec::new();
    cli::completions(args.shell, &mut script);
    print_text(&script, "the completion script")
}
