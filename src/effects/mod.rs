//! The live executor: the only code in `cutover` that can change a load
//! balancer or a cluster. `cutover run` builds one; `cutover watch` and
//! replays never do.
//!
//! Every write is checked against the world as it is right before it
//! (the rule must still be what the operator saw; a singleton's other side
//! must run nothing), and read back after it. Every call has a deadline,
//! and a write whose answer is lost is read again: its outcome is applied,
//! not applied, or, when even the re-read fails, unknown, never a plain
//! "failed" for a change that took effect.

mod alb;
pub mod ingress;
mod kube;
pub mod lease;
pub mod route53;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{Effect, EffectResult, Msg, NOT_AWAITED, Queued};
use crate::domain::PerSide;
use crate::domain::RouteId;
use crate::plan::{Plan, RouteTarget};

/// How long one Kubernetes call of the executor may take. The reading
/// watches keep their own, longer, timeouts.
pub const KUBE_CALL_DEADLINE: Duration = Duration::from_secs(10);

/// The executor's ELBv2 client: reads retried with backoff under
/// throttling (ELBv2 Describe calls share one token bucket per account and
/// region with every other caller, the Load Balancer Controller among
/// them), each attempt and each call with a deadline. Writes set their own
/// (see `alb::write`): one attempt each, tried again only on an answer that
/// says nothing was changed.
pub fn elb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_elasticloadbalancingv2::Client {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    let config = aws_sdk_elasticloadbalancingv2::config::Builder::from(sdk)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(6)
                .with_initial_backoff(Duration::from_millis(250))
                .with_max_backoff(Duration::from_secs(4)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .build();
    aws_sdk_elasticloadbalancingv2::Client::from_conf(config)
}

pub struct LiveExecutor {
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub route53: aws_sdk_route53::Client,
    /// None for a side without Kubernetes (EC2 behind the ALB).
    pub kube: PerSide<Option<::kube::Client>>,
    pub plan: Plan,
    /// Say which calls would be made, make none.
    pub dry_run: bool,
    pub route53_options: route53::WriteOptions,
}

/// What an effect in progress says: what it waits for, and whether it
/// sent a request whose answer never came and which the re-read does not
/// show applied (it may still be, later: the console keeps it as this
/// session's, see `Msg::EffectProgress`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub unanswered: bool,
}

impl Note {
    pub fn waiting(text: String) -> Note {
        Note { text, unanswered: false }
    }

    pub fn unanswered(text: String) -> Note {
        Note { text, unanswered: true }
    }
}

/// Where an effect in progress says what it is waiting for.
pub type Progress<'a> = &'a (dyn Fn(Note) + Send + Sync);

