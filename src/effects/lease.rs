//! The plan's wheel, held: the `coordination.k8s.io/v1` Lease in the new
//! cluster that says which `cutover run` drives (see `domain::wheel` for
//! what is decided, and why the times are what they are).
//!
//! A driver takes the Lease at its start if nobody holds it, renews it
//! every few seconds, takes it from another console when its operator types
//! the word, and releases it on a clean quit (never on a crash: it then
//! expires). Every write is optimistic: a create fails if the Lease exists,
//! an update carries the resourceVersion read and fails (409) if anyone
//! wrote in between; then the Lease is read again and the round decided
//! anew. Whatever this console learns reaches `update` as `Msg::Wheel`.
//!
//! Before each write of the executor except the way back, the Lease is read
//! again: a console whose wheel was taken a moment ago writes nothing, even
//! before its next renewal tells it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use tokio::sync::{Mutex, Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::app::{EffectResult, Msg};
use crate::domain::Wheel;
use crate::domain::wheel::{
    HANDOFF_ANNOTATION, HolderHandoff, Intent, LAST_HOLDER_ANNOTATION, LeaseRecord, OPERATOR_ANNOTATION,
    PLAN_ANNOTATION, RENEW_EVERY_SECS, Step, next_step, renewal_failed,
};
use crate::sources::lease::{CallError, LeaseRef, call, get, record};

/// Writes to the Lease, told apart from other writers' in its managedFields.
const FIELD_MANAGER: &str = "cutover";
/// Tries of one round when every write meets a newer Lease (409).
const CONFLICT_TRIES: usize = 3;

/// This console's identity as a holder: the local user, the host, the
/// process, the session. Known before the AWS identity is (that goes into
/// the Lease's operator annotation once STS answers).
pub fn local_identity(session: &str) -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let user = env("USER").or_else(|| env("LOGNAME")).unwrap_or_else(|| "someone".into());
    crate::domain::wheel::holder_identity(&user, &local_host(), std::process::id(), session)
}

fn local_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "an unnamed host".into())
}

