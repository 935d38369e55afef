//! Secrets out of free text, before it enters the `Msg` stream.
//!
//! Error strings and event messages come from places the console does not
//! control: kube-rs formats a failed exec credential plugin with its whole
//! command line and environment, an AWS error may echo a request, a
//! Kubernetes event quotes whatever a controller wrote. Every message is
//! recorded to disk and drawn on a screen that is shared during an
//! incident, so a secret in one of these strings would outlive the session.
//!
//! [`scrub`] replaces each secret *value* with [`REDACTED`] and keeps what
//! names it (`--token ‹redacted›`, `API_TOKEN="‹redacted›"`), so the
//! operator still reads what went wrong. It finds:
//! - `--flag value`, `--flag=value` and Debug-quoted `"--flag" "value"`
//!   whose flag name contains a secret word (token, secret, password,
//!   passwd, key, credential, auth, session, cookie);
//! - `NAME=value`, `name = value` and `NAME="value"` whose name contains a
//!   secret word: an exec plugin's environment, a credentials file, a URL's
//!   query (`X-Amz-Security-Token=`);
//! - `token: value`, `"token":"value"` whose name *ends* in a secret word
//!   and whose value is not the start of a sentence (a field, not prose:
//!   `InvalidClientTokenId: The ...`, `credentials: auth exec command
//!   failed` are kept), with `Authorization: Bearer value` keeping its
//!   scheme;
//! - `Bearer value` anywhere, when the value looks like a token;
//! - AWS access key ids (`AKIA`, `ASIA`, `AROA`... and 16 upper-case
//!   letters or digits), and a 40-character secret key right after one;
//! - JWTs (`eyJ...`.`...`.`...`), EKS tokens (`k8s-aws-v1.` + base64);
//! - the password of a URL's user info (`https://user:‹redacted›@host`);
//! - a PEM private key's body.
//!
//! It leaves ordinary text alone: workload, node and object names, ARNs
//! (an ARN names, it grants nothing), HTTP status words, AWS error codes,
//! Kubernetes reasons. Hand-written rather than a regex set: a handful of
//! linear scans over bytes, with no new dependency, run on every message.

use std::borrow::Cow;
use std::ops::Range;

use crate::app::{ClusterDelta, EffectResult, HandoffPhase, Msg, SourceState};

/// What a secret is replaced with: plainly not a value, in any font.
/// Scrubbing text that already holds it changes nothing.
pub const REDACTED: &str = "‹redacted›";

/// Words that make a flag's or variable's value secret wherever they appear
/// in its name (`--client-secret`, `AWS_SESSION_TOKEN`, `SECRET_KEY_BASE`).
const SECRET_WORDS: &[&str] =
    &["token", "secret", "password", "passwd", "key", "credential", "auth", "session", "cookie"];

/// Endings of a field name (lower case, without `-` and `_`) whose value is
/// secret in the `name: value` form. Stricter than [`SECRET_WORDS`]: in
/// that form the name is often an error code or a word of prose
/// (`AuthFailure: AWS was not able...`), which must not lose its message.
const SECRET_ENDINGS: &[&str] = &[
    "token",
    "tokens",
    "secret",
    "secrets",
    "password",
    "passwords",
    "passwd",
    "key",
    "keys",
    "keydata",
    "credential",
    "credentials",
    "auth",
    "authorization",
    "session",
    "cookie",
    "cookies",
];

/// Unquoted values after `name:` that are words saying what is wrong, not
/// the secret: `ExpiredToken: The security token...`, Kubernetes field
/// errors (`...secretKeyRef.key: Required value`), `token: expired`.
const NOT_SECRETS: &[&str] = &[
    "a",
    "an",
    "the",
    "is",
    "was",
    "has",
    "not",
    "no",
    "none",
    "null",
    "nil",
    "empty",
    "missing",
    "expired",
    "invalid",
    "required",
    "unsupported",
    "duplicate",
    "unknown",
    "unset",
    "refused",
    "denied",
    "rejected",
    "malformed",
    "unauthorized",
    "forbidden",
    "too",
    "internal",
    "true",
    "false",
];

/// Authorization schemes: the word after `Authorization:` that is kept,
/// the credentials after it are not.
const SCHEMES: &[&str] = &["bearer", "basic", "token", "digest", "negotiate", "aws4-hmac-sha256"];

/// The first four letters of AWS access key ids and unique ids.
const AWS_ID_PREFIXES: &[&[u8; 4]] =
    &[b"AKIA", b"ASIA", b"AROA", b"AIDA", b"AGPA", b"AIPA", b"ANPA", b"ANVA", b"APKA", b"ABIA", b"ACCA"];

/// `text` with every secret value in it replaced by [`REDACTED`]; borrowed,
/// without a copy, when there is none (nearly always).
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut found = Found { text, ranges: Vec::new() };
    let arns = arn_spans(text.as_bytes());
    key_values(&mut found, &arns);
    flags(&mut found);
    bearer_tokens(&mut found);
    aws_access_keys(&mut found);
    jwts(&mut found);
    eks_tokens(&mut found);
    url_passwords(&mut found);
    private_keys(&mut found);
    debug_pairs(&mut found);
    found.replace()
}

/// Scrubs a `String` in place, allocating only when something is redacted.
pub fn scrub_in_place(text: &mut String) {
    let clean = match scrub(text) {
        Cow::Borrowed(_) => return,
        Cow::Owned(clean) => clean,
    };
    *text = clean;
}

