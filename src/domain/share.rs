//! New's share of a route's traffic: the share its weights set, the share
//! its requests show, and when the two agree. A DNS route's clients follow
//! a change only as their cached answers expire, so the two differ for
//! minutes; the console warns, the proposal says so, and the report
//! counts how long they took, all by the one rule here.

/// How close, in percentage points, the observed share must come to the set
/// share for a DNS route's clients to count as having followed a change.
pub const CONVERGED_POINTS: f64 = 5.0;

/// Whether the observed share (percent) has come to the set share:
/// within `CONVERGED_POINTS` of it.
pub fn converged(observed: f64, set: f64) -> bool {
    (observed - set).abs() <= CONVERGED_POINTS
}

/// New's share of one minute's requests of both sides, in percent: None
/// without a datapoint on either side, or without requests.
pub fn observed_share(old: Option<f64>, new: Option<f64>) -> Option<f64> {
    if old.is_none() && new.is_none() {
        return None;
    }
    let (o, n) = (old.unwrap_or(0.0), new.unwrap_or(0.0));
    (o + n > 0.0).then(|| n * 100.0 / (o + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_have_followed_within_the_points_and_not_beyond() {
        assert!(converged(25.0, 25.0));
        assert!(converged(20.0, 25.0) && converged(30.0, 25.0), "the bounds count as followed");
        assert!(!converged(19.9, 25.0) && !converged(30.1, 25.0));
    }

    #[test]
    fn no_datapoint_is_no_share_and_a_missing_side_sent_nothing() {
        assert_eq!(observed_share(None, None), None);
        assert_eq!(observed_share(Some(0.0), Some(0.0)), None, "no requests: no share");
        assert_eq!(observed_share(Some(300.0), None), Some(0.0));
        assert_eq!(observed_share(None, Some(5.0)), Some(100.0));
        assert_eq!(observed_share(Some(75.0), Some(25.0)), Some(25.0));
    }
}