impl LiveExecutor {
    pub async fn execute(&self, effect: &Effect, progress: Progress<'_>) -> EffectResult {
        let not_in_plan =
            |id: &RouteId| EffectResult::Refused { reason: format!("route #{} is not in the plan", id.0) };
        match effect {
            Effect::SetWeights { route: id, seen, to, all_old } => {
                let Some(route) = self.plan.route(*id) else { return not_in_plan(id) };
                match &route.target {
                    RouteTarget::Alb(target) => {
                        let route = route.routed(*id, target);
                        let write = alb::Write { seen: seen.as_deref(), to: *to, all_old: *all_old };
                        alb::set_weights(&self.elb, &route, write, self.dry_run, progress).await
                    }
                    RouteTarget::Route53(target) => {
                        let route = route.routed(*id, target);
                        let options = &self.route53_options;
                        let write = route53::Write { seen: seen.as_deref(), to: *to, all_old: *all_old };
                        route53::set_route(&self.route53, &route, write, self.dry_run, options, progress).await
                    }
                }
            }
            Effect::SetIngressWeights { route: id, ingress, to, all_old } => {
                let Some((route, RouteTarget::Alb(target))) = self.plan.route(*id).map(|r| (r, &r.target)) else {
                    return not_in_plan(id);
                };
                let route = route.routed(*id, target);
                match self.kube.get(ingress.side) {
                    Some(client) => ingress::set_weights(client, &route, ingress, *to, *all_old, self.dry_run).await,
                    None => EffectResult::Refused {
                        reason: format!("the {} side has no Kubernetes in the plan", ingress.side),
                    },
                }
            }
            Effect::Stop { side, key, kind, then } => {
                let Some(client) = self.kube.get(*side) else {
                    return EffectResult::Refused { reason: format!("the {side} side has no Kubernetes in the plan") };
                };
                if let Some(target) = then {
                    let Some(target_client) = self.kube.get(side.other()) else {
                        return EffectResult::Refused {
                            reason: format!("the {} side has no Kubernetes in the plan", side.other()),
                        };
                    };
                    let check = kube::preflight(client, *side, key, target_client, side.other(), target, *kind);
                    if let Err(reason) = check.await {
                        return EffectResult::Refused { reason };
                    }
                }
                kube::stop(client, *side, key, *kind, self.dry_run).await
            }
            Effect::Start { side, key, kind, replicas, other, starting_deadline } => {
                match (self.kube.get(*side), self.kube.get(side.other())) {
                    (Some(client), Some(other_client)) => {
                        let start = kube::Start { replicas: *replicas, starting_deadline: *starting_deadline };
                        kube::start(client, other_client, *side, key, *kind, start, other, self.dry_run).await
                    }
                    _ => EffectResult::Refused { reason: "a singleton handoff needs Kubernetes on both sides".into() },
                }
            }
            // Taken by the session's lease task (see `run_with`).
            Effect::TakeWheel { .. } => {
                EffectResult::Refused { reason: "this session has no lease: there is no wheel to take".into() }
            }
        }
    }
}

type Running = Pin<Box<dyn Future<Output = EffectResult> + Send>>;

/// How the answer of a write begins that was still being made when the
/// console quit and stopped waiting for it: its request may still land.
pub const QUIT_UNANSWERED: &str = "its answer was not awaited: the console quit while it was being written";

/// The answer of an effect still queued when the console quit.
pub const QUIT_NOT_SENT: &str = "not sent: the console quit before its turn";

/// How a console stops its executor on the way out, in two steps, so that
/// a write already sent has its answer recorded.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    /// Take nothing more: effects queued and not yet begun are answered
    /// [`QUIT_NOT_SENT`], and the write being made is let finish.
    pub finish: CancellationToken,
    /// Stop waiting for that write: it is answered as unknown
    /// ([`QUIT_UNANSWERED`]).
    pub give_up: CancellationToken,
}

/// Carries out effects one at a time until cancelled. A revert goes ahead
/// of everything queued; a weight change of the same route that is being
/// written when a revert arrives is dropped where it stands (its waits,
/// throttled retries among them, end), and queued weight changes of the
/// reverted route are not sent. The revert re-reads the rule itself, so
/// what the dropped write did or did not do is what it finds. The dropped
/// write is answered `Unknown`: its request may still land, and the
/// console keeps it as this session's until it does or its time is up.
///
/// Cancelled, it answers what it holds at once, as [`Stop`] says.
pub async fn run(exec: LiveExecutor, rx: mpsc::Receiver<Queued>, tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    run_with(exec, None, rx, tx, cancel).await
}

/// [`run`], for a console that holds a plan's wheel: it takes the wheel
/// when asked, and checks that it still holds it right before every write
/// but the way back (which is never held back).
pub async fn run_with(
    exec: LiveExecutor,
    wheel: Option<Arc<lease::WheelHandle>>,
    rx: mpsc::Receiver<Queued>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    run_until_stopped(exec, wheel, rx, tx, Stop { finish: cancel.clone(), give_up: cancel }).await
}