impl Msg {
    /// Scrubs every free-text field: what a source, a cluster or an
    /// executor wrote, never what the console itself named (workloads,
    /// routes, keys). The matches list every variant, so a new one does not
    /// compile until someone decides whether it carries free text.
    pub fn scrub_secrets(&mut self) {
        match self {
            // Object and node names stay: the API server allows only
            // lowercase letters, digits, '-' and '.' in them, none of the
            // patterns below, and the plan matches them.
            Msg::Cluster { delta, .. } => match delta {
                ClusterDelta::Warning(w) => {
                    scrub_in_place(&mut w.object);
                    scrub_in_place(&mut w.reason);
                    scrub_in_place(&mut w.message);
                }
                ClusterDelta::ServerVersion(version) => scrub_in_place(version),
                ClusterDelta::NodeEvent(e) => scrub_in_place(&mut e.reason),
                // What a container runtime or controller wrote: a waiting
                // or termination reason is any text it likes.
                ClusterDelta::Pod(pod) => {
                    scrub_option(&mut pod.reason);
                    if let Some(exit) = &mut pod.last_exit {
                        scrub_in_place(&mut exit.reason);
                    }
                }
                ClusterDelta::Workload(w) => {
                    w.images.iter_mut().for_each(scrub_in_place);
                    scrub_option(&mut w.schedule);
                    scrub_option(&mut w.time_zone);
                    scrub_option(&mut w.changed_by);
                    if let Some(owner) = &mut w.owner {
                        scrub_owner(owner);
                    }
                }
                // A label's value, and the tail of `spec.providerID`.
                ClusterDelta::Node(n) => {
                    scrub_in_place(&mut n.instance_type);
                    scrub_option(&mut n.instance_id);
                }
                ClusterDelta::WorkloadGone(_)
                | ClusterDelta::PodGone(_)
                | ClusterDelta::NodeGone(_)
                | ClusterDelta::Autoscaler(_)
                | ClusterDelta::AutoscalerGone(_)
                | ClusterDelta::Synced => {}
            },
            // Names and reasons AWS answered with: target ids, other target
            // groups or records of the name, a record's values.
            Msg::Traffic { routes, .. } => {
                for read in routes {
                    for (name, _) in &mut read.others {
                        scrub_in_place(name);
                    }
                    for side in crate::domain::Side::BOTH {
                        for t in read.targets.get_mut(side) {
                            scrub_in_place(&mut t.id);
                            scrub_option(&mut t.reason);
                        }
                    }
                    if let crate::domain::ReadDetail::Route53 { records } = &mut read.detail {
                        for side in crate::domain::Side::BOTH {
                            let r = records.get_mut(side);
                            scrub_in_place(&mut r.set_identifier);
                            scrub_in_place(&mut r.points_at);
                            scrub_option(&mut r.health_check);
                            scrub_option(&mut r.load_balancer);
                        }
                    }
                }
            }
            Msg::Source { state, .. } => match state {
                SourceState::Stale { error, .. } => scrub_in_place(error),
                SourceState::Connecting | SourceState::Live { .. } => {}
            },
            Msg::EffectDone { result, .. } => match result {
                EffectResult::Verified { detail }
                | EffectResult::Mismatch { detail }
                | EffectResult::Unknown { detail }
                | EffectResult::NotYet { detail } => scrub_in_place(detail),
                EffectResult::Refused { reason } => scrub_in_place(reason),
                EffectResult::Failed { error } => scrub_in_place(error),
                EffectResult::DryRun { calls } => calls.iter_mut().for_each(scrub_in_place),
            },
            // The executor's words about a write in progress, with AWS's.
            Msg::EffectProgress { text, .. } => scrub_in_place(text),
            // Built from the STS identity and the kube user, or from an
            // AWS error when the identity could not be read.
            Msg::Operator { who } => scrub_in_place(who),
            // Read back from the console's own state file: names and phases
            // it wrote, who confirmed it, with the executor's reasons in a
            // failed phase.
            Msg::Resumed { handoff, .. } => match &mut handoff.phase {
                HandoffPhase::Failed(why) | HandoffPhase::Refused(why) | HandoffPhase::StartFailed(why) => {
                    scrub_in_place(why);
                    scrub_in_place(&mut handoff.who);
                }
                HandoffPhase::Stopping
                | HandoffPhase::WaitingGone
                | HandoffPhase::Starting
                | HandoffPhase::WaitingReady
                | HandoffPhase::Done
                | HandoffPhase::Aborting
                | HandoffPhase::Aborted => scrub_in_place(&mut handoff.who),
            },
            // The owners are the values of a fixed set of tags (any text
            // a tag may hold); the error is an AWS error's text.
            Msg::RouteOwners { routes, error, .. } => {
                for r in routes {
                    for owner in [&mut r.rule, &mut r.target_groups.old, &mut r.target_groups.new].into_iter().flatten()
                    {
                        scrub_owner(owner);
                    }
                }
                scrub_option(error);
            }
            // Where an earlier change was seen: a recording's file name.
            Msg::PriorChanges { changes, .. } => changes.iter_mut().for_each(|c| scrub_in_place(&mut c.source)),
            // What an outside source said of a node (an activity's cause);
            // the node's name or instance id is an identifier, like a node's.
            Msg::NodeSignals(signals) => signals.iter_mut().for_each(|s| scrub_in_place(&mut s.detail)),
            // What could not be read: the API's words.
            Msg::Lifecycle(facts) => facts.unread.iter_mut().for_each(scrub_in_place),
            // The ALB's or the console's words about one route's read.
            Msg::RouteProblems { problems, .. } => problems.iter_mut().for_each(|p| scrub_in_place(&mut p.error)),
            // Holders name a user, a host, a process and a session; the
            // operator is an STS identity; errors are the API's words.
            Msg::Wheel { lease, wheel, .. } => {
                scrub_in_place(lease);
                match wheel {
                    crate::domain::Wheel::Yours { identity, failing, .. } => {
                        scrub_in_place(identity);
                        if let Some((_, error)) = failing {
                            scrub_in_place(error);
                        }
                    }
                    // Read from another console's Lease: its annotations are
                    // any text that console (or anyone) wrote there.
                    crate::domain::Wheel::Held { holder, operator, handoff, .. } => {
                        scrub_in_place(holder);
                        scrub_option(operator);
                        if let Some(h) = handoff {
                            scrub_in_place(&mut h.singleton);
                            scrub_in_place(&mut h.text);
                        }
                    }
                    crate::domain::Wheel::Free { last, .. } => scrub_option(last),
                    crate::domain::Wheel::Lapsed { identity, error, .. } => {
                        scrub_in_place(identity);
                        scrub_in_place(error);
                    }
                    crate::domain::Wheel::Unread { error } => scrub_in_place(error),
                }
            }
            Msg::Share(status) => match &mut status.state {
                crate::domain::ShareState::Down(e) | crate::domain::ShareState::Refused(e) => scrub_in_place(e),
                crate::domain::ShareState::Connecting | crate::domain::ShareState::Live => {}
            },
            // The runtime's words about the session's own files: an OS
            // error and a path, and a handoff read from the state file.
            Msg::Keeping(keeping) => match keeping {
                crate::app::Keeping::RecordingFailed { path, error } => {
                    scrub_in_place(path);
                    scrub_in_place(error);
                }
                crate::app::Keeping::StateFile { path, error } => {
                    scrub_in_place(path);
                    scrub_option(error);
                }
                crate::app::Keeping::RecordingResumed { .. } => {}
            },
            // A driver's state file, read by `watch`: as `Resumed`.
            Msg::OnDisk(Some(left)) => {
                if let HandoffPhase::Failed(why) | HandoffPhase::Refused(why) | HandoffPhase::StartFailed(why) =
                    &mut left.handoff.phase
                {
                    scrub_in_place(why);
                }
                scrub_in_place(&mut left.handoff.who);
            }
            Msg::Ended(crate::app::Ending::Error(e) | crate::app::Ending::Crash(e)) => scrub_in_place(e),
            Msg::Tick { .. }
            | Msg::Signal(_)
            | Msg::Ended(_)
            | Msg::Held(_)
            | Msg::OnDisk(None)
            | Msg::Key(_)
            | Msg::Resize
            | Msg::Mouse { .. }
            | Msg::Pointer(_)
            // Metrics name the series the console asked CloudWatch for.
            | Msg::Metrics(_) => {}
        }
    }
}

