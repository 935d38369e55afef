//! The workloads and their pods: pods created and scheduled, becoming
//! ready, crash-looping, finishing as jobs, started by cron, terminating;
//! and each workload's status recomputed from its pods.

use jiff::Timestamp;

use crate::app::ClusterDelta;
use crate::domain::{
    Exit, KubeWarning, Minute, Pod, PodKey, PodPhase, Side, Workload, WorkloadKey, WorkloadKind, plus_secs,
};

use super::World;

#[derive(Debug, Clone)]
pub(super) struct SimWorkload {
    pub(super) workload: Workload,
    /// Schedules only on GPU nodes.
    pub(super) gpu: bool,
    /// Its pods are killed on start, out of memory (the new GPU AMI's driver
    /// takes more than the limit allows).
    pub(super) crashloop: bool,
    /// CronJob: runs every this many minutes (the demo's stand-in for cron).
    pub(super) every_minutes: Option<i64>,
    pub(super) template_hash: String,
}

#[derive(Debug, Clone)]
pub(super) struct SimPod {
    pub(super) pod: Pod,
    /// Becomes ready at this time (scheduling, image pull, boot).
    pub(super) ready_at: Option<Timestamp>,
    /// A crash-looping pod restarts again at this time.
    pub(super) next_restart: Option<Timestamp>,
    /// A job pod finishes at this time.
    pub(super) finish_at: Option<Timestamp>,
    /// A terminating pod is gone at this time (its grace period).
    pub(super) remove_at: Option<Timestamp>,
    pub(super) ip: String,
}

impl World {
    /// Creates a pod for a workload on the least-loaded schedulable node.
    pub(super) fn spawn_pod(&mut self, side: Side, key: &WorkloadKey, ordinal: Option<u32>, up: bool) -> PodKey {
        let now = self.now;
        let (kind, hash, gpu) = {
            let w = &self.sides.get(side).workloads[key];
            (w.workload.kind, w.template_hash.clone(), w.gpu)
        };
        let name = match (kind, ordinal) {
            (WorkloadKind::StatefulSet, Some(i)) => format!("{}-{i}", key.name),
            (WorkloadKind::CronJob, _) => {
                format!("{}-{}-{}", key.name, Minute::containing(now).0, self.rng.suffix(5))
            }
            _ => format!("{}-{hash}-{}", key.name, self.rng.suffix(5)),
        };
        let node = self.pick_node(side, gpu);
        let boot = self.rng.between(20, 45);
        let ip = format!("10.{}.{}.{}", side.index(), self.rng.between(64, 127), self.rng.between(2, 254));
        let running = up && node.is_some();
        let pod = Pod {
            phase: if running { PodPhase::Running } else { PodPhase::Pending },
            ready: running,
            reason: (!running && node.is_some()).then(|| "ContainerCreating".to_string()),
            node,
            ..Pod::of(key, name, now)
        };
        let pod_key = pod.key.clone();
        let sim = SimPod {
            pod,
            ready_at: (!running).then(|| plus_secs(now, boot)),
            next_restart: None,
            finish_at: None,
            remove_at: None,
            ip,
        };
        self.sides.get_mut(side).insert_pod(sim);
        pod_key
    }

