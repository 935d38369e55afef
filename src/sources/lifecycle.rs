//! The lifecycle reader: the settings that decide whether a pod or a node
//! that begins to stop is still sent requests, gathered from AWS and both
//! clusters in one pass, and where each route's pods are.
//!
//! One [`gather`] serves `cutover check` (once, its risks said as findings)
//! and the live session ([`run`]: at the start and every five minutes, as
//! `Msg::Lifecycle`). Every fact is read on its own: a call that is denied
//! or fails loses only its own fact, and says so in one `unread` line
//! naming the IAM action or the RBAC verb it needs; a fact not read raises
//! no risk.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::app::ClusterDelta;
use crate::app::Msg;
use crate::domain::lifecycle::{
    ClusterFacts, DEFAULT_DEREGISTRATION_DELAY_SECS, Handler, LifecycleFacts, RouteSide, RouteTargetGroup,
    ScalingGroup, StopSpec, TargetGroupFacts, TargetType,
};
use crate::domain::{Fault, Node, PerSide, Side, WorkloadKey};
use crate::plan::{Arn, Plan, PlanRoute, RouteTarget};

use super::aws;
use super::kube::{
    self as kube_source, DaemonSetHandlerObj, DeploymentHandlerObj, DeploymentObj, HandlerContainer, KubeError,
    NamespaceObj, NodeObj, PodObj, StatefulSetObj,
};
use super::route53;

/// How often the live session gathers again: settings change rarely, and
/// pods move between nodes in minutes.
pub const EVERY: Duration = Duration::from_secs(5 * 60);

/// NTH's Helm chart label, on its DaemonSet (IMDS mode) and its Deployment
/// (queue processor).
pub const NTH_SELECTOR: &str = "app.kubernetes.io/name=aws-node-termination-handler";
/// Karpenter's Helm chart label, on its controller's Deployment.
pub const KARPENTER_SELECTOR: &str = "app.kubernetes.io/name=karpenter";
/// The Load Balancer Controller's namespace label that injects its pod
/// readiness gate.
pub const READINESS_GATE_LABEL: &str = "elbv2.k8s.aws/pod-readiness-gate-inject";
/// The tag EKS puts on a managed node group's Auto Scaling group.
pub const NODE_GROUP_TAG: &str = "eks:nodegroup-name";
/// DescribeAutoScalingInstances takes at most this many ids a call.
const INSTANCES_PER_CALL: usize = 50;

/// The clients the reader reads with.
#[derive(Clone)]
pub struct Readers {
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub route53: aws_sdk_route53::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    /// None for a side without Kubernetes, or whose client could not be built.
    pub kube: PerSide<Option<Client>>,
}

impl Readers {
    pub fn new(sdk: &aws_config::SdkConfig, kube: PerSide<Option<Client>>) -> Readers {
        Readers {
            elb: aws_sdk_elasticloadbalancingv2::Client::new(sdk),
            route53: aws::route53_client(sdk),
            autoscaling: aws_sdk_autoscaling::Client::new(sdk),
            kube,
        }
    }
}

/// Where one route's side runs: its workload and how its pods stop, the
/// nodes holding its pods, or (a side without Kubernetes) its EC2 targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub route: String,
    pub side: Side,
    /// Whether the side has a cluster: without one, its targets are EC2.
    pub kube: bool,
    pub workload: Option<WorkloadKey>,
    pub stop: Option<StopSpec>,
    /// The nodes holding the workload's pods, each with how many.
    pub nodes: Vec<(Node, u32)>,
    /// The side's targets by instance id (EC2 behind the ALB).
    pub instances: Vec<String>,
}

/// What one gather found: the facts the risks are judged from, and where
/// each route's pods are.
#[derive(Debug, Clone, PartialEq)]
pub struct Gathered {
    pub facts: LifecycleFacts,
    pub placement: Vec<Placement>,
}

impl Gathered {
    /// The routes' sides as the risks see them.
    pub fn route_sides(&self) -> Vec<RouteSide<'_>> {
        self.placement
            .iter()
            .map(|p| RouteSide {
                route: &p.route,
                side: p.side,
                workload: p.workload.as_ref().filter(|_| p.kube).map(|key| (key, p.stop)),
                target_group: self.facts.route_target_group(&p.route, p.side),
                nodes: p.nodes.iter().map(|(n, c)| (n, *c)).collect(),
                instances: p.instances.iter().map(String::as_str).collect(),
            })
            .collect()
    }

    /// What the node-signal sources watch for: the instances holding the
    /// routes' pods or serving as their targets, and their groups.
    pub fn known(&self) -> Known {
        let instances = instances_of(&self.placement);
        let groups = self
            .facts
            .scaling_groups
            .iter()
            .filter(|g| g.instances.iter().any(|i| instances.contains(i)))
            .map(|g| g.name.clone())
            .collect();
        Known { instances, groups }
    }
}

