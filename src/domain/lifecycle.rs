//! The node lifecycle against the load balancer: the settings that decide
//! whether a pod that begins to stop is still sent requests, read once
//! before the night and every few minutes during it, and the risks they
//! make.
//!
//! In IP target mode the ALB keeps sending new requests to a pod for a
//! while after the pod begins to stop: the Load Balancer Controller sees
//! the endpoint change, deregisters the target, and ELB propagates it. A
//! pod that exits at once is sent requests it can no longer answer (502),
//! and one killed while the target is still draining cuts the requests in
//! flight (502, or 504 for a target that vanished). The rule of thumb
//! (aws-load-balancer-controller #1719): a `preStop` pause at least as long
//! as deregistration and its propagation, and a grace period longer than
//! that pause plus the application's own drain.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Capacity, Node, PerSide, Side, WorkloadKey};

/// ELBv2's `deregistration_delay.timeout_seconds` when a target group does
/// not set it.
pub const DEFAULT_DEREGISTRATION_DELAY_SECS: u32 = 300;

/// Kubernetes' `terminationGracePeriodSeconds` when a pod does not set it.
pub const DEFAULT_GRACE_SECS: u32 = 30;

/// The shortest `preStop` pause that outlasts the controller's reaction and
/// ELB's propagation in the common case. It is often 10 to 30 s and has
/// been measured at about 2 minutes (aws-load-balancer-controller #2366,
/// #3270); 15 s is the least the public fixes use.
pub const MIN_PRE_STOP_SECS: u32 = 15;

/// How a workload's pods stop, from its pod template: the longest `preStop`
/// of its containers and its grace period. Nothing else of the template is
/// kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopSpec {
    /// `terminationGracePeriodSeconds` (30 when unset).
    pub grace_secs: u32,
    pub pre_stop: PreStop,
}

/// What a container does between being told to stop and its SIGTERM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreStop {
    /// No `preStop` hook: SIGTERM at once.
    None,
    /// A pause of this many seconds: the `sleep` lifecycle action, or an
    /// `exec` of `sleep N` (directly or through a shell).
    Sleep(u32),
    /// A hook whose length cannot be read from the spec (a script, an HTTP
    /// call): assumed to pause, since someone wrote it to.
    Other,
}

impl PreStop {
    /// The pause in seconds, when it can be read.
    pub fn secs(self) -> Option<u32> {
        match self {
            PreStop::None => Some(0),
            PreStop::Sleep(n) => Some(n),
            PreStop::Other => None,
        }
    }

    pub fn describe(self) -> String {
        match self {
            PreStop::None => "no preStop".into(),
            PreStop::Sleep(n) => format!("preStop sleep {n}s"),
            PreStop::Other => "a preStop hook of unknown length".into(),
        }
    }
}

/// The longest pause among several containers' hooks: a known sleep
/// outranks none, and a hook of unknown length outranks a known one only
/// where no container sleeps (its length is unknown).
pub fn longest(hooks: impl IntoIterator<Item = PreStop>) -> PreStop {
    hooks.into_iter().fold(PreStop::None, |a, b| match (a, b) {
        (PreStop::Sleep(x), PreStop::Sleep(y)) => PreStop::Sleep(x.max(y)),
        (PreStop::Sleep(x), _) | (_, PreStop::Sleep(x)) => PreStop::Sleep(x),
        (PreStop::Other, _) | (_, PreStop::Other) => PreStop::Other,
        (PreStop::None, PreStop::None) => PreStop::None,
    })
}

/// How a target group names its targets (`TargetType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    Ip,
    Instance,
    /// Lambda or another load balancer: none of this applies.
    Other,
}

/// A target group's lifecycle settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroupFacts {
    pub arn: String,
    /// Its name, for people.
    pub name: String,
    pub target_type: TargetType,
    /// `deregistration_delay.timeout_seconds`.
    pub deregistration_delay_secs: u32,
}

