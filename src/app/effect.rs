use serde::{Deserialize, Serialize};

use crate::domain::{RouteId, Side, Weight, Weights, WorkloadKey, WorkloadKind};

use crate::domain::IngressRef;

/// A change to the world that `update` asks for. Only an executor carries
/// it out; `cutover watch` has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// Set a route's old and new weights. With `seen`, only if its forward
    /// action is still exactly what the operator saw (by target group
    /// name). Without (a revert to old), whatever it is now: the way back
    /// never waits for the console's view to be current. With `all_old`
    /// (the panic button), every other target of the route, in the plan or
    /// not, gets 0.
    SetWeights {
        route: RouteId,
        seen: Option<Vec<(String, Weight)>>,
        to: Weights,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        all_old: bool,
    },
    /// Set a route's weights where the AWS Load Balancer Controller takes
    /// them from: its Ingress's actions annotation, changed in the two
    /// weights only. The controller then writes the rule; the console waits
    /// for the ALB to show it. With `all_old`, every other entry of the
    /// annotation gets 0 too.
    SetIngressWeights {
        route: RouteId,
        ingress: IngressRef,
        to: Weights,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        all_old: bool,
    },
    /// Stop one side of a singleton: a Deployment to 0 replicas, a CronJob
    /// suspended. With `then`, the first step of a handoff: nothing is
    /// stopped unless the other side can be started and this side restored.
    Stop {
        side: Side,
        key: WorkloadKey,
        kind: WorkloadKind,
        #[serde(default)]
        then: Option<WorkloadKey>,
    },
    /// Start one side of a singleton, only if `other` (the other side's
    /// workload) runs nothing at that moment. For a CronJob,
    /// `starting_deadline` is written with the resume so that runs missed
    /// while it was suspended are past their deadline and never start.
    Start {
        side: Side,
        key: WorkloadKey,
        kind: WorkloadKind,
        replicas: u32,
        other: WorkloadKey,
        #[serde(default)]
        starting_deadline: Option<i64>,
    },
    /// Take the plan's wheel (its Lease) from `from`, who held it when the
    /// operator confirmed (None: nobody did); refused if it passed to
    /// someone else meanwhile.
    TakeWheel { from: Option<String> },
}

impl Effect {
    /// Starting a singleton on `side` at its plan's replicas: the start of
    /// a handoff's target, or the restore of its source. The other side is
    /// named for the executor's check that it runs nothing.
    pub fn start(spec: &crate::domain::SingletonSpec, side: Side, starting_deadline: Option<i64>) -> Effect {
        Effect::Start {
            side,
            key: spec.key(side).clone(),
            kind: spec.kind,
            replicas: spec.replicas,
            other: spec.key(side.other()).clone(),
            starting_deadline,
        }
    }

    /// One line, naming the route as the plan does.
    pub fn describe(&self, routes: &[super::RouteSpec]) -> String {
        let name = |id: &RouteId| routes.get(id.index()).map_or_else(|| format!("#{}", id.0), |r| r.name.clone());
        match self {
            Effect::SetWeights { route, to, seen: None, all_old: true } => {
                let route = name(route);
                format!("route {route}: revert to old {} / new {} and every other target 0", to.old.0, to.new.0)
            }
            Effect::SetWeights { route, to, seen: None, .. } => {
                let route = name(route);
                format!("route {route}: revert to old {} / new {}", to.old.0, to.new.0)
            }
            Effect::SetWeights { route, to, .. } => {
                let route = name(route);
                format!("route {route}: weights old {} / new {}", to.old.0, to.new.0)
            }
            Effect::SetIngressWeights { route, ingress, to, all_old } => format!(
                "route {}: Ingress {} on {}, {}: old {} / new {}{}",
                name(route),
                ingress.key,
                ingress.side,
                ingress.annotation(),
                to.old.0,
                to.new.0,
                if *all_old { " and every other entry 0" } else { "" }
            ),
            Effect::Stop { side, key, kind: WorkloadKind::CronJob, .. } => format!("suspend CronJob {key} on {side}"),
            Effect::Stop { side, key, .. } => format!("scale Deployment {key} on {side} to 0"),
            Effect::Start { side, key, kind: WorkloadKind::CronJob, .. } => format!("resume CronJob {key} on {side}"),
            Effect::Start { side, key, replicas, .. } => format!("scale Deployment {key} on {side} to {replicas}"),
            Effect::TakeWheel { from: Some(from) } => format!("take the wheel from {from}"),
            Effect::TakeWheel { from: None } => "take the wheel".into(),
        }
    }

