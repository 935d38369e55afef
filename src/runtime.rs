//! The loop: sources send `Msg`s on one channel, `update` applies them,
//! and the screen is redrawn only when something changed. The terminal
//! itself (taking it, giving it back, decoding its input) is
//! [`crate::terminal`]'s.

use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{App, Keeping, Msg, Queued, Signal, Update, update};
use crate::domain::plus_secs;
use crate::sim::{SimConfig, World};
use crate::terminal::input::{Clicks, ESCAPE_TAIL_WINDOW, EscapeFilter, key_from};
use crate::ui;

/// Room for a burst (the demo's history arrives at once) without letting a
/// stuck screen make sources pile up unbounded.
pub const CHANNEL_CAPACITY: usize = 4096;

/// Applies messages until the operator quits or every source is gone.
/// Generic over the backend so tests drive it on a `TestBackend`.
///
/// Effects of confirmed proposals go to `effects`, the session's executor.
/// A read-only session passes `None`: it has no executor at all, and its
/// `update` refuses every action before an effect could exist.
pub async fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &mut mpsc::Receiver<Msg>,
    effects: Option<&mpsc::Sender<Queued>>,
    recorder: Option<&mut crate::record::Writer>,
    saved: Option<&mut crate::record::HandoffFile>,
) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    run_loop_with(terminal, app, rx, effects, recorder, saved, &mut |_| {}).await
}

/// [`run_loop`], telling `after` the state after each burst: what the
/// plan's Lease says of this console's handoff in flight.
pub async fn run_loop_with<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &mut mpsc::Receiver<Msg>,
    effects: Option<&mpsc::Sender<Queued>>,
    mut recorder: Option<&mut crate::record::Writer>,
    mut saved: Option<&mut crate::record::HandoffFile>,
    after: &mut (dyn FnMut(&App) + Send),
) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut outbox = Vec::new();
    let mut screen = Screen { drawing: true };
    screen.draw(terminal, app, recorder.as_deref_mut(), &mut outbox);
    let mut probed = Instant::now();
    let mut drove = app.drives();
    while let Some(msg) = rx.recv().await {
        // Everything already queued is applied before drawing: one frame per burst.
        let mut dirty = apply_burst(app, msg, rx, recorder.as_deref_mut(), &mut outbox).redraw;
        // The handoff in flight is kept on disk as soon as it changes, so
        // a console started again after a crash picks it up; only by the
        // console that drives (another of the plan, on this machine, may
        // share the file). Whether it can be kept is the reducer's to know
        // (the quit question, the guard).
        let drives = app.drives();
        if let Some(file) = saved.as_deref_mut() {
            // The wheel came to this console mid-session: a handoff the
            // console that drove here left unfinished is carried on, as a
            // start would.
            if drives && !drove && app.handoff.as_ref().is_none_or(|h| h.phase.finished()) {
                match file.load() {
                    Ok(Some((handoff, saved_at))) => {
                        let out = apply(app, Msg::Resumed { handoff, saved_at }, recorder.as_deref_mut());
                        outbox.extend(out.effects);
                        dirty = true;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "reading the handoff left on disk failed"),
                }
            }
            // Once more as the wheel goes: a handoff left to the new driver
            // is over here, and its file goes.
            if drives || drove {
                let saved = file.save(app);
                if let Some(msg) = state_file_news(app, file, saved, &mut probed) {
                    outbox.extend(apply(app, msg, recorder.as_deref_mut()).effects);
                }
            }
        }
        drove = drives;
        after(app);
        for queued in outbox.drain(..) {
            match effects {
                Some(tx) => tx.send(queued).await.wrap_err("the executor stopped")?,
                None => tracing::error!(?queued, "an effect in a session without an executor was dropped"),
            }
        }
        if app.quit {
            break;
        }
        if dirty {
            screen.draw(terminal, app, recorder.as_deref_mut(), &mut outbox);
        }
    }
    Ok(())
}

/// The terminal as the loop draws on it: once it cannot be drawn on (a
/// hangup that closed it), it is not drawn on again, and the console stops
/// as on SIGHUP.
struct Screen {
    drawing: bool,
}

