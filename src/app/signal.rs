//! Stopping on a signal: SIGHUP (a dropped SSH session), SIGTERM, SIGINT
//! sent as a signal (Ctrl-C in the console is a key), or a terminal that
//! can no longer be read or drawn on.
//!
//! The console does not die where it stands: a handoff in flight is first
//! brought to rest when that takes a bounded time, and otherwise left for
//! the next `cutover run`, saying which. A start already sent is let be
//! answered (and then left running: a side running alone is never
//! stopped); a source stopped but not yet gone, or a singleton that runs
//! nowhere after a failed start, is restored where it ran, the way back;
//! a target started and not yet ready is left as it is. Writes in flight
//! are given [`SIGNAL_GRACE_SECS`] to be answered. Then the console quits,
//! with a line that says what it leaves and what the next `run` will do.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{App, Effect, Handoff, HandoffPhase, Level, Marked, Modal, Mode, Purpose, State};
use crate::domain::{clock, plus_secs};
use crate::keymap::Action;

/// How long writes in flight are awaited after a signal: more than one
/// Kubernetes call's deadline, less than what a service manager gives a
/// process before SIGKILL (systemd 90 s, Kubernetes 30 s).
pub const SIGNAL_GRACE_SECS: i64 = 15;

/// What asks the console to stop from outside its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signal {
    /// SIGHUP: the terminal hung up (an SSH session dropped).
    Hangup,
    /// SIGTERM: something asks the process to stop (kill, a service manager).
    Terminate,
    /// SIGINT delivered as a signal (`kill -INT`): in the console Ctrl-C is
    /// a key, and quits.
    Interrupt,
    /// The terminal can no longer be read or drawn on, with or before its
    /// SIGHUP: a hangup by its effect.
    TerminalLost,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Hangup => "SIGHUP",
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "SIGINT",
            Signal::TerminalLost => "the terminal went away",
        }
    }

    /// 128 + the signal's number, as a shell reports a process it ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Hangup | Signal::TerminalLost => 129,
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }

    /// A terminal gone and its SIGHUP are one hangup, said twice.
    fn same_as(self, other: Signal) -> bool {
        let hangup = |s: Signal| matches!(s, Signal::Hangup | Signal::TerminalLost);
        self == other || (hangup(self) && hangup(other))
    }
}

/// How a session ended: the last message of its recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Ending {
    /// The operator quit.
    Quit,
    /// A signal, once the handoff in flight was at rest (or the grace over).
    Signal(Signal),
    /// The console's loop stopped on an error (its executor gone).
    Error(String),
    /// A panic: written by the panic hook, the last thing the process did.
    Crash(String),
}

impl Ending {
    pub fn describe(&self) -> String {
        match self {
            Ending::Quit => "the operator quit".into(),
            Ending::Signal(s) => format!("stopped by {}", s.name()),
            Ending::Error(e) => format!("stopped on an error: {e}"),
            Ending::Crash(e) => format!("CRASHED: {e}"),
        }
    }
}

/// A signal being honoured: the console quits once nothing it wrote is
/// unanswered, or at `until`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stopping {
    pub signal: Signal,
    pub since: Timestamp,
    pub until: Timestamp,
    /// The handoff's source was restored (once: a failed restore is left
    /// for the next `run`, not tried again against the clock).
    pub restoring: bool,
}

pub fn on_signal(app: &mut App, signal: Signal) -> bool {
    let at = app.now;
    if let Some(stopping) = app.stopping {
        if stopping.signal.same_as(signal) || !matches!(signal, Signal::Terminate | Signal::Interrupt) {
            return false;
        }
        let text = format!(
            "{}: a second signal while stopping on {}: exiting now; {}",
            signal.name(),
            stopping.signal.name(),
            left_behind(app)
        );
        app.push_event(at, None, Level::Alert, text.clone());
        app.mark(at, Marked::Signal { signal, text });
        app.quit = true;
        return true;
    }
    match app.modal.take() {
        Some(Modal::Proposal(p)) => {
            app.push_event(at, None, Level::Info, format!("proposal dropped on {}: {}", signal.name(), p.title));
        }
        Some(Modal::Percent(_) | Modal::Quit(_)) | None => {}
    }
    app.stopping = Some(Stopping { signal, since: at, until: plus_secs(at, SIGNAL_GRACE_SECS), restoring: false });
    let text = format!("{}: stopping; {}", signal.name(), intent(app));
    app.push_event(at, None, Level::Alert, text.clone());
    app.mark(at, Marked::Signal { signal, text: text.clone() });
    app.notice = Some(text);
    true
}

