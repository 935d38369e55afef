//! The plan parser against good plans and every kind of mistake.

use super::*;
use crate::app::Mode;
use crate::domain::WorkloadKey;

const LISTENER: &str =
    "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener/app/photo-api/50dc6c495c0c9188/f2f7dc8efc522ab2";
const RULE: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener-rule/app/photo-api/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";
const TG_OLD: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/api-old/73e2d6bc24d8a067";
const TG_NEW: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/api-new/943f017f100becff";

fn good() -> String {
    format!(
        r#"name = "photo-api-2026"
namespaces = ["app", "batch"]

[old]
context = "eks-2022"
kubeconfig = "~/.kube/config"

[new]
context = "eks-2026"

[aws]
region = "ap-northeast-1"
endpoint_url = "http://127.0.0.1:5000"

[[route]]
name = "api"
listener_arn = "{LISTENER}"
rule_arn = "{RULE}"
old_target_group = "{TG_OLD}"
new_target_group = "{TG_NEW}"
workload = "app/api"

[[singleton]]
name = "scheduler"
kind = "Deployment"
namespace = "app"
"#
    )
}

fn parse(text: &str) -> Result<Plan, PlanError> {
    Plan::parse("cutover.toml", text, Path::new("cutover.toml"))
}

#[test]
fn a_good_plan_parses_with_defaults() {
    let plan = parse(&good()).unwrap();
    assert_eq!(plan.routes[0].steps, DEFAULT_STEPS);
    assert_eq!(plan.stale_after, Duration::from_secs(30));
    assert_eq!(plan.max_step, 25);
    assert_eq!(plan.spike_percent, 1.0);
    assert_eq!(plan.singletons[0].old, WorkloadKey::new("app", "scheduler"));
    assert_eq!(plan.singletons[0].replicas, 1);
    assert!(plan.old.as_ref().unwrap().kubeconfig.as_ref().unwrap().ends_with(".kube/config"));
    let r = plan.routes[0].alb().unwrap();
    assert_eq!(r.listener.load_balancer_dimension(), "app/photo-api/50dc6c495c0c9188");
    assert_eq!(r.old_target_group.target_group_dimension(), "targetgroup/api-old/73e2d6bc24d8a067");
    assert_eq!(r.old_target_group.target_group_name(), "api-old");
    let config = crate::app::AppConfig::of_plan(&plan, Mode::Watch);
    assert_eq!(config.routes[0].weighted(crate::domain::Side::Old), "api-old");
    assert_eq!(config.clusters.old.name, "eks-2022");
}

#[test]
fn the_wheel_is_a_lease_named_after_the_plan_in_a_namespace_of_the_new_cluster() {
    let plan = parse(&good()).unwrap();
    assert_eq!(plan.lease().to_string(), "app/cutover-photo-api-2026", "the first namespace by default");
    let text = good().replace(
        "namespaces = [\"app\", \"batch\"]",
        "namespaces = [\"app\", \"batch\"]\nlease_namespace = \"cutover\"",
    );
    assert_eq!(parse(&text).unwrap().lease().to_string(), "cutover/cutover-photo-api-2026");
    let text = good().replace(
        "namespaces = [\"app\", \"batch\"]",
        "namespaces = [\"app\", \"batch\"]\nlease_namespace = \"Ops_Team\"",
    );
    let err = parse(&text).unwrap_err();
    assert_eq!((err.line, err.column), (3, 19), "{err}");
    assert!(err.problem.contains("`lease_namespace`: `Ops_Team` is not a namespace name"), "{err}");
    assert!(err.hint.contains("keeps the plan's Lease"), "{err}");
}

#[test]
fn the_old_side_may_be_ec2_without_kubernetes() {
    let text = good().replace("[old]\ncontext = \"eks-2022\"\nkubeconfig = \"~/.kube/config\"\n", "");
    let plan = parse(&text).unwrap();
    assert!(plan.old.is_none());
    assert_eq!(crate::app::AppConfig::of_plan(&plan, Mode::Watch).clusters.old.name, "EC2 (no Kubernetes)");
}

