//! The CloudWatch source: every route's and load balancer's 1-minute
//! datapoints, all in one GetMetricData call a minute. Rates are computed
//! in the app, so "no data" stays distinct from zero.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::app::{LbMetric, MetricPoint, Msg, RouteMetric, SeriesId, SourceId, SourceState};
use crate::domain::{Minute, PerSide, RouteId, Side};
use crate::plan::PlanRoute;

use super::aws::explain;

pub const NAMESPACE: &str = "AWS/ApplicationELB";
/// Minutes read at start, to fill the graphs.
pub const HISTORY_MINUTES: i64 = 30;
/// Minutes re-read on each poll: CloudWatch revises the newest minutes.
pub const REREAD_MINUTES: i64 = 5;

/// One query of the batch and where its values go.
#[derive(Debug, Clone)]
pub struct Query {
    pub id: String,
    pub series: SeriesId,
    pub metric_name: &'static str,
    pub stat: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
    /// Multiplier into the app's unit (TargetResponseTime is in seconds).
    pub scale: f64,
}

/// Where one side of one route is measured: the dimensions of its
/// requests, target 5xx and latency, and the load balancer whose own 5xx
/// count for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricTarget {
    pub route: RouteId,
    pub side: Side,
    pub dimensions: Vec<(&'static str, String)>,
    /// `app/name/id`.
    pub load_balancer: String,
}

/// An ALB route's sides: each target group on the one load balancer.
pub fn alb_targets(id: RouteId, r: &PlanRoute) -> Vec<MetricTarget> {
    let lb = r.listener.load_balancer_dimension();
    [(Side::Old, &r.old_target_group), (Side::New, &r.new_target_group)]
        .into_iter()
        .map(|(side, tg)| MetricTarget {
            route: id,
            side,
            dimensions: vec![("TargetGroup", tg.target_group_dimension().to_string()), ("LoadBalancer", lb.clone())],
            load_balancer: lb.clone(),
        })
        .collect()
}

/// A DNS route's sides: each side's whole load balancer, which serves
/// that side only.
pub fn dns_targets(id: RouteId, load_balancers: &PerSide<String>) -> Vec<MetricTarget> {
    Side::BOTH
        .iter()
        .map(|side| MetricTarget {
            route: id,
            side: *side,
            dimensions: vec![("LoadBalancer", load_balancers.get(*side).clone())],
            load_balancer: load_balancers.get(*side).clone(),
        })
        .collect()
}

/// Every query for a plan: per route and side, requests, target 5xx and
/// latency; per load balancer, its own 502/503/504 and 5xx.
pub fn queries(targets: &[MetricTarget]) -> Vec<Query> {
    let mut out = Vec::new();
    let mut lbs: Vec<String> = Vec::new();
    for t in targets {
        let s = t.side.label();
        for (suffix, metric, name, stat, scale) in [
            ("req", RouteMetric::Requests, "RequestCount", "Sum", 1.0),
            ("t5xx", RouteMetric::Target5xx, "HTTPCode_Target_5XX_Count", "Sum", 1.0),
            ("lat", RouteMetric::LatencyMs, "TargetResponseTime", "Average", 1000.0),
        ] {
            out.push(Query {
                id: format!("r{}_{s}_{suffix}", t.route.0),
                series: SeriesId::Route { route: t.route, side: t.side, metric },
                metric_name: name,
                stat,
                dimensions: t.dimensions.clone(),
                scale,
            });
        }
        if !lbs.contains(&t.load_balancer) {
            lbs.push(t.load_balancer.clone());
        }
    }
    for (j, lb) in lbs.iter().enumerate() {
        for (suffix, metric, name) in [
            ("e502", LbMetric::Elb502, "HTTPCode_ELB_502_Count"),
            ("e503", LbMetric::Elb503, "HTTPCode_ELB_503_Count"),
            ("e504", LbMetric::Elb504, "HTTPCode_ELB_504_Count"),
            ("e5xx", LbMetric::Elb5xx, "HTTPCode_ELB_5XX_Count"),
        ] {
            out.push(Query {
                id: format!("lb{j}_{suffix}"),
                series: SeriesId::LoadBalancer { lb: lb.clone(), metric },
                metric_name: name,
                stat: "Sum",
                dimensions: vec![("LoadBalancer", lb.clone())],
                scale: 1.0,
            });
        }
    }
    out
}

fn to_sdk(q: &Query) -> MetricDataQuery {
    let mut metric = Metric::builder().namespace(NAMESPACE).metric_name(q.metric_name);
    for (name, value) in &q.dimensions {
        metric = metric.dimensions(Dimension::builder().name(*name).value(value).build());
    }
    MetricDataQuery::builder()
        .id(&q.id)
        .metric_stat(MetricStat::builder().metric(metric.build()).period(60).stat(q.stat).build())
        .return_data(true)
        .build()
}

