//! No secrets in free text: what a live session's sources report (a kube
//! error, a Kubernetes event) reaches neither the recording nor the screen
//! with a secret in it.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::live::LiveConsole;
use common::peers::Peers;
use cutover::app::{App, Mode, SourceId, SourceState};
use cutover::domain::Side;
use serde_json::json;

const ARG_SECRET: &str = "s3cr3t-exec-token-123";
const ENV_SECRET: &str = "env-secret-456";
/// A service account token as an event might quote it.
const EVENT_JWT: &str =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXBwOmVzbyJ9.c2lnbmF0dXJlLW5vdC1yZWFs";

/// A credential plugin whose session expires: the first call (when the
/// client is built) hands out a token that has already expired, so the
/// next request runs it again, and every later call fails the way
/// `aws eks get-token` or `kubelogin` do when the SSO session is over,
/// saying on stderr what it was run with.
const PLUGIN: &str = r#"#!/bin/sh
ran="$(dirname "$0")/plugin-ran"
if [ ! -e "$ran" ]; then
    : > "$ran"
    printf '%s\n' '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"test","expirationTimestamp":"2000-01-01T00:00:00Z"}}'
    exit 0
fi
echo "error: the SSO session has expired; refreshing with $* and API_TOKEN=$API_TOKEN failed" >&2
exit 1
"#;

/// Points the new side's context at a user whose credentials come from
/// [`PLUGIN`], with a secret in its arguments and one in its environment.
fn use_expiring_plugin(peers: &Peers) {
    let plugin = peers.dir.join("credential-plugin");
    std::fs::write(&plugin, PLUGIN).unwrap();
    make_executable(&plugin);
    let kubeconfig = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "eks-old", "cluster": {"server": peers.old}},
            {"name": "eks-new", "cluster": {"server": peers.new}},
        ],
        "users": [
            {"name": "test", "user": {"token": "test"}},
            {"name": "sso", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": plugin.to_str().unwrap(),
                "args": ["get-token", "--cluster-name", "eks-new", "--token", ARG_SECRET],
                "env": [{"name": "API_TOKEN", "value": ENV_SECRET}],
                // The plugin's stderr goes into the error, not to the terminal.
                "interactiveMode": "Never",
            }}},
        ],
        "contexts": [
            {"name": "eks-old", "context": {"cluster": "eks-old", "user": "test"}},
            {"name": "eks-new", "context": {"cluster": "eks-new", "user": "sso"}},
        ],
        "current-context": "eks-old",
    });
    // JSON is YAML: the plan's `kubeconfig` path stays as the harness wrote it.
    std::fs::write(peers.dir.join("kubeconfig"), kubeconfig.to_string()).unwrap();
}

/// A Warning event on the old side whose message quotes a bearer token,
/// as a controller that failed to call a secret store may write it.
fn seed_event_quoting_a_token(peers: &Peers) {
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    peers.post(
        "/kube/old/apply",
        json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "db-creds.17a2b3c4d5e6f708", "namespace": "app", "resourceVersion": "1"},
            "involvedObject": {"kind": "ExternalSecret", "namespace": "app", "name": "db-creds"},
            "reason": "UpdateFailed",
            "type": "Warning",
            "message": format!(
                "could not get secret data from provider: GET https://vault.corp/v1/db returned 403 \
                 (sent Authorization: Bearer {EVENT_JWT})"
            ),
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
        }),
    );
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn stale_error(app: &App, side: Side) -> Option<String> {
    match app.sources.get(&SourceId::Cluster(side)) {
        Some(SourceState::Stale { error, .. }) => Some(error.clone()),
        _ => None,
    }
}

