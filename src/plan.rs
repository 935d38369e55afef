//! The cutover plan (`cutover.toml`): which clusters, namespaces, ALB
//! routes and singletons a session is about.
//!
//! Parsing keeps every field's position, so a mistake is reported with the
//! file, line and column and what to write instead.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::app::{AlbSpec, AppConfig, Backend, ClusterMeta, DnsSpec, Mode, RouteSpec, SingletonSpec};
use crate::domain::{PerSide, RouteId, WorkloadKey, WorkloadKind};

pub const DEFAULT_STEPS: [u8; 8] = [0, 1, 5, 10, 25, 50, 75, 100];
pub const DEFAULT_STALE_AFTER_SECS: u64 = 30;
pub const DEFAULT_MAX_STEP: u8 = 25;
pub const DEFAULT_ALB_POLL_SECS: u64 = 5;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    name: Spanned<String>,
    namespaces: Spanned<Vec<Spanned<String>>>,
    old: Option<ClusterFile>,
    new: Option<Spanned<ClusterFile>>,
    aws: Option<Spanned<AwsFile>>,
    #[serde(default)]
    route: Vec<Spanned<RouteFile>>,
    #[serde(default)]
    singleton: Vec<Spanned<SingletonFile>>,
    /// Seconds after which a read counts as stale for the guards.
    stale_after: Option<Spanned<u64>>,
    /// The largest weight change, in percentage points, one confirmation allows.
    max_step: Option<Spanned<u8>>,
    /// A side's 5xx share of requests, in percent, that marks a minute as a spike.
    spike_percent: Option<Spanned<f64>>,
    min_dwell: Option<Spanned<u64>>,
    /// The namespace of the new cluster where the plan's Lease (who drives)
    /// is kept; default: the first of `namespaces`.
    lease_namespace: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFile {
    context: Spanned<String>,
    kubeconfig: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AwsFile {
    region: Spanned<String>,
    profile: Option<String>,
    endpoint_url: Option<Spanned<String>>,
    /// Seconds between two reads of the listener rules and target health.
    alb_poll: Option<Spanned<u64>>,
}

/// One `[[route]]` of either kind. Every kind's fields are optional here;
/// [`Plan::parse`] says which a kind needs and which it does not take, so
/// a mistake names the field rather than "data did not match any variant".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    name: Spanned<String>,
    /// `alb` (the default) or `route53`.
    kind: Option<Spanned<String>>,
    workload: Option<Spanned<String>>,
    steps: Option<Spanned<Vec<u8>>>,
    // kind = "alb"
    listener_arn: Option<Spanned<String>>,
    rule_arn: Option<Spanned<String>>,
    old_target_group: Option<Spanned<String>>,
    new_target_group: Option<Spanned<String>>,
    /// `side:namespace/name` of the Ingress the AWS Load Balancer
    /// Controller writes this rule from.
    ingress: Option<Spanned<String>>,
    /// The `<name>` of its `alb.ingress.kubernetes.io/actions.<name>`.
    ingress_action: Option<Spanned<String>>,
    // kind = "route53"
    hosted_zone_id: Option<Spanned<String>>,
    record_name: Option<Spanned<String>>,
    record_type: Option<Spanned<String>>,
    old_set_identifier: Option<Spanned<String>>,
    new_set_identifier: Option<Spanned<String>>,
    old_load_balancer: Option<Spanned<String>>,
    new_load_balancer: Option<Spanned<String>>,
}

