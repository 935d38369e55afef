//! The console around the loop, for `demo`, `watch` and `run`: the
//! recording opened, the terminal taken, the loop run, and the way out in
//! order, whatever ended the loop: the input stopped, the terminal given
//! back, a write already sent let finish and its answer recorded, the
//! other tasks stopped, the wheel released, the recording ended, and the
//! exit message said.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::crash;
use super::recording::{self, Recording};
use super::say::{bad_input, say};
use super::signals::console_signals;
use super::tasks::Tasks;
use crate::app::{App, EffectResult, Ending, HandoffPhase, Mode, Msg, Queued};
use crate::cli::{ConsoleArgs, RecordArgs};
use crate::effects::{self, lease::WheelHandle};
use crate::keymap::Keymap;
use crate::terminal::TerminalGuard;
use crate::{record, runtime, share};

/// How long a shared session waits, once ended, for the broker to take
/// what it has not yet.
pub const SHARE_DRAIN: Duration = Duration::from_secs(5);

/// How long a console that quit waits for the answer of a write it had
/// already sent, so that its outcome, not only that it was sent, is the
/// recording's last word on it: the grace a signal gives writes in flight.
/// Most answers come in well under a second; this is more than one call's
/// deadline (a rule write's, a Kubernetes call's: 10 s), so a write whose
/// answer is lost is read again and its outcome known. Past this it is
/// recorded as unanswered: it may still land.
const QUIT_WAIT: Duration = Duration::from_secs(crate::app::signal::SIGNAL_GRACE_SECS.unsigned_abs());

/// A wait for a write's answer this long is said on the terminal (given
/// back by then), so that a pause on the way out is not a mystery.
const QUIT_WAIT_SAID: Duration = Duration::from_secs(1);

/// The keymap a console command asked for; an error is bad input.
pub fn keymap(args: &ConsoleArgs) -> Result<Keymap, ExitCode> {
    Keymap::load(args.keymap.as_deref()).map_err(|e| bad_input(&format!("keymap: {e}")))
}

/// What a live console (`watch`, `run`) reads before anything starts, in
/// the order its mistakes are said: the keymap, the plan, the share flags.
/// An error is bad input, already said (exit 2).
pub fn live_inputs(
    console: &ConsoleArgs,
    plan: &crate::cli::PlanArgs,
    share: &crate::cli::ShareArgs,
) -> Result<(Keymap, crate::plan::Plan, Option<crate::share::Options>), ExitCode> {
    let keymap = keymap(console)?;
    let plan = crate::plan::Plan::load(&plan.plan).map_err(|e| bad_input(&format!("plan: {e}")))?;
    let share = super::share_args::share_options(share).map_err(|e| bad_input(&e))?;
    Ok((keymap, plan, share))
}

/// Exit code 2, said plainly, when stdin or stdout is not a terminal.
pub fn no_terminal() -> Option<ExitCode> {
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    (!terminal).then(|| {
        bad_input("the console needs a terminal on stdin and stdout (run it in a terminal, not through a pipe)")
    })
}

/// A console session being set up: its state, its one channel, and its
/// tasks, which the command starts before handing it to [`run`].
pub struct Session {
    pub app: App,
    pub tx: mpsc::Sender<Msg>,
    pub rx: mpsc::Receiver<Msg>,
    pub tasks: Tasks,
}

impl Session {
    pub fn new(app: App) -> Session {
        let (tx, rx) = mpsc::channel(runtime::CHANNEL_CAPACITY);
        Session { app, tx, rx, tasks: Tasks::new() }
    }
}

/// Where a session's actions go: its executor (none in `watch`), and the
/// file that keeps a handoff in flight (only `run`).
#[derive(Default)]
pub struct Acting {
    pub effects: Option<mpsc::Sender<Queued>>,
    /// The live executor (only `run`), let finish its write on the way out.
    pub executor: Option<Executor>,
    pub saved: Option<record::HandoffFile>,
    /// The plan's wheel, held or watched (only `run`): released on a clean quit.
    pub wheel: Option<Arc<WheelHandle>>,
}

/// The live executor's task, and how it is stopped.
pub struct Executor {
    pub task: JoinHandle<()>,
    pub stop: effects::Stop,
}

/// Where a session's lines go: the recording, and the broker with --share.
pub struct Sinks {
    pub record: RecordArgs,
    pub share: Option<share::Options>,
}

/// How the console takes the terminal.
pub struct Options {
    /// Take the mouse (not with `--no-mouse`).
    pub mouse: bool,
    /// `demo --panic-after SECS`: a deliberate crash, to exercise the way
    /// out of one.
    pub panic_after: Option<u64>,
}

impl Options {
    pub fn new(args: &ConsoleArgs) -> Options {
        Options { mouse: !args.no_mouse, panic_after: None }
    }
}

