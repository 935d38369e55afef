//! Shared by the integration tests: a demo world fed into a console, and a
//! screen drawn on ratatui's `TestBackend`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::zombie_processes)]

pub mod cloudwatch;
pub mod live;
pub mod nats;
pub mod peers;
pub mod sharing;
pub mod tmux;

use std::cell::RefCell;

use cutover::app::{App, Effect, Msg, Queued, update};
use cutover::domain::plus_secs;
use cutover::keymap::{Key, Keymap};
use cutover::sim::{SimConfig, World};
use jiff::Timestamp;
use ratatui::backend::TestBackend;
use ratatui::{Frame, Terminal};

pub fn start() -> Timestamp {
    "2026-11-25T14:00:00Z".parse().unwrap()
}

/// The demo world with seed 2026, run `secs` past its start, and the
/// console that has seen all of it.
pub fn demo(secs: i64) -> (World, App) {
    let mut world = World::new(&SimConfig { seed: 2026, start: start(), scale: 1 });
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    feed(&mut app, world.initial());
    feed(&mut app, world.advance(plus_secs(start(), secs)));
    (world, app)
}

thread_local! {
    /// The effects `update` handed back and no test has taken yet: what the
    /// runtime would have sent to the executor. (nextest runs each test in
    /// a process of its own, so this is the test's own.)
    static SENT: RefCell<Vec<Queued>> = const { RefCell::new(Vec::new()) };
}

/// Applies one message as the runtime does, keeping the effects it made.
pub fn step(app: &mut App, msg: Msg) -> bool {
    let out = update(app, msg);
    SENT.with(|s| s.borrow_mut().extend(out.effects));
    out.redraw
}

/// Keeps effects the runtime's `apply` handed back, as `step` does.
pub fn keep(effects: Vec<Queued>) {
    SENT.with(|s| s.borrow_mut().extend(effects));
}

/// The effects made and not yet taken.
pub fn sent() -> Vec<Effect> {
    SENT.with(|s| s.borrow().iter().map(|q| q.effect.clone()).collect())
}

/// Takes the effects made, with their ids, to answer them.
pub fn take_sent() -> Vec<Queued> {
    SENT.with(|s| std::mem::take(&mut *s.borrow_mut()))
}

pub fn feed(app: &mut App, msgs: Vec<Msg>) {
    for msg in msgs {
        step(app, msg);
    }
}

pub fn press(app: &mut App, keys: &[Key]) {
    for key in keys {
        step(app, Msg::Key(*key));
    }
}

/// The screen as text, one line per row.
pub fn draw(width: u16, height: u16, f: impl FnOnce(&mut Frame)) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(f).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width).map(|x| buffer[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The colour of the first cell whose text starts `needle` on the screen.
pub fn colour_of(width: u16, height: u16, f: impl FnOnce(&mut Frame), needle: &str) -> Option<ratatui::style::Color> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(f).unwrap();
    let buffer = terminal.backend().buffer();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width).map(|x| buffer[(x, y)].symbol().to_string()).collect();
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count() as u16;
            return buffer[(x, y)].fg.into();
        }
    }
    None
}

/// A recorded demo session, driven as the console drives it: every message
/// through `runtime::apply` with a recorder, the operator's keys at set
/// seconds, effects carried out by the simulated world.
pub struct Session {
    pub app: App,
    /// (unix ms, the live state then as keyframe JSON) for each check time.
    pub states: Vec<(i64, serde_json::Value)>,
}

/// The operator's script: at these seconds after the start, these keys.
pub fn operator_script() -> Vec<(i64, Vec<Key>)> {
    use cutover::keymap::KeyCode;
    let k = Key::char;
    vec![
        // Focus the traffic panel, nudge api 25 -> 50.
        (60, vec![Key::plain(KeyCode::BackTab), k(']'), k('y')]),
        // Abort with no handoff running: refused.
        (200, vec![k('x')]),
        // Nudge 50 -> 75.
        (300, vec![k(']'), k('y')]),
        // Workloads, down to app/scheduler, hand it over.
        (
            420,
            vec![
                Key::plain(KeyCode::Tab),
                Key::plain(KeyCode::Down),
                Key::plain(KeyCode::Down),
                Key::plain(KeyCode::Down),
                Key::plain(KeyCode::Down),
                Key::plain(KeyCode::Down),
                k('h'),
                // Argo CD would scale it back: the typed override.
                k('o'),
                k('v'),
                k('e'),
                k('r'),
                k('r'),
                k('i'),
                k('d'),
                k('e'),
                Key::plain(KeyCode::Enter),
            ],
        ),
    ]
}

