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
use crate::domain::{RouteRead, Target, TargetState, Weight};
use crate::plan::{Arn, PlanRoute};

use super::aws::explain;

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
    if !rule_arns.is_empty() {
        let out = client
            .describe_rules()
            .set_rule_arns(Some(rule_arns))
            .send()
            .await
            .map_err(|e| explain(&e, "elasticloadbalancing:DescribeRules"))?;
        for rule in out.rules() {
            by_arn.insert(rule.rule_arn().unwrap_or_default().to_string(), Forward::from_actions(rule.actions()));
        }
    }
    if !listener_arns.is_empty() {
        let out = client
            .describe_listeners()
            .set_listener_arns(Some(listener_arns))
            .send()
            .await
            .map_err(|e| explain(&e, "elasticloadbalancing:DescribeListeners"))?;
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
            explain(&e, "elasticloadbalancing:DescribeTargetHealth")
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
pub async fn read(client: &Client, routes: &[PlanRoute]) -> Result<Vec<RouteRead>, String> {
    let forwards = read_forwards(client, routes).await?;
    let mut reads = Vec::with_capacity(routes.len());
    for (route, forward) in routes.iter().zip(forwards) {
        reads.push(RouteRead {
            route: route.name.clone(),
            forward: forward
                .groups
                .iter()
                .map(|(arn, w)| (Arn(arn.clone()).target_group_name().to_string(), Weight((*w).clamp(0, 999) as u16)))
                .collect(),
            old_targets: read_targets(client, &route.old_target_group).await?,
            new_targets: read_targets(client, &route.new_target_group).await?,
        });
    }
    Ok(reads)
}

/// The longest pause between failed reads: long enough not to hammer a
/// throttling API, short enough that the weights are back soon after it is.
const MAX_PAUSE: Duration = Duration::from_secs(20);

/// Polls until cancelled. A failed read is retried with a doubling pause
/// (up to `MAX_PAUSE`), and the source turns stale with the reason at once.
pub async fn run(
    client: Client,
    routes: Vec<PlanRoute>,
    every: Duration,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    let id = SourceId::Alb;
    let mut last_ok: Option<Timestamp> = None;
    let mut failing_since: Option<Timestamp> = None;
    let mut pause = every;
    if tx.send(Msg::Source { id, state: SourceState::Connecting }).await.is_err() {
        return;
    }
    loop {
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = read(&client, &routes) => r,
        };
        let now = Timestamp::now();
        let msgs = match result {
            Ok(reads) => {
                last_ok = Some(now);
                failing_since = None;
                pause = every;
                vec![Msg::Alb { at: now, routes: reads }, Msg::Source { id, state: SourceState::Live { last_ok: now } }]
            }
            Err(error) => {
                tracing::warn!(%error, "ALB read failed");
                let since = *failing_since.get_or_insert(now);
                pause = (pause * 2).min(MAX_PAUSE);
                vec![Msg::Source { id, state: SourceState::Stale { since, error, last_ok } }]
            }
        };
        for msg in msgs {
            if tx.send(msg).await.is_err() {
                return;
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}
