//! Where the routes' weights are read: one reader per backend (the ALB's
//! rules, Route 53's weighted records), one poll loop for all of them.
//!
//! A reader knows its backend's calls; the loop knows pacing, the source's
//! health in the header, the routes' own problems, who else writes the
//! weights, and where each route is measured. A new backend is a reader
//! (a file of its own) and a line in [`Reader`].

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::app::{Msg, SourceId, SourceState};
use crate::domain::{MetricTarget, RouteKind, RouteOwners, RouteProblem, RouteRead};
use crate::plan::{Plan, PlanRoute};

use super::alb::AlbReader;
use super::check::Report;
use super::health::{Failure, Health};
use super::route53::Route53Reader;

/// What one read of a backend's routes gives.
#[derive(Debug, Default)]
pub struct Reading {
    /// The routes that could be read.
    pub reads: Vec<RouteRead>,
    /// Why each of the others could not, when the backend tells one
    /// route's trouble from the source's (a rule deleted); `None` for a
    /// backend that does not.
    pub problems: Option<Vec<RouteProblem>>,
}

/// A backend's reader of every route of the plan in it.
pub trait TrafficReader: Send + 'static {
    const KIND: RouteKind;
    /// Who else writes the weights is read with the first good read, then
    /// every this many...
    const OWNERS_EVERY: u32 = 10;
    /// ...or this many after a failed read of them.
    const OWNERS_RETRY: u32 = Self::OWNERS_EVERY;

    /// Before anything polls: the plan's objects are there. One the backend
    /// says does not exist is the plan's mistake (the message says the file
    /// and line to fix); a backend that does not answer is no refusal, its
    /// source turns stale and keeps trying.
    fn prepare(&mut self) -> impl Future<Output = Result<(), String>> + Send;

    /// One read of every route; `poll` counts the reads, for what is read
    /// less often.
    fn read(&mut self, poll: u32) -> impl Future<Output = Result<Reading, Failure>> + Send;

    /// Who else writes each route's weights.
    fn owners(&mut self) -> impl Future<Output = Result<Vec<RouteOwners>, String>> + Send;

    /// Where each route's sides are measured, as far as known yet.
    fn metric_targets(&self) -> Vec<MetricTarget>;

    /// `cutover check`: each route read once, and what was found.
    fn check(&self, report: &mut Report) -> impl Future<Output = ()> + Send;
}

/// The clients the readers share: a backend's reader takes what it reads
/// with (AWS's, or a side's Kubernetes API, None for a side without one).
#[derive(Clone)]
pub struct Clients {
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub route53: aws_sdk_route53::Client,
    pub kube: crate::domain::PerSide<Option<::kube::Client>>,
}

/// A reader of one backend: the closed set, one variant per backend.
pub enum Reader {
    Alb(AlbReader),
    Route53(Route53Reader),
}

/// Every backend's reader for the routes of the plan in it, in the order
/// of [`RouteKind::ALL`]; none for a backend without routes.
pub fn readers(plan: &Plan, clients: &Clients) -> Vec<Reader> {
    let mut out = Vec::new();
    for kind in RouteKind::ALL {
        let reader = match kind {
            RouteKind::Alb => AlbReader::new(clients, plan.routes_of(PlanRoute::alb).collect()).map(Reader::Alb),
            RouteKind::Route53 => {
                Route53Reader::new(clients, plan.routes_of(PlanRoute::route53).collect()).map(Reader::Route53)
            }
        };
        out.extend(reader);
    }
    out
}

impl Reader {
    pub fn kind(&self) -> RouteKind {
        match self {
            Reader::Alb(_) => AlbReader::KIND,
            Reader::Route53(_) => Route53Reader::KIND,
        }
    }

    pub async fn prepare(&mut self) -> Result<(), String> {
        match self {
            Reader::Alb(r) => r.prepare().await,
            Reader::Route53(r) => r.prepare().await,
        }
    }

    pub fn metric_targets(&self) -> Vec<MetricTarget> {
        match self {
            Reader::Alb(r) => r.metric_targets(),
            Reader::Route53(r) => r.metric_targets(),
        }
    }

