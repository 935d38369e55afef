//! The vocabulary of a cutover, independent of where the data comes from.
//!
//! Sources (the simulator now, Kubernetes and AWS later, a recording in
//! replay) convert their objects into these small types at the boundary, so
//! the app, the UI and the recorder never hold a full API object.

pub mod analysis;
mod broker;
mod cluster;
pub mod cron;
mod fault;
pub mod lifecycle;
mod metrics;
mod owner;
mod route;
mod share;
mod signal;
mod singleton;
pub mod stats;
mod time;
mod traffic;
pub mod wheel;

pub use broker::{ShareState, ShareStatus};
pub use cluster::*;
pub use cron::{NoCatchUp, Schedule, Slots, plan_no_catch_up};
pub use fault::Fault;
pub use metrics::*;
pub use owner::*;
pub use route::*;
pub use share::{CONVERGED_POINTS, converged, observed_share};
pub use signal::*;
pub use singleton::SingletonSpec;
pub use time::*;
pub use traffic::*;
pub use wheel::Wheel;

use serde::{Deserialize, Serialize};

/// Which environment a thing belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Old,
    New,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Old, Side::New];

    pub fn index(self) -> usize {
        match self {
            Side::Old => 0,
            Side::New => 1,
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Old => Side::New,
            Side::New => Side::Old,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Side::Old => "old",
            Side::New => "new",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A pair of values, one per side, indexed by [`Side`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerSide<T> {
    pub old: T,
    pub new: T,
}

impl<T> PerSide<T> {
    pub fn new(old: T, new: T) -> Self {
        Self { old, new }
    }

    pub fn get(&self, side: Side) -> &T {
        match side {
            Side::Old => &self.old,
            Side::New => &self.new,
        }
    }

    pub fn get_mut(&mut self, side: Side) -> &mut T {
        match side {
            Side::Old => &mut self.old,
            Side::New => &mut self.new,
        }
    }
}

/// How something is doing, as the operator should read it at a glance.
///
/// Ordered from best to worst so that `max` gives the overall health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Health {
    /// Deliberately not running (scaled to zero, suspended): neither good nor bad.
    Idle,
    Healthy,
    Degraded,
    Failing,
}
