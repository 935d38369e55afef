//! Live sources: tasks that read the real backends and send `Msg`s. They
//! never touch the console's state; they only send.
//!
//! Every source here reads. Nothing in this module can change a cluster or
//! a load balancer: `cutover watch` is built from these alone.

pub mod alb;
pub mod aws;
pub mod cloudwatch;
pub mod fault;
pub mod kube;
pub mod lease;
pub mod preflight;
pub mod route53;

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{ClusterDelta, Msg};
use crate::domain::{PerSide, Side};
use crate::plan::Plan;

/// Chooses the process's one TLS crypto provider. kube and the AWS SDK
/// both build rustls clients, and with two providers compiled in rustls
/// will not pick one by itself (it panics at the first kube client).
/// Idempotent; every live entry point calls it.
pub fn ensure_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Starts every reading source of a plan: the clock, one watcher set per
/// side, the ALB poller and the CloudWatch poller. Fails (before starting
/// anything) only on configuration the operator must fix: an unreadable
/// kubeconfig or an unknown context. Unreachable backends are not errors
/// here: their sources turn stale with the reason and keep retrying.
///
/// Returns the clients it built, for a session that also writes
/// (`cutover run`) to use the same ones.
pub async fn start_reading(plan: &Plan, tx: mpsc::Sender<Msg>, cancel: CancellationToken) -> Result<Clients, String> {
    ensure_crypto_provider();
    preflight::one_cluster_by_config(plan).map_err(|e| e.to_string())?;
    let mut clients = Vec::new();
    let mut kube_clients = PerSide::new(None, None);
    for side in Side::BOTH {
        if let Some(target) = plan.cluster(side) {
            let client = kube::client_for(target).await.map_err(|e| format!("[{side}]: {e}"))?;
            *kube_clients.get_mut(side) = Some(client.clone());
            clients.push((side, target.context.clone(), client));
        }
    }
    let sdk = aws::sdk_config(&plan.aws).await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
    // Before anything reads: a plan whose sides are one cluster, or whose
    // rule is not there, is the operator's to fix (exit 2).
    let (one, rules) =
        tokio::join!(preflight::one_cluster_by_uid(plan, &kube_clients), preflight::routes_exist(plan, &elb));
    one.and(rules).map_err(|e| e.to_string())?;
    tokio::spawn(clock(tx.clone(), cancel.clone()));
    for (side, context, client) in clients {
        let versions = (tx.clone(), client.clone());
        tokio::spawn(async move {
            let version = kube::server_version(&versions.1).await;
            let _ = versions.0.send(Msg::Cluster { side, delta: ClusterDelta::ServerVersion(version) }).await;
        });
        tokio::spawn(kube::run(side, context, client, plan.namespaces.clone(), tx.clone(), cancel.clone()));
    }
    // Route 53 routes are resolved before anything polls: a record the
    // zone does not hold is the plan's mistake, said at once (exit 2).
    let mut watched = Vec::new();
    let r53 = aws::route53_client(&sdk);
    for (id, route) in plan.route53_routes() {
        let mut w = route53::Watched::new(id, route.clone());
        route53::resolve(&r53, &elb, &mut w).await?;
        watched.push(w);
    }
    let alb_targets: Vec<_> = plan.alb_routes().flat_map(|(id, r)| cloudwatch::alb_targets(id, r)).collect();
    let (dns_metrics, dns_targets) = tokio::sync::watch::channel(Vec::new());
    if !plan.routes.is_empty() {
        tokio::spawn(alb::run(elb.clone(), plan.routes.clone(), plan.aws.alb_poll, tx.clone(), cancel.clone()));
    }
    if !watched.is_empty() {
        let every = plan.aws.alb_poll;
        tokio::spawn(route53::run(r53, elb, watched, every, dns_metrics, tx.clone(), cancel.clone()));
    }
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    tokio::spawn(cloudwatch::run(cw, alb_targets, dns_targets, tx, cancel));
    Ok(Clients { kube: kube_clients, sdk })
}

/// A polling source of route reads (the ALB's, Route 53's): its state in
/// the header, and the pause before its next read, doubled after each
/// failure up to [`MAX_PAUSE`].
pub struct Poller {
    id: crate::app::SourceId,
    every: Duration,
    pause: Duration,
    last_ok: Option<Timestamp>,
    failing_since: Option<Timestamp>,
    /// The routes' own problems as last sent.
    problems: Option<Vec<crate::domain::RouteProblem>>,
}

/// The longest pause between failed reads: long enough not to hammer a
/// throttling API, short enough that the weights are back soon after it is.
pub const MAX_PAUSE: Duration = Duration::from_secs(20);

impl Poller {
    pub fn new(id: crate::app::SourceId, every: Duration) -> Poller {
        Poller { id, every, pause: every, last_ok: None, failing_since: None, problems: None }
    }

    /// The message saying which routes of the source could not be read
    /// (and why), when that changed since the last one sent.
    pub fn problems(&mut self, problems: Vec<crate::domain::RouteProblem>) -> Option<Msg> {
        if self.problems.as_ref() == Some(&problems) {
            return None;
        }
        for p in &problems {
            tracing::warn!(source = self.id.label(), route = p.route.index(), error = %p.error, "route not read");
        }
        self.problems = Some(problems.clone());
        Some(Msg::RouteProblems { at: Timestamp::now(), source: self.id, problems })
    }

    /// The messages one read's outcome sends: the reads and the source
    /// live, or the source stale with the reason at once.
    pub fn outcome(&mut self, result: Result<Vec<crate::domain::RouteRead>, String>) -> Vec<Msg> {
        use crate::app::SourceState;
        let (id, now) = (self.id, Timestamp::now());
        match result {
            Ok(reads) => {
                self.last_ok = Some(now);
                self.failing_since = None;
                self.pause = self.every;
                vec![
                    Msg::Traffic { at: now, routes: reads },
                    Msg::Source { id, state: SourceState::Live { last_ok: now } },
                ]
            }
            Err(error) => {
                tracing::warn!(source = id.label(), %error, "read failed");
                let since = *self.failing_since.get_or_insert(now);
                self.pause = (self.pause * 2).min(MAX_PAUSE);
                vec![Msg::Source { id, state: SourceState::Stale { since, error, last_ok: self.last_ok } }]
            }
        }
    }

    /// How long to wait before the next read.
    pub fn pause(&self) -> Duration {
        self.pause
    }
}

/// The clients a live session reads with.
pub struct Clients {
    /// None for a side without Kubernetes.
    pub kube: PerSide<Option<::kube::Client>>,
    pub sdk: aws_config::SdkConfig,
}

/// The console's clock in live mode: a Tick each second.
pub async fn clock(tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if tx.send(Msg::Tick { at: Timestamp::now() }).await.is_err() {
            return;
        }
    }
}
