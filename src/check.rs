//! `cutover check`: connects to every backend of a plan once and says what
//! it found and what is missing, before anyone relies on the console.

use aws_sdk_elasticloadbalancingv2::Client as ElbClient;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::Client;
use kube::api::{Api, ListParams};

use crate::domain::{Owner, Side, WorkloadKey, WorkloadKind};
use crate::plan::{ClusterTarget, Plan};
pub use crate::sources::check::{Finding, Report, Verdict};
use crate::sources::{aws, cloudwatch, kube as kube_source, lifecycle};

/// What makes the plan one that must not be used at all, found once
/// connected: both sides one cluster. Said as bad input (exit 2), as
/// `watch` and `run` refuse it, rather than as a failed check.
pub async fn refusals(plan: &Plan) -> Result<(), crate::plan::PlanError> {
    crate::sources::ensure_crypto_provider();
    crate::sources::preflight::one_cluster_by_config(plan)?;
    let mut clients = crate::domain::PerSide::new(None, None);
    for side in Side::BOTH {
        if let Some(target) = plan.cluster(side) {
            // A context that cannot be built is a check of its own below.
            *clients.get_mut(side) = kube_source::client_for(target).await.ok();
        }
    }
    crate::sources::preflight::one_cluster_by_uid(plan, &clients).await
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
    if check_aws(&mut r, plan).await {
        check_risks(&mut r, plan).await;
    } else {
        r.add(Verdict::Skip, "risks", "the lifecycle risks are not judged until the AWS failure above is fixed");
    }
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
            let mut why = kube_source::kube_error(&e);
            // The error does not say where it tried: the kubeconfig does.
            if let Some(server) = server_of(target) {
                why = why.replacen("cannot reach the API server", &format!("cannot reach the API server {server}"), 1);
            }
            return r.add(Verdict::Fail, area, format!("context {}: {why}", target.context));
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
    if side == Side::New {
        check_wheel(r, &area, &client, plan).await;
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

/// Who drives the plan: its Lease, read (never written here).
async fn check_wheel(r: &mut Report, area: &str, client: &Client, plan: &Plan) {
    use crate::domain::Wheel;
    let at = plan.lease();
    let api = Api::<k8s_openapi::api::coordination::v1::Lease>::namespaced(client.clone(), &at.namespace);
    let what = format!("the wheel (Lease {at})");
    match crate::sources::lease::get(&api, &at.name).await {
        Ok(lease) => {
            let wheel = crate::domain::wheel::observed(
                lease.as_ref().map(crate::sources::lease::record).as_ref(),
                jiff::Timestamp::now(),
            );
            let (verdict, said) = match wheel {
                Wheel::Held { holder, since, .. } => (
                    Verdict::Warn,
                    format!(
                        "{what}: {holder} drives this plan{}: `cutover run` watches until it takes the wheel",
                        since.map(|s| format!(" since {}", crate::domain::clock(s))).unwrap_or_default()
                    ),
                ),
                Wheel::Free { last: Some(last), expired: true } => {
                    (Verdict::Ok, format!("{what}: free: the lease of {last} expired"))
                }
                Wheel::Free { last: Some(last), .. } => (Verdict::Ok, format!("{what}: free, released by {last}")),
                _ if lease.is_none() => (Verdict::Ok, format!("{what}: nobody holds it; `cutover run` creates it")),
                _ => (Verdict::Ok, format!("{what}: nobody holds it")),
            };
            r.add(verdict, area, said);
        }
        Err(e) => r.add(
            Verdict::Fail,
            area,
            format!(
                "{what}: cannot be read ({e}): `cutover run` needs get, create and update on leases in namespace {}",
                at.namespace
            ),
        ),
    }
}

/// The API server of a context (host and port), from its kubeconfig.
fn server_of(target: &ClusterTarget) -> Option<String> {
    let kubeconfig = match &target.kubeconfig {
        Some(path) => kube::config::Kubeconfig::read_from(path).ok()?,
        None => kube::config::Kubeconfig::read().ok()?,
    };
    let context = kubeconfig.contexts.iter().find(|c| c.name == target.context)?.context.as_ref()?;
    let cluster = kubeconfig.clusters.iter().find(|c| c.name == context.cluster)?.cluster.as_ref()?;
    let url = cluster.server.as_deref()?;
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    Some(rest.split('/').next().unwrap_or(rest).to_string())
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

/// Checks the ALB rules, the target groups and the metrics; false when
/// every AWS call would fail the same way (no credentials), said once.
async fn check_aws(r: &mut Report, plan: &Plan) -> bool {
    let config = aws::sdk_config(&plan.aws).await;
    let sts = aws_sdk_sts::Client::new(&config);
    match sts.get_caller_identity().send().await {
        Ok(id) => r.add(Verdict::Ok, "aws", format!("identity {}", id.arn().unwrap_or("?"))),
        Err(e) => {
            let problem = aws::problem(&e, "sts:GetCallerIdentity", None);
            let text = crate::scrub::scrub(&problem.to_string()).into_owned();
            // Without credentials (or with an endpoint that every call
            // shares and that does not answer) every later call fails the
            // same way: said once, and the rest not tried.
            let shared_endpoint = plan.aws.endpoint_url.is_some()
                && matches!(problem, aws::Problem::Unreachable { .. } | aws::Problem::TimedOut { .. });
            if problem.affects_every_call() || shared_endpoint {
                r.add(Verdict::Fail, "aws", text);
                r.add(
                    Verdict::Skip,
                    "aws",
                    "the ALB rules, target groups and metrics are not checked until the failure above is fixed",
                );
                return false;
            }
            r.add(Verdict::Warn, "aws", format!("cannot tell the identity: {text}"));
        }
    }
    let elb = ElbClient::new(&config);
    let mut kube = crate::domain::PerSide::new(None, None);
    for side in Side::BOTH {
        if let Some(target) = plan.cluster(side) {
            *kube.get_mut(side) = kube_source::client_for(target).await.ok();
        }
    }
    let clients = crate::sources::traffic::Clients { elb: elb.clone(), route53: aws::route53_client(&config), kube };
    let mut targets = Vec::new();
    for reader in crate::sources::traffic::readers(plan, &clients) {
        reader.check(r).await;
        // Where the routes are measured, as far as known before a read:
        // the target groups of the ALB routes.
        targets.extend(reader.metric_targets());
    }
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    let queries = cloudwatch::queries(&targets);
    let until = crate::domain::Minute::containing(jiff::Timestamp::now());
    match cloudwatch::fetch(&cw, &queries, until.offset(-15), until).await {
        Ok(points) => {
            let mut measured: Vec<crate::domain::RouteId> = targets.iter().map(|t| t.route).collect();
            measured.dedup();
            for id in measured {
                let Some(route) = plan.route(id) else { continue };
                for side in Side::BOTH {
                    let n = points
                        .iter()
                        .filter(|p| matches!(&p.series, crate::app::SeriesId::Route { route: r, side: s, metric: crate::app::RouteMetric::Requests } if *r == id && *s == side))
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
        Err(e) => r.add_once(Verdict::Fail, "metrics", "", e.text),
    }
    true
}

/// The lifecycle risks: the settings that make a stopping pod or node cut
/// requests off, judged once from a gather of the facts; each risk a
/// warning with what it means and what to change, each fact that could
/// not be read a warning. Warnings only: they never fail the check.
async fn check_risks(r: &mut Report, plan: &Plan) {
    let config = aws::sdk_config(&plan.aws).await;
    let mut kube = crate::domain::PerSide::new(None, None);
    for side in Side::BOTH {
        if let Some(target) = plan.cluster(side) {
            *kube.get_mut(side) = kube_source::client_for(target).await.ok();
        }
    }
    let gathered = lifecycle::gather(plan, &lifecycle::Readers::new(&config, kube)).await;
    let risks = crate::domain::lifecycle::assess(&gathered.facts, &gathered.route_sides());
    r.risks(&risks, &gathered.facts.unread, &judged(&gathered));
}

/// What a gather judged, in a few words: the routes' sides, the target
/// groups, the nodes and groups holding the routes.
fn judged(g: &lifecycle::Gathered) -> String {
    let nodes: std::collections::BTreeSet<&str> =
        g.placement.iter().flat_map(|p| p.nodes.iter().map(|(n, _)| n.name.as_str())).collect();
    let handlers: Vec<String> = Side::BOTH
        .into_iter()
        .filter(|s| g.facts.clusters.get(*s).as_ref().is_some_and(|c| c.handlers.is_some()))
        .map(|s| s.to_string())
        .collect();
    format!(
        "{} route side(s), {} target group(s), {} node(s) holding route pods, {} Auto Scaling group(s), \
         termination handlers looked for on {}",
        g.placement.len(),
        g.facts.target_groups.len(),
        nodes.len(),
        g.facts.scaling_groups.len(),
        if handlers.is_empty() { "no side".to_string() } else { handlers.join(" and ") }
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use kube::core::Status;

    use crate::sources::kube::kube_error;

    fn status(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(Status::failure(message, reason).with_code(code)))
    }

    #[test]
    fn a_forbidden_call_says_who_may_not_do_what_where() {
        let text = kube_error(&status(
            403,
            "Forbidden",
            r#"pods is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "pods" in API group "" in the namespace "app""#,
        ));
        assert_eq!(text, r#"forbidden: user "system:serviceaccount:ci:deployer" may not list pods in namespace app"#);
        let text = kube_error(&status(
            403,
            "Forbidden",
            r#"nodes is forbidden: User "alice" cannot watch resource "nodes" in API group "" at the cluster scope"#,
        ));
        assert_eq!(text, r#"forbidden: user "alice" may not watch nodes cluster-wide"#);
        let text = kube_error(&status(
            403,
            "Forbidden",
            r#"deployments.apps "api" is forbidden: User "bob" cannot patch resource "deployments/scale" in API group "apps" in the namespace "app""#,
        ));
        assert_eq!(text, r#"forbidden: user "bob" may not patch deployments/scale.apps in namespace app"#);
    }

    #[test]
    fn refused_credentials_say_to_log_in_again() {
        let text = kube_error(&status(401, "Unauthorized", "Unauthorized"));
        assert!(text.starts_with("the credentials were refused (401 Unauthorized)") && text.ends_with("log in again"));
    }

    #[test]
    fn a_failed_exec_plugin_is_named_by_its_command_not_its_environment() {
        let cmd = r#"API_TOKEN="env-secret-456" KUBERNETES_EXEC_INFO="{\"kind\":\"ExecCredential\"}" "/usr/local/bin/aws" "eks" "get-token" "--cluster-name" "eks-new" "--token" "s3cr3t""#;
        let out = std::process::Output {
            status: std::process::ExitStatus::from_raw(256),
            stdout: Vec::new(),
            stderr:
                b"\nError when retrieving token from sso: Token has expired and refresh failed; --token s3cr3t\nmore\n"
                    .to_vec(),
        };
        let err = kube::Error::Auth(kube::client::AuthError::AuthExecRun { cmd: cmd.into(), out: Box::new(out) });
        let text = kube_error(&err);
        assert!(
            text.starts_with("cannot get credentials: auth exec command `aws eks get-token` failed (exit status: 1): Error when retrieving token from sso: Token has expired and refresh failed"),
            "{text}"
        );
        for leak in ["env-secret-456", "s3cr3t", "API_TOKEN", "KUBERNETES_EXEC_INFO", "/usr/local/bin", "more"] {
            assert!(!text.contains(leak), "`{leak}` in {text}");
        }
    }
}
