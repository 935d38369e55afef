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
use crate::domain::MAX_TARGET_GROUPS;
use crate::domain::{Weight, Weights};
use crate::plan::{AlbRoute, Arn, Routed};
use crate::sources::alb::{Forward, read_forwards};
use crate::sources::aws::explain_on;

/// The rule's (or listener default's) actions as they are now.
async fn current_actions(client: &Client, route: &Routed<AlbRoute>) -> Result<Vec<Action>, String> {
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
/// everything else (other groups, stickiness, other actions) kept; with
/// `all_old` (the panic button), every group but old's gets 0, the plan's
/// or not.
pub fn with_weights(
    actions: &[Action],
    route: &Routed<AlbRoute>,
    to: Weights,
    all_old: bool,
) -> Result<Vec<Action>, String> {
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
            } else if all_old {
                Some(0)
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
            None => {
                let arn = a.target_group_arn().unwrap_or_default().to_string();
                let w = weight(&arn).unwrap_or(1);
                (vec![(arn, w)], None)
            }
        };
        let mut groups = groups;
        for tg in [&route.old_target_group, &route.new_target_group] {
            if groups.iter().any(|(arn, _)| *arn == tg.0) {
                continue;
            }
            // A new group missing from the forward gets nothing already:
            // the way back is not refused for want of room to say so.
            let room = groups.len() < MAX_TARGET_GROUPS;
            if all_old && tg == &route.new_target_group && !room {
                continue;
            }
            groups.push((tg.0.clone(), weight(&tg.0).unwrap_or(0)));
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

async fn write(client: &Client, route: &Routed<AlbRoute>, actions: Vec<Action>) -> Written {
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
        tracing::warn!(route = %route.name(), attempt, "write throttled; retrying");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(4));
    }
    Written::NotApplied("throttled".into())
}

/// A weight change as the executor is asked for it.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// What the operator saw: the write is refused unless the forward is
    /// still exactly that. None: a revert, written whatever it is now.
    pub seen: Option<&'a [(String, Weight)]>,
    pub to: Weights,
    /// The panic button: every target group but old's gets 0.
    pub all_old: bool,
}

/// Writes of a revert whose answers are lost, at most, before the console
/// is told it is not applied yet: about a minute at the write deadline.
pub const REVERT_WRITES: u32 = 6;
/// The pause before a revert's next try when a read failed (a write that
/// timed out has waited its deadline already).
const REVERT_PAUSE: Duration = Duration::from_secs(1);

/// How one try of a write ended.
enum Try {
    /// Applied and read back as asked: the outcome's line, and the forward
    /// as read.
    Applied { detail: String, reads: String },
    /// The outcome, whatever comes after.
    Done(EffectResult),
    /// Not applied, as far as the rule shows: the answer was lost (`lost`,
    /// and the request may still land), or the read-back differs.
    NotYet { why: String, reads: String, lost: bool },
    /// The rule could not be read: before the write, or after a lost
    /// answer (`lost`: that request may still land).
    NotRead { error: String, lost: bool },
}

/// What a read-back must show: the plan's two weights as asked; with
/// `all_old`, every other group at 0 (a plan's new group that had no room
/// may be absent), else every other group as it was before the write.
fn shows(back: &Forward, route: &Routed<AlbRoute>, write: Write<'_>, before: &Forward) -> bool {
    let old = back.weight_of(&route.old_target_group) == Some(i32::from(write.to.old.0));
    let new = match back.weight_of(&route.new_target_group) {
        Some(w) => w == i32::from(write.to.new.0),
        None => write.all_old && write.to.new.0 == 0,
    };
    let other = |arn: &str| *arn != route.old_target_group.0 && *arn != route.new_target_group.0;
    let others = if write.all_old {
        back.groups.iter().filter(|(a, _)| other(a)).all(|(_, w)| *w == 0)
    } else {
        back.groups.iter().filter(|(a, _)| other(a)).all(|g| before.groups.contains(g))
    };
    old && new && others
}

