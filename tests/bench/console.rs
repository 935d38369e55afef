//! `cargo bench --bench console`: what the console costs per message and
//! per frame, for the demo world and for 5,000 pods a side.
//!
//! Plain timing over many iterations (medians of batches); numbers are
//! written down in the README with the machine and the date.

#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use cutover::app::{App, Msg, update};
use cutover::domain::{Side, plus_secs};
use cutover::keymap::{Key, KeyCode, Keymap};
use cutover::sim::{SimConfig, World};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn per_iter(batches: usize, iters: usize, mut f: impl FnMut()) -> Duration {
    let samples = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed() / iters as u32
        })
        .collect();
    median(samples)
}

fn main() {
    let start: Timestamp = "2026-11-25T14:00:00Z".parse().expect("a valid time");
    println!(
        "{:<34} {:>10} {:>12} {:>12} {:>12} {:>12}",
        "world", "pods/side", "history", "msg update", "main frame", "pods frame"
    );
    for scale in [1u32, 334] {
        let mut world = World::new(&SimConfig { seed: 2026, start, scale });
        let pods = world.pod_count(Side::New);
        let mut app = App::new(world.app_config(), Keymap::default(), world.now());

        // Start-up: 30 minutes of history generated and applied.
        let t = Instant::now();
        let msgs = world.initial();
        let count = msgs.len();
        for msg in msgs {
            let _ = update(&mut app, msg);
        }
        let history = t.elapsed();

        // Steady state: one simulated minute of messages, applied.
        let minute: Vec<Msg> = world.advance(plus_secs(start, 60));
        let n = minute.len().max(1);
        let msg_cost = per_iter(5, 3, || {
            for msg in minute.iter().cloned() {
                let _ = update(&mut app, msg);
            }
        }) / n as u32;

        let mut terminal = Terminal::new(TestBackend::new(120, 32)).expect("a test terminal");
        let frame = per_iter(7, 20, || {
            terminal.draw(|f| cutover::ui::render(&app, f)).expect("drawn");
        });
        let _ = update(&mut app, Msg::Key(Key::plain(KeyCode::Down)));
        let _ = update(&mut app, Msg::Key(Key::plain(KeyCode::Enter)));
        let pods_frame = per_iter(7, 20, || {
            terminal.draw(|f| cutover::ui::render(&app, f)).expect("drawn");
        });
        println!(
            "{:<34} {:>10} {:>12} {:>12} {:>12} {:>12}",
            format!("demo, scale {scale} ({count} history msgs)"),
            pods,
            format!("{:.1?}", history),
            format!("{:.1?}", msg_cost),
            format!("{:.2?}", frame),
            format!("{:.2?}", pods_frame),
        );
    }
}
