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

use crate::app::{AppConfig, ClusterMeta, Mode, RouteSpec, SingletonSpec};
use crate::domain::{PerSide, WorkloadKey, WorkloadKind};

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    name: Spanned<String>,
    listener_arn: Spanned<String>,
    rule_arn: Option<Spanned<String>>,
    old_target_group: Spanned<String>,
    new_target_group: Spanned<String>,
    workload: Option<Spanned<String>>,
    steps: Option<Spanned<Vec<u8>>>,
    /// `side:namespace/name` of the Ingress the AWS Load Balancer
    /// Controller writes this rule from.
    ingress: Option<Spanned<String>>,
    /// The `<name>` of its `alb.ingress.kubernetes.io/actions.<name>`.
    ingress_action: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SingletonFile {
    name: Spanned<String>,
    kind: Spanned<String>,
    namespace: Spanned<String>,
    old_name: Option<String>,
    new_name: Option<String>,
    replicas: Option<Spanned<u32>>,
}

/// Where one side's Kubernetes API is.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterTarget {
    pub context: String,
    /// None: KUBECONFIG or ~/.kube/config, as kubectl does.
    pub kubeconfig: Option<PathBuf>,
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
    pub routes: Vec<PlanRoute>,
    pub singletons: Vec<SingletonSpec>,
    pub stale_after: Duration,
    pub max_step: u8,
    pub spike_percent: f64,
    /// Seconds a route stays at a weight (with one complete CloudWatch
    /// minute seen there) before a step forward needs only one confirmation.
    pub min_dwell: i64,
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
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.problem)?;
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
        for r in &raw.route {
            let span = r.span();
            let r = r.get_ref();
            if routes.iter().any(|x| &x.name == r.name.get_ref()) {
                return Err(loc.at(
                    r.name.span(),
                    format!("route `{}` is named twice", r.name.get_ref()),
                    "route names must be unique",
                ));
            }
            let listener = arn(&loc, &r.listener_arn, "listener/app/", "listener_arn")?;
            let rule = match &r.rule_arn {
                Some(rule) => {
                    let a = arn(&loc, rule, "listener-rule/app/", "rule_arn")?;
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
            let old_tg = arn(&loc, &r.old_target_group, "targetgroup/", "old_target_group")?;
            let new_tg = arn(&loc, &r.new_target_group, "targetgroup/", "new_target_group")?;
            if old_tg == new_tg {
                return Err(loc.at(
                    r.new_target_group.span(),
                    "`new_target_group` is the same as `old_target_group`",
                    "a route shifts traffic between two different target groups",
                ));
            }
            let workload = match &r.workload {
                Some(w) => Some(workload_key(&loc, w)?),
                None => None,
            };
            let steps = match &r.steps {
                Some(s) => {
                    let v = s.get_ref();
                    if v.is_empty() || v.iter().any(|p| *p > 100) || v.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(loc.at(
                            s.span(),
                            "`steps` must be rising percentages from 0 to 100",
                            "e.g. steps = [0, 1, 5, 10, 25, 50, 75, 100]",
                        ));
                    }
                    v.clone()
                }
                None => DEFAULT_STEPS.to_vec(),
            };
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
                    let key = workload_key(&loc, &Spanned::new(value.span(), key.to_string()))?;
                    let action =
                        r.ingress_action.as_ref().map_or_else(|| r.name.get_ref().clone(), |a| a.get_ref().clone());
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
            let _ = span;
            routes.push(PlanRoute {
                name: r.name.get_ref().clone(),
                listener,
                rule,
                old_target_group: old_tg,
                new_target_group: new_tg,
                workload,
                steps,
                ingress,
            });
        }

        let mut singletons: Vec<SingletonSpec> = Vec::new();
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
            singletons.push(SingletonSpec {
                name: name.clone(),
                kind,
                old: WorkloadKey::new(ns, s.old_name.clone().unwrap_or_else(|| name.clone())),
                new: WorkloadKey::new(ns, s.new_name.clone().unwrap_or_else(|| name.clone())),
                replicas,
            });
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
        Ok(Plan {
            path: path.to_path_buf(),
            name,
            namespaces,
            old,
            new,
            aws,
            routes,
            singletons,
            stale_after,
            max_step,
            spike_percent,
            min_dwell,
        })
    }

    /// Where a side's Kubernetes API is; None for an old side without one.
    pub fn cluster(&self, side: crate::domain::Side) -> Option<&ClusterTarget> {
        match side {
            crate::domain::Side::Old => self.old.as_ref(),
            crate::domain::Side::New => Some(&self.new),
        }
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
                    load_balancer: r.listener.load_balancer_dimension(),
                    rule: r.rule.as_ref().map(|a| format!("rule {}", a.short_id())),
                    old_target_group: r.old_target_group.target_group_name().into(),
                    new_target_group: r.new_target_group.target_group_name().into(),
                    workload: r.workload.clone(),
                    steps: r.steps.clone(),
                    ingress: r.ingress.clone(),
                })
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
        assert_eq!(config.routes[0].old_target_group, "api-old");
        assert_eq!(config.clusters.old.name, "eks-2022");
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

    #[test]
    fn a_missing_file_is_named() {
        let err = Plan::load(Path::new("/no/such/cutover.toml")).unwrap_err();
        assert!(err.to_string().contains("/no/such/cutover.toml: cannot read the plan"), "{err}");
    }
}
