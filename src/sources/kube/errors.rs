//! A failed Kubernetes call in one line an operator can act on, and
//! sorted for the code that decides what to do about it: the kind of
//! failure ([`Fault`]), the status the API server answered with, whether
//! the request left at all. Code decides on those, never on the line.

use std::time::Duration;

use kube::client::AuthError;
use kube::core::Status;
use kube::runtime::watcher;

use crate::scrub::scrub;
use crate::sources::fault::{self, Fault, short};

/// A failed Kubernetes call. Its text (its `Display`) is for the operator,
/// scrubbed of secrets; its fields are for the code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct KubeError {
    pub fault: Fault,
    /// The HTTP status the API server answered with; None when it did not
    /// answer.
    pub status: Option<u16>,
    /// The request never left: the API server refused the connection, so
    /// nothing was done.
    pub never_sent: bool,
    text: String,
}

impl KubeError {
    /// Sorts and says a kube-rs error: refused credentials, which verb on
    /// which resource is forbidden, a failed exec credential plugin by its
    /// command (never its environment or arguments' values), an unreachable
    /// server and why. The whole error goes to the log.
    pub fn of(e: &kube::Error) -> KubeError {
        tracing::warn!(error = %scrub(&fault::chain_text(e)), "Kubernetes call failed");
        let (fault, status, text) = match (e, fault::find::<AuthError>(e)) {
            (kube::Error::Api(status), _) if status.code == 401 => (
                Fault::Credentials,
                Some(status.code),
                "the credentials were refused (401 Unauthorized): the token has expired or is not for this cluster; \
                 log in again"
                    .to_string(),
            ),
            (kube::Error::Api(status), _) if status.code == 403 => {
                (Fault::Denied, Some(status.code), forbidden(&status.message))
            }
            (kube::Error::Api(status), _) => {
                (status_fault(status), Some(status.code), format!("{} ({})", short(&status.message, 160), status.code))
            }
            // The credentials of the context could not be had: not a network
            // problem. kube-rs wraps the plugin's failure in a service error.
            (_, Some(auth)) => (Fault::Credentials, None, credentials(auth)),
            (kube::Error::HyperError(_) | kube::Error::Service(_), None) => {
                let why = fault::connect(e);
                (why.fault(), None, format!("cannot reach the API server: {why}"))
            }
            (other, None) => (Fault::Other, None, short(&other.to_string(), 160)),
        };
        KubeError { fault, status, never_sent: fault::never_sent(e), text: scrub(&text).into_owned() }
    }

    /// A call the caller gave up on after `deadline`: it may still be
    /// done, or not.
    pub fn no_answer_within(deadline: Duration) -> KubeError {
        KubeError {
            fault: Fault::Timeout,
            status: None,
            never_sent: false,
            text: format!("no answer within {}s", deadline.as_secs()),
        }
    }

    /// Whether the call is known not to have done anything it did not say:
    /// the API server answered (with an error), or the request never left.
    pub fn answered(&self) -> bool {
        self.status.is_some() || self.never_sent
    }
}

impl From<&kube::Error> for KubeError {
    fn from(e: &kube::Error) -> KubeError {
        KubeError::of(e)
    }
}

/// A kube-rs error in one line an operator can act on, scrubbed of
/// secrets ([`KubeError::of`], said).
pub fn kube_error(e: &kube::Error) -> String {
    KubeError::of(e).to_string()
}

/// The kind of a refusal, from its status code (and the reason, for the
/// servers that send a standard reason with a code of their own).
fn status_fault(status: &Status) -> Fault {
    match status.code {
        401 => Fault::Credentials,
        403 => Fault::Denied,
        404 => Fault::NotFound,
        409 => Fault::Conflict,
        429 => Fault::Throttled,
        408 | 504 => Fault::Timeout,
        _ if status.is_not_found() => Fault::NotFound,
        _ if status.is_conflict() || status.is_already_exists() => Fault::Conflict,
        _ => Fault::Other,
    }
}

/// Whether the API server answered a watch with a refusal (forbidden, not
/// found...) rather than not answering.
pub(super) fn refused(err: &watcher::Error) -> bool {
    match err {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => {
            matches!(e, kube::Error::Api(_))
        }
        watcher::Error::WatchError(_) => true,
        _ => false,
    }
}

/// Explains a watch error in terms of what the operator can check.
pub fn explain(context: &str, err: &watcher::Error) -> String {
    failure(context, err).text
}

/// [`explain`], with the kind of failure, for the side's health.
pub fn failure(context: &str, err: &watcher::Error) -> crate::sources::health::Failure {
    let (text, fault) = match err {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => {
            let e = KubeError::of(e);
            (e.to_string(), e.fault)
        }
        // The same refusal as a call's, said the same way.
        watcher::Error::WatchError(status) => {
            let e = KubeError::of(&kube::Error::Api(status.clone()));
            (e.to_string(), e.fault)
        }
        other => (other.to_string(), Fault::Other),
    };
    crate::sources::health::Failure::new(scrub(&format!("context {context}: {text}")).into_owned(), fault)
}

