//! Replays and reports of recorded sessions: the replayed console equals
//! the live one at the same instant, from any direction and through
//! keyframes; a cut recording replays up to the cut; the report tells what
//! happened; the replay in a real terminal can change nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::tmux::Tmux;
use common::{draw, record_script, record_session, start};
use cutover::domain::Weights;
use cutover::record::{self, Keyframe};
use cutover::replay::Player;
use cutover::sim::Rng;

const BIN: &str = env!("CARGO_BIN_EXE_cutover");

fn temp(name: &str) -> PathBuf {
    common::fresh_path("replay", name)
}

#[test]
fn the_replayed_console_equals_the_live_one_at_every_instant() {
    let path = temp("equal.jsonl");
    // 40 minutes: keyframes every few minutes, and every action of the script.
    let checks: Vec<i64> = (0..40).map(|i| i * 59 + 7).collect();
    let live = record_session(&path, 40 * 60, &checks);
    let mut player = Player::open(&path).unwrap();
    assert!(player.index.stopped.is_none(), "{:?}", player.index.stopped);
    assert!(player.index.keyframes.len() >= 3, "keyframes: {}", player.index.keyframes.len());

    // Forward in order, then in a shuffled order that seeks back and far
    // ahead (through keyframes).
    let mut order: Vec<usize> = (0..live.states.len()).collect();
    let mut rng = Rng::new(7);
    let mut shuffled = order.clone();
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.between(0, i as i64) as usize);
    }
    order.extend(shuffled);
    for i in order {
        let (t, state) = &live.states[i];
        player.seek(*t).unwrap();
        let replayed = serde_json::to_value(Keyframe::of(&player.app)).unwrap();
        if let Some(differ) = common::differing_parts(state, &replayed, "live", "replay") {
            panic!("the replay differs from the live console at +{}s: {differ}", (t - start().as_millisecond()) / 1000);
        }
    }
    assert!(player.keyframe_loads > 0, "seeking back went through a keyframe");

    // To the end: the final live state.
    player.seek(i64::MAX).unwrap();
    assert_eq!(
        serde_json::to_value(Keyframe::of(&player.app)).unwrap(),
        serde_json::to_value(Keyframe::of(&live.app)).unwrap()
    );
}

#[test]
fn a_cut_recording_replays_up_to_the_cut_and_says_where_it_stopped() {
    let path = temp("cut-source.jsonl");
    record_session(&path, 12 * 60, &[]);
    let bytes = std::fs::read(&path).unwrap();
    let header_len = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    let whole = record::read(&path).unwrap();
    let mut rng = Rng::new(11);
    for _ in 0..30 {
        let cut = rng.between(header_len as i64, bytes.len() as i64 - 1) as usize;
        let part = temp("cut.jsonl");
        std::fs::write(&part, &bytes[..cut]).unwrap();
        let mut player = Player::open(&part).unwrap();
        let complete = bytes[header_len..cut].iter().filter(|b| **b == b'\n').count();
        assert_eq!(player.index.lines.len() + player.index.marks.len(), complete, "cut at {cut}");
        let line_start = header_len + bytes[header_len..cut].iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        if cut > line_start {
            let why = player.index.stopped.clone().unwrap_or_default();
            assert!(why.contains(&format!("byte {line_start}")) && why.contains("cut short"), "cut at {cut}: {why}");
        }
        // Everything before the cut replays: the console reaches the last
        // message the cut kept.
        player.seek(i64::MAX).unwrap();
        assert!(player.damaged.is_none(), "cut at {cut}: {:?}", player.damaged);
        let rec = record::read(&part).unwrap();
        if let Some(last) = rec.entries.last() {
            assert!(player.app.now.as_millisecond() <= last.t.max(start().as_millisecond()) + 1000);
            assert_eq!(rec.entries[..], whole.entries[..rec.entries.len()], "cut at {cut}: a prefix");
        }
    }
}

