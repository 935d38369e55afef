//! How the console was started and what it watches, fixed for a session:
//! the mode, the clusters, the plan's routes and singletons, its guards.

use serde::{Deserialize, Serialize};

use crate::domain::{Backend, DnsSpec, IngressRef, MetricsKind, PerSide, RouteKind, Side, SingletonSpec, WorkloadKey};

/// How the console was started; shown in the header and deciding which
/// actions exist at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// `cutover demo`: the embedded simulated world.
    Demo,
    /// `cutover watch`: live, read-only by construction.
    Watch,
    /// `cutover run`: live, with the executor that can change things.
    Run,
    /// `cutover run --dry-run`: live, proposals show the calls they would make.
    DryRun,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Demo => "DEMO",
            Mode::Watch => "WATCH",
            Mode::Run => "LIVE",
            Mode::DryRun => "DRY-RUN",
        }
    }

    pub fn banner(self) -> &'static str {
        match self {
            Mode::Demo => "simulated world: no cloud account, nothing real is touched",
            Mode::Watch => "read-only: nothing can be changed from here",
            Mode::Run => "driving: confirmed actions change the real ALB and clusters",
            Mode::DryRun => "dry run: actions show the calls they would make, and make none",
        }
    }

    /// Whether actions may be proposed at all.
    pub fn can_act(self) -> bool {
        matches!(self, Mode::Demo | Mode::Run | Mode::DryRun)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterMeta {
    /// Context or cluster name, as the team calls it.
    pub name: String,
    /// Kubernetes version, when known.
    pub version: String,
}

/// A route of the plan: two weights, old and new, in one backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteSpec {
    pub name: String,
    pub backend: Backend,
    /// The Deployment serving the route on both sides.
    pub workload: Option<WorkloadKey>,
    /// Percent to new, in order.
    pub steps: Vec<u8>,
    /// Where the route's requests, 5xx and latency come from.
    #[serde(default, skip_serializing_if = "MetricsKind::is_default")]
    pub metrics: MetricsKind,
    /// What each step must show, when the plan arms an analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<crate::domain::analysis::AnalysisSpec>,
}

impl RouteSpec {
    pub fn kind(&self) -> RouteKind {
        self.backend.kind()
    }

    pub fn dns(&self) -> Option<&DnsSpec> {
        match &self.backend {
            Backend::Route53(d) => Some(d),
            _ => None,
        }
    }

    /// The live source that reads the route's weights.
    pub fn source(&self) -> crate::app::SourceId {
        crate::app::SourceId::Traffic(self.kind())
    }

    /// The Ingress the AWS Load Balancer Controller writes the rule from.
    pub fn ingress(&self) -> Option<&IngressRef> {
        self.backend.ingress()
    }

    /// What holds each side's weight: a target group, a record's set
    /// identifier.
    pub fn weighted(&self, side: Side) -> &str {
        self.backend.weighted(side)
    }

    /// Where the weights are, in a few words: `rule 1a2b` on
    /// `app/web/…`, `www.example.com. A`.
    pub fn place(&self) -> String {
        self.backend.place()
    }
}

/// What the console is watching: fixed for a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppConfig {
    pub mode: Mode,
    /// The plan's name.
    pub title: String,
    pub clusters: PerSide<ClusterMeta>,
    pub routes: Vec<RouteSpec>,
    pub singletons: Vec<SingletonSpec>,
    pub guards: Guards,
}

impl AppConfig {
    /// Whether `key` is the workload behind one of the plan's routes.
    pub fn serves(&self, key: &WorkloadKey) -> bool {
        self.routes.iter().any(|r| r.workload.as_ref() == Some(key))
    }

    /// The console's configuration for a plan.
    pub fn of_plan(plan: &crate::plan::Plan, mode: Mode) -> AppConfig {
        let meta = |c: Option<&crate::plan::ClusterTarget>| ClusterMeta {
            name: c.map_or("EC2 (no Kubernetes)".into(), |c| c.context.clone()),
            version: String::new(),
        };
        AppConfig {
            mode,
            title: plan.name.clone(),
            clusters: PerSide::new(meta(plan.old.as_ref()), meta(Some(&plan.new))),
            routes: plan
                .routes
                .iter()
                .map(|r| RouteSpec {
                    name: r.name.clone(),
                    backend: r.target.spec(),
                    workload: r.workload.clone(),
                    steps: r.steps.clone(),
                    metrics: r.metrics,
                    analysis: r.analysis.clone(),
                })
                .collect(),
            singletons: plan.singletons.clone(),
            guards: Guards {
                stale_after_secs: plan.stale_after.as_secs() as i64,
                max_step: plan.max_step,
                spike_percent: plan.spike_percent,
                min_dwell_secs: plan.min_dwell,
            },
        }
    }
}

/// The plan's limits on acting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Guards {
    /// An ALB read older than this is too old to act on.
    pub stale_after_secs: i64,
    /// A larger weight change, in percentage points, needs two confirmations.
    pub max_step: u8,
    /// A side's 5xx share of its requests in a minute, in percent, above
    /// which the minute is marked as a spike (timeline, report).
    #[serde(default = "default_spike_percent")]
    pub spike_percent: f64,
    /// Seconds a route must have been at its weight, with one complete
    /// CloudWatch minute seen there, before a step forward needs only one
    /// confirmation.
    #[serde(default = "default_min_dwell")]
    pub min_dwell_secs: i64,
}

fn default_min_dwell() -> i64 {
    crate::plan::DEFAULT_MIN_DWELL_SECS
}

fn default_spike_percent() -> f64 {
    crate::plan::DEFAULT_SPIKE_PERCENT
}

impl Default for Guards {
    fn default() -> Self {
        Guards {
            stale_after_secs: crate::plan::DEFAULT_STALE_AFTER_SECS as i64,
            max_step: crate::plan::DEFAULT_MAX_STEP,
            spike_percent: default_spike_percent(),
            min_dwell_secs: default_min_dwell(),
        }
    }
}