impl RouteFile {
    /// The fields only an ALB route takes, with their values' spans.
    fn alb_fields(&self) -> [(&'static str, Option<std::ops::Range<usize>>); 6] {
        [
            ("listener_arn", self.listener_arn.as_ref().map(Spanned::span)),
            ("rule_arn", self.rule_arn.as_ref().map(Spanned::span)),
            ("old_target_group", self.old_target_group.as_ref().map(Spanned::span)),
            ("new_target_group", self.new_target_group.as_ref().map(Spanned::span)),
            ("ingress", self.ingress.as_ref().map(Spanned::span)),
            ("ingress_action", self.ingress_action.as_ref().map(Spanned::span)),
        ]
    }

    /// The fields only a Route 53 route takes.
    fn route53_fields(&self) -> [(&'static str, Option<std::ops::Range<usize>>); 7] {
        [
            ("hosted_zone_id", self.hosted_zone_id.as_ref().map(Spanned::span)),
            ("record_name", self.record_name.as_ref().map(Spanned::span)),
            ("record_type", self.record_type.as_ref().map(Spanned::span)),
            ("old_set_identifier", self.old_set_identifier.as_ref().map(Spanned::span)),
            ("new_set_identifier", self.new_set_identifier.as_ref().map(Spanned::span)),
            ("old_load_balancer", self.old_load_balancer.as_ref().map(Spanned::span)),
            ("new_load_balancer", self.new_load_balancer.as_ref().map(Spanned::span)),
        ]
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SingletonFile {
    name: Spanned<String>,
    kind: Spanned<String>,
    namespace: Spanned<String>,
    old_name: Option<Spanned<String>>,
    new_name: Option<Spanned<String>>,
    replicas: Option<Spanned<u32>>,
}

/// Where one side's Kubernetes API is.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterTarget {
    pub context: String,
    /// None: KUBECONFIG or ~/.kube/config, as kubectl does.
    pub kubeconfig: Option<PathBuf>,
    /// The plan's line and column of `context`, for a refusal to point at.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AwsTarget {
    pub region: String,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub alb_poll: Duration,
}

/// An ELBv2 ARN, split into the parts the APIs and metrics use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn(pub String);

impl Arn {
    /// The resource part after the sixth colon: `listener/app/name/id/id`.
    fn resource(&self) -> &str {
        self.0.splitn(6, ':').nth(5).unwrap_or("")
    }

    /// `targetgroup/api-new/0123abcd`: the CloudWatch `TargetGroup` dimension.
    pub fn target_group_dimension(&self) -> &str {
        self.resource()
    }

    /// `api-new`: how people name a target group.
    pub fn target_group_name(&self) -> &str {
        self.resource().split('/').nth(1).unwrap_or(&self.0)
    }

    /// `app/photo-api/50dc6c495c0c9188`: the CloudWatch `LoadBalancer`
    /// dimension, from a listener or listener-rule ARN.
    pub fn load_balancer_dimension(&self) -> String {
        let parts: Vec<&str> = self.resource().split('/').collect();
        parts.get(1..4).map(|p| p.join("/")).unwrap_or_default()
    }

    /// The listener ARN a rule ARN belongs to.
    pub fn rule_listener(&self) -> String {
        let (head, _) = self.0.rsplit_once('/').unwrap_or((&self.0, ""));
        head.replacen(":listener-rule/", ":listener/", 1)
    }

    pub fn short_id(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanRoute {
    pub name: String,
    pub listener: Arn,
    /// None: the listener's default action.
    pub rule: Option<Arn>,
    pub old_target_group: Arn,
    pub new_target_group: Arn,
    pub workload: Option<WorkloadKey>,
    pub steps: Vec<u8>,
    /// The Ingress the AWS Load Balancer Controller writes the rule from:
    /// steps are written there, and the controller writes the rule.
    pub ingress: Option<crate::app::IngressRef>,
    /// The plan file and the lines of the fields, for messages about what
    /// AWS holds ("the rule does not exist") to point at the line to fix.
    pub file: String,
    pub lines: AlbLines,
}

/// Where in the plan an ALB route's fields are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlbLines {
    pub name: usize,
    pub listener_arn: usize,
    pub rule_arn: Option<usize>,
}

impl PlanRoute {
    /// `cutover.toml:23` for a field's line.
    pub fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.file)
    }

    /// The line of what the route's weights live in: its rule, or the
    /// listener whose default action it is.
    pub fn weights_line(&self) -> usize {
        self.lines.rule_arn.unwrap_or(self.lines.listener_arn)
    }

    /// What holds the weights, in the plan's words: `rule_arn` or
    /// `listener_arn` (a default action).
    pub fn weights_field(&self) -> &'static str {
        if self.rule.is_some() { "rule_arn" } else { "listener_arn" }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteKind {
    Alb,
    Route53,
}

/// The record types a weighted route may shift: the ones an alias to a
/// load balancer (A, AAAA) or a name (CNAME) is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
}

impl RecordType {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the plan a Route 53 route's fields are, for messages about
/// what AWS holds ("the zone does not hold the record") to point at the
/// line to fix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route53Lines {
    pub name: usize,
    pub hosted_zone_id: usize,
    pub record_name: usize,
    pub old_set_identifier: usize,
    pub new_set_identifier: usize,
    pub old_load_balancer: Option<usize>,
    pub new_load_balancer: Option<usize>,
}

/// A route that shifts traffic between two weighted Route 53 records of
/// one name and type, one per side (usually each an alias to that side's
/// load balancer).
#[derive(Debug, Clone, PartialEq)]
pub struct Route53Route {
    pub name: String,
    /// The bare id (`Z0123...`), without a `/hostedzone/` prefix.
    pub hosted_zone_id: String,
    /// Lowercase, with the trailing dot, as Route 53 lists it.
    pub record_name: String,
    pub record_type: RecordType,
    pub old_set_identifier: String,
    pub new_set_identifier: String,
    /// None: found from the record's alias target or CNAME value.
    pub old_load_balancer: Option<Arn>,
    pub new_load_balancer: Option<Arn>,
    pub workload: Option<WorkloadKey>,
    pub steps: Vec<u8>,
    /// The plan file and the lines of the fields, for messages.
    pub file: String,
    pub lines: Route53Lines,
}

impl Route53Route {
    pub fn set_identifier(&self, side: crate::domain::Side) -> &str {
        match side {
            crate::domain::Side::Old => &self.old_set_identifier,
            crate::domain::Side::New => &self.new_set_identifier,
        }
    }

    pub fn load_balancer(&self, side: crate::domain::Side) -> Option<&Arn> {
        match side {
            crate::domain::Side::Old => self.old_load_balancer.as_ref(),
            crate::domain::Side::New => self.new_load_balancer.as_ref(),
        }
    }

    /// `cutover.toml:23` for a field's line: where to fix what AWS refused.
    pub fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.file)
    }
}

/// A route of the plan, of either kind.
#[derive(Debug, Clone, Copy)]
pub enum AnyRoute<'a> {
    Alb(&'a PlanRoute),
    Route53(&'a Route53Route),
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
    /// The ALB routes (`kind = "alb"`, the default).
    pub routes: Vec<PlanRoute>,
    /// The Route 53 weighted-record routes (`kind = "route53"`): the
    /// console's routes after the ALB ones.
    pub route53: Vec<Route53Route>,
    pub singletons: Vec<SingletonSpec>,
    pub stale_after: Duration,
    pub max_step: u8,
    pub spike_percent: f64,
    /// Seconds a route stays at a weight (with one complete CloudWatch
    /// minute seen there) before a step forward needs only one confirmation.
    pub min_dwell: i64,
    /// Where in the new cluster the plan's wheel (a Lease) is kept.
    pub lease_namespace: String,
}

/// A plan mistake: where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub problem: String,
    pub hint: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 && self.column > 0 {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.problem)?;
        } else if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.problem)?;
        } else {
            write!(f, "{}: {}", self.file, self.problem)?;
        }
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanError {}

struct Located<'a> {
    file: &'a str,
    text: &'a str,
}

impl Located<'_> {
    fn at(&self, span: std::ops::Range<usize>, problem: impl Into<String>, hint: impl Into<String>) -> PlanError {
        let (line, column) = line_col(self.text, span.start);
        PlanError { file: self.file.into(), line, column, problem: problem.into(), hint: hint.into() }
    }
}

pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
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
        let whole = 0..0;
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
        let cluster = |c: &ClusterFile| -> Result<ClusterTarget, PlanError> {
            if c.context.get_ref().trim().is_empty() {
                return Err(loc.at(c.context.span(), "`context` is empty", "a context name from your kubeconfig"));
            }
            Ok(ClusterTarget {
                context: c.context.get_ref().clone(),
                kubeconfig: c.kubeconfig.as_ref().map(|k| expand_home(k.get_ref())),
                line: line_col(text, c.context.span().start).0,
                column: line_col(text, c.context.span().start).1,
            })
        };
        let old = raw.old.as_ref().map(cluster).transpose()?;
        let new = match &raw.new {
            Some(n) => cluster(n.get_ref())?,
            None => {
                return Err(loc.at(
                    whole.clone(),
                    "missing table `[new]`",
                    "add [new] with the new cluster's kubeconfig context: [new]\\ncontext = \"eks-2026\"",
                ));
            }
        };
        // One cluster on both sides makes every singleton look as if it ran
        // twice, and its fix stops the only copy.
        if let (Some(o), Some(n)) = (&old, &raw.new)
            && o.context == new.context
            && o.kubeconfig == new.kubeconfig
        {
            return Err(loc.at(
                n.get_ref().context.span(),
                format!(
                    "[new] context `{}` is [old]'s context (line {}) in the same kubeconfig: both sides would be one cluster",
                    new.context, o.line
                ),
                "give [new] the new cluster's context (`kubectl config get-contexts` lists them), or leave out [old] when the old side is EC2",
            ));
        }
        let aws = match &raw.aws {
            Some(a) => {
                let a = a.get_ref();
                if a.region.get_ref().trim().is_empty() {
                    return Err(loc.at(
                        a.region.span(),
                        "`region` is empty",
                        "the ALB's region, e.g. \"ap-northeast-1\"",
                    ));
                }
                if let Some(url) = &a.endpoint_url
                    && !(url.get_ref().starts_with("http://") || url.get_ref().starts_with("https://"))
                {
                    return Err(loc.at(
                        url.span(),
                        "`endpoint_url` is not an http(s) URL",
                        "e.g. \"http://127.0.0.1:5000\"",
                    ));
                }
                let alb_poll = match &a.alb_poll {
                    Some(p) if *p.get_ref() == 0 || *p.get_ref() > 300 => {
                        return Err(loc.at(p.span(), "`alb_poll` must be 1 to 300 seconds", "the default is 5"));
                    }
                    Some(p) => *p.get_ref(),
                    None => DEFAULT_ALB_POLL_SECS,
                };
                AwsTarget {
                    region: a.region.get_ref().clone(),
                    profile: a.profile.clone(),
                    endpoint_url: a.endpoint_url.as_ref().map(|u| u.get_ref().clone()),
                    alb_poll: Duration::from_secs(alb_poll),
                }
            }
            None => {
                return Err(loc.at(
                    whole,
                    "missing table `[aws]`",
                    "add [aws] with region = \"...\" (the ALB's region)",
                ));
            }
        };

        let mut routes: Vec<PlanRoute> = Vec::new();
        let mut route53: Vec<Route53Route> = Vec::new();
        // What each route's weights live in, with the route's name and line:
        // two routes on one rule (or record set) would step each other's.
        let mut weighted: Vec<(String, String, usize)> = Vec::new();
        for r in &raw.route {
            let r = r.get_ref();
            let name = r.name.get_ref();
            if routes.iter().any(|x| &x.name == name) || route53.iter().any(|x| &x.name == name) {
                return Err(loc.at(
                    r.name.span(),
                    format!("route `{name}` is named twice"),
                    "route names must be unique",
                ));
            }
            let kind = match r.kind.as_ref().map(|k| k.get_ref().as_str()) {
                None | Some("alb") => RouteKind::Alb,
                Some("route53") => RouteKind::Route53,
                Some(other) => {
                    return Err(loc.at(
                        r.kind.as_ref().map_or(r.name.span(), Spanned::span),
                        format!("route kind `{other}` is not known"),
                        "kind = \"alb\" (the default: weights of a listener rule) or kind = \"route53\" (weighted records)",
                    ));
                }
            };
            // A field of the other kind is a mistake worth naming: it
            // would be silently ignored otherwise.
            let (foreign, this, other) = match kind {
                RouteKind::Alb => (r.route53_fields().to_vec(), "alb", "route53"),
                RouteKind::Route53 => (r.alb_fields().to_vec(), "route53", "alb"),
            };
            if let Some((field, Some(span))) = foreign.into_iter().find(|(_, s)| s.is_some()) {
                return Err(loc.at(
                    span,
                    format!("`{field}` is a field of kind = \"{other}\" routes; route `{name}` is kind = \"{this}\""),
                    match kind {
                        RouteKind::Alb => "add kind = \"route53\" to the route, or remove the field",
                        RouteKind::Route53 => "remove the field, or make it an ALB route (no kind, or kind = \"alb\")",
                    },
                ));
            }
            let workload = match &r.workload {
                Some(w) => Some(workload_key(&loc, w)?),
                None => None,
            };
            let steps = steps(&loc, r.steps.as_ref())?;
            let (key, span, what) = match kind {
                RouteKind::Alb => {
                    let route = alb_route(&loc, r, workload, steps)?;
                    let found = match (&route.rule, &r.rule_arn, &r.listener_arn) {
                        (Some(rule), Some(span), _) => (rule.0.clone(), span.span(), "rule (`rule_arn`)"),
                        (_, _, Some(span)) => {
                            (format!("default:{}", route.listener.0), span.span(), "listener default action")
                        }
                        _ => (String::new(), r.name.span(), ""),
                    };
                    routes.push(route);
                    found
                }
                RouteKind::Route53 => {
                    let route = route53_route(&loc, r, workload, steps)?;
                    let key = format!("{} {} {}", route.hosted_zone_id, route.record_name, route.record_type);
                    let span = r.record_name.as_ref().map_or(r.name.span(), Spanned::span);
                    route53.push(route);
                    (key, span, "Route 53 record set (zone, `record_name`, `record_type`)")
                }
            };
            if let Some((_, other, other_line)) = weighted.iter().find(|(k, _, _)| *k == key) {
                return Err(loc.at(
                    span,
                    format!("route `{name}` is on route `{other}`'s {what} (line {other_line}): both would write its weights"),
                    "one route per rule, default action or record set: remove one of the two, or point it at its own",
                ));
            }
            weighted.push((key, name.clone(), line_col(text, r.name.span().start).0));
        }

        let mut singletons: Vec<SingletonSpec> = Vec::new();
        let mut singleton_lines: Vec<usize> = Vec::new();
        for s in &raw.singleton {
            let s = s.get_ref();
            let kind = match s.kind.get_ref().as_str() {
                "Deployment" => WorkloadKind::Deployment,
                "CronJob" => WorkloadKind::CronJob,
                other => {
                    return Err(loc.at(
                        s.kind.span(),
                        format!("singleton kind `{other}` is not supported"),
                        "use \"Deployment\" or \"CronJob\"",
                    ));
                }
            };
            let ns = s.namespace.get_ref();
            if !namespaces.contains(ns) {
                return Err(loc.at(
                    s.namespace.span(),
                    format!("namespace `{ns}` is not in `namespaces`"),
                    "add it to `namespaces`, or the console cannot see the singleton",
                ));
            }
            let name = s.name.get_ref();
            if singletons.iter().any(|x| &x.name == name) {
                return Err(loc.at(
                    s.name.span(),
                    format!("singleton `{name}` is named twice"),
                    "singleton names must be unique",
                ));
            }
            let replicas = match &s.replicas {
                Some(r) if *r.get_ref() == 0 => {
                    return Err(loc.at(
                        r.span(),
                        "`replicas` is 0",
                        "how many the running side should have, usually 1",
                    ));
                }
                Some(r) => *r.get_ref(),
                None => 1,
            };
            let named = |n: &Option<Spanned<String>>| n.as_ref().map_or_else(|| name.clone(), |n| n.get_ref().clone());
            let spec = SingletonSpec {
                name: name.clone(),
                kind,
                old: WorkloadKey::new(ns, named(&s.old_name)),
                new: WorkloadKey::new(ns, named(&s.new_name)),
                replicas,
            };
            // Two singletons on one workload: each handoff would stop and
            // start the other's.
            for side in crate::domain::Side::BOTH {
                let Some((other, line)) = singletons
                    .iter()
                    .zip(&singleton_lines)
                    .find(|(o, _)| o.kind == kind && o.key(side) == spec.key(side))
                else {
                    continue;
                };
                let field = match side {
                    crate::domain::Side::Old => &s.old_name,
                    crate::domain::Side::New => &s.new_name,
                };
                return Err(loc.at(
                    field.as_ref().map_or(s.name.span(), Spanned::span),
                    format!(
                        "singleton `{name}`: its {side} {kind:?} {} is singleton `{}`'s too (line {line})",
                        spec.key(side),
                        other.name
                    ),
                    format!("one singleton per workload: remove one of the two, or give this one its own {side}_name"),
                ));
            }
            singleton_lines.push(line_col(text, s.name.span().start).0);
            singletons.push(spec);
        }

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
            None => crate::app::Guards::default().spike_percent,
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
            None => crate::app::Guards::default().min_dwell_secs,
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
        Ok(Plan {
            path: path.to_path_buf(),
            name,
            namespaces,
            old,
            new,
            aws,
            routes,
            route53,
            singletons,
            stale_after,
            max_step,
            spike_percent,
            min_dwell,
            lease_namespace,
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
    pub fn route(&self, id: RouteId) -> Option<AnyRoute<'_>> {
        let i = id.index();
        match self.routes.get(i) {
            Some(r) => Some(AnyRoute::Alb(r)),
            None => self.route53.get(i - self.routes.len()).map(AnyRoute::Route53),
        }
    }

    /// Every route with its id: the ALB routes in plan order, then the
    /// Route 53 routes.
    pub fn alb_routes(&self) -> impl Iterator<Item = (RouteId, &PlanRoute)> {
        self.routes.iter().enumerate().map(|(i, r)| (RouteId::of(i), r))
    }

    pub fn route53_routes(&self) -> impl Iterator<Item = (RouteId, &Route53Route)> {
        let offset = self.routes.len();
        self.route53.iter().enumerate().map(move |(i, r)| (RouteId::of(offset + i), r))
    }

    /// The console's configuration for this plan.
    pub fn app_config(&self, mode: Mode) -> AppConfig {
        let meta = |c: Option<&ClusterTarget>| ClusterMeta {
            name: c.map_or("EC2 (no Kubernetes)".into(), |c| c.context.clone()),
            version: String::new(),
        };
        AppConfig {
            mode,
            title: self.name.clone(),
            clusters: PerSide::new(meta(self.old.as_ref()), meta(Some(&self.new))),
            routes: self
                .routes
                .iter()
                .map(|r| RouteSpec {
                    name: r.name.clone(),
                    backend: Backend::Alb(AlbSpec {
                        load_balancer: r.listener.load_balancer_dimension(),
                        rule: r.rule.as_ref().map(|a| format!("rule {}", a.short_id())),
                        old_target_group: r.old_target_group.target_group_name().into(),
                        new_target_group: r.new_target_group.target_group_name().into(),
                        ingress: r.ingress.clone(),
                    }),
                    workload: r.workload.clone(),
                    steps: r.steps.clone(),
                })
                .chain(self.route53.iter().map(|r| RouteSpec {
                    name: r.name.clone(),
                    backend: Backend::Route53(DnsSpec {
                        hosted_zone_id: r.hosted_zone_id.clone(),
                        record_name: r.record_name.clone(),
                        record_type: r.record_type.as_str().into(),
                        set_identifiers: PerSide::new(r.old_set_identifier.clone(), r.new_set_identifier.clone()),
                    }),
                    workload: r.workload.clone(),
                    steps: r.steps.clone(),
                }))
                .collect(),
            singletons: self.singletons.clone(),
            guards: crate::app::Guards {
                stale_after_secs: self.stale_after.as_secs() as i64,
                max_step: self.max_step,
                spike_percent: self.spike_percent,
                min_dwell_secs: self.min_dwell,
            },
        }
    }
}

