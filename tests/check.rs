//! `cutover check` against the real peers: a good plan passes, and each
//! misconfiguration is reported by name, with what to fix.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::peers::Peers;

use common::peers::check;

fn run(mut command: Command) -> (i32, String) {
    let out = command.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// What every failure line must be: one short line, none of the SDK's dump.
fn readable(text: &str) {
    for line in text.lines() {
        assert!(line.chars().count() <= 200, "a line of {} characters:\n{line}", line.chars().count());
    }
    for raw in ["DispatchFailure", "ConnectorError", "ProviderChainError", "CredentialsNotLoaded", "Attempted:"] {
        assert!(!text.contains(raw), "`{raw}` on the terminal:\n{text}");
    }
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

/// A copy of the harness's plan with one change.
fn variant(peers: &Peers, name: &str, change: impl Fn(&str) -> String) -> std::path::PathBuf {
    let text = std::fs::read_to_string(peers.plan_path()).unwrap();
    let changed = change(&text);
    assert_ne!(changed, text, "the variant {name} changes the plan");
    let path = peers.dir.join(format!("{name}.toml"));
    std::fs::write(&path, changed).unwrap();
    path
}

fn field<'a>(plan: &'a str, key: &str, nth: usize) -> &'a str {
    plan.lines().filter_map(|l| l.strip_prefix(&format!("{key} = \""))).nth(nth).unwrap().trim_end_matches('"')
}

fn fail_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.trim_start().starts_with("FAIL")).collect()
}

#[test]
fn a_good_plan_passes_every_check() {
    let peers = Peers::start("realistic");
    let (code, text) = check(&peers.plan_path());
    assert_eq!(code, 0, "{text}");
    assert!(fail_lines(&text).is_empty(), "{text}");
    for expected in [
        "context eks-old: API server reachable",
        "context eks-new: API server reachable",
        "namespace batch: pods can be listed",
        "singleton scheduler: Deployment app/scheduler found",
        "singleton billing-close: CronJob batch/billing-close found",
        "old target group api-old in the listener's default forward, weight 75",
        "new target group admin-new in the rule's forward, weight 0",
        "identity arn:aws:",
        "RequestCount datapoints in the last 15 minutes",
        "singleton scheduler: owner: nobody known (no Argo CD, Flux or Helm marks)",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    for route in ["alb api ", "alb admin "] {
        assert!(
            text.lines().any(|l| l.contains(route)
                && l.contains("owner: nobody known (no controller's tags on the rule or its target groups)")),
            "{route}: {text}"
        );
    }
    assert!(text.contains("all checks passed"), "{text}");
    let mutating = peers.mutating_requests();
    assert!(mutating.is_empty(), "check only reads: {mutating:#?}");
}

#[test]
fn each_misconfiguration_is_named() {
    let peers = Peers::start("realistic");
    let plan = std::fs::read_to_string(peers.plan_path()).unwrap();

    let path = variant(&peers, "context", |p| p.replacen("context = \"eks-old\"", "context = \"eks-2019\"", 1));
    let (code, text) = check(&path);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("context `eks-2019` is not in the kubeconfig (it has: eks-old, eks-new)"), "{text}");

    let listener = field(&plan, "listener_arn", 0).to_string();
    let gone = format!("{}/0000000000000000", listener.rsplit_once('/').unwrap().0);
    let path = variant(&peers, "listener", |p| {
        p.replacen(&format!("listener_arn = \"{listener}\""), &format!("listener_arn = \"{gone}\""), 1)
    });
    let (code, text) = check(&path);
    assert_eq!(code, 1, "{text}");
    let fails = fail_lines(&text);
    assert!(fails.iter().any(|l| l.contains("alb api") && l.contains("ListenerNotFound")), "{text}");

    let rule = field(&plan, "rule_arn", 0).to_string();
    let no_rule = format!("{}/0000000000000000", rule.rsplit_once('/').unwrap().0);
    let path = variant(&peers, "rule", |p| p.replace(&rule, &no_rule));
    let (code, text) = check(&path);
    assert_eq!(code, 1, "{text}");
    assert!(fail_lines(&text).iter().any(|l| l.contains("alb admin") && l.contains("RuleNotFound")), "{text}");

    // The api route pointed at the admin route's new target group.
    let api_new = field(&plan, "new_target_group", 0).to_string();
    let admin_new = field(&plan, "new_target_group", 1).to_string();
    let path = variant(&peers, "tg", |p| {
        p.replacen(&format!("new_target_group = \"{api_new}\""), &format!("new_target_group = \"{admin_new}\""), 1)
    });
    let (code, text) = check(&path);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("new target group admin-new is not in the listener's default forward action (it forwards to api-old=75, api-new=25)"),
        "{text}"
    );

    let path = variant(&peers, "namespace", |p| {
        p.replace("namespaces = [\"app\", \"batch\"]", "namespaces = [\"app\", \"batch\", \"payments\"]")
    });
    let (code, text) = check(&path);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("namespace payments: not found in context eks-old"), "{text}");

    peers.stop("old");
    let (code, text) = check(&peers.plan_path());
    peers.resume("old");
    assert_eq!(code, 1, "{text}");
    assert!(
        fail_lines(&text).iter().any(|l| l.contains("kube old") && l.contains("cannot reach the API server")),
        "{text}"
    );
    assert!(!fail_lines(&text).iter().any(|l| l.contains("kube new")), "the new side is fine: {text}");
}

