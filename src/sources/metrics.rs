//! Where the routes' requests, 5xx and latency are read: one reader per
//! metrics source (CloudWatch's load balancer metrics), one poll loop.
//!
//! The loop reads whole minutes only, on the minute's axis every source
//! shares: the last 30 at the start, then the newest few again each
//! minute (sources revise their newest minutes). A reader turns the
//! targets (which route and side, measured on what) into its own queries.

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use std::collections::BTreeSet;

use tokio_util::task::TaskTracker;

use crate::app::{MetricPoint, Msg, SourceId, SourceState};
use crate::domain::{MetricTarget, MetricsKind, Minute, RouteId};
use crate::plan::Plan;

use super::cloudwatch::CloudWatchReader;
use super::health::{Failure, Health};

/// Minutes read at start, to fill the graphs.
pub const HISTORY_MINUTES: i64 = 30;
/// Minutes read again on each poll: sources revise the newest minutes.
pub const REREAD_MINUTES: i64 = 5;
/// The pause before a failed read is tried again.
const RETRY: Duration = Duration::from_secs(15);

/// A metrics source's reader.
pub trait MetricsReader: Send + 'static {
    const KIND: MetricsKind;

    /// Every datapoint of the targets' series in whole minutes
    /// `from..until` (until excluded: the minute in progress is never
    /// read). A minute without a datapoint is left out, never zero.
    fn fetch(
        &mut self,
        targets: &[MetricTarget],
        from: Minute,
        until: Minute,
    ) -> impl Future<Output = Result<Vec<MetricPoint>, Failure>> + Send;
}

/// Starts a poll for each metrics source the plan's routes are measured
/// by, each given the targets of its own routes as the traffic readers
/// (`found`) come to know them.
pub fn start(
    plan: &Plan,
    sdk: &aws_config::SdkConfig,
    found: &[watch::Receiver<Vec<MetricTarget>>],
    tracker: &TaskTracker,
    tx: &mpsc::Sender<Msg>,
    cancel: &CancellationToken,
) {
    for kind in MetricsKind::ALL {
        let routes: BTreeSet<RouteId> =
            plan.routes.iter().enumerate().filter(|(_, r)| r.metrics == kind).map(|(i, _)| RouteId::of(i)).collect();
        if routes.is_empty() {
            continue;
        }
        let (found, tx, cancel) = (found.to_vec(), tx.clone(), cancel.clone());
        match kind {
            MetricsKind::CloudWatch => {
                let reader = CloudWatchReader::new(aws_sdk_cloudwatch::Client::new(sdk));
                tracker.spawn(poll(reader, found, routes, tx, cancel));
            }
        }
    }
}

/// Polls once a minute (just after the minute closes) until cancelled;
/// the first poll reads the last 30 minutes, and so does the first after
/// a target is added. A failure is retried every 15 s. `targets` brings
/// each traffic reader's targets as they become known (a DNS route's load
/// balancers once its records are read): a new one is read at once.
pub async fn poll<R: MetricsReader>(
    mut reader: R,
    mut targets: Vec<watch::Receiver<Vec<MetricTarget>>>,
    routes: BTreeSet<RouteId>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    let id = SourceId::Metrics(R::KIND);
    let mut health = Health::new(id);
    let mut known: Vec<MetricTarget> = Vec::new();
    let mut read_until: Option<Minute> = None;
    if tx.send(Msg::Source { id, state: SourceState::Connecting }).await.is_err() {
        return;
    }
    loop {
        let all: Vec<MetricTarget> = targets
            .iter_mut()
            .flat_map(|t| t.borrow_and_update().clone())
            .filter(|t| routes.contains(&t.route))
            .collect();
        if all != known {
            if all.iter().any(|t| !known.contains(t)) {
                read_until = None;
            }
            known = all;
        }
        let now = Timestamp::now();
        let until = Minute::containing(now);
        let from = match read_until {
            Some(done) => done.offset(-REREAD_MINUTES),
            None => until.offset(-HISTORY_MINUTES),
        };
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = reader.fetch(&known, from, until) => r,
        };
        let wait = match result {
            Ok(points) => {
                read_until = Some(until);
                if tx.send(Msg::Metrics(points)).await.is_err() {
                    return;
                }
                if tx.send(health.live(now)).await.is_err() {
                    return;
                }
                // Next: 5 s into the next minute, when its datapoints exist.
                let next = until.offset(1).start().as_second() + 5;
                Duration::from_secs((next - Timestamp::now().as_second()).clamp(1, 65) as u64)
            }
            Err(failure) => {
                tracing::warn!(source = R::KIND.name(), error = %failure.text, "metrics read failed");
                if tx.send(health.stale(now, failure)).await.is_err() {
                    return;
                }
                RETRY
            }
        };
        let changed = async {
            if targets.is_empty() {
                return std::future::pending().await;
            }
            futures::future::select_all(targets.iter_mut().map(|t| Box::pin(t.changed()))).await.0
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
            // A route's targets found: read them now.
            Ok(()) = changed => {}
        }
    }
}