/// Runs the demo world for `secs` with the operator script, recording to
/// `path` (header at `start()`), and keeps the live state at each of
/// `checks` (seconds after the start): the state once every message
/// stamped at or before that moment has been applied.
pub fn record_session(path: &std::path::Path, secs: i64, checks: &[i64]) -> Session {
    record_script(path, secs, checks, &operator_script())
}

/// `record_session` with another operator's script.
pub fn record_script(path: &std::path::Path, secs: i64, checks: &[i64], script: &[(i64, Vec<Key>)]) -> Session {
    record_with(path, secs, checks, script, |_, _| Vec::new())
}

/// `record_script` with messages of the test's own at each second after
/// the world's (datapoints whose values the test knows, say).
pub fn record_with(
    path: &std::path::Path,
    secs: i64,
    checks: &[i64],
    script: &[(i64, Vec<Key>)],
    mut inject: impl FnMut(i64, &App) -> Vec<Msg>,
) -> Session {
    use cutover::record::{Header, Writer};
    use cutover::runtime;
    let mut world = World::new(&SimConfig { seed: 2026, start: start(), scale: 1 });
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    let mut writer = Writer::create(path, &Header::new(&app, start(), (120, 32))).unwrap();
    let mut checks: Vec<i64> = checks.iter().map(|s| start().as_millisecond() + s * 1000).collect();
    checks.sort();
    checks.reverse();
    let mut states = Vec::new();
    let mut step = |app: &mut App, writer: &mut Writer, msg: Msg| {
        let at = runtime::stamp(app, &msg).as_millisecond();
        while checks.last().is_some_and(|c| *c < at) {
            let c = checks.pop().unwrap();
            states.push((c, serde_json::to_value(cutover::record::Keyframe::of(app)).unwrap()));
        }
        let out = runtime::apply(app, msg, Some(writer));
        SENT.with(|s| s.borrow_mut().extend(out.effects));
    };
    step(&mut app, &mut writer, Msg::Operator { who: "alice@example (demo)".into() });
    for msg in world.initial() {
        step(&mut app, &mut writer, msg);
    }
    for s in 1..=secs {
        for msg in world.advance(plus_secs(start(), s)) {
            step(&mut app, &mut writer, msg);
        }
        for msg in inject(s, &app) {
            step(&mut app, &mut writer, msg);
        }
        for (_, keys) in script.iter().filter(|(at, _)| *at == s) {
            for key in keys {
                step(&mut app, &mut writer, Msg::Key(*key));
            }
        }
        for Queued { id, effect } in take_sent() {
            let (result, msgs) = world.apply(&effect);
            for msg in msgs.into_iter().chain([Msg::EffectDone { id, effect, result }]) {
                step(&mut app, &mut writer, msg);
            }
        }
    }
    // As the console ends a session: its recording's last message.
    step(&mut app, &mut writer, Msg::Ended(cutover::app::Ending::Quit));
    drop(writer);
    Session { app, states }
}

/// A path for a test file, in a directory of this test process, with no
/// file there yet.
pub fn fresh_path(suite: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cutover-{suite}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// Which top-level parts of two consoles (as keyframe JSON) differ, each
/// with the start of both values; none if they are equal.
pub fn differing_parts(a: &serde_json::Value, b: &serde_json::Value, a_is: &str, b_is: &str) -> Option<String> {
    if a == b {
        return None;
    }
    let differ: Vec<String> = a
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| b.get(k.as_str()) != Some(v))
        .map(|(k, v)| {
            format!("{k}:\n  {a_is:<9} {:.600}\n  {b_is:<9} {:.600}", v.to_string(), b[k.as_str()].to_string())
        })
        .collect();
    Some(differ.join("\n"))
}