impl Screen {
    fn draw<B: Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        app: &mut App,
        recorder: Option<&mut crate::record::Writer>,
        outbox: &mut Vec<Queued>,
    ) {
        if !self.drawing {
            return;
        }
        if let Err(e) = terminal.draw(|f| ui::render(app, f)) {
            tracing::warn!(error = %e, "the terminal cannot be drawn on: stopping as on a hangup");
            self.drawing = false;
            outbox.extend(apply(app, Msg::Signal(Signal::TerminalLost), recorder).effects);
        }
    }
}

/// How often a state file that could not be written is tried again while
/// no handoff asks for it.
const STATE_FILE_PROBE: Duration = Duration::from_secs(10);

/// What the reducer is to be told of the handoff state file after a save:
/// that it cannot be written (once per error), or can again.
fn state_file_news(
    app: &App,
    file: &crate::record::HandoffFile,
    saved: std::io::Result<bool>,
    probed: &mut Instant,
) -> Option<Msg> {
    let path = file.path().display().to_string();
    let trouble = app.keeping.state_file.as_ref();
    let news = |error: Option<String>| Some(Msg::Keeping(Keeping::StateFile { path: path.clone(), error }));
    match saved {
        // Said once per error (the reducer keeps it), not once a message.
        Err(e) => {
            let error = crate::app::keeping::error_text(&e);
            if trouble.map(|t| &t.error) == Some(&error) {
                return None;
            }
            tracing::error!(error = %e, path = %file.path().display(), "saving the handoff failed");
            news(Some(error))
        }
        Ok(true) if trouble.is_some() => news(None),
        Ok(_) if trouble.is_some() && probed.elapsed() >= STATE_FILE_PROBE => {
            *probed = Instant::now();
            file.probe().ok().and_then(|()| news(None))
        }
        Ok(_) => None,
    }
}

/// Applies `first` and every message already queued behind it, as
/// [`apply`] does each, until the queue is empty or the operator quits;
/// the effects they made go to `outbox`. The console draws once after a
/// burst; a relay (no terminal) runs the same code and draws nothing.
pub fn apply_burst(
    app: &mut App,
    first: Msg,
    rx: &mut mpsc::Receiver<Msg>,
    mut recorder: Option<&mut crate::record::Writer>,
    outbox: &mut Vec<Queued>,
) -> Burst {
    let mut burst = Burst::default();
    let mut msg = Some(first);
    while let Some(m) = msg.take() {
        let out = apply(app, m, recorder.as_deref_mut());
        burst.redraw |= out.redraw;
        burst.applied += 1;
        outbox.extend(out.effects);
        if app.quit {
            break;
        }
        msg = rx.try_recv().ok();
    }
    burst
}

/// What [`apply_burst`] did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Burst {
    /// The screen may have changed.
    pub redraw: bool,
    /// Messages applied.
    pub applied: usize,
}

/// Records one message, applies it, and records the marks it made and a
/// keyframe when one is due. Every message is recorded before it is
/// applied, so a recording holds everything that made each screen, up to
/// a crash. Returns whether the screen may have changed.
///
/// What happened to the recording itself on the way (it could not be
/// written, or is written again) is applied next, as recorded messages of
/// its own, and how much is held in memory meanwhile is shown.
pub fn apply(app: &mut App, msg: Msg, mut recorder: Option<&mut crate::record::Writer>) -> Update {
    let mut out = apply_one(app, msg, recorder.as_deref_mut());
    let Some(r) = recorder else { return out };
    while let Some(news) = r.take_news() {
        let more = apply_one(app, Msg::Keeping(news), Some(&mut *r));
        out.redraw |= more.redraw;
        out.effects.extend(more.effects);
        out.marks.extend(more.marks);
    }
    let held = r.held();
    if app.held != held {
        out.redraw |= update(app, Msg::Held(held)).redraw;
    }
    out
}

fn apply_one(app: &mut App, mut msg: Msg, recorder: Option<&mut crate::record::Writer>) -> Update {
    // Recorded as what was clicked: where it was depends on the screen.
    if let Msg::Mouse { kind, column, row } = msg {
        match app.resolve_pointer(kind, column, row) {
            Some(p) => msg = Msg::Pointer(p),
            None => return Update::default(),
        }
    }
    msg.scrub_secrets(); // Before it is recorded or shown: see `scrub`.
    if let Msg::Share(_) | Msg::Held(_) = msg {
        return update(app, msg); // Not part of the session: never recorded.
    }
    let at = stamp(app, &msg);
    let mut recorder = recorder;
    if let Some(r) = recorder.as_deref_mut()
        && let Err(e) = r.append(at, &msg)
    {
        tracing::error!(error = %e, path = ?r.path(), "recording failed");
    }
    let out = update(app, msg);
    if let Some(r) = recorder
        && let Err(e) = r.after_update(at, app, &out.marks)
    {
        tracing::error!(error = %e, path = ?r.path(), "recording failed");
    }
    out
}

