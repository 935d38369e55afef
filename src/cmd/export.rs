//! `cutover export URL --session ID`: a recording file of a shared session.

use std::path::PathBuf;
use std::process::ExitCode;

use color_eyre::eyre::Result;

use super::broker::find_session;
use super::init::tokio_runtime;
use super::say::bad_input;
use super::share_args::reader_options;
use crate::cli::ExportArgs;
use crate::share::read::Liveness;

/// Writes the session to `-o FILE` (never over a file), or to
/// `SESSION.jsonl`, and says how to replay it.
pub fn run(args: &ExportArgs) -> Result<ExitCode> {
    let options = match reader_options(args.url.as_deref(), &args.shared) {
        Ok(o) => o,
        Err(e) => return Ok(bad_input(&format!("export: {e}"))),
    };
    let done = tokio_runtime()?.block_on(async {
        let (broker, session) = find_session(&options, args.shared.session.as_deref()).await?;
        let path = args.output.clone().unwrap_or_else(|| PathBuf::from(format!("{}.jsonl", session.session)));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| format!("{}: {e} (give another with -o FILE)", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        let lines = broker.download(&session, &mut out).await?;
        std::io::Write::flush(&mut out).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok::<_, String>((session, path, lines))
    });
    match done {
        Ok((session, path, lines)) => {
            let live = session.liveness(jiff::Timestamp::now()) == Liveness::Live;
            let so_far = if live { " so far (the session is live)" } else { "" };
            eprintln!("cutover: {} exported to {} ({lines} lines{so_far})", session.describe(), path.display());
            eprintln!("  replay it: cutover replay {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(bad_input(&format!("export: {e}"))),
    }
}
