//! A real terminal for end-to-end tests: tmux, driven with send-keys and
//! read with capture-pane.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(name: &str) -> Tmux {
        let socket = format!("cutover-test-{name}-{}", std::process::id());
        let t = Tmux { socket };
        let state = std::env::temp_dir().join(format!("cutover-terminal-test-{}", std::process::id()));
        // Process ids come round again: no handoff or recording of an
        // earlier test's console is picked up (once: the test's own
        // terminals share it).
        static FRESH: std::sync::Once = std::sync::Once::new();
        FRESH.call_once(|| {
            let _ = std::fs::remove_dir_all(&state);
        });
        let ok =
            t.cmd(&["new-session", "-d", "-x", "120", "-y", "32", "-s", "t"]).env("XDG_STATE_HOME", state).status();
        assert!(ok.map(|s| s.success()).unwrap_or(false), "tmux must be installed to run the terminal tests");
        t.run(&["set", "-g", "escape-time", "0"]);
        t.run(&["set", "-g", "status", "off"]);
        t
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.socket).args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn send(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "t", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    pub fn type_line(&self, line: &str) {
        self.run(&["send-keys", "-t", "t", "-l", line]);
        self.run(&["send-keys", "-t", "t", "Enter"]);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    pub fn flag(&self, name: &str) -> String {
        self.run(&["display-message", "-p", "-t", "t", &format!("#{{{name}}}")]).trim().to_string()
    }

    /// The first whole screen on which `pred` holds. A capture can fall
    /// in the middle of a frame being written (the top drawn anew, the
    /// bottom still the frame before), so a match is taken again a moment
    /// later and returned only if it still holds: what the caller then
    /// asserts of other parts of the screen is read off one frame.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                std::thread::sleep(Duration::from_millis(60));
                let settled = self.screen();
                if pred(&settled) {
                    return settled;
                }
            }
            assert!(start.elapsed() < timeout, "waited {timeout:?} for {what}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Tmux {
    /// Presses every named key and every printable character but `q` and
    /// `;` (tmux's separator), each followed by `y` twice, which confirms
    /// whatever it proposed.
    pub fn press_every_key_and_confirm(&self) {
        let mut keys: Vec<String> = [
            "Up", "Down", "Left", "Right", "Enter", "Escape", "Tab", "BTab", "PageUp", "PageDown", "Home", "End",
            "BSpace", "DC", "F1", "F5", "C-r", "C-d", "C-u", "Space",
        ]
        .iter()
        .map(|k| k.to_string())
        .collect();
        keys.extend((b'!'..=b'~').filter(|c| *c != b'q' && *c != b';').map(|c| (c as char).to_string()));
        for k in &keys {
            for key in [k.as_str(), "y", "y"] {
                self.run(&["send-keys", "-t", "t", key]);
            }
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}