fn steps(loc: &Located<'_>, steps: Option<&Spanned<Vec<u8>>>) -> Result<Vec<u8>, PlanError> {
    match steps {
        Some(s) => {
            let v = s.get_ref();
            if v.is_empty() || v.iter().any(|p| *p > 100) || v.windows(2).any(|w| w[0] >= w[1]) {
                return Err(loc.at(
                    s.span(),
                    "`steps` must be rising percentages from 0 to 100",
                    "e.g. steps = [0, 1, 5, 10, 25, 50, 75, 100]",
                ));
            }
            Ok(v.clone())
        }
        None => Ok(DEFAULT_STEPS.to_vec()),
    }
}

/// A field the route's kind needs; its absence is said at the route's name.
fn required<'a>(
    loc: &Located<'_>,
    r: &RouteFile,
    value: &'a Option<Spanned<String>>,
    field: &str,
    example: &str,
) -> Result<&'a Spanned<String>, PlanError> {
    value.as_ref().ok_or_else(|| {
        loc.at(
            r.name.span(),
            format!("route `{}`: missing field `{field}`", r.name.get_ref()),
            format!("add it, e.g. {field} = {example}; the plan's fields are in the README"),
        )
    })
}

fn alb_route(
    loc: &Located<'_>,
    r: &RouteFile,
    workload: Option<WorkloadKey>,
    steps: Vec<u8>,
) -> Result<PlanRoute, PlanError> {
    let listener_arn = required(loc, r, &r.listener_arn, "listener_arn", "\"arn:aws:elasticloadbalancing:...\"")?;
    let listener = arn(loc, listener_arn, "listener/app/", "listener_arn")?;
    let rule = match &r.rule_arn {
        Some(rule) => {
            let a = arn(loc, rule, "listener-rule/app/", "rule_arn")?;
            if a.rule_listener() != listener.0 {
                return Err(loc.at(
                    rule.span(),
                    "`rule_arn` is not a rule of `listener_arn`",
                    format!("this rule belongs to {}", a.rule_listener()),
                ));
            }
            Some(a)
        }
        None => None,
    };
    let old = required(loc, r, &r.old_target_group, "old_target_group", "\"arn:aws:elasticloadbalancing:...\"")?;
    let new = required(loc, r, &r.new_target_group, "new_target_group", "\"arn:aws:elasticloadbalancing:...\"")?;
    let old_tg = arn(loc, old, "targetgroup/", "old_target_group")?;
    let new_tg = arn(loc, new, "targetgroup/", "new_target_group")?;
    if old_tg == new_tg {
        return Err(loc.at(
            new.span(),
            "`new_target_group` is the same as `old_target_group`",
            "a route shifts traffic between two different target groups",
        ));
    }
    let ingress = match &r.ingress {
        Some(value) => {
            let text = value.get_ref();
            let (side, key) = text.split_once(':').unwrap_or(("", text));
            let side = match side {
                "old" => crate::domain::Side::Old,
                "new" => crate::domain::Side::New,
                _ => {
                    return Err(loc.at(
                        value.span(),
                        format!("`ingress = \"{text}\"` does not name its side"),
                        "write side:namespace/name, e.g. ingress = \"new:app/web\"",
                    ));
                }
            };
            let key = workload_key(loc, &Spanned::new(value.span(), key.to_string()))?;
            let action = r.ingress_action.as_ref().map_or_else(|| r.name.get_ref().clone(), |a| a.get_ref().clone());
            Some(crate::app::IngressRef { side, key, action })
        }
        None => {
            if let Some(a) = &r.ingress_action {
                return Err(loc.at(
                    a.span(),
                    "`ingress_action` without `ingress`",
                    "name the Ingress too, e.g. ingress = \"new:app/web\"",
                ));
            }
            None
        }
    };
    let line = |span: std::ops::Range<usize>| line_col(loc.text, span.start).0;
    Ok(PlanRoute {
        name: r.name.get_ref().clone(),
        listener,
        rule,
        old_target_group: old_tg,
        new_target_group: new_tg,
        workload,
        steps,
        ingress,
        file: loc.file.to_string(),
        lines: AlbLines {
            name: line(r.name.span()),
            listener_arn: line(listener_arn.span()),
            rule_arn: r.rule_arn.as_ref().map(|v| line(v.span())),
        },
    })
}