/// The admin rule tagged in moto as the AWS Load Balancer Controller tags
/// its rules, and the scheduler on old tracked by Argo CD: each is named on
/// its own line, as a warning (the console still works), with what to do.
#[test]
fn owners_are_named_one_line_per_route_and_singleton() {
    common::peers::fake_aws_credentials();
    let peers = Peers::start("realistic");
    let plan = cutover::plan::Plan::load(&peers.plan_path()).unwrap();
    let rule = plan.routes[1].alb().unwrap().rule.clone().unwrap().0;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&cutover::sources::aws::sdk_config(&plan.aws).await);
        let tag = |k: &str, v: &str| aws_sdk_elasticloadbalancingv2::types::Tag::builder().key(k).value(v).build();
        elb.add_tags()
            .resource_arns(&rule)
            .tags(tag("elbv2.k8s.aws/cluster", "eks-old"))
            .tags(tag("ingress.k8s.aws/stack", "photo"))
            .tags(tag("ingress.k8s.aws/resource", "80:1"))
            .send()
            .await
            .unwrap();
    });
    let path = "/kube/old/object?resource=apps/v1/deployments&namespace=app&name=scheduler";
    let mut scheduler = peers.get(path);
    scheduler["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] =
        serde_json::json!("photo-api:apps/Deployment:app/scheduler");
    peers.post("/kube/old/apply", scheduler);

    let (code, text) = check(&peers.plan_path());
    assert_eq!(code, 0, "owners are warnings: {text}");
    let line = |area: &str, what: &str| {
        text.lines()
            .find(|l| l.contains(area) && l.contains(what))
            .unwrap_or_else(|| panic!("no `{area}` `{what}` in:\n{text}"))
    };
    let admin = line("alb admin ", "owner:");
    assert!(
        admin.trim_start().starts_with("WARN")
            && admin.contains("owner: the AWS Load Balancer Controller (cluster eks-old, IngressGroup photo) will put the weights back at its next reconcile: change the Ingress annotation `alb.ingress.kubernetes.io/actions.<name>` instead; a weight step needs the typed override"),
        "{admin}"
    );
    assert!(line("alb api ", "owner:").contains("owner: nobody known"), "{text}");
    let old = line("kube old", "singleton scheduler: owner:");
    assert!(
        old.trim_start().starts_with("WARN")
            && old.contains("owner: Argo CD application photo-api with self-heal will scale it back: turn off automated sync for photo-api")
            && old.ends_with("a handoff needs the typed override"),
        "{old}"
    );
    let new = line("kube new", "singleton scheduler: owner:");
    assert!(new.contains("owner: nobody known"), "{new}");
    assert!(text.contains("singleton billing-close: owner: nobody known"), "{text}");
    assert_eq!(text.matches("owner:").count(), 2 + 2 * 2, "one line per route, and per singleton on each side: {text}");
}

#[test]
fn a_malformed_plan_exits_2_with_line_and_column() {
    let dir = std::env::temp_dir().join(format!("cutover-check-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(&path, "name = \"x\"\nnamespaces = [\"app\"\n[new]\ncontext = \"a\"\n").unwrap();
    let (code, text) = check(&path);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(&format!("{}:2:", path.display())) || text.contains(&format!("{}:3:", path.display())),
        "{text}"
    );

    std::fs::write(&path, "name = \"x\"\nnamespaces = [\"app\"]\nsecret_sauce = true\n").unwrap();
    let (code, text) = check(&path);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(&format!("{}:3:1: unknown field `secret_sauce`", path.display())), "{text}");

    let (code, text) = check(Path::new("/no/such/plan.toml"));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("/no/such/plan.toml: cannot read the plan"), "{text}");
}

