//! How a command speaks to the person who ran it: bad input said plainly
//! with its exit code, the lines on the way out, text for another program.

use std::io::Write;
use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr};

/// Bad input (flags, files): the operator must fix something. Reported
/// plainly, with exit code 2, before the terminal is taken over.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Says `message` as bad input; the exit code to end with.
pub fn bad_input(message: &str) -> ExitCode {
    eprintln!("cutover: error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// A line on stderr on the way out, and in the log: after a hangup nobody
/// reads the terminal, and writing to it fails (where `eprintln!` would
/// panic).
pub fn say(text: &str) {
    tracing::info!("{text}");
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Text for another program: a reader that stops early (`| head`) is
/// not an error.
pub fn print_text(text: &[u8], what: &str) -> Result<ExitCode> {
    match std::io::stdout().lock().write_all(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).wrap_err(format!("writing {what}")),
        _ => Ok(ExitCode::SUCCESS),
    }
}