fn route53_route(
    loc: &Located<'_>,
    r: &RouteFile,
    workload: Option<WorkloadKey>,
    steps: Vec<u8>,
) -> Result<Route53Route, PlanError> {
    let line = |span: std::ops::Range<usize>| line_col(loc.text, span.start).0;
    let zone = required(loc, r, &r.hosted_zone_id, "hosted_zone_id", "\"Z0123456789ABCDEFGHIJ\"")?;
    // The console accepts the id as the AWS CLI prints it, too.
    let zone_id = zone.get_ref().trim().trim_start_matches("/hostedzone/").to_string();
    if zone_id.is_empty()
        || zone_id.len() > 32
        || !zone_id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(loc.at(
            zone.span(),
            format!("`hosted_zone_id = \"{}\"` is not a hosted zone id", zone.get_ref()),
            "the zone's id, e.g. \"Z0123456789ABCDEFGHIJ\" (aws route53 list-hosted-zones-by-name)",
        ));
    }
    let record = required(loc, r, &r.record_name, "record_name", "\"www.example.com.\"")?;
    let record_name = record.get_ref().trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*')
    };
    if record_name.is_empty() || record_name.len() > 253 || !record_name.split('.').all(label_ok) {
        return Err(loc.at(
            record.span(),
            format!("`record_name = \"{}\"` is not a DNS name", record.get_ref()),
            "the weighted records' name, e.g. \"www.example.com.\" (the trailing dot is optional)",
        ));
    }
    let record_type = match r.record_type.as_ref() {
        None => RecordType::A,
        Some(t) => match t.get_ref().as_str() {
            "A" => RecordType::A,
            "AAAA" => RecordType::Aaaa,
            "CNAME" => RecordType::Cname,
            other => {
                return Err(loc.at(
                    t.span(),
                    format!("record type `{other}` cannot be a route"),
                    "record_type = \"A\" (the default), \"AAAA\" or \"CNAME\"",
                ));
            }
        },
    };
    let set_identifier = |field: &str, value: &Option<Spanned<String>>| -> Result<(String, usize), PlanError> {
        let v = required(loc, r, value, field, "\"eks-2026\"")?;
        let text = v.get_ref().clone();
        if text.is_empty() || text.len() > 128 {
            return Err(loc.at(
                v.span(),
                format!("`{field}` must be 1 to 128 characters"),
                "the record's Set ID as the Route 53 console shows it",
            ));
        }
        Ok((text, line(v.span())))
    };
    let (old_set, old_line) = set_identifier("old_set_identifier", &r.old_set_identifier)?;
    let (new_set, new_line) = set_identifier("new_set_identifier", &r.new_set_identifier)?;
    if old_set == new_set {
        return Err(loc.at(
            r.new_set_identifier.as_ref().map_or(r.name.span(), Spanned::span),
            "`new_set_identifier` is the same as `old_set_identifier`",
            "a route shifts traffic between two different weighted records",
        ));
    }
    let lb = |field: &str, value: &Option<Spanned<String>>| -> Result<Option<Arn>, PlanError> {
        value.as_ref().map(|v| arn(loc, v, "loadbalancer/", field)).transpose()
    };
    let old_lb = lb("old_load_balancer", &r.old_load_balancer)?;
    let new_lb = lb("new_load_balancer", &r.new_load_balancer)?;
    if old_lb.is_some() && old_lb == new_lb {
        return Err(loc.at(
            r.new_load_balancer.as_ref().map_or(r.name.span(), Spanned::span),
            "`new_load_balancer` is the same as `old_load_balancer`",
            "one load balancer per side; leave both out to find them from the records",
        ));
    }
    Ok(Route53Route {
        name: r.name.get_ref().clone(),
        hosted_zone_id: zone_id,
        record_name: format!("{record_name}."),
        record_type,
        old_set_identifier: old_set,
        new_set_identifier: new_set,
        old_load_balancer: old_lb,
        new_load_balancer: new_lb,
        workload,
        steps,
        file: loc.file.to_string(),
        lines: Route53Lines {
            name: line(r.name.span()),
            hosted_zone_id: line(zone.span()),
            record_name: line(record.span()),
            old_set_identifier: old_line,
            new_set_identifier: new_line,
            old_load_balancer: r.old_load_balancer.as_ref().map(|v| line(v.span())),
            new_load_balancer: r.new_load_balancer.as_ref().map(|v| line(v.span())),
        },
    })
}