/// The EC2 instances holding the routes: the nodes holding their pods, and
/// the targets of a side without Kubernetes.
fn instances_of(placement: &[Placement]) -> BTreeSet<String> {
    placement
        .iter()
        .flat_map(|p| p.nodes.iter().filter_map(|(n, _)| n.instance_id.clone()).chain(p.instances.clone()))
        .collect()
}

/// The instances and Auto Scaling groups that hold the routes, as the last
/// gather found them: what the Auto Scaling and CloudTrail sources read
/// about, so that a whole account's terminations stay out of the console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    pub instances: BTreeSet<String>,
    pub groups: BTreeSet<String>,
}

/// A node-signal source's start: its health `Connecting`, then the
/// lifecycle reader's first gather, which names what it reads about.
/// False when the console is gone or the session ends first.
pub async fn first_known(
    tx: &tokio::sync::mpsc::Sender<Msg>,
    id: crate::app::SourceId,
    known: &mut tokio::sync::watch::Receiver<Known>,
    cancel: &tokio_util::sync::CancellationToken,
) -> bool {
    if tx.send(Msg::Source { id, state: crate::app::SourceState::Connecting }).await.is_err() {
        return false;
    }
    tokio::select! {
        _ = cancel.cancelled() => false,
        changed = known.changed() => changed.is_ok(),
    }
}

/// The lines said of what could not be read, each once.
#[derive(Debug, Default)]
struct Unread(Vec<String>);

impl Unread {
    fn say(&mut self, line: String) {
        if !self.0.contains(&line) {
            self.0.push(line);
        }
    }

    /// A failed AWS call: denied names the IAM action; any other failure
    /// its one readable line. `loses` says what is not judged without it.
    fn aws<E>(&mut self, err: &SdkError<E, HttpResponse>, action: &str, loses: &str)
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let failure = aws::failure(err, action);
        self.say(match failure.fault {
            Fault::Denied => format!("{action} denied: {loses}"),
            _ => format!("{action} failed ({}): {loses}", failure.text),
        });
    }

    /// A failed Kubernetes call on a side: denied names the verb and the
    /// resource the reader needs.
    fn kube(&mut self, side: Side, e: &kube::Error, needs: &str, loses: &str) {
        let e = KubeError::of(e);
        self.say(match e.fault {
            Fault::Denied => format!("[{side}] {needs} denied: {loses}"),
            _ => format!("[{side}] {needs} failed ({e}): {loses}"),
        });
    }
}

/// Reads every lifecycle fact of the plan once.
pub async fn gather(plan: &Plan, readers: &Readers) -> Gathered {
    let mut unread = Unread::default();
    let routes = route_target_groups(plan, readers, &mut unread).await;
    let arns: BTreeSet<&str> = routes.iter().map(|r| r.target_group.as_str()).collect();
    let target_groups = target_group_facts(&readers.elb, &arns, &mut unread).await;
    let mut clusters = PerSide::new(None, None);
    let mut placement = Vec::new();
    for side in Side::BOTH {
        match (plan.cluster(side), readers.kube.get(side)) {
            (Some(_), Some(client)) => {
                *clusters.get_mut(side) = Some(cluster_facts(plan, side, client, &mut unread).await);
                placement.extend(pod_placement(plan, side, client, &mut unread).await);
            }
            // A cluster whose client could not be built: nothing of it is
            // judged (its own check says why), and it is no EC2 side.
            (Some(_), None) => {
                unread
                    .say(format!("[{side}] the cluster could not be read: its pods' and nodes' risks are not judged"));
                placement.extend(plan.routes.iter().map(|r| Placement { kube: true, ..nothing_read(r, side) }));
            }
            (None, _) => placement.extend(ec2_placement(plan, side, &routes, &readers.elb, &mut unread).await),
        }
    }
    let scaling_groups = scaling_groups(&readers.autoscaling, &instances_of(&placement), &mut unread).await;
    let facts =
        LifecycleFacts { at: Timestamp::now(), clusters, routes, target_groups, scaling_groups, unread: unread.0 };
    Gathered { facts, placement }
}