fn scrub_option(text: &mut Option<String>) {
    if let Some(text) = text {
        scrub_in_place(text);
    }
}

/// An owner's names come from tags, labels and annotations: any text.
fn scrub_owner(owner: &mut crate::domain::Owner) {
    use crate::domain::Owner;
    match owner {
        Owner::LoadBalancerController { cluster, stack, resource } => {
            [cluster, stack, resource].into_iter().for_each(scrub_option)
        }
        Owner::CloudFormation { stack } => scrub_in_place(stack),
        Owner::ArgoCd { app, .. } => scrub_in_place(app),
        Owner::Flux { name, namespace, .. } => {
            scrub_in_place(name);
            scrub_option(namespace);
        }
        Owner::Helm { release, namespace } => {
            scrub_in_place(release);
            scrub_option(namespace);
        }
        Owner::ExternalDns { owner_id, resource } => {
            scrub_in_place(owner_id);
            scrub_option(resource);
        }
    }
}

/// The byte ranges of secret values found so far in `text`. Every range
/// starts and ends at an ASCII byte or an end of the text, so slicing there
/// is always on a character boundary.
struct Found<'a> {
    text: &'a str,
    ranges: Vec<Range<usize>>,
}

impl<'a> Found<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Marks a value as secret, unless nothing is left of it once blanks
    /// and earlier redactions are set aside: so scrubbing twice changes
    /// nothing the second time.
    fn secret(&mut self, range: Range<usize>) {
        if self.text[range.clone()].split(REDACTED).all(|rest| rest.trim().is_empty()) {
            return;
        }
        self.ranges.push(range);
    }

    /// The text with each run of overlapping secret ranges replaced once.
    fn replace(mut self) -> Cow<'a, str> {
        if self.ranges.is_empty() {
            return Cow::Borrowed(self.text);
        }
        self.ranges.sort_by_key(|r| (r.start, r.end));
        let mut out = String::with_capacity(self.text.len());
        let mut copied = 0;
        let mut ranges = self.ranges.into_iter().peekable();
        while let Some(first) = ranges.next() {
            let mut end = first.end;
            while let Some(next) = ranges.next_if(|r| r.start <= end) {
                end = end.max(next.end);
            }
            out.push_str(&self.text[copied..first.start]);
            out.push_str(REDACTED);
            copied = end;
        }
        out.push_str(&self.text[copied..]);
        Cow::Owned(out)
    }
}

// ---------------------------------------------------------------------------
// Characters and values
// ---------------------------------------------------------------------------

/// A character of a variable, field or flag name.
fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// A character of a token-like word (ids, JWT segments, base64url).
fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-')
}

/// Where an unquoted value ends: whitespace, punctuation that separates
/// fields, quotes, and the backslash of an escape in Debug-formatted text.
fn ends_value(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(c, b',' | b';' | b'&' | b'|' | b'"' | b'\'' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>')
        || c == b'\\'
}

/// Whether `i` starts a word: nothing token-like right before it.
fn word_starts(b: &[u8], i: usize) -> bool {
    i == 0 || !is_token_char(b[i - 1])
}

/// A quote opening at `i`: `"`, `'`, or `\"`, a quote escaped once more by
/// a Debug format (an error that prints a `Command` inside another string).
fn quote_at(b: &[u8], i: usize) -> Option<&'static [u8]> {
    match b.get(i..)? {
        [b'\\', b'"', ..] => Some(b"\\\""),
        [b'"', ..] => Some(b"\""),
        [b'\'', ..] => Some(b"'"),
        _ => None,
    }
}

/// The index of the quote closing a value that starts at `from`, skipping
/// escaped characters; `None` when the text ends first.
fn closing_quote(b: &[u8], from: usize, quote: &[u8]) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        if b[i..].starts_with(quote) {
            return Some(i);
        }
        // `\x` is one escaped character, except that `\"` closes a value
        // that `\"` opened.
        i += if b[i] == b'\\' && quote.len() == 1 { 2 } else { 1 };
    }
    None
}

/// A value starting at `i` (after any spaces): the inside of its quotes
/// when quoted (to the end of the text if they never close: better a
/// message cut short than a secret shown), else up to [`ends_value`].
/// Returns the range and whether it was quoted.
fn value_at(b: &[u8], i: usize) -> (Range<usize>, bool) {
    if let Some(quote) = quote_at(b, i) {
        let start = i + quote.len();
        let end = closing_quote(b, start, quote).unwrap_or(b.len());
        return (start..end, true);
    }
    let end = b[i..].iter().position(|c| ends_value(*c)).map_or(b.len(), |n| i + n);
    (i..end, false)
}

