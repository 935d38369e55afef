//! Session recordings: what is written reads back as the same stream, a
//! recording cut anywhere still replays up to the cut, and nothing secret
//! is ever written.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{demo, start, step, take_sent};
use cutover::app::{App, Msg};
use cutover::domain::plus_secs;
use cutover::keymap::{Key, Keymap};
use cutover::record::{self, Header, Writer};
use cutover::sim::Rng;

fn temp(name: &str) -> PathBuf {
    common::fresh_path("record", name)
}

/// A demo session with an operator's nudge, recorded; returns the live app.
fn record_demo(path: &Path) -> App {
    let (mut world, _) = demo(0);
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    let mut writer = Writer::create(path, &Header::new(&app, start(), (120, 32))).unwrap();
    let feed = |app: &mut App, writer: &mut Writer, msgs: Vec<Msg>| {
        for msg in msgs {
            writer.append(app.now, &msg).unwrap();
            step(app, msg);
        }
    };
    feed(&mut app, &mut writer, world.initial());
    feed(&mut app, &mut writer, world.advance(plus_secs(start(), 60)));
    feed(
        &mut app,
        &mut writer,
        vec![
            Msg::Key(Key::plain(cutover::keymap::KeyCode::BackTab)),
            Msg::Key(Key::char(']')),
            Msg::Key(Key::char('y')),
        ],
    );
    for cutover::app::Queued { id, effect } in take_sent() {
        let (result, msgs) = world.apply(&effect);
        feed(&mut app, &mut writer, msgs);
        feed(&mut app, &mut writer, vec![Msg::EffectDone { id, effect, result }]);
    }
    feed(&mut app, &mut writer, world.advance(plus_secs(start(), 240)));
    app
}

fn replay(path: &Path) -> (App, record::Recording) {
    let rec = record::read(path).unwrap();
    let mut app = App::new(rec.header.config.clone(), Keymap::default(), rec.header.clock);
    for e in &rec.entries {
        step(&mut app, e.m.clone());
    }
    (app, rec)
}

fn state(app: &App) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        app.now,
        app.routes,
        app.clusters.old.workloads,
        app.clusters.new.pods,
        app.node_signals,
        app.events,
        app.load_balancers
    )
}

#[test]
fn a_replayed_recording_rebuilds_the_live_state() {
    let path = temp("same.jsonl");
    let live = record_demo(&path);
    assert_eq!(live.routes[0].verified, Some(cutover::domain::Weights::from_percent_new(50)), "the nudge was applied");
    let (replayed, rec) = replay(&path);
    assert!(rec.stopped.is_none());
    assert_eq!(rec.header.version, record::VERSION);
    assert_eq!(state(&replayed), state(&live), "same update, same stream, same state");
}

#[test]
fn a_recording_cut_anywhere_replays_up_to_the_cut() {
    let path = temp("whole.jsonl");
    record_demo(&path);
    let bytes = std::fs::read(&path).unwrap();
    let whole = record::read(&path).unwrap();
    let header_len = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    let mut rng = Rng::new(42);
    for _ in 0..40 {
        let cut = rng.between(header_len as i64, bytes.len() as i64 - 1) as usize;
        let part = temp("cut.jsonl");
        std::fs::write(&part, &bytes[..cut]).unwrap();
        let rec = record::read(&part).unwrap();
        let complete = bytes[header_len..cut].iter().filter(|b| **b == b'\n').count();
        assert_eq!(rec.entries.len(), complete, "cut at {cut}");
        assert_eq!(rec.entries[..], whole.entries[..complete], "cut at {cut}: a prefix of the whole");
        let line_start = header_len + bytes[header_len..cut].iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        if cut > line_start {
            let why = rec.stopped.unwrap_or_default();
            assert!(why.contains(&format!("byte {line_start}")) && why.contains("cut short"), "cut at {cut}: {why}");
        }
    }
    // Damage in the middle: everything before it still replays.
    let mut damaged = bytes.clone();
    let middle = header_len + (bytes.len() - header_len) / 2;
    let line_start = damaged[..middle].iter().rposition(|b| *b == b'\n').unwrap() + 1;
    damaged[line_start] = b'#';
    let part = temp("damaged.jsonl");
    std::fs::write(&part, &damaged).unwrap();
    let rec = record::read(&part).unwrap();
    assert!(
        rec.stopped.as_deref().unwrap().contains(&format!("(byte {line_start}) cannot be read")),
        "{:?}",
        rec.stopped
    );
    assert!(!rec.entries.is_empty());
}

