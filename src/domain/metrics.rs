use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Minute;

/// One-minute datapoints of one metric. A minute with no datapoint is
/// absent, never zero: CloudWatch publishes nothing for a minute in which
/// nothing was counted, and "no data" must not read as "0% errors".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    points: BTreeMap<Minute, f64>,
}

/// How much history a series keeps: enough for the drill-down charts and a
/// generous margin, bounded so a day-long session does not grow without end.
pub const SERIES_RETENTION_MINUTES: i64 = 6 * 60;

impl MetricSeries {
    pub fn insert(&mut self, minute: Minute, value: f64) {
        self.points.insert(minute, value);
        if let Some((&last, _)) = self.points.last_key_value() {
            let horizon = last.offset(-SERIES_RETENTION_MINUTES);
            while let Some((&first, _)) = self.points.first_key_value() {
                if first >= horizon {
                    break;
                }
                self.points.pop_first();
            }
        }
    }

    pub fn get(&self, minute: Minute) -> Option<f64> {
        self.points.get(&minute).copied()
    }

    pub fn last_minute(&self) -> Option<Minute> {
        self.points.last_key_value().map(|(m, _)| *m)
    }

    /// Values for `count` minutes ending at `last` (inclusive), oldest first.
    pub fn window(&self, last: Minute, count: usize) -> Vec<Option<f64>> {
        (0..count as i64).rev().map(|back| self.get(last.offset(-back))).collect()
    }

    /// The minutes that have a value, oldest first.
    pub fn minutes(&self) -> impl Iterator<Item = Minute> + '_ {
        self.points.keys().copied()
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// Target 5xx as a share of requests for one minute.
///
/// ALB publishes `HTTPCode_Target_5XX_Count` only for minutes that had one,
/// so a missing 5xx point beside a present request point is zero errors; a
/// missing request point is no data at all.
pub fn error_rate(requests: Option<f64>, errors: Option<f64>) -> Option<f64> {
    let requests = requests?;
    if requests <= 0.0 {
        return None;
    }
    Some(errors.unwrap_or(0.0) / requests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_requests_is_no_data_and_missing_errors_is_zero() {
        assert_eq!(error_rate(None, Some(3.0)), None);
        assert_eq!(error_rate(Some(0.0), None), None);
        assert_eq!(error_rate(Some(200.0), None), Some(0.0));
        assert_eq!(error_rate(Some(200.0), Some(5.0)), Some(0.025));
    }

    #[test]
    fn windows_keep_gaps_and_retention_drops_the_oldest() {
        let mut s = MetricSeries::default();
        s.insert(Minute(10), 1.0);
        s.insert(Minute(12), 3.0);
        assert_eq!(s.window(Minute(12), 4), vec![None, Some(1.0), None, Some(3.0)]);
        s.insert(Minute(12 + SERIES_RETENTION_MINUTES + 1), 9.0);
        assert_eq!(s.get(Minute(10)), None);
        assert_eq!(s.len(), 1);
    }
}

/// Where a route's requests, 5xx and latency come from: the closed set of
/// metrics sources, with what the console says of each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MetricsKind {
    /// The load balancers' own metrics, `AWS/ApplicationELB`.
    #[default]
    CloudWatch,
}

impl MetricsKind {
    pub const ALL: [MetricsKind; 1] = [MetricsKind::CloudWatch];

    /// The source as a person names it: "no complete CloudWatch minute yet".
    pub fn name(self) -> &'static str {
        match self {
            MetricsKind::CloudWatch => "CloudWatch",
        }
    }

    /// The source's name in the header: `metrics: 12s ago`.
    pub fn source_label(self) -> &'static str {
        match self {
            MetricsKind::CloudWatch => "metrics",
        }
    }

    /// The source's name in a recording's `Source` messages: the
    /// recording format's.
    pub fn source_tag(self) -> &'static str {
        match self {
            MetricsKind::CloudWatch => "Metrics",
        }
    }

    /// What its latency is: a percentile where the source has one, else
    /// the average (CloudWatch's `TargetResponseTime` without extended
    /// statistics).
    pub fn latency_is(self) -> &'static str {
        match self {
            MetricsKind::CloudWatch => "average",
        }
    }

    /// Seconds between two reads while they succeed: its minutes are
    /// read once each, just after they close.
    pub fn poll_secs(self) -> i64 {
        match self {
            MetricsKind::CloudWatch => 60,
        }
    }

    pub fn is_default(&self) -> bool {
        *self == MetricsKind::default()
    }
}

/// Where one side of one route is measured, whatever source measures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricTarget {
    pub route: super::RouteId,
    pub side: super::Side,
    pub on: MeasuredOn,
}

/// What carries a side's requests: a target group behind a load balancer
/// every side shares, or a load balancer that serves the side alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeasuredOn {
    TargetGroup {
        /// `targetgroup/api-new/0123abcd`.
        target_group: String,
        /// `app/photo-api/50dc6c495c0c9188`.
        load_balancer: String,
    },
    LoadBalancer {
        load_balancer: String,
    },
}

impl MetricTarget {
    /// A route whose sides are two target groups behind one load balancer.
    pub fn on_target_groups(
        route: super::RouteId,
        load_balancer: &str,
        groups: super::PerSide<&str>,
    ) -> Vec<MetricTarget> {
        super::Side::BOTH
            .map(|side| MetricTarget {
                route,
                side,
                on: MeasuredOn::TargetGroup {
                    target_group: groups.get(side).to_string(),
                    load_balancer: load_balancer.to_string(),
                },
            })
            .to_vec()
    }

    /// A route whose sides each have a load balancer of their own.
    pub fn on_load_balancers(route: super::RouteId, load_balancers: &super::PerSide<String>) -> Vec<MetricTarget> {
        super::Side::BOTH
            .map(|side| MetricTarget {
                route,
                side,
                on: MeasuredOn::LoadBalancer { load_balancer: load_balancers.get(side).clone() },
            })
            .to_vec()
    }
}

impl MeasuredOn {
    /// The load balancer whose own errors (its 502/503/504) count for
    /// the side.
    pub fn load_balancer(&self) -> &str {
        match self {
            MeasuredOn::TargetGroup { load_balancer, .. } | MeasuredOn::LoadBalancer { load_balancer } => load_balancer,
        }
    }
}
