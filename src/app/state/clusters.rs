//! Each side's cluster as the watches last told it, indexed by workload,
//! and what the pods leaving a node are put down to.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{Autoscaler, Health, Node, NodeSignalKind, Pod, PodKey, PodPhase, Workload, WorkloadKey};

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
