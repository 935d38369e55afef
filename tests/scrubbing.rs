//! Every free-text field that enters the recording is scrubbed. Two ways:
//!
//! - a walk of every string (and absent string) field of every kind of
//!   recorded message: each is given a secret in turn, the message is
//!   scrubbed as the runtime does, and a field that still holds it must be
//!   one of the few names listed below, with why;
//! - a live session against the peers with a secret seeded into each kind
//!   of field the world can fill (a pod's waiting and termination reasons,
//!   an event's message, an owner's annotation, a field manager, a node's
//!   label, an ELB tag, an AWS error's text), recorded, keyframe included,
//!   and searched.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::live::LiveConsole;
use cutover::app::{
    Effect, EffectResult, Handoff, HandoffPhase, MetricPoint, Mode, Msg, SeriesId, SourceId, SourceState,
};
use cutover::domain::{
    Exit, Owner, PerSide, PriorChange, ReadDetail, RecordRead, RouteId, RouteOwners, RouteProblem, RouteRead, Side,
    Target, TargetState, Weights, WorkloadKey,
};
use serde_json::{Value, json};

const SECRET: &str = "hunter2";
const DIRTY: &str = "failed: password=hunter2";

/// Fields that keep what they are given, and why: names the APIs allow
/// only in a restricted alphabet (no `=`, no spaces, lowercase), the plan's
/// own names, and what the console itself asked for.
const KEPT: &[(&str, &str)] = &[
    ("NodeSignals[].node.instance", "an EC2 instance id: i- and hex digits"),
    (
        "Lifecycle.clusters.new.handlers[].karpenter.interruption_queue",
        "an SQS queue's name, from Karpenter's settings",
    ),
    ("Lifecycle.clusters.new.handlers[].karpenter.workload", "namespace/name of a Deployment: Kubernetes names"),
    ("Lifecycle.routes[].route", "a route's name, from the plan"),
    ("Lifecycle.routes[].target_group", "a target group's ARN, from the plan or ELB"),
    ("Lifecycle.scaling_groups[].instances[]", "EC2 instance ids"),
    ("Lifecycle.scaling_groups[].name", "an Auto Scaling group's name"),
    ("Lifecycle.scaling_groups[].node_group", "an EKS node group's name"),
    ("Lifecycle.target_groups[].arn", "a target group's ARN"),
    ("Lifecycle.target_groups[].name", "a target group's name"),
    ("Cluster.delta.Workload.key.namespace", "a Kubernetes name: lowercase letters, digits and '-'"),
    ("Cluster.delta.Workload.key.name", "a Kubernetes name, matched against the plan"),
    ("Cluster.delta.WorkloadGone.namespace", "a Kubernetes name"),
    ("Cluster.delta.WorkloadGone.name", "a Kubernetes name"),
    ("Cluster.delta.Pod.key.namespace", "a Kubernetes name"),
    ("Cluster.delta.Pod.key.name", "a Kubernetes name"),
    ("Cluster.delta.Pod.owner.namespace", "a Kubernetes name"),
    ("Cluster.delta.Pod.owner.name", "a Kubernetes name"),
    ("Cluster.delta.Pod.node", "a node's name: a DNS subdomain"),
    ("Cluster.delta.PodGone.namespace", "a Kubernetes name"),
    ("Cluster.delta.PodGone.name", "a Kubernetes name"),
    ("Cluster.delta.Node.name", "a node's name: a DNS subdomain"),
    ("Cluster.delta.NodeGone", "a node's name: a DNS subdomain"),
    ("Cluster.delta.NodeEvent.node", "a node's name: a DNS subdomain"),
    ("Cluster.delta.Autoscaler.target.namespace", "a Kubernetes name"),
    ("Cluster.delta.Autoscaler.target.name", "a Kubernetes name"),
    ("Cluster.delta.AutoscalerGone.namespace", "a Kubernetes name"),
    ("Cluster.delta.AutoscalerGone.name", "a Kubernetes name"),
    ("Metrics[].series.LoadBalancer.lb", "the CloudWatch dimension the console asked for"),
    ("EffectDone.effect.SetWeights.seen[][]", "target group names of the console's own (scrubbed) read"),
    ("EffectDone.effect.Stop.key.namespace", "the plan's singleton"),
    ("EffectDone.effect.Stop.key.name", "the plan's singleton"),
    ("EffectDone.effect.Stop.then.namespace", "the plan's singleton"),
    ("EffectDone.effect.Stop.then.name", "the plan's singleton"),
    ("Resumed.handoff.spec.name", "the plan's singleton, as the state file holds it"),
    ("Resumed.handoff.spec.old.namespace", "the plan's singleton"),
    ("Resumed.handoff.spec.old.name", "the plan's singleton"),
    ("Resumed.handoff.spec.new.namespace", "the plan's singleton"),
    ("Resumed.handoff.spec.new.name", "the plan's singleton"),
    ("OnDisk.handoff.spec.name", "the plan's singleton, as the state file holds it"),
    ("OnDisk.handoff.spec.old.namespace", "the plan's singleton"),
    ("OnDisk.handoff.spec.old.name", "the plan's singleton"),
    ("OnDisk.handoff.spec.new.namespace", "the plan's singleton"),
    ("OnDisk.handoff.spec.new.name", "the plan's singleton"),
    ("PriorChanges.changes[].route", "a route's name, as the plan writes it"),
];