/// What the console will do before it exits, in one line.
fn intent(app: &App) -> String {
    let writes = app.in_flight.values().filter(|f| f.purpose != Purpose::Handoff).count();
    let writes = match writes {
        0 => String::new(),
        n => format!("the answers of {n} write(s) in flight are awaited (up to {SIGNAL_GRACE_SECS}s); "),
    };
    let handoff = match unfinished(app) {
        None => "no handoff in flight".to_string(),
        Some(h) => {
            let (name, from, to) = (&h.spec.name, h.from, h.to);
            match &h.phase {
                HandoffPhase::Stopping => format!(
                    "handoff {name}: the stop of {from} was sent: its answer is awaited, then {from} is restored if it still runs (the way back), or {to} started if it runs nothing"
                ),
                HandoffPhase::WaitingGone if can_restore(app) => format!(
                    "handoff {name}: {from} is stopped and not yet gone, {to} not started: {from} is restored, so that it runs where it ran (the way back, one write)"
                ),
                HandoffPhase::StartFailed(_) if can_restore(app) => {
                    format!("handoff {name} runs on NEITHER side: {from} is restored, so that it runs where it ran")
                }
                HandoffPhase::Starting => format!(
                    "handoff {name}: the start of {to} was sent: its answer is awaited (up to {SIGNAL_GRACE_SECS}s), and {to} is left running"
                ),
                HandoffPhase::WaitingReady => format!(
                    "handoff {name}: {to} is started and not yet ready: left as it is (a side running alone is never stopped)"
                ),
                HandoffPhase::Aborting => {
                    format!("handoff {name}: the restore of {from} was sent: its answer is awaited")
                }
                _ => format!("handoff {}", h.state_text()),
            }
        }
    };
    format!("{writes}{handoff}")
}

fn unfinished(app: &App) -> Option<&Handoff> {
    app.handoff.as_ref().filter(|h| !h.phase.finished())
}

/// Whether this console may restore a handoff's source on its own: it has
/// an executor (not `watch`). A replay of such a session says the same.
fn can_restore(app: &App) -> bool {
    app.config.mode.can_act()
}

/// After each message while stopping: restores the source of a handoff
/// left in the gap, once nothing of the handoff is being written, and
/// quits once nothing is unanswered or the grace is over.
pub fn check(app: &mut App) {
    let Some(stopping) = app.stopping else { return };
    if app.quit {
        return;
    }
    settle(app);
    let unanswered = app.in_flight.len();
    let over = app.now >= stopping.until;
    if unanswered > 0 && !over {
        return;
    }
    let at = app.now;
    let name = stopping.signal.name();
    let text = if unanswered > 0 {
        format!(
            "{name}: {SIGNAL_GRACE_SECS}s passed with {unanswered} write(s) unanswered: exiting; {}",
            left_behind(app)
        )
    } else {
        format!("{name}: exiting; {}", left_behind(app))
    };
    app.push_event(at, None, Level::Alert, text.clone());
    app.mark(at, Marked::Signal { signal: stopping.signal, text });
    app.quit = true;
}

/// The way back for a handoff in the gap whose target is not started:
/// its source started again (the abort `x` proposes), once.
fn settle(app: &mut State) {
    let Some(stopping) = app.stopping.as_mut() else { return };
    // The mode, not whether this is a replay: a replay must come to the
    // state the session came to (its effects are dropped there).
    if stopping.restoring || !app.config.mode.can_act() {
        return;
    }
    let writing = app.in_flight.values().any(|f| f.purpose == Purpose::Handoff);
    let Some(h) = app.handoff.as_mut() else { return };
    if writing || !matches!(h.phase, HandoffPhase::WaitingGone | HandoffPhase::StartFailed(_)) {
        return;
    }
    stopping.restoring = true;
    let signal = stopping.signal;
    h.phase = HandoffPhase::Aborting;
    let effect = Effect::start(&h.spec, h.from, None);
    let text = format!(
        "{}: handoff {} aborted: restoring {} (only if {} runs nothing, read afresh)",
        signal.name(),
        h.spec.name,
        h.from,
        h.to
    );
    let aborted =
        Marked::HandoffAborted { singleton: h.spec.name.clone(), who: format!("cutover on {}", signal.name()) };
    let at = app.now;
    app.send(effect, Purpose::Handoff, None);
    app.push_event(at, None, Level::Warn, text);
    app.mark(at, aborted);
}

