//! The CloudWatch source: every route's and load balancer's 1-minute
//! datapoints, all in one GetMetricData call a minute. Rates are computed
//! in the app, so "no data" stays distinct from zero.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};

use crate::app::{LbMetric, MetricPoint, RouteMetric, SeriesId};
use crate::domain::{MeasuredOn, MetricTarget, MetricsKind, Minute};

use super::aws::failure;
use super::health::Failure;
use super::metrics::MetricsReader;

pub const NAMESPACE: &str = "AWS/ApplicationELB";

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

/// The dimensions a side's requests, target 5xx and latency are
/// measured by: a target group on its load balancer, or the whole load
/// balancer of a side that has one of its own.
fn dimensions(on: &MeasuredOn) -> Vec<(&'static str, String)> {
    match on {
        MeasuredOn::TargetGroup { target_group, load_balancer } => {
            vec![("TargetGroup", target_group.clone()), ("LoadBalancer", load_balancer.clone())]
        }
        MeasuredOn::LoadBalancer { load_balancer } => vec![("LoadBalancer", load_balancer.clone())],
    }
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
                dimensions: dimensions(&t.on),
                scale,
            });
        }
        let lb = t.on.load_balancer();
        if !lbs.iter().any(|l| l == lb) {
            lbs.push(lb.to_string());
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
) -> Result<Vec<MetricPoint>, Failure> {
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
            .map_err(|e| failure(&e, "cloudwatch:GetMetricData"))?;
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

/// The reader of the load balancers' CloudWatch metrics: every route's
/// and load balancer's series in one GetMetricData call a minute.
pub struct CloudWatchReader {
    client: Client,
    /// The targets of the last fetch and their queries, made again only
    /// when the targets change.
    made_for: Vec<MetricTarget>,
    queries: Vec<Query>,
}

impl CloudWatchReader {
    pub fn new(client: Client) -> CloudWatchReader {
        CloudWatchReader { client, made_for: Vec::new(), queries: Vec::new() }
    }
}

impl MetricsReader for CloudWatchReader {
    const KIND: MetricsKind = MetricsKind::CloudWatch;

    async fn fetch(
        &mut self,
        targets: &[MetricTarget],
        from: Minute,
        until: Minute,
    ) -> Result<Vec<MetricPoint>, Failure> {
        if self.made_for != targets {
            self.queries = queries(targets);
            self.made_for = targets.to_vec();
        }
        fetch(&self.client, &self.queries, from, until).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RouteId, Side};

    /// An ALB route's sides: each target group on the one load balancer.
    fn alb_targets(id: RouteId, name: &str, lb: &str) -> Vec<MetricTarget> {
        Side::BOTH
            .into_iter()
            .map(|side| MetricTarget {
                route: id,
                side,
                on: MeasuredOn::TargetGroup {
                    target_group: format!(
                        "targetgroup/{name}-{side}/{}",
                        if side == Side::Old { "73e2d6bc24d8a067" } else { "943f017f100becff" }
                    ),
                    load_balancer: format!("app/{lb}/50dc6c495c0c9188"),
                },
            })
            .collect()
    }

    #[test]
    fn five_routes_need_one_call_of_34_queries() {
        let targets: Vec<MetricTarget> =
            (0..5).flat_map(|i| alb_targets(RouteId::of(i), &format!("r{i}"), "photo-api")).collect();
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
        let lb = |side: Side| if side == Side::Old { "app/web-2022/1" } else { "app/web-2026/2" };
        let targets: Vec<MetricTarget> = Side::BOTH
            .into_iter()
            .map(|side| MetricTarget {
                route: RouteId(3),
                side,
                on: MeasuredOn::LoadBalancer { load_balancer: lb(side).to_string() },
            })
            .collect();
        let qs = queries(&targets);
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
