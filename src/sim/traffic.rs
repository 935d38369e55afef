//! The demo's traffic model: how many requests a route gets, how the
//! weights split them, and how a side's health turns into 5xx and latency.
//! Pure functions of their inputs, so the model is tested on its own.

use jiff::Timestamp;

/// Requests per minute for a route at `at`: the mean with a gentle
/// three-hour swell, so the graphs move the way real traffic does.
pub fn route_rpm(base_rpm: f64, at: Timestamp) -> f64 {
    let phase = at.as_second() as f64 / (3.0 * 3600.0) * std::f64::consts::TAU;
    base_rpm * (1.0 + 0.15 * phase.sin())
}

/// What one side of a route is like for one second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideLoad {
    /// Share of the route's traffic the weights send here, 0..=1.
    pub share: f64,
    /// Serving pods asked for and ready.
    pub desired: u32,
    pub ready: u32,
    /// Share of requests cut mid-flight by a node drain (ALB 502/504).
    pub reset_rate: f64,
    pub base_error_rate: f64,
    pub base_latency_ms: f64,
}

/// Expected counts for one second, kept fractional until the minute closes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Second {
    pub requests: f64,
    pub target_5xx: f64,
    pub latency_ms: f64,
    pub elb_502: f64,
    pub elb_503: f64,
    pub elb_504: f64,
}

pub fn second(rpm: f64, load: &SideLoad) -> Second {
    let offered = rpm / 60.0 * load.share;
    if offered <= 0.0 {
        return Second::default();
    }
    if load.ready == 0 {
        // No healthy target: the ALB answers 503 itself and the target
        // group counts no request.
        return Second { elb_503: offered, ..Second::default() };
    }
    let missing =
        if load.desired == 0 { 0.0 } else { 1.0 - (f64::from(load.ready) / f64::from(load.desired)).min(1.0) };
    // Fewer ready pods: the rest run hot, queue, and some requests fail.
    let error_rate = load.base_error_rate + 0.06 * missing * missing + 0.01 * missing;
    let cut = offered * load.reset_rate;
    Second {
        requests: offered,
        // Pods shutting down without a preStop delay answer 503 to what
        // still reaches them; the rest of the cut shows at the ALB.
        target_5xx: offered * error_rate + cut * 0.5,
        latency_ms: load.base_latency_ms * (1.0 + 1.5 * missing),
        elb_502: cut * 0.8,
        elb_503: 0.0,
        elb_504: cut * 0.2,
    }
}

/// A minute of one side, summed second by second.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MinuteTotals {
    pub requests: f64,
    pub target_5xx: f64,
    /// Latency weighted by requests, for the minute's average.
    pub latency_ms_sum: f64,
}

impl MinuteTotals {
    pub fn add(&mut self, s: &Second) {
        self.requests += s.requests;
        self.target_5xx += s.target_5xx;
        self.latency_ms_sum += s.latency_ms * s.requests;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy(share: f64) -> SideLoad {
        SideLoad { share, desired: 6, ready: 6, reset_rate: 0.0, base_error_rate: 0.002, base_latency_ms: 80.0 }
    }

    #[test]
    fn weights_split_the_requests() {
        let old = second(1200.0, &healthy(0.75));
        let new = second(1200.0, &healthy(0.25));
        assert!((old.requests - 15.0).abs() < 1e-9);
        assert!((new.requests - 5.0).abs() < 1e-9);
        assert_eq!(second(1200.0, &healthy(0.0)), Second::default());
    }

    #[test]
    fn lost_pods_raise_errors_and_latency() {
        let base = second(600.0, &healthy(1.0));
        let half = second(600.0, &SideLoad { ready: 3, ..healthy(1.0) });
        assert!(half.target_5xx > base.target_5xx * 3.0, "{half:?} vs {base:?}");
        assert!(half.latency_ms > base.latency_ms);
    }

    #[test]
    fn no_ready_pods_means_elb_503_and_no_target_requests() {
        let s = second(600.0, &SideLoad { ready: 0, ..healthy(1.0) });
        assert_eq!(s.requests, 0.0);
        assert!((s.elb_503 - 10.0).abs() < 1e-9);
    }

    #[test]
    fn drains_cut_requests_into_502_and_504() {
        let calm = second(600.0, &healthy(1.0));
        let s = second(600.0, &SideLoad { reset_rate: 0.05, ..healthy(1.0) });
        assert!((s.elb_502 + s.elb_504 - 0.5).abs() < 1e-9);
        assert!(s.elb_502 > s.elb_504);
        assert!(s.target_5xx > calm.target_5xx + 0.2, "terminating pods answer 503 too");
    }

    #[test]
    fn traffic_swells_around_its_mean() {
        let t: Timestamp = "2026-11-25T00:00:00Z".parse().unwrap();
        let values: Vec<f64> =
            (0..180).map(|m| route_rpm(1000.0, t.checked_add(jiff::Span::new().minutes(m)).unwrap())).collect();
        let max = values.iter().cloned().fold(f64::MIN, f64::max);
        let min = values.iter().cloned().fold(f64::MAX, f64::min);
        assert!(max <= 1150.0 + 1e-6 && min >= 850.0 - 1e-6);
        assert!(max - min > 250.0);
    }
}