#[test]
fn mistakes_are_located_and_explained() {
    let err = parse(&good().replace("namespaces =", "namespacez =")).unwrap_err();
    assert_eq!((err.line, err.column), (2, 1), "{err}");
    assert!(err.problem.contains("unknown field `namespacez`"), "{err}");

    let err = parse(&good().replace("region = \"ap-northeast-1\"", "region = ap-northeast-1")).unwrap_err();
    assert_eq!(err.line, 12, "{err}");
    assert!(err.to_string().starts_with("cutover.toml:12:"), "{err}");

    let err = parse(&good().replace(RULE, &RULE.replace("f2f7dc8efc522ab2/", "0000000000000000/"))).unwrap_err();
    assert!(err.problem.contains("not a rule of `listener_arn`"), "{err}");
    assert_eq!(err.line, 18);

    let err = parse(&good().replace(TG_NEW, "api-new")).unwrap_err();
    assert!(err.problem.contains("`new_target_group` is not an ALB targetgroup ARN"), "{err}");
    assert!(err.hint.contains("targetgroup/NAME/ID"), "{err}");

    let err = parse(&good().replace("workload = \"app/api\"", "workload = \"api\"")).unwrap_err();
    assert!(err.problem.contains("not namespace/name"), "{err}");

    let err = parse(&good().replace("kind = \"Deployment\"", "kind = \"DaemonSet\"")).unwrap_err();
    assert!(err.problem.contains("DaemonSet"), "{err}");

    let err = parse(&good().replace("workload = \"app/api\"", "workload = \"app/api\"\nsteps = [0, 50, 25, 100]"))
        .unwrap_err();
    assert!(err.problem.contains("rising"), "{err}");

    let err = parse(&good().replace("[new]\ncontext = \"eks-2026\"\n", "")).unwrap_err();
    assert!(err.problem.contains("missing table `[new]`"), "{err}");

    let err = parse(&good().replace("namespace = \"app\"", "namespace = \"jobs\"")).unwrap_err();
    assert!(err.problem.contains("not in `namespaces`"), "{err}");

    let spike = |v: &str| good().replacen("namespaces =", &format!("spike_percent = {v}\nnamespaces ="), 1);
    assert_eq!(crate::app::AppConfig::of_plan(&parse(&spike("2.5")).unwrap(), Mode::Run).guards.spike_percent, 2.5);
    let err = parse(&spike("0")).unwrap_err();
    assert_eq!((err.line, err.column), (2, 17), "{err}");
    assert!(err.problem.contains("`spike_percent` must be above 0"), "{err}");
}

const LB_NEW: &str =
    "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:loadbalancer/app/web-2026/6cbbd73bd61b9152";

/// The ALB plan with a route53 route after the ALB route (lines 23 on).
fn with_route53(extra: &str) -> String {
    good().replace(
        "\n[[singleton]]",
        &format!(
            r#"
[[route]]
name = "www"
kind = "route53"
hosted_zone_id = "/hostedzone/Z0123456789ABCDEFGHIJ"
record_name = "WWW.example.com"
old_set_identifier = "eks-2022"
new_set_identifier = "eks-2026"
{extra}
[[singleton]]"#
        ),
    )
}

