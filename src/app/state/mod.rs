//! The state `update` builds from a session's messages, by concern: how
//! the console was started (config), the routes, the clusters, the
//! handoff, what waits for the operator (proposal), and the operator's
//! view of it all (view). [`State`] holds them, with the events and the
//! effects and marks one message produced.

mod analysis;
mod clusters;
mod config;
mod handoff;
mod proposal;
mod routes;
mod view;

pub use analysis::*;
pub use clusters::*;
pub use config::*;
pub use handoff::*;
pub use proposal::*;
pub use routes::*;
pub use view::*;

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{NodeSignal, PerSide, PodsLost, RouteId, Side, SingletonSpec, Weights, WorkloadKey};

use super::{SourceId, SourceState};

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
/// How many nodes gone are remembered by their instance.
pub const DEPARTED_CAPACITY: usize = 200;
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
    /// Nodes gone this session, newest last (the last
    /// `DEPARTED_CAPACITY`): what a late signal by instance still finds.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub departed: VecDeque<(Side, crate::domain::Node)>,
    /// The lifecycle reader's last facts, and the risks judged from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<crate::domain::lifecycle::LifecycleFacts>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<crate::domain::lifecycle::Risk>,
    /// What the lifecycle reader could not read, said once each.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub unread_said: std::collections::BTreeSet<String>,
    /// Rollouts of the routes' workloads (their images changed), newest
    /// last: a likely cause of a rise in the same minutes.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub rollouts: VecDeque<crate::app::causes::Rollout>,
    /// A node signal or a pod lost since the last update: the recent
    /// causes are explained again.
    #[serde(skip)]
    pub evidence: bool,
    /// Each 5xx rise's likely cause, as last said; newest last (the last
    /// `causes::CAUSES_KEPT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<crate::domain::lifecycle::LikelyCause>,
    /// As pairs: a source's id is not a string, so not a JSON object key.
    #[serde(with = "pairs")]
    pub sources: BTreeMap<SourceId, SourceState>,
    #[serde(skip)]
    pub quit: bool,
    pub modal: Option<Modal>,
    /// The ready step of a route whose next step was proposed by itself
    /// (`advance = "prompt"`): proposed once per step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompted: Option<(usize, Timestamp)>,
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
                analysis: None,
                judged: Vec::new(),
                passed: None,
                blind: None,
                autopilot: Autopilot::default(),
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
            departed: VecDeque::new(),
            lifecycle: None,
            risks: Vec::new(),
            unread_said: Default::default(),
            rollouts: VecDeque::new(),
            evidence: false,
            causes: Vec::new(),
            sources: BTreeMap::new(),
            quit: false,
            modal: None,
            prompted: None,
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
