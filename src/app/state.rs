use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use jiff::Timestamp;

use crate::domain::{
    Autoscaler, Backend, DnsSpec, Health, IngressRef, MetricSeries, MetricsKind, Node, NodeSignal, NodeSignalKind,
    PerSide, Pod, PodKey, PodPhase, PodsLost, RecordRead, RouteId, RouteKind, RouteOwners, Side, SingletonSpec, Target,
    Weight, Weights, Workload, WorkloadKey,
};
use serde::{Deserialize, Serialize};

use super::{LbMetric, SourceId, SourceState};

/// How the console was started; shown in the header and deciding which
/// actions exist at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// `cutover demo`: the embedded simulated world.
    Demo,
    /// `cutover watch`: live, read-only by construction.
    Watch,
    /// `cutover run`: live, with the executor that can change things.
    Run,
    /// `cutover run --dry-run`: live, proposals show the calls they would make.
    DryRun,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Demo => "DEMO",
            Mode::Watch => "WATCH",
            Mode::Run => "LIVE",
            Mode::DryRun => "DRY-RUN",
        }
    }

    pub fn banner(self) -> &'static str {
        match self {
            Mode::Demo => "simulated world: no cloud account, nothing real is touched",
            Mode::Watch => "read-only: nothing can be changed from here",
            Mode::Run => "driving: confirmed actions change the real ALB and clusters",
            Mode::DryRun => "dry run: actions show the calls they would make, and make none",
        }
    }

    /// Whether actions may be proposed at all.
    pub fn can_act(self) -> bool {
        matches!(self, Mode::Demo | Mode::Run | Mode::DryRun)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterMeta {
    /// Context or cluster name, as the team calls it.
    pub name: String,
    /// Kubernetes version, when known.
    pub version: String,
}

/// A route of the plan: two weights, old and new, in one backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteSpec {
    pub name: String,
    pub backend: Backend,
    /// The Deployment serving the route on both sides.
    pub workload: Option<WorkloadKey>,
    /// Percent to new, in order.
    pub steps: Vec<u8>,
    /// Where the route's requests, 5xx and latency come from.
    #[serde(default, skip_serializing_if = "MetricsKind::is_default")]
    pub metrics: MetricsKind,
}

impl RouteSpec {
    pub fn kind(&self) -> RouteKind {
        self.backend.kind()
    }

    pub fn dns(&self) -> Option<&DnsSpec> {
        match &self.backend {
            Backend::Route53(d) => Some(d),
            _ => None,
        }
    }

    /// The live source that reads the route's weights.
    pub fn source(&self) -> super::SourceId {
        super::SourceId::Traffic(self.kind())
    }

    /// The Ingress the AWS Load Balancer Controller writes the rule from.
    pub fn ingress(&self) -> Option<&IngressRef> {
        self.backend.ingress()
    }

    /// What holds each side's weight: a target group, a record's set
    /// identifier.
    pub fn weighted(&self, side: Side) -> &str {
        self.backend.weighted(side)
    }

    /// Where the weights are, in a few words: `rule 1a2b` on
    /// `app/web/…`, `www.example.com. A`.
    pub fn place(&self) -> String {
        self.backend.place()
    }
}

/// What the console is watching: fixed for a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppConfig {
    pub mode: Mode,
    /// The plan's name.
    pub title: String,
    pub clusters: PerSide<ClusterMeta>,
    pub routes: Vec<RouteSpec>,
    pub singletons: Vec<SingletonSpec>,
    pub guards: Guards,
}

impl AppConfig {
    /// The console's configuration for a plan.
    pub fn of_plan(plan: &crate::plan::Plan, mode: Mode) -> AppConfig {
        let meta = |c: Option<&crate::plan::ClusterTarget>| ClusterMeta {
            name: c.map_or("EC2 (no Kubernetes)".into(), |c| c.context.clone()),
            version: String::new(),
        };
        AppConfig {
            mode,
            title: plan.name.clone(),
            clusters: PerSide::new(meta(plan.old.as_ref()), meta(Some(&plan.new))),
            routes: plan
                .routes
                .iter()
                .map(|r| RouteSpec {
                    name: r.name.clone(),
                    backend: r.target.spec(),
                    workload: r.workload.clone(),
                    steps: r.steps.clone(),
                    metrics: Default::default(),
                })
                .collect(),
            singletons: plan.singletons.clone(),
            guards: Guards {
                stale_after_secs: plan.stale_after.as_secs() as i64,
                max_step: plan.max_step,
                spike_percent: plan.spike_percent,
                min_dwell_secs: plan.min_dwell,
            },
        }
    }
}

/// The plan's limits on acting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Guards {
    /// An ALB read older than this is too old to act on.
    pub stale_after_secs: i64,
    /// A larger weight change, in percentage points, needs two confirmations.
    pub max_step: u8,
    /// A side's 5xx share of its requests in a minute, in percent, above
    /// which the minute is marked as a spike (timeline, report).
    #[serde(default = "default_spike_percent")]
    pub spike_percent: f64,
    /// Seconds a route must have been at its weight, with one complete
    /// CloudWatch minute seen there, before a step forward needs only one
    /// confirmation.
    #[serde(default = "default_min_dwell")]
    pub min_dwell_secs: i64,
}

fn default_min_dwell() -> i64 {
    crate::plan::DEFAULT_MIN_DWELL_SECS
}

fn default_spike_percent() -> f64 {
    crate::plan::DEFAULT_SPIKE_PERCENT
}