#[test]
fn a_route53_route_parses_beside_the_alb_route() {
    let plan = parse(&with_route53(&format!("new_load_balancer = \"{LB_NEW}\"\nrecord_type = \"AAAA\"\n"))).unwrap();
    assert_eq!(plan.routes[0].kind(), crate::domain::RouteKind::Alb, "the ALB route stays an ALB route");
    let route = &plan.routes[1];
    let r = route.route53().unwrap();
    assert_eq!(r.hosted_zone_id, "Z0123456789ABCDEFGHIJ");
    assert_eq!(r.record_name, "www.example.com.");
    assert_eq!(r.record_type, RecordType::Aaaa);
    assert_eq!((r.old_set_identifier.as_str(), r.new_set_identifier.as_str()), ("eks-2022", "eks-2026"));
    assert_eq!(r.old_load_balancer, None);
    assert_eq!(r.new_load_balancer, Some(Arn(LB_NEW.into())));
    assert_eq!(route.steps, DEFAULT_STEPS);
    assert_eq!((route.line, r.lines.old_set_identifier), (24, 28));
    assert_eq!(route.at(r.lines.record_name), "cutover.toml:27");
    assert_eq!(parse(&with_route53("")).unwrap().routes[1].route53().unwrap().record_type, RecordType::A);
    // The console's routes: the ALB route first, then this one.
    let config = crate::app::AppConfig::of_plan(&plan, Mode::Watch);
    assert_eq!(config.routes.len(), 2);
    assert_eq!(plan.routes_of(PlanRoute::route53).next().map(|r| r.id), Some(RouteId(1)));
    assert_eq!(config.routes[1].kind(), crate::domain::RouteKind::Route53);
    assert_eq!(config.routes[1].weighted(crate::domain::Side::New), "eks-2026");
}

#[test]
fn route_kind_mistakes_name_the_field_and_the_line() {
    let err = parse(&with_route53("").replace("kind = \"route53\"", "kind = \"dns\"")).unwrap_err();
    assert_eq!(err.line, 25, "{err}");
    assert!(err.problem.contains("route kind `dns` is not known"), "{err}");
    assert!(err.hint.contains("kind = \"route53\""), "{err}");

    let err = parse(&with_route53(&format!("old_target_group = \"{TG_OLD}\"\n"))).unwrap_err();
    assert_eq!(err.line, 30, "{err}");
    assert!(err.problem.contains("`old_target_group` is a field of kind = \"alb\" routes"), "{err}");

    let err = parse(&good().replace("workload = \"app/api\"", "workload = \"app/api\"\nold_set_identifier = \"x\""))
        .unwrap_err();
    assert_eq!(err.line, 22, "{err}");
    assert!(err.problem.contains("`old_set_identifier` is a field of kind = \"route53\" routes"), "{err}");
    assert!(err.hint.contains("add kind = \"route53\""), "{err}");

    let err = parse(&with_route53("").replace("new_set_identifier = \"eks-2026\"\n", "")).unwrap_err();
    assert_eq!(err.line, 24, "{err}");
    assert!(err.problem.contains("route `www`: missing field `new_set_identifier`"), "{err}");

    let err = parse(&good().replace(&format!("listener_arn = \"{LISTENER}\"\n"), "")).unwrap_err();
    assert!(err.problem.contains("missing field `listener_arn`"), "{err}");

    let err = parse(&with_route53("record_type = \"TXT\"\n")).unwrap_err();
    assert_eq!(err.line, 30, "{err}");
    assert!(err.problem.contains("record type `TXT`"), "{err}");
    assert!(err.hint.contains("\"AAAA\" or \"CNAME\""), "{err}");

    let err = parse(&with_route53("").replace("eks-2026", "eks-2022")).unwrap_err();
    assert!(err.problem.contains("same as `old_set_identifier`"), "{err}");

    let err = parse(&with_route53("").replace("/hostedzone/Z0123456789ABCDEFGHIJ", "example.com")).unwrap_err();
    assert_eq!(err.line, 26, "{err}");
    assert!(err.problem.contains("not a hosted zone id"), "{err}");

    let err = parse(&with_route53("old_load_balancer = \"web-2022\"\n")).unwrap_err();
    assert!(err.problem.contains("`old_load_balancer` is not an ALB loadbalancer ARN"), "{err}");

    let err = parse(&with_route53("").replace("name = \"www\"", "name = \"api\"")).unwrap_err();
    assert!(err.problem.contains("route `api` is named twice"), "{err}");
}

