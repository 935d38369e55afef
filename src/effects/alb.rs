//! Weight changes: re-read, compare with what the operator saw, write only
//! the two weights, read back.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ForwardActionConfig, TargetGroupTuple};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::app::EffectResult;
use crate::app::actions::MAX_TARGET_GROUPS;
use crate::domain::{Weight, Weights};
use crate::plan::{Arn, PlanRoute};
use crate::sources::alb::{Forward, read_forwards};
use crate::sources::aws::explain_on;

/// The rule's (or listener default's) actions as they are now.
async fn current_actions(client: &Client, route: &PlanRoute) -> Result<Vec<Action>, String> {
    match &route.rule {
        Some(rule) => {
            let out = client
                .describe_rules()
                .rule_arns(&rule.0)
                .send()
                .await
                .map_err(|e| explain_on(&e, "elasticloadbalancing:DescribeRules", Some(&rule.0)))?;
            Ok(out.rules().first().map(|r| r.actions().to_vec()).unwrap_or_default())
        }
        None => {
            let out = client
                .describe_listeners()
                .listener_arns(&route.listener.0)
                .send()
                .await
                .map_err(|e| explain_on(&e, "elasticloadbalancing:DescribeListeners", Some(&route.listener.0)))?;
            Ok(out.listeners().first().map(|l| l.default_actions().to_vec()).unwrap_or_default())
        }
    }
}

fn by_name(f: &Forward) -> Vec<(String, Weight)> {
    let mut v: Vec<(String, Weight)> = f
        .groups
        .iter()
        .map(|(arn, w)| (Arn(arn.clone()).target_group_name().to_string(), Weight((*w).clamp(0, 999) as u16)))
        .collect();
    v.sort();
    v
}

fn show(groups: &[(String, Weight)]) -> String {
    groups.iter().map(|(g, w)| format!("{g}={}", w.0)).collect::<Vec<_>>().join(" ")
}

/// The same actions with the forward action's two weights replaced and
/// everything else (other groups, stickiness, other actions) kept.
pub fn with_weights(actions: &[Action], route: &PlanRoute, to: Weights) -> Result<Vec<Action>, String> {
    let mut out = Vec::with_capacity(actions.len());
    let mut found = false;
    for a in actions {
        if a.r#type() != Some(&ActionTypeEnum::Forward) || found {
            out.push(a.clone());
            continue;
        }
        found = true;
        let weight = |arn: &str| {
            if arn == route.old_target_group.0 {
                Some(i32::from(to.old.0))
            } else if arn == route.new_target_group.0 {
                Some(i32::from(to.new.0))
            } else {
                None
            }
        };
        let (groups, stickiness) = match a.forward_config() {
            Some(config) => (
                config
                    .target_groups()
                    .iter()
                    .map(|t| {
                        let arn = t.target_group_arn().unwrap_or_default().to_string();
                        let w = weight(&arn).unwrap_or(t.weight().unwrap_or(1));
                        (arn, w)
                    })
                    .collect::<Vec<_>>(),
                config.target_group_stickiness_config().cloned(),
            ),
            None => (vec![(a.target_group_arn().unwrap_or_default().to_string(), 1)], None),
        };
        let mut groups = groups;
        for tg in [&route.old_target_group, &route.new_target_group] {
            if !groups.iter().any(|(arn, _)| *arn == tg.0) {
                groups.push((tg.0.clone(), weight(&tg.0).unwrap_or(0)));
            }
        }
        if groups.len() > MAX_TARGET_GROUPS {
            return Err(format!(
                "the forward action would have {} target groups (at most {MAX_TARGET_GROUPS})",
                groups.len()
            ));
        }
        let config = ForwardActionConfig::builder()
            .set_target_groups(Some(
                groups
                    .iter()
                    .map(|(arn, w)| TargetGroupTuple::builder().target_group_arn(arn).weight(*w).build())
                    .collect(),
            ))
            .set_target_group_stickiness_config(stickiness)
            .build();
        // With more than one group, TargetGroupArn must not be set beside
        // ForwardConfig; every other field of the action is kept.
        let mut action = a.clone();
        action.forward_config = Some(config);
        action.target_group_arn = None;
        out.push(action);
    }
    if !found {
        return Err("the rule has no forward action".into());
    }
    Ok(out)
}

/// How long a rule write may take before its answer counts as lost and
/// the rule is read again to learn what happened.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(10);
/// Tries of a write that AWS answered "throttled" (not applied).
const THROTTLED_TRIES: u32 = 5;

/// How a write call ended, before the read-back.
enum Written {
    Ok,
    /// AWS answered, and the answer says nothing was changed.
    NotApplied(String),
    /// No answer that says: a timeout, a dropped connection, a 5xx.
    Unclear(String),
}

fn write_outcome<E>(err: &SdkError<E, HttpResponse>, permission: &str, arn: &str) -> (Written, bool)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = explain_on(err, permission, Some(arn));
    match err {
        SdkError::ServiceError(e) => {
            let throttled =
                matches!(e.err().code(), Some("Throttling" | "ThrottlingException" | "RequestLimitExceeded"));
            let server_side = matches!(e.err().code(), Some("InternalFailure" | "ServiceUnavailable"));
            if server_side { (Written::Unclear(text), false) } else { (Written::NotApplied(text), throttled) }
        }
        SdkError::ConstructionFailure(_) => (Written::NotApplied(text), false),
        _ => (Written::Unclear(text), false),
    }
}

