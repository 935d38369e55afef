//! The live executor: the only code in `cutover` that can change a load
//! balancer or a cluster. `cutover run` builds one; `cutover watch` and
//! replays never do.
//!
//! Every write is checked against the world as it is right before it
//! (the rule must still be what the operator saw; a singleton's other side
//! must run nothing), and read back after it.

mod alb;
mod kube;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{Effect, EffectResult, Msg};
use crate::domain::PerSide;
use crate::plan::PlanRoute;

pub struct LiveExecutor {
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// None for a side without Kubernetes (EC2 behind the ALB).
    pub kube: PerSide<Option<::kube::Client>>,
    pub routes: Vec<PlanRoute>,
    /// Say which calls would be made, make none.
    pub dry_run: bool,
}

impl LiveExecutor {
    pub async fn execute(&self, effect: &Effect) -> EffectResult {
        match effect {
            Effect::SetWeights { route, seen, to } => {
                let Some(route) = self.routes.iter().find(|r| &r.name == route) else {
                    return EffectResult::Failed { error: format!("route {route} is not in the plan") };
                };
                alb::set_weights(&self.elb, route, seen, *to, self.dry_run).await
            }
            Effect::Stop { side, key, kind } => match self.kube.get(*side) {
                Some(client) => kube::stop(client, *side, key, *kind, self.dry_run).await,
                None => EffectResult::Failed { error: format!("the {side} side has no Kubernetes in the plan") },
            },
            Effect::Start { side, key, kind, replicas, other } => {
                match (self.kube.get(*side), self.kube.get(side.other())) {
                    (Some(client), Some(other_client)) => {
                        kube::start(client, other_client, *side, key, *kind, *replicas, other, self.dry_run).await
                    }
                    _ => EffectResult::Failed { error: "a singleton handoff needs Kubernetes on both sides".into() },
                }
            }
        }
    }
}

/// Carries out effects one at a time, in order, until cancelled.
pub async fn run(exec: LiveExecutor, mut rx: mpsc::Receiver<Effect>, tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    loop {
        let effect = tokio::select! {
            _ = cancel.cancelled() => return,
            e = rx.recv() => match e { Some(e) => e, None => return },
        };
        tracing::info!(?effect, dry_run = exec.dry_run, "executing");
        let result = exec.execute(&effect).await;
        tracing::info!(?result, "executed");
        if tx.send(Msg::EffectDone { effect, result }).await.is_err() {
            return;
        }
    }
}

/// Who is driving: the AWS caller identity and the kube users of both
/// contexts, for every action in the events and the recording.
pub async fn identity(sts: &aws_sdk_sts::Client, kube_users: &[String]) -> String {
    let aws = match sts.get_caller_identity().send().await {
        Ok(id) => id.arn().unwrap_or("unknown AWS identity").to_string(),
        Err(e) => format!("unknown AWS identity ({})", crate::sources::aws::explain(&e, "sts:GetCallerIdentity")),
    };
    if kube_users.is_empty() { aws } else { format!("{aws} (kube: {})", kube_users.join(", ")) }
}
