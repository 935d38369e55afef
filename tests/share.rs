//! Sharing a session over NATS JetStream, against a real `nats-server`:
//! the stream holds the recording line for line, a follower can find the
//! last keyframe and the session's heartbeats, and the broker being down,
//! killed, full or refusing never costs the recording a line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use async_nats::jetstream;
use common::nats::Nats;
use common::sharing::*;
use cutover::app::{App, Msg};
use cutover::record::{self, Header, Kind, Writer};
use cutover::share::{self, Heartbeat, KeyframeAt, Limits, ShareState, ShareStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_session_lands_in_the_stream_line_for_line_with_its_keyframe_and_heartbeats() {
    let nats = Nats::start();
    let mut s = Session::start("whole", &nats.url(), Limits::default()).await;
    s.advance(240);
    // Wait past two heartbeat periods while the session runs.
    let first = s.until_status("live", |st| st.state == ShareState::Live && st.behind == 0).await;
    assert_eq!(first.lost, 0);
    tokio::time::sleep(share::HEARTBEAT_EVERY * 2).await;
    s.advance(120);
    s.caught_up().await;
    // A heartbeat after the last line: it names it.
    tokio::time::sleep(share::HEARTBEAT_EVERY + Duration::from_millis(500)).await;
    let (local, finished, path) = s.finish(Duration::from_secs(30)).await;
    let subjects = session_subjects(&path);
    let (_, stream) = open_stream(&nats.url()).await;

    let log = read_subject(&stream, &subjects.log, 1).await;
    assert_eq!(texts(&log), local, "the stream holds the recording, line for line, header first");
    assert!(local[0].starts_with("{\"format\":\"cutover-recording\""));
    assert_eq!(finished, share::Finished { published: local.len() as u64, behind: 0, lost: 0 });

    // `.k` names the last keyframe line of the log, by its sequence.
    let (_, k) = last_on(&stream, &subjects.keyframe).await.expect("a keyframe index");
    let k: KeyframeAt = serde_json::from_str(&k).unwrap();
    let keyframes: Vec<u64> = log
        .iter()
        .filter(|(_, l)| record::classify(l.as_bytes()).map(|(_, kind)| kind) == Some(Kind::Keyframe))
        .map(|(seq, _)| *seq)
        .collect();
    assert!(!keyframes.is_empty(), "the demo's clusters synced: a keyframe was written");
    assert_eq!(Some(&k.seq), keyframes.last(), "`.k` is the last keyframe's sequence");
    let line = &log.iter().find(|(seq, _)| *seq == k.seq).unwrap().1;
    assert_eq!(record::classify(line.as_bytes()), Some((k.t, Kind::Keyframe)));
    // A late follower starts there: the log from the keyframe on.
    let tail = read_subject(&stream, &subjects.log, k.seq).await;
    assert_eq!(texts(&tail), local[local.len() - tail.len()..], "the log from `.k` on is the recording's tail");

    // The heartbeat says where the log is; only the latest is kept.
    let (_, hb) = last_on(&stream, &subjects.heartbeat).await.expect("a heartbeat");
    let hb: Heartbeat = serde_json::from_str(&hb).unwrap();
    assert_eq!((hb.plan.as_str(), hb.status.as_str(), hb.lost), (PLAN, "live", 0));
    assert_eq!(hb.last, log.last().unwrap().0, "{hb:?}");
    assert_eq!(read_subject(&stream, &subjects.heartbeat, 1).await.len(), 1, "heartbeats roll up");
    let (_, end) = last_on(&stream, &subjects.end).await.expect("the session's end");
    let end: share::Ended = serde_json::from_str(&end).unwrap();
    assert_eq!((end.last, end.lines, end.lost), (log.last().unwrap().0, local.len() as u64, 0));
    // Sessions are found by their subjects' last messages.
    assert!(subjects.log.starts_with("cutover.demo_shop."), "{}", subjects.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_arrive_every_two_seconds_while_the_session_runs() {
    let nats = Nats::start();
    let mut s = Session::start("beats", &nats.url(), Limits::default()).await;
    s.until_status("live", |st| st.state == ShareState::Live).await;
    let subjects = session_subjects(&s.path);
    let (_, stream) = open_stream(&nats.url()).await;
    let mut seen: Vec<Heartbeat> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "fewer than 3 heartbeats in 20 s: {seen:?}");
        if let Some((_, hb)) = last_on(&stream, &subjects.heartbeat).await {
            let hb: Heartbeat = serde_json::from_str(&hb).unwrap();
            if seen.last().is_none_or(|last| last.at != hb.at) {
                seen.push(hb);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for pair in seen.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!((1500..=4000).contains(&gap), "heartbeats {gap} ms apart: {seen:?}");
    }
    let local = s.local();
    let (_, stream_log) = open_stream(&nats.url()).await;
    let last = read_subject(&stream_log, &subjects.log, 1).await.last().unwrap().0;
    assert_eq!(seen.last().unwrap().last, last, "a quiet session's heartbeat names the log's last line");
    assert_eq!(read_subject(&stream_log, &subjects.log, 1).await.len(), local.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_down_at_the_start_gets_everything_in_order_once_it_is_up() {
    let mut nats = Nats::reserve(None);
    let mut s = Session::start("late", &nats.url(), Limits::default()).await;
    s.advance(120);
    let down = s.until_status("down", |st| matches!(st.state, ShareState::Down(_)) && st.behind > 0).await;
    assert_eq!(down.lost, 0);
    let written = s.local().len() as u64;
    assert!(down.behind <= written);
    nats.resume();
    s.advance(120);
    s.until_status("caught up", |st| st.state == ShareState::Live && st.behind == 0).await;
    s.advance(60);
    let (local, finished, path) = s.finish(Duration::from_secs(30)).await;
    let (_, stream) = open_stream(&nats.url()).await;
    let log = texts(&read_subject(&stream, &session_subjects(&path).log, 1).await);
    assert_eq!(log, local, "nothing lost, nothing twice, in order");
    assert!(gap_lines(&log).is_empty());
    assert_eq!(finished.behind, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_killed_and_restarted_mid_session_loses_nothing_and_marks_no_gap() {
    let mut nats = Nats::start();
    let mut s = Session::start("restart", &nats.url(), Limits::default()).await;
    s.advance(120);
    s.until_status("live", |st| st.state == ShareState::Live && st.behind == 0).await;
    nats.kill();
    s.advance(120);
    let down = s.until_status("down", |st| matches!(st.state, ShareState::Down(_))).await;
    assert!(down.text().starts_with("down, "), "{}", down.text());
    s.advance(120);
    assert!(s.statuses().iter().all(|st| st.state != ShareState::Live), "nothing is stored while the broker is away");
    nats.resume();
    s.until_status("caught up", |st| st.state == ShareState::Live && st.behind == 0).await;
    s.advance(120);
    let (local, finished, path) = s.finish(Duration::from_secs(30)).await;
    let (_, stream) = open_stream(&nats.url()).await;
    let log = texts(&read_subject(&stream, &session_subjects(&path).log, 1).await);
    assert_eq!(log.len(), local.len(), "a line lost or stored twice");
    assert_eq!(log, local, "nothing lost, in order");
    assert!(gap_lines(&log).is_empty(), "the buffer held everything: no gap");
    assert_eq!((finished.behind, finished.lost), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_a_full_buffer_one_gap_line_counts_the_lost_lines_in_their_place() {
    let mut nats = Nats::reserve(None);
    let held = 40;
    let mut s = Session::start("gap", &nats.url(), Limits { lines: held, bytes: 64 << 20 }).await;
    s.advance(300);
    let local_down = s.local();
    assert!(local_down.len() > held + 10, "the session outgrew the buffer: {} lines", local_down.len());
    let lost = (local_down.len() - held) as u64;
    let status = s.until_status("lines lost", |st| st.lost == lost).await;
    assert_eq!(status.behind, local_down.len() as u64, "held and lost lines are all behind");
    assert!(status.text().contains(&format!("{lost} lost")), "{}", status.text());
    nats.resume();
    s.caught_up().await;
    // Then in steps the tiny buffer holds: nothing more is lost.
    for _ in 0..12 {
        s.advance(10);
        s.caught_up().await;
    }
    let (local, finished, path) = s.finish(Duration::from_secs(30)).await;
    assert_eq!(finished.lost, lost);
    let (_, stream) = open_stream(&nats.url()).await;
    let log = texts(&read_subject(&stream, &session_subjects(&path).log, 1).await);
    let first_lost_t = record::classify(local[held].as_bytes()).unwrap().0;
    let mut expected: Vec<String> = local[..held].to_vec();
    expected.push(share::gap_line(first_lost_t, lost));
    expected.extend_from_slice(&local[local_down.len()..]);
    assert_eq!(gap_lines(&log).len(), 1, "exactly one gap line");
    assert_eq!(log, expected, "the held lines, one gap for the rest, then every line after, in order");
    // A follower reads the gap's count from the line itself.
    let gap: serde_json::Value = serde_json::from_str(gap_lines(&log)[0]).unwrap();
    assert_eq!(gap["gap"]["lines"].as_u64(), Some(lost));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_without_permission_is_told_clearly_and_the_recording_goes_on() {
    let nats = Nats::start_with_config(PERMISSIONS);
    let url = |user: &str| format!("nats://{user}:{user}@127.0.0.1:{}", nats.port);
    let mut s = Session::start("refused", &url("observer"), Limits::default()).await;
    let refused = s.until_status("refused", |st| matches!(st.state, ShareState::Refused(_))).await;
    let ShareState::Refused(why) = &refused.state else { unreachable!() };
    assert!(why.contains("Permissions Violation for Publish"), "{why}");
    assert!(why.contains("cutover."), "the subject is named: {why}");
    assert!(refused.text().starts_with("REFUSED: "), "{}", refused.text());
    // The console goes on: every line is recorded while the broker refuses.
    s.advance(240);
    let before = s.local().len();
    s.advance(60);
    assert!(s.local().len() > before);
    let (local, finished, path) = s.finish(Duration::from_secs(3)).await;
    assert_eq!(record::read(&path).unwrap().stopped, None, "the recording is whole");
    assert_eq!(finished.published, 0);
    assert_eq!(finished.behind, local.len() as u64, "nothing reached the broker");
    // Nothing of the session is in the stream.
    let (_, stream) = open_stream(&url("admin")).await;
    assert!(read_subject(&stream, &session_subjects(&path).log, 1).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_permissions_the_readme_gives_a_publisher_are_enough() {
    let nats = Nats::start_with_config(PERMISSIONS);
    let url = |user: &str| format!("nats://{user}:{user}@127.0.0.1:{}", nats.port);
    let mut s = Session::start("allowed", &url("publisher"), Limits::default()).await;
    s.advance(120);
    s.caught_up().await;
    let (local, finished, path) = s.finish(Duration::from_secs(30)).await;
    assert_eq!((finished.published, finished.behind), (local.len() as u64, 0));
    let (_, stream) = open_stream(&url("admin")).await;
    let subjects = session_subjects(&path);
    assert_eq!(texts(&read_subject(&stream, &subjects.log, 1).await), local);
    assert!(last_on(&stream, &subjects.keyframe).await.is_some());
    assert!(last_on(&stream, &subjects.end).await.is_some());
}

#[test]
fn the_header_says_how_sharing_goes_and_its_status_is_never_recorded() {
    let (_, mut app) = common::demo(0);
    let path = common::fresh_path("share", "status.jsonl");
    let mut writer = Writer::create(&path, &Header::new(&app, common::start(), (160, 40))).unwrap();
    let header_line = |app: &App| {
        let screen = common::draw(160, 40, |f| cutover::ui::render(app, f));
        screen.lines().nth(1).unwrap().to_string()
    };
    assert!(!header_line(&app).contains("share:"), "no --share, nothing said");
    let cases = [
        (ShareState::Live, 0, 0, "share: live"),
        (ShareState::Down("publishing: no answer".into()), 1200, 0, "share: down, 1200 behind"),
        (ShareState::Live, 40, 3, "share: live, 40 behind, 3 lost"),
        (
            ShareState::Refused("Permissions Violation for Publish to \"cutover.x.y.log\"".into()),
            7,
            0,
            "share: REFUSED: Permissions Violation",
        ),
    ];
    for (state, behind, lost, said) in cases {
        let out = cutover::runtime::apply(&mut app, Msg::Share(ShareStatus { state, behind, lost }), Some(&mut writer));
        assert!(out.redraw);
        let line = header_line(&app);
        assert!(line.contains(said), "{said:?} not in {line:?}");
        if behind == 0 {
            assert!(line.trim_end().ends_with(said), "nothing behind, nothing more said: {line:?}");
        }
    }
    writer.flush().unwrap();
    assert_eq!(lines(&path).len(), 1, "only the header: a share status is this process's link, not the session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_larger_than_the_brokers_largest_message_go_in_parts_a_follower_joins() {
    // The demo's keyframes are about 30 kB: a broker taking 12 kB at most
    // gets them in three parts or more, as a real broker with its default
    // 1 MiB gets the keyframes of a 5,000-pod cutover.
    let nats = Nats::start_with_config("max_payload: 12288\n");
    let mut s = Session::start("parts", &nats.url(), Limits::default()).await;
    s.advance(240);
    s.caught_up().await;
    let (local, finished, path) = s.finish(Duration::from_secs(30)).await;
    assert_eq!(finished.behind, 0);
    let subjects = session_subjects(&path);
    let (_, stream) = open_stream(&nats.url()).await;
    let log = read_subject(&stream, &subjects.log, 1).await;
    assert_eq!(texts(&log), local, "put back together, the stream is the recording");
    let big = local.iter().filter(|l| l.len() > 12288).count();
    assert!(big >= 2, "keyframes larger than a message: {big}");
    // `.k` names the first part of the last keyframe.
    let (_, k) = last_on(&stream, &subjects.keyframe).await.unwrap();
    let k: KeyframeAt = serde_json::from_str(&k).unwrap();
    let first = stream.get_raw_message(k.seq).await.unwrap();
    let part = first.headers.get(share::PART_HEADER).map(|v| v.as_str().to_string());
    assert!(part.as_deref().is_some_and(|p| p.starts_with("1/")), "{part:?}");
    let tail = read_subject(&stream, &subjects.log, k.seq).await;
    assert_eq!(record::classify(tail[0].1.as_bytes()).map(|(_, kind)| kind), Some(Kind::Keyframe));
    assert_eq!(texts(&tail), local[local.len() - tail.len()..]);
}

/// The header's second line on a console's screen.
fn status_line(screen: &str) -> &str {
    screen.lines().find(|l| l.contains("simulated world")).unwrap_or("")
}

#[test]
fn a_demo_shared_in_a_terminal_says_when_the_broker_goes_and_comes_back() {
    let mut nats = Nats::start();
    let t = common::tmux::Tmux::start("share");
    let rec = common::fresh_path("share", "terminal.jsonl");
    let said = rec.with_extension("stderr");
    t.type_line(&format!(
        "{} demo --speed 10 --record {} --share {} 2>{}; echo EXIT=$?",
        env!("CARGO_BIN_EXE_cutover"),
        rec.display(),
        nats.url(),
        said.display()
    ));
    let live = |s: &str| status_line(s).trim_end().ends_with("share: live");
    t.wait_for("share: live", Duration::from_secs(20), live);
    nats.kill();
    let down = t.wait_for("share: down", Duration::from_secs(20), |s| status_line(s).contains("share: down, "));
    assert!(status_line(&down).contains(" behind"), "{down}");
    nats.resume();
    t.wait_for("share: live again", Duration::from_secs(30), live);
    t.send(&["q"]);
    // The typed line says `EXIT=$?`; the shell's answer has the digits.
    let exit_code =
        |s: &str| s.split("EXIT=").skip(1).find_map(|rest| rest.split_whitespace().next()?.parse::<i32>().ok());
    let exited = t.wait_for("the exit", Duration::from_secs(20), |s| exit_code(s).is_some());
    assert_eq!(exit_code(&exited), Some(0), "{exited}");
    let after = std::fs::read_to_string(&said).unwrap();
    let recorded = lines(&rec).len();
    assert!(
        after.contains(&format!("session shared as cutover.photo-api-2026__demo_.terminal.log ({recorded} lines)")),
        "every line recorded reached the broker: {after}"
    );
    assert!(!after.contains("did not reach the broker"), "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_the_broker_does_not_accept_are_said_as_such() {
    let nats = Nats::start_with_config(PERMISSIONS);
    let url = format!("nats://admin:wrong@127.0.0.1:{}", nats.port);
    let mut s = Session::start("wrong", &url, Limits::default()).await;
    let refused = s.until_status("refused", |st| matches!(st.state, ShareState::Refused(_))).await;
    assert!(refused.text().contains("does not accept these credentials"), "{}", refused.text());
    assert!(!refused.text().contains("wrong"), "the password is never said: {}", refused.text());
    s.advance(60);
    let (local, finished, _) = s.finish(Duration::from_secs(2)).await;
    assert_eq!(finished.behind, local.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_an_administrator_made_without_rollups_is_used_as_it_is() {
    let nats = Nats::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = jetstream::new(client);
    js.create_stream(jetstream::stream::Config {
        name: share::DEFAULT_STREAM.into(),
        subjects: vec!["cutover.>".into()],
        max_age: Duration::from_secs(3600),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut s = Session::start("admin-made", &nats.url(), Limits::default()).await;
    s.advance(240);
    s.caught_up().await;
    tokio::time::sleep(share::HEARTBEAT_EVERY * 2).await;
    let (local, _, path) = s.finish(Duration::from_secs(30)).await;
    let subjects = session_subjects(&path);
    let mut stream = js.get_stream(share::DEFAULT_STREAM).await.unwrap();
    let info = stream.info().await.unwrap();
    assert_eq!(info.config.max_age, Duration::from_secs(3600), "its limits are the administrator's");
    assert_eq!(texts(&read_subject(&stream, &subjects.log, 1).await), local);
    assert!(read_subject(&stream, &subjects.heartbeat, 1).await.len() >= 2, "without rollups heartbeats are kept");
    let (_, k) = last_on(&stream, &subjects.keyframe).await.expect("the last keyframe's index");
    let k: KeyframeAt = serde_json::from_str(&k).unwrap();
    assert_eq!(read_subject(&stream, &subjects.log, k.seq).await.first().map(|(seq, _)| *seq), Some(k.seq));
}
