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

use super::peers::{Peers, fake_aws_credentials};
use super::step;

pub struct LiveConsole {
    pub peers: Peers,
    pub plan: Plan,
    pub app: App,
    /// The clients the sources read with: what an executor writes with.
    pub clients: Clients,
    pub rt: tokio::runtime::Runtime,
    rx: mpsc::Receiver<Msg>,
    cancel: CancellationToken,
    _tx: mpsc::Sender<Msg>,
}

impl LiveConsole {
    /// Starts the peers with `seed` and the sources of their plan.
    pub fn start(seed: &str, mode: Mode) -> LiveConsole {
        fake_aws_credentials();
        let peers = Peers::start(seed);
        let plan = Plan::load(&peers.plan_path()).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (tx, rx) = mpsc::channel(cutover::runtime::CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        let app = App::new(plan.app_config(mode), Keymap::default(), jiff::Timestamp::now());
        let clients = rt.block_on(cutover::sources::start_reading(&plan, tx.clone(), cancel.clone())).unwrap();
        LiveConsole { peers, plan, app, clients, rt, rx, cancel, _tx: tx }
    }

    /// Applies messages until `done` holds; fails the test after `within`,
    /// saying what the sources and the latest events were.
    pub fn until(&mut self, what: &str, within: Duration, done: impl Fn(&App) -> bool) -> Duration {
        self.until_applying(what, within, done, |app, msg| {
            step(app, msg);
        })
    }

    /// `until`, with each message applied by `apply` (a recorder, say).
    pub fn until_applying(
        &mut self,
        what: &str,
        within: Duration,
        done: impl Fn(&App) -> bool,
        mut apply: impl FnMut(&mut App, Msg),
    ) -> Duration {
        let start = Instant::now();
        while !done(&self.app) {
            let left = within.checked_sub(start.elapsed()).unwrap_or_else(|| {
                panic!(
                    "not within {within:?}: {what}\nsources: {:?}\nevents: {:?}",
                    self.app.sources,
                    self.app.events.iter().take(5).collect::<Vec<_>>()
                )
            });
            if let Ok(Some(msg)) = self.rt.block_on(async { tokio::time::timeout(left, self.rx.recv()).await }) {
                apply(&mut self.app, msg);
            }
        }
        start.elapsed()
    }

    /// Lets messages in for a while, whatever they are.
    pub fn pump(&mut self, for_: Duration) {
        let end = Instant::now() + for_;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if let Ok(Some(msg)) = self.rt.block_on(async { tokio::time::timeout(left, self.rx.recv()).await }) {
                step(&mut self.app, msg);
            }
        }
    }

    pub fn screen(&self) -> String {
        super::draw(120, 32, |f| cutover::ui::render(&self.app, f))
    }
}

impl Drop for LiveConsole {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
