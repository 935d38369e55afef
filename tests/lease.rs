//! One hand on the wheel, against the peers: the plan's Lease in the new
//! cluster (kmock, behind the harness), two `cutover run` consoles in two
//! real terminals (tmux), the executor's check before a write, and who
//! held the wheel in the report and a replay.
//!
//! What the harness does for the Lease, and why: kmock serves
//! `coordination.k8s.io/v1/leases` from its bundled resources, and the
//! harness gives every write a fresh resourceVersion, answers a PUT that
//! carries an older one with 409 Conflict and a create of an existing name
//! with 409 AlreadyExists, as the API server does (`Cluster._check_rv`,
//! `_render_error`); the first test checks exactly that over HTTP, since the
//! console's optimistic concurrency rests on it.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::peers::{Peers, fake_aws_credentials};
use common::tmux::Tmux;
use cutover::app::{EffectResult, Msg, Queued};
use cutover::domain::Wheel;
use cutover::effects::lease::WheelHandle;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const LEASE: &str = "coordination.k8s.io/v1/leases";
const LEASE_NAME: &str = "cutover-photo-api-2026";

fn lease(peers: &Peers) -> Value {
    peers.get(&format!("/kube/new/object?resource={LEASE}&namespace=app&name={LEASE_NAME}"))
}

fn holder(peers: &Peers) -> String {
    lease(peers)["spec"]["holderIdentity"].as_str().unwrap_or_default().to_string()
}

fn weights(peers: &Peers, route: &str) -> (i64, i64) {
    let w = peers.get(&format!("/elb/weights?route={route}"));
    (w["old"].as_i64().unwrap(), w["new"].as_i64().unwrap())
}

/// A `cutover run` in a terminal of its own, as `user`.
struct Console {
    t: Tmux,
}

impl Console {
    fn run(name: &str, peers: &Peers, user: &str, args: &str) -> Console {
        let t = Tmux::start(name);
        t.type_line(&format!(
            "USER={user} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing {} run --plan {} --log {} {args}; echo EXIT=$?",
            env!("CARGO_BIN_EXE_cutover"),
            peers.plan_path().display(),
            peers.dir.join(format!("{name}.log")).display()
        ));
        Console { t }
    }

    fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.t.wait_for(what, WAIT, pred)
    }

    /// The header's two lines and the notice line (above the footer).
    fn said(&self) -> String {
        let screen = self.t.screen();
        let lines: Vec<&str> = screen.lines().collect();
        let notice = lines.iter().rev().find(|l| l.starts_with(" ✖")).copied().unwrap_or_default();
        format!(
            "{}\n{}\n{notice}",
            lines.first().copied().unwrap_or_default(),
            lines.get(1).copied().unwrap_or_default()
        )
    }

    /// Clears the notice line (Esc), so the next one is the next key's.
    fn clear_notice(&self) {
        self.t.send(&["Escape"]);
        self.wait("the notice cleared", |s| !s.lines().any(|l| l.starts_with(" ✖")));
    }

    fn quit(&self) -> String {
        self.t.send(&["Escape", "q"]);
        self.wait("the exit", |s| s.lines().any(|l| l.starts_with("EXIT=")))
    }
}

fn recording(peers: &Peers, name: &str) -> PathBuf {
    peers.dir.join(format!("{name}.jsonl"))
}