/// Without scrubbing, the new side's stale error read (kube-rs formats the
/// failed `Command` with Debug, then its `Output`; the whole text came twice,
/// once from the service error and once from its source):
///
/// ```text
/// context eks-new: cannot reach the API server: ServiceError: auth exec command
/// 'API_TOKEN="env-secret-456" KUBERNETES_EXEC_INFO="{\"kind\":\"ExecCredential\",...}"
/// "/tmp/cutover-peers-…/credential-plugin" "get-token" "--cluster-name" "eks-new"
/// "--token" "s3cr3t-exec-token-123"' failed with status exit status: 1: Output {
/// status: ExitStatus(unix_wait_status(256)), stdout: "", stderr: "error: the SSO
/// session has expired; refreshing with get-token --cluster-name eks-new --token
/// s3cr3t-exec-token-123 and API_TOKEN=env-secret-456 failed\n" }: auth exec command …
/// ```
///
/// and both secrets were in the recording. The event's token reached the
/// recording and the events panel.
#[test]
fn secrets_in_a_failing_credential_plugin_and_an_event_are_never_recorded_or_shown() {
    let mut live = LiveConsole::start_with("empty", Mode::Watch, |peers| {
        use_expiring_plugin(peers);
        seed_event_quoting_a_token(peers);
    });
    let path = common::fresh_path("secrets", "live.jsonl");
    live.record_to(&path);
    live.until(
        "the new side is stale with the plugin's failure, the old side live with its event",
        Duration::from_secs(30),
        |app| {
            stale_error(app, Side::New).is_some_and(|e| e.contains("SSO session has expired"))
                && matches!(app.sources.get(&SourceId::Cluster(Side::Old)), Some(SourceState::Live { .. }))
                && app.events.iter().any(|e| e.text.contains("vault.corp"))
        },
    );
    // A keyframe too: the whole state, as a replay would enter it.
    let mut writer = live.recorder.take().unwrap();
    writer.keyframe(live.app.now, &live.app).unwrap();
    drop(writer);
    let error = stale_error(&live.app, Side::New).unwrap();
    let recording = std::fs::read_to_string(&path).unwrap();
    // Tall enough for the event's whole message in the events panel.
    let screen = common::draw(160, 50, |f| cutover::ui::render(&live.app, f));
    for secret in [ARG_SECRET, ENV_SECRET, EVENT_JWT, &EVENT_JWT[..20]] {
        assert!(!error.contains(secret), "`{secret}` is in the source's error: {error}");
        assert!(!recording.contains(secret), "`{secret}` is in the recording");
        assert!(!screen.contains(secret), "`{secret}` is on the screen:\n{screen}");
    }

    // The failure is there to read, named as a credentials problem: the
    // plugin by its command, not its arguments' values or its environment,
    // and what it said with the values gone.
    assert!(error.starts_with("context eks-new: cannot get credentials: auth exec command"), "{error}");
    assert!(error.contains("`credential-plugin get-token` failed"), "{error}");
    assert!(!error.contains("API_TOKEN=\"") && !error.contains("KUBERNETES_EXEC_INFO"), "{error}");
    assert!(error.contains("--token ‹redacted› and API_TOKEN=‹redacted› failed"), "{error}");
    assert!(recording.contains("SSO session has expired"), "the failure is in the recording");
    assert!(recording.contains("Authorization: Bearer ‹redacted›"), "the event is in the recording");
    assert!(screen.contains("Bearer ‹redacted›"), "the event is on the screen:\n{screen}");
}

/// A plugin that fails from the first call fails the start (`cutover watch`
/// prints the reason and exits): that text is scrubbed too.
#[test]
fn a_credential_plugin_that_fails_at_the_start_is_reported_without_its_secrets() {
    common::peers::fake_aws_credentials();
    let peers = Peers::start("empty");
    use_expiring_plugin(&peers);
    std::fs::write(peers.dir.join("plugin-ran"), "").unwrap();
    let plan = cutover::plan::Plan::load(&peers.plan_path()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (tx, _rx) = tokio::sync::mpsc::channel(cutover::runtime::CHANNEL_CAPACITY);
    let cancel = tokio_util::sync::CancellationToken::new();
    let started =
        rt.block_on(cutover::sources::start_reading(&plan, tx, cancel.clone(), &tokio_util::task::TaskTracker::new()));
    cancel.cancel();
    let Err(error) = started else { panic!("the sources started with a failing credential plugin") };
    for secret in [ARG_SECRET, ENV_SECRET] {
        assert!(!error.contains(secret), "`{secret}` is in the error: {error}");
    }
    assert!(error.starts_with("[new]: context `eks-new`: cannot get credentials: auth exec command"), "{error}");
    assert!(error.contains("SSO session has expired") && error.contains("--token ‹redacted›"), "{error}");
}
