//! What the builder gathers of the minutes' figures as the stream passes:
//! the console keeps only its last hours of them, the report all.

use std::collections::BTreeMap;

use crate::domain::{Minute, error_rate};

/// One route's figures per minute, as the datapoints came (a later point of
/// the same minute replaces an earlier one, as CloudWatch revises).
#[derive(Default)]
pub(super) struct Series {
    pub(super) requests: BTreeMap<Minute, f64>,
    pub(super) target_5xx: BTreeMap<Minute, f64>,
    /// The fewest healthy targets read in the minute, and the targets then.
    pub(super) health: BTreeMap<Minute, (u32, u32)>,
}

/// Target 5xx as a percentage of requests, as `error_rate` reads the
/// datapoints (no request point: no data; no 5xx point: none), computed
/// in percent so that 70 of 2,000 is 3.5.
pub(super) fn percent(requests: Option<f64>, errors: Option<f64>) -> Option<f64> {
    error_rate(requests, errors).map(|_| errors.unwrap_or(0.0) * 100.0 / requests.unwrap_or(1.0))
}