#[test]
fn the_report_tells_what_happened() {
    let path = temp("report.jsonl");
    record_session(&path, 15 * 60, &[]);
    let rec = record::read(&path).unwrap();
    let report = cutover::report::build(&rec);

    assert_eq!(report.session.operators, vec!["alice@example (demo)".to_string()]);
    assert_eq!(report.session.duration_secs, 15 * 60);
    let api = &report.routes[0];
    let steps: Vec<(Weights, Weights, bool)> =
        api.steps.iter().map(|a| (a.before.unwrap(), a.after, a.verified)).collect();
    assert_eq!(
        steps,
        vec![
            (Weights::from_percent_new(25), Weights::from_percent_new(50), true),
            (Weights::from_percent_new(50), Weights::from_percent_new(75), true)
        ],
        "both nudges, each with what it changed and its verified answer"
    );
    assert!(api.steps.iter().all(|a| a.who == "alice@example (demo)" && a.route == "api"));
    assert_eq!(report.refusals.len(), 1, "{:?}", report.refusals);
    let refused = &report.refusals[0];
    assert_eq!((refused.by, refused.who.as_str()), ("console", "alice@example (demo)"));
    assert!(refused.reason.contains("no handoff in progress"), "{}", refused.reason);
    assert_eq!(report.handoffs.len(), 1);
    let h = &report.handoffs[0];
    assert_eq!((h.singleton.as_str(), h.result.as_str()), ("scheduler", "done"));
    assert!(h.gap_secs.is_some_and(|g| g >= 0), "{:?}", h.gap_secs);
    let history: Vec<Weights> = api.history.iter().map(|w| w.weights).collect();
    assert_eq!(
        history,
        [25, 50, 75].map(Weights::from_percent_new).to_vec(),
        "the route's weights as the console saw them, in order"
    );
    let mut sorted = report.timeline.clone_times();
    sorted.sort();
    assert_eq!(report.timeline.clone_times(), sorted, "the timeline is in time order");
    // The demo's spot interruptions push the new side's 5xx over the guard.
    assert!(!report.peaks.is_empty(), "the demo world's 5xx peaks are reported");
    assert!(report.peaks.iter().any(|p| !p.signals_before.is_empty()), "a peak names the node signals before it");
    // The demo's Karpenter consolidation, named by its source, and the
    // api's pods lost to it.
    let karpenter = |l: &&cutover::report::LostRow| l.cause == cutover::domain::NodeSignalKind::KarpenterConsolidation;
    assert!(report.pods_lost.iter().filter(karpenter).any(|l| l.workload == "app/api" && l.pods > 0));
    assert!(report.peaks.iter().any(|p| p.pods_lost.iter().any(|l| l.text.contains("of app/api lost to"))));
    assert!(
        report.signals.iter().any(|s| s.source == "karpenter" && s.label == "Karpenter consolidation"),
        "signals are objects naming their source: {:?}",
        report.signals
    );

    let md = report.markdown();
    for needle in [
        "# Cutover report",
        "| 1 | 14:01:00 | 25% (75/25) → 50% (50/50) | alice@example (demo) |",
        "alice@example (demo): route api: 25% → 50% to new (75/25 → 50/50): verified |",
        "no handoff in progress",
        "| scheduler | old → new |",
        "## 5xx peaks",
        ": Karpenter disruption",
        "## Pods lost to node disruptions",
        "pod of app/api lost to Karpenter consolidation |",
        "### api (ALB rule)",
    ] {
        assert!(md.contains(needle), "the Markdown report has `{needle}`:\n{md}");
    }
    assert_eq!(
        cutover::report::from_file(&path).unwrap().json(),
        report.json(),
        "streamed from the file, the same report"
    );
    let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(json["routes"][0]["steps"][1]["after"]["new"], 75);
}

/// The operator selects `www`, the demo's Route 53 route, and steps it
/// 10% -> 25% a minute in.
fn www_script() -> Vec<(i64, Vec<cutover::keymap::Key>)> {
    use cutover::keymap::{Key, KeyCode};
    vec![(
        60,
        vec![
            Key::plain(KeyCode::BackTab),
            Key::plain(KeyCode::Down),
            Key::plain(KeyCode::Down),
            Key::char(']'),
            Key::char('y'),
        ],
    )]
}

const WWW: usize = 2;