/// The target group carrying each route's side: an ALB route's from the
/// plan; a Route 53 route's, the one target group of the side's load
/// balancer. A load balancer that forwards to several target groups (by
/// rule) or to none names no one group for the route: that side's target
/// group settings are not judged, rather than guessed.
async fn route_target_groups(plan: &Plan, readers: &Readers, unread: &mut Unread) -> Vec<RouteTargetGroup> {
    let mut out = Vec::new();
    for (i, route) in plan.routes.iter().enumerate() {
        match &route.target {
            RouteTarget::Alb(a) => {
                for side in Side::BOTH {
                    out.push(RouteTargetGroup {
                        route: route.name.clone(),
                        side,
                        target_group: a.target_group(side).0.clone(),
                    });
                }
            }
            RouteTarget::Route53(r) => {
                let routed = route.routed(crate::domain::RouteId::of(i), r);
                out.extend(dns_route_groups(&routed, readers, unread).await);
            }
        }
    }
    out
}

async fn dns_route_groups(
    route: &crate::plan::Routed<crate::plan::Route53Route>,
    readers: &Readers,
    unread: &mut Unread,
) -> Vec<RouteTargetGroup> {
    let loses = format!("route {}: its target groups' settings are not judged", route.name());
    let pair = match route53::read(&readers.route53, route).await {
        Ok(pair) => pair,
        Err(e) => {
            unread.say(format!(
                "route {}: records not read ({e}): its target groups' settings are not judged",
                route.name()
            ));
            return Vec::new();
        }
    };
    let lbs = match route53::load_balancers(&readers.elb, route, &pair).await {
        Ok(lbs) => lbs,
        Err(e) => {
            unread.say(format!("route {}: load balancers not found ({e}): {loses}", route.name()));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for side in Side::BOTH {
        match route53::target_groups(&readers.elb, &lbs.get(side).arn).await {
            Ok(groups) if groups.len() == 1 => {
                out.push(RouteTargetGroup { route: route.name().to_string(), side, target_group: groups[0].0.clone() })
            }
            Ok(_) => {}
            Err(e) => unread.say(format!("{} ({side}): {loses}", e.text)),
        }
    }
    out
}

/// Each target group's type and deregistration delay: one
/// DescribeTargetGroups for all, one DescribeTargetGroupAttributes each.
async fn target_group_facts(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    arns: &BTreeSet<&str>,
    unread: &mut Unread,
) -> Vec<TargetGroupFacts> {
    if arns.is_empty() {
        return Vec::new();
    }
    let described = elb
        .describe_target_groups()
        .set_target_group_arns(Some(arns.iter().map(|a| a.to_string()).collect()))
        .send()
        .await;
    let groups = match described {
        Ok(out) => out.target_groups().to_vec(),
        Err(e) => {
            unread.aws(
                &e,
                "elasticloadbalancing:DescribeTargetGroups",
                "the routes' target types are not known, so the pods' stop settings are not judged",
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for g in groups {
        let Some(arn) = g.target_group_arn() else { continue };
        let target_type = match g.target_type().map(|t| t.as_str()) {
            Some("ip") => TargetType::Ip,
            Some("instance") => TargetType::Instance,
            _ => TargetType::Other,
        };
        let Some(delay) = deregistration_delay(elb, arn, unread).await else { continue };
        out.push(TargetGroupFacts {
            arn: arn.to_string(),
            name: g
                .target_group_name()
                .map_or_else(|| Arn(arn.to_string()).target_group_name().to_string(), str::to_string),
            target_type,
            deregistration_delay_secs: delay,
        });
    }
    out
}

/// A target group's `deregistration_delay.timeout_seconds` (300 when not
/// set); None when it could not be read.
async fn deregistration_delay(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
    unread: &mut Unread,
) -> Option<u32> {
    match elb.describe_target_group_attributes().target_group_arn(arn).send().await {
        Ok(out) => Some(
            out.attributes()
                .iter()
                .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
                .and_then(|a| a.value()?.parse().ok())
                .unwrap_or(DEFAULT_DEREGISTRATION_DELAY_SECS),
        ),
        Err(e) => {
            unread.aws(
                &e,
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "the grace periods are not compared with the deregistration delay",
            );
            None
        }
    }
}

/// One cluster's termination handlers and the readiness gate of the
/// plan's namespaces.
async fn cluster_facts(plan: &Plan, side: Side, client: &Client, unread: &mut Unread) -> ClusterFacts {
    ClusterFacts {
        handlers: handlers(side, client, unread).await,
        readiness_gate: readiness_gates(plan, side, client, unread).await,
    }
}

/// NTH (DaemonSet or Deployment) and Karpenter (Deployment) in all
/// namespaces, found by their charts' labels. None when a list failed: a
/// list not read is no evidence that nothing runs.
async fn handlers(side: Side, client: &Client, unread: &mut Unread) -> Option<Vec<Handler>> {
    const LOSES: &str = "Spot and rebalance risks are not judged";
    let mut found = Vec::new();
    let nth = ListParams::default().labels(NTH_SELECTOR);
    match Api::<DaemonSetHandlerObj>::all(client.clone()).list(&nth).await {
        Ok(list) => found.extend(list.items.iter().map(|d| nth_handler(&d.metadata))),
        Err(e) => {
            unread.kube(side, &e, "list daemonsets.apps cluster-wide", LOSES);
            return None;
        }
    }
    let deployments = Api::<DeploymentHandlerObj>::all(client.clone());
    match deployments.list(&nth).await {
        Ok(list) => found.extend(list.items.iter().map(|d| nth_handler(&d.metadata))),
        Err(e) => {
            unread.kube(side, &e, "list deployments.apps cluster-wide", LOSES);
            return None;
        }
    }
    match deployments.list(&ListParams::default().labels(KARPENTER_SELECTOR)).await {
        Ok(list) => found.extend(list.items.iter().map(|d| Handler::Karpenter {
            workload: workload_name(&d.metadata),
            interruption_queue:
                d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).and_then(|s| interruption_queue(&s.containers)),
        })),
        Err(e) => {
            unread.kube(side, &e, "list deployments.apps cluster-wide", LOSES);
            return None;
        }
    }
    Some(found)
}

fn nth_handler(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Handler {
    Handler::TerminationHandler { workload: workload_name(meta) }
}

fn workload_name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    format!("{}/{}", meta.namespace.as_deref().unwrap_or_default(), meta.name.as_deref().unwrap_or_default())
}

/// Karpenter's interruption queue: the env `INTERRUPTION_QUEUE` (v0.32 and
/// later), `INTERRUPTION_QUEUE_NAME` (older), or an `--interruption-queue`
/// argument. An empty value is no queue.
pub fn interruption_queue(containers: &[HandlerContainer]) -> Option<String> {
    let from_env = containers.iter().flat_map(|c| &c.env).find_map(|e| match e.name.as_str() {
        "INTERRUPTION_QUEUE" | "INTERRUPTION_QUEUE_NAME" => e.value.clone(),
        _ => None,
    });
    let from_args = || {
        let args: Vec<&str> = containers.iter().flat_map(|c| c.args.iter().map(String::as_str)).collect();
        args.iter().enumerate().find_map(|(i, a)| match a.strip_prefix("--interruption-queue") {
            Some(rest) if rest.starts_with('=') => Some(rest[1..].to_string()),
            Some("") => args.get(i + 1).map(|v| v.to_string()),
            _ => None,
        })
    };
    from_env.or_else(from_args).map(|q| q.trim().to_string()).filter(|q| !q.is_empty())
}

/// Whether each of the plan's namespaces has the readiness gate label. A
/// namespace that could not be read is left out.
async fn readiness_gates(plan: &Plan, side: Side, client: &Client, unread: &mut Unread) -> BTreeMap<String, bool> {
    let api = Api::<NamespaceObj>::all(client.clone());
    let mut out = BTreeMap::new();
    for ns in &plan.namespaces {
        match api.get_opt(ns).await {
            Ok(Some(n)) => {
                let label = n.metadata.labels.as_ref().and_then(|l| l.get(READINESS_GATE_LABEL));
                out.insert(ns.clone(), label.is_some_and(|v| v == "enabled"));
            }
            Ok(None) => {}
            Err(e) => unread.kube(side, &e, "get namespaces", "the pod readiness gate is not judged"),
        }
    }
    out
}

/// Where each route's pods are on a side with a cluster: the workload's
/// selector, its pods, their nodes.
async fn pod_placement(plan: &Plan, side: Side, client: &Client, unread: &mut Unread) -> Vec<Placement> {
    let mut nodes: Option<BTreeMap<String, Node>> = None;
    let mut out = Vec::new();
    for route in &plan.routes {
        let mut p = Placement {
            route: route.name.clone(),
            side,
            kube: true,
            workload: route.workload.clone(),
            stop: None,
            nodes: Vec::new(),
            instances: Vec::new(),
        };
        if let Some(key) = &route.workload
            && let Some((stop, selector)) = workload_of(side, client, key, unread).await
        {
            p.stop = stop;
            let on = match &selector {
                Some(selector) => pods_by_node(side, client, key, selector, unread).await,
                None => BTreeMap::new(),
            };
            if !on.is_empty() && nodes.is_none() {
                nodes = Some(all_nodes(side, client, unread).await);
            }
            let known = nodes.as_ref();
            p.nodes = on.into_iter().filter_map(|(name, count)| Some((known?.get(&name)?.clone(), count))).collect();
        }
        out.push(p);
    }
    out
}

/// How the workload's pods stop and its pods' selector: the Deployment,
/// or the StatefulSet of that name. None when neither could be read; no
/// selector when its selector has no `matchLabels` (expressions only: its
/// pods are not listed, rather than a whole namespace's).
async fn workload_of(
    side: Side,
    client: &Client,
    key: &WorkloadKey,
    unread: &mut Unread,
) -> Option<(Option<StopSpec>, Option<String>)> {
    let loses = format!("{key}: how its pods stop is not judged");
    let spec = match Api::<DeploymentObj>::namespaced(client.clone(), &key.namespace).get_opt(&key.name).await {
        Ok(Some(d)) => d.spec,
        Ok(None) => match Api::<StatefulSetObj>::namespaced(client.clone(), &key.namespace).get_opt(&key.name).await {
            Ok(found) => found?.spec,
            Err(e) => {
                unread.kube(side, &e, &format!("get statefulsets.apps in namespace {}", key.namespace), &loses);
                return None;
            }
        },
        Err(e) => {
            unread.kube(side, &e, &format!("get deployments.apps in namespace {}", key.namespace), &loses);
            return None;
        }
    }?;
    let stop = kube_source::stop_spec(spec.template.spec.as_ref());
    let labels = spec.selector.and_then(|s| s.match_labels).unwrap_or_default();
    let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Some((stop, (!selector.is_empty()).then(|| selector.join(","))))
}

/// How many of the workload's pods each node holds.
async fn pods_by_node(
    side: Side,
    client: &Client,
    key: &WorkloadKey,
    selector: &str,
    unread: &mut Unread,
) -> BTreeMap<String, u32> {
    let mut on = BTreeMap::new();
    let api = Api::<PodObj>::namespaced(client.clone(), &key.namespace);
    match api.list(&ListParams::default().labels(selector)).await {
        Ok(list) => {
            for pod in &list.items {
                if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
                    *on.entry(node).or_insert(0) += 1;
                }
            }
        }
        Err(e) => unread.kube(
            side,
            &e,
            &format!("list pods in namespace {}", key.namespace),
            &format!("{key}: the nodes of its pods are not judged"),
        ),
    }
    on
}

/// The side's nodes, trimmed as the watch trims them (capacity type,
/// instance id).
async fn all_nodes(side: Side, client: &Client, unread: &mut Unread) -> BTreeMap<String, Node> {
    match Api::<NodeObj>::all(client.clone()).list(&ListParams::default()).await {
        Ok(list) => list
            .items
            .iter()
            .filter_map(|n| match kube_source::trim_node(n) {
                Some(ClusterDelta::Node(node)) => Some((node.name.clone(), node)),
                _ => None,
            })
            .collect(),
        Err(e) => {
            unread.kube(side, &e, "list nodes", "the nodes of the routes' pods are not judged");
            BTreeMap::new()
        }
    }
}

/// A side without Kubernetes: each route's targets on that side, by EC2
/// instance id, from its target group's health.
async fn ec2_placement(
    plan: &Plan,
    side: Side,
    routes: &[RouteTargetGroup],
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    unread: &mut Unread,
) -> Vec<Placement> {
    let mut out = Vec::new();
    for route in &plan.routes {
        let mut p = nothing_read(route, side);
        let tg = routes.iter().find(|r| r.route == route.name && r.side == side);
        if let Some(tg) = tg {
            match elb.describe_target_health().target_group_arn(&tg.target_group).send().await {
                Ok(out) => {
                    p.instances = out
                        .target_health_descriptions()
                        .iter()
                        .filter_map(|d| crate::domain::lifecycle::instance_of(d.target()?.id()?))
                        .map(str::to_string)
                        .collect();
                }
                Err(e) => unread.aws(
                    &e,
                    "elasticloadbalancing:DescribeTargetHealth",
                    "the EC2 targets' Auto Scaling groups are not judged",
                ),
            }
        }
        out.push(p);
    }
    out
}

/// A route's side with nothing read of it yet.
fn nothing_read(route: &PlanRoute, side: Side) -> Placement {
    Placement {
        route: route.name.clone(),
        side,
        kube: false,
        workload: None,
        stop: None,
        nodes: Vec::new(),
        instances: Vec::new(),
    }
}

/// The Auto Scaling groups holding the instances: DescribeAutoScalingInstances
/// (50 ids a call) for their names, then DescribeAutoScalingGroups.
async fn scaling_groups(
    client: &aws_sdk_autoscaling::Client,
    instances: &BTreeSet<String>,
    unread: &mut Unread,
) -> Vec<ScalingGroup> {
    let ids: Vec<&String> = instances.iter().collect();
    let mut names = BTreeSet::new();
    for chunk in ids.chunks(INSTANCES_PER_CALL) {
        let call = client
            .describe_auto_scaling_instances()
            .set_instance_ids(Some(chunk.iter().map(|s| s.to_string()).collect()))
            .max_records(INSTANCES_PER_CALL as i32)
            .send()
            .await;
        match call {
            Ok(out) => names.extend(
                out.auto_scaling_instances().iter().filter_map(|i| i.auto_scaling_group_name()).map(str::to_string),
            ),
            Err(e) => {
                unread.aws(
                    &e,
                    "autoscaling:DescribeAutoScalingInstances",
                    "the nodes' Auto Scaling groups are not known, so capacity rebalance is not judged",
                );
                return Vec::new();
            }
        }
    }
    if names.is_empty() {
        return Vec::new();
    }
    let call = client.describe_auto_scaling_groups().set_auto_scaling_group_names(Some(names.into_iter().collect()));
    match call.send().await {
        Ok(out) => out.auto_scaling_groups().iter().map(scaling_group).collect(),
        Err(e) => {
            unread.aws(
                &e,
                "autoscaling:DescribeAutoScalingGroups",
                "capacity rebalance of the node groups is not judged",
            );
            Vec::new()
        }
    }
}

fn scaling_group(g: &aws_sdk_autoscaling::types::AutoScalingGroup) -> ScalingGroup {
    ScalingGroup {
        name: g.auto_scaling_group_name().unwrap_or_default().to_string(),
        node_group: g
            .tags()
            .iter()
            .find(|t| t.key() == Some(NODE_GROUP_TAG))
            .and_then(|t| t.value())
            .map(str::to_string),
        capacity_rebalance: g.capacity_rebalance().unwrap_or(false),
        instances: g.instances().iter().filter_map(|i| i.instance_id()).map(str::to_string).collect(),
        target_groups: g.target_group_arns().to_vec(),
    }
}

/// The live reader: gathers at the start and every five minutes, sends
/// the facts, and shares what it found holding the routes with the node
/// signal sources (`known`).
pub async fn run(
    plan: Plan,
    readers: Readers,
    known: watch::Sender<Known>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    loop {
        let gathered = tokio::select! {
            _ = cancel.cancelled() => return,
            g = gather(&plan, &readers) => g,
        };
        known.send_replace(gathered.known());
        if tx.send(Msg::Lifecycle(gathered.facts)).await.is_err() {
            return;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::kube::EnvVar;

    fn container(env: Vec<EnvVar>, args: Vec<String>) -> HandlerContainer {
        HandlerContainer { env, args }
    }

    fn env(name: &str, value: &str) -> EnvVar {
        EnvVar { name: name.into(), value: Some(value.into()) }
    }

    #[test]
    fn karpenters_queue_is_read_from_env_or_args() {
        assert_eq!(interruption_queue(&[container(vec![env("INTERRUPTION_QUEUE", "q1")], vec![])]), Some("q1".into()));
        assert_eq!(
            interruption_queue(&[container(vec![env("INTERRUPTION_QUEUE_NAME", "old-q")], vec![])]),
            Some("old-q".into())
        );
        assert_eq!(interruption_queue(&[container(vec![], vec!["--interruption-queue=q2".into()])]), Some("q2".into()));
        assert_eq!(
            interruption_queue(&[container(vec![], vec!["--interruption-queue".into(), "q3".into()])]),
            Some("q3".into())
        );
        assert_eq!(interruption_queue(&[container(vec![env("INTERRUPTION_QUEUE", "")], vec![])]), None);
        assert_eq!(interruption_queue(&[container(vec![env("CLUSTER_NAME", "eks")], vec![])]), None);
    }
}
