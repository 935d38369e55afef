//! The cutover plan (`cutover.toml`): which clusters, namespaces, routes
//! and singletons a session is about.
//!
//! Parsing keeps every field's position, so a mistake is reported with the
//! file, line and column and what to write instead. One file per section
//! of the plan; each backend's route fields in a file of their own.

mod alb;
mod analysis;
mod error;
mod guards;
mod route;
mod route53;
mod sides;
mod singletons;
mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::{RouteId, SingletonSpec};

pub use alb::{AlbLines, AlbRoute};
pub use analysis::{
    DEFAULT_BAKE_SECS, DEFAULT_CONFIDENCE, DEFAULT_FAILURE_LIMIT, DEFAULT_MAX_ERROR_INCREASE, DEFAULT_MAX_ERROR_RATE,
    DEFAULT_MAX_LATENCY_MS,
};
pub use error::{PlanError, line_col};
pub use route::{PlanRoute, RouteTarget, Routed};
pub use route53::{RecordType, Route53Lines, Route53Route};
pub use sides::{AwsTarget, ClusterTarget};
pub use values::Arn;

use error::Located;
use values::is_dns_label;

use serde::Deserialize;
use toml::Spanned;

use route::RouteFile;

pub const DEFAULT_STEPS: [u8; 8] = [0, 1, 5, 10, 25, 50, 75, 100];
pub const DEFAULT_STALE_AFTER_SECS: u64 = 30;
pub const DEFAULT_MAX_STEP: u8 = 25;
pub const DEFAULT_ALB_POLL_SECS: u64 = 5;
pub const DEFAULT_SPIKE_PERCENT: f64 = 1.0;
pub const DEFAULT_MIN_DWELL_SECS: i64 = 120;

// The plan file as TOML gives it: every value with its span, so that a
// mistake found later is said at its line and column. Unknown fields are
// refused here, by name. A route's fields are its file's (route.rs).

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    pub name: Spanned<String>,
    pub namespaces: Spanned<Vec<Spanned<String>>>,
    pub old: Option<ClusterFile>,
    pub new: Option<Spanned<ClusterFile>>,
    pub aws: Option<Spanned<AwsFile>>,
    #[serde(default)]
    pub route: Vec<Spanned<RouteFile>>,
    /// What a step must show, for every route (a route's own table
    /// overrides it field by field).
    pub analysis: Option<Spanned<analysis::AnalysisFile>>,
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
struct ClusterFile {
    pub context: Spanned<String>,
    pub kubeconfig: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AwsFile {
    pub region: Spanned<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<Spanned<String>>,
    /// Seconds between two reads of the listener rules and target health.
    pub alb_poll: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SingletonFile {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub namespace: Spanned<String>,
    pub old_name: Option<Spanned<String>>,
    pub new_name: Option<Spanned<String>>,
    pub replicas: Option<Spanned<u32>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub path: PathBuf,
    pub name: String,
    pub namespaces: Vec<String>,
    /// None: the old side is EC2 behind the ALB, with no Kubernetes.
    pub old: Option<ClusterTarget>,
    pub new: ClusterTarget,
    pub aws: AwsTarget,
    /// Every route, of every backend: by backend, in the plan's order within
    /// one. A route's id is its place here.
    pub routes: Vec<PlanRoute>,
    pub singletons: Vec<SingletonSpec>,
    pub stale_after: Duration,
    pub max_step: u8,
    pub spike_percent: f64,
    /// Seconds a route stays at a weight (with one complete minute of its
    /// metrics seen there) before a step forward needs only one confirmation.
    pub min_dwell: i64,
    /// Where in the new cluster the plan's wheel (a Lease) is kept.
    pub lease_namespace: String,
}

impl Plan {
    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PlanError {
            file: file.clone(),
            line: 0,
            column: 0,
            problem: format!("cannot read the plan: {e}"),
            hint: "give the path of a cutover plan (TOML), e.g. --plan cutover.toml".into(),
        })?;
        Plan::parse(&file, &text, path)
    }

    pub fn parse(file: &str, text: &str, path: &Path) -> Result<Plan, PlanError> {
        let loc = Located { file, text };
        let raw: PlanFile = toml::from_str(text).map_err(|e| {
            // The TOML parser's error has a message and a span, no kind:
            // its words choose the hint, never whether the plan is refused.
            let message = e.message().trim().to_string();
            let hint = if message.contains("unknown field") {
                "remove or rename the field; the plan's fields are in the README"
            } else if message.contains("missing field") {
                "add the field; the plan's fields are in the README"
            } else {
                "fix the TOML syntax at that position"
            };
            loc.at(e.span().unwrap_or(0..0), message, hint)
        })?;
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(loc.at(raw.name.span(), "`name` is empty", "name the cutover, e.g. name = \"photo-api-2026\""));
        }
        let namespaces: Vec<String> = raw.namespaces.get_ref().iter().map(|n| n.get_ref().clone()).collect();
        if namespaces.is_empty() {
            return Err(loc.at(
                raw.namespaces.span(),
                "`namespaces` is empty",
                "list the namespaces to watch on both sides, e.g. [\"app\", \"batch\"]",
            ));
        }
        for ns in raw.namespaces.get_ref() {
            if !is_dns_label(ns.get_ref()) {
                return Err(loc.at(
                    ns.span(),
                    format!("`{}` is not a namespace name", ns.get_ref()),
                    "lowercase letters, digits and '-', at most 63",
                ));
            }
        }
        let (old, new) = sides::clusters(&loc, &raw)?;
        let aws = sides::aws(&loc, &raw)?;
        let routes = route::parse(&loc, &raw.route, raw.analysis.as_ref())?;
        let singletons = singletons::parse(&loc, &raw, &namespaces)?;
        let limits = guards::parse(&loc, &raw, &namespaces)?;
        Ok(Plan {
            path: path.to_path_buf(),
            name,
            namespaces,
            old,
            new,
            aws,
            routes,
            singletons,
            stale_after: limits.stale_after,
            max_step: limits.max_step,
            spike_percent: limits.spike_percent,
            min_dwell: limits.min_dwell,
            lease_namespace: limits.lease_namespace,
        })
    }

    /// The plan's wheel: a Lease in the new cluster named after the plan.
    pub fn lease(&self) -> crate::domain::wheel::LeaseRef {
        crate::domain::wheel::LeaseRef {
            namespace: self.lease_namespace.clone(),
            name: crate::domain::wheel::lease_name(&self.name),
        }
    }

    /// Where a side's Kubernetes API is; None for an old side without one.
    pub fn cluster(&self, side: crate::domain::Side) -> Option<&ClusterTarget> {
        match side {
            crate::domain::Side::Old => self.old.as_ref(),
            crate::domain::Side::New => Some(&self.new),
        }
    }

    /// The route an id names.
    pub fn route(&self, id: RouteId) -> Option<&PlanRoute> {
        self.routes.get(id.index())
    }

    /// The routes of one backend with their ids, in the plan's order:
    /// `plan.routes_of(PlanRoute::alb)`.
    pub fn routes_of<'a, T: Clone + 'a>(
        &'a self,
        pick: impl Fn(&'a PlanRoute) -> Option<&'a T> + 'a,
    ) -> impl Iterator<Item = Routed<T>> + 'a {
        self.routes.iter().enumerate().filter_map(move |(i, r)| pick(r).map(|target| r.routed(RouteId::of(i), target)))
    }
}

#[cfg(test)]
mod tests;