#[test]
fn the_report_tells_how_long_a_dns_route_s_clients_took_to_follow() {
    let path = temp("dns-report.jsonl");
    let live = record_script(&path, 15 * 60, &[], &www_script());
    assert_eq!(live.app.routes[WWW].spec.name, "www");
    assert_eq!(live.app.routes[WWW].verified, Some(Weights::from_percent_new(25)), "the step was applied");
    let report = cutover::report::from_file(&path).unwrap();
    let www = report.routes.iter().find(|r| r.route == "www").unwrap();
    assert!(www.steps.iter().any(|a| a.verified), "{:?}", www.steps);
    assert_eq!(www.kind, cutover::domain::RouteKind::Route53);
    assert_eq!(www.ttl_secs, Some(60), "the demo's alias records: the load balancer's 60 s");
    let history: Vec<Weights> = www.history.iter().map(|w| w.weights).collect();
    assert_eq!(history, [10, 25].map(Weights::from_percent_new).to_vec());
    // The demo's clients re-resolve over minutes: the share set at once,
    // the share observed some minutes later, well within the quarter hour.
    assert_eq!(www.followed.len(), 1, "one change after the first read: {:?}", www.followed);
    let f = &www.followed[0];
    assert_eq!((f.at, f.set_percent), (www.history[1].at, 25.0));
    let minutes = f.after_minutes.unwrap_or_else(|| panic!("not followed: {}", f.text));
    assert!(minutes > 0 && minutes < 15, "{minutes} min");
    assert_eq!(f.text, format!("clients followed in {minutes} min"));
    assert_eq!(www.steps[0].followed.as_deref(), Some(f.text.as_str()), "the step says it too");

    // An ALB route's observed share follows its weights at once: no line.
    let api = report.routes.iter().find(|r| r.route == "api").unwrap();
    assert_eq!((api.kind, api.ttl_secs), (cutover::domain::RouteKind::Alb, None));
    assert_eq!(api.history.len(), 1);
    assert!(api.followed.is_empty());

    let md = report.markdown();
    for needle in [
        "api (ALB rule)",
        "www (Route 53 records, TTL 60s)",
        "| Clients |",
        "| 10 | first read |",
        &format!("| 25 | clients followed in {minutes} min |"),
    ] {
        assert!(md.contains(needle), "the Markdown report has `{needle}`:\n{md}");
    }
    let api_section = md.split("### api").nth(1).unwrap().split("###").next().unwrap();
    assert!(!api_section.contains("Clients") && !api_section.contains("followed"), "{api_section}");

    let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    let www = json["routes"].as_array().unwrap().iter().find(|r| r["route"] == "www").unwrap();
    assert_eq!((&www["kind"], &www["ttl_secs"]), (&serde_json::json!("route53"), &serde_json::json!(60)));
    assert_eq!(www["followed"][0]["after_minutes"], minutes);
    let api = json["routes"].as_array().unwrap().iter().find(|r| r["route"] == "api").unwrap();
    assert_eq!(api["kind"], "alb");
    assert!(api.get("followed").is_none() && api.get("ttl_secs").is_none(), "{api}");
}

/// What the screen and the report know of the DNS route, side by side.
fn www_view(app: &cutover::app::App) -> String {
    let r = &app.routes[WWW];
    let ttls: Vec<Option<i64>> =
        cutover::domain::Side::BOTH.iter().map(|s| r.record(*s).and_then(|rec| rec.ttl)).collect();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{}",
        r.weights(),
        r.weight_changes,
        r.first_read,
        ttls,
        r.read.as_ref().map(|read| read.at),
        draw(120, 32, |f| cutover::ui::route_view::render(app, WWW, f, f.area()))
    )
}