/// `i` moved past spaces and tabs (not line breaks: a value never starts on
/// the next line).
fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| matches!(c, b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// A name in lower case without `-` and `_`: `X-Auth-Token` and
/// `aws_secret_access_key` compare as `xauthtoken`, `awssecretaccesskey`.
fn normalized(name: &str) -> String {
    name.bytes().filter(|c| !matches!(c, b'-' | b'_')).map(|c| c.to_ascii_lowercase() as char).collect()
}

fn names_a_secret(name: &str) -> bool {
    let name = normalized(name);
    SECRET_WORDS.iter().any(|w| name.contains(w))
}

fn field_names_a_secret(name: &str) -> bool {
    let name = normalized(name);
    SECRET_ENDINGS.iter().any(|w| name.ends_with(w))
}

fn is_one_of(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// Whether `i` lies inside one of `spans`.
fn inside(spans: &[Range<usize>], i: usize) -> bool {
    spans.iter().any(|s| s.contains(&i))
}

// ---------------------------------------------------------------------------
// The patterns
// ---------------------------------------------------------------------------

/// `("name", "value")`: a header or a field as a `Debug` of a pair prints
/// it (an HTTP client's headers at `trace`), with a secret word in the name.
fn debug_pairs(found: &mut Found) {
    let b = found.bytes();
    let mut i = 0;
    while let Some(n) = b[i..].windows(2).position(|w| w == b"(\"") {
        let start = i + n + 2;
        i = start;
        let Some(len) = b[start..].iter().position(|c| *c == b'"') else { break };
        let name_end = start + len;
        let Some(rest) = b[name_end..].strip_prefix(b"\", \"") else { continue };
        let value = b.len() - rest.len();
        let end = closing_quote(b, value, b"\"").unwrap_or(b.len());
        let name = String::from_utf8_lossy(&b[start..name_end]);
        if names_a_secret(&name) {
            found.secret(value..end);
        }
        i = end.max(i);
    }
}

/// Where ARNs are: their colons separate fields of a name, not a key from
/// its value (`arn:aws:secretsmanager:eu-west-1:...:secret:db-AbCdEf` holds
/// no secret).
fn arn_spans(b: &[u8]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 4 < b.len() {
        if b[i..].starts_with(b"arn:") && word_starts(b, i) && b[i + 4].is_ascii_alphabetic() {
            let end = b[i..].iter().position(|c| ends_value(*c)).map_or(b.len(), |n| i + n);
            spans.push(i..end);
            i = end;
        } else {
            i += 1;
        }
    }
    spans
}

/// `name=value`, `name = value`, `name: value`, `"name":"value"`, with the
/// name's quotes plain or Debug-escaped. `=` is an assignment (environment,
/// config file, query string, `--flag=value`): any secret word in the name
/// counts. `:` is a field: only a name ending in a secret word counts, and
/// not when the unquoted value is a word like "expired" or "Required".
fn key_values(found: &mut Found, arns: &[Range<usize>]) {
    let (text, b) = (found.text, found.bytes());
    for i in 0..b.len() {
        let sep = b[i];
        if (sep != b'=' && sep != b':') || inside(arns, i) {
            continue;
        }
        let next = b.get(i + 1).copied();
        let prev = i.checked_sub(1).map(|p| b[p]);
        // `==`, `::`, `:=`, `://`: comparisons, paths and URLs, not fields.
        if matches!(next, Some(b'=' | b':')) || matches!(prev, Some(b'=' | b':')) || b[i..].starts_with(b"://") {
            continue;
        }
        // The name, read backwards over spaces (`key = value`, `=` only)
        // and its closing quote.
        let mut j = i;
        if sep == b'=' {
            while j > 0 && b[j - 1] == b' ' {
                j -= 1;
            }
        }
        if j > 0 && matches!(b[j - 1], b'"' | b'\'') {
            j -= 1;
            if j > 0 && b[j - 1] == b'\\' {
                j -= 1;
            }
        }
        let name_end = j;
        while j > 0 && is_name_char(b[j - 1]) {
            j -= 1;
        }
        let name = &text[j..name_end];
        let secret = if sep == b'=' { names_a_secret(name) } else { field_names_a_secret(name) };
        if name.is_empty() || !secret {
            continue;
        }
        let start = skip_blanks(b, i + 1);
        let (mut value, quoted) = value_at(b, start);
        let word = &text[value.clone()];
        // Rust's Debug of an `Option<String>` field: `token: Some("...")`.
        if !quoted && word == "Some" && b.get(value.end) == Some(&b'(') {
            value = value_at(b, value.end + 1).0;
        }
        let word = &text[value.clone()];
        if (sep == b':' && !quoted && is_one_of(word, NOT_SECRETS)) || word.starts_with("arn:") {
            continue;
        }
        // `Authorization: Bearer value`: the scheme stays readable.
        if let Some(scheme) = SCHEMES.iter().find(|s| {
            let word = word.as_bytes();
            word.len() >= s.len() && word[..s.len()].eq_ignore_ascii_case(s.as_bytes()) && {
                let after = value.start + s.len();
                after == value.end || b[after] == b' '
            }
        }) {
            let after = skip_blanks(b, value.start + scheme.len());
            value = if quoted { after..value.end } else { value_at(b, after).0 };
        } else if sep == b':' && !quoted && starts_prose(b, value.clone()) {
            continue;
        }
        found.secret(value);
    }
}

/// Whether an unquoted `value` after `name:` is the first word of a
/// sentence (`cannot get credentials: auth exec command ... failed`): a
/// word of letters only, then a space and a lower-case word. A secret has
/// digits or symbols, or ends the field.
fn starts_prose(b: &[u8], value: Range<usize>) -> bool {
    b[value.clone()].iter().all(u8::is_ascii_alphabetic)
        && b.get(value.end) == Some(&b' ')
        && b.get(value.end + 1).is_some_and(u8::is_ascii_lowercase)
}

/// `--flag value`, and Debug's `"--flag" "value"` or `["--flag", "value"]`,
/// whose flag name contains a secret word. A value that starts with `-` is
/// the next flag: the secret one was a switch. `--flag=value` is a
/// key-value.
fn flags(found: &mut Found) {
    let (text, b) = (found.text, found.bytes());
    let mut i = 0;
    while i + 2 < b.len() {
        let starts = b[i..].starts_with(b"--") && (i == 0 || !is_name_char(b[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        let name_start = i + 2;
        let mut j = name_start;
        while j < b.len() && is_token_char(b[j]) {
            j += 1;
        }
        i = j.max(i + 1);
        if !names_a_secret(&text[name_start..j]) {
            continue;
        }
        // The flag's closing quote, then blanks or a list's comma.
        if let Some(quote) = quote_at(b, j) {
            j += quote.len();
        }
        let gap = j;
        j = skip_blanks(b, j);
        if b.get(j) == Some(&b',') {
            j = skip_blanks(b, j + 1);
        }
        if j == gap || j >= b.len() {
            continue;
        }
        let (value, _) = value_at(b, j);
        if text[value.clone()].starts_with('-') {
            continue;
        }
        found.secret(value);
    }
}

/// `Bearer value` outside an `Authorization:` field (a header map's Debug,
/// a curl command line in a plugin's output), when the value looks like a
/// token rather than the word "token".
fn bearer_tokens(found: &mut Found) {
    let (text, b) = (found.text, found.bytes());
    for i in 0..b.len() {
        let is_bearer = b.len() - i > 7 && b[i..i + 6].eq_ignore_ascii_case(b"bearer") && b[i + 6] == b' ';
        if !is_bearer || !word_starts(b, i) {
            continue;
        }
        let (value, _) = value_at(b, skip_blanks(b, i + 6));
        let word = &text[value.clone()];
        if word.len() >= 8 && word.bytes().any(|c| !c.is_ascii_lowercase()) {
            found.secret(value);
        }
    }
}

/// AWS access key ids (`AKIAIOSFODNN7EXAMPLE`): a known prefix and 16
/// upper-case letters or digits, as a word of its own. A 40-character
/// secret access key right after one (separated by blanks, quotes, `:`,
/// `,`, `=`) goes too: that is how a key pair is pasted.
fn aws_access_keys(found: &mut Found) {
    let b = found.bytes();
    let upper_alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let mut i = 0;
    while i + 20 <= b.len() {
        let is_id = word_starts(b, i)
            && AWS_ID_PREFIXES.iter().any(|p| b[i..].starts_with(*p))
            && b[i + 4..i + 20].iter().all(upper_alnum)
            && b.get(i + 20).is_none_or(|c| !c.is_ascii_alphanumeric());
        if !is_id {
            i += 1;
            continue;
        }
        found.secret(i..i + 20);
        let mut j = i + 20;
        let mut gap = 0;
        while gap < 8 && b.get(j).is_some_and(|c| c.is_ascii_whitespace() || b"\"':,;=|\\".contains(c)) {
            j += 1;
            gap += 1;
        }
        let key_len = b[j..].iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+')).count();
        if gap > 0 && key_len == 40 {
            found.secret(j..j + 40);
        }
        i += 20;
    }
}

/// JSON Web Tokens: three base64url segments, the first a JSON object
/// (`{"` encodes as `eyJ`). The signature may be empty (`alg: none`).
fn jwts(found: &mut Found) {
    let b = found.bytes();
    let segment = |from: usize| b[from..].iter().take_while(|c| is_token_char(**c)).count();
    let mut i = 0;
    while i + 3 < b.len() {
        if !(b[i..].starts_with(b"eyJ") && word_starts(b, i)) {
            i += 1;
            continue;
        }
        let header = segment(i);
        let mut end = i + header;
        let (mut parts, mut payload) = (1, 0);
        while parts < 3 && b.get(end) == Some(&b'.') {
            let n = segment(end + 1);
            if parts == 1 {
                payload = n;
            }
            end += 1 + n;
            parts += 1;
        }
        if header >= 10 && parts == 3 && payload > 0 {
            found.secret(i..end);
            i = end;
        } else {
            i += 1;
        }
    }
}

/// The bearer tokens `aws eks get-token` makes: `k8s-aws-v1.` and a
/// base64url presigned URL. The prefix stays, to say what it was.
fn eks_tokens(found: &mut Found) {
    const PREFIX: &[u8] = b"k8s-aws-v1.";
    let b = found.bytes();
    for i in 0..b.len() {
        if b[i..].starts_with(PREFIX) && word_starts(b, i) {
            let start = i + PREFIX.len();
            let len = b[start..].iter().take_while(|c| is_token_char(**c)).count();
            found.secret(start..start + len);
        }
    }
}

/// `scheme://user:password@host`: the password goes, the user stays.
fn url_passwords(found: &mut Found) {
    let b = found.bytes();
    for i in 0..b.len() {
        if !b[i..].starts_with(b"://") {
            continue;
        }
        let start = i + 3;
        let authority = b[start..].iter().take_while(|c| !matches!(c, b'/' | b'?' | b'#') && !ends_value(**c)).count();
        let authority = &b[start..start + authority];
        if let Some(at) = authority.iter().rposition(|c| *c == b'@')
            && let Some(colon) = authority[..at].iter().position(|c| *c == b':')
        {
            found.secret(start + colon + 1..start + at);
        }
    }
}

/// The body of a PEM private key, from its BEGIN line to its END line (or
/// the end of the text, if cut short).
fn private_keys(found: &mut Found) {
    let text = found.text;
    let mut from = 0;
    while let Some(n) = text[from..].find("-----BEGIN ") {
        let begin = from + n;
        let Some(close) = text[begin + 11..].find("-----").map(|n| begin + 11 + n) else { return };
        let body = close + 5;
        if !text[begin..close].contains("PRIVATE KEY") {
            from = body;
            continue;
        }
        let end = text[body..].find("-----END").map_or(text.len(), |n| body + n);
        found.secret(body..end);
        from = end.max(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        scrub(text).into_owned()
    }

    /// Each `(input, expected)`: the expected text exactly.
    fn check(cases: &[(&str, &str)]) {
        for (input, expected) in cases {
            assert_eq!(s(input), *expected, "scrubbing {input:?}");
        }
    }

    #[test]
    fn flags_with_a_secret_name_lose_their_value() {
        check(&[
            ("exec: aws --token abc123 --region eu-west-1", "exec: aws --token ‹redacted› --region eu-west-1"),
            ("--token=abc123 --verbose", "--token=‹redacted› --verbose"),
            ("kubelogin get-token --client-secret hunter2x", "kubelogin get-token --client-secret ‹redacted›"),
            ("--password 'two words' next", "--password '‹redacted›' next"),
            (
                "--db-passwd p4ss --api-key=k3y --auth-token t0k",
                "--db-passwd ‹redacted› --api-key=‹redacted› --auth-token ‹redacted›",
            ),
            ("--credentials-file /home/a/.aws/credentials", "--credentials-file ‹redacted›"),
            // Debug of a `Command` and of a `Vec<String>` of arguments.
            (r#""/bin/sh" "-c" "exit 1" "--token" "s3cr3t""#, r#""/bin/sh" "-c" "exit 1" "--token" "‹redacted›""#),
            (r#"args: ["--token", "s3cr3t", "-v"]"#, r#"args: ["--token", "‹redacted›", "-v"]"#),
            // Debug-escaped once more, inside another string.
            (r#"cmd: \"--token\" \"s3cr3t\""#, r#"cmd: \"--token\" \"‹redacted›\""#),
        ]);
    }

    #[test]
    fn a_secret_flag_followed_by_another_flag_is_a_switch() {
        check(&[
            ("--use-auth --region eu-west-1", "--use-auth --region eu-west-1"),
            ("pass it with --token", "pass it with --token"),
            ("--namespace app --context eks-new", "--namespace app --context eks-new"),
        ]);
    }

    #[test]
    fn secret_variables_lose_their_value() {
        check(&[
            (r#"API_TOKEN="env-secret-456" "/bin/sh""#, r#"API_TOKEN="‹redacted›" "/bin/sh""#),
            (
                "AWS_SESSION_TOKEN=IQoJb3JpZ2luX2Vj AWS_REGION=eu-west-1",
                "AWS_SESSION_TOKEN=‹redacted› AWS_REGION=eu-west-1",
            ),
            ("DB_PASSWORD=hunter2; PGPASSWD=x", "DB_PASSWORD=‹redacted›; PGPASSWD=‹redacted›"),
            ("SECRET_KEY_BASE=abc VAULT_AUTH=y", "SECRET_KEY_BASE=‹redacted› VAULT_AUTH=‹redacted›"),
            ("MY_CREDENTIAL=c SESSION=s COOKIE=k", "MY_CREDENTIAL=‹redacted› SESSION=‹redacted› COOKIE=‹redacted›"),
            // A credentials file, with spaces around `=`.
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nregion = eu-west-1",
                "aws_secret_access_key = ‹redacted›\nregion = eu-west-1",
            ),
            // A presigned URL's query.
            (
                "GET /?Action=X&X-Amz-Security-Token=FwoGZXIvYXdz&X-Amz-Date=20261125T140000Z",
                "GET /?Action=X&X-Amz-Security-Token=‹redacted›&X-Amz-Date=20261125T140000Z",
            ),
            // Escaped once more.
            (r#"env: API_TOKEN=\"env-secret-456\" next"#, r#"env: API_TOKEN=\"‹redacted›\" next"#),
        ]);
    }

    #[test]
    fn ordinary_variables_keep_their_value() {
        check(&[
            (
                r#"KUBERNETES_EXEC_INFO="{\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}""#,
                r#"KUBERNETES_EXEC_INFO="{\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}""#,
            ),
            ("AWS_REGION=eu-west-1 AWS_PROFILE=prod replicas=3", "AWS_REGION=eu-west-1 AWS_PROFILE=prod replicas=3"),
            ("if a == b", "if a == b"),
        ]);
    }

    #[test]
    fn secret_fields_lose_their_value() {
        check(&[
            ("token: xyz", "token: ‹redacted›"),
            (r#"{"token":"xyz","kind":"ExecCredential"}"#, r#"{"token":"‹redacted›","kind":"ExecCredential"}"#),
            (
                r#"{"access_token": "ya29.a0Af", "expires_in": 3599}"#,
                r#"{"access_token": "‹redacted›", "expires_in": 3599}"#,
            ),
            (r#""SecretAccessKey": "abc/def", "Expiration""#, r#""SecretAccessKey": "‹redacted›", "Expiration""#),
            ("client-key-data: LS0tLS1CRUdJTg==", "client-key-data: ‹redacted›"),
            (r#"password: Some("hunter2")"#, r#"password: Some("‹redacted›")"#),
            (r#"{\"token\":\"xyz\"}"#, r#"{\"token\":\"‹redacted›\"}"#),
            // An empty value has nothing to hide.
            (r#"{"token":""}"#, r#"{"token":""}"#),
        ]);
    }

    #[test]
    fn authorization_keeps_its_scheme() {
        check(&[
            ("Authorization: Bearer abc.def", "Authorization: Bearer ‹redacted›"),
            ("authorization: Basic dXNlcjpwYXNz", "authorization: Basic ‹redacted›"),
            ("Authorization: abc123", "Authorization: ‹redacted›"),
            (r#"{"authorization": "Bearer s3cr3t"}"#, r#"{"authorization": "Bearer ‹redacted›"}"#),
            ("curl -H 'X-Auth-Token: t0k3n'", "curl -H 'X-Auth-Token: ‹redacted›'"),
        ]);
    }

    #[test]
    fn bearer_tokens_go_but_not_the_word_token() {
        check(&[
            ("sent Bearer sha256~AbCdEf012345", "sent Bearer ‹redacted›"),
            ("the bearer token was refused", "the bearer token was refused"),
        ]);
    }

    #[test]
    fn aws_access_keys_and_their_secret_go() {
        check(&[
            ("key AKIAIOSFODNN7EXAMPLE is inactive", "key ‹redacted› is inactive"),
            ("ASIAY34FZKBOKMUTVV7A:alice", "‹redacted›:alice"),
            ("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY done", "‹redacted› ‹redacted› done"),
            (
                r#"("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")"#,
                r#"("‹redacted›", "‹redacted›")"#,
            ),
            // Not an id: too short, too long, lower case, part of a word.
            (
                "AKIAIOSFODNN7EXAMPL AKIAIOSFODNN7EXAMPLEX akiaiosfodnn7example XAKIAIOSFODNN7EXAMPLE",
                "AKIAIOSFODNN7EXAMPL AKIAIOSFODNN7EXAMPLEX akiaiosfodnn7example XAKIAIOSFODNN7EXAMPLE",
            ),
        ]);
    }

    #[test]
    fn jwts_and_eks_tokens_go() {
        let jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJl_-x";
        check(&[
            (&format!("token {jwt} expired"), "token ‹redacted› expired"),
            (&format!("{jwt}."), "‹redacted›."),
            ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "‹redacted›"),
            ("k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9u refused", "k8s-aws-v1.‹redacted› refused"),
            // One segment, or a short header: not a JWT.
            ("eyJhbGciOiJSUzI1NiJ9 eyJabc.def.ghi", "eyJhbGciOiJSUzI1NiJ9 eyJabc.def.ghi"),
        ]);
    }

    #[test]
    fn secret_pairs_in_a_debug_list_lose_their_value() {
        check(&[
            (
                r#"headers: [("x-amz-security-token", "IQoJb3JpZ2lu/x"), ("content-type", "text/plain")]"#,
                r#"headers: [("x-amz-security-token", "‹redacted›"), ("content-type", "text/plain")]"#,
            ),
            (r#"[("host", "example.com")]"#, r#"[("host", "example.com")]"#),
            (r#"("cookie", "a=b; c=d")"#, r#"("cookie", "‹redacted›")"#),
        ]);
    }

    #[test]
    fn url_passwords_go() {
        check(&[
            (
                "proxy http://alice:hunter2@proxy.corp:3128/ refused",
                "proxy http://alice:‹redacted›@proxy.corp:3128/ refused",
            ),
            ("https://eks.amazonaws.com:443/api", "https://eks.amazonaws.com:443/api"),
            ("https://alice@git.corp/repo", "https://alice@git.corp/repo"),
        ]);
    }

    #[test]
    fn private_keys_go() {
        check(&[
            (
                "cannot parse: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY----- end",
                "cannot parse: -----BEGIN RSA PRIVATE KEY-----‹redacted›-----END RSA PRIVATE KEY----- end",
            ),
            ("-----BEGIN PRIVATE KEY-----\nMIIEv", "-----BEGIN PRIVATE KEY-----‹redacted›"),
            (
                "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
                "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
            ),
        ]);
    }

    #[test]
    fn ordinary_messages_are_borrowed_unchanged() {
        for text in [
            "Back-off restarting failed container api in pod api-7d9f8c6b5-x2x_app(1b2c)",
            "BackOff",
            "Rate exceeded",
            "throttled by AWS (Throttling); backing off",
            "401 Unauthorized",
            "503 Service Unavailable: upstream connect error",
            "context eks-new: unauthorized: the credentials for this context were refused",
            "AWS credentials refused (ExpiredToken): renew them or check the profile",
            "ExpiredToken: The security token included in the request is expired",
            "InvalidClientTokenId: The security token included in the request is invalid.",
            "AuthFailure: AWS was not able to validate the provided access credentials",
            "InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.",
            "access denied: the AWS identity needs elasticloadbalancing:ModifyRule (User: arn:aws:iam::123456789012:user/alice is not authorized to perform: elasticloadbalancing:ModifyRule on resource: arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/photo/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee)",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-password-AbCdEf",
            "arn:aws:sts::123456789012:assumed-role/cutover-operator/alice (kube: eks-admin)",
            "forbidden (the kube user needs get/list/watch): pods is forbidden: User \"system:serviceaccount:ci:deployer\" cannot list resource \"pods\" in API group \"\" in the namespace \"app\"",
            "MountVolume.SetUp failed for volume \"creds\" : secret \"db-password\" not found",
            "Error: couldn't find key DB_PASSWORD in Secret app/db-creds",
            "spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef.key: Required value",
            "0/12 nodes are available: 3 node(s) had untolerated taint {karpenter.sh/disruption: disrupting}",
            "Node ip-10-1-2-3.eu-west-1.compute.internal is not ready",
            "Pod/app/api-7d9f8c6b5-x2x",
            "Container image \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:2026.11.25\" already present on machine",
            "route api: weights old 50 / new 50",
            "scale Deployment app/sessions-worker on new to 3",
            "suspend CronJob batch/token-cleanup on old",
            "cannot reach the API server: error trying to connect: tcp connect error: Connection refused (os error 111)",
            "the API server did not answer within 3s at 14:02:03",
            "KeyError: 'x' was raised",
            "no passwords here, only a password manager and an auth layer",
        ] {
            assert!(matches!(scrub(text), Cow::Borrowed(_)), "changed: {text:?} -> {:?}", s(text));
        }
    }

    #[test]
    fn field_errors_and_prose_after_a_secret_name_stay() {
        check(&[
            ("token: expired", "token: expired"),
            ("api key: invalid", "api key: invalid"),
            (
                "session: arn:aws:sts::123456789012:assumed-role/r/alice",
                "session: arn:aws:sts::123456789012:assumed-role/r/alice",
            ),
            ("cannot get credentials: auth exec command failed", "cannot get credentials: auth exec command failed"),
            ("token: Expired because the session ended", "token: Expired because the session ended"),
            // A value with digits or symbols is a secret, sentence or not.
            ("password: hunter2 was rejected", "password: ‹redacted› was rejected"),
            ("token: xyz, user: alice", "token: ‹redacted›, user: alice"),
        ]);
    }

    #[test]
    fn non_ascii_text_around_secrets_survives() {
        check(&[
            ("échec — token=ü€x ok", "échec — token=‹redacted› ok"),
            ("naïve --token 秘密 done", "naïve --token ‹redacted› done"),
        ]);
    }

    #[test]
    fn an_unclosed_quote_hides_to_the_end() {
        check(&[(r#"--token "abc def"#, r#"--token "‹redacted›"#)]);
    }

    /// Text made of the pieces every pattern looks for, in any order, with
    /// multi-byte characters among them: nothing panics, and (PEM markers
    /// aside: a key's body cut short runs to the end of the text, over
    /// whatever the first pass redacted) nothing found is found again.
    #[test]
    fn any_mix_of_the_patterns_scrubs_without_panic_and_once() {
        const PIECES: &[&str] = &[
            "token",
            "Authorization",
            "=",
            ":",
            " ",
            "\"",
            "\\\"",
            "'",
            "--",
            "€",
            "tök€n",
            "AKIA",
            "ABCDEFGHIJKLMNOP",
            "eyJ",
            "eyJhbGciOiJIUzI1",
            ".",
            "Bearer ",
            "k8s-aws-v1.",
            "://",
            "@",
            "arn:aws",
            "Some(",
            "x",
            "\\n",
            ",",
            REDACTED,
            "-----BEGIN PRIVATE KEY-----",
            "-----END",
        ];
        let mut rng = crate::sim::Rng::new(9);
        for _ in 0..20_000 {
            let n = rng.between(1, 12);
            let text: String = (0..n).map(|_| PIECES[rng.between(0, PIECES.len() as i64 - 1) as usize]).collect();
            let once = s(&text);
            if !text.contains("-----") {
                assert_eq!(s(&once), once, "scrubbing {text:?} twice");
            }
        }
    }

    #[test]
    fn scrubbing_twice_changes_nothing_more() {
        for text in [
            r#"API_TOKEN="x" "--token" "y" Authorization: Bearer z token: w"#,
            "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "http://a:b@h k8s-aws-v1.abc",
        ] {
            let once = s(text);
            assert_ne!(once, text);
            assert!(matches!(scrub(&once), Cow::Borrowed(_)), "{once:?} changed again: {:?}", s(&once));
        }
    }

    #[test]
    fn overlapping_finds_make_one_redaction() {
        // A JWT that is also a `token=` value, an id that is also a key's value.
        check(&[
            ("token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig rest", "token=‹redacted› rest"),
            ("aws_access_key_id=AKIAIOSFODNN7EXAMPLE", "aws_access_key_id=‹redacted›"),
        ]);
    }

    /// The demo world's events and errors are written like real ones:
    /// hours of them, and none loses a word.
    #[test]
    fn the_demo_worlds_messages_need_no_scrubbing() {
        use crate::sim::{SimConfig, World};
        let start: jiff::Timestamp = "2026-11-25T14:00:00Z".parse().unwrap();
        for seed in [1, 2026] {
            let mut world = World::new(&SimConfig { seed, start, scale: 1 });
            let mut msgs = world.initial();
            msgs.extend(world.advance(crate::domain::plus_secs(start, 3 * 3600)));
            assert!(msgs.iter().any(|m| matches!(m, Msg::Cluster { delta: ClusterDelta::Warning(_), .. })));
            for msg in msgs {
                let mut scrubbed = msg.clone();
                scrubbed.scrub_secrets();
                assert_eq!(scrubbed, msg, "seed {seed}");
            }
        }
    }

    #[test]
    fn every_free_text_field_of_a_message_is_scrubbed() {
        use crate::app::{Effect, SourceId};
        use crate::domain::{KubeWarning, Side, WorkloadKey, WorkloadKind};
        let at = jiff::Timestamp::UNIX_EPOCH;
        let dirty = "failed: --token abc123";
        let clean = "failed: --token ‹redacted›";
        let effect = Effect::Stop {
            side: Side::Old,
            key: WorkloadKey::new("app", "api"),
            kind: WorkloadKind::Deployment,
            then: None,
        };
        let cases: Vec<(Msg, Msg)> = vec![
            {
                let w = |t: &str| KubeWarning { at, object: t.into(), reason: t.into(), message: t.into() };
                let delta = |t| ClusterDelta::Warning(w(t));
                (
                    Msg::Cluster { side: Side::New, delta: delta(dirty) },
                    Msg::Cluster { side: Side::New, delta: delta(clean) },
                )
            },
            {
                let state = |t: &str| SourceState::Stale {
                    since: at,
                    error: t.into(),
                    last_ok: None,
                    fault: Default::default(),
                };
                let id = SourceId::Cluster(Side::Old);
                (Msg::Source { id, state: state(dirty) }, Msg::Source { id, state: state(clean) })
            },
            (Msg::Operator { who: dirty.into() }, Msg::Operator { who: clean.into() }),
            {
                let seen = |t: &str| crate::domain::SignalSeen {
                    at,
                    node: crate::domain::NodeRef::Instance("i-0abc".into()),
                    kind: crate::domain::NodeSignalKind::Rebalance,
                    detail: t.into(),
                };
                (Msg::NodeSignals(vec![seen(dirty)]), Msg::NodeSignals(vec![seen(clean)]))
            },
        ];
        let results: Vec<fn(&str) -> EffectResult> = vec![
            |t| EffectResult::Verified { detail: t.into() },
            |t| EffectResult::Mismatch { detail: t.into() },
            |t| EffectResult::Refused { reason: t.into() },
            |t| EffectResult::Failed { error: t.into() },
            |t| EffectResult::DryRun { calls: vec!["ok".into(), t.into()] },
        ];
        let done = |r: EffectResult| Msg::EffectDone { id: 1, effect: effect.clone(), result: r };
        let cases = cases.into_iter().chain(results.iter().map(|r| (done(r(dirty)), done(r(clean)))));
        for (mut msg, expected) in cases {
            msg.scrub_secrets();
            assert_eq!(msg, expected);
        }
        // Messages without free text are left as they were.
        let mut tick = Msg::Tick { at };
        tick.scrub_secrets();
        assert_eq!(tick, Msg::Tick { at });
    }
}