/// Every leaf of `v` that is a string or null, with a JSON pointer to it
/// and its path with array indices left out.
fn leaves(v: &Value, pointer: String, path: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(_) | Value::Null => out.push((pointer, path)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                leaves(item, format!("{pointer}/{i}"), format!("{path}[]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let path = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                leaves(item, format!("{pointer}/{k}"), path, out);
            }
        }
        _ => {}
    }
}

fn samples() -> Vec<Msg> {
    use cutover::sim::{SimConfig, World};
    let start: jiff::Timestamp = "2026-11-25T14:00:00Z".parse().unwrap();
    let at = start;
    let mut world = World::new(&SimConfig { seed: 2026, start, scale: 1 });
    let mut msgs = world.initial();
    msgs.extend(world.advance(cutover::domain::plus_secs(start, 1800)));
    let key = WorkloadKey::new("app", "api");
    // What the demo's world never sends: every optional text filled.
    let (_, app) = common::demo(0);
    let mut workload = app.clusters.new.workloads.values().next().unwrap().clone();
    workload.time_zone = Some("x".into());
    workload.changed_by = Some("x".into());
    workload.schedule = Some("x".into());
    let owners = [
        Owner::LoadBalancerController {
            cluster: Some("x".into()),
            stack: Some("x".into()),
            resource: Some("x".into()),
        },
        Owner::CloudFormation { stack: "x".into() },
        Owner::ArgoCd { app: "x".into(), by_label: false },
        Owner::Flux {
            kind: cutover::domain::FluxKind::Kustomization,
            name: "x".into(),
            namespace: Some("x".into()),
            reconcile_disabled: false,
        },
        Owner::Helm { release: "x".into(), namespace: Some("x".into()) },
        Owner::ExternalDns { owner_id: "x".into(), resource: Some("x".into()) },
    ];
    for owner in owners.iter().cloned() {
        let mut w = workload.clone();
        w.owner = Some(owner);
        msgs.push(Msg::Cluster { side: Side::New, delta: cutover::app::ClusterDelta::Workload(w) });
    }
    use cutover::app::ClusterDelta;
    let gone = [
        ClusterDelta::WorkloadGone(key.clone()),
        ClusterDelta::AutoscalerGone(key.clone()),
        ClusterDelta::Autoscaler(cutover::domain::Autoscaler {
            target: key.clone(),
            min: 1,
            max: 2,
            current: 1,
            desired: 1,
        }),
    ];
    msgs.extend(gone.into_iter().map(|delta| Msg::Cluster { side: Side::Old, delta }));
    let mut pod = app.clusters.new.pods.values().next().unwrap().clone();
    pod.reason = Some("x".into());
    pod.last_exit = Some(Exit { reason: "x".into(), code: 1 });
    msgs.push(Msg::Cluster { side: Side::New, delta: cutover::app::ClusterDelta::Pod(pod) });
    let record = |id: &str| RecordRead {
        set_identifier: id.into(),
        ttl: None,
        points_at: "x".into(),
        alias: true,
        evaluate_target_health: false,
        health_check: Some("x".into()),
        load_balancer: Some("x".into()),
    };
    let target = Target { id: "x".into(), state: TargetState::Unhealthy, reason: Some("x".into()) };
    msgs.push(Msg::Traffic {
        at,
        routes: vec![RouteRead {
            route: RouteId(0),
            weights: Some(Weights::from_percent_new(10)),
            others: vec![("x".into(), cutover::domain::Weight(1))],
            targets: PerSide::new(vec![target.clone()], vec![target]),
            detail: ReadDetail::Route53 { records: Box::new(PerSide::new(record("a"), record("b"))) },
        }],
    });
    for owner in owners {
        msgs.push(Msg::RouteOwners {
            at,
            routes: vec![RouteOwners {
                route: RouteId(0),
                rule: Some(owner.clone()),
                target_groups: PerSide::new(Some(owner.clone()), Some(owner)),
            }],
            error: Some("x".into()),
        });
    }
    msgs.push(Msg::Source {
        id: SourceId::Traffic(cutover::domain::RouteKind::Alb),
        state: SourceState::Stale { since: at, error: "x".into(), last_ok: None, fault: Default::default() },
    });
    let effects = [
        Effect::SetWeights {
            route: RouteId(0),
            seen: Some(vec![("x".into(), cutover::domain::Weight(1))]),
            to: Weights::from_percent_new(0),
            all_old: true,
        },
        Effect::Stop {
            side: Side::Old,
            key: key.clone(),
            kind: cutover::domain::WorkloadKind::Deployment,
            then: Some(key.clone()),
        },
    ];
    let results = [
        EffectResult::Verified { detail: "x".into() },
        EffectResult::Mismatch { detail: "x".into() },
        EffectResult::Refused { reason: "x".into() },
        EffectResult::Failed { error: "x".into() },
        EffectResult::Unknown { detail: "x".into() },
        EffectResult::NotYet { detail: "x".into() },
        EffectResult::DryRun { calls: vec!["x".into()] },
    ];
    for effect in &effects {
        for result in &results {
            msgs.push(Msg::EffectDone { id: 1, effect: effect.clone(), result: result.clone() });
        }
    }
    msgs.push(Msg::EffectProgress { id: 1, text: "x".into(), unanswered: true });
    msgs.push(Msg::Operator { who: "x".into() });
    let spec = app.config.singletons[0].clone();
    for phase in [HandoffPhase::WaitingGone, HandoffPhase::StartFailed("x".into())] {
        let handoff = Handoff {
            spec: spec.clone(),
            from: Side::Old,
            to: Side::New,
            phase,
            started: at,
            gone_at: None,
            gone_after: None,
            ready_at: None,
            who: "x".into(),
            starting_deadline: None,
        };
        msgs.push(Msg::OnDisk(Some(cutover::app::Left { handoff: handoff.clone(), saved_at: at })));
        msgs.push(Msg::Resumed { handoff, saved_at: at });
    }
    use cutover::domain::Wheel;
    use cutover::domain::wheel::HolderHandoff;
    let wheels = [
        Wheel::Yours { identity: "x".into(), since: at, failing: Some((at, "x".into())) },
        Wheel::Held {
            holder: "x".into(),
            operator: Some("x".into()),
            since: Some(at),
            handoff: Some(HolderHandoff { singleton: "x".into(), text: "x".into(), in_gap: true }),
        },
        Wheel::Free { last: Some("x".into()), expired: true },
        Wheel::Lapsed { identity: "x".into(), renewed: at, error: "x".into() },
        Wheel::Unread { error: "x".into() },
    ];
    for wheel in wheels {
        msgs.push(Msg::Wheel { at, lease: "x".into(), wheel });
    }
    use cutover::app::{Ending, Keeping, Signal};
    msgs.push(Msg::Keeping(Keeping::RecordingFailed { path: "x".into(), error: "x".into() }));
    msgs.push(Msg::Keeping(Keeping::StateFile { path: "x".into(), error: Some("x".into()) }));
    msgs.push(Msg::Signal(Signal::Hangup));
    msgs.push(Msg::Ended(Ending::Error("x".into())));
    msgs.push(Msg::Ended(Ending::Crash("x".into())));
    msgs.push(Msg::RouteProblems {
        at,
        source: SourceId::Traffic(cutover::domain::RouteKind::Alb),
        problems: vec![RouteProblem { route: RouteId(0), error: "x".into() }],
    });
    msgs.push(Msg::PriorChanges {
        changes: vec![PriorChange { route: "api".into(), at, to: Weights::from_percent_new(25), source: "x".into() }],
        recordings: 1,
    });
    msgs.push(Msg::Metrics(vec![MetricPoint {
        series: SeriesId::LoadBalancer { lb: "x".into(), metric: cutover::app::LbMetric::Elb5xx },
        minute: cutover::domain::Minute::containing(at),
        value: 1.0,
    }]));
    msgs
}