/// Whether a holder is a console of this host whose process is gone (it
/// crashed, or was killed): its lease need not be waited out. Only where
/// /proc tells; a process id used again by another process reads as alive,
/// and then the lease is waited out as anywhere else.
fn gone_from_here(identity: &str) -> bool {
    let Some(pid) = crate::domain::wheel::holder_process(identity, &local_host()) else { return false };
    std::path::Path::new("/proc/self").exists() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// What this console knows of its hold on the wheel.
#[derive(Debug, Default)]
struct Core {
    /// It holds the Lease.
    holding: bool,
    /// The start's round had an answer: from then on a Lease held by
    /// someone else is watched, never taken without the operator.
    settled: bool,
    /// Since when it holds it, and its last successful renewal.
    since: Option<Timestamp>,
    renewed: Option<Timestamp>,
    /// Its renewals failed for too long: said until it holds it again.
    lapsed: Option<Wheel>,
    /// Released on quit: nothing is renewed any more.
    released: bool,
    /// What was last sent to `update`.
    told: Option<Wheel>,
}

/// How a round went.
enum Outcome {
    /// This console holds the Lease now (since when; taken from whom).
    Held {
        since: Timestamp,
        from: Option<String>,
    },
    /// The Lease says this; this console does not hold it.
    Left(Wheel),
    Refused(String),
}

/// The wheel of one plan, for one console: the lease task, the executor's
/// check and the release on quit share it.
pub struct WheelHandle {
    api: Api<Lease>,
    at: LeaseRef,
    me: String,
    plan: String,
    operator: std::sync::Mutex<Option<String>>,
    /// This console's handoff in flight, for the others to see.
    claim: std::sync::Mutex<Option<HolderHandoff>>,
    /// Renew at once: the handoff in flight changed.
    wake: Notify,
    core: Mutex<Core>,
    tx: mpsc::Sender<Msg>,
}

impl WheelHandle {
    pub fn new(client: kube::Client, at: LeaseRef, me: String, plan: String, tx: mpsc::Sender<Msg>) -> Arc<Self> {
        let api = Api::namespaced(client, &at.namespace);
        Arc::new(WheelHandle {
            api,
            at,
            me,
            plan,
            operator: std::sync::Mutex::new(None),
            claim: std::sync::Mutex::new(None),
            wake: Notify::new(),
            core: Mutex::default(),
            tx,
        })
    }

    pub fn identity(&self) -> &str {
        &self.me
    }

    pub fn lease(&self) -> &LeaseRef {
        &self.at
    }

    /// Who is at the keys beyond this console, once STS says: written with
    /// the next renewal, for the others to see.
    pub fn set_operator(&self, who: &str) {
        *self.operator.lock().unwrap_or_else(|e| e.into_inner()) = Some(who.to_string());
    }

    /// The console's handoff in flight, after each burst of messages: the
    /// Lease carries it (renewed at once when it changes), so that another
    /// console of the plan knows the gap between its stop and its start is
    /// planned, and raises no alarm for it.
    pub fn note_handoff(&self, app: &crate::app::App) {
        let claim = app.handoff.as_ref().filter(|h| !h.phase.finished() && app.drives()).map(|h| HolderHandoff {
            singleton: h.spec.name.clone(),
            text: h.state_text(),
            in_gap: h.phase.in_gap(),
        });
        let mut held = self.claim.lock().unwrap_or_else(|e| e.into_inner());
        if *held != claim {
            *held = claim;
            self.wake.notify_one();
        }
    }

    /// Whether this console holds the wheel, as its last round found.
    pub async fn holding(&self) -> bool {
        self.core.lock().await.holding
    }

    /// One round: at the start, take the Lease if it is free; while held,
    /// renew it; while watching, read it. Says what it found.
    pub async fn tick(&self) {
        let mut core = self.core.lock().await;
        if core.released {
            return;
        }
        let intent = match (core.holding, core.settled) {
            (true, _) => Intent::Renew,
            (false, false) => Intent::Acquire,
            (false, true) => Intent::Watch,
        };
        let wheel = match self.round(&intent).await {
            Ok(Outcome::Held { since, .. }) => self.now_held(&mut core, since),
            Ok(Outcome::Left(wheel)) => {
                core.holding = false;
                core.settled = true;
                core.lapsed = None;
                wheel
            }
            // Only a take is refused.
            Ok(Outcome::Refused(error)) => Wheel::Unread { error },
            Err(error) if core.holding => {
                let now = Timestamp::now();
                let (since, renewed) = (core.since.unwrap_or(now), core.renewed.unwrap_or(now));
                let wheel = renewal_failed(&self.me, since, renewed, &error, now);
                if matches!(wheel, Wheel::Lapsed { .. }) {
                    tracing::warn!(lease = %self.at, %error, "the wheel's lease was not renewed in time: not driving");
                    core.holding = false;
                    core.lapsed = Some(wheel.clone());
                }
                wheel
            }
            Err(error) => core.lapsed.clone().unwrap_or(Wheel::Unread { error }),
        };
        self.tell(&mut core, wheel).await;
    }

    /// Renews until cancelled; the first round is the caller's (the start).
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut every = tokio::time::interval(Duration::from_secs(RENEW_EVERY_SECS as u64));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = every.tick() => {}
                _ = self.wake.notified() => {}
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = self.tick() => {}
            }
        }
    }

    /// The operator typed the word: take the Lease from `from` (or from
    /// nobody), unless it passed to someone else meanwhile.
    pub async fn take(&self, from: Option<String>) -> EffectResult {
        let mut core = self.core.lock().await;
        if core.released {
            return EffectResult::Refused { reason: "the console is quitting".into() };
        }
        let taken = self.round(&Intent::Take { from: from.clone() }).await;
        let (since, from) = match taken {
            Ok(Outcome::Held { since, from }) => (since, from),
            Ok(Outcome::Refused(reason)) => return EffectResult::Refused { reason },
            Ok(Outcome::Left(_)) => {
                return EffectResult::Refused { reason: "the lease could not be taken".into() };
            }
            // The write's answer may be lost: what the Lease says decides.
            Err(error) => match get(&self.api, &self.at.name).await {
                Ok(Some(lease)) if record(&lease).holder.as_deref() == Some(&self.me) => {
                    let since = record(&lease).acquired.unwrap_or_else(Timestamp::now);
                    (since, from)
                }
                Ok(_) => return EffectResult::Failed { error: format!("the lease was not written: {error}") },
                Err(again) => {
                    return EffectResult::Unknown {
                        detail: format!("taking the wheel: {error}; reading the lease again: {again}"),
                    };
                }
            },
        };
        let wheel = self.now_held(&mut core, since);
        self.tell(&mut core, wheel).await;
        let from = from.map(|f| format!(", taken from {f}")).unwrap_or_default();
        EffectResult::Verified { detail: format!("you hold the wheel (Lease {}){from}", self.at) }
    }

    /// Before a write: does the Lease still name this console? Read afresh,
    /// since a take elsewhere is only learnt at the next renewal.
    pub async fn check_held(&self) -> Result<(), String> {
        let lease = get(&self.api, &self.at.name)
            .await
            .map_err(|e| format!("cannot tell whether you still hold the wheel ({e}): nothing was written"))?;
        match lease.as_ref().map(record).and_then(|r| r.holder) {
            Some(h) if h == self.me => Ok(()),
            Some(h) => Err(format!("{h} holds the wheel now: nothing was written")),
            None => Err("nobody holds the wheel (the lease names no one): nothing was written".into()),
        }
    }

    /// A clean quit: the Lease is left naming nobody (and who held it), so
    /// the next console takes it at once. Returns what `update` should be
    /// told, when this console held it.
    pub async fn release(&self) -> Result<Option<Msg>, String> {
        let mut core = self.core.lock().await;
        core.released = true;
        if !core.holding {
            return Ok(None);
        }
        for _ in 0..CONFLICT_TRIES {
            let Some(mut lease) = get(&self.api, &self.at.name).await? else { return Ok(None) };
            let read = record(&lease);
            if read.holder.as_deref() != Some(self.me.as_str()) {
                return Ok(None);
            }
            self.write_into(&mut lease, &LeaseRecord::released(&read, &self.me, Timestamp::now()));
            match call(self.api.replace(&self.at.name, &post_params(), &lease)).await {
                Ok(_) => {
                    core.holding = false;
                    let wheel = Wheel::Free { last: Some(self.me.clone()), expired: false };
                    core.told = Some(wheel.clone());
                    return Ok(Some(Msg::Wheel { at: Timestamp::now(), lease: self.at.to_string(), wheel }));
                }
                Err(CallError::Conflict) => continue,
                Err(CallError::Failed(e)) => return Err(e),
            }
        }
        Err("the lease kept changing under the release (409 Conflict)".into())
    }

    fn now_held(&self, core: &mut Core, since: Timestamp) -> Wheel {
        core.holding = true;
        core.settled = true;
        core.lapsed = None;
        core.since = Some(since);
        core.renewed = Some(Timestamp::now());
        Wheel::Yours { identity: self.me.clone(), since, failing: None }
    }

    async fn tell(&self, core: &mut Core, wheel: Wheel) {
        if core.told.as_ref() == Some(&wheel) {
            return;
        }
        core.told = Some(wheel.clone());
        let _ = self.tx.send(Msg::Wheel { at: Timestamp::now(), lease: self.at.to_string(), wheel }).await;
    }

    /// Reads the Lease and does what `next_step` says, again from a fresh
    /// read when a write meets a newer Lease.
    async fn round(&self, intent: &Intent) -> Result<Outcome, String> {
        for _ in 0..CONFLICT_TRIES {
            let lease = get(&self.api, &self.at.name).await?;
            let mut read = lease.as_ref().map(record);
            // A console of this host that died holds it: at the start, it is
            // taken at once (a restart after a crash picks its handoff up).
            if let Some(r) = read.as_mut().filter(|_| *intent == Intent::Acquire)
                && r.holder.as_deref().is_some_and(|h| h != self.me && gone_from_here(h))
            {
                tracing::info!(lease = %self.at, holder = ?r.holder, "the wheel's holder was a console of this host that is gone");
                r.renewed = None;
            }
            let now = Timestamp::now();
            let operator = self.operator.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let mut written = LeaseRecord::held_by(read.as_ref(), &self.me, operator.as_deref(), now);
            written.handoff = self.claim.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let since = written.acquired.unwrap_or(now);
            let (result, from) = match next_step(read.as_ref(), &self.me, intent, now) {
                Step::Leave(wheel) => return Ok(Outcome::Left(wheel)),
                Step::Refuse(why) => return Ok(Outcome::Refused(why)),
                Step::Create => {
                    let mut new = Lease {
                        metadata: ObjectMeta {
                            name: Some(self.at.name.clone()),
                            namespace: Some(self.at.namespace.clone()),
                            labels: Some(BTreeMap::from([(
                                "app.kubernetes.io/managed-by".to_string(),
                                "cutover".to_string(),
                            )])),
                            ..ObjectMeta::default()
                        },
                        spec: None,
                    };
                    self.write_into(&mut new, &written);
                    (call(self.api.create(&post_params(), &new)).await, None)
                }
                Step::Write { from, .. } => {
                    let Some(mut lease) = lease else { continue };
                    self.write_into(&mut lease, &written);
                    (call(self.api.replace(&self.at.name, &post_params(), &lease)).await, from)
                }
            };
            match result {
                Ok(_) => return Ok(Outcome::Held { since, from }),
                Err(CallError::Conflict) => {
                    tracing::debug!(lease = %self.at, "the lease changed under a write: reading it again");
                }
                Err(CallError::Failed(e)) => return Err(e),
            }
        }
        Err(format!("the lease kept changing under every write ({CONFLICT_TRIES} times 409 Conflict)"))
    }

    /// The Lease as `r` says, its resourceVersion and everything else kept.
    fn write_into(&self, lease: &mut Lease, r: &LeaseRecord) {
        let annotations = lease.metadata.annotations.get_or_insert_with(BTreeMap::new);
        let mut set = |key: &str, value: Option<&String>| match value {
            Some(v) => {
                annotations.insert(key.to_string(), v.clone());
            }
            None => {
                annotations.remove(key);
            }
        };
        let handoff = r.handoff.as_ref().and_then(|h| serde_json::to_string(h).ok());
        set(HANDOFF_ANNOTATION, handoff.as_ref());
        set(OPERATOR_ANNOTATION, r.operator.as_ref());
        set(LAST_HOLDER_ANNOTATION, r.last_holder.as_ref());
        set(PLAN_ANNOTATION, Some(&self.plan));
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        spec.holder_identity = r.holder.clone();
        spec.acquire_time = r.acquired.map(MicroTime);
        spec.renew_time = r.renewed.map(MicroTime);
        spec.lease_duration_seconds = i32::try_from(r.duration_secs).ok();
        spec.lease_transitions = Some(r.transitions);
    }
}

fn post_params() -> PostParams {
    PostParams { dry_run: false, field_manager: Some(FIELD_MANAGER.into()) }
}