#[test]
fn an_unknown_header_is_refused_clearly() {
    let path = temp("future.jsonl");
    record_demo(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let future = text.replacen("\"version\":1", "\"version\":7", 1);
    std::fs::write(&path, future).unwrap();
    let err = record::read(&path).unwrap_err();
    assert!(err.contains("format version 7 is newer than this cutover reads (1)"), "{err}");

    std::fs::write(&path, "{\"hello\":1}\n").unwrap();
    let err = record::read(&path).unwrap_err();
    assert!(err.contains("not a cutover recording"), "{err}");
    std::fs::write(&path, "").unwrap();
    assert!(record::read(&path).unwrap_err().contains("empty file"));
}

#[test]
fn a_recording_is_never_overwritten() {
    let path = temp("once.jsonl");
    record_demo(&path);
    let header = Header::new(&demo(0).1, start(), (120, 32));
    let err = Writer::create(&path, &header).err().unwrap();
    assert!(err.contains("cannot create the recording"), "{err}");
}

/// A live session against the peers, whose pods carry a secret in their
/// environment: the recording holds every message and not the secret.
#[test]
fn secrets_in_seeded_objects_never_reach_a_recording() {
    let mut live = common::live::LiveConsole::start("realistic", cutover::app::Mode::Watch);
    let path = temp("live.jsonl");
    live.record_to(&path);
    live.until("the session read both clusters", Duration::from_secs(30), |app| {
        app.clusters.new.pods.len() >= 10 && app.clusters.old.pods.len() >= 10 && app.routes[0].read.is_some()
    });
    // A keyframe too: the whole state, as a replay would enter it.
    let mut writer = live.recorder.take().unwrap();
    writer.keyframe(live.app.now, &live.app).unwrap();
    drop(writer);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("sidekiq-gpu") && text.lines().count() > 50, "the session is in the recording");
    assert!(text.contains("\"k\":{"), "the recording has a keyframe");
    for secret in ["s3cr3t-never-record", "DATABASE_PASSWORD", "testing"] {
        assert!(!text.contains(secret), "`{secret}` is in the recording");
    }
}

#[test]
fn a_keyframe_is_written_as_soon_as_both_clusters_have_listed() {
    let path = temp("synced.jsonl");
    let (mut world, _) = demo(0);
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    let mut writer = Writer::create(&path, &Header::new(&app, start(), (120, 32))).unwrap();
    let mut synced_at = None;
    for msg in world.initial() {
        let synced = matches!(&msg, Msg::Cluster { delta: cutover::app::ClusterDelta::Synced, .. });
        let _ = cutover::runtime::apply(&mut app, msg, Some(&mut writer));
        if synced && app.clusters.old.synced && app.clusters.new.synced && synced_at.is_none() {
            synced_at = Some(std::fs::read_to_string(&path).unwrap().lines().count());
        }
    }
    writer.flush().unwrap();
    let lines: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(str::to_string).collect();
    let synced_at = synced_at.expect("the demo lists both sides");
    // The line written last when both sides had listed is a keyframe with
    // every pod of both sides in it; no keyframe came before it.
    let keyframe = &lines[synced_at - 1];
    assert!(keyframe.contains("\"k\""), "{}", &keyframe[..keyframe.len().min(200)]);
    assert!(lines[1..synced_at - 1].iter().all(|l| !l.contains("\"k\":")), "no keyframe before the sides listed");
    for pod in app.clusters.new.pods.keys().chain(app.clusters.old.pods.keys()) {
        assert!(keyframe.contains(&format!("\"{}\"", pod.name)), "{} missing from the keyframe", pod.name);
    }
    // And only once: the rest of the start-up writes no other.
    assert_eq!(lines.iter().filter(|l| l.contains("\"k\":")).count(), 1);
}
