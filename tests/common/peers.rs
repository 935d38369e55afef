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

    pub fn post(&self, path: &str, body: Value) -> Value {
        let mut resp = ureq::post(&self.url(path)).send_json(&body).unwrap_or_else(|e| panic!("POST {path}: {e}"));
        resp.body_mut().read_json().unwrap_or(Value::Null)
    }

    pub fn get(&self, path: &str) -> Value {
        let mut resp = ureq::get(&self.url(path)).call().unwrap_or_else(|e| panic!("GET {path}: {e}"));
        resp.body_mut().read_json().unwrap()
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

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
