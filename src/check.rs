//! `cutover check`: connects to every backend of a plan once and says what
//! it found and what is missing, before anyone relies on the console.

use std::fmt;

use aws_sdk_elasticloadbalancingv2::Client as ElbClient;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::Client;
use kube::api::{Api, ListParams};

use crate::domain::{Owner, Side, WorkloadKey, WorkloadKind};
use crate::plan::{ClusterTarget, Plan};
use crate::sources::{alb, aws, cloudwatch, kube as kube_source};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Works, but worth a look (no traffic yet, an unhealthy target).
    Warn,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub verdict: Verdict,
    pub area: String,
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = match self.verdict {
            Verdict::Ok => "ok",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        };
        write!(f, "  {v:<5} {:<16} {}", self.area, self.detail)
    }
}

#[derive(Default)]
struct Report(Vec<Finding>);

impl Report {
    fn add(&mut self, verdict: Verdict, area: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Finding { verdict, area: area.into(), detail: detail.into() });
    }
}

/// Runs every check; the findings in the order they were made.
pub async fn run(plan: &Plan) -> Vec<Finding> {
    crate::sources::ensure_crypto_provider();
    let mut r = Report::default();
    r.add(
        Verdict::Ok,
        "plan",
        format!(
            "{}: {} route(s), {} singleton(s), namespaces {}",
            plan.name,
            plan.routes.len(),
            plan.singletons.len(),
            plan.namespaces.join(", ")
        ),
    );
    for side in Side::BOTH {
        match plan.cluster(side) {
            Some(t) => check_cluster(&mut r, plan, side, t).await,
            None => r.add(
                Verdict::Ok,
                format!("kube {side}"),
                "no [old] table: the old side is EC2 behind the ALB, target health only",
            ),
        }
    }
    check_aws(&mut r, plan).await;
    r.0
}

async fn check_cluster(r: &mut Report, plan: &Plan, side: Side, target: &ClusterTarget) {
    let area = format!("kube {side}");
    let client = match kube_source::client_for(target).await {
        Ok(c) => c,
        Err(e) => return r.add(Verdict::Fail, area, e),
    };
    match client.apiserver_version().await {
        Ok(v) => r.add(
            Verdict::Ok,
            &area,
            format!("context {}: API server reachable (v{}.{})", target.context, v.major, v.minor),
        ),
        Err(e) => {
            return r.add(Verdict::Fail, area, format!("context {}: {}", target.context, kube_source::kube_error(&e)));
        }
    }
    for ns in &plan.namespaces {
        match Api::<Namespace>::all(client.clone()).get(ns).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {
                r.add(Verdict::Fail, &area, format!("namespace {ns}: not found in context {}", target.context));
                continue;
            }
            Err(e) => {
                r.add(Verdict::Fail, &area, format!("namespace {ns}: {}", kube_source::kube_error(&e)));
                continue;
            }
        }
        match Api::<Pod>::namespaced(client.clone(), ns).list(&ListParams::default().limit(1)).await {
            Ok(_) => r.add(Verdict::Ok, &area, format!("namespace {ns}: pods can be listed")),
            Err(e) => r.add(
                Verdict::Fail,
                &area,
                format!("namespace {ns}: cannot list pods: {}", kube_source::kube_error(&e)),
            ),
        }
    }
    // The Events of Nodes (Karpenter's disruption events) are kept in
    // `default`; the console reads them if it may, and does without.
    let node_events = ListParams::default().fields("involvedObject.kind=Node").limit(1);
    match Api::<Event>::namespaced(client.clone(), "default").list(&node_events).await {
        Ok(_) => r.add(Verdict::Ok, &area, "namespace default: the Events of Nodes can be listed"),
        Err(e) => r.add(
            Verdict::Warn,
            &area,
            format!(
                "namespace default: cannot list the Events of Nodes, Karpenter's disruption events will not show: {}",
                kube_source::kube_error(&e)
            ),
        ),
    }
    for route in &plan.routes {
        if let Some(key) = &route.workload {
            exists(r, &area, &client, key, WorkloadKind::Deployment, &format!("route {}", route.name)).await;
        }
    }
    for s in &plan.singletons {
        let what = format!("singleton {}", s.name);
        let Some(owner) = exists(r, &area, &client, s.key(side), s.kind, &what).await else { continue };
        match owner {
            Some(o) if s.kind == WorkloadKind::Deployment && o.reverts_replicas() => r.add(
                Verdict::Warn,
                &area,
                format!("{what}: owner: {}; a handoff needs the typed override", o.replicas_advice(s.kind)),
            ),
            Some(o) => r.add(Verdict::Ok, &area, format!("{what}: owner: {}", o.replicas_advice(s.kind))),
            None => r.add(Verdict::Ok, &area, format!("{what}: owner: nobody known (no Argo CD, Flux or Helm marks)")),
        }
    }
}