/// [`run_with`], stopped in two steps as `stop` says: the console's way
/// out, which lets the write being made finish.
pub async fn run_until_stopped(
    exec: LiveExecutor,
    wheel: Option<Arc<lease::WheelHandle>>,
    mut rx: mpsc::Receiver<Queued>,
    tx: mpsc::Sender<Msg>,
    stop: Stop,
) {
    let exec = Arc::new(exec);
    let mut queue: VecDeque<Queued> = VecDeque::new();
    let mut current: Option<(Queued, Running)> = None;
    loop {
        if current.is_none()
            && let Some(next) = queue.pop_front()
        {
            tracing::info!(id = next.id, effect = ?next.effect, dry_run = exec.dry_run, "executing");
            let (exec, effect, progress_tx, id) = (exec.clone(), next.effect.clone(), tx.clone(), next.id);
            let wheel = wheel.clone();
            let running: Running = Box::pin(async move {
                // Best effort: a full channel drops a progress line, never the answer.
                let progress = move |note: Note| {
                    let msg = Msg::EffectProgress { id, text: note.text, unanswered: note.unanswered };
                    let _ = progress_tx.try_send(msg);
                };
                if let Some(wheel) = &wheel {
                    if let Effect::TakeWheel { from } = &effect {
                        return wheel.take(from.clone()).await;
                    }
                    if !effect.is_way_back()
                        && let Err(reason) = wheel.check_held().await
                    {
                        return EffectResult::Refused { reason };
                    }
                }
                exec.execute(&effect, &progress).await
            });
            current = Some((next, running));
        }
        let answer = tokio::select! {
            biased;
            _ = stop.finish.cancelled() => {
                let answers = finish(current.take(), queue, &mut rx, &stop.give_up).await;
                send(&tx, answers).await;
                return;
            }
            queued = rx.recv() => {
                let Some(queued) = queued else { return };
                let mut answers = Vec::new();
                if queued.effect.is_revert() {
                    let route = queued.effect.route();
                    let superseded = |q: &Queued| !q.effect.is_revert() && q.effect.route() == route;
                    if current.as_ref().is_some_and(|(q, _)| superseded(q))
                        && let Some((q, _)) = current.take()
                    {
                        let detail = format!("{NOT_AWAITED}, and the revert's own re-read shows what stands; if it lands later, it is named as this session's and the revert written again");
                        answers.push((q, EffectResult::Unknown { detail }));
                    }
                    for q in queue.iter().filter(|q| superseded(q)) {
                        let error = "not sent: a revert of the route went ahead".into();
                        answers.push((q.clone(), EffectResult::Failed { error }));
                    }
                    queue.retain(|q| !superseded(q));
                    let at = queue.iter().take_while(|q| q.effect.is_revert()).count();
                    queue.insert(at, queued);
                } else {
                    queue.push_back(queued);
                }
                answers
            }
            result = async { match current.as_mut() { Some((_, running)) => running.await, None => std::future::pending().await } } => {
                match current.take() {
                    Some((q, _)) => vec![(q, result)],
                    None => Vec::new(),
                }
            }
        };
        if !send(&tx, answer).await {
            return;
        }
    }
}

/// The executor's last answers, as the console quits: the write being
/// made, once answered or given up on, then every effect not yet begun,
/// queued here or still in the channel, as not sent.
async fn finish(
    current: Option<(Queued, Running)>,
    mut queue: VecDeque<Queued>,
    rx: &mut mpsc::Receiver<Queued>,
    give_up: &CancellationToken,
) -> Vec<(Queued, EffectResult)> {
    rx.close();
    while let Ok(queued) = rx.try_recv() {
        queue.push_back(queued);
    }
    let mut answers = Vec::new();
    if let Some((q, running)) = current {
        tracing::info!(id = q.id, effect = ?q.effect, "quitting: the write being made is let finish");
        let result = tokio::select! {
            biased;
            result = running => result,
            _ = give_up.cancelled() => EffectResult::Unknown { detail: format!("{QUIT_UNANSWERED}, and it may still land") },
        };
        answers.push((q, result));
    }
    answers.extend(queue.into_iter().map(|q| (q, EffectResult::Failed { error: QUIT_NOT_SENT.into() })));
    answers
}

/// Sends the answers to the console; false once it is gone.
async fn send(tx: &mpsc::Sender<Msg>, answers: Vec<(Queued, EffectResult)>) -> bool {
    for (q, result) in answers {
        tracing::info!(id = q.id, ?result, "executed");
        if tx.send(Msg::EffectDone { id: q.id, effect: q.effect, result }).await.is_err() {
            return false;
        }
    }
    true
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
