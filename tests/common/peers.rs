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
