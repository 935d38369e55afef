//! The demo's lifecycle: the founding night's settings and what EC2's own
//! records say of a node taken away.
//!
//! The new cluster runs the API on a Spot managed node group with capacity
//! rebalance on (as EKS sets it) and no termination handler: Karpenter
//! runs, for its own nodes, without an interruption queue. The API's pods
//! on new have no `preStop` pause and the default 30 s grace against the
//! target group's default 300 s deregistration delay. The old cluster's
//! API pods pause 20 s and have 60 s against 45 s. So the demo's `check`
//! names the risks, and a rebalance drains a node with no taint to show:
//! EKS cordons and evicts, the ASG's activity says why a minute later, and
//! a Spot instance reclaimed is told by CloudTrail five minutes late.

use jiff::Timestamp;

use crate::app::Msg;
use crate::domain::lifecycle::{
    ClusterFacts, Handler, LifecycleFacts, PreStop, RouteTargetGroup, ScalingGroup, StopSpec, TargetGroupFacts,
    TargetType,
};
use crate::domain::{Capacity, Minute, NodeRef, NodeSignalKind, PerSide, Side, SignalSeen, plus_secs};

use super::World;
use super::nodes::DrainKind;

/// How late CloudTrail delivers a `BidEvictedEvent` in the demo.
pub const TRAIL_DELAY_SECS: i64 = 5 * 60;

/// The ASG of the new side's Spot nodes, and of the on-demand ones.
pub const SPOT_GROUP: &str = "eks-spot-m6i-20261102-4ac9e1f2";
const GENERAL_GROUP: &str = "eks-general-20261102-7b1d03aa";
const OLD_GROUP: &str = "eks-2022-general-3f9a11c0";

/// How the route workloads' pods stop, per side: the new side's API as the
/// founding team had it, the rest with a pause.
pub fn stop_spec(name: &str, side: Side) -> Option<StopSpec> {
    match (name, side) {
        ("api", Side::New) => Some(StopSpec { grace_secs: 30, pre_stop: PreStop::None }),
        ("api" | "admin", _) => Some(StopSpec { grace_secs: 60, pre_stop: PreStop::Sleep(20) }),
        _ => None,
    }
}

/// Each route side's target group: (route, side, target group, delay).
const TARGET_GROUPS: [(&str, Side, &str, u32); 6] = [
    ("api", Side::Old, "api-old", 45),
    ("api", Side::New, "api-new", 300),
    ("admin", Side::Old, "admin-old", 30),
    ("admin", Side::New, "admin-new", 30),
    ("www", Side::Old, "k8s-app-www-2022", 45),
    ("www", Side::New, "k8s-app-www-2026", 300),
];

impl World {
    /// The facts as the lifecycle reader would find them now.
    pub(super) fn lifecycle_facts(&self) -> LifecycleFacts {
        let gate = |batch: bool| ClusterFacts {
            handlers: None,
            readiness_gate: [("app".to_string(), true), ("batch".to_string(), batch)].into_iter().collect(),
        };
        let old = ClusterFacts { handlers: Some(Vec::new()), ..gate(false) };
        let karpenter = Handler::Karpenter { workload: "karpenter/karpenter".into(), interruption_queue: None };
        let new = ClusterFacts { handlers: Some(vec![karpenter]), ..gate(true) };
        let instances = |side: Side, spot: bool| -> Vec<String> {
            self.sides
                .get(side)
                .nodes
                .values()
                .filter(|n| (n.node.capacity == Capacity::Spot) == spot && !n.gpu)
                .filter_map(|n| n.node.instance_id.clone())
                .collect()
        };
        let group = |name: &str, node_group: &str, rebalance: bool, instances: Vec<String>| ScalingGroup {
            name: name.into(),
            node_group: Some(node_group.into()),
            capacity_rebalance: rebalance,
            instances,
            target_groups: Vec::new(),
        };
        LifecycleFacts {
            at: self.now,
            clusters: PerSide::new(Some(old), Some(new)),
            routes: TARGET_GROUPS
                .iter()
                .map(|(route, side, tg, _)| RouteTargetGroup {
                    route: (*route).into(),
                    side: *side,
                    target_group: (*tg).into(),
                })
                .collect(),
            target_groups: TARGET_GROUPS
                .iter()
                .map(|(_, _, tg, delay)| TargetGroupFacts {
                    arn: (*tg).into(),
                    name: (*tg).into(),
                    target_type: TargetType::Ip,
                    deregistration_delay_secs: *delay,
                })
                .collect(),
            scaling_groups: vec![
                group(SPOT_GROUP, "spot-m6i", true, instances(Side::New, true)),
                group(GENERAL_GROUP, "general", false, instances(Side::New, false)),
                group(OLD_GROUP, "general", false, instances(Side::Old, false)),
            ],
            unread: Vec::new(),
        }
    }

    /// What EC2 will say of a node the demo takes away, queued for when
    /// the console's readers would have it: the group's activity at the
    /// next minute's poll, a reclaimed Spot instance's CloudTrail event
    /// five minutes late. Karpenter's own nodes are not in a group.
    pub(super) fn record_outside(&mut self, side: Side, node: &str, kind: DrainKind, at: Timestamp) {
        let Some(instance) = self.sides.get(side).nodes.get(node).and_then(|n| n.node.instance_id.clone()) else {
            return;
        };
        // An activity's cause as the reader keeps it: without its leading
        // `At <time>`, which the signal's own time says.
        let (kind, cause) = match kind {
            DrainKind::Rebalance => (
                NodeSignalKind::AsgRebalance,
                "an instance was taken out of service in response to an EC2 instance rebalance recommendation",
            ),
            DrainKind::Interruption => (
                NodeSignalKind::AsgTermination,
                "an instance was taken out of service in response to a Spot Instance interruption notice",
            ),
            DrainKind::Consolidation => return,
        };
        let cause = cause.to_string();
        let polled = plus_secs(Minute::containing(at).offset(1).start(), 7);
        let seen = |kind, detail: String| SignalSeen { at, node: NodeRef::Instance(instance.clone()), kind, detail };
        self.outside.push((polled, seen(kind, cause)));
        if matches!(kind, NodeSignalKind::AsgTermination) {
            let reclaimed = plus_secs(at, 115);
            let detail = format!("EC2 took Spot instance {instance} back");
            self.outside.push((
                plus_secs(reclaimed, TRAIL_DELAY_SECS),
                SignalSeen { at: reclaimed, ..seen(NodeSignalKind::SpotBidEvicted, detail) },
            ));
        }
        self.outside.sort_by_key(|(due, _)| *due);
    }

    /// Sends what is due from outside the clusters, and the facts again
    /// when the nodes changed (the reader's next pass would find them).
    pub(super) fn step_outside(&mut self) {
        let now = self.now;
        let due: Vec<SignalSeen> = {
            let split = self.outside.partition_point(|(at, _)| *at <= now);
            self.outside.drain(..split).map(|(_, s)| s).collect()
        };
        if !due.is_empty() {
            self.tick();
            self.out.push(Msg::NodeSignals(due));
        }
        if self.facts_stale {
            self.facts_stale = false;
            let facts = self.lifecycle_facts();
            self.tick();
            self.out.push(Msg::Lifecycle(facts));
        }
    }
}
