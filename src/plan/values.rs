//! Values the plan's sections share: ELBv2 ARNs, `namespace/name`,
//! namespace names, steps, paths; each checked where it is read.

use std::fmt;
use std::path::PathBuf;

use toml::Spanned;

use super::DEFAULT_STEPS;
use super::error::{Located, PlanError};
use super::route::RouteFile;
use crate::domain::WorkloadKey;

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

pub(super) fn steps(loc: &Located<'_>, steps: Option<&Spanned<Vec<u8>>>) -> Result<Vec<u8>, PlanError> {
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
pub(super) fn required<'a>(
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

pub(super) fn arn(loc: &Located<'_>, value: &Spanned<String>, kind: &str, field: &str) -> Result<Arn, PlanError> {
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

pub(super) fn workload_key(loc: &Located<'_>, value: &Spanned<String>) -> Result<WorkloadKey, PlanError> {
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

pub(super) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub(super) fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(rest),
        None => PathBuf::from(path),
    }
}