#[test]
fn one_cluster_on_both_sides_is_refused_at_the_new_context() {
    let same = good()
        .replace("[new]\ncontext = \"eks-2026\"", "[new]\ncontext = \"eks-2022\"\nkubeconfig = \"~/.kube/config\"");
    let err = parse(&same).unwrap_err();
    assert_eq!((err.line, err.column), (9, 11), "{err}");
    assert!(
        err.problem.contains("[new] context `eks-2022` is [old]'s context (line 5) in the same kubeconfig"),
        "{err}"
    );
    assert!(err.hint.contains("kubectl config get-contexts"), "{err}");
    // The same name in two kubeconfig files may well be two clusters.
    let other_file = same.replace(
        "[new]\ncontext = \"eks-2022\"\nkubeconfig = \"~/.kube/config\"",
        "[new]\ncontext = \"eks-2022\"\nkubeconfig = \"/etc/new/kubeconfig\"",
    );
    assert!(parse(&other_file).is_ok());
    // Both on the default kubeconfig, one context.
    let defaults = same.replace("kubeconfig = \"~/.kube/config\"\n", "");
    let err = parse(&defaults).unwrap_err();
    assert!(err.problem.contains("same kubeconfig"), "{err}");
}

#[test]
fn two_routes_on_one_rule_default_action_or_record_set_are_refused() {
    let second = |extra: &str| {
        good().replace(
            "\n[[singleton]]",
            &format!(
                "\n[[route]]\nname = \"api2\"\nlistener_arn = \"{LISTENER}\"\n{extra}old_target_group = \"{TG_OLD}\"\nnew_target_group = \"{TG_NEW}\"\n\n[[singleton]]"
            ),
        )
    };
    let err = parse(&second(&format!("rule_arn = \"{RULE}\"\n"))).unwrap_err();
    assert_eq!((err.line, err.column), (26, 12), "{err}");
    assert!(err.problem.contains("route `api2` is on route `api`'s rule (`rule_arn`) (line 16)"), "{err}");
    assert!(err.hint.contains("one route per rule"), "{err}");
    // Two default actions of one listener.
    let defaults = second("").replace(&format!("rule_arn = \"{RULE}\"\n"), "");
    let err = parse(&defaults).unwrap_err();
    assert_eq!(err.line, 24, "{err}");
    assert!(err.problem.contains("route `api2` is on route `api`'s listener default action"), "{err}");
    // A rule and the default action of its listener are two places.
    assert!(parse(&second("")).is_ok());

    let www2 = with_route53("").replace(
        "\n[[singleton]]",
        "\n[[route]]\nname = \"www2\"\nkind = \"route53\"\nhosted_zone_id = \"Z0123456789ABCDEFGHIJ\"\nrecord_name = \"www.example.com.\"\nold_set_identifier = \"blue\"\nnew_set_identifier = \"green\"\n\n[[singleton]]",
    );
    let err = parse(&www2).unwrap_err();
    assert_eq!(err.line, 35, "{err}");
    assert!(err.problem.contains("route `www2` is on route `www`'s Route 53 record set"), "{err}");
    // Another type of the same name is another record set.
    assert!(
        parse(
            &www2.replace("new_set_identifier = \"green\"", "new_set_identifier = \"green\"\nrecord_type = \"AAAA\"")
        )
        .is_ok()
    );
}

#[test]
fn two_singletons_on_one_workload_are_refused_on_either_side() {
    let with = |extra: &str| {
        format!("{}\n[[singleton]]\nname = \"digest\"\nkind = \"Deployment\"\nnamespace = \"app\"\n{extra}", good())
    };
    let err = parse(&with("new_name = \"scheduler\"\n")).unwrap_err();
    assert_eq!((err.line, err.column), (32, 12), "{err}");
    assert!(
        err.problem
            .contains("singleton `digest`: its new Deployment app/scheduler is singleton `scheduler`'s too (line 24)"),
        "{err}"
    );
    assert!(err.hint.contains("new_name"), "{err}");
    let err = parse(&with("old_name = \"scheduler\"\n")).unwrap_err();
    assert!(err.problem.contains("its old Deployment app/scheduler"), "{err}");
    // A name alone is the workload on both sides: said at the name.
    let err = parse(
        &with("").replace("name = \"digest\"", "name = \"digest\"\nold_name = \"scheduler\"\nnew_name = \"scheduler\""),
    )
    .unwrap_err();
    assert!(err.problem.contains("its old Deployment app/scheduler"), "{err}");
    // A CronJob of the same name is another object.
    assert!(
        parse(
            &with("new_name = \"scheduler\"\n")
                .replace("name = \"digest\"\nkind = \"Deployment\"", "name = \"digest\"\nkind = \"CronJob\"")
        )
        .is_ok()
    );
    assert!(parse(&with("")).is_ok());
}

