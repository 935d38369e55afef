//! The plan's limits on acting, and where its wheel is kept.

use std::time::Duration;

use super::PlanFile;
use super::error::{Located, PlanError};
use super::values::is_dns_label;
use super::{DEFAULT_MAX_STEP, DEFAULT_STALE_AFTER_SECS};

/// What the plan says of pacing and judging steps, checked.
pub(super) struct Limits {
    pub stale_after: Duration,
    pub max_step: u8,
    pub spike_percent: f64,
    pub min_dwell: i64,
    pub lease_namespace: String,
}

pub(super) fn parse(loc: &Located<'_>, raw: &PlanFile, namespaces: &[String]) -> Result<Limits, PlanError> {
    let stale_after = match &raw.stale_after {
        Some(s) if *s.get_ref() == 0 => {
            return Err(loc.at(
                s.span(),
                "`stale_after` is 0",
                "seconds after which a read is too old to act on; default 30",
            ));
        }
        Some(s) => Duration::from_secs(*s.get_ref()),
        None => Duration::from_secs(DEFAULT_STALE_AFTER_SECS),
    };
    let max_step = match &raw.max_step {
        Some(m) if *m.get_ref() == 0 || *m.get_ref() > 100 => {
            return Err(loc.at(m.span(), "`max_step` must be 1 to 100 percentage points", "default 25"));
        }
        Some(m) => *m.get_ref(),
        None => DEFAULT_MAX_STEP,
    };
    let spike_percent = match &raw.spike_percent {
        Some(p) if !(*p.get_ref() > 0.0 && *p.get_ref() <= 100.0) => {
            return Err(loc.at(p.span(), "`spike_percent` must be above 0 and at most 100", "default 1.0"));
        }
        Some(p) => *p.get_ref(),
        None => super::DEFAULT_SPIKE_PERCENT,
    };
    let min_dwell = match &raw.min_dwell {
        Some(d) if *d.get_ref() > 3600 => {
            return Err(loc.at(
                d.span(),
                "`min_dwell` is more than an hour",
                "seconds a route stays at a weight before the next step needs only one confirmation; default 120",
            ));
        }
        Some(d) => *d.get_ref() as i64,
        None => super::DEFAULT_MIN_DWELL_SECS,
    };
    let lease_namespace = match &raw.lease_namespace {
        Some(ns) if !is_dns_label(ns.get_ref()) => {
            return Err(loc.at(
                ns.span(),
                format!("`lease_namespace`: `{}` is not a namespace name", ns.get_ref()),
                "lowercase letters, digits and '-', at most 63; the namespace of the new cluster that keeps the plan's Lease (default: the first of `namespaces`)",
            ));
        }
        Some(ns) => ns.get_ref().clone(),
        None => namespaces[0].clone(),
    };
    Ok(Limits { stale_after, max_step, spike_percent, min_dwell, lease_namespace })
}