async fn write(client: &Client, route: &PlanRoute, actions: Vec<Action>) -> Written {
    let once = || {
        client.config().to_builder().retry_config(RetryConfig::standard().with_max_attempts(1)).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(WRITE_DEADLINE)
                .operation_timeout(WRITE_DEADLINE)
                .build(),
        )
    };
    let mut pause = Duration::from_millis(500);
    for attempt in 1..=THROTTLED_TRIES {
        let (outcome, throttled) = match &route.rule {
            Some(rule) => match client
                .modify_rule()
                .rule_arn(&rule.0)
                .set_actions(Some(actions.clone()))
                .customize()
                .config_override(once())
                .send()
                .await
            {
                Ok(_) => (Written::Ok, false),
                Err(e) => write_outcome(&e, "elasticloadbalancing:ModifyRule", &rule.0),
            },
            None => match client
                .modify_listener()
                .listener_arn(&route.listener.0)
                .set_default_actions(Some(actions.clone()))
                .customize()
                .config_override(once())
                .send()
                .await
            {
                Ok(_) => (Written::Ok, false),
                Err(e) => write_outcome(&e, "elasticloadbalancing:ModifyListener", &route.listener.0),
            },
        };
        if !throttled || attempt == THROTTLED_TRIES {
            return outcome;
        }
        tracing::warn!(route = %route.name, attempt, "write throttled; retrying");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(4));
    }
    Written::NotApplied("throttled".into())
}

/// Sets a route's two weights. With `seen`, only if the forward action is
/// still what the operator saw; without (a revert), whatever it is now.
pub async fn set_weights(
    client: &Client,
    route: &PlanRoute,
    seen: Option<&[(String, Weight)]>,
    to: Weights,
    dry_run: bool,
) -> EffectResult {
    if to.old.0 > 999 || to.new.0 > 999 {
        return EffectResult::Refused { reason: "weights must be 0 to 999".into() };
    }
    let actions = match current_actions(client, route).await {
        Ok(a) => a,
        Err(error) => {
            return EffectResult::Failed { error: format!("re-reading route {} before writing: {error}", route.name) };
        }
    };
    let Some(now) = Forward::from_actions(&actions) else {
        return EffectResult::Refused { reason: format!("route {}: the rule has no forward action", route.name) };
    };
    let now_sorted = by_name(&now);
    if let Some(seen) = seen {
        let mut seen_sorted = seen.to_vec();
        seen_sorted.sort();
        if now_sorted != seen_sorted {
            return EffectResult::Refused {
                reason: format!(
                    "route {} changed since you saw it: you saw {}, it is now {}",
                    route.name,
                    show(&seen_sorted),
                    show(&now_sorted)
                ),
            };
        }
    }
    let wanted = format!(
        "{}={} {}={}",
        route.old_target_group.target_group_name(),
        to.old.0,
        route.new_target_group.target_group_name(),
        to.new.0
    );
    let is = |f: &Forward| {
        (f.weight_of(&route.old_target_group), f.weight_of(&route.new_target_group))
            == (Some(i32::from(to.old.0)), Some(i32::from(to.new.0)))
    };
    if seen.is_none() && is(&now) && !dry_run {
        return EffectResult::Verified { detail: format!("route {}: already {wanted}; nothing written", route.name) };
    }
    let new_actions = match with_weights(&actions, route, to) {
        Ok(a) => a,
        Err(reason) => return EffectResult::Refused { reason: format!("route {}: {reason}", route.name) },
    };
    let (op, call) = match &route.rule {
        Some(rule) => ("ModifyRule", format!("ModifyRule RuleArn={rule}")),
        None => ("ModifyListener", format!("ModifyListener ListenerArn={}", route.listener)),
    };
    let detail = format!("{call} forward {} -> {wanted} (stickiness and other target groups kept)", show(&now_sorted));
    if dry_run {
        return EffectResult::DryRun { calls: vec![detail] };
    }
    let lost = match write(client, route, new_actions).await {
        Written::Ok => None,
        Written::NotApplied(error) => return EffectResult::Failed { error: format!("route {}: {error}", route.name) },
        Written::Unclear(error) => Some(error),
    };
    let others_kept = |back: &Forward| {
        back.groups
            .iter()
            .filter(|(a, _)| *a != route.old_target_group.0 && *a != route.new_target_group.0)
            .all(|g| now.groups.contains(g))
    };
    match read_forwards(client, std::slice::from_ref(route)).await {
        Ok(mut f) => {
            let back = f.remove(0);
            let reads = show(&by_name(&back));
            match &lost {
                None if is(&back) && others_kept(&back) => EffectResult::Verified {
                    detail: format!("route {}: {op} wrote {wanted}; reads back {reads}", route.name),
                },
                Some(error) if is(&back) && others_kept(&back) => EffectResult::Verified {
                    detail: format!(
                        "route {}: {op}'s answer was lost ({error}); read again, it is applied: {reads}",
                        route.name
                    ),
                },
                Some(error) if by_name(&back) == now_sorted => EffectResult::Failed {
                    error: format!(
                        "route {}: {op}'s answer was lost ({error}); read again, it is not applied: {reads}",
                        route.name
                    ),
                },
                _ => EffectResult::Mismatch {
                    detail: format!(
                        "route {}: wrote old {}/new {}, reads back {reads}",
                        route.name, to.old.0, to.new.0
                    ),
                },
            }
        }
        Err(error) => match lost {
            None => EffectResult::Mismatch {
                detail: format!("route {}: written, but the read-back failed: {error}", route.name),
            },
            Some(lost) => EffectResult::Unknown {
                detail: format!(
                    "route {}: {op}'s answer was lost ({lost}) and the re-read failed ({error})",
                    route.name
                ),
            },
        },
    }
}