#[test]
fn every_text_field_of_every_recorded_message_is_scrubbed_but_the_names_listed() {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut kept: BTreeSet<String> = BTreeSet::new();
    // Tries per field that did not take a string (a time, an enum).
    let mut tries: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
    for msg in samples() {
        if matches!(msg, Msg::Share(_)) {
            continue; // never recorded
        }
        let value = serde_json::to_value(&msg).unwrap();
        let mut found = Vec::new();
        leaves(&value, String::new(), String::new(), &mut found);
        for (pointer, path) in found {
            // Each text field once; a field that is not text, a few times.
            let n = tries.entry(path.clone()).or_insert(0);
            if seen.contains(&path) || *n >= 3 {
                continue;
            }
            *n += 1;
            let mut dirty = value.clone();
            *dirty.pointer_mut(&pointer).unwrap() = Value::String(DIRTY.into());
            // Not a text field (a time, an enum's name, a number): skipped.
            let Ok(mut msg) = serde_json::from_value::<Msg>(dirty) else { continue };
            seen.insert(path.clone());
            msg.scrub_secrets();
            let after = serde_json::to_value(&msg).unwrap();
            let left = after.pointer(&pointer).and_then(Value::as_str).unwrap_or_default();
            if left.contains(SECRET) {
                kept.insert(path);
            } else {
                assert!(
                    left.contains("password=‹redacted›"),
                    "{path}: scrubbed, and what names the secret kept: {left}"
                );
            }
        }
    }
    let allowed: BTreeSet<String> = KEPT.iter().map(|(p, _)| p.to_string()).collect();
    let unexpected: Vec<&String> = kept.difference(&allowed).collect();
    assert!(unexpected.is_empty(), "free text recorded unscrubbed: {unexpected:#?}");
    let stale: Vec<&String> = allowed.difference(&seen).collect();
    assert!(stale.is_empty(), "listed as kept, never seen (renamed?): {stale:#?}");
    // The walk reached the fields the Why names.
    for path in [
        "Cluster.delta.Pod.reason",
        "Cluster.delta.Pod.last_exit.reason",
        "Cluster.delta.Warning.message",
        "Cluster.delta.Workload.owner.app",
        "Cluster.delta.Workload.changed_by",
        "Cluster.delta.Node.instance_type",
        "Traffic.routes[].detail.Route53.records.old.points_at",
        "RouteOwners.routes[].rule.stack",
        "Source.state.Stale.error",
        "EffectDone.result.Failed.error",
        "RouteProblems.problems[].error",
    ] {
        assert!(seen.contains(path) && !kept.contains(path), "{path} walked and scrubbed: {seen:#?}");
    }
}

