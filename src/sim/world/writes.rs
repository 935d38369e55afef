//! Writes to the world: the operator's effects, carried out as the live
//! executor would (check, write, read back), and the GitOps controller's
//! write that undoes a stop.

use crate::app::{ClusterDelta, Effect, EffectResult, Msg};
use crate::domain::{PodKey, RouteId, Side, Weight, Weights, WorkloadKey, WorkloadKind, plus_secs};

use super::World;
use super::routes::{CONTROLLER_RECONCILE_SECS, CONTROLLER_REVERT_SECS};

/// How long after a stop the demo's GitOps controller undoes it.
pub const SELF_HEAL_AFTER_SECS: i64 = 90;

impl World {
    /// Carries out an effect as the live executor would against the real
    /// APIs: checks first, writes, reads back.
    pub fn apply(&mut self, effect: &Effect) -> (EffectResult, Vec<Msg>) {
        let result = match effect {
            // The simulated routes hold the plan's two weights only: `all_old`
            // has no other target to set to 0.
            Effect::SetWeights { route, seen, to, .. } => self.apply_weights(*route, seen.as_deref(), *to),
            Effect::SetIngressWeights { route, ingress, to, .. } => {
                let now = self.now;
                let name = self.routes.get(route.index()).map(|r| r.spec.name.clone()).unwrap_or_default();
                match self.routes.get_mut(route.index()).and_then(|r| r.controller.as_mut()) {
                    Some(c) => {
                        c.annotation = *to;
                        c.next_write = Some(plus_secs(now, CONTROLLER_RECONCILE_SECS));
                        EffectResult::Verified {
                            detail: format!(
                                "Ingress {} on {}: {} set to old {} / new {}; waiting for the AWS Load Balancer Controller",
                                ingress.key,
                                ingress.side,
                                ingress.annotation(),
                                to.old.0,
                                to.new.0
                            ),
                        }
                    }
                    None => EffectResult::Refused { reason: format!("route {name} has no Ingress in this world") },
                }
            }
            Effect::Stop { side, key, then: Some(target), .. }
                if !self.sides.get(side.other()).workloads.contains_key(target) =>
            {
                EffectResult::Refused {
                    reason: format!(
                        "{target} does not exist on {}: it could not be started; nothing was stopped",
                        side.other()
                    ),
                }
            }
            Effect::Stop { side, key, kind, .. } => self.stop(*side, key, *kind),
            Effect::Start { side, key, kind, replicas, other, .. } => self.start(*side, key, *kind, *replicas, other),
            // The demo's console is its only driver: there is no Lease.
            Effect::TakeWheel { .. } => {
                EffectResult::Refused { reason: "the demo has one driver, you: there is no wheel to take".into() }
            }
        };
        (result, std::mem::take(&mut self.out))
    }

    fn apply_weights(&mut self, id: RouteId, seen: Option<&[(String, Weight)]>, to: Weights) -> EffectResult {
        let Some(r) = self.routes.get_mut(id.index()) else {
            return EffectResult::Failed { error: format!("no route #{}", id.0) };
        };
        let route = r.spec.name.clone();
        let weighted = |side: Side| r.spec.weighted(side).to_string();
        let now = vec![(weighted(Side::Old), r.weights.old), (weighted(Side::New), r.weights.new)];
        if let Some(seen) = seen
            && now.as_slice() != seen
        {
            return EffectResult::Refused {
                reason: format!(
                    "route {route} changed since you saw it: you saw {}, it is {}",
                    groups(seen),
                    groups(&now)
                ),
            };
        }
        r.weights = to;
        let back = r.weights;
        // The controller puts back a rule it owns at its next reconcile.
        if let Some(c) = r.controller.as_mut()
            && c.annotation != to
        {
            c.next_write = Some(plus_secs(self.now, CONTROLLER_REVERT_SECS));
        }
        self.read_routes();
        if back == to {
            EffectResult::Verified {
                detail: format!("route {route} reads back old {} / new {}", back.old.0, back.new.0),
            }
        } else {
            EffectResult::Mismatch {
                detail: format!("route {route} reads back old {} / new {}", back.old.0, back.new.0),
            }
        }
    }

