use serde::{Deserialize, Serialize};

use crate::domain::{Side, Weight, Weights, WorkloadKey, WorkloadKind};

/// A change to the world that `update` asks for. Only an executor carries
/// it out; `cutover watch` has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// Set a route's old and new weights, if its forward action is still
    /// exactly what the operator saw (`seen`, by target group name).
    SetWeights { route: String, seen: Vec<(String, Weight)>, to: Weights },
    /// Stop one side of a singleton: a Deployment to 0 replicas, a CronJob
    /// suspended.
    Stop { side: Side, key: WorkloadKey, kind: WorkloadKind },
    /// Start one side of a singleton, only if `other` (the other side's
    /// workload) runs nothing at that moment.
    Start { side: Side, key: WorkloadKey, kind: WorkloadKind, replicas: u32, other: WorkloadKey },
}

impl Effect {
    pub fn describe(&self) -> String {
        match self {
            Effect::SetWeights { route, to, .. } => {
                format!("route {route}: weights old {} / new {}", to.old.0, to.new.0)
            }
            Effect::Stop { side, key, kind: WorkloadKind::CronJob } => format!("suspend CronJob {key} on {side}"),
            Effect::Stop { side, key, .. } => format!("scale Deployment {key} on {side} to 0"),
            Effect::Start { side, key, kind: WorkloadKind::CronJob, .. } => format!("resume CronJob {key} on {side}"),
            Effect::Start { side, key, replicas, .. } => format!("scale Deployment {key} on {side} to {replicas}"),
        }
    }
}

/// What an executor did with an effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EffectResult {
    /// Written, and the read-back says exactly what was asked.
    Verified {
        detail: String,
    },
    /// Written, but the read-back differs: shown loudly.
    Mismatch {
        detail: String,
    },
    /// Not written: the executor's own check refused (the rule changed, the
    /// other side still runs).
    Refused {
        reason: String,
    },
    Failed {
        error: String,
    },
    /// `--dry-run`: the calls that would have been made.
    DryRun {
        calls: Vec<String>,
    },
}
