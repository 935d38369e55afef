use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Autoscaler, Fault, KubeWarning, MetricsKind, Minute, Node, NodeEvent, Pod, PodKey, PriorChange, RouteId, RouteKind,
    RouteOwners, RouteProblem, RouteRead, Side, SignalSeen, SignalSource, Workload, WorkloadKey,
};
use crate::keymap::Key;

use super::{Effect, EffectResult, Ending, Handoff, Held, Keeping, Left, Signal};

/// Everything that can change the console's state arrives as one of these,
/// on one channel. A recording of this stream reproduces every screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Msg {
    /// Time passes. `update` has no other clock.
    Tick {
        at: Timestamp,
    },
    /// A key the operator pressed.
    Key(Key),
    /// The terminal changed size; nothing to store, but the screen is redrawn.
    Resize,
    /// A mouse event where the terminal put it. Resolved against the last
    /// frame into a [`Msg::Pointer`] before it is recorded.
    Mouse {
        kind: super::MouseKind,
        column: u16,
        row: u16,
    },
    /// A mouse event resolved: what was clicked or scrolled.
    Pointer(super::Pointer),
    Cluster {
        side: Side,
        delta: ClusterDelta,
    },
    /// Node signals from a source outside the clusters' own objects (EC2
    /// Auto Scaling activities, CloudTrail events), each naming its node by
    /// name or EC2 instance: put on the side that has the node.
    NodeSignals(Vec<SignalSeen>),
    /// The lifecycle reader's facts (target groups' deregistration delay,
    /// termination handlers, readiness gates, Auto Scaling groups), whole
    /// each time: the risks of the night are judged from them.
    Lifecycle(crate::domain::lifecycle::LifecycleFacts),
    /// One read of routes' weights and target health, from one backend.
    Traffic {
        at: Timestamp,
        routes: Vec<RouteRead>,
    },
    /// Datapoints from one metrics poll. A point may replace an earlier
    /// value of the same minute (CloudWatch revises the newest minutes).
    Metrics(Vec<MetricPoint>),
    Source {
        id: SourceId,
        state: SourceState,
    },
    /// An executor's answer to an effect, matched to it by `id`.
    EffectDone {
        #[serde(default)]
        id: u64,
        effect: Effect,
        result: EffectResult,
    },
    /// What an effect in progress is waiting for (throttled, propagating),
    /// until its answer. `unanswered`: it sent a request whose answer never
    /// came and which the rule does not show, and is sending again; that
    /// request may still land, and is this session's when it does.
    EffectProgress {
        id: u64,
        text: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        unanswered: bool,
    },
    /// A handoff that an earlier session of the same plan left unfinished,
    /// read from the state directory when the console starts.
    Resumed {
        handoff: Handoff,
        /// When that session last wrote it.
        saved_at: Timestamp,
    },
    /// Who is at the keys: the AWS caller identity and kube user, where known.
    Operator {
        who: String,
    },
    /// Who else writes each route's rule (or listener) and target groups,
    /// from their ELBv2 tags: read at the start, then every few ALB polls,
    /// sent when it changed. With `error` the tags could not be read, and
    /// what was known before stands.
    RouteOwners {
        at: Timestamp,
        routes: Vec<RouteOwners>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The routes of one source that could not be read while the others
    /// were (a deleted rule, a target group gone), each with why: the
    /// whole list, sent when it changes; empty when every route reads.
    RouteProblems {
        at: Timestamp,
        source: SourceId,
        problems: Vec<RouteProblem>,
    },
    /// The last weight change of each route that earlier sessions of the
    /// plan saw (their recordings, read once at the start, off the
    /// screen's thread), so that pacing survives a restart. A route not
    /// listed has no change on record: its time at its weight is unknown.
    PriorChanges {
        changes: Vec<PriorChange>,
        /// How many recordings of the plan were read.
        #[serde(default)]
        recordings: u32,
    },
    /// Who holds the plan's wheel (its Lease in the new cluster), as this
    /// console read it: sent when it changes, by the lease task of `run`
    /// (which takes and renews it) or the reader of `watch` (which only
    /// reads). `lease` is where it is, `namespace/name`.
    Wheel {
        at: Timestamp,
        lease: String,
        wheel: crate::domain::Wheel,
    },
    /// How the broker a shared session is published to is doing. Never
    /// recorded: it is this process's link, not the cutover, and a
    /// follower's screen must equal the driver's at the same line.
    Share(crate::domain::ShareStatus),
    /// A signal (or the terminal going away) asks the console to stop: the
    /// handoff in flight is brought to rest first, within a bound.
    Signal(Signal),
    /// The session's last message: how it ended.
    Ended(Ending),
    /// What happened to a file the session keeps (the recording, the
    /// handoff state file), as the runtime found it.
    Keeping(Keeping),
    /// How much of the recording is held in memory while it cannot be
    /// written. Never recorded: it changes with every line held.
    Held(Option<Held>),
    /// The handoff state file of the plan as `watch` reads it: a handoff
    /// a driver's console left in flight, or none (any more).
    OnDisk(Option<Left>),
}

/// A change to one side's cluster, already trimmed to domain types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClusterDelta {
    Workload(Workload),
    WorkloadGone(WorkloadKey),
    Pod(Pod),
    PodGone(PodKey),
    Node(Node),
    NodeGone(String),
    Warning(KubeWarning),
    /// A Node Event that is a disruption signal (Karpenter's).
    NodeEvent(NodeEvent),
    /// An autoscaler appeared or changed; `AutoscalerGone` names its target.
    Autoscaler(Autoscaler),
    AutoscalerGone(WorkloadKey),
    /// The API server's version, once known.
    ServerVersion(String),
    /// Every watch of the side has listed once: from here an object not
    /// shown is an object that does not exist.
    Synced,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub series: SeriesId,
    pub minute: Minute,
    pub value: f64,
}

