//! `cutover run`: the driver's console. The same reading sources as
//! `watch`, plus the live executor (or, with `--dry-run`, one that only
//! says what it would send), the plan's wheel, and the handoff state file.

use std::process::ExitCode;

use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use super::console::{self, Acting, Executor, Options, Session, Sinks};
use super::init::tokio_runtime;
use super::live::{prior_changes, read_wheel};
use super::say::bad_input;
use crate::app::{App, Keeping, Mode, Msg, keeping};
use crate::cli::{RecordArgs, RunArgs};
use crate::{effects, record, sources};

/// Checks the keymap, the plan and the share flags, starts the sources,
/// takes the wheel (or watches who holds it), picks up a handoff left in
/// flight, starts the executor, then runs the console.
pub fn run(args: RunArgs) -> Result<ExitCode> {
    let (keymap, plan, share) = match console::live_inputs(&args.console, &args.plan, &args.share) {
        Ok(inputs) => inputs,
        Err(code) => return Ok(code),
    };
    let dry_run = args.dry_run;
    let mut sinks = Sinks { record: args.record, share };
    let options = Options::new(&args.console);
    tokio_runtime()?.block_on(async move {
        let mode = if dry_run { Mode::DryRun } else { Mode::Run };
        let app = App::new(crate::app::AppConfig::of_plan(&plan, mode), keymap, jiff::Timestamp::now());
        tracing::info!(plan = %plan.path.display(), dry_run, "run starting");
        let session = Session::new(app);
        let (tx, tasks) = (&session.tx, &session.tasks);
        let clients = match sources::start_reading(&plan, tx.clone(), tasks.sources.clone(), &tasks.tracker).await {
            Ok(c) => c,
            Err(e) => return Ok(bad_input(&format!("plan {}: {e}", plan.path.display()))),
        };
        if let Some(code) = console::no_terminal() {
            tasks.cancel();
            return Ok(code);
        }
        // One hand on the wheel: the run takes the plan's Lease if nobody
        // holds it, and watches whoever does. A dry run changes nothing, so
        // it needs no wheel and takes none; it shows who drives, as `watch`.
        let wheel = if dry_run {
            read_wheel(&plan, &clients, tx.clone(), tasks);
            None
        } else {
            let name = session_for(&mut sinks.record, session.app.config.mode);
            let identity = effects::lease::local_identity(&name);
            let Some(client) = clients.kube.new.clone() else {
                return Ok(bad_input("the new side has no Kubernetes client: the plan's wheel is kept there"));
            };
            let handle =
                effects::lease::WheelHandle::new(client, plan.lease(), identity, plan.name.clone(), tx.clone());
            // The start's round, before anything is picked up: whether this
            // console drives decides it.
            handle.tick().await;
            tasks.spawn(handle.clone().run(tasks.sources.clone()));
            Some(handle)
        };
        let drives = match &wheel {
            Some(w) => w.holding().await,
            None => !dry_run,
        };
        prior_changes(&plan, &sinks.record, tx.clone(), tasks);
        let users: Vec<String> = crate::domain::Side::BOTH
            .iter()
            .filter_map(|side| plan.cluster(*side).and_then(sources::kube::context_user))
            .collect();
        let sdk = clients.sdk;
        let sts = aws_sdk_sts::Client::new(&sdk);
        let id_tx = tx.clone();
        let id_wheel = wheel.clone();
        let cancel = tasks.sources.clone();
        tasks.spawn(async move {
            let who = tokio::select! {
                _ = cancel.cancelled() => return,
                who = effects::identity(&sts, &users) => who,
            };
            if let Some(w) = id_wheel {
                w.set_operator(&who);
            }
            let _ = id_tx.send(Msg::Operator { who }).await;
        });
        // A handoff an earlier session left in flight is picked up first, by
        // the console that drives: a second one watching leaves it alone.
        // Whether a new one could be kept is known before any is proposed.
        let mut saved = if dry_run { None } else { record::HandoffFile::for_plan(&plan.name) };
        let unwritable = match &saved {
            Some(file) if drives => {
                file.probe().err().map(|e| (file.path().display().to_string(), keeping::error_text(&e)))
            }
            None if drives => Some((
                "$XDG_STATE_HOME/cutover/handoffs".to_string(),
                "no HOME or XDG_STATE_HOME: no place for it".to_string(),
            )),
            Some(_) | None => None,
        };
        if let Some((path, error)) = unwritable {
            tracing::error!(%path, %error, "the handoff state file cannot be written");
            let _ = tx.send(Msg::Keeping(Keeping::StateFile { path, error: Some(error) })).await;
        }
        if let Some(file) = saved.as_mut().filter(|_| drives) {
            match file.load() {
                Ok(Some((handoff, saved_at))) => {
                    let _ = tx.send(Msg::Resumed { handoff, saved_at }).await;
                }
                Ok(None) => {}
                Err(e) => return Ok(bad_input(&format!("the saved handoff state: {e}"))),
            }
        }
        let exec = effects::LiveExecutor {
            elb: effects::elb_client(&sdk),
            route53: sources::aws::route53_client(&sdk),
            kube: clients.kube,
            plan: plan.clone(),
            dry_run,
            route53_options: Default::default(),
        };
        let (effects_tx, effects_rx) = mpsc::channel(16);
        // Stopped with the session's tasks too, answering what it holds.
        let stop = effects::Stop { finish: tasks.sources.child_token(), give_up: tasks.sources.child_token() };
        let task = tasks.spawn(effects::run_until_stopped(exec, wheel.clone(), effects_rx, tx.clone(), stop.clone()));
        let acting = Acting { effects: Some(effects_tx), executor: Some(Executor { task, stop }), saved, wheel };
        console::run(session, acting, &sinks, options).await
    })
}

/// The session's name, as its recording will be named: the holder's
/// identity carries it. The default recording path is fixed here, so the
/// console records under the same name.
fn session_for(record: &mut RecordArgs, mode: Mode) -> String {
    let mode = mode.label().to_ascii_lowercase();
    let started = jiff::Timestamp::now();
    if record.record.is_none() && !record.no_record {
        record.record = record::default_path(&mode, started);
    }
    let stem = record.record.as_ref().filter(|_| !record.no_record).and_then(|p| p.file_stem());
    stem.map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| record::session_name(&mode, started))
}
