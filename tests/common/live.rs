//! A console fed by the live sources against the peers, in this process, as
//! `cutover watch` and `cutover run` feed theirs: the sources started from
//! the harness's plan, their messages applied until the test has seen what
//! it waits for.

use std::time::{Duration, Instant};

use cutover::app::{App, Mode, Msg};
use cutover::keymap::Keymap;
use cutover::plan::Plan;
use cutover::sources::Clients;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::peers::{Peers, fake_aws_credentials};
use super::{step, take_sent};
use cutover::app::{EffectResult, Queued};
use cutover::effects::LiveExecutor;
use cutover::keymap::Key;
use serde_json::Value;

pub struct LiveConsole {
    pub peers: Peers,
    pub plan: Plan,
    pub app: App,
    /// The clients the sources read with: what an executor writes with.
    pub clients: Clients,
    pub rt: tokio::runtime::Runtime,
    /// Set by `record_to`: every message is recorded as the runtime does.
    pub recorder: Option<cutover::record::Writer>,
    /// Set by `Driver::start_running`: effects go to the live executor's
    /// loop, as in `cutover run`, rather than to the test.
    executor: Option<mpsc::Sender<Queued>>,
    rx: mpsc::Receiver<Msg>,
    cancel: CancellationToken,
    _tx: mpsc::Sender<Msg>,
}

impl LiveConsole {
    /// Starts the peers with `seed` and the sources of their plan.
    pub fn start(seed: &str, mode: Mode) -> LiveConsole {
        LiveConsole::start_with(seed, mode, |_| {})
    }

    /// `start`, with `prepare` run on the peers' files (the plan, the
    /// kubeconfig) before the sources read them.
    pub fn start_with(seed: &str, mode: Mode, prepare: impl FnOnce(&Peers)) -> LiveConsole {
        fake_aws_credentials();
        let peers = Peers::start(seed);
        prepare(&peers);
        let plan = Plan::load(&peers.plan_path()).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (tx, rx) = mpsc::channel(cutover::runtime::CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        let app = App::new(cutover::app::AppConfig::of_plan(&plan, mode), Keymap::default(), jiff::Timestamp::now());
        let clients = rt
            .block_on(cutover::sources::start_reading(&plan, tx.clone(), cancel.clone(), &TaskTracker::new()))
            .unwrap();
        LiveConsole { peers, plan, app, clients, rt, recorder: None, executor: None, rx, cancel, _tx: tx }
    }

    /// The console started again on the same peers, as after a quit: the
    /// sources stopped and started anew (watches, the ALB poller, the
    /// 30 minutes of metrics), a fresh state, no recorder.
    pub fn restart(&mut self) {
        self.cancel.cancel();
        self.recorder = None;
        let (tx, rx) = mpsc::channel(cutover::runtime::CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        let mode = self.app.config.mode;
        self.app =
            App::new(cutover::app::AppConfig::of_plan(&self.plan, mode), Keymap::default(), jiff::Timestamp::now());
        self.clients = self
            .rt
            .block_on(cutover::sources::start_reading(&self.plan, tx.clone(), cancel.clone(), &TaskTracker::new()))
            .unwrap();
        (self.rx, self.cancel, self._tx) = (rx, cancel, tx);
        let _ = super::take_sent();
    }

    /// Records the session from now on to `path`, as `cutover run` does.
    pub fn record_to(&mut self, path: &std::path::Path) {
        let header = cutover::record::Header::new(&self.app, jiff::Timestamp::now(), (120, 32));
        self.recorder = Some(cutover::record::Writer::create(path, &header).unwrap());
    }

    /// Applies one message as the runtime does: scrubbed, recorded when a
    /// recorder is set, and its effects kept for the test to take.
    pub fn apply(&mut self, msg: Msg) {
        if let Some(executor) = self.executor.clone() {
            let out = cutover::runtime::apply(&mut self.app, msg, self.recorder.as_mut());
            for queued in out.effects {
                self.rt.block_on(executor.send(queued)).expect("the executor runs");
            }
            return;
        }
        match self.recorder.as_mut() {
            Some(writer) => {
                let out = cutover::runtime::apply(&mut self.app, msg, Some(writer));
                super::keep(out.effects);
            }
            None => {
                step(&mut self.app, msg);
            }
        }
    }

    /// Applies messages until `done` holds; fails the test after `within`,
    /// saying what the sources and the latest events were.
    pub fn until(&mut self, what: &str, within: Duration, done: impl Fn(&App) -> bool) -> Duration {
        let start = Instant::now();
        while !done(&self.app) {
            let left = within.checked_sub(start.elapsed()).unwrap_or_else(|| {
                panic!(
                    "not within {within:?}: {what}\nsources: {:?}\nevents: {:?}",
                    self.app.sources,
                    self.app.events.iter().take(8).collect::<Vec<_>>()
                )
            });
            if let Ok(Some(msg)) = self.rt.block_on(async { tokio::time::timeout(left, self.rx.recv()).await }) {
                self.apply(msg);
            }
        }
        start.elapsed()
    }

    /// Lets messages in for a while, whatever they are.
    pub fn pump(&mut self, for_: Duration) {
        let end = Instant::now() + for_;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if let Ok(Some(msg)) = self.rt.block_on(async { tokio::time::timeout(left, self.rx.recv()).await }) {
                self.apply(msg);
            }
        }
    }

    pub fn screen(&self) -> String {
        super::draw(120, 32, |f| cutover::ui::render(&self.app, f))
    }

    /// Reads, as `cutover run` and `cutover watch` do at their start, an
    /// earlier session's recording of the plan that began `ago`, in which
    /// each route was set to the weights it has now: the time at each
    /// weight counts from then.
    pub fn settle_since(&mut self, ago: jiff::SignedDuration) {
        let dir = self.peers.dir.join("earlier-recordings");
        seed_recording(&dir.join("live-earlier.jsonl"), &self.app, jiff::Timestamp::now() - ago);
        let names: Vec<String> = self.app.routes.iter().map(|r| r.spec.name.clone()).collect();
        let (changes, recordings) =
            cutover::record::history::last_changes(&[dir], &self.plan.name, &names, jiff::Timestamp::now());
        assert_eq!(changes.len(), names.len(), "every route's change read back from the seeded recording");
        self.apply(Msg::PriorChanges { changes, recordings });
    }
}

/// Whether a console on the peers has read what a test waits for before it
/// begins: every route's weights, the first minutes of metrics, and both
/// clusters' pods.
pub fn everything_read(app: &App) -> bool {
    app.routes.iter().all(|r| r.read.is_some())
        && !app.routes[0].metrics.old.requests.is_empty()
        && app.clusters.old.pods.len() > 10
        && app.clusters.new.pods.len() > 10
}

impl Drop for LiveConsole {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// How long ago the routes were set to their weights, as the recording
/// `Driver::settle` seeds tells.
const AN_HOUR: jiff::SignedDuration = jiff::SignedDuration::from_secs(3600);

/// How long a driver waits for what it expects.
pub const DRIVER_WAIT: Duration = Duration::from_secs(30);

/// The driver's console on the peers, with the live executor.
pub struct Driver {
    pub console: LiveConsole,
    pub exec: LiveExecutor,
}

impl std::ops::Deref for Driver {
    type Target = LiveConsole;
    fn deref(&self) -> &LiveConsole {
        &self.console
    }
}

impl std::ops::DerefMut for Driver {
    fn deref_mut(&mut self) -> &mut LiveConsole {
        &mut self.console
    }
}

impl Driver {
    pub fn start(dry_run: bool) -> Driver {
        Driver::start_with("realistic", dry_run)
    }