/// What quitting now leaves of the handoff, and whether a later console
/// will find it.
pub fn left_behind(app: &App) -> String {
    let Some(h) = app.handoff.as_ref() else { return "no handoff in flight".into() };
    if h.phase == HandoffPhase::Aborted {
        return format!(
            "handoff {}: aborted, {} restored: it runs where it ran before the handoff",
            h.spec.name, h.from
        );
    }
    if h.phase.finished() {
        return "no handoff in flight".into();
    }
    format!("handoff {}; {}", h.state_text(), kept(app, h))
}

/// Whether the handoff in flight survives this console, and what the next
/// `cutover run` of the plan does with it.
pub fn kept(app: &App, h: &Handoff) -> String {
    match (app.config.mode, &app.keeping.state_file) {
        (Mode::Run, Some(t)) => format!(
            "it is NOT kept on disk ({} cannot be written: {}): no later console will pick it up; look at both sides before you go",
            t.path, t.error
        ),
        (Mode::Run, None) => format!("it is kept on disk: {}", next_run(app, h)),
        _ => "it is not kept: this session's world ends with it".into(),
    }
}

/// What the next `cutover run` of the plan does with a handoff it finds
/// in this phase (see `actions::on_resumed`).
pub fn next_run(app: &App, h: &Handoff) -> String {
    let (from, to) = (h.from, h.to);
    let keys = (app.keymap.label(Action::Handoff), app.keymap.label(Action::Abort));
    match &h.phase {
        HandoffPhase::Stopping | HandoffPhase::WaitingGone | HandoffPhase::Starting => format!(
            "`cutover run` with this plan picks it up again: it reads both sides, waits until {from} runs nothing, then starts {to}"
        ),
        HandoffPhase::WaitingReady => {
            format!("`cutover run` with this plan picks it up again: it waits until {to} is ready and times the gap")
        }
        HandoffPhase::Aborting | HandoffPhase::StartFailed(_) => format!(
            "`cutover run` with this plan picks it up again and shows it running on neither side: {} retries the start of {to}, {} restores {from}",
            keys.0, keys.1
        ),
        _ => "nothing is left to pick up".into(),
    }
}

/// The session's last message.
pub fn on_ended(app: &mut App, ending: Ending) -> bool {
    let at = app.now;
    let text = format!("session ended: {}", ending.describe());
    app.push_event(at, None, Level::Info, text.clone());
    app.mark(at, Marked::Ended { ending, text });
    true
}

/// The mark the session's end makes, for a writer that records it without
/// `update` (the panic hook).
pub fn ended_mark(at: Timestamp, ending: Ending) -> super::Mark {
    let text = format!("session ended: {}", ending.describe());
    super::Mark { at, what: Marked::Ended { ending, text } }
}

/// A key while stopping: only Ctrl-C does anything (it exits at once).
pub fn on_key_while_stopping(app: &mut App, key: crate::keymap::Key) -> bool {
    let Some(stopping) = app.stopping else { return false };
    if key == crate::keymap::Key::ctrl('c') {
        let at = app.now;
        let text = format!("Ctrl-C while stopping on {}: exiting now; {}", stopping.signal.name(), left_behind(app));
        app.push_event(at, None, Level::Alert, text.clone());
        app.mark(at, Marked::Signal { signal: stopping.signal, text });
        app.quit = true;
    } else {
        app.notice = Some(format!(
            "stopping on {} (until {} at the latest): keys do nothing now; ctrl-c exits at once",
            stopping.signal.name(),
            clock(stopping.until)
        ));
    }
    true
}