#[test]
fn a_dns_route_stepped_live_replays_the_same_through_keyframes() {
    let path = temp("dns-equal.jsonl");
    // 20 minutes of a quiet demo after the step: keyframes, and Route 53
    // polls that change nothing, written as `"dns"` repeat lines.
    let checks: Vec<i64> = (0..20).map(|i| i * 61 + 5).collect();
    let live = record_script(&path, 20 * 60, &checks, &www_script());
    assert_eq!(live.app.routes[WWW].verified, Some(Weights::from_percent_new(25)));
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let dns: Vec<usize> = (0..lines.len()).filter(|i| lines[*i].contains(",\"dns\":")).collect();
    let keyframes: Vec<usize> = (0..lines.len()).filter(|i| lines[*i].contains(",\"k\":")).collect();
    assert!(dns.len() > 10, "the unchanged Route 53 reads are repeat lines: {}", dns.len());

    let mut player = Player::open(&path).unwrap();
    for (t, state) in &live.states {
        player.seek(*t).unwrap();
        assert_eq!(
            &serde_json::to_value(Keyframe::of(&player.app)).unwrap(),
            state,
            "the replay equals the live console at +{}s",
            (t - start().as_millisecond()) / 1000
        );
    }
    player.seek(i64::MAX).unwrap();
    assert_eq!(www_view(&player.app), www_view(&live.app), "www: weights, changes, TTLs and its drill-down");
    assert!(player.app.routes[WWW].weight_changes.iter().any(|(_, w)| *w == Weights::from_percent_new(25)));

    // A replay that enters at a keyframe with repeat lines before it: the
    // first Route 53 read after the keyframe is written whole, and the
    // repeats after that still stand for it.
    let k = *keyframes
        .iter()
        .rev()
        .find(|k| dns.iter().any(|d| d < k) && dns.iter().filter(|d| *d > k).count() >= 2)
        .unwrap();
    let after = *dns.iter().find(|d| **d > k).unwrap();
    let t: i64 = lines[after][5..].split(',').next().unwrap().parse().unwrap();
    let mut entering = Player::open(&path).unwrap();
    entering.seek(t).unwrap();
    assert!(entering.keyframe_loads == 1 && entering.damaged.is_none(), "{:?}", entering.damaged);
    let repeated: jiff::Timestamp =
        serde_json::from_str(lines[after].split(",\"dns\":").nth(1).unwrap().trim_end_matches('}')).unwrap();
    assert_eq!(entering.app.routes[WWW].read.as_ref().unwrap().at, repeated, "the repeat line's read was applied");
    let mut through = Player::open(&path).unwrap();
    through.seek(t).unwrap();
    assert_eq!(www_view(&entering.app), www_view(&through.app), "entered at the keyframe or read from the start");
}

trait Times {
    fn clone_times(&self) -> Vec<jiff::Timestamp>;
}

impl Times for Vec<cutover::report::Moment> {
    fn clone_times(&self) -> Vec<jiff::Timestamp> {
        self.iter().map(|m| m.at).collect()
    }
}

#[test]
fn report_and_replay_refuse_bad_files_with_exit_2() {
    let path = temp("future.jsonl");
    std::fs::write(&path, "{\"format\":\"cutover-recording\",\"version\":9}\n").unwrap();
    for args in [
        vec!["report", path.to_str().unwrap()],
        vec!["report", "/nonexistent/x.jsonl"],
        vec!["replay", path.to_str().unwrap()],
        vec!["replay", "/nonexistent/x.jsonl"],
    ] {
        let out = std::process::Command::new(BIN).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("newer than this cutover reads") || err.contains("cannot open"), "{err}");
    }
}

/// Whether the screen has a line starting with `text`.
fn has_line(screen: &str, text: &str) -> bool {
    screen.lines().any(|l| l.trim_start().starts_with(text))
}

