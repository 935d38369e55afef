//! Snapshots of every panel and view of the demo console at 120x32, from a
//! fixed seed and start time, drawn on ratatui's TestBackend.

#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, draw, press};
use cutover::keymap::{Key, KeyCode};
use cutover::ui;

const W: u16 = 120;
const H: u16 = 32;

#[test]
fn main_screen() {
    let (_, app) = demo(90);
    insta::assert_snapshot!(draw(W, H, |f| ui::render(&app, f)));
}

#[test]
fn traffic_panel() {
    let (_, app) = demo(90);
    insta::assert_snapshot!(draw(W, 8, |f| ui::traffic::render(&app, f, f.area())));
}

#[test]
fn workloads_panel() {
    let (_, app) = demo(90);
    insta::assert_snapshot!(draw(ui::workloads::WIDTH, 18, |f| ui::workloads::render(&app, f, f.area())));
}

#[test]
fn events_panel() {
    let (_, app) = demo(90);
    insta::assert_snapshot!(draw(44, 18, |f| ui::events::render(&app, f, f.area())));
}

#[test]
fn header() {
    let (_, app) = demo(90);
    insta::assert_snapshot!(draw(W, 2, |f| ui::header::render(&app, f, f.area())));
}

#[test]
fn route_drill_down() {
    let (_, mut app) = demo(90);
    // Focus the traffic panel (one back from workloads) and open the api route.
    press(&mut app, &[Key::plain(KeyCode::BackTab), Key::plain(KeyCode::Enter)]);
    insta::assert_snapshot!(draw(W, H, |f| ui::render(&app, f)));
}

#[test]
fn workload_drill_down() {
    let (_, mut app) = demo(90);
    // app/api is the second row.
    press(&mut app, &[Key::plain(KeyCode::Down), Key::plain(KeyCode::Enter)]);
    insta::assert_snapshot!(draw(W, H, |f| ui::render(&app, f)));
}

#[test]
fn help_overlay() {
    let (_, mut app) = demo(5);
    press(&mut app, &[Key::char('?')]);
    insta::assert_snapshot!(draw(W, H, |f| ui::render(&app, f)));
}

#[test]
fn help_follows_the_active_keymap() {
    let (_, mut app) = demo(5);
    app.keymap = cutover::keymap::Keymap::load(Some("vim")).unwrap();
    press(&mut app, &[Key::char('?')]);
    let screen = draw(W, H, |f| ui::render(&app, f));
    assert!(screen.contains("keymap: default + vim"), "{screen}");
    assert!(screen.contains("down/j"), "{screen}");
}

#[test]
fn a_small_terminal_is_told_the_size_it_needs() {
    let (_, app) = demo(5);
    let screen = draw(100, 30, |f| ui::render(&app, f));
    assert!(screen.contains("terminal 100x30: cutover is laid out for 120x32 or larger"), "{screen}");
}
