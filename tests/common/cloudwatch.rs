//! CloudWatch at the peers as a test writes to it: through the harness's
//! proxy, with the SDK the console reads with, one route's target groups.
//!
//! moto 5.2 matches a query's dimensions against a datapoint's as an
//! ordered list; CloudWatch matches them as a set. Each series is put in
//! AWS's documented order (`TargetGroup`, `LoadBalancer`) and again in the
//! reverse, so the console's query finds each datapoint exactly once
//! whichever order it asks in. On CloudWatch itself the two orders are one
//! series.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use cutover::domain::{Minute, PerSide, Side};
use cutover::plan::Plan;
use cutover::sources::cloudwatch;
use serde_json::Value;

use super::peers::Peers;

/// One side's minute as ALB publishes it for a target group.
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    pub requests: f64,
    pub errors: f64,
    pub latency_ms: f64,
}

/// CloudWatch at the peers as a test writes to it: through the harness's
/// proxy, with the SDK the console reads with.
pub struct CloudWatch {
    pub rt: tokio::runtime::Runtime,
    pub client: aws_sdk_cloudwatch::Client,
    /// admin's load balancer's dimension, and each side's target group's.
    pub lb: String,
    pub tg: PerSide<String>,
    /// The harness's realistic seed: its own minutes of admin's old side.
    pub expected: Value,
}

impl CloudWatch {
    /// One route's (`admin`, `api`) target groups and load balancer.
    pub fn new(peers: &Peers, route: &str) -> CloudWatch {
        let plan = Plan::load(&peers.plan_path()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let sdk = rt.block_on(cutover::sources::aws::sdk_config(&plan.aws));
        let expected = peers.expected();
        let tg = |side: &str| expected["routes"][route][side]["target_group"].as_str().unwrap().to_string();
        CloudWatch {
            client: aws_sdk_cloudwatch::Client::new(&sdk),
            lb: expected["load_balancer"]["dimension"].as_str().unwrap().to_string(),
            tg: PerSide::new(tg("old"), tg("new")),
            expected,
            rt,
        }
    }

    /// A target group's dimensions in AWS's documented order, then in the
    /// reverse (see the module's note on moto).
    pub fn orders(&self, side: Side) -> [Vec<Dimension>; 2] {
        let tg = Dimension::builder().name("TargetGroup").value(self.tg.get(side)).build();
        let lb = Dimension::builder().name("LoadBalancer").value(&self.lb).build();
        [vec![tg.clone(), lb.clone()], vec![lb, tg]]
    }

    /// Puts `traffic` into each of `minutes` on `side`, in both orders. As
    /// on ALB, the 5xx counter has no datapoint in a minute without one.
    pub fn put(&self, side: Side, minutes: &[Minute], traffic: Traffic) {
        let mut data = Vec::new();
        for minute in minutes {
            let series = [
                ("RequestCount", traffic.requests, StandardUnit::Count),
                ("HTTPCode_Target_5XX_Count", traffic.errors, StandardUnit::Count),
                ("TargetResponseTime", traffic.latency_ms / 1000.0, StandardUnit::Seconds),
            ];
            for (name, value, unit) in series {
                if name == "HTTPCode_Target_5XX_Count" && value == 0.0 {
                    continue;
                }
                for dimensions in self.orders(side) {
                    data.push(datum(name, dimensions, *minute, value, unit.clone()));
                }
            }
        }
        self.send(data);
    }

    pub fn send(&self, data: Vec<MetricDatum>) {
        // PutMetricData takes up to 1,000 datapoints a call.
        for chunk in data.chunks(1000) {
            let put =
                self.client.put_metric_data().namespace(cloudwatch::NAMESPACE).set_metric_data(Some(chunk.to_vec()));
            self.rt.block_on(put.send()).unwrap();
        }
    }
}

pub fn datum(name: &str, dimensions: Vec<Dimension>, minute: Minute, value: f64, unit: StandardUnit) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .set_dimensions(Some(dimensions))
        .timestamp(DateTime::from_secs(minute.0 * 60))
        .value(value)
        .unit(unit)
        .build()
}