/// The groups the plan does not know, as `name=weight`, for the result
/// of a panic button that set them to 0.
fn unknown_groups(f: &Forward, route: &Routed<AlbRoute>) -> Vec<String> {
    f.groups
        .iter()
        .filter(|(a, _)| *a != route.old_target_group.0 && *a != route.new_target_group.0)
        .map(|(a, w)| format!("{}={w}", Arn(a.clone()).target_group_name()))
        .collect()
}

/// Sets a route's weights. With `seen`, only if the forward action is
/// still what the operator saw, and once; without (a revert), whatever it
/// is now, and again while its answer is lost and the rule does not show
/// it, up to [`REVERT_WRITES`] times, saying so through `progress`: the
/// way back is never reported failed while a request of it may still land.
pub async fn set_weights(
    client: &Client,
    route: &Routed<AlbRoute>,
    write: Write<'_>,
    dry_run: bool,
    progress: crate::effects::Progress<'_>,
) -> EffectResult {
    let to = write.to;
    if to.old.0 > 999 || to.new.0 > 999 {
        return EffectResult::Refused { reason: "weights must be 0 to 999".into() };
    }
    if write.seen.is_some() || dry_run {
        return match once(client, route, write, dry_run, 1).await {
            Try::Applied { detail, .. } => EffectResult::Verified { detail },
            Try::Done(result) => result,
            Try::NotYet { why, reads, lost: true } => EffectResult::NotYet {
                detail: format!(
                    "route {}: {why}; read again, it is not applied: {reads}; the request may still land, and the console names it if it does",
                    route.name()
                ),
            },
            Try::NotYet { why, reads, lost: false } => {
                EffectResult::Mismatch { detail: format!("route {}: {why}; reads back {reads}", route.name()) }
            }
            Try::NotRead { error, .. } => EffectResult::Failed { error },
        };
    }
    let mut lost = 0;
    let mut last = String::new();
    for attempt in 1..=REVERT_WRITES {
        match once(client, route, write, dry_run, attempt).await {
            // Said short: each lost answer was said as it came.
            Try::Applied { reads, .. } if lost > 0 => {
                return EffectResult::Verified {
                    detail: format!(
                        "route {}: the revert reads back {reads} (written {attempt} times: {lost} answer(s) lost before)",
                        route.name()
                    ),
                };
            }
            Try::Applied { detail, .. } => return EffectResult::Verified { detail },
            // A refusal after lost answers: those requests may still land.
            Try::Done(EffectResult::Failed { error } | EffectResult::Refused { reason: error }) if lost > 0 => {
                return EffectResult::NotYet {
                    detail: format!(
                        "route {}: the revert's answer was lost {lost} time(s), then: {error}; its requests may still land",
                        route.name()
                    ),
                };
            }
            Try::Done(result) => return result,
            Try::NotYet { why, reads, lost: was_lost } => {
                lost += u32::from(was_lost);
                last = format!("{why}; reads {reads}");
                if attempt < REVERT_WRITES {
                    let text = format!(
                        "revert not applied yet, written again: attempt {} of {REVERT_WRITES}; {why}; reads {reads}",
                        attempt + 1
                    );
                    tracing::warn!(route = %route.name(), attempt, "{text}");
                    progress(if was_lost {
                        crate::effects::Note::unanswered(text)
                    } else {
                        crate::effects::Note::waiting(text)
                    });
                }
            }
            Try::NotRead { error, lost: was_lost } => {
                lost += u32::from(was_lost);
                last = error.clone();
                if attempt == 1 && lost == 0 {
                    // Nothing was sent: not applied.
                    return EffectResult::Failed { error };
                }
                if attempt < REVERT_WRITES {
                    let text = format!(
                        "revert not read back: trying again, attempt {} of {REVERT_WRITES}; {error}",
                        attempt + 1
                    );
                    progress(if was_lost {
                        crate::effects::Note::unanswered(text)
                    } else {
                        crate::effects::Note::waiting(text)
                    });
                    tokio::time::sleep(REVERT_PAUSE).await;
                }
            }
        }
    }
    let detail = format!(
        "route {}: the revert was written {REVERT_WRITES} times and the rule does not show it ({last}); {lost} of its requests went unanswered and may still land: look at the rule, and R again",
        route.name()
    );
    if lost > 0 { EffectResult::NotYet { detail } } else { EffectResult::Mismatch { detail } }
}

