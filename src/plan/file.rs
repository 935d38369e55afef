//! The plan file as TOML gives it: every value with its span, so that a
//! mistake found later is said at its line and column. Unknown fields are
//! refused here, by name.

use serde::Deserialize;
use toml::Spanned;

use super::route::RouteFile;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanFile {
    pub name: Spanned<String>,
    pub namespaces: Spanned<Vec<Spanned<String>>>,
    pub old: Option<ClusterFile>,
    pub new: Option<Spanned<ClusterFile>>,
    pub aws: Option<Spanned<AwsFile>>,
    #[serde(default)]
    pub route: Vec<Spanned<RouteFile>>,
    #[serde(default)]
    pub singleton: Vec<Spanned<SingletonFile>>,
    /// Seconds after which a read counts as stale for the guards.
    pub stale_after: Option<Spanned<u64>>,
    /// The largest weight change, in percentage points, one confirmation allows.
    pub max_step: Option<Spanned<u8>>,
    /// A side's 5xx share of requests, in percent, that marks a minute as a spike.
    pub spike_percent: Option<Spanned<f64>>,
    pub min_dwell: Option<Spanned<u64>>,
    /// The namespace of the new cluster where the plan's Lease (who drives)
    /// is kept; default: the first of `namespaces`.
    pub lease_namespace: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClusterFile {
    pub context: Spanned<String>,
    pub kubeconfig: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AwsFile {
    pub region: Spanned<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<Spanned<String>>,
    /// Seconds between two reads of the listener rules and target health.
    pub alb_poll: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SingletonFile {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub namespace: Spanned<String>,
    pub old_name: Option<Spanned<String>>,
    pub new_name: Option<Spanned<String>>,
    pub replicas: Option<Spanned<u32>>,
}
