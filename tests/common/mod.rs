//! Shared by the integration tests: a demo world fed into a console, and a
//! screen drawn on ratatui's `TestBackend`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::zombie_processes)]

pub mod peers;
pub mod tmux;

use cutover::app::{App, Msg, update};
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

pub fn feed(app: &mut App, msgs: Vec<Msg>) {
    for msg in msgs {
        update(app, msg);
    }
}

pub fn press(app: &mut App, keys: &[Key]) {
    for key in keys {
        update(app, Msg::Key(*key));
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
