//! Following a shared session from a real `nats-server`: followers see
//! the publisher's console at the same stream position, a late one
//! starts from a keyframe, a broker that goes away is waited out with
//! nothing lost, lines lost past the publisher's buffer are said and
//! mended at the next keyframe, read-only credentials are enough, and
//! `sessions`, `export`, `replay` and `report` read the broker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::nats::Nats;
use common::sharing::*;
use cutover::domain::analysis::{Advance, AnalysisSpec, OnFailure};
use cutover::record::{self, Keyframe, Kind};
use cutover::replay::Player;
use cutover::share::read::{Broker, Joined, Link, LinkState, Liveness};
use cutover::share::{self, Limits};
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_cutover");

/// A follower as `cutover follow` runs one, minus the screen: the local
/// copy it fills and the link it keeps.
struct Follower {
    info: share::read::SessionInfo,
    path: PathBuf,
    link: Arc<Mutex<Link>>,
    joined: Joined,
    cancel: CancellationToken,
}

impl Follower {
    async fn join(url: &str, name: &str, session: Option<&str>) -> Follower {
        let options = share::Options::new(url);
        let broker = Broker::connect(&options).await.unwrap();
        let info = broker.find(session).await.unwrap();
        let joined = broker.join(&info).await.unwrap();
        let path = common::fresh_path("follow", &format!("{name}.jsonl"));
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(&joined.header).unwrap();
        file.write_all(b"\n").unwrap();
        let link = Arc::new(Mutex::new(Link::new()));
        let cancel = CancellationToken::new();
        let task = share::read::follow(
            broker,
            info.clone(),
            joined.clone(),
            std::io::BufWriter::new(file),
            link.clone(),
            cancel.clone(),
        );
        tokio::spawn(async move { task.await.unwrap() });
        Follower { info, path, link, joined, cancel }
    }

    fn link(&self) -> Link {
        self.link.lock().unwrap().clone()
    }