    /// The route a weight change is for.
    pub fn route(&self) -> Option<RouteId> {
        match self {
            Effect::SetWeights { route, .. } | Effect::SetIngressWeights { route, .. } => Some(*route),
            _ => None,
        }
    }

    /// The weights a weight change sets.
    pub fn sets_to(&self) -> Option<Weights> {
        match self {
            Effect::SetWeights { to, .. } | Effect::SetIngressWeights { to, .. } => Some(*to),
            _ => None,
        }
    }

    /// A revert: goes ahead of everything queued and is never refused for
    /// what the operator saw.
    pub fn is_revert(&self) -> bool {
        matches!(self, Effect::SetWeights { seen: None, .. })
    }

    /// The panic button's write: every target but old's at 0.
    pub fn all_old(&self) -> bool {
        matches!(self, Effect::SetWeights { all_old: true, .. } | Effect::SetIngressWeights { all_old: true, .. })
    }

    /// The way back: a revert, or its write of a route's Ingress (all to
    /// old). Never held back by who holds the wheel.
    pub fn is_way_back(&self) -> bool {
        self.is_revert()
            || self.all_old()
            || matches!(self, Effect::SetIngressWeights { to, .. } if to.new.0 == 0 && to.old.0 > 0)
    }
}

/// How the answer of a weight change that a revert went ahead of begins:
/// the executor stopped waiting for it, and it may still land.
pub const NOT_AWAITED: &str = "its answer was not awaited: a revert of the route went ahead";

/// An effect on its way to the executor, with the id its answer carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub id: u64,
    pub effect: Effect,
}

/// What an executor did with an effect. Every outcome is one of three:
/// applied (`Verified`, `Mismatch`), not applied (`Refused`, `Failed`,
/// `DryRun`), or not known: `Unknown` when not even a re-read could tell,
/// `NotYet` when a re-read shows it not applied but the request may still
/// be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EffectResult {
    /// Written, and the read-back says exactly what was asked.
    Verified { detail: String },
    /// Written, but the read-back differs: shown loudly.
    Mismatch { detail: String },
    /// Not written: the executor's own check refused (the rule changed, the
    /// other side still runs).
    Refused { reason: String },
    /// Not written: the call failed in a way that leaves no doubt (an
    /// answer saying so, or a re-read showing the old value).
    Failed { error: String },
    /// The write may or may not have taken effect: its answer was lost and
    /// the re-read failed too. Check the resource before acting again.
    Unknown { detail: String },
    /// The answer was lost and a re-read shows the write not applied: not
    /// yet. A request that reached AWS may still be applied later, so this
    /// is no "failed": the console keeps what it would write, and names it
    /// as this session's if it lands.
    NotYet { detail: String },
    /// `--dry-run`: the calls that would have been made.
    DryRun { calls: Vec<String> },
}

impl EffectResult {
    /// Whether the write is known to be in effect.
    pub fn applied(&self) -> bool {
        matches!(self, EffectResult::Verified { .. } | EffectResult::Mismatch { .. })
    }

    /// Whether a request of the write may still be applied later: its
    /// answer was not awaited or lost, and nothing says it was not.
    pub fn may_still_land(&self) -> bool {
        matches!(self, EffectResult::Unknown { .. } | EffectResult::NotYet { .. })
    }

    /// The text of the outcome, whatever it is.
    pub fn text(&self) -> String {
        match self {
            EffectResult::Verified { detail }
            | EffectResult::Mismatch { detail }
            | EffectResult::Unknown { detail }
            | EffectResult::NotYet { detail } => detail.clone(),
            EffectResult::Refused { reason } => reason.clone(),
            EffectResult::Failed { error } => error.clone(),
            EffectResult::DryRun { calls } => calls.join("; "),
        }
    }
}