/// One GetMetricData (paged if CloudWatch says so) for whole minutes
/// `from..until` (until excluded, so the minute in progress is never read).
pub async fn fetch(
    client: &Client,
    queries: &[Query],
    from: Minute,
    until: Minute,
) -> Result<Vec<MetricPoint>, String> {
    let by_id: BTreeMap<&str, &Query> = queries.iter().map(|q| (q.id.as_str(), q)).collect();
    let mut points = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.iter().map(to_sdk).collect()))
            .start_time(DateTime::from_secs(from.0 * 60))
            .end_time(DateTime::from_secs(until.0 * 60))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| explain(&e, "cloudwatch:GetMetricData"))?;
        for result in out.metric_data_results() {
            let Some(q) = result.id().and_then(|id| by_id.get(id)) else { continue };
            for (ts, value) in result.timestamps().iter().zip(result.values()) {
                points.push(MetricPoint {
                    series: q.series.clone(),
                    minute: Minute(ts.secs().div_euclid(60)),
                    value: value * q.scale,
                });
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(points)
}

/// Polls once a minute (just after the minute closes) until cancelled; the
/// first poll reads the last 30 minutes. A failure is retried every 15 s.
/// `dns` brings the DNS routes' targets as their load balancers are found;
/// a new one has its history read too.
pub async fn run(
    client: Client,
    alb: Vec<MetricTarget>,
    mut dns: watch::Receiver<Vec<MetricTarget>>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    let id = SourceId::Metrics;
    let mut targets: Vec<MetricTarget> = Vec::new();
    let mut queries = Vec::new();
    let mut last_ok: Option<Timestamp> = None;
    let mut failing_since: Option<Timestamp> = None;
    let mut read_until: Option<Minute> = None;
    if tx.send(Msg::Source { id, state: SourceState::Connecting }).await.is_err() {
        return;
    }
    loop {
        let all: Vec<MetricTarget> = alb.iter().cloned().chain(dns.borrow_and_update().iter().cloned()).collect();
        if all != targets {
            let new = all.iter().any(|t| !targets.contains(t));
            queries = self::queries(&all);
            targets = all;
            if new {
                read_until = None;
            }
        }
        let now = Timestamp::now();
        let until = Minute::containing(now);
        let from = match read_until {
            Some(done) => done.offset(-REREAD_MINUTES),
            None => until.offset(-HISTORY_MINUTES),
        };
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = fetch(&client, &queries, from, until) => r,
        };
        let wait = match result {
            Ok(points) => {
                last_ok = Some(now);
                failing_since = None;
                read_until = Some(until);
                if tx.send(Msg::Metrics(points)).await.is_err() {
                    return;
                }
                if tx.send(Msg::Source { id, state: SourceState::Live { last_ok: now } }).await.is_err() {
                    return;
                }
                // Next: 5 s into the next minute, when its datapoints exist.
                let next = until.offset(1).start().as_second() + 5;
                Duration::from_secs((next - Timestamp::now().as_second()).clamp(1, 65) as u64)
            }
            Err(error) => {
                tracing::warn!(%error, "CloudWatch read failed");
                let since = *failing_since.get_or_insert(now);
                if tx.send(Msg::Source { id, state: SourceState::Stale { since, error, last_ok } }).await.is_err() {
                    return;
                }
                Duration::from_secs(15)
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
            // A DNS route's load balancers found: read them now.
            Ok(()) = dns.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Arn;

    fn route(name: &str, lb: &str) -> PlanRoute {
        let prefix = "arn:aws:elasticloadbalancing:us-east-1:123456789012";
        PlanRoute {
            name: name.into(),
            listener: Arn(format!("{prefix}:listener/app/{lb}/50dc6c495c0c9188/f2f7dc8efc522ab2")),
            rule: None,
            old_target_group: Arn(format!("{prefix}:targetgroup/{name}-old/73e2d6bc24d8a067")),
            new_target_group: Arn(format!("{prefix}:targetgroup/{name}-new/943f017f100becff")),
            workload: None,
            steps: vec![0, 100],
            ingress: None,
            file: String::new(),
            lines: Default::default(),
        }
    }

    #[test]
    fn five_routes_need_one_call_of_34_queries() {
        let routes: Vec<PlanRoute> = (0..5).map(|i| route(&format!("r{i}"), "photo-api")).collect();
        let targets: Vec<MetricTarget> =
            routes.iter().enumerate().flat_map(|(i, r)| alb_targets(RouteId::of(i), r)).collect();
        let qs = queries(&targets);
        assert_eq!(qs.len(), 5 * 2 * 3 + 4, "one load balancer shared by all routes");
        assert!(qs.len() <= 500, "GetMetricData takes up to 500 queries");
        let mut ids: Vec<&str> = qs.iter().map(|q| q.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), qs.len(), "ids are unique");
        assert!(ids.iter().all(|id| id.starts_with(|c: char| c.is_ascii_lowercase())), "ids start lowercase");
        let lat = qs.iter().find(|q| q.metric_name == "TargetResponseTime").unwrap();
        assert_eq!(lat.stat, "Average");
        assert_eq!(lat.scale, 1000.0);
        assert_eq!(lat.dimensions[0], ("TargetGroup", "targetgroup/r0-old/73e2d6bc24d8a067".to_string()));
        assert_eq!(lat.dimensions[1], ("LoadBalancer", "app/photo-api/50dc6c495c0c9188".to_string()));
    }

    #[test]
    fn a_dns_route_is_measured_on_each_sides_own_load_balancer() {
        let lbs = PerSide::new("app/web-2022/1".to_string(), "app/web-2026/2".to_string());
        let qs = queries(&dns_targets(RouteId(3), &lbs));
        // Three per side, then four ELB 5xx series per load balancer.
        assert_eq!(qs.len(), 2 * 3 + 2 * 4);
        let req_new = qs.iter().find(|q| q.id == "r3_new_req").unwrap();
        assert_eq!(req_new.dimensions, vec![("LoadBalancer", "app/web-2026/2".to_string())]);
        let elb: Vec<_> = qs
            .iter()
            .filter(|q| q.metric_name == "HTTPCode_ELB_5XX_Count")
            .map(|q| q.dimensions[0].1.as_str())
            .collect();
        assert_eq!(elb, vec!["app/web-2022/1", "app/web-2026/2"], "each side's own 5xx");
    }
}
