//! The nodes of each side: the node groups' capacity, scheduling onto
//! it, and drains (rebalance recommendations, spot interruptions,
//! Karpenter consolidation) from the first signal to the node's removal,
//! with the evictions, the replacements and the 5xx they cause.

use jiff::Timestamp;

use crate::app::ClusterDelta;
use crate::domain::{Capacity, KubeWarning, Node, NodeEvent, NodeSignalKind, PodKey, Side, WorkloadKind, plus_secs};

use super::World;
use crate::sim::Rng;

/// The EC2 instance id of the world's `seq`th node, `i-0` and 16 hex
/// digits as EC2 writes them. Drawn from a generator of its own, seeded by
/// the node's number, so the world's draws (and so the rest of the demo)
/// are the same as without it.
fn instance_id(seq: u32) -> String {
    format!("i-0{:016x}", Rng::new(u64::from(seq)).next_u64())
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum DrainKind {
    Rebalance,
    Interruption,
    /// Karpenter consolidates an underutilized node: taints it
    /// `karpenter.sh/disrupted`, launches a cheaper replacement, says
    /// `DisruptionTerminating` ("Underutilized") on the Node, drains it and
    /// removes it.
    Consolidation,
}

#[derive(Debug, Clone)]
pub(super) struct SimNode {
    pub(super) node: Node,
    pub(super) gpu: bool,
    /// Drain timeline, relative to its start, for the node being replaced.
    pub(super) drain: Option<(DrainKind, Timestamp)>,
}

impl World {
    /// Starts the incidents due: scripted first, then the recurring random
    /// ones on the new side.
    pub(super) fn step_incidents(&mut self) {
        let now = self.now;
        while let Some(&(at, side, kind)) = self.script.first() {
            if at > now {
                break;
            }
            self.script.remove(0);
            self.start_drain(side, kind);
        }
        if now >= self.next_incident {
            let kind = match self.rng.unit() {
                r if r < 0.7 => DrainKind::Rebalance,
                r if r < 0.85 => DrainKind::Consolidation,
                _ => DrainKind::Interruption,
            };
            self.start_drain(Side::New, kind);
            let gap = self.rng.between(6 * 60, 10 * 60);
            self.next_incident = plus_secs(now, gap);
        }
    }

    pub(super) fn add_nodes(&mut self, side: Side) {
        let general = (4 * self.scale).div_ceil(2).max(4);
        match side {
            // The old cluster predates spot: on-demand only, plus one GPU host.
            Side::Old => {
                for _ in 0..general + 2 {
                    self.add_node(side, Capacity::OnDemand, "m5.2xlarge", false);
                }
                self.add_node(side, Capacity::OnDemand, "p3.2xlarge", true);
            }
            Side::New => {
                for _ in 0..general.div_ceil(2) {
                    self.add_node(side, Capacity::OnDemand, "m6i.2xlarge", false);
                }
                for _ in 0..general {
                    self.add_node(side, Capacity::Spot, "m6i.2xlarge", false);
                }
                self.add_node(side, Capacity::OnDemand, "g5.xlarge", true);
            }
        }
    }

    fn add_node(&mut self, side: Side, capacity: Capacity, instance_type: &str, gpu: bool) -> String {
        self.node_seq += 1;
        let subnet = match side {
            Side::Old => 0,
            Side::New => 1,
        };
        let name = format!("ip-10-{subnet}-{}-{}.ec2.internal", self.rng.between(16, 63), self.node_seq * 7 % 250 + 2);
        let node =
            Node { instance_id: Some(instance_id(self.node_seq)), ..Node::new(name.clone(), capacity, instance_type) };
        self.sides.get_mut(side).nodes.insert(name.clone(), SimNode { node, gpu, drain: None });
        self.facts_stale = true;
        name
    }

    pub(super) fn pick_node(&self, side: Side, gpu: bool) -> Option<String> {
        let cluster = self.sides.get(side);
        cluster
            .nodes
            .values()
            .filter(|n| n.node.ready && !n.node.cordoned && n.node.disruptions.is_empty() && n.gpu == gpu)
            .min_by_key(|n| cluster.pods_on_node.get(&n.node.name).copied().unwrap_or(0))
            .map(|n| n.node.name.clone())
    }

    fn start_drain(&mut self, side: Side, kind: DrainKind) {
        let now = self.now;
        // Prefer a node that serves the API: the incident that matters. Spot
        // nodes are interrupted; Karpenter consolidates on-demand ones here.
        let wanted = match kind {
            DrainKind::Consolidation => Capacity::OnDemand,
            _ => Capacity::Spot,
        };
        let cluster = self.sides.get(side);
        let mut candidates: Vec<(&String, usize)> = cluster
            .nodes
            .iter()
            .filter(|(_, n)| n.node.capacity == wanted && !n.gpu && n.drain.is_none() && n.node.ready)
            .map(|(name, _)| {
                let api = cluster
                    .pods
                    .values()
                    .filter(|p| p.pod.node.as_ref() == Some(name) && p.pod.key.name.starts_with("api-"))
                    .count();
                (name, api)
            })
            .collect();
        candidates.sort_by_key(|(_, api)| std::cmp::Reverse(*api));
        let Some(name) = candidates.first().map(|(n, _)| (*n).clone()) else {
            return;
        };
        if let Some(node) = self.sides.get_mut(side).nodes.get_mut(&name) {
            node.drain = Some((kind, now));
        }
    }

    pub(super) fn step_nodes(&mut self, side: Side) {
        let now = self.now;
        let draining: Vec<(String, DrainKind, i64)> = self
            .sides
            .get(side)
            .nodes
            .values()
            .filter_map(|n| n.drain.map(|(k, t0)| (n.node.name.clone(), k, now.as_second() - t0.as_second())))
            .collect();
        for (name, kind, t) in draining {
            // Timelines: a rebalance recommendation is acted on at once (the
            // group launches a replacement, EKS drains the old node); an
            // interruption notice gives two minutes before the instance goes;
            // Karpenter launches the replacement before it drains (no cordon:
            // its NoSchedule taint keeps new pods off).
            let (cordon_at, evict_at, not_ready_at, gone_at) = match kind {
                DrainKind::Rebalance => (Some(10), 20, None, 120),
                DrainKind::Interruption => (Some(5), 10, Some(120), 150),
                DrainKind::Consolidation => (None, 15, None, 60),
            };
            let mut changed = false;
            // No termination handler runs: a rebalance or an interruption
            // shows on the node only as the cordon EKS's drain makes (the
            // group's lifecycle hook); EC2's records say why, later.
            if t == 0 && kind == DrainKind::Consolidation {
                self.node_mut(side, &name).disruptions.push(NodeSignalKind::KarpenterDisrupted);
                changed = true;
            }
            if Some(t) == cordon_at {
                self.node_mut(side, &name).cordoned = true;
                self.record_outside(side, &name, kind, now);
                changed = true;
            }
            if kind == DrainKind::Consolidation && t == 10 {
                let fresh = self.add_node(side, Capacity::OnDemand, "m7i.xlarge", false);
                let node = self.sides.get(side).nodes[&fresh].node.clone();
                self.emit(side, ClusterDelta::Node(node));
            }
            if t == evict_at {
                if kind == DrainKind::Consolidation {
                    let event = NodeEvent {
                        at: now,
                        node: name.clone(),
                        kind: NodeSignalKind::KarpenterConsolidation,
                        reason: "DisruptionTerminating".into(),
                    };
                    self.emit(side, ClusterDelta::NodeEvent(event));
                }
                self.evict(side, &name, kind);
            }
            if Some(t) == not_ready_at {
                self.node_mut(side, &name).ready = false;
                changed = true;
            }
            if changed {
                let node = self.node_mut(side, &name).clone();
                self.emit(side, ClusterDelta::Node(node));
            }
            if t == gone_at {
                self.facts_stale = true;
                let cluster = self.sides.get_mut(side);
                cluster.nodes.remove(&name);
                cluster.pods_on_node.remove(&name);
                self.emit(side, ClusterDelta::NodeGone(name));
                // The node group replaces the capacity (Karpenter already has).
                if kind != DrainKind::Consolidation {
                    let fresh = self.add_node(side, Capacity::Spot, "m6i.2xlarge", false);
                    let node = self.sides.get(side).nodes[&fresh].node.clone();
                    self.emit(side, ClusterDelta::Node(node));
                }
            }
        }
    }

    fn node_mut(&mut self, side: Side, name: &str) -> &mut Node {
        &mut self
            .sides
            .get_mut(side)
            .nodes
            .get_mut(name)
            .unwrap_or_else(|| unreachable!("node {name} is draining, so it exists"))
            .node
    }

    /// Drains a node: every pod on it is deleted and its workload's
    /// controller creates a replacement elsewhere, Pending until it boots.
    fn evict(&mut self, side: Side, node: &str, kind: DrainKind) {
        let now = self.now;
        let victims: Vec<PodKey> = self
            .sides
            .get(side)
            .pods
            .values()
            .filter(|p| p.pod.node.as_deref() == Some(node))
            .map(|p| p.pod.key.clone())
            .collect();
        let reason = match kind {
            DrainKind::Rebalance => Some("rebalance recommendation"),
            DrainKind::Interruption => Some("spot interruption"),
            // Karpenter says it with its Normal Event, not a Warning.
            DrainKind::Consolidation => None,
        };
        if let Some(reason) = reason {
            self.emit(
                side,
                ClusterDelta::Warning(KubeWarning {
                    at: now,
                    object: format!("Node/{}", crate::domain::short_node(node)),
                    reason: "Drain".into(),
                    message: format!("evicting {} pods ({reason})", victims.len()),
                }),
            );
        }
        let mut api_hit = 0;
        let mut owners = Vec::new();
        for key in victims {
            let Some(pod) = self.sides.get_mut(side).remove_pod(&key) else { continue };
            self.emit(side, ClusterDelta::PodGone(key));
            if let Some(owner) = pod.pod.owner {
                if owner.name == "api" {
                    api_hit += 1;
                }
                let kind = self.sides.get(side).workloads[&owner].workload.kind;
                if kind != WorkloadKind::CronJob {
                    owners.push((owner, pod.pod.key.name));
                }
            }
        }
        for (owner, old_name) in owners {
            let ordinal = old_name.rsplit('-').next().and_then(|n| n.parse().ok());
            let key = self.spawn_pod(side, &owner, ordinal, false);
            let pod = self.sides.get(side).pods[&key].pod.clone();
            self.emit(side, ClusterDelta::Pod(pod));
            self.refresh_workload(side, &owner, true);
        }
        // In-flight requests on the evicted API pods are cut: the ALB sees
        // resets (502) and timeouts (504) until the targets deregister.
        if api_hit > 0 {
            let cluster = self.sides.get_mut(side);
            cluster.reset_burst_until = Some(plus_secs(now, 90));
            cluster.reset_severity = match kind {
                DrainKind::Rebalance => 0.02,
                DrainKind::Interruption => 0.05,
                DrainKind::Consolidation => 0.015,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::domain::NodeRef;
    use crate::sim::SimConfig;

    /// Every node of the demo is an EC2 instance with an id of its own, so
    /// a signal that names an instance finds its node in the demo too.
    #[test]
    fn the_demo_nodes_are_ec2_instances_each_with_its_own_id() {
        let start = "2026-11-25T14:00:00Z".parse().unwrap();
        let mut world = World::new(&SimConfig { seed: 2026, start, scale: 1 });
        // By name: a node that changed is sent again.
        let mut nodes = std::collections::BTreeMap::new();
        for msg in world.initial() {
            if let crate::app::Msg::Cluster { delta: ClusterDelta::Node(node), .. } = msg {
                nodes.insert(node.name.clone(), node);
            }
        }
        assert!(nodes.len() > 10, "{}", nodes.len());
        let ids: HashSet<&str> = nodes.values().filter_map(|n| n.instance_id.as_deref()).collect();
        assert_eq!(ids.len(), nodes.len(), "one id each");
        for id in &ids {
            assert!(id.len() == 19 && id.starts_with("i-0") && id[2..].chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        }
        for node in nodes.values() {
            let reference = NodeRef::Instance(node.instance_id.clone().unwrap_or_default());
            assert_eq!(reference.find(&nodes), Some(node));
        }
    }
}
