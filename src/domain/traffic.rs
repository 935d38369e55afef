use serde::{Deserialize, Serialize};

use super::Side;

/// A weight as the backend takes it: 0 to 999 for an ALB target group,
/// 0 to 255 for a weighted record.
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

    /// The same with old's weight set to `old`.
    pub fn with_old(self, old: u16) -> Weights {
        Weights { old: Weight(old), ..self }
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

/// A route of the plan, by its place in the plan's order: what messages,
/// effects, proposals and views name it by. Its name is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RouteId(pub u16);

impl RouteId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    pub fn of(index: usize) -> RouteId {
        RouteId(u16::try_from(index).unwrap_or(u16::MAX))
    }
}

/// The TTL resolvers get for an alias record: a load balancer's, 60 s.
pub const ALIAS_TTL_SECS: i64 = 60;

/// One read of a route's weights and both sides' target health, from any
/// backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteRead {
    pub route: RouteId,
    /// The plan's two weights, or None when the backend does not hold
    /// both (an ALB forward action without one of the plan's groups).
    pub weights: Option<Weights>,
    /// Other weighted objects beside the plan's two (target groups of the
    /// forward action, other weighted records of the name): shown, never
    /// hidden.
    pub others: Vec<(String, Weight)>,
    pub targets: super::PerSide<Vec<Target>>,
    pub detail: super::ReadDetail,
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

/// Why one route of a source could not be read while the others were
/// (its rule deleted, a target group gone): that route's problem alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteProblem {
    pub route: RouteId,
    pub error: String,
}

/// A route's last weight change seen before this session began: in an
/// earlier recording of the same plan (the executor's verified write, or
/// a change a read showed), or told by the simulated world. How long a
/// route has been at its weight is known from here, not from the
/// session's first read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorChange {
    /// The route's name in that session's plan.
    pub route: String,
    pub at: jiff::Timestamp,
    pub to: Weights,
    /// Where it was seen: a recording's file name, `the simulated world`.
    pub source: String,
}