fn arn(loc: &Located<'_>, value: &Spanned<String>, kind: &str, field: &str) -> Result<Arn, PlanError> {
    let text = value.get_ref();
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "elasticloadbalancing"
        && parts[5].starts_with(kind)
        && parts[5].split('/').all(|p| !p.is_empty());
    if !ok {
        let example = match kind {
            "listener/app/" => "arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/LB-ID/LISTENER-ID",
            "listener-rule/app/" => {
                "arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/LB-ID/LISTENER-ID/RULE-ID"
            }
            "loadbalancer/" => "arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID",
            _ => "arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID",
        };
        return Err(loc.at(
            value.span(),
            format!("`{field}` is not an ALB {} ARN", kind.trim_end_matches('/').replace("/app", "")),
            format!("it looks like {example}"),
        ));
    }
    Ok(Arn(text.clone()))
}

fn workload_key(loc: &Located<'_>, value: &Spanned<String>) -> Result<WorkloadKey, PlanError> {
    match value.get_ref().split_once('/') {
        Some((ns, name)) if is_dns_label(ns) && !name.is_empty() && !name.contains('/') => {
            Ok(WorkloadKey::new(ns, name))
        }
        _ => Err(loc.at(
            value.span(),
            format!("`{}` is not namespace/name", value.get_ref()),
            "e.g. workload = \"app/api\"",
        )),
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(rest),
        None => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTENER: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener/app/photo-api/50dc6c495c0c9188/f2f7dc8efc522ab2";
    const RULE: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener-rule/app/photo-api/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";
    const TG_OLD: &str =
        "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/api-old/73e2d6bc24d8a067";
    const TG_NEW: &str =
        "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/api-new/943f017f100becff";

    fn good() -> String {
        format!(
            r#"name = "photo-api-2026"
namespaces = ["app", "batch"]

[old]
context = "eks-2022"
kubeconfig = "~/.kube/config"

[new]
context = "eks-2026"

[aws]
region = "ap-northeast-1"
endpoint_url = "http://127.0.0.1:5000"

[[route]]
name = "api"
listener_arn = "{LISTENER}"
rule_arn = "{RULE}"
old_target_group = "{TG_OLD}"
new_target_group = "{TG_NEW}"
workload = "app/api"

[[singleton]]
name = "scheduler"
kind = "Deployment"
namespace = "app"
"#
        )
    }

    fn parse(text: &str) -> Result<Plan, PlanError> {
        Plan::parse("cutover.toml", text, Path::new("cutover.toml"))
    }

    #[test]
    fn a_good_plan_parses_with_defaults() {
        let plan = parse(&good()).unwrap();
        assert_eq!(plan.routes[0].steps, DEFAULT_STEPS);
        assert_eq!(plan.stale_after, Duration::from_secs(30));
        assert_eq!(plan.max_step, 25);
        assert_eq!(plan.spike_percent, 1.0);
        assert_eq!(plan.singletons[0].old, WorkloadKey::new("app", "scheduler"));
        assert_eq!(plan.singletons[0].replicas, 1);
        assert!(plan.old.as_ref().unwrap().kubeconfig.as_ref().unwrap().ends_with(".kube/config"));
        let r = &plan.routes[0];
        assert_eq!(r.listener.load_balancer_dimension(), "app/photo-api/50dc6c495c0c9188");
        assert_eq!(r.old_target_group.target_group_dimension(), "targetgroup/api-old/73e2d6bc24d8a067");
        assert_eq!(r.old_target_group.target_group_name(), "api-old");
        let config = plan.app_config(Mode::Watch);
        assert_eq!(config.routes[0].weighted(crate::domain::Side::Old), "api-old");
        assert_eq!(config.clusters.old.name, "eks-2022");
    }

    #[test]
    fn the_wheel_is_a_lease_named_after_the_plan_in_a_namespace_of_the_new_cluster() {
        let plan = parse(&good()).unwrap();
        assert_eq!(plan.lease().to_string(), "app/cutover-photo-api-2026", "the first namespace by default");
        let text = good().replace(
            "namespaces = [\"app\", \"batch\"]",
            "namespaces = [\"app\", \"batch\"]\nlease_namespace = \"cutover\"",
        );
        assert_eq!(parse(&text).unwrap().lease().to_string(), "cutover/cutover-photo-api-2026");
        let text = good().replace(
            "namespaces = [\"app\", \"batch\"]",
            "namespaces = [\"app\", \"batch\"]\nlease_namespace = \"Ops_Team\"",
        );
        let err = parse(&text).unwrap_err();
        assert_eq!((err.line, err.column), (3, 19), "{err}");
        assert!(err.problem.contains("`lease_namespace`: `Ops_Team` is not a namespace name"), "{err}");
        assert!(err.hint.contains("keeps the plan's Lease"), "{err}");
    }

    #[test]
    fn the_old_side_may_be_ec2_without_kubernetes() {
        let text = good().replace("[old]\ncontext = \"eks-2022\"\nkubeconfig = \"~/.kube/config\"\n", "");
        let plan = parse(&text).unwrap();
        assert!(plan.old.is_none());
        assert_eq!(plan.app_config(Mode::Watch).clusters.old.name, "EC2 (no Kubernetes)");
    }

    #[test]
    fn mistakes_are_located_and_explained() {
        let err = parse(&good().replace("namespaces =", "namespacez =")).unwrap_err();
        assert_eq!((err.line, err.column), (2, 1), "{err}");
        assert!(err.problem.contains("unknown field `namespacez`"), "{err}");

        let err = parse(&good().replace("region = \"ap-northeast-1\"", "region = ap-northeast-1")).unwrap_err();
        assert_eq!(err.line, 12, "{err}");
        assert!(err.to_string().starts_with("cutover.toml:12:"), "{err}");

        let err = parse(&good().replace(RULE, &RULE.replace("f2f7dc8efc522ab2/", "0000000000000000/"))).unwrap_err();
        assert!(err.problem.contains("not a rule of `listener_arn`"), "{err}");
        assert_eq!(err.line, 18);

        let err = parse(&good().replace(TG_NEW, "api-new")).unwrap_err();
        assert!(err.problem.contains("`new_target_group` is not an ALB targetgroup ARN"), "{err}");
        assert!(err.hint.contains("targetgroup/NAME/ID"), "{err}");

        let err = parse(&good().replace("workload = \"app/api\"", "workload = \"api\"")).unwrap_err();
        assert!(err.problem.contains("not namespace/name"), "{err}");

        let err = parse(&good().replace("kind = \"Deployment\"", "kind = \"DaemonSet\"")).unwrap_err();
        assert!(err.problem.contains("DaemonSet"), "{err}");

        let err = parse(&good().replace("workload = \"app/api\"", "workload = \"app/api\"\nsteps = [0, 50, 25, 100]"))
            .unwrap_err();
        assert!(err.problem.contains("rising"), "{err}");

        let err = parse(&good().replace("[new]\ncontext = \"eks-2026\"\n", "")).unwrap_err();
        assert!(err.problem.contains("missing table `[new]`"), "{err}");

        let err = parse(&good().replace("namespace = \"app\"", "namespace = \"jobs\"")).unwrap_err();
        assert!(err.problem.contains("not in `namespaces`"), "{err}");

        let spike = |v: &str| good().replacen("namespaces =", &format!("spike_percent = {v}\nnamespaces ="), 1);
        assert_eq!(parse(&spike("2.5")).unwrap().app_config(Mode::Run).guards.spike_percent, 2.5);
        let err = parse(&spike("0")).unwrap_err();
        assert_eq!((err.line, err.column), (2, 17), "{err}");
        assert!(err.problem.contains("`spike_percent` must be above 0"), "{err}");
    }

    const LB_NEW: &str =
        "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:loadbalancer/app/web-2026/6cbbd73bd61b9152";

    /// The ALB plan with a route53 route after the ALB route (lines 23 on).
    fn with_route53(extra: &str) -> String {
        good().replace(
            "\n[[singleton]]",
            &format!(
                r#"
[[route]]
name = "www"
kind = "route53"
hosted_zone_id = "/hostedzone/Z0123456789ABCDEFGHIJ"
record_name = "WWW.example.com"
old_set_identifier = "eks-2022"
new_set_identifier = "eks-2026"
{extra}
[[singleton]]"#
            ),
        )
    }

    #[test]
    fn a_route53_route_parses_beside_the_alb_route() {
        let plan =
            parse(&with_route53(&format!("new_load_balancer = \"{LB_NEW}\"\nrecord_type = \"AAAA\"\n"))).unwrap();
        assert_eq!(plan.routes.len(), 1, "the ALB route stays an ALB route");
        let r = &plan.route53[0];
        assert_eq!(r.hosted_zone_id, "Z0123456789ABCDEFGHIJ");
        assert_eq!(r.record_name, "www.example.com.");
        assert_eq!(r.record_type, RecordType::Aaaa);
        assert_eq!((r.old_set_identifier.as_str(), r.new_set_identifier.as_str()), ("eks-2022", "eks-2026"));
        assert_eq!(r.old_load_balancer, None);
        assert_eq!(r.new_load_balancer, Some(Arn(LB_NEW.into())));
        assert_eq!(r.steps, DEFAULT_STEPS);
        assert_eq!((r.lines.name, r.lines.old_set_identifier), (24, 28));
        assert_eq!(r.at(r.lines.record_name), "cutover.toml:27");
        assert_eq!(parse(&with_route53("")).unwrap().route53[0].record_type, RecordType::A);
        // The console's routes: the ALB route first, then this one.
        let config = plan.app_config(Mode::Watch);
        assert_eq!(config.routes.len(), 2);
        assert_eq!(plan.route53_routes().next().map(|(id, _)| id), Some(RouteId(1)));
        assert_eq!(config.routes[1].kind(), crate::domain::RouteKind::Route53);
        assert_eq!(config.routes[1].weighted(crate::domain::Side::New), "eks-2026");
    }

    #[test]
    fn route_kind_mistakes_name_the_field_and_the_line() {
        let err = parse(&with_route53("").replace("kind = \"route53\"", "kind = \"dns\"")).unwrap_err();
        assert_eq!(err.line, 25, "{err}");
        assert!(err.problem.contains("route kind `dns` is not known"), "{err}");
        assert!(err.hint.contains("kind = \"route53\""), "{err}");

        let err = parse(&with_route53(&format!("old_target_group = \"{TG_OLD}\"\n"))).unwrap_err();
        assert_eq!(err.line, 30, "{err}");
        assert!(err.problem.contains("`old_target_group` is a field of kind = \"alb\" routes"), "{err}");

        let err =
            parse(&good().replace("workload = \"app/api\"", "workload = \"app/api\"\nold_set_identifier = \"x\""))
                .unwrap_err();
        assert_eq!(err.line, 22, "{err}");
        assert!(err.problem.contains("`old_set_identifier` is a field of kind = \"route53\" routes"), "{err}");
        assert!(err.hint.contains("add kind = \"route53\""), "{err}");

        let err = parse(&with_route53("").replace("new_set_identifier = \"eks-2026\"\n", "")).unwrap_err();
        assert_eq!(err.line, 24, "{err}");
        assert!(err.problem.contains("route `www`: missing field `new_set_identifier`"), "{err}");

        let err = parse(&good().replace(&format!("listener_arn = \"{LISTENER}\"\n"), "")).unwrap_err();
        assert!(err.problem.contains("missing field `listener_arn`"), "{err}");

        let err = parse(&with_route53("record_type = \"TXT\"\n")).unwrap_err();
        assert_eq!(err.line, 30, "{err}");
        assert!(err.problem.contains("record type `TXT`"), "{err}");
        assert!(err.hint.contains("\"AAAA\" or \"CNAME\""), "{err}");

        let err = parse(&with_route53("").replace("eks-2026", "eks-2022")).unwrap_err();
        assert!(err.problem.contains("same as `old_set_identifier`"), "{err}");

        let err = parse(&with_route53("").replace("/hostedzone/Z0123456789ABCDEFGHIJ", "example.com")).unwrap_err();
        assert_eq!(err.line, 26, "{err}");
        assert!(err.problem.contains("not a hosted zone id"), "{err}");

        let err = parse(&with_route53("old_load_balancer = \"web-2022\"\n")).unwrap_err();
        assert!(err.problem.contains("`old_load_balancer` is not an ALB loadbalancer ARN"), "{err}");

        let err = parse(&with_route53("").replace("name = \"www\"", "name = \"api\"")).unwrap_err();
        assert!(err.problem.contains("route `api` is named twice"), "{err}");
    }

    #[test]
    fn one_cluster_on_both_sides_is_refused_at_the_new_context() {
        let same = good()
            .replace("[new]\ncontext = \"eks-2026\"", "[new]\ncontext = \"eks-2022\"\nkubeconfig = \"~/.kube/config\"");
        let err = parse(&same).unwrap_err();
        assert_eq!((err.line, err.column), (9, 11), "{err}");
        assert!(
            err.problem.contains("[new] context `eks-2022` is [old]'s context (line 5) in the same kubeconfig"),
            "{err}"
        );
        assert!(err.hint.contains("kubectl config get-contexts"), "{err}");
        // The same name in two kubeconfig files may well be two clusters.
        let other_file = same.replace(
            "[new]\ncontext = \"eks-2022\"\nkubeconfig = \"~/.kube/config\"",
            "[new]\ncontext = \"eks-2022\"\nkubeconfig = \"/etc/new/kubeconfig\"",
        );
        assert!(parse(&other_file).is_ok());
        // Both on the default kubeconfig, one context.
        let defaults = same.replace("kubeconfig = \"~/.kube/config\"\n", "");
        let err = parse(&defaults).unwrap_err();
        assert!(err.problem.contains("same kubeconfig"), "{err}");
    }

    #[test]
    fn two_routes_on_one_rule_default_action_or_record_set_are_refused() {
        let second = |extra: &str| {
            good().replace(
                "\n[[singleton]]",
                &format!(
                    "\n[[route]]\nname = \"api2\"\nlistener_arn = \"{LISTENER}\"\n{extra}old_target_group = \"{TG_OLD}\"\nnew_target_group = \"{TG_NEW}\"\n\n[[singleton]]"
                ),
            )
        };
        let err = parse(&second(&format!("rule_arn = \"{RULE}\"\n"))).unwrap_err();
        assert_eq!((err.line, err.column), (26, 12), "{err}");
        assert!(err.problem.contains("route `api2` is on route `api`'s rule (`rule_arn`) (line 16)"), "{err}");
        assert!(err.hint.contains("one route per rule"), "{err}");
        // Two default actions of one listener.
        let defaults = second("").replace(&format!("rule_arn = \"{RULE}\"\n"), "");
        let err = parse(&defaults).unwrap_err();
        assert_eq!(err.line, 24, "{err}");
        assert!(err.problem.contains("route `api2` is on route `api`'s listener default action"), "{err}");
        // A rule and the default action of its listener are two places.
        assert!(parse(&second("")).is_ok());

        let www2 = with_route53("").replace(
            "\n[[singleton]]",
            "\n[[route]]\nname = \"www2\"\nkind = \"route53\"\nhosted_zone_id = \"Z0123456789ABCDEFGHIJ\"\nrecord_name = \"www.example.com.\"\nold_set_identifier = \"blue\"\nnew_set_identifier = \"green\"\n\n[[singleton]]",
        );
        let err = parse(&www2).unwrap_err();
        assert_eq!(err.line, 35, "{err}");
        assert!(err.problem.contains("route `www2` is on route `www`'s Route 53 record set"), "{err}");
        // Another type of the same name is another record set.
        assert!(
            parse(
                &www2.replace(
                    "new_set_identifier = \"green\"",
                    "new_set_identifier = \"green\"\nrecord_type = \"AAAA\""
                )
            )
            .is_ok()
        );
    }

    #[test]
    fn two_singletons_on_one_workload_are_refused_on_either_side() {
        let with = |extra: &str| {
            format!("{}\n[[singleton]]\nname = \"digest\"\nkind = \"Deployment\"\nnamespace = \"app\"\n{extra}", good())
        };
        let err = parse(&with("new_name = \"scheduler\"\n")).unwrap_err();
        assert_eq!((err.line, err.column), (32, 12), "{err}");
        assert!(
            err.problem.contains(
                "singleton `digest`: its new Deployment app/scheduler is singleton `scheduler`'s too (line 24)"
            ),
            "{err}"
        );
        assert!(err.hint.contains("new_name"), "{err}");
        let err = parse(&with("old_name = \"scheduler\"\n")).unwrap_err();
        assert!(err.problem.contains("its old Deployment app/scheduler"), "{err}");
        // A name alone is the workload on both sides: said at the name.
        let err = parse(
            &with("")
                .replace("name = \"digest\"", "name = \"digest\"\nold_name = \"scheduler\"\nnew_name = \"scheduler\""),
        )
        .unwrap_err();
        assert!(err.problem.contains("its old Deployment app/scheduler"), "{err}");
        // A CronJob of the same name is another object.
        assert!(
            parse(
                &with("new_name = \"scheduler\"\n")
                    .replace("name = \"digest\"\nkind = \"Deployment\"", "name = \"digest\"\nkind = \"CronJob\"")
            )
            .is_ok()
        );
        assert!(parse(&with("")).is_ok());
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = Plan::load(Path::new("/no/such/cutover.toml")).unwrap_err();
        assert!(err.to_string().contains("/no/such/cutover.toml: cannot read the plan"), "{err}");
    }
}