/// Which series a datapoint belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SeriesId {
    /// Per target group, so per route and side.
    Route { route: RouteId, side: Side, metric: RouteMetric },
    /// Per load balancer: ALB does not attribute its own 5xx to a target group.
    LoadBalancer { lb: String, metric: LbMetric },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RouteMetric {
    /// `RequestCount`, Sum.
    Requests,
    /// `HTTPCode_Target_5XX_Count`, Sum.
    Target5xx,
    /// `TargetResponseTime`, Average, in milliseconds.
    LatencyMs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LbMetric {
    Elb502,
    Elb503,
    Elb504,
    Elb5xx,
}

/// A source of the console's data, as its health is kept and shown.
/// Its recorded form is the one each kind names itself by (`"Alb"`,
/// `"Route53"`, `"Metrics"`, `{"Cluster":"old"}`), so a backend or metrics
/// source added later is a name of its own, and recordings of earlier
/// builds read as they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceId {
    Cluster(Side),
    /// The reader of every route of one backend.
    Traffic(RouteKind),
    Metrics(MetricsKind),
    /// A reader of node signals outside the clusters.
    Signals(SignalSource),
    /// The embedded simulated world of `cutover demo`.
    Simulator,
}

impl SourceId {
    pub fn label(self) -> &'static str {
        match self {
            SourceId::Cluster(Side::Old) => "k8s old",
            SourceId::Cluster(Side::New) => "k8s new",
            SourceId::Traffic(kind) => kind.source_label(),
            SourceId::Metrics(kind) => kind.source_label(),
            SourceId::Signals(source) => source.reader().map_or(source.label(), |(label, _)| label),
            SourceId::Simulator => "sim",
        }
    }

    /// The name a recording gives a source that is not a cluster.
    fn tag(self) -> Option<&'static str> {
        match self {
            SourceId::Cluster(_) => None,
            SourceId::Traffic(kind) => Some(kind.source_tag()),
            SourceId::Metrics(kind) => Some(kind.source_tag()),
            SourceId::Signals(source) => source.reader().map(|(_, tag)| tag),
            SourceId::Simulator => Some("Simulator"),
        }
    }

    /// Every source a recording can name by a tag alone.
    fn tagged() -> impl Iterator<Item = SourceId> {
        RouteKind::ALL
            .into_iter()
            .map(SourceId::Traffic)
            .chain(MetricsKind::ALL.into_iter().map(SourceId::Metrics))
            .chain(SignalSource::ALL.into_iter().map(SourceId::Signals))
            .chain([SourceId::Simulator])
    }
}

impl Serialize for SourceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self, self.tag()) {
            (SourceId::Cluster(side), _) => s.serialize_newtype_variant("SourceId", 0, "Cluster", side),
            (_, Some(tag)) => s.serialize_unit_variant("SourceId", 1, tag),
            (_, None) => Err(serde::ser::Error::custom("a source without a recorded name")),
        }
    }
}

impl<'de> Deserialize<'de> for SourceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SourceId, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Recorded {
            Tag(String),
            Cluster {
                #[serde(rename = "Cluster")]
                side: Side,
            },
        }
        match Recorded::deserialize(d)? {
            Recorded::Cluster { side } => Ok(SourceId::Cluster(side)),
            Recorded::Tag(tag) => SourceId::tagged()
                .find(|id| id.tag() == Some(tag.as_str()))
                .ok_or_else(|| serde::de::Error::custom(format!("unknown source `{tag}`"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SourceState {
    Connecting,
    /// Reading fine; `last_ok` is the time of the latest successful read.
    Live {
        last_ok: Timestamp,
    },
    /// Not reading: what went wrong, since when, and the last good read.
    Stale {
        since: Timestamp,
        error: String,
        last_ok: Option<Timestamp>,
        /// What kind of trouble `error` says (recordings of earlier
        /// builds have none: `Other`).
        #[serde(default, skip_serializing_if = "Fault::is_other")]
        fault: Fault,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sources are recorded by the names earlier builds gave them, and a
    /// recording's names read back as the same sources.
    #[test]
    fn sources_keep_their_recorded_names() {
        for (id, recorded) in [
            (SourceId::Cluster(Side::Old), r#"{"Cluster":"old"}"#),
            (SourceId::Traffic(RouteKind::Alb), r#""Alb""#),
            (SourceId::Traffic(RouteKind::Route53), r#""Route53""#),
            (SourceId::Metrics(MetricsKind::CloudWatch), r#""Metrics""#),
            (SourceId::Simulator, r#""Simulator""#),
        ] {
            assert_eq!(serde_json::to_string(&id).unwrap(), recorded);
            assert_eq!(serde_json::from_str::<SourceId>(recorded).unwrap(), id);
        }
        let unknown = serde_json::from_str::<SourceId>(r#""Gopher""#).unwrap_err();
        assert!(unknown.to_string().contains("unknown source `Gopher`"), "{unknown}");
        // The order the header lists them in: clusters, backends, metrics.
        let mut ids = [
            SourceId::Metrics(MetricsKind::CloudWatch),
            SourceId::Traffic(RouteKind::Route53),
            SourceId::Cluster(Side::New),
            SourceId::Traffic(RouteKind::Alb),
            SourceId::Cluster(Side::Old),
        ];
        ids.sort();
        assert_eq!(
            ids.iter().map(|id| id.label()).collect::<Vec<_>>(),
            ["k8s old", "k8s new", "alb", "dns", "metrics"]
        );
    }
}