impl Default for Guards {
    fn default() -> Self {
        Guards {
            stale_after_secs: crate::plan::DEFAULT_STALE_AFTER_SECS as i64,
            max_step: crate::plan::DEFAULT_MAX_STEP,
            spike_percent: default_spike_percent(),
            min_dwell_secs: default_min_dwell(),
        }
    }
}

/// A change waiting for the operator's `y`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub title: String,
    pub lines: Vec<String>,
    pub kind: ProposalKind,
    /// Confirmations needed and given. A second one (a step above
    /// `max_step`, or before `min_dwell`) takes a different key than the
    /// first, so a repeated key never gives it.
    pub needed: u8,
    pub given: u8,
    pub made_at: Timestamp,
    /// Set when another writer of the object would undo the change (the
    /// AWS Load Balancer Controller, a GitOps controller): the first
    /// confirmation is then a typed word and Enter, never `y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typed_override: Option<TypedOverride>,
    /// Confirmed with the typed word of an alternative: write directly.
    #[serde(default)]
    pub direct: bool,
}

/// The confirmation of a proposal that an owner of the object would undo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypedOverride {
    /// Who would undo it, in one line: what the mark and the report name.
    pub owner: String,
    /// The word to type.
    pub word: String,
    /// What was typed so far.
    pub typed: String,
    /// `y` confirms the right way (through the owner); the typed word the
    /// direct write the owner would undo.
    #[serde(default)]
    pub alternative: bool,
    /// Why the handoff this confirms would not be kept on disk (the state
    /// file cannot be written): said beside the owner, or alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unkept: Option<String>,
}

impl TypedOverride {
    pub fn new(owner: String) -> TypedOverride {
        TypedOverride {
            owner,
            word: crate::domain::OVERRIDE_WORD.into(),
            typed: String::new(),
            alternative: false,
            unkept: None,
        }
    }

    /// The override of a handoff that nothing would keep on disk.
    pub fn unkept(why: String) -> TypedOverride {
        TypedOverride { unkept: Some(why), ..TypedOverride::new(String::new()) }
    }

    /// Why the typed word is asked for, in a few words: "Argo CD ... would
    /// undo it", "the handoff state file cannot be written", or both.
    pub fn reason(&self) -> String {
        let owner = (!self.owner.is_empty()).then(|| format!("{} would undo it", self.owner));
        [owner, self.unkept.clone()].into_iter().flatten().collect::<Vec<_>>().join("; ")
    }

