//! `cutover sessions URL`: the sessions shared on a broker, live and ended.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use super::init::tokio_runtime;
use super::say::{bad_input, print_text};
use super::share_args::reader_options;
use crate::cli::{SessionsArgs, SessionsFormat};
use crate::share::read::{self, Broker};

/// The table (or JSON) on stdout; a broker that cannot be read is bad input.
pub fn run(args: &SessionsArgs) -> Result<ExitCode> {
    let options = match reader_options(args.url.as_deref(), &args.shared) {
        Ok(o) => o,
        Err(e) => return Ok(bad_input(&format!("sessions: {e}"))),
    };
    let listed = tokio_runtime()?.block_on(async { Broker::connect(&options).await?.sessions().await });
    let sessions = match listed {
        Ok(s) => s,
        Err(e) => return Ok(bad_input(&format!("sessions: {e}"))),
    };
    let now = jiff::Timestamp::now();
    let text = match args.format {
        SessionsFormat::Table if sessions.is_empty() => {
            format!("no sessions on {} (stream {})\n", options.redacted_url(), options.stream)
        }
        SessionsFormat::Table => read::sessions_table(&sessions, now),
        SessionsFormat::Json => read::sessions_json(&sessions, now),
    };
    print_text(text.as_bytes(), "the sessions")
}