/// Seeds, on the peers, a secret in each kind of field the world fills.
fn seed_secrets(live: &mut LiveConsole) {
    let peers = &live.peers;
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    // A pod of the new side: a container waiting, another's last end.
    let name = live.app.clusters.new.pods.keys().find(|k| k.name.starts_with("api-")).unwrap().name.clone();
    let path = format!("/kube/new/object?resource=v1/pods&namespace=app&name={name}");
    let mut pod = peers.get(&path);
    let statuses = pod["status"]["containerStatuses"].as_array_mut().unwrap();
    statuses[0]["ready"] = json!(false);
    statuses[0]["restartCount"] = json!(3);
    statuses[0]["state"] =
        json!({"waiting": {"reason": "password=hunter2-waiting", "message": "token: hunter2-message"}});
    statuses[0]["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "--token hunter2-terminated"}});
    peers.post("/kube/new/apply", pod);
    // A Warning event quoting a password.
    peers.post(
        "/kube/new/apply",
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "api.secret-event", "namespace": "app", "resourceVersion": "1"},
            "involvedObject": {"kind": "Pod", "namespace": "app", "name": name},
            "reason": "FailedMount", "type": "Warning",
            "message": "mount failed: DB_PASSWORD=hunter2-event",
            "count": 1, "firstTimestamp": now, "lastTimestamp": now,
        }),
    );
    // An owner's annotation, and a field manager, on old's scheduler.
    let path = "/kube/old/object?resource=apps/v1/deployments&namespace=app&name=scheduler";
    let mut scheduler = peers.get(path);
    scheduler["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] =
        json!("secret=hunter2-owner:apps/Deployment:app/scheduler");
    scheduler["metadata"]["managedFields"] = json!([{
        "manager": "deployer --password=hunter2-manager", "operation": "Update", "apiVersion": "apps/v1",
        "time": now, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}},
    }]);
    scheduler["spec"]["replicas"] = json!(2);
    peers.post("/kube/old/apply", scheduler);
    // A node's instance type label holding what looks like an access key.
    let node = live.app.clusters.new.nodes.keys().next().unwrap().clone();
    let path = format!("/kube/new/object?resource=v1/nodes&name={node}");
    let mut n = peers.get(&path);
    n["metadata"]["labels"]["node.kubernetes.io/instance-type"] = json!("AKIAHUNTER2NODETYPE0");
    peers.post("/kube/new/apply", n);
    // An ELB tag of the admin rule.
    let rule = live.plan.routes[1].alb().unwrap().rule.clone().unwrap().0;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&live.clients.sdk);
    let tag = |k: &str, v: &str| aws_sdk_elasticloadbalancingv2::types::Tag::builder().key(k).value(v).build();
    live.rt.block_on(async {
        elb.add_tags()
            .resource_arns(&rule)
            .tags(tag("elbv2.k8s.aws/cluster", "eks-new"))
            .tags(tag("ingress.k8s.aws/stack", "photo token=hunter2-tag"))
            .send()
            .await
            .unwrap()
    });
    // An AWS error whose text quotes a secret.
    peers.aws_fault(json!({"ops": ["DescribeTargetHealth"], "status": 400, "code": "ValidationError", "count": 3,
        "message": "not authorized: the request carried X-Amz-Security-Token=hunter2-aws"}));
}