    /// What is overridden, as the report's Overrides section names it.
    pub fn overridden(&self) -> String {
        [Some(self.owner.clone()).filter(|o| !o.is_empty()), self.unkept.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProposalKind {
    /// (route index, weights seen, weights wanted) per route: a step.
    Weights(Vec<(usize, Weights, Weights)>),
    /// `r`: back to the weights before the last change.
    Undo(Vec<(usize, Weights, Weights)>),
    /// `R`: every route to old, whatever was seen.
    RevertAll(Vec<(usize, Weights, Weights)>),
    Handoff {
        singleton: usize,
        from: Side,
        to: Side,
        /// For a CronJob: the `startingDeadlineSeconds` the start writes, so
        /// that no run missed while it was suspended starts.
        #[serde(default)]
        starting_deadline: Option<i64>,
    },
    /// Bring a singleton back to one side: start it where it belongs
    /// (`start`), or stop the side it must not run on.
    Fix { singleton: usize, side: Side, start: bool },
    /// Abort the handoff in progress: restore its source side.
    Abort,
    /// Take the plan's wheel from `from` (None: nobody held it).
    TakeWheel { from: Option<String> },
}

impl ProposalKind {
    pub fn weights(changes: Vec<(usize, Weights, Weights)>, purpose: Purpose) -> ProposalKind {
        match purpose {
            Purpose::Undo => ProposalKind::Undo(changes),
            Purpose::Revert => ProposalKind::RevertAll(changes),
            _ => ProposalKind::Weights(changes),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PercentInput {
    pub route: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Modal {
    Proposal(Proposal),
    Percent(PercentInput),
    /// Quitting would leave something in flight: what, in plain words.
    Quit(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HandoffPhase {
    /// The stop of the source side is being written.
    Stopping,
    /// Stopped; waiting until it runs nothing.
    WaitingGone,
    /// The start of the target side is being written.
    Starting,
    WaitingReady,
    Done,
    /// The source side is being started again.
    Aborting,
    Aborted,
    /// Ended with the source side untouched or in an unknown state
    /// (recordings of earlier versions).
    Failed(String),
    /// Not begun: a check before the stop failed, nothing was changed.
    Refused(String),
    /// The source side was stopped but the target side could not be
    /// started (or the source restored): the singleton runs nowhere.
    StartFailed(String),
}

impl HandoffPhase {
    /// Whether the handoff is over and a new one may begin. A failed start
    /// is not over: the singleton runs nowhere until it is fixed.
    pub fn finished(&self) -> bool {
        matches!(self, HandoffPhase::Done | HandoffPhase::Aborted | HandoffPhase::Failed(_) | HandoffPhase::Refused(_))
    }

    /// Whether the singleton may rightly run on neither side now: the gap
    /// between the stop and the start.
    pub fn in_gap(&self) -> bool {
        matches!(
            self,
            HandoffPhase::Stopping
                | HandoffPhase::WaitingGone
                | HandoffPhase::Starting
                | HandoffPhase::WaitingReady
                | HandoffPhase::Aborting
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub spec: SingletonSpec,
    pub from: Side,
    pub to: Side,
    pub phase: HandoffPhase,
    pub started: Timestamp,
    /// When the source side was seen running nothing: the gap starts.
    pub gone_at: Option<Timestamp>,
    /// When the target side was seen ready: the gap ends.
    pub ready_at: Option<Timestamp>,
    /// Who confirmed it.
    #[serde(default)]
    pub who: String,
    /// The `startingDeadlineSeconds` a CronJob's start writes.
    #[serde(default)]
    pub starting_deadline: Option<i64>,
    /// Picked up with its source still to be seen gone: the console that
    /// left it last saw the source at this time, so the source went (and
    /// the gap began) between it and `gone_at`, unseen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_after: Option<Timestamp>,
}

impl Handoff {
    /// The phase in the operator's words: what a quit or a restart leaves.
    pub fn state_text(&self) -> String {
        let (from, to) = (self.from, self.to);
        let name = &self.spec.name;
        match &self.phase {
            HandoffPhase::Stopping => format!("{name}: the stop of {from} is being written; {to} is not started"),
            HandoffPhase::WaitingGone => format!("{name}: {from} is stopped and not yet gone; {to} is not started"),
            HandoffPhase::Starting => format!("{name}: {from} runs nothing; the start of {to} is being written"),
            HandoffPhase::WaitingReady => format!("{name}: {to} is started and not yet ready"),
            HandoffPhase::Done => format!("{name}: handed over to {to}"),
            HandoffPhase::Aborting => format!("{name}: {from} is being restored; {to} is not started"),
            HandoffPhase::Aborted => format!("{name}: aborted, {from} restored"),
            HandoffPhase::Failed(why) => format!("{name}: failed: {why}"),
            HandoffPhase::Refused(why) => format!("{name}: not begun: {why}"),
            HandoffPhase::StartFailed(why) => format!("{name}: RUNS ON NEITHER SIDE: {why}"),
        }
    }
}

/// A singleton that runs where it must not: on neither side, or on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmKind {
    Neither,
    Both,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub kind: AlarmKind,
    pub since: Timestamp,
}

/// Why an effect was sent, for matching its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// A weight change the operator proposed (a step, an exact percentage).
    Step,
    /// `r`: back to the weights before the last change of this session.
    Undo,
    /// `R`: everything to old.
    Revert,
    /// A step of the handoff in progress.
    Handoff,
    /// A fix of a singleton alarm outside any handoff.
    Fix,
    /// Taking the plan's wheel.
    Wheel,
    /// The session's way back written again, by itself, after a late write
    /// of the session's own undid it (see `app::late`).
    Reassert,
}

impl Purpose {
    /// The write, as a line names it: "the step", "the revert".
    pub fn noun(self) -> &'static str {
        match self {
            Purpose::Step => "step",
            Purpose::Undo => "undo",
            Purpose::Revert => "revert",
            Purpose::Reassert => "revert written again",
            Purpose::Handoff | Purpose::Fix | Purpose::Wheel => "write",
        }
    }
}

/// An effect sent and not yet answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    pub effect: super::Effect,
    pub purpose: Purpose,
    pub since: Timestamp,
    /// The weights a weight change went from, as read.
    #[serde(default)]
    pub from: Option<Weights>,
    /// What it is waiting for, as the executor last said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// Requests of it that went unanswered while it went on (a revert
    /// written again): each may still land.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unanswered: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One side's cluster, trimmed, with an index from workload to pods so
/// that per-workload figures cost the pods of that workload only.
#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    pub workloads: BTreeMap<WorkloadKey, Workload>,
    pub pods: BTreeMap<PodKey, Pod>,
    pub pods_by_owner: HashMap<WorkloadKey, BTreeSet<PodKey>>,
    /// Per-workload pod figures, kept up to date as pods come and go so a
    /// frame costs the workloads, not the pods (rebuilt with the index).
    pub tallies: HashMap<WorkloadKey, PodTally>,
    pub nodes: BTreeMap<String, Node>,
    /// By the workload they scale.
    pub autoscalers: BTreeMap<WorkloadKey, Autoscaler>,
    /// Every watch has listed once (see `ClusterDelta::Synced`).
    pub synced: bool,
}

/// The pods of one workload on one side, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PodTally {
    pub pods: u32,
    pub restarts: u32,
    /// Failing but not finished: crash loops, image pulls, bad config.
    pub crashing: u32,
    /// Pending without a failure: on their way up.
    pub pending: u32,
}

impl PodTally {
    fn add(&mut self, pod: &Pod, sign: i64) {
        let step = |n: &mut u32, by: u32| *n = (i64::from(*n) + sign * i64::from(by)).max(0) as u32;
        step(&mut self.pods, 1);
        step(&mut self.restarts, pod.restarts);
        step(&mut self.crashing, u32::from(pod.health() == Health::Failing && pod.phase != PodPhase::Failed));
        step(&mut self.pending, u32::from(pod.phase == PodPhase::Pending && pod.failure().is_none()));
    }
}

impl ClusterState {
    pub fn upsert_pod(&mut self, pod: Pod) {
        if let Some(old) = self.pods.get(&pod.key) {
            let old = old.clone();
            self.untally(&old);
            if old.owner != pod.owner {
                self.unindex(&old.key, old.owner.clone());
            }
        }
        if let Some(owner) = &pod.owner {
            self.pods_by_owner.entry(owner.clone()).or_default().insert(pod.key.clone());
            self.tallies.entry(owner.clone()).or_default().add(&pod, 1);
        }
        self.pods.insert(pod.key.clone(), pod);
    }

    pub fn remove_pod(&mut self, key: &PodKey) -> Option<Pod> {
        let pod = self.pods.remove(key)?;
        self.untally(&pod);
        self.unindex(key, pod.owner.clone());
        Some(pod)
    }

    fn untally(&mut self, pod: &Pod) {
        if let Some(owner) = &pod.owner
            && let Some(tally) = self.tallies.get_mut(owner)
        {
            tally.add(pod, -1);
            if tally.pods == 0 {
                self.tallies.remove(owner);
            }
        }
    }

    /// The pods of a workload, counted; all zero when it has none.
    pub fn tally(&self, owner: &WorkloadKey) -> PodTally {
        self.tallies.get(owner).copied().unwrap_or_default()
    }

    fn unindex(&mut self, key: &PodKey, owner: Option<WorkloadKey>) {
        if let Some(owner) = owner
            && let Some(set) = self.pods_by_owner.get_mut(&owner)
        {
            set.remove(key);
            if set.is_empty() {
                self.pods_by_owner.remove(&owner);
            }
        }
    }

    pub fn pods_of<'a>(&'a self, owner: &WorkloadKey) -> impl Iterator<Item = &'a Pod> + 'a {
        self.pods_by_owner.get(owner).into_iter().flatten().filter_map(|k| self.pods.get(k))
    }
}

/// The backend's answer for a route, as of `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteReadState {
    pub at: Timestamp,
    /// The weights of the plan's two objects, or None if one of them is
    /// missing from the forward action (shown as an alarm).
    pub weights: Option<Weights>,
    /// Weighted objects beside the plan's two.
    pub others: Vec<(String, Weight)>,
    pub targets: PerSide<Vec<Target>>,
    pub detail: crate::domain::ReadDetail,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SideMetrics {
    pub requests: MetricSeries,
    pub target_5xx: MetricSeries,
    pub latency_ms: MetricSeries,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteState {
    pub spec: RouteSpec,
    pub read: Option<RouteReadState>,
    pub metrics: PerSide<SideMetrics>,
    /// The last weights known good: the first read of the session, then
    /// each write that read back as written.
    pub verified: Option<Weights>,
    /// A write is in flight; no second one until it is answered.
    pub pending: bool,
    /// What `r` goes back to, newest last: the weights before each verified
    /// change of this session, down to the session's first read.
    #[serde(default)]
    pub undo: Vec<Weights>,
    /// Since when the route has been at its current weights, and whether
    /// that is the session's start (it may have been there longer).
    #[serde(default)]
    pub weights_since: Option<(Timestamp, bool)>,
    /// When the weights changed this session and to what, oldest first,
    /// for the route's chart; the last `WEIGHT_CHANGES` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_changes: Vec<(Timestamp, Weights)>,
    /// The session's first read of the weights: where the set share of
    /// the route's chart begins.
    #[serde(default)]
    pub first_read: Option<(Timestamp, Weights)>,
    /// This session's last verified write of the route: what a change
    /// nobody here made is told apart from, and what a revert undoes.
    #[serde(default)]
    pub last_write: Option<OwnWrite<Weights>>,
    /// Weights written to the route's Ingress, waited for on the ALB.
    #[serde(default)]
    pub awaiting: Option<Awaiting>,
    /// Who else writes the rule and its target groups, from their tags;
    /// None until they are read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<RouteOwners>,
    /// Why the tags could not be read at the last try.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners_error: Option<String>,
    /// This session's weight writes of the route that may still land
    /// (answer not awaited or lost), oldest first; at most
    /// `UNSETTLED_CAPACITY`, each for `LATE_WRITE_SECS`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsettled: Vec<Unsettled>,
    /// This session's newest write of the route that read back as written,
    /// with why: what stands when an earlier one lands late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing: Option<Standing>,
    /// Since when, and why, this route alone cannot be read while its
    /// source reads the others (its rule deleted): its read is as old as
    /// it says, and its steps wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<(Timestamp, String)>,
    /// The route's last weight change before this session, as earlier
    /// recordings of the plan (or the simulated world) tell it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<crate::domain::PriorChange>,
}

/// How long a route has been at its weights, as far as the console can
/// tell.
#[derive(Debug, Clone, PartialEq)]
pub enum AtWeight {
    /// Changed in this session, at this time.
    Changed(Timestamp),
    /// Changed before this session, as an earlier one saw: when, and where
    /// that was seen.
    Before(Timestamp, String),
    /// No change on record: at these weights since at least this
    /// session's first read, for how much longer nobody here knows.
    Unknown(Timestamp),
}

/// A weight write of this session whose request may still be applied: its
/// answer was not awaited (a revert went ahead of it) or lost, and no read
/// shows it. A read that shows what it would write names it as this
/// session's late write, not as somebody else's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unsettled {
    pub effect: u64,
    pub to: Weights,
    #[serde(default)]
    pub all_old: bool,
    pub purpose: Purpose,
    /// When it was sent.
    pub sent: Timestamp,
    pub who: String,
    /// Why it is not known to have landed, in a few words.
    pub why: String,
    /// Requests of it that may still land: one, or a revert's each try.
    pub requests: u32,
}

/// The session's newest verified write of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    pub effect: u64,
    pub to: Weights,
    #[serde(default)]
    pub all_old: bool,
    pub purpose: Purpose,
    pub who: String,
    /// When its answer came.
    pub at: Timestamp,
}

/// How long a write of this session whose answer was lost may land and be
/// named as this session's: far longer than any request stays in AWS, and
/// short enough that a later write of the same weights by someone else is
/// not taken for it.
pub const LATE_WRITE_SECS: i64 = 5 * 60;
/// Writes that may still land kept per route: more than a session sends
/// in that time.
pub const UNSETTLED_CAPACITY: usize = 8;

/// Weight changes kept per route: far more than a cutover's steps.
pub const WEIGHT_CHANGES: usize = 64;

impl RouteState {
    pub fn kind(&self) -> RouteKind {
        self.spec.kind()
    }

    /// The weights as last read.
    pub fn weights(&self) -> Option<Weights> {
        self.read.as_ref().and_then(|r| r.weights)
    }

    /// The share of traffic the weights as read send to new, in percent.
    pub fn set_share(&self) -> Option<f64> {
        self.weights().and_then(|w| self.kind().share_new(w))
    }

    /// The load balancer whose own metrics (its 5xx) count for `side`:
    /// the one ALB of an ALB route, each side's own for a DNS route (known
    /// once its record is read).
    pub fn load_balancer(&self, side: Side) -> Option<&str> {
        match self.spec.backend.load_balancer() {
            Some(lb) => Some(lb),
            None => self.record(side).and_then(|r| r.load_balancer.as_deref()),
        }
    }

    /// A DNS route's TTL as last read: the longer of its records' (an
    /// alias answers with the load balancer's, 60 s).
    pub fn ttl(&self) -> Option<i64> {
        Side::BOTH
            .iter()
            .filter_map(|side| self.record(*side).map(|r| r.ttl.unwrap_or(crate::domain::ALIAS_TTL_SECS)))
            .max()
    }

    /// The share of requests that reached new in `minute`, in percent:
    /// None without a datapoint on either side, or without requests.
    pub fn observed_share(&self, minute: crate::domain::Minute) -> Option<f64> {
        let (o, n) = (self.metrics.old.requests.get(minute), self.metrics.new.requests.get(minute));
        if o.is_none() && n.is_none() {
            return None;
        }
        let (o, n) = (o.unwrap_or(0.0), n.unwrap_or(0.0));
        (o + n > 0.0).then(|| n * 100.0 / (o + n))
    }

    /// One side's record as last read, for a DNS route.
    pub fn record(&self, side: Side) -> Option<&RecordRead> {
        match self.read.as_ref().map(|r| &r.detail) {
            Some(crate::domain::ReadDetail::Route53 { records }) => Some(records.get(side)),
            _ => None,
        }
    }

    /// Since when the route has been at its current weights; None before
    /// its first read.
    pub fn at_weight(&self) -> Option<AtWeight> {
        let (since, session_start) = self.weights_since?;
        if !session_start {
            return Some(AtWeight::Changed(since));
        }
        // An earlier change counts only if it set what is read now (and
        // came before this session's first read).
        Some(match &self.prior {
            Some(p) if Some(p.to) == self.weights() && p.at <= since => AtWeight::Before(p.at, p.source.clone()),
            _ => AtWeight::Unknown(since),
        })
    }

    /// The weights in effect at `at`, as far as this session saw them.
    pub fn weights_at(&self, at: Timestamp) -> Option<Weights> {
        let (first_at, first) = self.first_read?;
        if at < first_at {
            return None;
        }
        Some(self.weight_changes.iter().rev().find(|(t, _)| *t <= at).map_or(first, |(_, w)| *w))
    }

    /// The weights are `to` from `at` on: a change seen, whoever made it.
    pub fn note_change(&mut self, at: Timestamp, to: Option<Weights>) {
        self.weights_since = Some((at, false));
        // The executor's answer and the next read report the same change:
        // it is marked once, when first seen.
        if let Some(to) = to
            && self.weight_changes.last().map(|(_, w)| *w) != Some(to)
        {
            self.weight_changes.push((at, to));
            if self.weight_changes.len() > WEIGHT_CHANGES {
                // The oldest change kept is where the set share is known from.
                self.first_read = Some(self.weight_changes.remove(0));
            }
        }
    }

    /// A write of this session read back as written: what the route is
    /// known good at, and what a change by somebody else would undo.
    pub fn note_verified(&mut self, at: Timestamp, who: String, to: Weights) {
        self.verified = Some(to);
        self.last_write = Some(OwnWrite { at, who, to });
    }

    /// A change of this session in effect: `r` goes back over it (an undo
    /// takes its own step off the stack instead).
    pub fn note_undo(&mut self, from: Option<Weights>, to: Weights, purpose: Purpose) {
        if purpose == Purpose::Undo {
            self.undo.pop();
        } else if let Some(from) = from.filter(|f| *f != to) {
            self.undo.push(from);
        }
    }
}

/// Weights written where the AWS Load Balancer Controller takes them from,
/// not yet seen on the ALB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Awaiting {
    pub to: Weights,
    /// The weights read before, where known.
    pub from: Option<Weights>,
    /// When the Ingress was written.
    pub since: Timestamp,
    pub purpose: Purpose,
    pub who: String,
    /// The write's id, and whether it was the panic button's.
    #[serde(default)]
    pub effect: u64,
    #[serde(default)]
    pub all_old: bool,
}

/// How long the console waits for the AWS Load Balancer Controller to
/// write the weights of an Ingress to the rule before it says it has not.
pub const CONTROLLER_DEADLINE_SECS: i64 = 120;

/// A write of this session that read back as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnWrite<T> {
    /// When its answer came.
    pub at: Timestamp,
    pub who: String,
    pub to: T,
}

/// How long after one of this session's writes a change that undoes it is
/// called a revert (and one that matches it is still taken as its echo).
pub const REVERT_WINDOW_SECS: i64 = 30 * 60;
/// How long after a write's answer a read that still shows the weights
/// before it counts as a read begun before the write, not as a change.
pub const LATE_READ_SECS: i64 = 3;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LbMetrics {
    pub elb_502: MetricSeries,
    pub elb_503: MetricSeries,
    pub elb_504: MetricSeries,
    pub elb_5xx: MetricSeries,
}

impl LbMetrics {
    pub fn series_mut(&mut self, metric: LbMetric) -> &mut MetricSeries {
        match metric {
            LbMetric::Elb502 => &mut self.elb_502,
            LbMetric::Elb503 => &mut self.elb_503,
            LbMetric::Elb504 => &mut self.elb_504,
            LbMetric::Elb5xx => &mut self.elb_5xx,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    Info,
    Warn,
    Alert,
}

/// A line of the events panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEntry {
    pub at: Timestamp,
    pub side: Option<Side>,
    pub level: Level,
    pub text: String,
    /// The write this line tells of: its outcome is added to the line
    /// when it is verified, rather than said again on lines of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<u64>,
}

/// Who is at the keys until a source says (the AWS caller identity
/// arrives a moment after a live start).
pub const UNKNOWN_OPERATOR: &str = "unknown operator";

/// How many events the panel keeps; older ones remain in the recording.
pub const EVENT_CAPACITY: usize = 1000;
/// How many node signals are kept for the chart markers.
pub const SIGNAL_CAPACITY: usize = 500;
/// How many counts of pods lost are kept (per minute, side, route
/// workload, node and cause: a drain makes a few): the report of a long
/// session reads them from the final state.
pub const PODS_LOST_CAPACITY: usize = 2000;
/// Nodes with a remembered cause, per side, before the stale are dropped.
pub const CAUSE_CAPACITY: usize = 1000;
/// How long a remembered cause names what a node's pods are lost to: from
/// an Event, or after the node is gone (its pods deleted after it).
pub const CAUSE_TTL_SECS: i64 = 15 * 60;

/// What the pods of a node are lost to, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NodeCause {
    pub kind: NodeSignalKind,
    pub at: Timestamp,
}

impl NodeCause {
    pub fn live(&self, now: Timestamp) -> bool {
        now.as_second() - self.at.as_second() <= CAUSE_TTL_SECS
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Panel {
    Traffic,
    Workloads,
    Events,
}

impl Panel {
    pub const ORDER: [Panel; 3] = [Panel::Traffic, Panel::Workloads, Panel::Events];

    pub fn index(self) -> usize {
        match self {
            Panel::Traffic => 0,
            Panel::Workloads => 1,
            Panel::Events => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    Main,
    Route(usize),
    Workload(WorkloadKey),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiState {
    pub focus: Panel,
    /// Selected row per panel, by `Panel::index`.
    pub selected: [usize; 3],
    pub view: View,
    /// Scroll offset inside a drill-down.
    pub detail_scroll: usize,
    pub help: bool,
    /// Filters, problems only, sort.
    #[serde(default)]
    pub find: super::Find,
    /// First line of the help shown; the help clamps it when drawing.
    #[serde(default)]
    pub help_scroll: usize,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            focus: Panel::Workloads,
            selected: [0; 3],
            view: View::Main,
            detail_scroll: 0,
            help: false,
            find: super::Find::default(),
            help_scroll: 0,
        }
    }
}

/// What `update` builds from a session's messages: everything but the
/// operator's view of it (see [`super::App`]). A keyframe of a recording
/// is this, serialised, beside that view: a field added here is saved
/// unless it is marked `skip`.
#[derive(Serialize, Deserialize)]
pub struct State {
    pub config: AppConfig,
    /// The latest time from a `Tick`: the console's notion of now.
    pub now: Timestamp,
    pub clusters: PerSide<ClusterState>,
    pub routes: Vec<RouteState>,
    pub load_balancers: BTreeMap<String, LbMetrics>,
    /// Newest first.
    pub events: VecDeque<EventEntry>,
    /// Newest last; for the time-axis markers of the drill-down charts.
    pub node_signals: VecDeque<NodeSignal>,
    /// Per side, by node: what pods leaving the node are put down to.
    #[serde(default)]
    pub node_causes: PerSide<BTreeMap<String, NodeCause>>,
    /// Pods of the routes' workloads lost to node disruptions; newest last.
    #[serde(default)]
    pub pods_lost: VecDeque<PodsLost>,
    /// As pairs: a source's id is not a string, so not a JSON object key.
    #[serde(with = "pairs")]
    pub sources: BTreeMap<SourceId, SourceState>,
    #[serde(skip)]
    pub quit: bool,
    pub modal: Option<Modal>,
    /// The last refusal or failure, shown until the next key.
    pub notice: Option<String>,
    pub handoff: Option<Handoff>,
    /// Who is at the keys, for every action in the events and the recording.
    pub operator: String,
    /// Set by a replay: the screen says so, and acting is not offered.
    #[serde(skip)]
    pub replay: bool,
    /// A replay of a shared session followed live from the broker.
    #[serde(skip)]
    pub followed: bool,
    /// How publishing a shared session goes (`--share`), for the header;
    /// not part of the session (see `Msg::Share`).
    #[serde(skip)]
    pub share: Option<crate::domain::ShareStatus>,
    /// The id the next effect gets.
    #[serde(default)]
    pub next_effect: u64,
    /// Effects sent and not yet answered, by id.
    #[serde(default)]
    pub in_flight: BTreeMap<u64, InFlight>,
    /// Singletons that run where they must not, by name.
    #[serde(default)]
    pub alarms: BTreeMap<String, Alarm>,
    /// This session's last verified write of each singleton side: whether
    /// it left it running.
    #[serde(default)]
    pub singleton_writes: Vec<(Side, WorkloadKey, OwnWrite<bool>)>,
    /// A signal being honoured while the handoff in flight comes to rest.
    #[serde(default)]
    pub stopping: Option<super::Stopping>,
    /// What the session cannot keep (its recording, the handoff state
    /// file), and a handoff another console left on disk.
    #[serde(default)]
    pub keeping: super::KeepingState,
    /// How much of the recording is held in memory while it cannot be
    /// written; this process's, never recorded (see `Msg::Held`).
    #[serde(skip)]
    pub held: Option<super::Held>,
    /// Who holds the plan's wheel, as last read: None where there is no
    /// Lease (the demo, recordings of earlier versions), and then this
    /// console drives as it always did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wheel: Option<super::WheelState>,
    /// What the message being applied produced; `update` hands it back.
    #[serde(skip)]
    pub(crate) produced: Produced,
}

/// Effects and marks made while one message is applied.
#[derive(Default)]
pub(crate) struct Produced {
    pub effects: Vec<super::Queued>,
    pub marks: Vec<super::Mark>,
}

mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(map: &BTreeMap<K, V>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<K, V>, D::Error> {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

impl State {
    pub fn new(config: AppConfig, now: Timestamp) -> State {
        let routes = config
            .routes
            .iter()
            .map(|spec| RouteState {
                spec: spec.clone(),
                read: None,
                metrics: PerSide::default(),
                verified: None,
                pending: false,
                undo: Vec::new(),
                weights_since: None,
                weight_changes: Vec::new(),
                first_read: None,
                last_write: None,
                awaiting: None,
                owners: None,
                owners_error: None,
                unsettled: Vec::new(),
                standing: None,
                problem: None,
                prior: None,
            })
            .collect();
        // A DNS route's load balancers are known from its first read; their
        // series are added as their datapoints come.
        let load_balancers = config
            .routes
            .iter()
            .filter_map(|r| r.backend.load_balancer())
            .map(|lb| (lb.to_string(), LbMetrics::default()))
            .collect();
        State {
            config,
            now,
            clusters: PerSide::default(),
            routes,
            load_balancers,
            events: VecDeque::new(),
            node_signals: VecDeque::new(),
            node_causes: PerSide::default(),
            pods_lost: VecDeque::new(),
            sources: BTreeMap::new(),
            quit: false,
            modal: None,
            notice: None,
            handoff: None,
            operator: UNKNOWN_OPERATOR.into(),
            replay: false,
            followed: false,
            share: None,
            next_effect: 1,
            in_flight: BTreeMap::new(),
            alarms: BTreeMap::new(),
            singleton_writes: Vec::new(),
            stopping: None,
            keeping: super::KeepingState::default(),
            held: None,
            wheel: None,
            produced: Produced::default(),
        }
    }

    pub fn mark(&mut self, at: Timestamp, what: super::Marked) {
        self.produced.marks.push(super::Mark { at, what });
    }

    /// Sends an effect to the executor, remembering why, and returns its id.
    pub fn send(&mut self, effect: super::Effect, purpose: Purpose, from: Option<Weights>) -> u64 {
        let id = self.next_effect;
        self.next_effect += 1;
        let since = self.now;
        self.in_flight
            .insert(id, InFlight { effect: effect.clone(), purpose, since, from, progress: None, unanswered: 0 });
        // A replay keeps what was sent, to show it, and sends nothing: it
        // has no executor, and the session's answers are in the stream.
        if !self.replay {
            self.produced.effects.push(super::Queued { id, effect });
        }
        id
    }

    /// Adds an event in time order, newest first. Sources deliver mostly in
    /// order, but a re-list brings old Kubernetes events in any order.
    pub fn push_event(&mut self, at: Timestamp, side: Option<Side>, level: Level, text: String) {
        self.insert_event(EventEntry { at, side, level, text, effect: None });
    }

    /// An action's line, which its write's verification completes.
    pub fn push_action_event(&mut self, at: Timestamp, level: Level, text: String, effect: u64) {
        self.insert_event(EventEntry { at, side: None, level, text, effect: Some(effect) });
    }

    fn insert_event(&mut self, entry: EventEntry) {
        let position = self.events.iter().position(|e| e.at <= entry.at).unwrap_or(self.events.len());
        self.events.insert(position, entry);
        self.events.truncate(EVENT_CAPACITY);
    }

    /// Adds a verified outcome to the line of the action that wrote it;
    /// false if that line is gone (or there never was one).
    pub fn complete_action_event(&mut self, effect: u64, outcome: &str) -> bool {
        let Some(line) = self.events.iter_mut().find(|e| e.effect == Some(effect)) else { return false };
        line.text.push_str(" · ");
        line.text.push_str(outcome);
        line.level = Level::Info;
        true
    }

    /// Whether this screen may offer actions: not in `watch`, not in a replay.
    pub fn can_act(&self) -> bool {
        self.config.mode.can_act() && !self.replay
    }

    pub fn singleton_for(&self, key: &WorkloadKey) -> Option<&SingletonSpec> {
        self.config.singletons.iter().find(|s| &s.old == key || &s.new == key)
    }

    /// What a write of `route` in flight is waiting for, as its executor
    /// last said.
    pub fn write_progress(&self, route: RouteId) -> Option<&str> {
        self.in_flight.values().filter(|f| f.effect.route() == Some(route)).find_map(|f| f.progress.as_deref())
    }

    /// Whether a write of `route` is sent and not yet answered.
    pub fn writing(&self, route: RouteId) -> bool {
        self.in_flight.values().any(|f| f.effect.route() == Some(route))
    }

    /// How old a source's last good read is.
    pub fn sources_age(&self, id: SourceId) -> Option<String> {
        match self.sources.get(&id)? {
            SourceState::Live { last_ok } | SourceState::Stale { last_ok: Some(last_ok), .. } => {
                Some(crate::domain::age(*last_ok, self.now))
            }
            _ => None,
        }
    }

    /// Whether data from this source should be read as current.
    pub fn is_stale(&self, id: SourceId) -> bool {
        matches!(self.sources.get(&id), Some(SourceState::Stale { .. }))
    }
}

/// A cluster is written as lists of its objects (each carries its own key)
/// and read back through the same inserts `update` uses, so the owner index
/// is rebuilt rather than stored.
impl Serialize for ClusterState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Lists<'a> {
            workloads: Vec<&'a Workload>,
            pods: Vec<&'a Pod>,
            nodes: Vec<&'a Node>,
            autoscalers: Vec<&'a Autoscaler>,
            synced: bool,
        }
        Lists {
            workloads: self.workloads.values().collect(),
            pods: self.pods.values().collect(),
            nodes: self.nodes.values().collect(),
            autoscalers: self.autoscalers.values().collect(),
            synced: self.synced,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ClusterState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Lists {
            workloads: Vec<Workload>,
            pods: Vec<Pod>,
            nodes: Vec<Node>,
            autoscalers: Vec<Autoscaler>,
            #[serde(default)]
            synced: bool,
        }
        let lists = Lists::deserialize(d)?;
        let mut cluster = ClusterState { synced: lists.synced, ..ClusterState::default() };
        for w in lists.workloads {
            cluster.workloads.insert(w.key.clone(), w);
        }
        for pod in lists.pods {
            cluster.upsert_pod(pod);
        }
        for node in lists.nodes {
            cluster.nodes.insert(node.name.clone(), node);
        }
        for a in lists.autoscalers {
            cluster.autoscalers.insert(a.target.clone(), a);
        }
        Ok(cluster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, owner: &str, phase: PodPhase, restarts: u32, reason: Option<&str>) -> Pod {
        Pod {
            key: PodKey { namespace: "app".into(), name: name.into() },
            owner: Some(WorkloadKey::new("app", owner)),
            phase,
            ready: phase == PodPhase::Running && reason.is_none(),
            restarts,
            reason: reason.map(Into::into),
            node: None,
            created: Timestamp::UNIX_EPOCH,
            last_exit: None,
        }
    }

    /// The tallies, counted again from every pod.
    fn recount(c: &ClusterState) -> HashMap<WorkloadKey, PodTally> {
        let mut out: HashMap<WorkloadKey, PodTally> = HashMap::new();
        for p in c.pods.values() {
            out.entry(p.owner.clone().unwrap()).or_default().add(p, 1);
        }
        out
    }

    /// Kept as pods come, change, move to another owner and go, and
    /// rebuilt when a recording is read back.
    #[test]
    fn pod_tallies_follow_every_change() {
        let mut c = ClusterState::default();
        c.upsert_pod(pod("api-1", "api", PodPhase::Running, 0, None));
        c.upsert_pod(pod("api-2", "api", PodPhase::Pending, 0, Some("ContainerCreating")));
        c.upsert_pod(pod("gpu-1", "gpu", PodPhase::Running, 4, Some("CrashLoopBackOff")));
        assert_eq!(
            c.tally(&WorkloadKey::new("app", "api")),
            PodTally { pods: 2, restarts: 0, crashing: 0, pending: 1 }
        );
        assert_eq!(
            c.tally(&WorkloadKey::new("app", "gpu")),
            PodTally { pods: 1, restarts: 4, crashing: 1, pending: 0 }
        );
        // The same pod again, changed: counted once, as it is now.
        c.upsert_pod(pod("gpu-1", "gpu", PodPhase::Running, 5, None));
        c.upsert_pod(pod("api-2", "api", PodPhase::Running, 0, None));
        // A pod whose owner changes (a name reused) moves between tallies.
        c.upsert_pod(pod("api-1", "gpu", PodPhase::Running, 1, None));
        assert_eq!(c.tallies, recount(&c));
        assert_eq!(
            c.tally(&WorkloadKey::new("app", "gpu")),
            PodTally { pods: 2, restarts: 6, crashing: 0, pending: 0 }
        );
        let json = serde_json::to_string(&c).unwrap();
        let back: ClusterState = serde_json::from_str(&json).unwrap();
        assert_eq!(back.tallies, c.tallies);
        c.remove_pod(&PodKey { namespace: "app".into(), name: "api-2".into() });
        assert_eq!(c.tally(&WorkloadKey::new("app", "api")), PodTally::default());
        assert!(!c.tallies.contains_key(&WorkloadKey::new("app", "api")), "an empty tally is dropped");
        assert_eq!(c.tallies, recount(&c));
    }
}
