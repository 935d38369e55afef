//! Weight changes: re-read, compare with what the operator saw, write only
//! the two weights, read back.

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ForwardActionConfig, TargetGroupTuple};

use crate::app::EffectResult;
use crate::app::actions::MAX_TARGET_GROUPS;
use crate::domain::{Weight, Weights};
use crate::plan::{Arn, PlanRoute};
use crate::sources::alb::{Forward, read_forwards};
use crate::sources::aws::explain;

/// The rule's (or listener default's) actions as they are now.
async fn current_actions(client: &Client, route: &PlanRoute) -> Result<Vec<Action>, String> {
    match &route.rule {
        Some(rule) => {
            let out = client
                .describe_rules()
                .rule_arns(&rule.0)
                .send()
                .await
                .map_err(|e| explain(&e, "elasticloadbalancing:DescribeRules"))?;
            Ok(out.rules().first().map(|r| r.actions().to_vec()).unwrap_or_default())
        }
        None => {
            let out = client
                .describe_listeners()
                .listener_arns(&route.listener.0)
                .send()
                .await
                .map_err(|e| explain(&e, "elasticloadbalancing:DescribeListeners"))?;
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

pub async fn set_weights(
    client: &Client,
    route: &PlanRoute,
    seen: &[(String, Weight)],
    to: Weights,
    dry_run: bool,
) -> EffectResult {
    if to.old.0 > 999 || to.new.0 > 999 {
        return EffectResult::Refused { reason: "weights must be 0 to 999".into() };
    }
    let actions = match current_actions(client, route).await {
        Ok(a) => a,
        Err(error) => return EffectResult::Failed { error: format!("re-reading route {}: {error}", route.name) },
    };
    let Some(now) = Forward::from_actions(&actions) else {
        return EffectResult::Refused { reason: format!("route {}: the rule has no forward action", route.name) };
    };
    let mut seen_sorted = seen.to_vec();
    seen_sorted.sort();
    let now_sorted = by_name(&now);
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
    let new_actions = match with_weights(&actions, route, to) {
        Ok(a) => a,
        Err(reason) => return EffectResult::Refused { reason: format!("route {}: {reason}", route.name) },
    };
    let (op, call) = match &route.rule {
        Some(rule) => ("ModifyRule", format!("ModifyRule RuleArn={rule}")),
        None => ("ModifyListener", format!("ModifyListener ListenerArn={}", route.listener)),
    };
    let wanted = format!(
        "{}={} {}={}",
        route.old_target_group.target_group_name(),
        to.old.0,
        route.new_target_group.target_group_name(),
        to.new.0
    );
    let detail = format!("{call} forward {} -> {wanted} (stickiness and other target groups kept)", show(&now_sorted));
    if dry_run {
        return EffectResult::DryRun { calls: vec![detail] };
    }
    let written = match &route.rule {
        Some(rule) => client
            .modify_rule()
            .rule_arn(&rule.0)
            .set_actions(Some(new_actions))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| explain(&e, "elasticloadbalancing:ModifyRule")),
        None => client
            .modify_listener()
            .listener_arn(&route.listener.0)
            .set_default_actions(Some(new_actions))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| explain(&e, "elasticloadbalancing:ModifyListener")),
    };
    if let Err(error) = written {
        return EffectResult::Failed { error: format!("route {}: {error}", route.name) };
    }
    match read_forwards(client, std::slice::from_ref(route)).await {
        Ok(mut f) => {
            let back = f.remove(0);
            let got = (back.weight_of(&route.old_target_group), back.weight_of(&route.new_target_group));
            let others_kept = back
                .groups
                .iter()
                .filter(|(a, _)| *a != route.old_target_group.0 && *a != route.new_target_group.0)
                .all(|g| now.groups.contains(g));
            if got == (Some(i32::from(to.old.0)), Some(i32::from(to.new.0))) && others_kept {
                EffectResult::Verified {
                    detail: format!("route {}: {op} wrote {wanted}; reads back {}", route.name, show(&by_name(&back))),
                }
            } else {
                EffectResult::Mismatch {
                    detail: format!(
                        "route {}: wrote old {}/new {}, reads back {}",
                        route.name,
                        to.old.0,
                        to.new.0,
                        show(&by_name(&back))
                    ),
                }
            }
        }
        Err(error) => EffectResult::Mismatch {
            detail: format!("route {}: written, but the read-back failed: {error}", route.name),
        },
    }
}
