use serde::{Deserialize, Serialize};

use super::Side;

/// An ALB target-group weight as the API takes it: 0 to 999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Weight(pub u16);

impl Weight {
    pub const MAX: Weight = Weight(999);
}

/// The old and new weights of a route's forward action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Weights {
    pub old: Weight,
    pub new: Weight,
}

impl Weights {
    /// Weights for `percent` of traffic to the new side, on the 0..=100 scale
    /// operators think in.
    pub fn from_percent_new(percent: u8) -> Weights {
        let p = u16::from(percent.min(100));
        Weights { old: Weight(100 - p), new: Weight(p) }
    }

    pub fn get(&self, side: Side) -> Weight {
        match side {
            Side::Old => self.old,
            Side::New => self.new,
        }
    }

    /// Share of traffic to the new side in percent, or None when both are 0
    /// (the ALB then answers 503 for the route).
    pub fn percent_new(&self) -> Option<f64> {
        let total = f64::from(self.old.0) + f64::from(self.new.0);
        (total > 0.0).then(|| f64::from(self.new.0) * 100.0 / total)
    }
}

/// ALB target states (`TargetHealth.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TargetState {
    Initial,
    Healthy,
    Unhealthy,
    Unused,
    Draining,
    Unavailable,
}

impl TargetState {
    pub fn label(self) -> &'static str {
        match self {
            TargetState::Initial => "initial",
            TargetState::Healthy => "healthy",
            TargetState::Unhealthy => "unhealthy",
            TargetState::Unused => "unused",
            TargetState::Draining => "draining",
            TargetState::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Instance id or pod IP, with port.
    pub id: String,
    pub state: TargetState,
    pub reason: Option<String>,
}

/// What the ALB said about one route in one read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteRead {
    pub route: String,
    /// Every target group in the forward action with its weight, including
    /// groups the plan does not name: those are shown, never hidden.
    pub forward: Vec<(String, Weight)>,
    /// Targets of the old and new target groups.
    pub old_targets: Vec<Target>,
    pub new_targets: Vec<Target>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_new_is_share_of_total_weight() {
        assert_eq!(Weights::from_percent_new(25).percent_new(), Some(25.0));
        let w = Weights { old: Weight(3), new: Weight(1) };
        assert_eq!(w.percent_new(), Some(25.0));
        assert_eq!(Weights { old: Weight(0), new: Weight(0) }.percent_new(), None);
        assert_eq!(Weights::from_percent_new(250).new, Weight(100));
    }
}