    /// The driver's console, recorded from its first message to `path`.
    pub fn start_recorded(seed: &str, path: &std::path::Path) -> Driver {
        Driver::start_inner(seed, false, Some(path))
    }

    /// The driver's console on peers seeded with `seed`.
    pub fn start_with(seed: &str, dry_run: bool) -> Driver {
        Driver::start_inner(seed, dry_run, None)
    }

    /// The driver's console, with `prepare` run on the peers (their plan,
    /// their objects) before the sources start.
    pub fn start_prepared(dry_run: bool, prepare: impl FnOnce(&Peers)) -> Driver {
        Driver::start_full("realistic", dry_run, None, prepare, Some(AN_HOUR))
    }

    /// The driver's console as a console started with no recording of the
    /// plan finds it: how long each route has been at its weights is
    /// unknown, and a step counts as not yet dwelled.
    pub fn start_fresh(seed: &str) -> Driver {
        Driver::start_full(seed, false, None, |_| {}, None)
    }

    /// The driver's console with the live executor's loop behind it, as
    /// `cutover run` has it: confirmed effects go to `effects::run` (a
    /// revert goes ahead of a step in flight, progress and answers come
    /// back as messages), recorded to `record` when given, with `prepare`
    /// run on the peers first.
    pub fn start_running(seed: &str, record: Option<&std::path::Path>, prepare: impl FnOnce(&Peers)) -> Driver {
        Driver::start_running_since(seed, record, AN_HOUR, prepare)
    }