/// Whether the object exists, said as a finding; if it does, its owner.
async fn exists(
    r: &mut Report,
    area: &str,
    client: &Client,
    key: &WorkloadKey,
    kind: WorkloadKind,
    what: &str,
) -> Option<Option<Owner>> {
    let result = match kind {
        WorkloadKind::CronJob => Api::<CronJob>::namespaced(client.clone(), &key.namespace)
            .get(&key.name)
            .await
            .map(|c| kube_source::owner_of(kind, &c.metadata)),
        _ => Api::<Deployment>::namespaced(client.clone(), &key.namespace)
            .get(&key.name)
            .await
            .map(|d| kube_source::owner_of(kind, &d.metadata)),
    };
    match result {
        Ok(owner) => {
            r.add(Verdict::Ok, area, format!("{what}: {kind:?} {key} found"));
            return Some(owner);
        }
        Err(kube::Error::Api(s)) if s.code == 404 => {
            r.add(Verdict::Fail, area, format!("{what}: {kind:?} {key} not found"))
        }
        Err(e) => r.add(Verdict::Fail, area, format!("{what}: {kind:?} {key}: {}", kube_source::kube_error(&e))),
    }
    None
}

async fn check_aws(r: &mut Report, plan: &Plan) {
    let config = aws::sdk_config(&plan.aws).await;
    let sts = aws_sdk_sts::Client::new(&config);
    match sts.get_caller_identity().send().await {
        Ok(id) => r.add(Verdict::Ok, "aws", format!("identity {}", id.arn().unwrap_or("?"))),
        Err(e) => r.add(
            Verdict::Warn,
            "aws",
            format!("cannot tell the identity: {}", aws::explain(&e, "sts:GetCallerIdentity")),
        ),
    }
    let elb = ElbClient::new(&config);
    for route in &plan.routes {
        let area = format!("alb {}", route.name);
        let forward = match alb::read_forwards(&elb, std::slice::from_ref(route)).await {
            Ok(mut f) => f.remove(0),
            Err(e) => {
                let what = if route.rule.is_some() { "rule" } else { "listener" };
                r.add(Verdict::Fail, &area, format!("{what}: {e}"));
                continue;
            }
        };
        let source = if route.rule.is_some() { "the rule's" } else { "the listener's default" };
        let mut missing = false;
        for (label, tg) in [("old", &route.old_target_group), ("new", &route.new_target_group)] {
            match forward.weight_of(tg) {
                Some(w) => r.add(
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
                    r.add(
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
            r.add(
                Verdict::Warn,
                &area,
                format!(
                    "the forward action has {} target groups; the console shows the others too",
                    forward.groups.len()
                ),
            );
        }
        for (label, tg) in [("old", &route.old_target_group), ("new", &route.new_target_group)] {
            match alb::read_targets(&elb, tg).await {
                Ok(targets) => {
                    let healthy = targets.iter().filter(|t| t.state == crate::domain::TargetState::Healthy).count();
                    let verdict = if healthy == 0 { Verdict::Warn } else { Verdict::Ok };
                    r.add(
                        verdict,
                        &area,
                        format!(
                            "{label} target group {}: {healthy}/{} targets healthy",
                            tg.target_group_name(),
                            targets.len()
                        ),
                    );
                }
                Err(e) => r.add(Verdict::Fail, &area, e),
            }
        }
        // Who else writes the rule: a controller that puts weights back.
        match alb::read_owners(&elb, std::slice::from_ref(route)).await {
            Ok(owners) => {
                let Some(o) = owners.first() else { continue };
                match &o.rule {
                    Some(rule) if rule.reverts_weights() => r.add(
                        Verdict::Warn,
                        &area,
                        format!("owner: {}; a weight step needs the typed override", rule.weights_advice()),
                    ),
                    _ => r.add(Verdict::Ok, &area, format!("owner: {}", o.describe())),
                }
            }
            Err(e) => r.add(Verdict::Warn, &area, format!("owner not known: {e}")),
        }
    }
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    let queries = cloudwatch::queries(&plan.routes);
    let until = crate::domain::Minute::containing(jiff::Timestamp::now());
    match cloudwatch::fetch(&cw, &queries, until.offset(-15), until).await {
        Ok(points) => {
            for route in &plan.routes {
                for side in Side::BOTH {
                    let n = points
                        .iter()
                        .filter(|p| matches!(&p.series, crate::app::SeriesId::Route { route: name, side: s, metric: crate::app::RouteMetric::Requests } if *name == route.name && *s == side))
                        .count();
                    let verdict = if n == 0 { Verdict::Warn } else { Verdict::Ok };
                    let note =
                        if n == 0 { " (no traffic to this side yet, or the dimensions do not match)" } else { "" };
                    r.add(
                        verdict,
                        format!("metrics {}", route.name),
                        format!("{side}: {n} RequestCount datapoints in the last 15 minutes{note}"),
                    );
                }
            }
        }
        Err(e) => r.add(Verdict::Fail, "metrics", e),
    }
}
