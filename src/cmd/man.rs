//! `cutover man [COMMAND]`: a man page in roff on stdout.

use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr};

use super::say::print_text;
use crate::cli::{self, Cli, ManArgs};

/// The page on stdout; an unknown command is a usage error, said the way
/// clap says them (exit code 2). No log, no runtime.
pub fn run(args: &ManArgs) -> Result<ExitCode> {
    let command = args.command.as_deref();
    let mut page = Vec::new();
    match cli::man_page(command, &mut page) {
        Some(written) => {
            written.wrap_err("rendering the man page")?;
            print_text(&page, "the man page")
        }
        None => {
            let known = cli::man_commands().join(", ");
            let message = format!("no man page for `{}`: the commands are {known}", command.unwrap_or_default());
            <Cli as clap::CommandFactory>::command().error(clap::error::ErrorKind::InvalidValue, message).exit()
        }
    }
}