/// The apiserver's 403 message ("pods is forbidden: User "u" cannot
/// list resource "pods" in API group "" in the namespace "app"") as who
/// may not do what, where.
fn forbidden(message: &str) -> String {
    let quoted =
        |key: &str| message.split_once(key).and_then(|(_, rest)| rest.split_once('"')).map(|(v, _)| v.to_string());
    let user = quoted("User \"");
    let verb =
        message.split_once("\" cannot ").and_then(|(_, rest)| rest.split_whitespace().next()).map(str::to_string);
    let (Some(user), Some(verb), Some(resource)) = (user, verb, quoted("resource \"")) else {
        return format!("forbidden: {}", short(message, 160));
    };
    let resource = match quoted("in API group \"") {
        Some(group) if !group.is_empty() => format!("{resource}.{group}"),
        _ => resource,
    };
    let place = match quoted("in the namespace \"") {
        Some(ns) => format!(" in namespace {ns}"),
        None => " cluster-wide".into(),
    };
    format!("forbidden: user \"{user}\" may not {verb} {resource}{place}")
}

/// kube-rs's `{cmd:?}` of the plugin (`API_TOKEN="…" "/path/aws" "eks"
/// "get-token" "--cluster-name" …`), or `cmd args`, as the program's
/// name and its leading subcommands: what the operator runs by hand.
fn command_name(cmd: &str) -> String {
    let mut words: Vec<(String, bool)> = Vec::new();
    let (mut word, mut quoted, mut in_quotes, mut escaped) = (String::new(), false, false, false);
    for c in cmd.chars().chain(std::iter::once(' ')) {
        if in_quotes {
            match c {
                _ if escaped => {
                    word.push(c);
                    escaped = false;
                }
                '\\' => escaped = true,
                '"' => in_quotes = false,
                _ => word.push(c),
            }
        } else if c == '"' {
            in_quotes = true;
            quoted |= word.is_empty();
        } else if c.is_whitespace() {
            if !word.is_empty() || quoted {
                words.push((std::mem::take(&mut word), quoted));
            }
            quoted = false;
        } else {
            word.push(c);
        }
    }
    // Debug form: the program is the first quoted word (environment
    // assignments come first, unquoted); plain form: the first word.
    let start =
        words.iter().position(|(_, q)| *q).or_else(|| words.iter().position(|(w, _)| !w.contains('='))).unwrap_or(0);
    let mut parts: Vec<&str> = Vec::new();
    for (i, (w, _)) in words.iter().enumerate().skip(start) {
        if i == start {
            parts.push(w.rsplit('/').next().unwrap_or(w));
        } else if w.starts_with('-') || parts.len() >= 3 {
            break;
        } else {
            parts.push(w);
        }
    }
    parts.join(" ")
}

/// A failed credential plugin (or other means of getting credentials) by
/// what the operator runs by hand, and what it said, scrubbed.
fn credentials(auth: &AuthError) -> String {
    match auth {
        AuthError::AuthExecRun { cmd, out } => {
            // Scrubbed before it is cut: half a secret is not caught.
            let said = |bytes: &[u8]| short(&scrub(&String::from_utf8_lossy(bytes)), 160);
            let said = match said(&out.stderr) {
                s if s.is_empty() => said(&out.stdout),
                s => s,
            };
            format!(
                "cannot get credentials: auth exec command `{}` failed ({}){}",
                command_name(cmd),
                out.status,
                if said.is_empty() { String::new() } else { format!(": {said}") }
            )
        }
        AuthError::AuthExecStart(io) => {
            format!("cannot get credentials: the kubeconfig's exec credential plugin cannot be run: {io}")
        }
        other => format!("cannot get credentials: {}", short(&other.to_string(), 160)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(Status::failure(message, reason).with_code(code)))
    }

    /// The code decides on the status, whatever the message says; the
    /// operator reads the message.
    #[test]
    fn a_refusal_is_sorted_by_its_status_not_its_words() {
        let missing = KubeError::of(&status(404, "NotFound", r#"deployments.apps "api" not found"#));
        assert_eq!((missing.fault, missing.status, missing.answered()), (Fault::NotFound, Some(404), true));
        assert_eq!(missing.to_string(), r#"deployments.apps "api" not found (404)"#);
        // An emulator's 404 with a reason of its own is still not found.
        assert_eq!(KubeError::of(&status(404, "Missing", "no such object")).fault, Fault::NotFound);
        assert_eq!(KubeError::of(&status(409, "Conflict", "the object has been modified")).fault, Fault::Conflict);
        assert_eq!(KubeError::of(&status(409, "AlreadyExists", "leases \"x\" already exists")).fault, Fault::Conflict);
        assert_eq!(KubeError::of(&status(401, "Unauthorized", "Unauthorized")).fault, Fault::Credentials);
        assert_eq!(KubeError::of(&status(403, "Forbidden", "no")).fault, Fault::Denied);
        assert_eq!(KubeError::of(&status(429, "TooManyRequests", "slow down")).fault, Fault::Throttled);
        let words = KubeError::of(&status(500, "InternalError", "etcd key not found"));
        assert_eq!((words.fault, words.to_string().as_str()), (Fault::Other, "etcd key not found (500)"));
    }

    #[test]
    fn a_refused_connection_never_sent_the_request_and_a_deadline_may_have() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let e = KubeError::of(&kube::Error::Service(Box::new(refused)));
        assert_eq!((e.fault, e.status, e.never_sent, e.answered()), (Fault::Unreachable, None, true, true));
        assert_eq!(e.to_string(), "cannot reach the API server: connection refused (nothing listens there)");
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let e = KubeError::of(&kube::Error::Service(Box::new(reset)));
        assert!(!e.never_sent && !e.answered(), "{e:?}");
        let late = KubeError::no_answer_within(Duration::from_secs(10));
        assert_eq!(
            (late.fault, late.answered(), late.to_string().as_str()),
            (Fault::Timeout, false, "no answer within 10s")
        );
    }
}
