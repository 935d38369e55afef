//! `cutover relay`: the reading half of `watch`, with no terminal: the
//! session goes to the broker (and to `--record FILE`, if given). Only
//! reading sources are started: there is no executor and no effect
//! channel, so there is no code path from here to anything that writes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;

use super::console::SHARE_DRAIN;
use super::crash;
use super::init::tokio_runtime;
use super::live::read_wheel;
use super::recording::stretch_text;
use super::say::bad_input;
use super::share_args::{nats_url, share_options, share_options_at};
use super::signals::stop_signal;
use super::tasks::Tasks;
use crate::app::{App, Ending, Mode, Msg};
use crate::cli::RelayArgs;
use crate::keymap::Keymap;
use crate::plan::Plan;
use crate::{record, relay, runtime, share, sources};

/// Checks its input as `watch` does (same messages, exit code 2), then
/// relays until SIGTERM or SIGINT. No terminal is needed. Its log is
/// started already (see `init::relay_log`).
pub fn run(args: &RelayArgs) -> Result<ExitCode> {
    crash::exit_on_panic();
    let plan = match Plan::load(&args.plan.plan) {
        Ok(p) => p,
        Err(e) => return Ok(bad_input(&format!("plan: {e}"))),
    };
    // The broker is the relay's whole point: without one it is bad input.
    // Without --share, $NATS_URL.
    let share = match (share_options(&args.share), nats_url(None)) {
        (Ok(Some(options)), _) => Ok(options),
        (Ok(None), Some(url)) => share_options_at(&url, &args.share),
        (Ok(None), None) => {
            return Ok(bad_input("relay: no broker: give --share nats://host:port (or set $NATS_URL)"));
        }
        (Err(e), _) => Err(e),
    };
    let share = match share {
        Ok(options) => options,
        Err(e) => return Ok(bad_input(&e)),
    };
    relay(plan, args.record.clone(), share)
}

fn relay(plan: Plan, record: Option<PathBuf>, options: share::Options) -> Result<ExitCode> {
    tokio_runtime()?.block_on(async move {
        // Listened for from the start: a SIGTERM while the sources start
        // still ends the relay cleanly.
        let stop = match stop_signal() {
            Ok(stop) => stop,
            Err(e) => return Err(e).wrap_err("listening for SIGTERM"),
        };
        let started = jiff::Timestamp::now();
        let mut app = App::new(crate::app::AppConfig::of_plan(&plan, Mode::Watch), Keymap::default(), started);
        // Nobody is at the keys of a relay: its header names where it runs.
        let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty());
        app.operator = format!("relay on {}", host.as_deref().unwrap_or("an unnamed host"));
        let connect = match options.connect_options().await {
            Ok(c) => c,
            Err(e) => return Ok(bad_input(&e)),
        };
        let (tx, mut rx) = mpsc::channel(runtime::CHANNEL_CAPACITY);
        let tasks = Tasks::new();
        match sources::start_reading(&plan, tx.clone(), tasks.sources.clone(), &tasks.tracker).await {
            Ok(clients) => read_wheel(&plan, &clients, tx.clone(), &tasks),
            Err(e) => return Ok(bad_input(&format!("plan {}: {e}", plan.path.display()))),
        }
        // Named after its recording when it keeps one, as a console's is.
        let stem = record.as_ref().and_then(|p| p.file_stem()).map(|s| s.to_string_lossy().into_owned());
        let session = stem.unwrap_or_else(|| record::session_name("relay", started));
        let sharing = share::Share::start(options.clone(), connect, &app.config.title, &session, Some(tx));
        // No terminal: (0, 0) says so; a replay draws on its own terminal.
        let header = record::Header::new(&app, started, (0, 0));
        let recorder = match &record {
            Some(path) => record::Writer::create_tapped(path, &header, Some(sharing.tap())),
            None => record::Writer::tap_only(&header, sharing.tap()),
        };
        let mut recorder = match recorder {
            Ok(w) => w,
            Err(e) => {
                tasks.cancel();
                return Ok(bad_input(&format!("{e} (--record FILE)")));
            }
        };
        tracing::info!(
            plan = %plan.path.display(),
            subject = %sharing.subjects.log,
            broker = %options.redacted_url(),
            record = ?record,
            "relay started"
        );
        let which = Arc::new(Mutex::new(None));
        let stopped_by = which.clone();
        let stop = async move {
            let signal = stop.await;
            *stopped_by.lock().unwrap_or_else(|e| e.into_inner()) = Some(signal);
        };
        let messages = relay::run(&mut app, &mut rx, Some(&mut recorder), stop, relay::SUMMARY_EVERY).await;
        // Every source stopped, and awaited, before the session's end.
        tasks.stop(&mut rx).await;
        let ending = match which.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(signal) => Ending::Signal(signal),
            None => Ending::Error("every source stopped".into()),
        };
        let _ = runtime::apply(&mut app, Msg::Ended(ending), Some(&mut recorder));
        for stretch in recorder.finish() {
            tracing::error!(path = ?recorder.path(), "{}", stretch_text(&stretch));
        }
        let subject = sharing.subjects.log.clone();
        let done = sharing.finish(SHARE_DRAIN).await;
        let share =
            format!("{} lines published as {subject}, {} behind, {} lost", done.published, done.behind, done.lost);
        let up = started.duration_until(jiff::Timestamp::now()).unsigned_abs();
        let text = relay::summary(&app, up, messages, Some(&recorder), &share);
        if done.behind > 0 {
            tracing::warn!("relay stopped: {text} (the broker did not take every line in time)");
        } else {
            tracing::info!("relay stopped: {text}");
        }
        Ok(ExitCode::SUCCESS)
    })
}
