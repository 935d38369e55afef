//! The ALB source: each route's forward weights and both target groups'
//! health, read every few seconds. Only Describe calls exist here.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, TargetHealthStateEnum};
use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{Msg, SourceId, SourceState};
use crate::domain::{
    Owner, PerSide, ReadDetail, RouteId, RouteOwners, RouteRead, Target, TargetState, Weight, Weights, owner_from_tags,
};
use crate::plan::{Arn, PlanRoute};

use super::aws::{explain, explain_on};

/// A forward action as the ALB reports it: every target group with its
/// weight, by ARN, in the order the API gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub groups: Vec<(String, i32)>,
}

impl Forward {
    /// The forward in an action list, if there is one. A plain
    /// `TargetGroupArn` forward (no ForwardConfig) is one group with all
    /// the traffic: weight 1 of 1.
    pub fn from_actions(actions: &[Action]) -> Option<Forward> {
        let action = actions.iter().find(|a| a.r#type() == Some(&ActionTypeEnum::Forward))?;
        if let Some(config) = action.forward_config() {
            let groups = config
                .target_groups()
                .iter()
                .map(|t| (t.target_group_arn().unwrap_or_default().to_string(), t.weight().unwrap_or(1)))
                .collect();
            return Some(Forward { groups });
        }
        action.target_group_arn().map(|arn| Forward { groups: vec![(arn.to_string(), 1)] })
    }

    pub fn weight_of(&self, arn: &Arn) -> Option<i32> {
        self.groups.iter().find(|(a, _)| *a == arn.0).map(|(_, w)| *w)
    }
}

/// Reads the forward action of every route: one DescribeRules call for all
/// rules and one DescribeListeners call for all default actions.
pub async fn read_forwards(client: &Client, routes: &[PlanRoute]) -> Result<Vec<Forward>, String> {
    let rule_arns: Vec<String> = routes.iter().filter_map(|r| r.rule.as_ref().map(|a| a.0.clone())).collect();
    let listener_arns: Vec<String> = {
        let mut v: Vec<String> = routes.iter().filter(|r| r.rule.is_none()).map(|r| r.listener.0.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let mut by_arn: BTreeMap<String, Option<Forward>> = BTreeMap::new();
    // A read of one rule (or listener) names it when access is denied.
    let only = |arns: &[String]| (arns.len() == 1).then(|| arns[0].clone());
    if !rule_arns.is_empty() {
        let one = only(&rule_arns);
        let out = client
            .describe_rules()
            .set_rule_arns(Some(rule_arns))
            .send()
            .await
            .map_err(|e| explain_on(&e, "elasticloadbalancing:DescribeRules", one.as_deref()))?;
        for rule in out.rules() {
            by_arn.insert(rule.rule_arn().unwrap_or_default().to_string(), Forward::from_actions(rule.actions()));
        }
    }
    if !listener_arns.is_empty() {
        let one = only(&listener_arns);
        let out = client
            .describe_listeners()
            .set_listener_arns(Some(listener_arns))
            .send()
            .await
            .map_err(|e| explain_on(&e, "elasticloadbalancing:DescribeListeners", one.as_deref()))?;
        for l in out.listeners() {
            by_arn.insert(l.listener_arn().unwrap_or_default().to_string(), Forward::from_actions(l.default_actions()));
        }
    }
    routes
        .iter()
        .map(|r| {
            let arn = r.rule.as_ref().unwrap_or(&r.listener);
            match by_arn.get(&arn.0) {
                Some(Some(f)) => Ok(f.clone()),
                Some(None) => Err(format!("route {}: {arn} has no forward action", r.name)),
                None => Err(format!("route {}: {arn} was not returned by the ALB", r.name)),
            }
        })
        .collect()
}

pub async fn read_targets(client: &Client, group: &Arn) -> Result<Vec<Target>, String> {
    let out = client.describe_target_health().target_group_arn(&group.0).send().await.map_err(|e| {
        format!(
            "target group {}: {}",
            group.target_group_name(),
            explain_on(&e, "elasticloadbalancing:DescribeTargetHealth", Some(&group.0))
        )
    })?;
    Ok(out
        .target_health_descriptions()
        .iter()
        .map(|d| {
            let t = d.target();
            let id = match (t.and_then(|t| t.id()), t.and_then(|t| t.port())) {
                (Some(id), Some(port)) => format!("{id}:{port}"),
                (Some(id), None) => id.to_string(),
                _ => "?".into(),
            };
            let health = d.target_health();
            let state = match health.and_then(|h| h.state()) {
                Some(TargetHealthStateEnum::Healthy) => TargetState::Healthy,
                Some(TargetHealthStateEnum::Initial) => TargetState::Initial,
                Some(TargetHealthStateEnum::Unhealthy | TargetHealthStateEnum::UnhealthyDraining) => {
                    TargetState::Unhealthy
                }
                Some(TargetHealthStateEnum::Unused) => TargetState::Unused,
                Some(TargetHealthStateEnum::Draining) => TargetState::Draining,
                _ => TargetState::Unavailable,
            };
            Target { id, state, reason: health.and_then(|h| h.reason()).map(|r| r.as_str().to_string()) }
        })
        .collect())
}

/// One full read: every route's weights and its two target groups' health.
/// The plan's ALB routes come first, so the `i`th is `RouteId(i)`.
pub async fn read(client: &Client, routes: &[PlanRoute]) -> Result<Vec<RouteRead>, String> {
    let forwards = read_forwards(client, routes).await?;
    let mut reads = Vec::with_capacity(routes.len());
    for (i, (route, forward)) in routes.iter().zip(forwards).enumerate() {
        let weight = |w: i32| Weight(w.clamp(0, 999) as u16);
        let weights = match (forward.weight_of(&route.old_target_group), forward.weight_of(&route.new_target_group)) {
            (Some(old), Some(new)) => Some(Weights { old: weight(old), new: weight(new) }),
            _ => None,
        };
        let others = forward
            .groups
            .iter()
            .filter(|(arn, _)| *arn != route.old_target_group.0 && *arn != route.new_target_group.0)
            .map(|(arn, w)| (Arn(arn.clone()).target_group_name().to_string(), weight(*w)))
            .collect();
        let targets = PerSide::new(
            read_targets(client, &route.old_target_group).await?,
            read_targets(client, &route.new_target_group).await?,
        );
        reads.push(RouteRead { route: RouteId::of(i), weights, others, targets, detail: ReadDetail::Alb });
    }
    Ok(reads)
}

/// ARNs one DescribeTags call takes at most (an ELBv2 limit).
pub const TAGS_PER_CALL: usize = 20;

/// Who else writes each route's rule (or listener, for a default action)
/// and its two target groups, from their ELBv2 tags: one DescribeTags call
/// per 20 ARNs. Only the owner each set of tags names leaves here.
pub async fn read_owners(client: &Client, routes: &[PlanRoute]) -> Result<Vec<RouteOwners>, String> {
    let mut owners: BTreeMap<String, Option<Owner>> = BTreeMap::new();
    for batch in tag_batches(routes) {
        let out = client
            .describe_tags()
            .set_resource_arns(Some(batch))
            .send()
            .await
            .map_err(|e| explain(&e, "elasticloadbalancing:DescribeTags"))?;
        for d in out.tag_descriptions() {
            let tags = d.tags().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
            owners.insert(d.resource_arn().unwrap_or_default().to_string(), owner_from_tags(tags));
        }
    }
    let of = |arn: &Arn| owners.get(&arn.0).cloned().flatten();
    Ok(routes
        .iter()
        .enumerate()
        .map(|(i, r)| RouteOwners {
            route: RouteId::of(i),
            rule: of(r.rule.as_ref().unwrap_or(&r.listener)),
            target_groups: PerSide::new(of(&r.old_target_group), of(&r.new_target_group)),
        })
        .collect())
}

/// The ARNs whose tags name a route's owners, each once, in batches of at
/// most [`TAGS_PER_CALL`].
pub fn tag_batches(routes: &[PlanRoute]) -> Vec<Vec<String>> {
    let mut arns: Vec<String> = routes
        .iter()
        .flat_map(|r| {
            [r.rule.as_ref().unwrap_or(&r.listener), &r.old_target_group, &r.new_target_group].map(|a| a.0.clone())
        })
        .collect();
    arns.sort();
    arns.dedup();
    arns.chunks(TAGS_PER_CALL).map(<[String]>::to_vec).collect()
}

/// Tags change rarely, and DescribeTags draws on the account's ELBv2
/// request budget that the Load Balancer Controller needs too: they are
/// read with the first poll and then every this many polls...
const TAGS_EVERY: u32 = 10;
/// ...or this many after a failed read of them.
const TAGS_RETRY: u32 = 2;

/// Polls until cancelled. A failed read is retried with a doubling pause
/// (up to [`super::MAX_PAUSE`]), and the source turns stale with the reason at once.
pub async fn run(
    client: Client,
    routes: Vec<PlanRoute>,
    every: Duration,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    let id = SourceId::Alb;
    let mut poller = super::Poller::new(id, every);
    // Polls until the owners are read again, and the last owners sent.
    let mut tags_in = 0;
    let mut sent_owners: Option<(Vec<RouteOwners>, Option<String>)> = None;
    if tx.send(Msg::Source { id, state: SourceState::Connecting }).await.is_err() {
        return;
    }
    loop {
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = read(&client, &routes) => r,
        };
        let read_ok = result.is_ok();
        let msgs = poller.outcome(result);
        for msg in msgs {
            if tx.send(msg).await.is_err() {
                return;
            }
        }
        // The owners, after the weights are on screen, at their own pace;
        // not while the reads fail (the same budget, the same trouble).
        if read_ok {
            if tags_in == 0 {
                let owners = tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = read_owners(&client, &routes) => r,
                };
                let read = match owners {
                    Ok(owners) => {
                        tags_in = TAGS_EVERY;
                        (owners, None)
                    }
                    Err(error) => {
                        tracing::warn!(%error, "ELBv2 tags not read");
                        tags_in = TAGS_RETRY;
                        (Vec::new(), Some(error))
                    }
                };
                // Sent when it changed: most reads find the same owners.
                if sent_owners.as_ref() != Some(&read) {
                    let msg = Msg::RouteOwners { at: Timestamp::now(), routes: read.0.clone(), error: read.1.clone() };
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                    sent_owners = Some(read);
                }
            }
            tags_in -= 1;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(poller.pause()) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_asked_for_at_most_20_arns_a_call_each_arn_once() {
        let arn = |kind: &str, name: &str| Arn(format!("arn:aws:elasticloadbalancing:us-east-1:1:{kind}/{name}"));
        // Eight routes: four rules and four default actions of two
        // listeners (one ARN each), every route with its own target groups.
        let routes: Vec<PlanRoute> = (0..8)
            .map(|i| PlanRoute {
                name: format!("r{i}"),
                listener: arn("listener", &format!("app/lb/1/{}", i % 2)),
                rule: (i < 4).then(|| arn("listener-rule", &format!("app/lb/1/0/{i}"))),
                old_target_group: arn("targetgroup", &format!("old-{i}/1")),
                new_target_group: arn("targetgroup", &format!("new-{i}/1")),
                workload: None,
                steps: vec![0, 100],
                ingress: None,
            })
            .collect();
        let batches = tag_batches(&routes);
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        // 4 rules + 2 listeners + 16 target groups.
        assert_eq!(sizes, vec![20, 2]);
        let mut all: Vec<&String> = batches.iter().flatten().collect();
        all.dedup();
        assert_eq!(all.len(), 22, "each ARN once");
    }
}
