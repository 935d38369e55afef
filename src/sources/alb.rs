//! The ALB source: each route's forward weights and both target groups'
//! health, read every few seconds. Only Describe calls exist here.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, TargetHealthStateEnum};

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::domain::{
    MetricTarget, Owner, PerSide, ReadDetail, RouteKind, RouteOwners, RouteProblem, RouteRead, Target, TargetState,
    Weight, Weights, owner_from_tags,
};
use crate::plan::{AlbRoute, Arn, Routed};

use super::aws::{failure, failure_on};
use super::check::{Report, Verdict};
use super::health::Failure;
use super::traffic::{Reading, TrafficReader};
use crate::plan::PlanError;

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

/// Why one route's forward action could not be read while the call
/// answered: the route's own trouble, not the source's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteFault {
    /// The rule (or the listener, for a default action) does not exist:
    /// the ALB answered `RuleNotFound` or `ListenerNotFound` for it.
    Gone { arn: Arn, code: String },
    /// It exists but forwards nowhere.
    NoForward { arn: Arn },
    /// The ALB answered without it.
    NotReturned { arn: Arn },
    /// One of the route's target groups does not exist.
    TargetGroupGone { group: Arn, code: String },
}

impl RouteFault {
    /// One line: what is wrong with the route, without its name.
    pub fn text(&self) -> String {
        match self {
            RouteFault::Gone { arn, code } => {
                let what = if arn.0.contains(":listener-rule/") { "rule" } else { "listener" };
                format!("{what} {} does not exist ({code}): deleted, or the plan's ARN is wrong", arn.short_id())
            }
            RouteFault::NoForward { arn } => format!("{arn} has no forward action"),
            RouteFault::NotReturned { arn } => format!("{arn} was not returned by the ALB"),
            RouteFault::TargetGroupGone { group, code } => {
                format!("target group {} does not exist ({code})", group.target_group_name())
            }
        }
    }
}

/// The error code of a service error, if the call got that far.
fn code_of<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    err.as_service_error().and_then(|e| e.code())
}

/// Error codes that say an object of the plan is not there.
const NOT_FOUND: [&str; 3] = ["RuleNotFound", "ListenerNotFound", "TargetGroupNotFound"];