    pub(super) fn step_pods(&mut self, side: Side) {
        let now = self.now;
        let mut changed_pods = Vec::new();
        let mut finished_jobs = Vec::new();
        let cluster = self.sides.get_mut(side);
        let crashloopers: Vec<WorkloadKey> =
            cluster.workloads.values().filter(|w| w.crashloop).map(|w| w.workload.key.clone()).collect();
        for pod in cluster.pods.values_mut() {
            let crashes = pod.pod.owner.as_ref().is_some_and(|o| crashloopers.contains(o));
            if pod.ready_at.is_some_and(|t| t <= now) {
                pod.ready_at = None;
                if pod.pod.node.is_none() {
                    continue;
                }
                pod.pod.phase = PodPhase::Running;
                if crashes {
                    pod.next_restart = Some(now);
                } else {
                    pod.pod.ready = true;
                    pod.pod.reason = None;
                }
                changed_pods.push(pod.pod.key.clone());
            }
            if crashes && pod.pod.phase == PodPhase::Running && pod.next_restart.is_none() {
                pod.next_restart = Some(now);
            }
            if pod.next_restart.is_some_and(|t| t <= now) {
                pod.pod.restarts += 1;
                pod.pod.ready = false;
                pod.pod.reason = Some("CrashLoopBackOff".into());
                pod.pod.last_exit = Some(Exit { reason: "OOMKilled".into(), code: 137 });
                // Kubernetes doubles the back-off from 10 s up to 5 minutes.
                let backoff = (10i64 << pod.pod.restarts.min(5)).min(300);
                pod.next_restart = Some(plus_secs(now, backoff));
                changed_pods.push(pod.pod.key.clone());
            }
            if pod.remove_at.is_some_and(|t| t <= now) {
                finished_jobs.push(pod.pod.key.clone());
                continue;
            }
            if pod.finish_at.is_some_and(|t| t <= now) {
                pod.finish_at = None;
                pod.pod.phase = PodPhase::Succeeded;
                pod.pod.ready = false;
                pod.pod.reason = Some("Completed".into());
                changed_pods.push(pod.pod.key.clone());
                finished_jobs.push(pod.pod.key.clone());
            }
        }
        // Pending pods whose node is gone get another node.
        let unplaced: Vec<PodKey> = cluster
            .pods
            .values()
            .filter(|p| p.pod.node.is_none() && p.pod.phase == PodPhase::Pending)
            .map(|p| p.pod.key.clone())
            .collect();
        for key in unplaced {
            let gpu = self.sides.get(side).pods[&key]
                .pod
                .owner
                .as_ref()
                .is_some_and(|o| self.sides.get(side).workloads[o].gpu);
            if let Some(node) = self.pick_node(side, gpu) {
                self.sides.get_mut(side).place(&key, node);
                changed_pods.push(key);
            }
        }
        let mut owners = Vec::new();
        for key in &changed_pods {
            let Some(pod) = self.sides.get(side).pods.get(key) else { continue };
            let pod = pod.pod.clone();
            if pod.restarts > 0 && pod.reason.as_deref() == Some("CrashLoopBackOff") {
                let warning = KubeWarning {
                    at: now,
                    object: format!("Pod/{}/{}", pod.key.namespace, pod.key.name),
                    reason: "BackOff".into(),
                    message: "Back-off restarting failed container".into(),
                };
                if pod.restarts % 3 == 0 {
                    self.emit(side, ClusterDelta::Warning(warning));
                }
            }
            if let Some(owner) = &pod.owner {
                owners.push(owner.clone());
            }
            self.emit(side, ClusterDelta::Pod(pod));
        }
        // Finished job pods are cleaned up a little later by the TTL
        // controller; the demo removes them at once.
        for key in finished_jobs {
            if let Some(pod) = self.sides.get_mut(side).remove_pod(&key) {
                owners.extend(pod.pod.owner);
            }
            self.emit(side, ClusterDelta::PodGone(key));
        }
        owners.sort();
        owners.dedup();
        for owner in owners {
            self.refresh_workload(side, &owner, true);
        }
    }

    pub(super) fn step_crons(&mut self, side: Side) {
        let now = self.now;
        if now.as_second() % 60 != 0 {
            return;
        }
        let minute = Minute::containing(now).0;
        let due: Vec<WorkloadKey> = self
            .sides
            .get(side)
            .workloads
            .values()
            .filter(|w| !w.workload.suspended)
            .filter(|w| w.every_minutes.is_some_and(|every| minute % every == 0))
            .map(|w| w.workload.key.clone())
            .collect();
        for key in due {
            let pod_key = self.spawn_pod(side, &key, None, true);
            let run = self.rng.between(15, 50);
            if let Some(pod) = self.sides.get_mut(side).pods.get_mut(&pod_key) {
                pod.finish_at = Some(plus_secs(now, run));
                let pod = pod.pod.clone();
                self.emit(side, ClusterDelta::Pod(pod));
            }
            self.refresh_workload(side, &key, true);
        }
    }

    /// Recomputes a workload's status from its pods, emitting it if it moved.
    pub(super) fn refresh_workload(&mut self, side: Side, key: &WorkloadKey, emit: bool) {
        let cluster = self.sides.get(side);
        let pods = cluster.pods.values().filter(|p| p.pod.owner.as_ref() == Some(key));
        let (ready, running) = pods.fold((0, 0), |(r, n), p| {
            let up = p.pod.phase == PodPhase::Running;
            (r + u32::from(p.pod.ready), n + u32::from(up))
        });
        let Some(sim) = self.sides.get_mut(side).workloads.get_mut(key) else { return };
        let w = &mut sim.workload;
        let value = match w.kind {
            WorkloadKind::CronJob => running,
            _ => ready,
        };
        if w.ready != value || !emit {
            w.ready = value;
            if emit {
                let w = w.clone();
                self.emit(side, ClusterDelta::Workload(w));
            }
        }
    }

    /// A Deployment to `replicas`, its missing pods created as the
    /// controller would (terminating pods do not count towards replicas).
    pub(super) fn scale_up(&mut self, side: Side, key: &WorkloadKey, replicas: u32) {
        let Some(w) = self.sides.get_mut(side).workloads.get_mut(key) else { return };
        w.workload.desired = replicas;
        let workload = w.workload.clone();
        self.emit(side, ClusterDelta::Workload(workload));
        let have = self
            .sides
            .get(side)
            .pods
            .values()
            .filter(|p| p.pod.owner.as_ref() == Some(key) && p.remove_at.is_none())
            .count() as u32;
        for i in have..replicas {
            let pod_key = self.spawn_pod(side, key, Some(i), false);
            let pod = self.sides.get(side).pods[&pod_key].pod.clone();
            self.emit(side, ClusterDelta::Pod(pod));
        }
    }
}