    /// `start_running`, each route set to its weights `ago` rather than an
    /// hour ago, as an earlier session's recording tells.
    pub fn start_running_since(
        seed: &str,
        record: Option<&std::path::Path>,
        ago: jiff::SignedDuration,
        prepare: impl FnOnce(&Peers),
    ) -> Driver {
        // The executor is there before the earlier recording is read, as in
        // `cutover run`: what the console does on reading it (an automatic
        // revert of a step judged failed) is carried out.
        let mut d = Driver::start_full(seed, false, record, prepare, None);
        let exec = LiveExecutor {
            elb: d.exec.elb.clone(),
            route53: d.exec.route53.clone(),
            kube: d.exec.kube.clone(),
            plan: d.exec.plan.clone(),
            dry_run: false,
            route53_options: Default::default(),
        };
        let (tx, rx) = mpsc::channel(64);
        let answers = d.console._tx.clone();
        let cancel = d.console.cancel.clone();
        d.console.rt.spawn(cutover::effects::run(exec, rx, answers, cancel));
        d.console.executor = Some(tx);
        d.console.settle_since(ago);
        d
    }

    fn start_inner(seed: &str, dry_run: bool, record: Option<&std::path::Path>) -> Driver {
        Driver::start_full(seed, dry_run, record, |_| {}, Some(AN_HOUR))
    }

    /// `settled`: an earlier session's recording of the plan that began
    /// that long ago (an hour, as a rule), in which each route was set to
    /// the weights it has now, is read as `cutover run` reads the
    /// recordings directory at its start. Pacing then counts from then, as
    /// it would for a console restarted long after the last step; tests of
    /// pacing itself start without it.
    fn start_full(
        seed: &str,
        dry_run: bool,
        record: Option<&std::path::Path>,
        prepare: impl FnOnce(&Peers),
        settled: Option<jiff::SignedDuration>,
    ) -> Driver {
        let mode = if dry_run { Mode::DryRun } else { Mode::Run };
        let mut console = LiveConsole::start_with(seed, mode, prepare);
        if let Some(path) = record {
            console.record_to(path);
        }
        let exec = LiveExecutor {
            elb: cutover::effects::elb_client(&console.clients.sdk),
            route53: cutover::sources::aws::route53_client(&console.clients.sdk),
            kube: console.clients.kube.clone(),
            plan: console.plan.clone(),
            dry_run,
            route53_options: Default::default(),
        };
        let mut d = Driver { console, exec };
        d.until("everything read", everything_read);
        if let Some(ago) = settled {
            d.console.settle_since(ago);
        }
        d
    }

    /// Reads, as `cutover run` does at its start, an earlier session's
    /// recording of the plan, an hour old, in which each route was set to
    /// the weights it has now: pacing counts from an hour ago.
    pub fn settle(&mut self) {
        self.console.settle_since(jiff::SignedDuration::from_secs(3600));
    }

    pub fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        self.console.until(what, DRIVER_WAIT, done);
    }

    pub fn press(&mut self, keys: &str) {
        for c in keys.chars() {
            self.console.apply(Msg::Key(Key::char(c)));
        }
    }

    /// Runs what the console asked for through the live executor.
    pub fn execute(&mut self) -> Vec<EffectResult> {
        let mut results = Vec::new();
        for Queued { id, effect } in take_sent() {
            let result = self.rt.block_on(self.exec.execute(&effect, &|_| {}));
            results.push(result.clone());
            self.console.apply(Msg::EffectDone { id, effect, result });
        }
        results
    }

    pub fn elb(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        self.exec.elb.clone()
    }

    pub fn object(&self, side: &str, resource: &str, ns: &str, name: &str) -> Value {
        self.peers.get(&format!("/kube/{side}/object?resource={resource}&namespace={ns}&name={name}"))
    }
}

/// A recording of an earlier session of `app`'s plan that began at `at`
/// and in which the executor verified, at once, each route's current
/// weights: what a console started now finds in the recordings directory.
pub fn seed_recording(path: &std::path::Path, app: &App, at: jiff::Timestamp) {
    use cutover::app::{Mark, Marked};
    let _ = std::fs::create_dir_all(path.parent().unwrap());
    let _ = std::fs::remove_file(path);
    let mut earlier = App::new(app.config.clone(), Keymap::default(), at);
    earlier.config.mode = Mode::Run;
    let mut writer =
        cutover::record::Writer::create(path, &cutover::record::Header::new(&earlier, at, (120, 32))).unwrap();
    let marks: Vec<Mark> = app
        .routes
        .iter()
        .filter_map(|r| {
            let w = r.weights()?;
            let effect = format!("route {}: weights old {} / new {}", r.spec.name, w.old.0, w.new.0);
            Some(Mark { at, what: Marked::Outcome { ok: true, effect, text: "done and verified".into() } })
        })
        .collect();
    writer.after_update(at, &earlier, &marks).unwrap();
    writer.flush().unwrap();
}