/// Something in a cluster that acts on a Spot interruption or a rebalance
/// recommendation before the node goes: cordons, drains, so the pods stop
/// in order while the load balancer lets go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handler {
    /// The AWS Node Termination Handler: its DaemonSet (IMDS mode) or its
    /// Deployment (queue processor), `namespace/name`.
    TerminationHandler { workload: String },
    /// Karpenter, with its interruption queue when it has one (without one
    /// it does not act on Spot notices).
    Karpenter { workload: String, interruption_queue: Option<String> },
}

impl Handler {
    /// Whether it acts on a Spot interruption notice.
    pub fn handles_spot(&self) -> bool {
        match self {
            Handler::TerminationHandler { .. } => true,
            Handler::Karpenter { interruption_queue, .. } => interruption_queue.is_some(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Handler::TerminationHandler { workload } => format!("aws-node-termination-handler ({workload})"),
            Handler::Karpenter { workload, interruption_queue: Some(q) } => {
                format!("Karpenter ({workload}) with interruption queue {q}")
            }
            Handler::Karpenter { workload, interruption_queue: None } => {
                format!("Karpenter ({workload}) without an interruption queue")
            }
        }
    }
}

/// What one cluster says about its lifecycle settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterFacts {
    /// The termination handlers found; None when they could not be looked
    /// for (the list was denied), which raises no risk of its own.
    pub handlers: Option<Vec<Handler>>,
    /// The plan's namespaces, each with whether the Load Balancer
    /// Controller injects its pod readiness gate there
    /// (`elbv2.k8s.aws/pod-readiness-gate-inject: enabled`). A namespace
    /// that could not be read is absent.
    pub readiness_gate: BTreeMap<String, bool>,
}

/// An EC2 Auto Scaling group that holds nodes or targets of a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalingGroup {
    pub name: String,
    /// The EKS managed node group it belongs to (its `eks:nodegroup-name`
    /// tag).
    pub node_group: Option<String>,
    /// `CapacityRebalance`: replaces a Spot instance on a rebalance
    /// recommendation (on for every managed node group with Spot).
    pub capacity_rebalance: bool,
    /// Its instances' ids.
    pub instances: Vec<String>,
    /// The target groups it registers its instances with
    /// (`TargetGroupARNs`): those it deregisters, and waits for, before it
    /// terminates an instance.
    pub target_groups: Vec<String>,
}

impl ScalingGroup {
    pub fn describe(&self) -> String {
        match &self.node_group {
            Some(ng) => format!("node group {ng} (ASG {})", self.name),
            None => format!("ASG {}", self.name),
        }
    }
}

/// What the lifecycle reader found, whole each time: the console keeps the
/// last and judges the risks from it and the clusters it watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifecycleFacts {
    pub at: Timestamp,
    /// None for a side without Kubernetes (EC2 behind the ALB), or one
    /// that could not be read.
    pub clusters: PerSide<Option<ClusterFacts>>,
    /// Which target group carries each route's side, where one does: an
    /// ALB route's from the plan, a DNS route's from its side's load
    /// balancer.
    pub routes: Vec<RouteTargetGroup>,
    pub target_groups: Vec<TargetGroupFacts>,
    pub scaling_groups: Vec<ScalingGroup>,
    /// What could not be read and so cannot be judged, one line each (a
    /// denied call, with the IAM action it needs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

/// The target group carrying one side of a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTargetGroup {
    pub route: String,
    pub side: Side,
    pub target_group: String,
}

impl LifecycleFacts {
    /// The target group carrying a route's side, when known.
    pub fn route_target_group(&self, route: &str, side: Side) -> Option<&str> {
        self.routes.iter().find(|r| r.route == route && r.side == side).map(|r| r.target_group.as_str())
    }

    pub fn target_group(&self, arn: &str) -> Option<&TargetGroupFacts> {
        self.target_groups.iter().find(|t| t.arn == arn)
    }
}

/// The EC2 instance a load balancer's target id names (`i-0abc`, or
/// `i-0abc:80` as a read keeps it with its port), if it is one.
pub fn instance_of(target: &str) -> Option<&str> {
    let id = target.split(':').next()?;
    id.starts_with("i-").then_some(id)
}