/// One try: re-read, compare with what the operator saw, write, read back.
async fn once(client: &Client, route: &Routed<AlbRoute>, write: Write<'_>, dry_run: bool, attempt: u32) -> Try {
    let to = write.to;
    let actions = match current_actions(client, route).await {
        Ok(a) => a,
        Err(error) => {
            let error = format!("re-reading route {} before writing: {error}", route.name());
            return Try::NotRead { error, lost: false };
        }
    };
    let Some(now) = Forward::from_actions(&actions) else {
        return Try::Done(EffectResult::Refused {
            reason: format!("route {}: the rule has no forward action", route.name()),
        });
    };
    let now_sorted = by_name(&now);
    if let Some(seen) = write.seen {
        let mut seen_sorted = seen.to_vec();
        seen_sorted.sort();
        if now_sorted != seen_sorted {
            return Try::Done(EffectResult::Refused {
                reason: format!(
                    "route {} changed since you saw it: you saw {}, it is now {}",
                    route.name(),
                    show(&seen_sorted),
                    show(&now_sorted)
                ),
            });
        }
    }
    let mut wanted = format!(
        "{}={} {}={}",
        route.old_target_group.target_group_name(),
        to.old.0,
        route.new_target_group.target_group_name(),
        to.new.0
    );
    let unknown = unknown_groups(&now, route);
    if write.all_old && !unknown.is_empty() {
        wanted.push_str(&format!(" and 0 to {} (not in the plan)", unknown.join(" ")));
    }
    if write.seen.is_none() && shows(&now, route, write, &now) && !dry_run {
        let how = if attempt > 1 { "read again, it is applied" } else { "nothing written" };
        let reads = show(&now_sorted);
        return Try::Applied { detail: format!("route {}: already {reads}; {how}", route.name()), reads };
    }
    let new_actions = match with_weights(&actions, route, to, write.all_old) {
        Ok(a) => a,
        Err(reason) => return Try::Done(EffectResult::Refused { reason: format!("route {}: {reason}", route.name()) }),
    };
    let (op, call) = match &route.rule {
        Some(rule) => ("ModifyRule", format!("ModifyRule RuleArn={rule}")),
        None => ("ModifyListener", format!("ModifyListener ListenerArn={}", route.listener)),
    };
    if dry_run {
        let kept = if write.all_old { "stickiness kept" } else { "stickiness and other target groups kept" };
        return Try::Done(EffectResult::DryRun {
            calls: vec![format!("{call} forward {} -> {wanted} ({kept})", show(&now_sorted))],
        });
    }
    let lost = match self::write(client, route, new_actions).await {
        Written::Ok => None,
        Written::NotApplied(error) => {
            return Try::Done(EffectResult::Failed { error: format!("route {}: {error}", route.name()) });
        }
        Written::Unclear(error) => Some(error),
    };
    match read_forwards(client, std::slice::from_ref(route)).await {
        Ok(mut f) => {
            let back = f.remove(0);
            let reads = show(&by_name(&back));
            match &lost {
                None if shows(&back, route, write, &now) => Try::Applied {
                    detail: format!("route {}: {op} wrote {wanted}; reads back {reads}", route.name()),
                    reads,
                },
                Some(error) if shows(&back, route, write, &now) => Try::Applied {
                    detail: format!(
                        "route {}: {op}'s answer was lost ({error}); read again, it is applied: {reads}",
                        route.name()
                    ),
                    reads,
                },
                // Lost, and the rule as before: the request may land yet.
                Some(error) if by_name(&back) == now_sorted || write.seen.is_none() => {
                    Try::NotYet { why: format!("{op}'s answer was lost ({error})"), reads, lost: true }
                }
                // Written, and something else stands: a revert writes again.
                None if write.seen.is_none() => {
                    Try::NotYet { why: format!("{op} wrote {wanted}, the read-back differs"), reads, lost: false }
                }
                _ => Try::Done(EffectResult::Mismatch {
                    detail: format!(
                        "route {}: wrote old {}/new {}, reads back {reads}",
                        route.name(),
                        to.old.0,
                        to.new.0
                    ),
                }),
            }
        }
        Err(error) => match lost {
            None => Try::Done(EffectResult::Mismatch {
                detail: format!("route {}: written, but the read-back failed: {error}", route.name()),
            }),
            Some(lost) if write.seen.is_none() => Try::NotRead {
                error: format!("{op}'s answer was lost ({lost}) and the re-read failed ({error})"),
                lost: true,
            },
            Some(lost) => Try::Done(EffectResult::Unknown {
                detail: format!(
                    "route {}: {op}'s answer was lost ({lost}) and the re-read failed ({error})",
                    route.name()
                ),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/admin-old/aa";
    const NEW: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/admin-new/bb";
    const V2: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/admin-new-v2/cc";

    fn route() -> Routed<AlbRoute> {
        let target = AlbRoute {
            listener: Arn("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2".into()),
            rule: None,
            old_target_group: Arn(OLD.into()),
            new_target_group: Arn(NEW.into()),
            ingress: None,
            lines: Default::default(),
        };
        let mut route = Routed::new(crate::domain::RouteId(0), "admin", target);
        route.file = "cutover.toml".into();
        route
    }

    fn forward(groups: &[(&str, i32)]) -> Vec<Action> {
        let tuples = groups.iter().map(|(a, w)| TargetGroupTuple::builder().target_group_arn(*a).weight(*w).build());
        let config = ForwardActionConfig::builder().set_target_groups(Some(tuples.collect())).build();
        vec![Action::builder().r#type(ActionTypeEnum::Forward).forward_config(config).build()]
    }

    fn groups(actions: &[Action]) -> Vec<(String, i32)> {
        Forward::from_actions(actions).unwrap().groups
    }

    /// Someone put a new target group in place of the plan's new one: a
    /// step keeps it as it is; the panic button sets it to 0, and puts
    /// the plan's new group back at 0.
    #[test]
    fn the_panic_button_sets_every_group_but_old_to_zero() {
        let rule = forward(&[(OLD, 80), (V2, 20)]);
        let to = Weights::from_percent_new(0);
        let step = with_weights(&rule, &route(), to, false).unwrap();
        assert_eq!(groups(&step), [(OLD.to_string(), 100), (V2.to_string(), 20), (NEW.to_string(), 0)]);
        let all_old = with_weights(&rule, &route(), to, true).unwrap();
        assert_eq!(groups(&all_old), [(OLD.to_string(), 100), (V2.to_string(), 0), (NEW.to_string(), 0)]);
        let back = Forward { groups: groups(&all_old) };
        let before = Forward { groups: groups(&rule) };
        let write = Write { seen: None, to, all_old: true };
        assert!(shows(&back, &route(), write, &before));
        assert!(!shows(&Forward { groups: groups(&step) }, &route(), write, &before), "new-v2 still has 20");
        assert_eq!(unknown_groups(&before, &route()), ["admin-new-v2=20"]);
    }

    /// Five groups already, none of them the plan's new one: the panic
    /// button is not refused for want of room to write new's 0.
    #[test]
    fn the_panic_button_is_not_refused_for_a_full_forward() {
        let others: Vec<String> = (0..4).map(|n| format!("{OLD}x{n}")).collect();
        let mut full: Vec<(&str, i32)> = vec![(OLD, 50)];
        full.extend(others.iter().map(|a| (a.as_str(), 10)));
        let rule = forward(&full);
        let to = Weights::from_percent_new(0);
        assert!(with_weights(&rule, &route(), to, false).is_err(), "a step would make six");
        let written = groups(&with_weights(&rule, &route(), to, true).unwrap());
        assert_eq!(written.len(), 5);
        assert!(written.iter().all(|(a, w)| if a == OLD { *w == 100 } else { *w == 0 }), "{written:?}");
        let write = Write { seen: None, to, all_old: true };
        assert!(shows(&Forward { groups: written }, &route(), write, &Forward { groups: Vec::new() }));
    }
}
