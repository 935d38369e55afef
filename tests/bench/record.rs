//! `cargo bench --bench record`: what recording costs and how fast a
//! recording is entered.
//!
//! - bytes per hour of a session with 500 and with 5,000 pods a side (the
//!   simulated world, recorded through the console's own `runtime::apply`);
//! - opening a 4-hour recording, and seeking to its middle, a quarter and
//!   three quarters (each from where the last left off);
//! - the report of that recording;
//! - one replay frame at 120x34.
//!
//! Numbers are written down in the README with the machine and the date.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cutover::app::App;
use cutover::domain::{Side, plus_secs};
use cutover::keymap::Keymap;
use cutover::record::{Header, Writer};
use cutover::replay::{Player, Viewer};
use cutover::runtime;
use cutover::sim::{SimConfig, World};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn start() -> Timestamp {
    "2026-11-25T14:00:00Z".parse().expect("a valid time")
}

/// Records `hours` of the simulated world at `scale`; returns pods a side.
fn record(path: &Path, scale: u32, hours: i64) -> usize {
    let _ = std::fs::remove_file(path);
    let mut world = World::new(&SimConfig { seed: 2026, start: start(), scale });
    let pods = world.pod_count(Side::New);
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    let mut writer = Writer::create(path, &Header::new(&app, start(), (120, 34))).unwrap();
    for msg in world.initial() {
        let _ = runtime::apply(&mut app, msg, Some(&mut writer));
    }
    for s in 1..=hours * 3600 {
        for msg in world.advance(plus_secs(start(), s)) {
            let _ = runtime::apply(&mut app, msg, Some(&mut writer));
        }
    }
    pods
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("cutover-bench-{}-{name}", std::process::id()))
}

fn keyframe_bytes(path: &Path) -> (usize, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let frames: Vec<&str> = text.lines().filter(|l| l.contains(",\"k\":{")).collect();
    (frames.len(), frames.iter().map(|l| l.len() as u64 + 1).sum())
}

fn main() {
    let hours: i64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(4);
    println!(
        "{:<16} {:>9} {:>12} {:>10} {:>16} {:>10}",
        "world", "pods/side", "per hour", "keyframes", "keyframe share", "made in"
    );
    for scale in [33u32, 334] {
        let path = temp(&format!("hour-{scale}.jsonl"));
        let t = Instant::now();
        let pods = record(&path, scale, 1);
        let made = t.elapsed();
        let (frames, frame_bytes) = keyframe_bytes(&path);
        println!(
            "{:<16} {:>9} {:>12} {:>10} {:>15.0}% {:>9.1}s",
            format!("scale {scale}"),
            pods,
            mb(size(&path)),
            frames,
            100.0 * frame_bytes as f64 / size(&path) as f64,
            made.as_secs_f64()
        );
        let _ = std::fs::remove_file(&path);
    }

    println!();
    for scale in [33u32, 334] {
        let path = temp(&format!("long-{scale}.jsonl"));
        let pods = record(&path, scale, hours);
        let t = Instant::now();
        let mut player = Player::open(&path).unwrap();
        let open = t.elapsed();
        let (begin, end) = player.span();
        let mut seek = |fraction: f64| {
            let t = Instant::now();
            player.seek(begin + ((end - begin) as f64 * fraction) as i64).unwrap();
            t.elapsed()
        };
        let middle = seek(0.5);
        let quarter = seek(0.25);
        let three = seek(0.75);
        println!(
            "{hours} h at {pods} pods/side ({}): open {:.0} ms; seek to the middle {:.0} ms, back to 1/4 {:.0} ms, on to 3/4 {:.0} ms",
            mb(size(&path)),
            ms(open),
            ms(middle),
            ms(quarter),
            ms(three)
        );

        let t = Instant::now();
        let report = cutover::report::from_file(&path).unwrap();
        println!(
            "  the report of it: {:.0} ms ({} messages, {} marks)",
            ms(t.elapsed()),
            report.session.messages,
            report.timeline.len()
        );

        let mut viewer = Viewer::new(player, Keymap::default(), false);
        viewer.paused = true;
        let mut terminal = Terminal::new(TestBackend::new(120, 34)).unwrap();
        let mut frames = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            terminal.draw(|f| viewer.render(f)).unwrap();
            frames.push(t.elapsed());
        }
        frames.sort();
        println!("  one replay frame, 120x34: {:.2} ms (median of 50)", ms(frames[frames.len() / 2]));
        let _ = std::fs::remove_file(&path);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