/// Opens the recording, takes the terminal, runs the loop until the
/// operator quits (or a signal, or an error, ends it), and takes the way
/// out in order. The exit code: 0, 128 + a signal, 1 when the recording
/// lost lines, or the loop's error.
pub async fn run(session: Session, acting: Acting, sinks: &Sinks, options: Options) -> Result<ExitCode> {
    let Session { mut app, tx, mut rx, tasks } = session;
    let Acting { effects, executor, mut saved, wheel } = acting;
    let started = jiff::Timestamp::now();
    // A live console's clock is the wall clock: the session begins now,
    // not when its state was made before the sources and the wheel were
    // read, so nothing it records is stamped before its start.
    if app.config.mode != Mode::Demo {
        app.now = app.now.max(started);
    }
    let opened = recording::open(&app, &sinks.record, sinks.share.as_ref(), started, &tx).await;
    let Recording { writer: mut recorder, sharing } = match opened {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    // Listened for before the terminal is taken: from here a signal
    // stops the console the way it chooses, never where it stands.
    let signals =
        console_signals(tx.clone(), tasks.sources.clone()).wrap_err("listening for SIGHUP, SIGTERM and SIGINT")?;
    tasks.spawn(signals);
    tasks.spawn(runtime::input_task(tx, tasks.input.clone()));
    if let Some(secs) = options.panic_after {
        let cancel = tasks.sources.clone();
        tasks.spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_secs(secs)) => {
                    panic!("--panic-after {secs}: deliberate crash to exercise terminal restore");
                }
            }
        });
    }
    // Before the terminal is taken: the terminal's hook then gives it
    // back before this one's report and the recording's end.
    crash::exit_on_panic();
    let mut terminal = TerminalGuard::take(options.mouse)?;
    let mut note = |app: &App| {
        if let Some(w) = &wheel {
            w.note_handoff(app);
        }
    };
    let result = runtime::run_loop_with(
        terminal.terminal(),
        &mut app,
        &mut rx,
        effects.as_ref(),
        recorder.as_mut(),
        saved.as_mut(),
        &mut note,
    )
    .await;
    // Whether the handoff in flight is this console's to keep on disk: it
    // drove until the end.
    let drove = app.drives();
    // The way out, in order. Nothing the operator does from here is read.
    tasks.input.cancel();
    terminal.give_back();
    if let Some(executor) = executor {
        finish_writes(&mut app, &mut rx, recorder.as_mut(), executor).await;
    }
    // The sources and the wheel's renewals stop here: nothing renews the
    // Lease after it is given back.
    tasks.stop(&mut rx).await;
    // A clean end gives the wheel back at once (a crash leaves it to
    // expire), and the recording says so.
    if let Some(wheel) = &wheel {
        match wheel.release().await {
            Ok(Some(released)) => {
                let _ = runtime::apply(&mut app, released, recorder.as_mut());
                say(&format!(
                    "cutover: released the wheel (Lease {}): the next `cutover run` takes it at once",
                    wheel.lease()
                ));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, lease = %wheel.lease(), "releasing the wheel failed");
                say(&format!(
                    "cutover: the wheel (Lease {}) could not be released ({e}): it expires {}s after its last renewal",
                    wheel.lease(),
                    crate::domain::wheel::LEASE_DURATION_SECS
                ));
            }
        }
    }
    // The recording's last message says how the session ended.
    let ending = match (&result, app.stopping) {
        (Err(e), _) => Ending::Error(format!("{e:#}")),
        (Ok(()), Some(stopping)) => Ending::Signal(stopping.signal),
        (Ok(()), None) => Ending::Quit,
    };
    let _ = runtime::apply(&mut app, Msg::Ended(ending.clone()), recorder.as_mut());
    // Written again on the way out, by the console that drove: its time
    // says until when this console watched the handoff in flight.
    if drove
        && let Some(file) = saved.as_mut()
        && let Err(e) = file.save_at_exit(&app)
    {
        tracing::error!(error = %e, path = %file.path().display(), "saving the handoff failed");
    }
    let mut lost = false;
    if let Some(mut r) = recorder.take() {
        let stretches = r.finish();
        if let Some(path) = r.path() {
            lost = recording::said(path, &stretches);
        }
    }
    if let Some(s) = sharing {
        let subject = s.subjects.log.clone();
        let done = s.finish(SHARE_DRAIN).await;
        say(&format!("cutover: session shared as {subject} ({} lines)", done.published));
        if done.behind > 0 {
            say(&format!("  {} lines did not reach the broker in time; the recording has them all", done.behind));
        }
        if done.lost > 0 {
            say(&format!("  {} lines were past the share buffer: followers saw a gap", done.lost));
        }
    }
    if let Ending::Signal(signal) = &ending {
        say(&format!("cutover: stopped by {} (exit code {})", signal.name(), signal.exit_code()));
    }
    say_handoff(&app, drove, saved.as_ref(), &ending);
    tracing::info!(ending = %ending.describe(), "console ended");
    match (result, ending) {
        (Err(e), _) => Err(e),
        (Ok(()), Ending::Signal(signal)) => Ok(ExitCode::from(signal.exit_code())),
        // Not a success: the recording the operator counts on has holes.
        (Ok(()), _) if lost => Ok(ExitCode::FAILURE),
        (Ok(()), _) => Ok(ExitCode::SUCCESS),
    }
}

