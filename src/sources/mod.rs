//! Live sources: tasks that read the real backends and send `Msg`s. They
//! never touch the console's state; they only send.
//!
//! Every source here reads. Nothing in this module can change a cluster or
//! a load balancer: `cutover watch` is built from these alone.

pub mod alb;
pub mod autoscaling;
pub mod aws;
pub mod check;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod fault;
pub mod health;
pub mod kube;
pub mod lease;
pub mod lifecycle;
pub mod metrics;
pub mod preflight;
pub mod route53;
pub mod traffic;

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

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
/// side, a reader per traffic backend and per metrics source. Fails (before starting
/// anything) only on configuration the operator must fix: an unreadable
/// kubeconfig or an unknown context. Unreachable backends are not errors
/// here: their sources turn stale with the reason and keep retrying.
///
/// Returns the clients it built, for a session that also writes
/// (`cutover run`) to use the same ones.
pub async fn start_reading(
    plan: &Plan,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
    tracker: &TaskTracker,
) -> Result<Clients, String> {
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
    let readers_with = traffic::Clients {
        elb: aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
        route53: aws::route53_client(&sdk),
        kube: kube_clients.clone(),
    };
    // Before anything reads: a plan whose sides are one cluster, or whose
    // rule or record is not there, is the operator's to fix (exit 2).
    let mut readers = traffic::readers(plan, &readers_with);
    // Each reader tells the metrics source where its routes are measured:
    // from the plan alone when it can (an ALB route's target groups), else
    // once its reads find it (a DNS route's load balancers).
    let measured: Vec<_> = readers.iter().map(|r| tokio::sync::watch::channel(r.metric_targets())).collect();
    let prepared = async {
        for reader in &mut readers {
            reader.prepare().await?;
        }
        Ok::<(), String>(())
    };
    let (one, prepared) = tokio::join!(preflight::one_cluster_by_uid(plan, &kube_clients), prepared);
    one.map_err(|e| e.to_string())?;
    prepared?;
    tracker.spawn(clock(tx.clone(), cancel.clone()));
    for (side, context, client) in clients {
        let versions = (tx.clone(), client.clone());
        tracker.spawn(async move {
            let version = kube::server_version(&versions.1).await;
            let _ = versions.0.send(Msg::Cluster { side, delta: ClusterDelta::ServerVersion(version) }).await;
        });
        tracker.spawn(kube::run(side, context, client, plan.namespaces.clone(), tx.clone(), cancel.clone()));
    }
    let mut found = Vec::new();
    for (reader, (targets, known)) in readers.into_iter().zip(measured) {
        found.push(known);
        tracker.spawn(reader.run(plan.aws.alb_poll, targets, tx.clone(), cancel.clone()));
    }
    metrics::start(plan, &sdk, &found, tracker, &tx, &cancel);
    start_lifecycle(plan, &sdk, &kube_clients, tracker, &tx, &cancel);
    Ok(Clients { kube: kube_clients, sdk })
}

/// The lifecycle reader, and the node-signal sources that read about what
/// it finds holding the routes (EC2 Auto Scaling, CloudTrail).
fn start_lifecycle(
    plan: &Plan,
    sdk: &aws_config::SdkConfig,
    kube: &PerSide<Option<::kube::Client>>,
    tracker: &TaskTracker,
    tx: &mpsc::Sender<Msg>,
    cancel: &CancellationToken,
) {
    let readers = lifecycle::Readers::new(sdk, kube.clone());
    let (known, found) = tokio::sync::watch::channel(lifecycle::Known::default());
    tracker.spawn(lifecycle::run(plan.clone(), readers, known, tx.clone(), cancel.clone()));
    let asg = aws_sdk_autoscaling::Client::new(sdk);
    tracker.spawn(autoscaling::poll(asg, found.clone(), tx.clone(), cancel.clone()));
    let trail = aws_sdk_cloudtrail::Client::new(sdk);
    tracker.spawn(cloudtrail::poll(trail, found, tx.clone(), cancel.clone()));
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