    pub async fn check(&self, report: &mut Report) {
        match self {
            Reader::Alb(r) => r.check(report).await,
            Reader::Route53(r) => r.check(report).await,
        }
    }

    /// Polls every `every` until cancelled; the routes' metric targets go
    /// to `metrics` as they become known.
    pub async fn run(
        self,
        every: Duration,
        metrics: watch::Sender<Vec<MetricTarget>>,
        tx: mpsc::Sender<Msg>,
        cancel: CancellationToken,
    ) {
        match self {
            Reader::Alb(r) => poll(r, every, metrics, tx, cancel).await,
            Reader::Route53(r) => poll(r, every, metrics, tx, cancel).await,
        }
    }
}

/// The one poll loop of every traffic reader. A failed read is retried
/// with a doubling pause (up to [`MAX_PAUSE`]) and the source turns stale
/// with the reason at once; a route's own trouble is said when it changes
/// (and once, as none, at the first good read); who else writes the
/// weights is read after the weights are on screen, at its own pace, not
/// while the reads fail (the same budget, the same trouble), and sent
/// when it changed.
pub async fn poll<R: TrafficReader>(
    mut reader: R,
    every: Duration,
    metrics: watch::Sender<Vec<MetricTarget>>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    let id = SourceId::Traffic(R::KIND);
    let mut health = Health::new(id);
    let mut pause = every;
    let mut problems_sent: Option<Vec<RouteProblem>> = None;
    let mut owners_in: u32 = 0;
    let mut owners_sent: Option<(Vec<RouteOwners>, Option<String>)> = None;
    let mut polls: u32 = 0;
    if tx.send(Msg::Source { id, state: SourceState::Connecting }).await.is_err() {
        return;
    }
    loop {
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = reader.read(polls) => r,
        };
        let targets = reader.metric_targets();
        metrics.send_if_modified(|known| {
            let changed = *known != targets;
            *known = targets;
            changed
        });
        let now = Timestamp::now();
        let mut msgs = Vec::new();
        let read_ok = result.is_ok();
        match result {
            Ok(Reading { reads, problems }) => {
                pause = every;
                msgs.push(Msg::Traffic { at: now, routes: reads });
                msgs.push(health.live(now));
                if let Some(problems) = problems.filter(|p| problems_sent.as_ref() != Some(p)) {
                    for p in &problems {
                        tracing::warn!(source = id.label(), route = p.route.index(), error = %p.error, "route not read");
                    }
                    problems_sent = Some(problems.clone());
                    msgs.push(Msg::RouteProblems { at: now, source: id, problems });
                }
            }
            Err(failure) => {
                tracing::warn!(source = id.label(), error = %failure.text, "read failed");
                pause = (pause * 2).min(MAX_PAUSE);
                msgs.push(health.stale(now, failure));
            }
        }
        for msg in msgs {
            if tx.send(msg).await.is_err() {
                return;
            }
        }
        if read_ok {
            if owners_in == 0 {
                let owners = tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = reader.owners() => r,
                };
                let read = match owners {
                    Ok(owners) => {
                        owners_in = R::OWNERS_EVERY;
                        (owners, None)
                    }
                    Err(error) => {
                        tracing::warn!(source = id.label(), %error, "who else writes the weights not read");
                        owners_in = R::OWNERS_RETRY;
                        (Vec::new(), Some(error))
                    }
                };
                // Sent when it changed: most reads find the same owners.
                if owners_sent.as_ref() != Some(&read) {
                    let msg = Msg::RouteOwners { at: Timestamp::now(), routes: read.0.clone(), error: read.1.clone() };
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                    owners_sent = Some(read);
                }
            }
            owners_in -= 1;
        }
        polls = polls.wrapping_add(1);
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// The longest pause between failed reads: long enough not to hammer a
/// throttling API, short enough that the weights are back soon after it is.
pub const MAX_PAUSE: Duration = Duration::from_secs(20);