/// The time a message is recorded at: the console's clock, the one its
/// header shows, so a replay's "14:02" is the screen's 14:02, also in a
/// demo running faster than real time. Never earlier than the last.
pub fn stamp(app: &App, msg: &Msg) -> Timestamp {
    match msg {
        Msg::Tick { at } => (*at).max(app.now),
        _ => app.now,
    }
}

/// Consecutive input errors after which the terminal counts as gone and
/// the console quits (as on Ctrl-C) rather than run without a keyboard.
const MAX_INPUT_FAILURES: u32 = 100;

/// Forwards key presses and resizes until cancelled. Keys pass an
/// [`EscapeFilter`] first: the tail of an escape sequence the terminal
/// split after its Esc is dropped rather than read as typed keys.
pub async fn input_task(tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    let mut events = EventStream::new();
    let mut failures = 0u32;
    // Monotonic, so a wall-clock step cannot open or close the window.
    let origin = Instant::now();
    let mut escapes = EscapeFilter::new(ESCAPE_TAIL_WINDOW);
    let mut clicks = Clicks::default();
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            event = events.next() => event,
        };
        if matches!(event, Some(Ok(_))) {
            failures = 0;
        }
        let msg = match event {
            Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                let at = origin.elapsed();
                match key_from(k.code, k.modifiers).and_then(|key| escapes.feed(at, key)) {
                    Some(key) => {
                        tracing::debug!(?k, ?key, "key");
                        Msg::Key(key)
                    }
                    None => continue,
                }
            }
            Some(Ok(Event::Resize(_, _))) => Msg::Resize,
            Some(Ok(Event::Mouse(m))) => match clicks.read(origin.elapsed(), m) {
                Some(msg) => msg,
                None => continue,
            },
            Some(Ok(_)) => continue,
            // A read interrupted by a signal, or a sequence the parser
            // cannot read, must not end input: that would leave a console
            // nobody can quit. Only a terminal that keeps failing ends it.
            // A terminal that is gone (a hangup closed it) is not a key:
            // the console stops as on SIGHUP, the handoff in flight first.
            Some(Err(e)) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "terminal input failed");
                if failures < MAX_INPUT_FAILURES {
                    continue;
                }
                let _ = tx.send(Msg::Signal(Signal::TerminalLost)).await;
                return;
            }
            None => {
                tracing::info!("terminal input closed");
                let _ = tx.send(Msg::Signal(Signal::TerminalLost)).await;
                return;
            }
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

/// Runs the simulated world at `speed` times real time, sending what
/// happens, and carries out the operator's effects in it (the demo's
/// executor). Wakes once a real second: the clock's resolution on screen.
pub async fn sim_task(
    mut world: World,
    speed: u32,
    tx: mpsc::Sender<Msg>,
    mut effects: mpsc::Receiver<Queued>,
    cancel: CancellationToken,
) {
    for msg in world.initial() {
        if tx.send(msg).await.is_err() {
            return;
        }
    }
    let sim_start = world.now();
    let real_start = tokio::time::Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
            Some(Queued { id, effect }) = effects.recv() => {
                let (result, msgs) = world.apply(&effect);
                for msg in msgs.into_iter().chain([Msg::EffectDone { id, effect, result }]) {
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                }
                continue;
            }
        }
        let elapsed = real_start.elapsed().as_secs() as i64;
        let target = plus_secs(sim_start, elapsed * i64::from(speed));
        for msg in world.advance(target) {
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    }
}

/// The start of the demo's live part: now, on a whole second.
/// The demo world's seed when none is given.
pub const DEMO_SEED: u64 = 2026;

pub fn demo_start() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn demo_world(seed: u64, scale: u32) -> World {
    World::new(&SimConfig { seed, start: demo_start(), scale })
}