/// A setting that makes a stopping pod or node cut requests off.
///
/// Recordings store the variant's name: variants are only ever added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RiskKind {
    /// IP targets, and the pods have no `preStop` pause.
    NoPreStop,
    /// A `preStop` sleep shorter than [`MIN_PRE_STOP_SECS`].
    ShortPreStop,
    /// The grace period does not outlast the `preStop` pause: the kubelet
    /// kills the pod before its SIGTERM.
    GraceWithinPreStop,
    /// The grace period is shorter than the target group's deregistration
    /// delay.
    GraceBelowDeregistration,
    /// IP targets in a namespace without the pod readiness gate.
    NoReadinessGate,
    /// Spot nodes hold the route's pods and nothing handles Spot notices.
    SpotWithoutHandler,
    /// An Auto Scaling group with capacity rebalance holds the route's
    /// nodes, and no termination handler runs.
    RebalanceWithoutHandler,
    /// EC2 targets in an Auto Scaling group that does not deregister them
    /// (the target group is not attached) before it terminates them.
    GroupNotAttached,
}

impl RiskKind {
    /// A few words for the header's `risks` line and the event.
    pub fn short(self) -> &'static str {
        match self {
            RiskKind::NoPreStop => "no preStop",
            RiskKind::ShortPreStop => "short preStop",
            RiskKind::GraceWithinPreStop => "grace within preStop",
            RiskKind::GraceBelowDeregistration => "grace < deregistration",
            RiskKind::NoReadinessGate => "no readiness gate",
            RiskKind::SpotWithoutHandler => "spot, no handler",
            RiskKind::RebalanceWithoutHandler => "capacity rebalance, no handler",
            RiskKind::GroupNotAttached => "ASG not attached",
        }
    }

    /// What it means on the night, in one sentence.
    pub fn means(self) -> &'static str {
        match self {
            RiskKind::NoPreStop | RiskKind::ShortPreStop => {
                "the ALB keeps sending new requests to a pod for seconds after it begins to stop; a pod that exits before the load balancer lets go answers them with resets: 502s"
            }
            RiskKind::GraceWithinPreStop => {
                "the kubelet kills the container when the grace period ends, even inside its preStop pause: requests in flight are cut (502/504)"
            }
            RiskKind::GraceBelowDeregistration => {
                "the pod is killed while its target is still draining, so requests that need longer than the grace period are cut (502, or 504 for a target that vanished)"
            }
            RiskKind::NoReadinessGate => {
                "a rollout or a drain can replace pods faster than their targets become healthy, leaving only initial or draining targets behind the route"
            }
            RiskKind::SpotWithoutHandler => {
                "a Spot interruption or rebalance takes the node with nothing to cordon and drain it in order first; its pods stop while the ALB still routes to them"
            }
            RiskKind::RebalanceWithoutHandler => {
                "on a rebalance recommendation the group launches a replacement and EKS drains the old node, whose pods stop while the ALB still routes to them; the founding incident's cause"
            }
            RiskKind::GroupNotAttached => {
                "the group terminates an instance without deregistering it first, so the ALB sends to it until its health checks fail"
            }
        }
    }
}

/// One risk: what, where, the numbers, and what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub kind: RiskKind,
    pub side: Side,
    /// The route it puts at risk; None for a side's own setting.
    pub route: Option<String>,
    /// The finding, with its numbers: `api: grace 30s < deregistration
    /// 300s (tg api-new)`.
    pub finding: String,
    /// The finding in a few words, for a likely cause: `grace 30s <
    /// deregistration 300s`, `no termination handler on new`.
    pub brief: String,
    /// What to change.
    pub change: String,
}

impl Risk {
    /// The risk in one line, where and what: `new api: grace 30s < ...`.
    pub fn line(&self) -> String {
        format!("{} {}", self.side, self.finding)
    }
}