#[test]
fn a_missing_file_is_named() {
    let err = Plan::load(Path::new("/no/such/cutover.toml")).unwrap_err();
    assert!(err.to_string().contains("/no/such/cutover.toml: cannot read the plan"), "{err}");
}

#[test]
fn analysis_is_the_plans_under_the_routes_own_over_the_defaults() {
    use crate::domain::analysis::{Advance, OnFailure};
    // No [analysis]: the routes are not judged.
    assert_eq!(parse(&good()).unwrap().routes[0].analysis, None);
    let text = good().replace(
        "\n[[singleton]]",
        "\n[route.analysis]\nmax_latency = \"250ms\"\nadvance = \"auto\"\n\n[analysis]\nmax_error_rate = \"2%\"\nbake = \"90s\"\non_failure = \"revert\"\n\n[[singleton]]",
    );
    let a = parse(&text).unwrap().routes[0].analysis.clone().unwrap();
    assert_eq!(a.max_error_rate, Some(0.02), "the plan's");
    assert_eq!(a.max_error_increase, Some(DEFAULT_MAX_ERROR_INCREASE), "the default");
    assert_eq!(a.max_latency_ms, Some(250.0), "the route's");
    assert_eq!((a.bake_secs, a.failure_limit, a.confidence), (90, DEFAULT_FAILURE_LIMIT, DEFAULT_CONFIDENCE));
    assert_eq!((a.on_failure, a.advance), (OnFailure::Revert, Advance::Auto));
    assert_eq!(a.on_failure_at, "cutover.toml:30", "the line that armed the revert");
    assert_eq!(a.advance_at, "cutover.toml:25", "the line that armed the autopilot");
    // A route's table alone arms its own analysis, over the defaults.
    let text = good().replace("\n[[singleton]]", "\n[route.analysis]\nfailure_limit = 3\n\n[[singleton]]");
    let a = parse(&text).unwrap().routes[0].analysis.clone().unwrap();
    assert_eq!((a.failure_limit, a.max_error_rate, a.on_failure), (3, Some(DEFAULT_MAX_ERROR_RATE), OnFailure::Alarm));
}

#[test]
fn analysis_mistakes_name_the_field_the_line_and_what_to_write() {
    let with = |body: &str| good().replace("\n[[singleton]]", &format!("\n[analysis]\n{body}\n\n[[singleton]]"));
    for (body, field, hint) in [
        ("max_error_rate = \"1\"", "`max_error_rate = \"1\"` is not a percentage", "max_error_rate = \"1%\""),
        ("max_error_increase = \"150%\"", "`max_error_increase = \"150%\"` is not a percentage", "\"100%\""),
        ("bake = \"5 minutes\"", "`bake = \"5 minutes\"` is not a duration", "bake = \"5m\""),
        ("max_latency = \"0ms\"", "`max_latency` must be above 0", "\"none\""),
        ("failure_limit = 0", "`failure_limit` must be 1 to 60", "failure_limit = 2"),
        ("confidence = 95", "`confidence` must be at least 0.5 and below 1", "confidence = 0.95"),
        ("on_failure = \"rollback\"", "`on_failure = \"rollback\"` is not known", "\"revert\""),
        ("advance = \"yes\"", "`advance = \"yes\"` is not known", "\"auto\""),
    ] {
        let err = parse(&with(body)).unwrap_err();
        assert_eq!(err.line, 24, "{body}: {err}");
        assert!(err.problem.contains(field), "{body}: {err}");
        assert!(err.hint.contains(hint), "{body}: {err}");
    }
    let err = parse(&with("max_error = \"1%\"")).unwrap_err();
    assert!(err.problem.contains("unknown field `max_error`"), "{err}");
    assert_eq!(err.line, 24, "{err}");
}