#[test]
fn a_recorded_session_with_a_secret_in_each_kind_of_field_keeps_none() {
    let mut live = LiveConsole::start("realistic", Mode::Watch);
    let path = common::fresh_path("scrubbing", "live.jsonl");
    live.record_to(&path);
    live.until("both sides listed", Duration::from_secs(30), |app| app.clusters.old.synced && app.clusters.new.synced);
    seed_secrets(&mut live);
    live.until("every seeded field read", Duration::from_secs(60), |app| {
        let pod = app.clusters.new.pods.values().find(|p| p.restarts == 3);
        let scheduler = app.clusters.old.workloads.get(&WorkloadKey::new("app", "scheduler"));
        pod.is_some_and(|p| p.reason.is_some() && p.last_exit.is_some())
            && app.events.iter().any(|e| e.text.contains("mount failed"))
            && scheduler.is_some_and(|w| w.owner.is_some() && w.changed_by.is_some())
            && app.clusters.new.nodes.values().any(|n| n.instance_type.contains("redacted"))
            && app.routes[1].owners.as_ref().is_some_and(|o| o.rule.is_some())
            && app.events.iter().any(|e| e.text.contains("not authorized"))
    });
    let mut writer = live.recorder.take().unwrap();
    writer.keyframe(live.app.now, &live.app).unwrap();
    drop(writer);
    let recording = std::fs::read_to_string(&path).unwrap();
    let screen = common::draw(200, 50, |f| cutover::ui::render(&live.app, f));
    for secret in [SECRET, "AKIAHUNTER2NODETYPE0"] {
        let at: Vec<&str> = recording.lines().filter(|l| l.contains(secret)).map(|l| &l[..l.len().min(300)]).collect();
        assert!(at.is_empty(), "`{secret}` is in the recording:\n{}", at.join("\n"));
        assert!(!screen.contains(secret), "`{secret}` is on the screen:\n{screen}");
    }
    // What was wrong is still there to read, the values gone.
    let pod = live.app.clusters.new.pods.values().find(|p| p.restarts == 3).unwrap();
    assert_eq!(pod.reason.as_deref(), Some("password=‹redacted›"));
    assert_eq!(pod.last_exit.as_ref().unwrap().reason, "--token ‹redacted›");
    for shown in [
        "\"reason\":\"password=‹redacted›\"",
        "mount failed: DB_PASSWORD=‹redacted›",
        "deployer --password=‹redacted›",
        "X-Amz-Security-Token=‹redacted›",
        "photo token=‹redacted›",
    ] {
        assert!(recording.contains(shown), "`{shown}` not in the recording");
    }
    let scheduler = live.app.clusters.old.workloads.get(&WorkloadKey::new("app", "scheduler")).unwrap();
    assert!(
        matches!(&scheduler.owner, Some(Owner::ArgoCd { app, .. }) if app == "secret=‹redacted›"),
        "{:?}",
        scheduler.owner
    );
}