/// The exit message's lines on the handoff in flight: what is left of
/// it, and where it is kept for the next `run`.
fn say_handoff(app: &App, drove: bool, saved: Option<&record::HandoffFile>, ending: &Ending) {
    if let Some(h) = app.handoff.as_ref().filter(|h| !h.phase.finished() && drove) {
        say(&format!("cutover: handoff {}", h.state_text()));
        match (saved, &app.keeping.state_file) {
            (Some(_), Some(t)) => say(&format!(
                "  NOT kept: the state file {} cannot be written ({}): no later console picks it up; look at both sides",
                t.path, t.error
            )),
            (Some(file), None) => {
                say(&format!("  kept in {}: {}", file.path().display(), crate::app::signal::next_run(app, h)))
            }
            (None, _) => {}
        }
    } else if let Some(h) = app.handoff.as_ref().filter(|h| h.phase == HandoffPhase::Aborted)
        && matches!(ending, Ending::Signal(_))
    {
        say(&format!("cutover: handoff {}", h.state_text()));
    }
}

/// Once the operator quit: lets the executor finish the write it is
/// making, and applies its answer (and its progress) to the state and the
/// recording as the loop would, so that a write sent to AWS or Kubernetes
/// has its outcome recorded, not only that it was sent. Effects still
/// queued are answered "not sent". A console stopping on a signal gave its
/// writes their grace already (and a second signal, or Ctrl-C, means now):
/// it waits no longer, and a write still unanswered is recorded so at once.
/// A signal during the wait ends it the same way. Nothing else is applied:
/// for what the sources read, the session has ended.
async fn finish_writes(
    app: &mut App,
    rx: &mut mpsc::Receiver<Msg>,
    mut recorder: Option<&mut record::Writer>,
    executor: Executor,
) {
    let Executor { mut task, stop } = executor;
    stop.finish.cancel();
    let wait = if app.stopping.is_some() { Duration::ZERO } else { QUIT_WAIT };
    let give_up = tokio::time::sleep(wait);
    let said = tokio::time::sleep(QUIT_WAIT_SAID);
    tokio::pin!(give_up, said);
    let mut waiting_said = wait <= QUIT_WAIT_SAID;
    let mut lines = Vec::new();
    loop {
        let msg = tokio::select! {
            biased;
            ended = &mut task => {
                if let Err(e) = ended {
                    tracing::error!(error = %e, "the executor ended abnormally");
                }
                break;
            }
            () = &mut give_up, if !stop.give_up.is_cancelled() => {
                tracing::warn!(?wait, "quitting: the write being made is unanswered; not waiting longer");
                stop.give_up.cancel();
                continue;
            }
            () = &mut said, if !waiting_said => {
                waiting_said = true;
                let writes = app.in_flight.len();
                if writes > 0 {
                    say(&format!(
                        "cutover: waiting up to {}s for the answer of {writes} write(s) already sent",
                        wait.as_secs()
                    ));
                }
                continue;
            }
            // After the clocks: a busy channel must not hold them off.
            msg = rx.recv() => match msg {
                Some(msg) => msg,
                None => break,
            },
        };
        answer(app, msg, recorder.as_deref_mut(), &stop, &mut lines);
    }
    // Its last answers, sent before it ended, wait in the channel.
    while let Ok(msg) = rx.try_recv() {
        answer(app, msg, recorder.as_deref_mut(), &stop, &mut lines);
    }
    for line in lines {
        say(&line);
    }
}

/// One message while the executor finishes: its answers and progress are
/// applied (and the answer said on the way out), a signal ends the wait,
/// anything else is left.
fn answer(
    app: &mut App,
    msg: Msg,
    recorder: Option<&mut record::Writer>,
    stop: &effects::Stop,
    lines: &mut Vec<String>,
) {
    match msg {
        Msg::EffectDone { ref effect, ref result, .. } => {
            lines.push(format!("cutover: {}: {}", effect.describe(&app.config.routes), outcome(result)));
            let out = runtime::apply(app, msg, recorder);
            if !out.effects.is_empty() {
                tracing::info!(effects = ?out.effects, "not sent: the console has quit");
            }
        }
        Msg::EffectProgress { .. } => {
            let _ = runtime::apply(app, msg, recorder);
        }
        Msg::Signal(signal) => {
            tracing::warn!(signal = signal.name(), "a signal while the write in flight finishes: not waiting longer");
            stop.give_up.cancel();
        }
        _ => {}
    }
}

/// A write's outcome in the exit message, in the events' words.
fn outcome(result: &EffectResult) -> String {
    match result {
        EffectResult::Verified { detail } => format!("done and verified: {detail}"),
        EffectResult::Mismatch { detail } => format!("READ-BACK DIFFERS: {detail}"),
        EffectResult::Refused { reason } => format!("refused, not applied: {reason}"),
        EffectResult::Failed { error } => format!("not applied: {error}"),
        EffectResult::Unknown { detail } => format!("OUTCOME UNKNOWN: {detail}; check before acting again"),
        EffectResult::NotYet { detail } => format!("NOT APPLIED YET: {detail}"),
        EffectResult::DryRun { calls } => format!("dry-run, not sent: {}", calls.join("; ")),
    }
}