#[test]
fn a_replay_in_a_terminal_seeks_marks_opens_drill_downs_and_changes_nothing() {
    let path = temp("tmux.jsonl");
    record_session(&path, 10 * 60, &[]);
    let before = std::fs::read(&path).unwrap();
    let t = Tmux::start("replay");
    t.type_line(&format!("{BIN} replay {}; echo EXIT=$?", path.display()));
    t.wait_for("the replay", Duration::from_secs(10), |s| s.contains("REPLAY of DEMO") && s.contains("▶ 1x"));

    // To the first weight change: `]` until the status names it.
    let mut screen = String::new();
    for _ in 0..40 {
        t.send(&["]"]);
        screen = t.screen();
        if screen.contains("alice@example (demo) set route api") {
            break;
        }
    }
    assert!(screen.contains("alice@example (demo) set route api: old 75/new 25 -> old 50/new 50"), "{screen}");
    assert!(screen.contains("paused 14:01:00 UTC"), "a jump pauses at the mark's time: {screen}");
    assert!(screen.contains("read 75/25") || screen.contains("read 50/50"), "{screen}");

    // Confirming anything is not possible: the viewer's `y` is refused.
    t.send(&["y"]);
    t.wait_for("the read-only notice", Duration::from_secs(3), |s| {
        s.contains("this is a replay; nothing can be changed")
    });

    // A drill-down at that moment.
    t.send(&["Tab", "Tab", "Enter"]);
    t.wait_for("the route drill-down", Duration::from_secs(3), |s| s.contains("requests / min"));
    t.send(&["Escape"]);

    // Go to a typed time.
    t.send(&["g"]);
    t.run(&["send-keys", "-t", "t", "-l", "14:05"]);
    t.send(&["Enter"]);
    t.wait_for("the typed time", Duration::from_secs(3), |s| s.contains("paused 14:05:00 UTC"));
    t.send(&["Right"]);
    t.wait_for("10 s on", Duration::from_secs(3), |s| s.contains("paused 14:05:10 UTC"));
    t.send(&["S-Left"]);
    t.wait_for("a minute back", Duration::from_secs(3), |s| s.contains("paused 14:04:10 UTC"));

    t.send(&["q"]);
    let screen = t.wait_for("the shell", Duration::from_secs(5), |s| has_line(s, "EXIT="));
    assert!(has_line(&screen, "EXIT=0"), "{screen}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "a replay never writes to its recording");
}

/// `--follow`: a recording still being written is read as it grows; a line
/// half written waits until it is whole, and the viewer stays at the end.
#[test]
fn follow_reads_a_recording_as_it_grows() {
    use cutover::app::{App, Msg};
    use cutover::domain::plus_secs;
    use cutover::keymap::Keymap;
    use cutover::record::{Header, Writer};
    use cutover::sim::{SimConfig, World};
    use std::io::Write;

    let path = temp("follow.jsonl");
    let mut world = World::new(&SimConfig { seed: 2026, start: start(), scale: 1 });
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    let mut writer = Writer::create(&path, &Header::new(&app, start(), (120, 32))).unwrap();
    let feed = |app: &mut App, writer: &mut Writer, msgs: Vec<Msg>| {
        for msg in msgs {
            let _ = cutover::runtime::apply(app, msg, Some(writer));
        }
        writer.flush().unwrap();
    };
    feed(&mut app, &mut writer, world.initial());
    feed(&mut app, &mut writer, world.advance(plus_secs(start(), 30)));

    let player = Player::open(&path).unwrap();
    let mut viewer = cutover::replay::Viewer::new(player, Keymap::default(), true);
    let first = viewer.player.index.lines.len();
    assert_eq!(viewer.clock, viewer.player.span().1, "following starts at the end");
    assert_eq!(viewer.player.app.now, app.now, "and shows the console as it is now");

    feed(&mut app, &mut writer, world.advance(plus_secs(start(), 90)));
    // Half a line, as a crash or a slow disk may leave it for a moment.
    let line = "{\"t\":1,\"m\":\"Resize\"}\n";
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&line.as_bytes()[..8]).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert!(viewer.advance(Duration::from_millis(600)), "new lines redraw the screen");
    assert!(viewer.player.index.lines.len() > first, "appended lines are read");
    assert_eq!(viewer.player.app.now, app.now, "the viewer followed to the new end");
    assert!(viewer.player.index.stopped.as_deref().unwrap_or_default().contains("cut short"));
    let before = viewer.player.index.lines.len();

    file.write_all(&line.as_bytes()[8..]).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    viewer.advance(Duration::from_millis(600));
    assert_eq!(viewer.player.index.lines.len(), before + 1, "the finished line is read once whole");
    assert!(viewer.player.index.stopped.is_none(), "{:?}", viewer.player.index.stopped);
}