    async fn until(&self, what: &str, done: impl Fn(&Link) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(40);
        while !done(&self.link()) {
            assert!(Instant::now() < deadline, "follower: not {what} within 40 s: {:?}", self.link());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the copy holds `local`'s lines from where it joined to
    /// the end, and returns the index in `local` of its first line after
    /// the header.
    async fn until_whole(&self, local: &[String]) -> usize {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let copy = lines(&self.path);
            if copy.len() > 1
                && let Some(from) = local.iter().position(|l| *l == copy[1])
                && copy.len() - 1 == local.len() - from
            {
                assert_eq!(copy[0], local[0], "the header first");
                assert_eq!(&copy[1..], &local[from..], "every line from the join on, in order");
                return from;
            }
            assert!(
                Instant::now() < deadline,
                "the copy did not catch up within 40 s: {} lines, the publisher wrote {}",
                copy.len(),
                local.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The console the player shows at `t`, as the replay test compares it.
fn state_at(player: &mut Player, t: i64) -> serde_json::Value {
    player.seek(t).unwrap();
    serde_json::to_value(Keyframe::of(&player.app)).unwrap()
}

/// The follower's console equals the publisher's at every entry time of
/// the copy (sampled), through its keyframes.
fn same_console(publisher: &mut Session, follower: &Path, samples: usize) {
    publisher.local();
    let publisher = &publisher.path;
    let mut theirs = Player::open(follower).unwrap();
    let mut ours = Player::open(publisher).unwrap();
    assert!(theirs.index.stopped.is_none(), "{:?}", theirs.index.stopped);
    let times: Vec<i64> = theirs.index.lines.iter().map(|l| l.t).collect();
    let every = (times.len() / samples).max(1);
    let mut compared = 0;
    for t in times.iter().step_by(every).chain(times.last()) {
        let (a, b) = (state_at(&mut ours, *t), state_at(&mut theirs, *t));
        if let Some(differ) = common::differing_parts(&a, &b, "publisher", "follower") {
            panic!("the follower's console differs from the publisher's at t={t}: {differ}");
        }
        compared += 1;
    }
    assert!(compared >= samples.min(times.len()), "compared {compared}");
}

fn is_keyframe(line: &str) -> bool {
    record::classify(line.as_bytes()).map(|(_, k)| k) == Some(Kind::Keyframe)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_see_the_publishers_console_and_a_late_one_starts_from_the_last_keyframe() {
    // A broker taking 12 kB at most: the demo's keyframes (about 30 kB)
    // come in parts, as a 5,000-pod cutover's do with NATS's default 1 MiB.
    let nats = Nats::start_with_config("max_payload: 12288\n");
    // Every route judged by the plan's analysis, which only alarms: the
    // verdicts are part of the console the followers must see as it was.
    let mut s = Session::start_armed("same", &nats.url(), Limits::default(), |config| {
        for route in &mut config.routes {
            route.analysis =
                Some(AnalysisSpec::defaults(OnFailure::Alarm, Advance::Manual, "cutover.toml:20", "cutover.toml:21"));
        }
    })
    .await;
    s.advance(60);
    s.caught_up().await;
    let early = Follower::join(&nats.url(), "early", Some("same")).await;
    for _ in 0..40 {
        s.advance(60);
    }
    s.caught_up().await;
    let late = Follower::join(&nats.url(), "late", Some("same")).await;
    // The late one starts at the keyframe `.k` names, not at the start.
    let k = late.joined.keyframe.clone().expect("a keyframe to join at after 40 minutes");
    let (_, stream) = open_stream(&nats.url()).await;
    let stored = read_subject(&stream, &session_subjects(&s.path).log, k.seq).await;
    assert!(is_keyframe(&stored[0].1), "`.k` points at a keyframe line");
    assert_eq!(late.joined.start, k.seq);
    for _ in 0..10 {
        s.advance(60);
    }
    s.caught_up().await;
    let local = s.local();
    let early_from = early.until_whole(&local).await;
    let late_from = late.until_whole(&local).await;
    assert!(is_keyframe(&local[late_from]), "the late copy's first line is the keyframe");
    assert!(local[late_from].len() > 2 * 12288, "a keyframe in parts, put back together");
    let keyframes_before = local[..late_from].iter().filter(|l| is_keyframe(l)).count();
    assert!(keyframes_before >= 2, "the late one skipped the older keyframes ({keyframes_before})");
    assert!(late_from > early_from + 1000, "joined {late_from} lines after the early one ({early_from})");
    // The publisher judged its routes: api healthy at its weight, ready.
    let api = s.app.routes[0].analysis.as_ref().expect("api judged");
    assert_eq!(api.verdict, cutover::app::Verdict::Ready, "{:?}", api.verdict);
    assert!(s.app.routes[0].judged.len() >= 40, "{}", s.app.routes[0].judged.len());
    same_console(&mut s, &early.path, 40);
    same_console(&mut s, &late.path, 40);
    let (_, finished, _) = s.finish(Duration::from_secs(10)).await;
    assert_eq!(finished.behind, 0);
    late.until("told the session ended", |l| matches!(l.state(Instant::now()), LinkState::Ended { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_killed_mid_session_turns_the_follower_stale_then_it_goes_on_with_nothing_lost() {
    let mut nats = Nats::start();
    let mut s = Session::start("killed", &nats.url(), Limits::default()).await;
    s.advance(120);
    s.caught_up().await;
    let f = Follower::join(&nats.url(), "killed", Some("killed")).await;
    f.until("live", |l| l.lines > 0 && matches!(l.state(Instant::now()), LinkState::Live { .. })).await;
    nats.kill();
    for _ in 0..5 {
        s.advance(60);
    }
    f.until("stale", |l| matches!(l.state(Instant::now()), LinkState::Stale { .. })).await;
    nats.resume();
    s.caught_up().await;
    s.advance(60);
    s.caught_up().await;
    let local = s.local();
    f.until_whole(&local).await;
    f.until("live again", |l| matches!(l.state(Instant::now()), LinkState::Live { .. })).await;
    assert!(gap_lines(&lines(&f.path)).is_empty(), "the buffer held it all: no gap");
    same_console(&mut s, &f.path, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_lost_past_the_publishers_buffer_are_said_and_mended_at_the_next_keyframe() {
    let mut nats = Nats::start();
    let mut s = Session::start("gap", &nats.url(), Limits { lines: 100, bytes: 64 << 20 }).await;
    s.advance(120);
    s.caught_up().await;
    let f = Follower::join(&nats.url(), "gap", Some("gap")).await;
    f.until("live", |l| l.lines > 0).await;
    nats.kill();
    for _ in 0..10 {
        s.advance(60);
    }
    nats.resume();
    s.caught_up().await;
    // The next message after the gap brings a keyframe with it.
    s.advance(5);
    s.caught_up().await;
    let log = {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let copy = lines(&f.path);
            let gap = copy.iter().position(|l| record::classify(l.as_bytes()).map(|(_, k)| k) == Some(Kind::Gap));
            if let Some(g) = gap
                && copy[g..].iter().any(|l| is_keyframe(l))
            {
                break copy;
            }
            assert!(Instant::now() < deadline, "no gap and keyframe after it in the copy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let g = log.iter().position(|l| record::classify(l.as_bytes()).map(|(_, k)| k) == Some(Kind::Gap)).unwrap();
    let k = g + log[g..].iter().position(|l| is_keyframe(l)).unwrap();
    assert!(k - g <= 3, "the keyframe comes right after the gap (lines {g} and {k})");
    let gap_t = record::classify(log[g].as_bytes()).unwrap().0;
    let k_t = record::classify(log[k].as_bytes()).unwrap().0;

    s.local();
    let mut theirs = Player::open(&f.path).unwrap();
    let mut ours = Player::open(&s.path).unwrap();
    // Between the gap and the keyframe the follower says so, and does
    // not pretend: nothing is applied until the keyframe.
    let lost: serde_json::Value = serde_json::from_str(&log[g]).unwrap();
    let lost = lost["gap"]["lines"].as_u64().unwrap();
    assert!(lost > 0);
    let stuck = state_at(&mut theirs, gap_t);
    assert_eq!(theirs.gap(), Some((gap_t, lost)), "the gap is said, with its count");
    if k_t > gap_t + 1 {
        assert_eq!(state_at(&mut theirs, k_t - 1), stuck, "nothing applied between the gap and the keyframe");
        assert_eq!(theirs.gap(), Some((gap_t, lost)));
    }
    // From the keyframe on, the follower's console is the publisher's.
    let differ =
        common::differing_parts(&state_at(&mut ours, k_t), &state_at(&mut theirs, k_t), "publisher", "follower");
    assert_eq!(differ, None, "at the keyframe after the gap");
    assert_eq!(theirs.gap(), None);
    let end = theirs.index.lines.last().unwrap().t;
    let differ =
        common::differing_parts(&state_at(&mut ours, end), &state_at(&mut theirs, end), "publisher", "follower");
    assert_eq!(differ, None, "at the end");
    // The publisher's own recording has every line.
    assert!(gap_lines(&s.local()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_the_newest_session_finds_the_next_one_of_the_plan_once_it_ends() {
    let nats = Nats::start();
    let mut first = Session::start("first", &nats.url(), Limits::default()).await;
    first.advance(60);
    first.caught_up().await;
    tokio::time::sleep(share::HEARTBEAT_EVERY).await;
    let f = Follower::join(&nats.url(), "succession", None).await;
    assert_eq!(f.info.session, "first", "the newest live session");
    let watching = tokio::spawn(share::read::watch_for_successor(
        share::Options::new(&nats.url()),
        f.info.clone(),
        f.link.clone(),
        f.cancel.clone(),
    ));
    first.finish(Duration::from_secs(10)).await;
    f.until("told the session ended", |l| matches!(l.state(Instant::now()), LinkState::Ended { .. })).await;
    let mut second = Session::start("second", &nats.url(), Limits::default()).await;
    second.advance(60);
    second.caught_up().await;
    f.until("the next session found", |l| l.next.is_some()).await;
    assert_eq!(f.link().next.unwrap().session, "second");
    watching.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_credentials_are_enough_to_list_follow_and_copy_a_session() {
    let nats = Nats::start_with_config(PERMISSIONS);
    let url = |user: &str| format!("nats://{user}:{user}@127.0.0.1:{}", nats.port);
    let mut s = Session::start("readonly", &url("publisher"), Limits::default()).await;
    s.advance(300);
    s.caught_up().await;
    // Heartbeats say it is live.
    let reader = Broker::connect(&share::Options::new(&url("follower"))).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let info = loop {
        let sessions = reader.sessions().await.unwrap();
        if let Some(info) = sessions.iter().find(|i| i.liveness(jiff::Timestamp::now()) == Liveness::Live) {
            break info.clone();
        }
        assert!(Instant::now() < deadline, "no live session listed: {sessions:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(info.session, "readonly");
    assert_eq!(info.plan(), PLAN);
    let f = Follower::join(&url("follower"), "readonly", None).await;
    s.advance(120);
    s.caught_up().await;
    let local = s.local();
    f.until_whole(&local).await;
    let mut copy = Vec::new();
    let found = reader.find(Some("readonly")).await.unwrap();
    reader.download(&found, &mut copy).await.unwrap();
    assert_eq!(String::from_utf8(copy).unwrap().lines().collect::<Vec<_>>(), local, "the whole session, header first");
    // And nothing more: the follower cannot publish on a session's subjects.
    let client = share::Options::new(&url("follower")).connect_options().await.unwrap();
    let client = client.connect(url("follower")).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let refused = js.publish("cutover.x.y.log", "{}".into()).await.unwrap().await;
    assert!(refused.is_err(), "a follower's credentials cannot publish");
}

fn cutover(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).env_remove("NATS_URL").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_export_and_report_read_the_broker() {
    let nats = Nats::start();
    let url = nats.url();
    let mut s = Session::start("listed", &url, Limits::default()).await;
    s.advance(600);
    s.caught_up().await;
    tokio::time::sleep(share::HEARTBEAT_EVERY).await;
    let (code, table, err) = cutover(&["sessions", &url]);
    assert_eq!(code, 0, "{err}");
    let row = table.lines().find(|l| l.contains("listed")).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains(PLAN) && row.contains("demo") && row.trim_end().ends_with("live"), "{table}");
    let (_, local_finished, local_path) = s.finish(Duration::from_secs(10)).await;
    assert_eq!(local_finished.behind, 0);
    let (code, json, _) = cutover(&["sessions", &url, "--format", "json"]);
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(listed[0]["session"], "listed");
    assert_eq!(listed[0]["state"], "ended");
    assert_eq!(listed[0]["mode"], "demo");

    let out = common::fresh_path("follow", "exported.jsonl");
    let (code, _, err) = cutover(&["export", &url, "--session", "listed", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&local_path).unwrap(), "byte for byte");
    // Not over a file that exists.
    let (code, _, err) = cutover(&["export", &url, "--session", "listed", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exported.jsonl"), "{err}");

    for format in ["md", "json"] {
        let (code, from_broker, err) = cutover(&["report", &url, "--session", "listed", "--format", format]);
        assert_eq!(code, 0, "{err}");
        let (_, from_file, _) = cutover(&["report", local_path.to_str().unwrap(), "--format", format]);
        assert_eq!(from_broker, from_file, "the same report from the broker and from the file");
    }
}

#[test]
fn bad_brokers_and_sessions_are_said_with_exit_2() {
    let nats = Nats::start();
    let (code, _, err) = cutover(&["sessions", "http://127.0.0.1:4222"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a NATS URL"), "{err}");
    let (code, _, err) = cutover(&["sessions"]);
    assert_eq!(code, 2);
    assert!(err.contains("$NATS_URL"), "{err}");
    // Nothing listening.
    let dead = format!("nats://127.0.0.1:{}", Nats::reserve(None).port);
    let (code, _, err) = cutover(&["follow", &dead]);
    assert_eq!(code, 2);
    assert!(err.contains("does not answer"), "{err}");
    // A broker where nothing was shared yet.
    let (code, _, err) = cutover(&["follow", &nats.url()]);
    assert_eq!(code, 2);
    assert!(err.contains("no stream CUTOVER"), "{err}");
    let (code, _, err) = cutover(&["replay", &nats.url(), "--session", "nope"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("cutover: error: replay:"), "{err}");
}

/// The shell's answer to `echo EXIT=$?` (the typed line has no digits).
fn exit_code(screen: &str) -> Option<i32> {
    screen.split("EXIT=").skip(1).find_map(|rest| rest.split_whitespace().next()?.parse::<i32>().ok())
}

fn last_line(screen: &str) -> &str {
    screen.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("")
}

fn timeline(screen: &str) -> &str {
    let lines: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.get(lines.len().saturating_sub(2)).copied().unwrap_or("")
}

#[test]
fn a_follower_in_a_terminal_is_live_rewinds_and_says_stale_when_the_publisher_is_killed() {
    let nats = Nats::start();
    let publisher = common::tmux::Tmux::start("follow-pub");
    let rec = common::fresh_path("follow", "killed-publisher.jsonl");
    publisher.type_line(&format!(
        "{BIN} demo --speed 10 --record {} --share {} 2>/dev/null; echo EXIT=$?",
        rec.display(),
        nats.url()
    ));
    publisher.wait_for("share: live", Duration::from_secs(20), |s| s.contains("share: live"));
    let t = common::tmux::Tmux::start("follow");
    let said = common::fresh_path("follow", "follower.stderr");
    t.type_line(&format!("{BIN} follow {} 2>{}; echo EXIT=$?", nats.url(), said.display()));
    let joined = t.wait_for("the followed console", Duration::from_secs(20), |s| {
        s.contains("FOLLOWING DEMO") && s.contains("app/api") && timeline(s).contains("● LIVE")
    });
    assert!(
        last_line(&joined).contains("following photo-api-2026 (demo) / killed-publisher")
            && last_line(&joined).contains("the newest live session"),
        "which session is said: {joined}"
    );
    assert!(joined.contains("followed from the broker: read-only"), "{joined}");
    // Paused, the session goes on without the screen: behind live, then
    // back to live with L.
    t.send(&["Space"]);
    let behind = t.wait_for("behind live", Duration::from_secs(5), |s| timeline(s).contains(" behind"));
    assert!(!timeline(&behind).contains("● LIVE"), "{behind}");
    t.send(&["L"]);
    t.wait_for("live again", Duration::from_secs(5), |s| timeline(s).contains("● LIVE"));
    // The publisher killed outright: no end is ever said, heartbeats stop.
    let killed = Command::new("pkill").args(["-9", "-f", &rec.display().to_string()]).status().unwrap();
    assert!(killed.success());
    let stale = t.wait_for("STALE", Duration::from_secs(20), |s| timeline(s).contains("STALE"));
    assert!(last_line(&stale).contains("STALE: nothing from the publisher for"), "{stale}");
    assert!(stale.contains("FOLLOWING DEMO"), "the last screen stays: {stale}");
    let (code, table, _) = cutover(&["sessions", &nats.url()]);
    assert_eq!(code, 0);
    assert!(table.lines().any(|l| l.contains("killed-publisher") && l.contains("silent")), "{table}");
    // A new session of the plan (the publisher started again): the
    // follower of the newest live session moves to it by itself.
    let again = common::fresh_path("follow", "started-again.jsonl");
    publisher.type_line(&format!(
        "clear; {BIN} demo --speed 10 --record {} --share {} 2>/dev/null; echo EXIT=$?",
        again.display(),
        nats.url()
    ));
    let moved = t.wait_for("the next session", Duration::from_secs(30), |s| timeline(s).contains("● LIVE"));
    assert!(
        last_line(&moved).contains("killed-publisher ended; now following photo-api-2026 (demo) / started-again"),
        "{moved}"
    );
    t.send(&["q"]);
    let exited = t.wait_for("the exit", Duration::from_secs(10), |s| exit_code(s).is_some());
    assert_eq!(exit_code(&exited), Some(0), "{exited}");
    let after = std::fs::read_to_string(&said).unwrap();
    assert!(after.contains("cutover: followed photo-api-2026 (demo) / killed-publisher"), "{after}");
    assert!(after.contains("cutover: followed photo-api-2026 (demo) / started-again"), "{after}");
}

/// Every key a follower can press, on a session `watch` publishes from
/// the peers: the peers' logs show no request that changes anything, and
/// the follower has no AWS credentials or kubeconfig to make one with.
#[test]
fn a_follower_changes_nothing_whatever_is_pressed_and_sees_the_session_end() {
    common::peers::fake_aws_credentials();
    let peers = common::peers::Peers::start("realistic");
    let nats = Nats::start();
    let publisher = common::tmux::Tmux::start("follow-watch");
    let rec = common::fresh_path("follow", "watched.jsonl");
    publisher.type_line(&format!(
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing {BIN} watch --plan {} --record {} --share {} 2>/dev/null; echo EXIT=$?",
        peers.plan_path().display(),
        rec.display(),
        nats.url()
    ));
    publisher
        .wait_for("watch shared", Duration::from_secs(40), |s| s.contains("read 75/25") && s.contains("share: live"));
    let t = common::tmux::Tmux::start("follow-keys");
    t.type_line(&format!(
        "env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE KUBECONFIG=/nonexistent {BIN} follow {} --session watched; echo EXIT=$?",
        nats.url()
    ));
    t.wait_for("the followed watch", Duration::from_secs(20), |s| {
        s.contains("FOLLOWING WATCH") && s.contains("read 75/25") && timeline(s).contains("● LIVE")
    });
    t.press_every_key_and_confirm();
    t.send(&["Escape", "Escape", "L"]);
    let screen = t.wait_for("still following", Duration::from_secs(10), |s| s.contains("FOLLOWING WATCH"));
    assert!(!screen.contains("EXIT="), "{screen}");
    // The publisher ends: the follower says so.
    publisher.send(&["q"]);
    publisher.wait_for("watch ended", Duration::from_secs(20), |s| exit_code(s).is_some());
    t.wait_for("ENDED", Duration::from_secs(20), |s| timeline(s).contains("ENDED"));
    t.send(&["Escape", "Escape", "q"]);
    let exited = t.wait_for("the exit", Duration::from_secs(10), |s| exit_code(s).is_some());
    assert_eq!(exit_code(&exited), Some(0), "{exited}");
    let mutating = peers.mutating_requests();
    assert!(mutating.is_empty(), "a follower changes nothing: {mutating:#?}");
    // And the session, ended, replays from the broker.
    t.type_line(&format!("clear; {BIN} replay {} --session watched; echo EXIT=$?", nats.url()));
    t.wait_for("the replay", Duration::from_secs(20), |s| s.contains("REPLAY of WATCH") && s.contains("read 75/25"));
    t.send(&["q"]);
    let exited = t.wait_for("the replay's exit", Duration::from_secs(10), |s| exit_code(s).is_some());
    assert_eq!(exit_code(&exited), Some(0), "{exited}");
}
