//! A `kind = "alb"` route: one listener rule (or a listener's default
//! action) forwarding to an old and a new target group.

use toml::Spanned;

use super::error::{Located, PlanError};
use super::route::RouteFile;
use super::values::{Arn, arn, required, workload_key};
use crate::domain::{AlbSpec, Backend, IngressRef, Side};

/// The ALB fields of a route.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbRoute {
    pub listener: Arn,
    /// None: the listener's default action.
    pub rule: Option<Arn>,
    pub old_target_group: Arn,
    pub new_target_group: Arn,
    /// The Ingress the AWS Load Balancer Controller writes the rule from:
    /// steps are written there, and the controller writes the rule.
    pub ingress: Option<IngressRef>,
    pub lines: AlbLines,
}

/// Where in the plan an ALB route's fields are, for messages about what
/// AWS holds ("the rule does not exist") to point at the line to fix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlbLines {
    pub listener_arn: usize,
    pub rule_arn: Option<usize>,
}

impl AlbRoute {
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

    /// The rule's ARN, or the listener's for a default action: what holds
    /// the weights.
    pub fn weights_arn(&self) -> &Arn {
        self.rule.as_ref().unwrap_or(&self.listener)
    }

    pub fn target_group(&self, side: Side) -> &Arn {
        match side {
            Side::Old => &self.old_target_group,
            Side::New => &self.new_target_group,
        }
    }

    /// What two routes must not share, and how the plan names it: the
    /// rule, or the listener's default action.
    pub(super) fn place(&self, r: &RouteFile) -> (String, std::ops::Range<usize>, &'static str) {
        match (&self.rule, &r.rule_arn, &r.listener_arn) {
            (Some(rule), Some(span), _) => (rule.0.clone(), span.span(), "rule (`rule_arn`)"),
            (_, _, Some(span)) => (format!("default:{}", self.listener.0), span.span(), "listener default action"),
            _ => (String::new(), r.name.span(), ""),
        }
    }

    /// What the console shows and records of the route.
    pub fn spec(&self) -> Backend {
        Backend::Alb(AlbSpec {
            load_balancer: self.listener.load_balancer_dimension(),
            rule: self.rule.as_ref().map(|a| format!("rule {}", a.short_id())),
            old_target_group: self.old_target_group.target_group_name().into(),
            new_target_group: self.new_target_group.target_group_name().into(),
            ingress: self.ingress.clone(),
        })
    }
}

/// The fields of a `kind = "alb"` route, checked.
pub(super) fn parse(loc: &Located<'_>, r: &RouteFile) -> Result<AlbRoute, PlanError> {
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
                "old" => Side::Old,
                "new" => Side::New,
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
            Some(IngressRef { side, key, action })
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
    Ok(AlbRoute {
        listener,
        rule,
        old_target_group: old_tg,
        new_target_group: new_tg,
        ingress,
        lines: AlbLines {
            listener_arn: loc.line(listener_arn.span()),
            rule_arn: r.rule_arn.as_ref().map(|v| loc.line(v.span())),
        },
    })
}