/// `kill -9` in the middle of a demo: the recording keeps all but at most
/// the last second or so, replays, and reports.
#[test]
fn a_killed_session_keeps_its_recording_up_to_the_last_second() {
    let path = temp("killed.jsonl");
    let t = Tmux::start("killed");
    t.type_line(&format!("{BIN} demo --record {}; echo EXIT=$?", path.display()));
    t.wait_for("the demo", Duration::from_secs(10), |s| s.contains("req/m"));
    // Nudge, so the recording holds an action.
    t.send(&["BTab", "]", "y"]);
    t.wait_for("the nudge verified", Duration::from_secs(5), |s| s.contains("verified:"));
    std::thread::sleep(Duration::from_secs(3));
    // What the console showed last: its clock (the demo's world time, which
    // runs whole seconds behind the wall clock) is what the recording stamps.
    let screen = t.screen();
    let shown = screen.lines().next().and_then(|l| l.split_whitespace().rev().nth(1)).unwrap_or_default().to_string();
    let killed_at = jiff::Timestamp::now().as_millisecond();
    // The demo's process, found through /proc (no procps needed).
    let wanted = format!("--record\0{}", path.display());
    let pid = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&wanted) && c.starts_with(BIN.as_bytes()))
        })
        .expect("the demo is running");
    let killed = std::process::Command::new("sh").args(["-c", &format!("kill -9 {pid}")]).status().unwrap();
    assert!(killed.success());
    t.wait_for("the shell", Duration::from_secs(5), |s| has_line(s, "EXIT=137"));

    let rec = record::read(&path).unwrap();
    let last = rec.entries.last().unwrap().t;
    let last_clock = jiff::Timestamp::from_millisecond(last).unwrap().strftime("%H:%M:%S").to_string();
    eprintln!("killed at {killed_at} ms; screen clock {shown}; last entry {last} ms ({last_clock})");
    let secs = |hms: &str| hms.split(':').filter_map(|p| p.parse::<i64>().ok()).fold(0, |a, p| a * 60 + p);
    let behind = secs(&shown) - secs(&last_clock);
    assert!(
        (0..=1).contains(&behind),
        "the recording ends at {last_clock}, the screen showed {shown} when the console was killed"
    );
    // And the console's clock is the wall clock's, whole seconds behind.
    assert!(killed_at - last <= 4_000, "the recording ends {} ms before the kill", killed_at - last);
    let report = cutover::report::build(&rec);
    assert_eq!(report.routes[0].steps.len(), 1, "the nudge is in the report");
    let mut player = Player::open(&path).unwrap();
    player.seek(i64::MAX).unwrap();
    assert!(player.damaged.is_none());
    assert_eq!(player.app.routes[0].verified, Some(Weights::from_percent_new(50)));
}

/// The timeline at the first weight change: the clock, the marks along
/// the recording, the mark's text, and the hints from the keymap.
#[test]
fn the_timeline_shows_the_clock_marks_and_the_mark_reached() {
    use cutover::keymap::{Key, Keymap};
    let path = temp("timeline.jsonl");
    record_session(&path, 10 * 60, &[]);
    let mut viewer = cutover::replay::Viewer::new(Player::open(&path).unwrap(), Keymap::default(), false);
    while !viewer.status.as_deref().unwrap_or_default().contains("set route api") {
        assert!(viewer.clock < viewer.player.span().1, "a weight change is marked");
        viewer.on_key(Key::char(']'));
    }
    let screen = common::draw(120, 34, |f| viewer.render(f));
    let bottom: Vec<&str> = screen.lines().skip(31).collect();
    insta::assert_snapshot!(bottom.join("\n"));
    assert!(screen.contains("REPLAY of DEMO"), "{screen}");

    // The help in a replay lists the replay's keys from the keymap.
    viewer.on_key(Key::char('?'));
    let help = common::draw(120, 34, |f| viewer.render(f));
    assert!(help.contains("next mark") && help.contains("shift-left"), "{help}");
    viewer.on_key(Key::char('?'));
    assert!(!common::draw(120, 34, |f| viewer.render(f)).contains("next mark"), "? closes the help");
}