/// Reads the forward action of every route: one DescribeRules call for all
/// rules and one DescribeListeners call for all default actions. One rule
/// or listener that does not exist fails a whole call: then each is asked
/// alone, so that the missing one is that route's fault and the others are
/// read. A failure of the call itself (throttled, unreachable, denied) is
/// the outer error: the source's.
pub async fn read_forward_each(
    client: &Client,
    routes: &[Routed<AlbRoute>],
) -> Result<Vec<Result<Forward, RouteFault>>, Failure> {
    let rule_arns: Vec<String> = routes.iter().filter_map(|r| r.rule.as_ref().map(|a| a.0.clone())).collect();
    let listener_arns: Vec<String> = {
        let mut v: Vec<String> = routes.iter().filter(|r| r.rule.is_none()).map(|r| r.listener.0.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let mut by_arn: BTreeMap<String, Result<Option<Forward>, String>> = BTreeMap::new();
    // A read of one rule (or listener) names it when access is denied.
    let only = |arns: &[String]| (arns.len() == 1).then(|| arns[0].clone());
    let rules = |arns: Vec<String>| async move {
        let one = only(&arns);
        client.describe_rules().set_rule_arns(Some(arns)).send().await.map_err(|e| {
            let code = code_of(&e).filter(|c| NOT_FOUND.contains(c)).map(str::to_string);
            (code, failure_on(&e, "elasticloadbalancing:DescribeRules", one.as_deref()))
        })
    };
    if !rule_arns.is_empty() {
        match rules(rule_arns.clone()).await {
            Ok(out) => {
                for rule in out.rules() {
                    let arn = rule.rule_arn().unwrap_or_default().to_string();
                    by_arn.insert(arn, Ok(Forward::from_actions(rule.actions())));
                }
            }
            Err((Some(_), _)) => {
                for arn in rule_arns {
                    match rules(vec![arn.clone()]).await {
                        Ok(out) => {
                            for rule in out.rules() {
                                let arn = rule.rule_arn().unwrap_or_default().to_string();
                                by_arn.insert(arn, Ok(Forward::from_actions(rule.actions())));
                            }
                        }
                        Err((Some(code), _)) => {
                            by_arn.insert(arn, Err(code));
                        }
                        Err((None, e)) => return Err(e),
                    }
                }
            }
            Err((None, e)) => return Err(e),
        }
    }
    let listeners = |arns: Vec<String>| async move {
        let one = only(&arns);
        client.describe_listeners().set_listener_arns(Some(arns)).send().await.map_err(|e| {
            let code = code_of(&e).filter(|c| NOT_FOUND.contains(c)).map(str::to_string);
            (code, failure_on(&e, "elasticloadbalancing:DescribeListeners", one.as_deref()))
        })
    };
    if !listener_arns.is_empty() {
        let batches = match listeners(listener_arns.clone()).await {
            Ok(out) => vec![(None, Ok(out))],
            Err((Some(_), _)) => {
                let mut each = Vec::new();
                for arn in listener_arns {
                    each.push((Some(arn.clone()), listeners(vec![arn]).await));
                }
                each
            }
            Err((None, e)) => return Err(e),
        };
        for (arn, answer) in batches {
            match answer {
                Ok(out) => {
                    for l in out.listeners() {
                        let arn = l.listener_arn().unwrap_or_default().to_string();
                        by_arn.insert(arn, Ok(Forward::from_actions(l.default_actions())));
                    }
                }
                Err((Some(code), _)) => {
                    by_arn.insert(arn.unwrap_or_default(), Err(code));
                }
                Err((None, e)) => return Err(e),
            }
        }
    }
    Ok(routes
        .iter()
        .map(|r| {
            let arn = r.weights_arn();
            match by_arn.get(&arn.0) {
                Some(Ok(Some(f))) => Ok(f.clone()),
                Some(Ok(None)) => Err(RouteFault::NoForward { arn: arn.clone() }),
                Some(Err(code)) => Err(RouteFault::Gone { arn: arn.clone(), code: code.clone() }),
                None => Err(RouteFault::NotReturned { arn: arn.clone() }),
            }
        })
        .collect())
}

/// Every route's forward action, or the first route's fault as the error:
/// for a caller that needs them all (the executor's read-back).
pub async fn read_forwards(client: &Client, routes: &[Routed<AlbRoute>]) -> Result<Vec<Forward>, String> {
    read_forward_each(client, routes)
        .await
        .map_err(|f| f.text)?
        .into_iter()
        .zip(routes)
        .map(|(f, r)| f.map_err(|fault| format!("route {}: {}", r.name(), fault.text())))
        .collect()
}

/// A target group's targets; a group that does not exist is an error too.
pub async fn read_targets(client: &Client, group: &Arn) -> Result<Vec<Target>, String> {
    read_targets_of(client, group).await.map_err(|f| f.text)?.map_err(|fault| fault.text())
}

/// A target group's targets. `Ok(Err(..))`: the group does not exist,
/// the route's fault; the outer error is the call's.
pub async fn read_targets_of(client: &Client, group: &Arn) -> Result<Result<Vec<Target>, RouteFault>, Failure> {
    let out = match client.describe_target_health().target_group_arn(&group.0).send().await {
        Ok(out) => out,
        Err(e) => {
            if let Some(code) = code_of(&e).filter(|c| NOT_FOUND.contains(c)) {
                return Ok(Err(RouteFault::TargetGroupGone { group: group.clone(), code: code.to_string() }));
            }
            let failure = failure_on(&e, "elasticloadbalancing:DescribeTargetHealth", Some(&group.0));
            return Err(Failure::new(
                format!("target group {}: {}", group.target_group_name(), failure.text),
                failure.fault,
            ));
        }
    };
    Ok(Ok(out
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
        .collect()))
}

/// One full read: the weights and both target groups' health of every
/// route that could be read, and the problem of each that could not.
pub async fn read(
    client: &Client,
    routes: &[Routed<AlbRoute>],
) -> Result<(Vec<RouteRead>, Vec<RouteProblem>), Failure> {
    let forwards = read_forward_each(client, routes).await?;
    let mut reads = Vec::with_capacity(routes.len());
    let mut problems = Vec::new();
    for (route, forward) in routes.iter().zip(forwards) {
        let id = route.id;
        let problem = |fault: RouteFault| RouteProblem { route: id, error: fault.text() };
        let forward = match forward {
            Ok(f) => f,
            Err(fault) => {
                problems.push(problem(fault));
                continue;
            }
        };
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
        let (old, new) = match (
            read_targets_of(client, &route.old_target_group).await?,
            read_targets_of(client, &route.new_target_group).await?,
        ) {
            (Ok(old), Ok(new)) => (old, new),
            (Err(fault), _) | (_, Err(fault)) => {
                problems.push(problem(fault));
                continue;
            }
        };
        reads.push(RouteRead { route: id, weights, others, targets: PerSide::new(old, new), detail: ReadDetail::Alb });
    }
    Ok((reads, problems))
}

/// ARNs one DescribeTags call takes at most (an ELBv2 limit).
pub const TAGS_PER_CALL: usize = 20;

/// Who else writes each route's rule (or listener, for a default action)
/// and its two target groups, from their ELBv2 tags: one DescribeTags call
/// per 20 ARNs. Only the owner each set of tags names leaves here.
pub async fn read_owners(client: &Client, routes: &[Routed<AlbRoute>]) -> Result<Vec<RouteOwners>, String> {
    let mut owners: BTreeMap<String, Option<Owner>> = BTreeMap::new();
    for batch in tag_batches(routes) {
        let out = client
            .describe_tags()
            .set_resource_arns(Some(batch))
            .send()
            .await
            .map_err(|e| failure(&e, "elasticloadbalancing:DescribeTags").text)?;
        for d in out.tag_descriptions() {
            let tags = d.tags().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
            owners.insert(d.resource_arn().unwrap_or_default().to_string(), owner_from_tags(tags));
        }
    }
    let of = |arn: &Arn| owners.get(&arn.0).cloned().flatten();
    Ok(routes
        .iter()
        .map(|r| RouteOwners {
            route: r.id,
            rule: of(r.weights_arn()),
            target_groups: PerSide::new(of(&r.old_target_group), of(&r.new_target_group)),
        })
        .collect())
}

/// The ARNs whose tags name a route's owners, each once, in batches of at
/// most [`TAGS_PER_CALL`].
pub fn tag_batches(routes: &[Routed<AlbRoute>]) -> Vec<Vec<String>> {
    let mut arns: Vec<String> = routes
        .iter()
        .flat_map(|r| [r.weights_arn(), &r.old_target_group, &r.new_target_group].map(|a| a.0.clone()))
        .collect();
    arns.sort();
    arns.dedup();
    arns.chunks(TAGS_PER_CALL).map(<[String]>::to_vec).collect()
}

/// How long the start waits for the routes' rules to be read before it
/// lets the source find out: an ALB that does not answer is no refusal.
const RULES_TIMEOUT: Duration = Duration::from_secs(15);

/// The reader of every ALB route of the plan.
pub struct AlbReader {
    elb: Client,
    routes: Vec<Routed<AlbRoute>>,
}

impl AlbReader {
    /// None for a plan without ALB routes.
    pub fn new(clients: &super::traffic::Clients, routes: Vec<Routed<AlbRoute>>) -> Option<AlbReader> {
        (!routes.is_empty()).then(|| AlbReader { elb: clients.elb.clone(), routes })
    }
}

impl TrafficReader for AlbReader {
    const KIND: RouteKind = RouteKind::Alb;
    /// Tags change rarely, and DescribeTags draws on the account's ELBv2
    /// request budget that the Load Balancer Controller needs too: they
    /// are read with the first poll and then every this many polls, or
    /// two after a failed read of them.
    const OWNERS_EVERY: u32 = 10;
    const OWNERS_RETRY: u32 = 2;

    /// Every route's rule (or listener) exists. One that the ALB says is
    /// not there is refused at the route's line; an ALB that does not
    /// answer is the source's trouble, not the plan's.
    async fn prepare(&mut self) -> Result<(), String> {
        let read = match tokio::time::timeout(RULES_TIMEOUT, read_forward_each(&self.elb, &self.routes)).await {
            Ok(Ok(read)) => read,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the routes' rules not read at start");
                return Ok(());
            }
            Err(_) => return Ok(()),
        };
        for (route, forward) in self.routes.iter().zip(read) {
            if let Err(fault @ RouteFault::Gone { .. }) = forward {
                return Err(missing(route, &fault, true).to_string());
            }
        }
        Ok(())
    }

    async fn read(&mut self, _poll: u32) -> Result<Reading, Failure> {
        let (reads, problems) = read(&self.elb, &self.routes).await?;
        Ok(Reading { reads, problems: Some(problems) })
    }

    async fn owners(&mut self) -> Result<Vec<RouteOwners>, String> {
        read_owners(&self.elb, &self.routes).await
    }

    /// Each side's target group on the one load balancer.
    fn metric_targets(&self) -> Vec<MetricTarget> {
        self.routes
            .iter()
            .flat_map(|r| {
                let groups = PerSide::new(
                    r.old_target_group.target_group_dimension(),
                    r.new_target_group.target_group_dimension(),
                );
                MetricTarget::on_target_groups(r.id, &r.listener.load_balancer_dimension(), groups)
            })
            .collect()
    }

    async fn check(&self, report: &mut Report) {
        for route in &self.routes {
            let area = format!("alb {}", route.name());
            let forward = match read_forward_each(&self.elb, std::slice::from_ref(route)).await {
                Ok(mut f) => match f.remove(0) {
                    Ok(forward) => forward,
                    // Not there: the plan's line to fix, as `run` refuses it.
                    Err(fault @ RouteFault::Gone { .. }) => {
                        let refusal = missing(route, &fault, false);
                        report.add(Verdict::Fail, &area, refusal.to_string().replace("\n  hint: ", ": "));
                        continue;
                    }
                    Err(fault) => {
                        report.add(Verdict::Fail, &area, format!("route {}: {}", route.name(), fault.text()));
                        continue;
                    }
                },
                Err(e) => {
                    let what = if route.rule.is_some() { "rule" } else { "listener" };
                    report.add_once(Verdict::Fail, &area, what, e.text);
                    continue;
                }
            };
            let source = if route.rule.is_some() { "the rule's" } else { "the listener's default" };
            let mut missing = false;
            for (label, tg) in [("old", &route.old_target_group), ("new", &route.new_target_group)] {
                match forward.weight_of(tg) {
                    Some(w) => report.add(
                        Verdict::Ok,
                        &area,
                        format!("{label} target group {} in {source} forward, weight {w}", tg.target_group_name()),
                    ),
                    None => {
                        missing = true;
                        let has: Vec<String> = forward
                            .groups
                            .iter()
                            .map(|(a, w)| format!("{}={w}", crate::plan::Arn(a.clone()).target_group_name()))
                            .collect();
                        report.add(
                            Verdict::Fail,
                            &area,
                            format!(
                                "{label} target group {} is not in {source} forward action (it forwards to {})",
                                tg.target_group_name(),
                                has.join(", ")
                            ),
                        );
                    }
                }
            }
            if !missing && forward.groups.len() > 2 {
                report.add(
                    Verdict::Warn,
                    &area,
                    format!(
                        "the forward action has {} target groups; the console shows the others too",
                        forward.groups.len()
                    ),
                );
            }
            for (label, tg) in [("old", &route.old_target_group), ("new", &route.new_target_group)] {
                match read_targets(&self.elb, tg).await {
                    Ok(targets) => {
                        let healthy = targets.iter().filter(|t| t.state == crate::domain::TargetState::Healthy).count();
                        let verdict = if healthy == 0 { Verdict::Warn } else { Verdict::Ok };
                        report.add(
                            verdict,
                            &area,
                            format!(
                                "{label} target group {}: {healthy}/{} targets healthy",
                                tg.target_group_name(),
                                targets.len()
                            ),
                        );
                    }
                    Err(e) => report.add_once(Verdict::Fail, &area, "", e),
                }
            }
            // Who else writes the rule: a controller that puts weights back.
            match read_owners(&self.elb, std::slice::from_ref(route)).await {
                Ok(owners) => {
                    let Some(o) = owners.first() else { continue };
                    match &o.rule {
                        Some(rule) if rule.reverts_weights() => report.add(
                            Verdict::Warn,
                            &area,
                            format!("owner: {}; a weight step needs the typed override", rule.weights_advice()),
                        ),
                        _ => report.add(Verdict::Ok, &area, format!("owner: {}", o.describe())),
                    }
                }
                Err(e) => report.add_once(Verdict::Warn, &area, "owner not known", e),
            }
        }
    }
}

/// A route's rule or listener the ALB does not have, said at its line.
/// `whole`: the ARNs in full (the start's refusal); a check's one line
/// gives their resource part.
pub fn missing(route: &Routed<AlbRoute>, fault: &RouteFault, whole: bool) -> PlanError {
    let field = route.weights_field();
    let arn = route.weights_arn();
    let code = match fault {
        RouteFault::Gone { code, .. } => code.as_str(),
        _ => "",
    };
    let (problem, hint) = match (&route.rule, whole) {
        (Some(_), true) => (
            format!("route `{}`: {field} {arn} does not exist in this account and region ({code})", route.name()),
            format!(
                "write the ARN of one of the listener's rules (`aws elbv2 describe-rules --listener-arn {}` lists them), or remove the route",
                route.listener
            ),
        ),
        (None, true) => (
            format!("route `{}`: {field} {arn} does not exist in this account and region ({code})", route.name()),
            "write the ARN of an existing listener (`aws elbv2 describe-listeners` lists them), or remove the route"
                .into(),
        ),
        // A check's one line: the ARN's last part, the hint short.
        (Some(_), false) => (
            format!("{field} …/{} does not exist ({code})", arn.short_id()),
            "write one of the listener's rules (aws elbv2 describe-rules)".into(),
        ),
        (None, false) => (
            format!("{field} …/{} does not exist ({code})", arn.short_id()),
            "write an existing listener (aws elbv2 describe-listeners)".into(),
        ),
    };
    PlanError { file: route.file.clone(), line: route.weights_line(), column: 0, problem, hint }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_asked_for_at_most_20_arns_a_call_each_arn_once() {
        let arn = |kind: &str, name: &str| Arn(format!("arn:aws:elasticloadbalancing:us-east-1:1:{kind}/{name}"));
        // Eight routes: four rules and four default actions of two
        // listeners (one ARN each), every route with its own target groups.
        let routes: Vec<Routed<AlbRoute>> = (0..8)
            .map(|i| {
                let target = AlbRoute {
                    listener: arn("listener", &format!("app/lb/1/{}", i % 2)),
                    rule: (i < 4).then(|| arn("listener-rule", &format!("app/lb/1/0/{i}"))),
                    old_target_group: arn("targetgroup", &format!("old-{i}/1")),
                    new_target_group: arn("targetgroup", &format!("new-{i}/1")),
                    ingress: None,
                    lines: Default::default(),
                };
                Routed::new(crate::domain::RouteId::of(i), &format!("r{i}"), target)
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
