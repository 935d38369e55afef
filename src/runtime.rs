//! The terminal and the loop: sources send `Msg`s on one channel, `update`
//! applies them, and the screen is redrawn only when something changed.

use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream, KeyCode as CtKey, KeyEventKind, KeyModifiers};
use futures::StreamExt;
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{App, Effect, Msg, update};
use crate::domain::plus_secs;
use crate::keymap::{Key, KeyCode};
use crate::sim::{SimConfig, World};
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
    effects: Option<&mpsc::Sender<Effect>>,
    mut recorder: Option<&mut crate::record::Writer>,
) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    terminal.draw(|f| ui::render(app, f)).wrap_err("drawing the first frame")?;
    let mut apply = |app: &mut App, msg: Msg| apply(app, msg, recorder.as_deref_mut());
    while let Some(msg) = rx.recv().await {
        let mut dirty = apply(app, msg);
        // Apply everything already queued before drawing: one frame per burst.
        while !app.quit {
            match rx.try_recv() {
                Ok(msg) => dirty |= apply(app, msg),
                Err(_) => break,
            }
        }
        for effect in app.outbox.drain(..) {
            match effects {
                Some(tx) => tx.send(effect).await.wrap_err("the executor stopped")?,
                None => tracing::error!(?effect, "an effect in a session without an executor was dropped"),
            }
        }
        if app.quit {
            break;
        }
        if dirty {
            terminal.draw(|f| ui::render(app, f)).wrap_err("drawing a frame")?;
        }
    }
    Ok(())
}

/// Records one message, applies it, and records the marks it made and a
/// keyframe when one is due. Every message is recorded before it is
/// applied, so a recording holds everything that made each screen, up to
/// a crash. Returns whether the screen may have changed.
pub fn apply(app: &mut App, msg: Msg, recorder: Option<&mut crate::record::Writer>) -> bool {
    let at = stamp(app, &msg);
    let mut recorder = recorder;
    if let Some(r) = recorder.as_deref_mut()
        && let Err(e) = r.append(at, &msg)
    {
        tracing::error!(error = %e, path = %r.path().display(), "recording failed");
    }
    let changed = update(app, msg);
    let marks = std::mem::take(&mut app.marks);
    if let Some(r) = recorder
        && let Err(e) = r.after_update(at, app, &marks)
    {
        tracing::error!(error = %e, path = %r.path().display(), "recording failed");
    }
    changed
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

/// Forwards key presses and resizes until cancelled.
pub async fn input_task(tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    let mut events = EventStream::new();
    let mut failures = 0u32;
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            event = events.next() => event,
        };
        if matches!(event, Some(Ok(_))) {
            failures = 0;
        }
        let msg = match event {
            Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => match key_from(k.code, k.modifiers) {
                Some(key) if tracing::enabled!(tracing::Level::DEBUG) => {
                    tracing::debug!(?k, ?key, "key");
                    Msg::Key(key)
                }
                Some(key) => Msg::Key(key),
                None => continue,
            },
            Some(Ok(Event::Resize(_, _))) => Msg::Resize,
            Some(Ok(_)) => continue,
            // A read interrupted by a signal, or a sequence the parser
            // cannot read, must not end input: that would leave a console
            // nobody can quit. Only a terminal that keeps failing ends it.
            Some(Err(e)) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "terminal input failed");
                if failures < MAX_INPUT_FAILURES {
                    continue;
                }
                let _ = tx.send(Msg::Key(Key::ctrl('c'))).await;
                return;
            }
            None => {
                tracing::info!("terminal input closed");
                let _ = tx.send(Msg::Key(Key::ctrl('c'))).await;
                return;
            }
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

pub fn key_from(code: CtKey, mods: KeyModifiers) -> Option<Key> {
    let code = match code {
        CtKey::Char(c) => KeyCode::Char(c),
        CtKey::Up => KeyCode::Up,
        CtKey::Down => KeyCode::Down,
        CtKey::Left => KeyCode::Left,
        CtKey::Right => KeyCode::Right,
        CtKey::Enter => KeyCode::Enter,
        CtKey::Esc => KeyCode::Esc,
        CtKey::Tab => KeyCode::Tab,
        CtKey::BackTab => KeyCode::BackTab,
        CtKey::Backspace => KeyCode::Backspace,
        CtKey::Delete => KeyCode::Delete,
        CtKey::Home => KeyCode::Home,
        CtKey::End => KeyCode::End,
        CtKey::PageUp => KeyCode::PageUp,
        CtKey::PageDown => KeyCode::PageDown,
        CtKey::F(n) => KeyCode::F(n),
        _ => return None,
    };
    let key = Key {
        code,
        ctrl: mods.contains(KeyModifiers::CONTROL),
        alt: mods.contains(KeyModifiers::ALT),
        shift: mods.contains(KeyModifiers::SHIFT),
    };
    Some(key.normalized())
}

/// Runs the simulated world at `speed` times real time, sending what
/// happens, and carries out the operator's effects in it (the demo's
/// executor). Wakes once a real second: the clock's resolution on screen.
pub async fn sim_task(
    mut world: World,
    speed: u32,
    tx: mpsc::Sender<Msg>,
    mut effects: mpsc::Receiver<Effect>,
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
            Some(effect) = effects.recv() => {
                let (result, msgs) = world.apply(&effect);
                for msg in msgs.into_iter().chain([Msg::EffectDone { effect, result }]) {
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
pub fn demo_start() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn demo_world(seed: u64, scale: u32) -> World {
    World::new(&SimConfig { seed, start: demo_start(), scale })
}