    fn stop(&mut self, side: Side, key: &WorkloadKey, kind: WorkloadKind) -> EffectResult {
        let now = self.now;
        let Some(w) = self.sides.get_mut(side).workloads.get_mut(key) else {
            return EffectResult::Failed { error: format!("{key} not found on {side}") };
        };
        match kind {
            WorkloadKind::CronJob => w.workload.suspended = true,
            _ => w.workload.desired = 0,
        }
        w.workload.changed_by = Some("cutover".into());
        let workload = w.workload.clone();
        self.emit(side, ClusterDelta::Workload(workload));
        if side == Side::Old && key.namespace == "app" && key.name == "scheduler" && !self.self_healed {
            self.self_heal = Some(plus_secs(now, SELF_HEAL_AFTER_SECS));
        }
        if kind != WorkloadKind::CronJob {
            // The controller deletes the pods; each takes its grace period.
            let pods: Vec<PodKey> = self
                .sides
                .get(side)
                .pods
                .values()
                .filter(|p| p.pod.owner.as_ref() == Some(key))
                .map(|p| p.pod.key.clone())
                .collect();
            for pod_key in pods {
                let secs = self.rng.between(6, 14);
                if let Some(p) = self.sides.get_mut(side).pods.get_mut(&pod_key) {
                    p.pod.ready = false;
                    p.pod.reason = Some("Terminating".into());
                    p.remove_at = Some(plus_secs(now, secs));
                    let pod = p.pod.clone();
                    self.emit(side, ClusterDelta::Pod(pod));
                }
            }
            self.refresh_workload(side, key, true);
        }
        EffectResult::Verified {
            detail: format!(
                "{key} on {side} {}",
                if kind == WorkloadKind::CronJob { "suspended" } else { "scaled to 0" }
            ),
        }
    }

    fn start(
        &mut self,
        side: Side,
        key: &WorkloadKey,
        kind: WorkloadKind,
        replicas: u32,
        other: &WorkloadKey,
    ) -> EffectResult {
        let other_side = side.other();
        let cluster = self.sides.get(other_side);
        let running =
            cluster.pods.values().filter(|p| p.pod.owner.as_ref() == Some(other) && p.pod.still_running()).count();
        let active = cluster.workloads.get(other).is_some_and(|w| w.workload.is_active());
        if running > 0 || active {
            return EffectResult::Refused {
                reason: format!("{other} on {other_side} still runs ({running} pod(s)); {side} was not started"),
            };
        }
        let Some(w) = self.sides.get_mut(side).workloads.get_mut(key) else {
            return EffectResult::Failed { error: format!("{key} not found on {side}") };
        };
        w.workload.changed_by = Some("cutover".into());
        if kind == WorkloadKind::CronJob {
            w.workload.suspended = false;
            let workload = w.workload.clone();
            self.emit(side, ClusterDelta::Workload(workload));
        } else {
            self.scale_up(side, key, replicas);
        }
        EffectResult::Verified {
            detail: format!(
                "{key} on {side} {}",
                if kind == WorkloadKind::CronJob { "resumed".to_string() } else { format!("scaled to {replicas}") }
            ),
        }
    }

    /// The GitOps controller puts the stopped scheduler back, once.
    pub(super) fn step_self_heal(&mut self) {
        let now = self.now;
        if self.self_heal.is_some_and(|at| now >= at) {
            self.self_heal = None;
            self.self_healed = true;
            let key = WorkloadKey::new("app", "scheduler");
            if let Some(w) = self.sides.get_mut(Side::Old).workloads.get_mut(&key) {
                w.workload.changed_by = Some("argocd-application-controller".into());
            }
            self.scale_up(Side::Old, &key, 1);
        }
    }
}

fn groups(list: &[(String, Weight)]) -> String {
    list.iter().map(|(g, w)| format!("{g}={}", w.0)).collect::<Vec<_>>().join(" ")
}