/// A recognisable key pair, in the format AWS's keys have (what the
/// scrubber knows an access key id by).
const KEY_ID: &str = "AKIAZZTESTKEYID12345";
const SECRET_KEY: &str = "wJalrXUtnFEMIzzK7MDENGzzbPxRfiCYzzSECRET";

/// At `CUTOVER_LOG=trace` the AWS SDK prints the resolved credentials with
/// every call (the access key id was written 41 times by one session).
/// `check`, then `run` in a real terminal stepping a route, both at trace:
/// the log has thousands of lines, the SDK's among them, and neither half
/// of the key.
#[test]
fn no_credentials_at_any_log_level() {
    let peers = common::peers::Peers::start("realistic");
    let log = peers.dir.join("trace.log");
    let env = format!(
        "CUTOVER_LOG=trace AWS_ACCESS_KEY_ID={KEY_ID} AWS_SECRET_ACCESS_KEY={SECRET_KEY} AWS_EC2_METADATA_DISABLED=true XDG_STATE_HOME={}",
        peers.dir.join("state").display()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{env} {} check --plan {} --log {}",
            env!("CARGO_BIN_EXE_cutover"),
            peers.plan_path().display(),
            log.display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let t = common::tmux::Tmux::start("trace");
    t.type_line(&format!(
        "{env} {} run --plan {} --log {}; echo EXIT=$?",
        env!("CARGO_BIN_EXE_cutover"),
        peers.plan_path().display(),
        log.display()
    ));
    let wait = Duration::from_secs(40);
    t.wait_for("the live console", wait, |s| s.contains("read 75/25"));
    // A write too: signed with the same credentials.
    t.send(&["BTab", "]"]);
    t.wait_for("the proposal", wait, |s| s.contains("PROPOSAL"));
    t.send(&["y", "Y"]);
    t.wait_for("the step read back", wait, |s| s.contains("read 50/50"));
    t.send(&["q"]);
    t.wait_for("the exit", wait, |s| s.contains("EXIT=0"));
    let text = std::fs::read_to_string(&log).unwrap();
    let sdk = text.lines().filter(|l| l.contains(" TRACE ") && l.contains("aws_smithy_runtime")).count();
    assert!(sdk > 100, "the SDK's own trace lines are there: {sdk} of {}", text.lines().count());
    assert!(text.contains("resolved identity"), "the line that printed the key id is there");
    for secret in [KEY_ID, SECRET_KEY, &SECRET_KEY[..20]] {
        let hits: Vec<&str> = text.lines().filter(|l| l.contains(secret)).take(3).collect();
        assert!(hits.is_empty(), "`{secret}` in the log:\n{}", hits.join("\n"));
    }
}