/// The report of a recording, as the command writes it.
fn report(path: &Path, format: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["report", path.to_str().unwrap(), "--format", format])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Python's `jsonschema` (in the tests' venv) on a report's JSON.
fn validates(json: &str, dir: &Path) {
    let file = dir.join("report.json");
    std::fs::write(&file, json).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let check = "import json, sys, jsonschema\n\
                 schema = json.load(open(sys.argv[1]))\n\
                 v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())\n\
                 errors = [f'{list(e.absolute_path)}: {e.message}' for e in v.iter_errors(json.load(open(sys.argv[2])))]\n\
                 print('\\n'.join(errors)); sys.exit(1 if errors else 0)";
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .args(["-c", check])
        .arg(root.join("schemas/report.schema.json"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// The harness answers the Lease's writes as an API server does: a PUT
/// with an older resourceVersion is 409 Conflict, a create of a name that
/// exists is 409 AlreadyExists, a read of none is 404 NotFound.
#[test]
fn the_peer_serves_leases_with_the_api_server_s_conflicts() {
    let peers = Peers::start("realistic");
    let url = format!("{}/apis/coordination.k8s.io/v1/namespaces/app/leases", peers.new);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let send = |method: &str, url: &str, body: Option<Value>| -> (u16, Value) {
        let mut resp = match (method, body) {
            ("GET", _) => agent.get(url).call(),
            ("POST", Some(b)) => agent.post(url).send_json(&b),
            ("PUT", Some(b)) => agent.put(url).send_json(&b),
            _ => unreachable!(),
        }
        .unwrap();
        let status = resp.status().as_u16();
        (status, serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null))
    };
    let (status, missing) = send("GET", &format!("{url}/probe"), None);
    assert_eq!((status, missing["reason"].as_str()), (404, Some("NotFound")), "{missing}");
    let body = |holder: &str, rv: Option<&str>| {
        let mut meta = json!({"name": "probe", "namespace": "app"});
        if let Some(rv) = rv {
            meta["resourceVersion"] = json!(rv);
        }
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
               "spec": {"holderIdentity": holder, "leaseDurationSeconds": 30}})
    };
    let (status, created) = send("POST", &url, Some(body("a", None)));
    assert!(status == 200 || status == 201, "{status} {created}");
    let rv = created["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let (status, again) = send("POST", &url, Some(body("b", None)));
    assert_eq!((status, again["reason"].as_str()), (409, Some("AlreadyExists")), "{again}");
    let (status, updated) = send("PUT", &format!("{url}/probe"), Some(body("c", Some(&rv))));
    assert_eq!(status, 200, "{updated}");
    assert_ne!(updated["metadata"]["resourceVersion"].as_str(), Some(rv.as_str()), "every write is a new version");
    let (status, stale) = send("PUT", &format!("{url}/probe"), Some(body("d", Some(&rv))));
    assert_eq!((status, stale["reason"].as_str()), (409, Some("Conflict")), "{stale}");
    let (_, now) = send("GET", &format!("{url}/probe"), None);
    assert_eq!(now["spec"]["holderIdentity"], "c", "the stale write changed nothing");
}

/// The console's own lease code against the peer, in this process: two
/// consoles starting at the same moment get one wheel between them (create
/// and update are optimistic), a take is seen by the other's check before
/// its next renewal, and the executor then refuses its writes but the way
/// back.
#[test]
fn one_wheel_for_two_consoles_and_the_executor_checks_it_before_every_write_but_the_way_back() {
    let d = common::live::Driver::start(false);
    let client = d.clients.kube.new.clone().unwrap();
    let at = d.plan.lease();
    let rt = &d.console.rt;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(256);
    let handle =
        |who: &str| WheelHandle::new(client.clone(), at.clone(), who.to_string(), "photo-api-2026".into(), tx.clone());
    for round in 0..5 {
        let (a, b) = (handle(&format!("alice-{round}")), handle(&format!("bob-{round}")));
        rt.block_on(async { tokio::join!(a.tick(), b.tick()) });
        let held = rt.block_on(async { (a.holding().await, b.holding().await) });
        assert!(held.0 ^ held.1, "round {round}: exactly one holds the wheel: {held:?}");
        let (winner, loser) = if held.0 { (&a, &b) } else { (&b, &a) };
        assert_eq!(holder(&d.peers), winner.identity());
        rt.block_on(async { tokio::join!(a.tick(), b.tick()) });
        assert_eq!(rt.block_on(async { (winner.holding().await, loser.holding().await) }), (true, false));
        // The loser was told who holds it; the winner, that it does.
        let mut told = Vec::new();
        while let Ok(msg) = rx.try_recv() {
            if let Msg::Wheel { wheel, .. } = msg {
                told.push(wheel);
            }
        }
        assert!(
            told.iter().any(|w| matches!(w, Wheel::Held { holder, .. } if holder == winner.identity())),
            "{told:?}"
        );
        assert!(told.iter().any(|w| w.is_yours()), "{told:?}");
        let released = rt.block_on(winner.release()).unwrap();
        assert!(matches!(released, Some(Msg::Wheel { wheel: Wheel::Free { .. }, .. })), "{released:?}");
        assert_eq!(holder(&d.peers), "", "released: nobody holds it");
    }

    // alice drives; bob takes the wheel; alice's executor learns it at
    // once, before any renewal of hers.
    let alice = handle("alice");
    rt.block_on(alice.tick());
    assert!(rt.block_on(alice.holding()));
    let bob = handle("bob");
    rt.block_on(bob.tick());
    assert!(!rt.block_on(bob.holding()), "a live lease is watched, not taken");
    let taken = rt.block_on(bob.take(Some("someone else".into())));
    assert!(matches!(&taken, EffectResult::Refused { reason } if reason.contains("passed to alice")), "{taken:?}");
    let taken = rt.block_on(bob.take(Some("alice".into())));
    assert!(matches!(&taken, EffectResult::Verified { detail } if detail.contains("taken from alice")), "{taken:?}");
    assert_eq!(holder(&d.peers), "bob");
    let checked = rt.block_on(alice.check_held());
    assert_eq!(checked, Err("bob holds the wheel now: nothing was written".into()));

    // Her executor: a step is refused, not sent; the panic button is written.
    let before = weights(&d.peers, "api");
    let exec = cutover::effects::LiveExecutor {
        elb: d.exec.elb.clone(),
        kube: d.exec.kube.clone(),
        route53: d.exec.route53.clone(),
        plan: d.exec.plan.clone(),
        dry_run: false,
        route53_options: Default::default(),
    };
    d.peers.post("/requests/clear", Value::Null);
    let answers = rt.block_on(async {
        let (tx, mut answers_rx) = tokio::sync::mpsc::channel(64);
        let (etx, erx) = tokio::sync::mpsc::channel(8);
        let cancel = tokio_util::sync::CancellationToken::new();
        tokio::spawn(cutover::effects::run_with(exec, Some(alice.clone()), erx, tx, cancel.clone()));
        let seen = vec![
            ("api-old".to_string(), cutover::domain::Weight(75)),
            ("api-new".to_string(), cutover::domain::Weight(25)),
        ];
        let route = cutover::domain::RouteId(0);
        let step = cutover::app::Effect::SetWeights {
            route,
            seen: Some(seen),
            to: cutover::domain::Weights::from_percent_new(50),
            all_old: false,
        };
        let revert = cutover::app::Effect::SetWeights {
            route,
            seen: None,
            to: cutover::domain::Weights::from_percent_new(0),
            all_old: true,
        };
        let mut answers = Vec::new();
        // One after the other: a revert sent while a step is in flight
        // drops the step where it stands (see `effects::run`).
        for (id, effect) in [(1, step), (2, revert)] {
            etx.send(Queued { id, effect }).await.unwrap();
            loop {
                if let Some(Msg::EffectDone { id, result, .. }) = answers_rx.recv().await {
                    answers.push((id, result));
                    break;
                }
            }
        }
        cancel.cancel();
        answers
    });
    assert!(
        matches!(&answers[0], (1, EffectResult::Refused { reason }) if reason == "bob holds the wheel now: nothing was written"),
        "{answers:#?}"
    );
    assert!(matches!(&answers[1], (2, EffectResult::Verified { .. })), "the way back is never held: {answers:#?}");
    assert_eq!(before, (75, 25));
    assert_eq!(weights(&d.peers, "api"), (100, 0));
    let modified: Vec<Value> = d
        .peers
        .requests("aws")
        .into_iter()
        .filter(|r| r["op"] == "ModifyRule" || r["op"] == "ModifyListener")
        .collect();
    assert_eq!(modified.len(), 1, "only the revert was written: {modified:#?}");
    // The check read the Lease; only reads went to it.
    let lease_requests: Vec<Value> =
        d.peers.requests("new").into_iter().filter(|r| r["path"].as_str().unwrap_or("").contains("/leases")).collect();
    assert!(!lease_requests.is_empty() && lease_requests.iter().all(|r| r["method"] == "GET"), "{lease_requests:#?}");
}

/// Two consoles on one plan in two terminals: the second watches and says
/// who drives, its step is refused, it takes the wheel by typing the word,
/// the first is told within one renewal and its next step is refused; the
/// Lease names the second. The second's quit releases it, and a new run
/// takes it at once. The reports and a replay say who held the wheel when.
#[test]
fn the_second_run_watches_takes_the_wheel_by_the_word_and_the_first_is_told() {
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    let (a_rec, b_rec) = (recording(&peers, "alice"), recording(&peers, "bob"));
    let a = Console::run("wheel-a", &peers, "alice", &format!("--record {}", a_rec.display()));
    a.wait("alice drives", |s| s.contains("wheel: yours since") && s.contains("read 75/25"));
    let alice = holder(&peers);
    assert!(alice.starts_with("alice@") && alice.contains(" pid ") && alice.ends_with(" alice"), "{alice}");
    assert_eq!(lease(&peers)["spec"]["leaseDurationSeconds"], 30);
    // `check` says who drives, before a second console is even started.
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([
            "check",
            "--plan",
            peers.plan_path().to_str().unwrap(),
            "--log",
            peers.dir.join("check.log").to_str().unwrap(),
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    let line = format!("the wheel (Lease app/{LEASE_NAME}): {alice} drives this plan since");
    assert!(said.contains(&line) && said.contains("`cutover run` watches until it takes the wheel"), "{said}");

    let b = Console::run("wheel-b", &peers, "bob", &format!("--record {}", b_rec.display()));
    let watching = b.wait("bob watches", |s| s.contains("WATCHING: alice@") && s.contains("read 75/25"));
    assert!(watching.contains("drives since") && watching.contains("W takes the wheel"), "{watching}");
    assert!(watching.contains(" R  ALL old ") && watching.contains(" W  take the wheel "), "the footer: {watching}");
    assert_eq!(holder(&peers), alice, "a second run takes nothing");

    // bob's step is refused, with who drives and what is left.
    b.clear_notice();
    b.t.send(&["]"]);
    let refused = b.wait("the refusal", |s| s.contains("drives this plan since"));
    assert!(refused.contains("you are watching (W takes the wheel; R still sends every route to old)"), "{refused}");
    assert!(!refused.contains("PROPOSAL"), "{refused}");

    // W, then `y` is not taken; `take` + Enter is.
    b.t.send(&["W"]);
    b.wait("the take proposal", |s| s.contains("TAKE THE WHEEL from alice@"));
    b.t.send(&["y"]);
    b.wait("y is not taken", |s| s.contains("y does not take the wheel: type `take`, then Enter"));
    assert_eq!(holder(&peers), alice);
    b.t.type_line("take");
    b.wait("bob drives", |s| s.contains("wheel: yours since"));
    let bob = holder(&peers);
    assert!(bob.starts_with("bob@") && bob.ends_with(" bob"), "the Lease names bob: {bob}");
    assert_eq!(lease(&peers)["spec"]["leaseTransitions"].as_i64(), Some(1), "{}", lease(&peers));
    let taken_at = Instant::now();

    // alice is told within one renewal (5 s; with the terminal's margin).
    let told = a.t.wait_for("alice is told", Duration::from_secs(10), |s| s.contains("took the wheel at"));
    assert!(taken_at.elapsed() < Duration::from_secs(10));
    assert!(told.contains("bob@") && told.contains("you are watching now"), "{}", a.said());
    assert!(told.contains("WATCHING: bob@"), "{}", a.said());
    a.clear_notice();
    a.t.send(&["]"]);
    let refused = a.wait("alice's step refused", |s| s.contains("bob@") && s.contains("drives this plan since"));
    assert!(!refused.contains("PROPOSAL"), "{refused}");
    assert_eq!(weights(&peers, "api"), (75, 25), "neither step was written");

    // bob steps, and only his step reaches the ALB.
    b.t.send(&["]"]);
    b.wait("bob's proposal", |s| s.contains("PROPOSAL: route api: 25% → 50% to new"));
    // A fresh console of the plan has no record of how long api has been
    // at its weight: the step takes the second confirmation too.
    b.t.send(&["y"]);
    b.t.send(&["Y"]);
    let start = Instant::now();
    while weights(&peers, "api") != (50, 50) {
        assert!(start.elapsed() < WAIT, "bob's step written: {:?}", weights(&peers, "api"));
        std::thread::sleep(Duration::from_millis(200));
    }

    // bob quits: the lease names nobody at once, and says who held it.
    let out = b.quit();
    assert!(out.contains("EXIT=0") && out.contains("released the wheel (Lease app/cutover-photo-api-2026)"), "{out}");
    let released = lease(&peers);
    assert_eq!(released["spec"]["holderIdentity"].as_str().unwrap_or(""), "", "{released}");
    assert_eq!(released["metadata"]["annotations"]["cutover/last-holder"], bob.as_str());
    a.t.wait_for("alice sees it released", Duration::from_secs(10), |s| s.contains("WATCHING: nobody drives"));

    // A new run takes it at once: no waiting for the lease to expire.
    let started = Instant::now();
    let c = Console::run("wheel-c", &peers, "carol", "--no-record");
    c.wait("carol drives", |s| s.contains("wheel: yours since"));
    assert!(started.elapsed() < Duration::from_secs(20), "taken at once, not after 30 s: {:?}", started.elapsed());
    assert!(holder(&peers).starts_with("carol@"));
    a.t.wait_for("alice sees carol", Duration::from_secs(10), |s| s.contains("WATCHING: carol@"));
    let out = a.quit();
    assert!(out.contains("EXIT=0") && !out.contains("released the wheel"), "alice held nothing to release: {out}");
    c.quit();

    // What the consoles asked of the Lease: get, create, update; never a
    // delete (the release is an update), which the Role of
    // deploy/driver-lease-rbac.yaml grants and nothing more.
    let verbs: std::collections::BTreeSet<&str> = peers
        .requests("new")
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").contains("/leases"))
        .map(|r| match r["method"].as_str().unwrap() {
            "GET" => "get",
            "POST" => "create",
            "PUT" => "update",
            other => panic!("a {other} of the Lease"),
        })
        .collect();
    assert_eq!(verbs, ["create", "get", "update"].into_iter().collect());

    // bob's report: alice held it when he started, he took it, released it.
    let md = report(&b_rec, "md");
    let section = md.split("## Who held the wheel").nth(1).unwrap().split("\n## ").next().unwrap();
    let rows: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Holder") && !l.starts_with("| ---"))
        .collect();
    assert_eq!(rows.len(), 3, "{section}");
    assert!(
        rows[0].starts_with(&format!("| {alice} |"))
            && rows[0].contains("held when this console first read the lease")
            && rows[0].contains(&format!("taken by {bob}")),
        "{section}"
    );
    assert!(
        rows[1].starts_with(&format!("| **{bob}** (this console) |"))
            && rows[1].contains("taken by the typed confirmation")
            && rows[1].contains("released on quit"),
        "{section}"
    );
    assert!(rows[2].starts_with("| nobody |"), "{section}");
    assert!(md.contains("app/cutover-photo-api-2026"), "the section names the Lease");
    let html = report(&b_rec, "html");
    assert!(
        html.contains("<h2>Who held the wheel</h2>") && html.contains("taken by the typed confirmation"),
        "the HTML too"
    );
    let json = report(&b_rec, "json");
    validates(&json, &peers.dir);
    let value: Value = serde_json::from_str(&json).unwrap();
    let wheel = value["wheel"].as_array().unwrap();
    assert_eq!(wheel[1]["holder"], bob.as_str());
    assert_eq!(
        (wheel[1]["mine"].as_bool(), wheel[1]["began"].as_str(), wheel[1]["ended"].as_str()),
        (Some(true), Some("taken"), Some("released"))
    );
    assert_eq!(wheel[0]["taken_by"], bob.as_str());
    assert_eq!(value["session"]["lease"], "app/cutover-photo-api-2026");

    // alice's: she held it from the start until bob took it, then carol.
    let md = report(&a_rec, "md");
    let section = md.split("## Who held the wheel").nth(1).unwrap().split("\n## ").next().unwrap();
    assert!(section.contains(&format!("| **{alice}** (this console) |")), "{section}");
    assert!(
        section.contains("taken while nobody held it") && section.contains(&format!("taken by {bob}")),
        "{section}"
    );
    assert!(section.contains("released on quit") && section.contains("carol@"), "{section}");
    validates(&report(&a_rec, "json"), &peers.dir);

    // A replay of alice's session says who drove, when.
    let mut player = cutover::replay::Player::open(&a_rec).unwrap();
    let (from, to) = player.span();
    let mut seen = Vec::new();
    let times = (from..to).step_by(500).chain([to]);
    for t in times {
        player.seek(t).unwrap();
        let screen = common::draw(120, 32, |f| cutover::ui::render(&player.app, f));
        let second = screen.lines().nth(1).unwrap_or_default().to_string();
        let shown = ["wheel: this session's since", "WATCHING: bob@", "WATCHING: nobody drives", "WATCHING: carol@"]
            .into_iter()
            .find(|s| second.contains(s));
        if let Some(shown) = shown
            && seen.last() != Some(&shown)
        {
            seen.push(shown);
        }
    }
    assert_eq!(
        seen,
        ["wheel: this session's since", "WATCHING: bob@", "WATCHING: nobody drives", "WATCHING: carol@"],
        "the replay's header, in order"
    );
}

/// A driver whose new-side API goes away cannot renew: it stops driving
/// before the lease may be taken, says why, and `R` `y` still sends every
/// route to old. When the API is back and nobody took the lease, it drives
/// again.
#[test]
fn a_driver_that_cannot_renew_loses_the_wheel_and_keeps_its_panic_button() {
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    let a = Console::run("lapse", &peers, "alice", "--no-record");
    a.wait("alice drives", |s| s.contains("wheel: yours since") && s.contains("read 75/25"));
    peers.stop("new");
    let stopped = Instant::now();
    a.wait("renewals failing", |s| s.contains("wheel: yours, NOT RENEWED"));
    let lapsed =
        a.t.wait_for("the wheel lapses", Duration::from_secs(40), |s| s.contains("NOT DRIVING: lease not renewed"));
    assert!(
        stopped.elapsed() >= Duration::from_secs(15),
        "not before its renewals failed for 20 s: {:?}",
        stopped.elapsed()
    );
    assert!(lapsed.contains("YOU NO LONGER DRIVE: the wheel's lease was not renewed since"), "{}", a.said());
    // Why, as kube-rs met it: refused, or no answer in time.
    assert!(
        lapsed.contains("(cannot reach the API server") || lapsed.contains("(no answer within"),
        "it says why: {}",
        a.said()
    );
    a.clear_notice();
    a.t.send(&["]"]);
    a.wait("a step refused", |s| s.contains("✖ you no longer drive"));

    a.t.send(&["R"]);
    a.wait("the panic button", |s| s.contains("PROPOSAL: ALL routes: 100% to old"));
    a.t.send(&["y"]);
    let start = Instant::now();
    while weights(&peers, "api") != (100, 0) || weights(&peers, "admin") != (100, 0) {
        assert!(
            start.elapsed() < WAIT,
            "every route to old: {:?} {:?}",
            weights(&peers, "api"),
            weights(&peers, "admin")
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    peers.resume("new");
    a.t.wait_for("driving again", Duration::from_secs(20), |s| s.contains("you drive again"));
    assert!(holder(&peers).starts_with("alice@"));
    let out = a.quit();
    assert!(out.contains("released the wheel"), "{out}");
}

/// Plays the Deployment controller on `side` for the scheduler: its pods
/// go (after a scale to 0), and its status says `ready`.
fn scheduler_settles(peers: &Peers, side: &str, ready: i64) {
    if ready == 0 {
        let url = format!("{}/api/v1/namespaces/app/pods", if side == "old" { &peers.old } else { &peers.new });
        let pods: Value = ureq::get(&url).call().unwrap().body_mut().read_json().unwrap();
        for pod in pods["items"].as_array().unwrap() {
            let name = pod["metadata"]["name"].as_str().unwrap();
            if name.starts_with("scheduler-") {
                peers.post(
                    &format!("/kube/{side}/delete"),
                    json!({"resource": "v1/pods", "namespace": "app", "name": name}),
                );
            }
        }
    }
    let mut deployment =
        peers.get(&format!("/kube/{side}/object?resource=apps/v1/deployments&namespace=app&name=scheduler"));
    deployment["status"] = json!({"replicas": ready, "readyReplicas": ready, "availableReplicas": ready});
    peers.post(&format!("/kube/{side}/apply"), deployment);
}

/// A second run started while the first hands a singleton over leaves the
/// handoff alone: it does not pick up the first's state file, and its `h`
/// is refused, so nothing starts the singleton a second time. The first's
/// Lease says its handoff is under way, so the second raises no alarm in
/// the gap between old gone and new started (the start held 7 s at the
/// new API), and shows whose handoff it is.
#[test]
fn a_second_run_leaves_the_driver_s_handoff_alone() {
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    peers.kube_fault(
        "new",
        json!({"verb": "patch", "resource": "apps/v1/deployments", "name": "scheduler", "mode": "delay", "delay_ms": 7000, "count": 1}),
    );
    let a = Console::run("handoff-a", &peers, "alice", "--no-record");
    a.wait("alice drives", |s| s.contains("wheel: yours since") && s.contains("app/scheduler"));
    for _ in 0..30 {
        a.t.send(&["Enter"]);
        if a.t.screen().lines().take(6).any(|l| l.contains("app/scheduler")) {
            break;
        }
        a.t.send(&["Escape", "Down"]);
    }
    a.t.send(&["h"]);
    a.wait("the handoff proposal", |s| s.contains("PROPOSAL: hand scheduler over: old → new"));
    a.t.send(&["y"]);
    a.wait("old stopped", |s| s.contains("waiting for old to run nothing"));

    let b = Console::run("handoff-b", &peers, "bob", "--no-record");
    b.wait("bob watches", |s| s.contains("WATCHING: alice@") && s.contains("app/scheduler"));
    let screen = b.t.screen();
    assert!(!screen.contains("picked up the handoff"), "the driver's handoff is its own: {screen}");
    for _ in 0..30 {
        b.t.send(&["Enter"]);
        if b.t.screen().lines().take(6).any(|l| l.contains("app/scheduler")) {
            break;
        }
        b.t.send(&["Escape", "Down"]);
    }
    assert!(!b.t.screen().lines().any(|l| l.starts_with(" ✖")), "no notice before `h`");
    b.t.send(&["h"]);
    b.wait("bob's handoff refused", |s| s.contains("alice@") && s.contains("drives this plan since"));
    let new = peers.get("/kube/new/object?resource=apps/v1/deployments&namespace=app&name=scheduler");
    assert_eq!(new["spec"]["replicas"], 0, "nobody started new");
    let patches: Vec<Value> = peers
        .mutating_requests()
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap_or("").contains("scheduler"))
        .collect();
    assert_eq!(patches.len(), 1, "only alice's stop: {patches:#?}");
    b.wait("alice's handoff, on bob's screen", |s| {
        s.contains("handoff by alice@") && s.contains("old is stopped and not yet gone")
    });

    // Old runs nothing; alice's start of new is held at the API: nothing
    // runs anywhere, and that is alice's planned gap.
    scheduler_settles(&peers, "old", 0);
    a.wait("alice starts new", |s| s.contains("starting new"));
    let gap = Instant::now();
    while gap.elapsed() < Duration::from_secs(5) {
        let screen = b.t.screen();
        assert!(
            !screen.contains("SINGLETON ALARM") && !screen.contains("NEITHER"),
            "no alarm in alice's gap: {screen}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    a.wait("new started", |s| s.contains("waiting for new to be ready"));
    scheduler_settles(&peers, "new", 1);
    a.wait("the handoff done", |s| s.contains(": done") && s.contains("gap"));
    b.t.wait_for("bob sees it done", Duration::from_secs(10), |s| !s.contains("handoff by alice@"));
    assert!(!b.t.screen().contains("SINGLETON ALARM"), "{}", b.t.screen());
    b.quit();
    let out = a.quit();
    assert!(out.contains("EXIT=0"), "{out}");
}

/// The wheel taken mid-handoff, on the same machine: the console that took
/// it carries the handoff on from the state file, as a start would; the one
/// it was taken from leaves it where it stood and starts nothing. One start
/// of new is written, by the console that drives.
#[test]
fn taking_the_wheel_mid_handoff_carries_the_handoff_on_there_and_stops_it_here() {
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    let a = Console::run("carry-a", &peers, "alice", "--no-record");
    a.wait("alice drives", |s| s.contains("wheel: yours since") && s.contains("app/scheduler"));
    for _ in 0..30 {
        a.t.send(&["Enter"]);
        if a.t.screen().lines().take(6).any(|l| l.contains("app/scheduler")) {
            break;
        }
        a.t.send(&["Escape", "Down"]);
    }
    a.t.send(&["h"]);
    a.wait("the handoff proposal", |s| s.contains("PROPOSAL: hand scheduler over: old → new"));
    a.t.send(&["y"]);
    a.wait("old stopped", |s| s.contains("waiting for old to run nothing"));

    let b = Console::run("carry-b", &peers, "bob", "--no-record");
    b.wait("bob watches", |s| s.contains("WATCHING: alice@") && s.contains("handoff by alice@"));
    b.t.send(&["W"]);
    let proposal = b.wait("the take proposal", |s| s.contains("TAKE THE WHEEL from alice@"));
    assert!(proposal.contains("their handoff is in flight"), "{proposal}");
    b.t.type_line("take");
    let picked = b.wait("bob carries the handoff on", |s| s.contains("picked up the handoff left at"));
    assert!(
        picked.contains("handoff scheduler old → new") && picked.contains("waiting for old to run nothing"),
        "{picked}"
    );
    // alice's handoff is bob's now: her strip shows his, from his Lease.
    a.t.wait_for("alice is told", Duration::from_secs(10), |s| {
        s.contains("took the wheel at")
            && s.contains("handoff by bob@")
            && s.contains("old is stopped and not yet gone")
    });

    scheduler_settles(&peers, "old", 0);
    b.wait("bob starts new", |s| s.contains("waiting for new to be ready"));
    scheduler_settles(&peers, "new", 1);
    b.wait("bob's handoff done", |s| s.contains(": done") && s.contains("gap"));
    let starts: Vec<Value> = peers
        .requests("new")
        .into_iter()
        .filter(|r| r["method"] == "PATCH" && r["path"].as_str().unwrap_or("").ends_with("/deployments/scheduler"))
        .collect();
    assert_eq!(starts.len(), 1, "one start of new, bob's: {starts:#?}");
    assert_eq!(
        peers.get("/kube/new/object?resource=apps/v1/deployments&namespace=app&name=scheduler")["spec"]["replicas"],
        1
    );
    std::thread::sleep(Duration::from_secs(6));
    for (who, c) in [("alice", &a), ("bob", &b)] {
        let screen = c.t.screen();
        assert!(!screen.contains("SINGLETON ALARM"), "{who}: {screen}");
    }
    let out = b.quit();
    assert!(out.contains("EXIT=0") && !out.contains("kept in"), "{out}");
    let out = a.quit();
    assert!(out.contains("EXIT=0") && !out.contains("kept in"), "nothing left on disk for alice: {out}");
}

/// A console on another machine that crashed leaves its lease to expire:
/// while it is fresh a new run watches; once 30 s past its last renewal, a
/// new run takes it at its start. (The harness writes the lease as that
/// console last renewed it.)
#[test]
fn a_lease_left_by_a_console_that_crashed_elsewhere_is_taken_once_it_expired() {
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    let renewed = |ago: i64| {
        let at = cutover::domain::plus_secs(jiff::Timestamp::now(), -ago);
        json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": LEASE_NAME, "namespace": "app"},
            "spec": {"holderIdentity": "dana@far-away pid 77 live-20261206T000000Z", "leaseDurationSeconds": 30,
                     "acquireTime": at.strftime("%Y-%m-%dT%H:%M:%S.000000Z").to_string(),
                     "renewTime": at.strftime("%Y-%m-%dT%H:%M:%S.000000Z").to_string(), "leaseTransitions": 4}
        })
    };
    peers.post("/kube/new/apply", renewed(2));
    let a = Console::run("expired-a", &peers, "alice", "--no-record");
    a.wait("alice watches dana", |s| s.contains("WATCHING: dana@far-away drives"));
    assert!(holder(&peers).starts_with("dana@"));
    a.quit();
    peers.post("/kube/new/apply", renewed(40));
    let b = Console::run("expired-b", &peers, "alice", "--no-record");
    b.wait("alice drives", |s| s.contains("wheel: yours since"));
    assert!(holder(&peers).starts_with("alice@"));
    assert_eq!(lease(&peers)["spec"]["leaseTransitions"], 5, "a change of hands");
    b.quit();
}

/// `watch` reads who drives and never writes: a Lease held elsewhere (the
/// harness writes it, as a console on another machine would) is on its
/// header, and every key pressed sends no mutating request; the Lease was
/// read.
#[test]
fn watch_shows_who_drives_and_never_writes_the_lease() {
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    let now = jiff::Timestamp::now();
    let held = json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": LEASE_NAME, "namespace": "app"},
        "spec": {"holderIdentity": "dana@far-away pid 77 live-20261206T000000Z", "leaseDurationSeconds": 3600,
                 "acquireTime": now.strftime("%Y-%m-%dT%H:%M:%S.000000Z").to_string(),
                 "renewTime": now.strftime("%Y-%m-%dT%H:%M:%S.000000Z").to_string(), "leaseTransitions": 4}
    });
    peers.post("/kube/new/apply", held);
    peers.post("/requests/clear", Value::Null);
    let t = Tmux::start("watch-wheel");
    t.type_line(&format!(
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing {} watch --plan {} --log {}; echo EXIT=$?",
        env!("CARGO_BIN_EXE_cutover"),
        peers.plan_path().display(),
        peers.dir.join("watch.log").display()
    ));
    let screen =
        t.wait_for("who drives", WAIT, |s| s.contains("wheel: dana@far-away since") && s.contains("read 75/25"));
    assert!(!screen.contains("W takes the wheel"), "{screen}");
    t.press_every_key_and_confirm();
    std::thread::sleep(Duration::from_secs(6));
    t.send(&["Escape", "Escape", "q"]);
    let after = t.wait_for("exit", Duration::from_secs(10), |s| s.lines().any(|l| l.starts_with("EXIT=")));
    assert!(after.contains("EXIT=0"), "{after}");
    let mutating = peers.mutating_requests();
    assert!(mutating.is_empty(), "watch must not change anything: {mutating:#?}");
    let reads =
        peers.requests("new").into_iter().filter(|r| r["path"].as_str().unwrap_or("").ends_with(LEASE_NAME)).count();
    assert!(reads >= 2, "the Lease was read, again and again: {reads}");
    assert_eq!(holder(&peers), "dana@far-away pid 77 live-20261206T000000Z");
}

/// deploy/driver-lease-rbac.yaml: a Role granting what a driver asks of the
/// plan's Lease (create; get and update of that name), and a binding of it.
#[test]
fn the_driver_s_role_grants_exactly_what_the_wheel_needs() {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .args(["-c", "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))"])
        .stdin(std::fs::File::open(root.join("deploy/driver-lease-rbac.yaml")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "not YAML: {}", String::from_utf8_lossy(&out.stderr));
    let docs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| d["metadata"]["namespace"].is_null()), "applied with -n");
    let role: Role = serde_json::from_value(docs[0].clone()).unwrap();
    let binding: RoleBinding = serde_json::from_value(docs[1].clone()).unwrap();
    assert_eq!(binding.role_ref.name, role.metadata.name.clone().unwrap());
    assert_eq!(binding.role_ref.kind, "Role");
    let mut granted = std::collections::BTreeSet::new();
    for rule in role.rules.unwrap() {
        assert_eq!(rule.api_groups.unwrap(), ["coordination.k8s.io"]);
        assert_eq!(rule.resources.unwrap(), ["leases"]);
        let names = rule.resource_names.unwrap_or_default();
        for verb in rule.verbs {
            assert!(verb == "create" || names == [LEASE_NAME], "{verb} is for the plan's Lease only");
            granted.insert(verb);
        }
    }
    let wanted: std::collections::BTreeSet<String> = ["create", "get", "update"].map(String::from).into();
    assert_eq!(granted, wanted, "no delete, no list or watch");
}
