//! `cutover watch`: the read-only console. Only reading sources are
//! started, and no executor exists: there is no code path from here to
//! anything that writes.

use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::Result;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::console::{self, Acting, Options, Session, Sinks, no_terminal};
use super::init::tokio_runtime;
use super::live::{prior_changes, read_wheel};
use super::say::bad_input;
use crate::app::{App, Left, Mode, Msg};
use crate::cli::WatchArgs;
use crate::{record, sources};

/// Checks the keymap, the plan and the share flags, starts the sources
/// (the plan's backends are resolved before the terminal is asked for:
/// a record the zone does not hold is said first), then runs the console.
pub fn run(args: WatchArgs) -> Result<ExitCode> {
    let (keymap, plan, share) = match console::live_inputs(&args.console, &args.plan, &args.share) {
        Ok(inputs) => inputs,
        Err(code) => return Ok(code),
    };
    let sinks = Sinks { record: args.record, share };
    let options = Options::new(&args.console);
    tokio_runtime()?.block_on(async move {
        let app = App::new(crate::app::AppConfig::of_plan(&plan, Mode::Watch), keymap, jiff::Timestamp::now());
        tracing::info!(plan = %plan.path.display(), "watch starting");
        let session = Session::new(app);
        let (tx, tasks) = (&session.tx, &session.tasks);
        let clients = match sources::start_reading(&plan, tx.clone(), tasks.sources.clone(), &tasks.tracker).await {
            Ok(c) => c,
            Err(e) => return Ok(bad_input(&format!("plan {}: {e}", plan.path.display()))),
        };
        if let Some(code) = no_terminal() {
            tasks.cancel();
            return Ok(code);
        }
        // A handoff a driver's console left in flight is shown at once,
        // from the plan's state file, read and never written.
        if let Some(file) = record::HandoffFile::for_plan(&plan.name) {
            tasks.spawn(peek_state_file(file, tx.clone(), tasks.sources.clone()));
        }
        prior_changes(&plan, &sinks.record, tx.clone(), tasks);
        read_wheel(&plan, &clients, tx.clone(), tasks);
        // No executor exists in this session: effects have nowhere to go.
        console::run(session, Acting::default(), &sinks, options).await
    })
}

/// `watch`'s view of the plan's handoff state file: read every couple of
/// seconds, sent when what it holds changes. Never written.
async fn peek_state_file(file: record::HandoffFile, tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    let mut last = None;
    let mut said_error = false;
    loop {
        let now = match file.peek() {
            Ok(left) => {
                said_error = false;
                left
            }
            Err(e) => {
                if !said_error {
                    tracing::warn!(error = %e, "the handoff state file cannot be read");
                    said_error = true;
                }
                last.clone()
            }
        };
        if now != last {
            let left = now.clone().map(|(handoff, saved_at)| Left { handoff, saved_at });
            if tx.send(Msg::OnDisk(left)).await.is_err() {
                return;
            }
            last = now;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}