#[test]
fn a_followed_session_says_how_its_link_is_in_the_header_and_timeline() {
    use cutover::keymap::{Key, Keymap};
    use cutover::share::Heartbeat;
    use cutover::share::read::Link;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;
    let path = temp("followed.jsonl");
    record_session(&path, 5 * 60, &[]);
    let heartbeat = Heartbeat {
        at: 0,
        last: 900,
        behind: 1200,
        lost: 0,
        status: "catching up".into(),
        plan: "shop".into(),
        session: "run-1".into(),
    };
    let link = Arc::new(Mutex::new(Link {
        lines: 900,
        heard: Instant::now(),
        pending: 0,
        delay: Some(Duration::from_millis(230)),
        heartbeat: Some(heartbeat),
        ended: None,
        error: None,
        next: None,
    }));
    let player = Player::open(&path).unwrap();
    let mut viewer = cutover::replay::Viewer::new(player, Keymap::default(), true).following(link.clone());
    viewer.on_key(Key::char('L'));
    let timeline = |v: &mut cutover::replay::Viewer| {
        let screen = common::draw(120, 34, |f| v.render(f));
        let lines: Vec<String> = screen.lines().skip(32).map(str::to_string).collect();
        (screen, lines.join("\n"))
    };
    let (screen, bottom) = timeline(&mut viewer);
    assert!(screen.contains("FOLLOWING DEMO") && screen.contains("followed from the broker"), "{screen}");
    assert!(bottom.contains("● LIVE 0.2s (publisher 1200 behind)"), "{bottom}");
    assert!(bottom.contains("L  live"), "the key back to live is offered: {bottom}");
    // Paused: behind live, by how much.
    viewer.on_key(Key::char(' '));
    viewer.on_key(Key::plain(cutover::keymap::KeyCode::Left));
    let (_, bottom) = timeline(&mut viewer);
    assert!(bottom.contains("0:10 behind"), "{bottom}");
    viewer.on_key(Key::char('L'));
    assert!(timeline(&mut viewer).1.contains("● LIVE"));
    // Nothing heard for 8 s: STALE, with the reason and the moment the screen is of.
    link.lock().unwrap().heard = Instant::now() - Duration::from_secs(8);
    let (_, bottom) = timeline(&mut viewer);
    assert!(bottom.contains("STALE 8s"), "{bottom}");
    assert!(bottom.contains("nothing from the publisher for 8 s (it or the broker is gone)"), "{bottom}");
    // Lines lost past the publisher's buffer are never in a local recording,
    // and the replay of a plain recording offers no `L`.
    let mut plain = cutover::replay::Viewer::new(Player::open(&path).unwrap(), Keymap::default(), false);
    let screen = common::draw(120, 34, |f| plain.render(f));
    assert!(!screen.contains("L  live") && screen.contains("REPLAY of DEMO"), "{screen}");
}

/// What a follower or a replay shows of the driver's proposals: the modal
/// is the session's, not the viewer's, so it is on screen while it was
/// open, and gone once confirmed.
#[test]
fn the_drivers_open_proposal_is_on_a_replayed_screen_until_confirmed() {
    use cutover::keymap::{Key, KeyCode, Keymap};
    let path = temp("proposal.jsonl");
    let script = vec![(60, vec![Key::plain(KeyCode::BackTab), Key::char(']')]), (90, vec![Key::char('y')])];
    record_script(&path, 120, &[], &script);
    let mut viewer = cutover::replay::Viewer::new(Player::open(&path).unwrap(), Keymap::default(), false);
    let at = |s: i64| start().as_millisecond() + s * 1000;
    viewer.player.seek(at(75)).unwrap();
    let open = common::draw(120, 34, |f| viewer.render(f));
    assert!(open.contains("PROPOSAL: route api"), "{open}");
    viewer.player.seek(at(100)).unwrap();
    let done = common::draw(120, 34, |f| viewer.render(f));
    assert!(!done.contains("PROPOSAL"), "{done}");
    assert!(done.contains("read 50/50") || done.contains("50%"), "{done}");
}

/// `cutover report FILE | head`: a reader that stops early is no crash.
#[test]
fn a_report_piped_to_a_reader_that_stops_early_exits_quietly() {
    let path = temp("piped.jsonl");
    record_session(&path, 10 * 60, &[]);
    for format in ["md", "json", "html"] {
        let mut child = std::process::Command::new(BIN)
            .args(["report", path.to_str().unwrap(), "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first byte.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{format}: {:?} {err}", out.status);
        assert!(!err.contains("panicked"), "{format}: {err}");
    }
}
