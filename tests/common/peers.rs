//! The real peers of the live tests: moto (ELBv2, CloudWatch, STS) behind a
//! logging proxy, and two kmock Kubernetes APIs, started by
//! `tests/harness/peers.py` in the project's venv (`tests/run.sh` makes it).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The dummy credentials moto accepts, for in-process AWS clients.
pub fn fake_aws_credentials() {
    // SAFETY: called first in a test's process (nextest runs one test per
    // process), before any runtime or other thread exists.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::remove_var("AWS_PROFILE");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
}

pub struct Peers {
    pub dir: PathBuf,
    pub aws: String,
    pub old: String,
    pub new: String,
    control: String,
    child: Child,
    /// Held open: the harness exits when it closes.
    stdin: Option<ChildStdin>,
}

fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join(".venv/bin/python");
    assert!(venv.exists(), "the test venv is missing: run ./tests/run.sh, which creates .venv with the emulators");
    venv
}

impl Peers {
    pub fn start(seed: &str) -> Peers {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = std::env::temp_dir().join(format!("cutover-peers-{}-{}", std::process::id(), unique()));
        // Process ids come round again: nothing of an earlier test's run.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(python())
            .arg(root.join("tests/harness/peers.py"))
            .arg("--dir")
            .arg(&dir)
            .arg("--seed")
            .arg(seed)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting tests/harness/peers.py");
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            let n = out.read_line(&mut line).unwrap();
            assert!(n > 0, "the harness exited before it was ready; see {}/peers.log", dir.display());
            if let Some(json) = line.strip_prefix("READY ") {
                let v: Value = serde_json::from_str(json.trim()).unwrap();
                let s = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("peers.json has no {k}")).to_string();
                return Peers {
                    dir,
                    aws: s("aws"),
                    old: s("old"),
                    new: s("new"),
                    control: s("control"),
                    child,
                    stdin: Some(stdin),
                };
            }
        }
    }

    pub fn plan_path(&self) -> PathBuf {
        self.dir.join("plan.toml")
    }

    pub fn expected(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.dir.join("expected.json")).unwrap()).unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.control)
    }

    /// POSTs to the control API; panics with the harness's answer on an
    /// error status (a fault it refuses says why: `{"error": ...}`).
    pub fn post(&self, path: &str, body: Value) -> Value {
        let resp = ureq::post(&self.url(path))
            .config()
            .http_status_as_error(false)
            .build()
            .send_json(&body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        answer("POST", path, resp).unwrap_or(Value::Null)
    }

    pub fn get(&self, path: &str) -> Value {
        let resp = ureq::get(&self.url(path))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        answer("GET", path, resp).unwrap_or_else(|| panic!("GET {path}: not JSON"))
    }

    /// Every request that reached a peer (`aws`, `old`, `new`), oldest first.
    pub fn requests(&self, peer: &str) -> Vec<Value> {
        self.get(&format!("/requests?peer={peer}")).as_array().cloned().unwrap_or_default()
    }

    pub fn mutating_requests(&self) -> Vec<Value> {
        ["aws", "old", "new"]
            .iter()
            .flat_map(|p| self.requests(p))
            .filter(|r| r["mutating"].as_bool() == Some(true))
            .collect()
    }

    pub fn stop(&self, peer: &str) {
        self.post(&format!("/peer/{peer}/stop"), Value::Null);
    }

    pub fn resume(&self, peer: &str) {
        self.post(&format!("/peer/{peer}/start"), Value::Null);
    }

    // Faults (tests/harness/peers.py, AwsFault, KubeFault, DenyRule: the
    // fields, defaults and modes). Each adder takes one fault object or
    // `{"faults": [...]}` and returns the faults it added, with their ids.

    /// Adds AWS proxy faults, e.g. `json!({"ops": ["ModifyRule"], "mode":
    /// "after", "delay_ms": 12000, "count": 1})` (POST /aws/faults).
    pub fn aws_fault(&self, fault: Value) -> Vec<Value> {
        list(self.post("/aws/faults", fault), "added")
    }

    /// The AWS faults, with `hits` and `remaining` (GET /aws/faults).
    pub fn aws_faults(&self) -> Vec<Value> {
        list(self.get("/aws/faults"), "faults")
    }

    /// Removes every AWS fault; returns them as they were (with `hits`).
    pub fn clear_aws_faults(&self) -> Vec<Value> {
        list(self.post("/aws/faults/clear", Value::Null), "cleared")
    }

    /// Adds faults to a Kubernetes peer (`old` or `new`), e.g. `json!({"verb":
    /// "patch", "resource": "apps/v1/deployments", "name": "scheduler",
    /// "status": 500})` (POST /kube/{peer}/faults).
    pub fn kube_fault(&self, peer: &str, fault: Value) -> Vec<Value> {
        list(self.post(&format!("/kube/{peer}/faults"), fault), "added")
    }

    /// A Kubernetes peer's faults, with `hits` and `remaining`.
    pub fn kube_faults(&self, peer: &str) -> Vec<Value> {
        list(self.get(&format!("/kube/{peer}/faults")), "faults")
    }

    /// Removes every fault of a Kubernetes peer (not its deny rules).
    pub fn clear_kube_faults(&self, peer: &str) -> Vec<Value> {
        list(self.post(&format!("/kube/{peer}/faults/clear"), Value::Null), "cleared")
    }

    /// Denies a request on a Kubernetes peer, for access reviews and for the
    /// real request alike (403 Forbidden, the object untouched), e.g.
    /// `json!({"verb": "patch", "group": "apps", "resource": "deployments",
    /// "namespace": "app", "name": "scheduler"})` (POST /kube/{peer}/deny).
    pub fn deny(&self, peer: &str, rule: Value) -> Vec<Value> {
        list(self.post(&format!("/kube/{peer}/deny"), rule), "added")
    }

    /// Removes every deny rule of a Kubernetes peer.
    pub fn clear_denies(&self, peer: &str) -> Vec<Value> {
        list(self.post(&format!("/kube/{peer}/deny/clear"), Value::Null), "cleared")
    }

    /// Every fault and deny rule, AWS and both Kubernetes peers.
    pub fn clear_faults(&self) {
        self.post("/faults/clear", Value::Null);
    }

    // The node lifecycle against the load balancer (tests/lifecycle_live.rs).

    /// Auto Scaling activities the proxy answers DescribeScalingActivities
    /// with, e.g. `json!({"group": "eks-spot", "instance": "i-0…",
    /// "minutes_ago": 3})` (POST /aws/activities; the cause says a
    /// rebalance unless given).
    pub fn add_activities(&self, activities: Value) -> Vec<Value> {
        list(self.post("/aws/activities", activities), "added")
    }

    /// CloudTrail events the proxy answers LookupEvents with, e.g.
    /// `json!({"name": "BidEvictedEvent", "instances": ["i-0…"],
    /// "minutes_ago": 10})` (POST /aws/trail-events).
    pub fn add_trail_events(&self, events: Value) -> Vec<Value> {
        list(self.post("/aws/trail-events", events), "added")
    }

    /// An Auto Scaling group in moto holding the side's Spot nodes (their
    /// providerIDs set to its instances), tagged as the managed node group
    /// `name`, with capacity rebalance as given; the node names and their
    /// instances (POST /aws/node-group).
    pub fn spot_node_group(&self, side: &str, name: &str, capacity_rebalance: bool) -> Vec<(String, String)> {
        let v = self.post(
            "/aws/node-group",
            serde_json::json!({"side": side, "name": name, "nodegroup": name, "capacity_rebalance": capacity_rebalance}),
        );
        let nodes = v["nodes"].as_object().unwrap_or_else(|| panic!("no nodes in {v}"));
        nodes.iter().map(|(n, i)| (n.clone(), i.as_str().unwrap().to_string())).collect()
    }

    /// The old side as EC2 behind the ALB: an Auto Scaling group whose
    /// instances are the targets of an `instance` target group, attached to
    /// the group when `attach` (called again with it: attached then). The
    /// target group's ARN (POST /aws/ec2-group).
    pub fn ec2_group(&self, name: &str, target_group: &str, attach: bool) -> String {
        let v = self.post(
            "/aws/ec2-group",
            serde_json::json!({"name": name, "target_group": target_group, "attach": attach, "capacity_rebalance": true}),
        );
        v["target_group"].as_str().unwrap().to_string()
    }

    /// A target group's `deregistration_delay.timeout_seconds`, set in moto.
    pub fn set_deregistration_delay(&self, target_group: &str, secs: u32) {
        self.post("/elb/attributes", serde_json::json!({"target_group": target_group, "deregistration_delay": secs}));
    }

    /// Deregisters the first target of a group; the proxy shows it
    /// draining from then on. Returns the target's id.
    pub fn drain_target(&self, target_group: &str) -> String {
        self.post("/elb/draining", serde_json::json!({"target_group": target_group}))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Writes an object to a Kubernetes peer (a watch event follows).
    pub fn apply(&self, side: &str, object: Value) -> Value {
        self.post(&format!("/kube/{side}/apply"), object)
    }

    pub fn delete(&self, side: &str, resource: &str, namespace: &str, name: &str) {
        self.post(
            &format!("/kube/{side}/delete"),
            serde_json::json!({"resource": resource, "namespace": namespace, "name": name}),
        );
    }

    pub fn object(&self, side: &str, resource: &str, namespace: &str, name: &str) -> Value {
        self.get(&format!("/kube/{side}/object?resource={resource}&namespace={namespace}&name={name}"))
    }

    /// Labels a namespace, or takes the label off (`None`).
    pub fn label_namespace(&self, side: &str, namespace: &str, key: &str, value: Option<&str>) {
        let mut ns = self.object(side, "v1/namespaces", "", namespace);
        let labels = ns["metadata"]["labels"].as_object_mut().unwrap();
        match value {
            Some(v) => labels.insert(key.into(), v.into()),
            None => labels.remove(key),
        };
        self.apply(side, ns);
    }

    /// The AWS Node Termination Handler's DaemonSet (IMDS mode, its chart's
    /// labels) in kube-system.
    pub fn add_nth_daemonset(&self, side: &str) {
        let labels = serde_json::json!({"app.kubernetes.io/name": "aws-node-termination-handler", "app.kubernetes.io/instance": "aws-node-termination-handler"});
        self.apply(
            side,
            serde_json::json!({
                "apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": "aws-node-termination-handler", "namespace": "kube-system", "labels": labels},
                "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
                    "containers": [{"name": "aws-node-termination-handler",
                                    "image": "public.ecr.aws/aws-ec2/aws-node-termination-handler:v1.25.1",
                                    "env": [{"name": "ENABLE_SPOT_INTERRUPTION_DRAINING", "value": "true"}]}]}}}
            }),
        );
    }

    /// Karpenter's controller Deployment (its chart's labels) in namespace
    /// karpenter, with its interruption queue in `INTERRUPTION_QUEUE` when
    /// given; written again, it replaces the one there.
    pub fn add_karpenter(&self, side: &str, queue: Option<&str>) {
        let labels =
            serde_json::json!({"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"});
        let mut env = vec![serde_json::json!({"name": "CLUSTER_NAME", "value": "photo-2026"})];
        if let Some(q) = queue {
            env.push(serde_json::json!({"name": "INTERRUPTION_QUEUE", "value": q}));
        }
        self.apply(
            side,
            serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "karpenter", "namespace": "karpenter", "labels": labels},
                "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "controller", "image": "public.ecr.aws/karpenter/controller:1.2.0",
                                             "env": env}]}}}
            }),
        );
    }

    pub fn remove_nth_daemonset(&self, side: &str) {
        self.delete(side, "apps/v1/daemonsets", "kube-system", "aws-node-termination-handler");
    }

    /// How a Deployment's pods stop: a `preStop` sleep of that many
    /// seconds (none: no hook) and the grace period.
    pub fn set_stop(&self, side: &str, namespace: &str, name: &str, pre_stop: Option<u32>, grace: u32) {
        let mut d = self.object(side, "apps/v1/deployments", namespace, name);
        let spec = &mut d["spec"]["template"]["spec"];
        spec["terminationGracePeriodSeconds"] = grace.into();
        for c in spec["containers"].as_array_mut().unwrap() {
            match pre_stop {
                Some(secs) => c["lifecycle"] = serde_json::json!({"preStop": {"sleep": {"seconds": secs}}}),
                None => {
                    c.as_object_mut().unwrap().remove("lifecycle");
                }
            }
        }
        self.apply(side, d);
    }

    /// Marks a pod evicted as the kubelet does (phase Failed, reason
    /// Evicted, containers terminated), with its watch event and a Warning
    /// Evicted Event; returns the pod (POST /kube/{peer}/evict).
    pub fn evict(&self, peer: &str, namespace: &str, name: &str) -> Value {
        self.post(&format!("/kube/{peer}/evict"), serde_json::json!({"namespace": namespace, "name": name}))
    }
}

fn answer(method: &str, path: &str, mut resp: ureq::http::Response<ureq::Body>) -> Option<Value> {
    let status = resp.status();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    assert!(status.is_success(), "{method} {path}: {status}: {text}");
    serde_json::from_str(&text).ok()
}

fn list(v: Value, key: &str) -> Vec<Value> {
    v[key].as_array().cloned().unwrap_or_else(|| panic!("no {key} in {v}"))
}

impl Drop for Peers {
    fn drop(&mut self) {
        // Closing stdin asks the harness to stop; it must within 3 s.
        drop(self.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// `cutover check --plan PLAN` as a person runs it, with the test peers'
/// credentials: its exit code and everything it printed.
pub fn check(plan: &std::path::Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["check", "--plan"])
        .arg(plan)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env("XDG_STATE_HOME", std::env::temp_dir().join("cutover-check-test-state"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}