/// What most likely made a route's 5xx rise on one side, as last said: the
/// pods behind it that went in the same minutes, the nodes and what took
/// them, and the risks that made it hurt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LikelyCause {
    pub route: String,
    pub side: Side,
    /// The first minute of the rise.
    pub minute: super::Minute,
    /// Its last minute above the guard, as far as read.
    pub until: super::Minute,
    /// Its highest 5xx share, in percent.
    pub percent: f64,
    /// The sentence: `4 api pods on ip-10-1-19-86 (spot) stopped by ASG
    /// capacity rebalance (19:47); no termination handler on new; grace
    /// 30s < deregistration 300s`.
    pub text: String,
}

/// One route on one side, as the risks see it.
#[derive(Debug, Clone)]
pub struct RouteSide<'a> {
    pub route: &'a str,
    pub side: Side,
    /// The route's workload on this side and how its pods stop (None when
    /// the side has no cluster, the plan names no workload, or it is not
    /// read yet).
    pub workload: Option<(&'a WorkloadKey, Option<StopSpec>)>,
    /// The target group carrying the side's requests, when known.
    pub target_group: Option<&'a str>,
    /// The nodes that hold the workload's pods, each with how many.
    pub nodes: Vec<(&'a Node, u32)>,
    /// The side's targets by instance id, where the side is EC2 behind the
    /// ALB.
    pub instances: Vec<&'a str>,
}

/// The risks of a plan's routes, in a stable order (side, route, kind). A
/// fact not read raises nothing: a risk is said only on evidence.
pub fn assess(facts: &LifecycleFacts, routes: &[RouteSide<'_>]) -> Vec<Risk> {
    let mut risks = Vec::new();
    // Each instance's group, once: thousands of nodes are looked up in it.
    let groups: std::collections::HashMap<&str, &ScalingGroup> =
        facts.scaling_groups.iter().flat_map(|g| g.instances.iter().map(move |i| (i.as_str(), g))).collect();
    for rs in routes {
        let tg = rs.target_group.and_then(|arn| facts.target_group(arn));
        let cluster = facts.clusters.get(rs.side).as_ref();
        pod_risks(rs, tg, cluster, &mut risks);
        node_risks(&groups, rs, cluster, &mut risks);
        ec2_risks(facts, &groups, rs, &mut risks);
    }
    risks.sort_by(|a, b| (a.side, &a.route, a.kind, &a.finding).cmp(&(b.side, &b.route, b.kind, &b.finding)));
    risks.dedup();
    risks
}

fn pod_risks(rs: &RouteSide<'_>, tg: Option<&TargetGroupFacts>, cluster: Option<&ClusterFacts>, out: &mut Vec<Risk>) {
    let Some(tg) = tg.filter(|t| t.target_type == TargetType::Ip) else { return };
    let Some((key, stop)) = rs.workload else { return };
    let route = Some(rs.route.to_string());
    let mut add = |kind, brief: String, finding: String, change: String| {
        out.push(Risk { kind, side: rs.side, route: route.clone(), finding, brief, change });
    };
    let dereg = tg.deregistration_delay_secs;
    if let Some(stop) = stop {
        let grace = stop.grace_secs;
        match stop.pre_stop {
            PreStop::None => add(
                RiskKind::NoPreStop,
                "no preStop pause".into(),
                format!("{}: {key} has no preStop pause (target group {}, IP targets)", rs.route, tg.name),
                format!(
                    "add a preStop pause of at least {MIN_PRE_STOP_SECS}s (`lifecycle.preStop.sleep.seconds`, or exec `sleep {MIN_PRE_STOP_SECS}`) and keep terminationGracePeriodSeconds above it plus the app's drain"
                ),
            ),
            PreStop::Sleep(n) if n < MIN_PRE_STOP_SECS => add(
                RiskKind::ShortPreStop,
                format!("preStop sleep {n}s < {MIN_PRE_STOP_SECS}s"),
                format!("{}: {key} preStop sleep {n}s < {MIN_PRE_STOP_SECS}s (target group {})", rs.route, tg.name),
                format!("lengthen the preStop pause to at least {MIN_PRE_STOP_SECS}s"),
            ),
            _ => {}
        }
        if let Some(pause) = stop.pre_stop.secs().filter(|p| *p > 0 && grace <= *p) {
            add(
                RiskKind::GraceWithinPreStop,
                format!("grace {grace}s <= preStop {pause}s"),
                format!("{}: {key} grace {grace}s <= preStop sleep {pause}s", rs.route),
                format!("raise terminationGracePeriodSeconds above {pause}s plus the app's drain"),
            );
        }
        if grace < dereg {
            add(
                RiskKind::GraceBelowDeregistration,
                format!("grace {grace}s < deregistration {dereg}s"),
                format!("{}: {key} grace {grace}s < deregistration {dereg}s (target group {})", rs.route, tg.name),
                format!(
                    "raise terminationGracePeriodSeconds above the preStop pause plus the app's drain, or lower the target group's deregistration_delay.timeout_seconds from {dereg}s to what a request needs"
                ),
            );
        }
    }
    if let Some(false) = cluster.and_then(|c| c.readiness_gate.get(&key.namespace)) {
        add(
            RiskKind::NoReadinessGate,
            format!("no readiness gate in {}", key.namespace),
            format!(
                "{}: namespace {} has no pod readiness gate (IP targets, target group {})",
                rs.route, key.namespace, tg.name
            ),
            format!(
                "label the namespace: kubectl label namespace {} elbv2.k8s.aws/pod-readiness-gate-inject=enabled, then restart the pods",
                key.namespace
            ),
        );
    }
}

/// Each instance's Auto Scaling group.
type GroupOf<'a> = std::collections::HashMap<&'a str, &'a ScalingGroup>;

fn node_risks(groups_of: &GroupOf<'_>, rs: &RouteSide<'_>, cluster: Option<&ClusterFacts>, out: &mut Vec<Risk>) {
    // Without the handler list, nothing is said: a denied list is no
    // evidence that none runs.
    let Some(handlers) = cluster.and_then(|c| c.handlers.as_ref()) else { return };
    if handlers.iter().any(Handler::handles_spot) {
        return;
    }
    let route = Some(rs.route.to_string());
    let spot: Vec<&(&Node, u32)> = rs.nodes.iter().filter(|(n, _)| n.capacity == Capacity::Spot).collect();
    if !spot.is_empty() {
        let pods: u32 = spot.iter().map(|(_, c)| c).sum();
        let karpenter = handlers
            .iter()
            .find(|h| matches!(h, Handler::Karpenter { .. }))
            .map(|h| format!("; {} does not act on Spot notices", h.describe()))
            .unwrap_or_default();
        out.push(Risk {
            kind: RiskKind::SpotWithoutHandler,
            side: rs.side,
            route: route.clone(),
            finding: format!(
                "{}: {pods} pod(s) on {} Spot node(s), no termination handler{karpenter}",
                rs.route,
                spot.len()
            ),
            brief: format!("no termination handler on {}", rs.side),
            change: "install aws-node-termination-handler (queue processor), or give Karpenter an interruption queue; or keep the route's pods on On-Demand nodes for the night".into(),
        });
    }
    let groups: std::collections::BTreeMap<&str, &ScalingGroup> = rs
        .nodes
        .iter()
        .filter_map(|(n, _)| groups_of.get(n.instance_id.as_deref()?).copied())
        .filter(|g| g.capacity_rebalance)
        .map(|g| (g.name.as_str(), g))
        .collect();
    for g in groups.into_values() {
        out.push(Risk {
            kind: RiskKind::RebalanceWithoutHandler,
            side: rs.side,
            route: route.clone(),
            finding: format!("{}: {} has capacity rebalance on, no termination handler", rs.route, g.describe()),
            brief: format!("capacity rebalance on {}", g.node_group.as_deref().unwrap_or(&g.name)),
            change: "install aws-node-termination-handler so a rebalance cordons and drains in order (taints show on the console), and give the pods a preStop pause".into(),
        });
    }
}

fn ec2_risks(facts: &LifecycleFacts, groups_of: &GroupOf<'_>, rs: &RouteSide<'_>, out: &mut Vec<Risk>) {
    let Some(tg) = rs.target_group else { return };
    let groups: std::collections::BTreeMap<&str, &ScalingGroup> =
        rs.instances.iter().filter_map(|i| groups_of.get(i).copied()).map(|g| (g.name.as_str(), g)).collect();
    for g in groups.into_values() {
        if g.target_groups.iter().any(|t| t == tg) {
            continue;
        }
        let tg_name = facts.target_group(tg).map_or(tg, |t| t.name.as_str());
        let rebalance = if g.capacity_rebalance { " (capacity rebalance on)" } else { "" };
        out.push(Risk {
            kind: RiskKind::GroupNotAttached,
            side: rs.side,
            route: Some(rs.route.to_string()),
            finding: format!("{}: {}{rebalance} holds targets of {tg_name} but does not have it attached", rs.route, g.describe()),
            brief: format!("{} does not deregister its instances", g.name),
            change: format!("attach target group {tg_name} to {} (TargetGroupARNs), so it deregisters and drains an instance before terminating it", g.name),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(kind: TargetType, dereg: u32) -> TargetGroupFacts {
        TargetGroupFacts {
            arn: "arn:tg/api-new".into(),
            name: "api-new".into(),
            target_type: kind,
            deregistration_delay_secs: dereg,
        }
    }

    fn facts(tg: TargetGroupFacts, handlers: Vec<Handler>, gate: bool, groups: Vec<ScalingGroup>) -> LifecycleFacts {
        let cluster = ClusterFacts {
            handlers: Some(handlers),
            readiness_gate: [("family".to_string(), gate)].into_iter().collect(),
        };
        LifecycleFacts {
            at: Timestamp::UNIX_EPOCH,
            clusters: PerSide::new(None, Some(cluster)),
            routes: Vec::new(),
            target_groups: vec![tg],
            scaling_groups: groups,
            unread: Vec::new(),
        }
    }

    fn spot_node() -> Node {
        Node { instance_id: Some("i-0spot".into()), ..Node::new("ip-10-1-19-86", Capacity::Spot, "m6i.large") }
    }

    fn group(rebalance: bool) -> ScalingGroup {
        ScalingGroup {
            name: "eks-spot-1".into(),
            node_group: Some("spot".into()),
            capacity_rebalance: rebalance,
            instances: vec!["i-0spot".into()],
            target_groups: Vec::new(),
        }
    }

    /// `api` on new, its pods stopping as `stop`, on `nodes`.
    fn api_new<'a>(key: &'a WorkloadKey, stop: StopSpec, nodes: Vec<(&'a Node, u32)>) -> RouteSide<'a> {
        RouteSide {
            route: "api",
            side: Side::New,
            workload: Some((key, Some(stop))),
            target_group: Some("arn:tg/api-new"),
            nodes,
            instances: Vec::new(),
        }
    }

    fn kinds(risks: &[Risk]) -> Vec<RiskKind> {
        risks.iter().map(|r| r.kind).collect()
    }

    #[test]
    fn the_founding_night_raises_every_pod_and_node_risk() {
        let key = WorkloadKey { namespace: "family".into(), name: "api".into() };
        let node = spot_node();
        let stop = StopSpec { grace_secs: 30, pre_stop: PreStop::None };
        let f = facts(tg(TargetType::Ip, 300), Vec::new(), false, vec![group(true)]);
        let rs = api_new(&key, stop, vec![(&node, 4)]);
        let risks = assess(&f, &[rs]);
        assert_eq!(
            kinds(&risks),
            [
                RiskKind::NoPreStop,
                RiskKind::GraceBelowDeregistration,
                RiskKind::NoReadinessGate,
                RiskKind::SpotWithoutHandler,
                RiskKind::RebalanceWithoutHandler
            ]
        );
        assert!(risks[1].finding.contains("grace 30s < deregistration 300s"), "{}", risks[1].finding);
        assert!(risks[3].finding.contains("4 pod(s) on 1 Spot node(s)"), "{}", risks[3].finding);
        assert!(risks[4].finding.contains("node group spot (ASG eks-spot-1)"), "{}", risks[4].finding);
    }

    #[test]
    fn right_settings_raise_nothing() {
        let key = WorkloadKey { namespace: "family".into(), name: "api".into() };
        let node = spot_node();
        let stop = StopSpec { grace_secs: 90, pre_stop: PreStop::Sleep(20) };
        let nth = Handler::TerminationHandler { workload: "kube-system/aws-node-termination-handler".into() };
        let f = facts(tg(TargetType::Ip, 60), vec![nth], true, vec![group(true)]);
        let rs = api_new(&key, stop, vec![(&node, 4)]);
        assert_eq!(assess(&f, &[rs]), Vec::new());
    }

    #[test]
    fn instance_targets_and_unread_facts_raise_no_pod_risk() {
        let key = WorkloadKey { namespace: "family".into(), name: "api".into() };
        let stop = StopSpec { grace_secs: 30, pre_stop: PreStop::None };
        let mut f = facts(tg(TargetType::Instance, 300), Vec::new(), false, Vec::new());
        let rs = api_new(&key, stop, Vec::new());
        assert_eq!(assess(&f, std::slice::from_ref(&rs)), Vec::new());
        // Handlers not read: a Spot node is no evidence of a missing one.
        if let Some(c) = f.clusters.new.as_mut() {
            c.handlers = None;
        }
        let node = spot_node();
        let rs = RouteSide { nodes: vec![(&node, 2)], ..rs };
        assert_eq!(assess(&f, &[rs]), Vec::new());
    }

    #[test]
    fn karpenter_without_a_queue_is_no_handler_and_a_short_pause_is_named() {
        let key = WorkloadKey { namespace: "family".into(), name: "api".into() };
        let node = Node { instance_id: None, ..spot_node() };
        let stop = StopSpec { grace_secs: 5, pre_stop: PreStop::Sleep(5) };
        let k = Handler::Karpenter { workload: "karpenter/karpenter".into(), interruption_queue: None };
        let f = facts(tg(TargetType::Ip, 0), vec![k], true, Vec::new());
        let rs = api_new(&key, stop, vec![(&node, 1)]);
        let risks = assess(&f, &[rs]);
        assert_eq!(kinds(&risks), [RiskKind::ShortPreStop, RiskKind::GraceWithinPreStop, RiskKind::SpotWithoutHandler]);
        assert!(risks[2].finding.contains("without an interruption queue"), "{}", risks[2].finding);
    }

    #[test]
    fn an_ec2_group_is_a_risk_only_when_it_does_not_deregister_the_targets() {
        let mut g = group(true);
        g.instances = vec!["i-0old".into()];
        let mut f = facts(tg(TargetType::Instance, 300), Vec::new(), true, vec![g]);
        f.clusters.new = None;
        let rs = RouteSide {
            route: "api",
            side: Side::Old,
            workload: None,
            target_group: Some("arn:tg/api-new"),
            nodes: Vec::new(),
            instances: vec!["i-0old"],
        };
        let risks = assess(&f, std::slice::from_ref(&rs));
        assert_eq!(kinds(&risks), [RiskKind::GroupNotAttached]);
        f.scaling_groups[0].target_groups.push("arn:tg/api-new".into());
        assert_eq!(assess(&f, &[rs]), Vec::new());
    }

    #[test]
    fn the_longest_pause_wins() {
        assert_eq!(longest([PreStop::None, PreStop::Sleep(5), PreStop::Sleep(20)]), PreStop::Sleep(20));
        assert_eq!(longest([PreStop::None, PreStop::Other]), PreStop::Other);
        assert_eq!(longest([PreStop::Other, PreStop::Sleep(3)]), PreStop::Sleep(3));
        assert_eq!(longest([]), PreStop::None);
    }
}