/// No AWS credentials anywhere: an empty HOME, no AWS variables, no
/// instance metadata. One short line says so (not one per call), the rest
/// of the AWS checks are skipped, the full error is in the log, exit 1.
#[test]
fn without_any_aws_credentials_one_line_says_so() {
    let peers = Peers::start("realistic");
    let home = peers.dir.join("empty-home");
    std::fs::create_dir_all(&home).unwrap();
    let log = peers.dir.join("check.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cutover"));
    command
        .args(["check", "--plan"])
        .arg(peers.plan_path())
        .arg("--log")
        .arg(&log)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let (code, text) = run(command);
    assert_eq!(code, 1, "a failed check exits 1: {text}");
    readable(&text);
    let fails = fail_lines(&text);
    assert_eq!(fails.len(), 1, "said once: {text}");
    assert!(
        fails[0].contains("aws") && fails[0].contains("no AWS credentials found (tried env vars, profile `default`"),
        "{text}"
    );
    assert!(lines_with(&text, "no AWS credentials").len() == 1, "{text}");
    assert!(text.contains("skip  aws") && text.contains("not checked until the failure above is fixed"), "{text}");
    assert!(text.contains(&format!("the errors in full: {}", log.display())), "{text}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("AWS call failed") && logged.contains("no credentials found in chain"), "{logged}");
    // Kubernetes does not need AWS here: its checks still ran.
    assert!(text.contains("context eks-new: API server reachable"), "{text}");
}

/// AccessDenied on DescribeRules (a reject fault in the proxy, in AWS's
/// words) and on DescribeTargetHealth (a bare message), and a deny rule on
/// listing pods in one namespace: each line names the action or verb and
/// the resource.
#[test]
fn access_denied_and_forbidden_name_the_action_and_the_resource() {
    let peers = Peers::start("realistic");
    let plan = std::fs::read_to_string(peers.plan_path()).unwrap();
    let rule = field(&plan, "rule_arn", 0).to_string();
    let message = format!(
        "User: arn:aws:sts::123456789012:assumed-role/Deployer/alice is not authorized to perform: \
         elasticloadbalancing:DescribeRules on resource: {rule} because no identity-based policy allows the \
         elasticloadbalancing:DescribeRules action"
    );
    peers.aws_fault(serde_json::json!({"ops": ["DescribeRules"], "code": "AccessDenied", "message": message}));
    peers.aws_fault(serde_json::json!({"ops": ["DescribeTargetHealth"], "code": "AccessDenied"}));
    peers.deny("new", serde_json::json!({"verb": "list", "resource": "pods", "namespace": "batch"}));
    let (code, text) = check(&peers.plan_path());
    assert_eq!(code, 1, "{text}");
    readable(&text);
    let rule_part = rule.splitn(6, ':').nth(5).unwrap();
    let admin = lines_with(&text, "alb admin");
    assert!(
        admin.iter().any(|l| l.contains(&format!(
            "rule: access denied: the AWS identity needs elasticloadbalancing:DescribeRules on {rule_part}"
        ))),
        "{text}"
    );
    let api_old = field(&plan, "old_target_group", 0).splitn(6, ':').nth(5).unwrap().to_string();
    assert!(
        fail_lines(&text).iter().any(|l| l.contains("alb api")
            && l.contains(&format!(
                "access denied: the AWS identity needs elasticloadbalancing:DescribeTargetHealth on {api_old}"
            ))),
        "{text}"
    );
    let pods = lines_with(&text, "cannot list pods");
    assert_eq!(pods.len(), 1, "{text}");
    assert!(
        pods[0].contains("kube new")
            && pods[0].contains("namespace batch: cannot list pods: forbidden: user \"")
            && pods[0].ends_with("may not list pods in namespace batch"),
        "{text}"
    );
}

/// Endpoints nobody listens on: the AWS endpoint of the plan and one
/// cluster's API server. Each line names the host and port.
#[test]
fn unreachable_endpoints_are_named_by_host() {
    let peers = Peers::start("realistic");
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let path = variant(&peers, "closed", |p| {
        let aws = p.lines().find(|l| l.starts_with("endpoint_url")).unwrap();
        p.replace(aws, &format!("endpoint_url = \"http://{closed}\""))
    });
    peers.stop("old");
    let old_host = peers.old.trim_start_matches("http://").trim_end_matches('/').to_string();
    let (code, text) = check(&path);
    peers.resume("old");
    assert_eq!(code, 1, "{text}");
    readable(&text);
    let fails = fail_lines(&text);
    assert!(
        fails.iter().any(|l| l.contains("kube old")
            && l.contains(&format!("cannot reach the API server {old_host}: connection refused"))),
        "{text}"
    );
    assert!(
        fails
            .iter()
            .any(|l| l.contains("aws")
                && l.contains(&format!("cannot reach the AWS endpoint {closed}: connection refused"))),
        "{text}"
    );
    assert_eq!(lines_with(&text, "cannot reach the AWS endpoint").len(), 1, "said once: {text}");
}
