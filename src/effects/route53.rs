//! Writes a route53 route's weights: one change batch that DELETEs each
//! weighted record exactly as it was read and CREATEs it again with the new
//! weight, everything else unchanged.
//!
//! Route 53 applies a batch atomically and refuses a DELETE whose values do
//! not match the record's current ones (InvalidChangeBatch), so a record
//! that anyone changed since it was read refuses the whole write and
//! nothing changes: the DNS form of the ALB path's "changed since you
//! looked". After the batch, GetChange is asked until the change is INSYNC
//! on Route 53's name servers (until then it is "propagating"), and the
//! records are read back and compared with what was meant.

use std::fmt;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_route53::Client;
use aws_sdk_route53::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecordSet};

use crate::domain::{PerSide, Side};
use crate::plan::Route53Route;
use crate::sources::aws;
use crate::sources::route53::{ReadError, RecordPair, read};

/// How the write waits and retries. The defaults are for real Route 53:
/// a change is usually INSYNC within a minute; GetChange and
/// ChangeResourceRecordSets share the account's five requests per second.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// How long to ask GetChange before saying the change is still
    /// propagating (it was accepted; it will be applied).
    pub insync_deadline: Duration,
    pub poll_every: Duration,
    /// The first pause after a throttled batch; doubled each time.
    pub backoff: Duration,
    /// Attempts of the batch under throttling, the first included.
    pub attempts: u32,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            insync_deadline: Duration::from_secs(180),
            poll_every: Duration::from_secs(5),
            backoff: Duration::from_millis(500),
            attempts: 5,
        }
    }
}

/// What a write is doing, for the screen while it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Throttled (or a prior change still applying): retrying after `pause`.
    Retrying { attempt: u32, pause: Duration, why: String },
    /// Accepted; Route 53 says PENDING: the name servers do not all answer
    /// with it yet.
    Propagating { change_id: String, waited: Duration },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Retrying { attempt, pause, why } => {
                write!(f, "attempt {attempt} refused ({why}); retrying in {} ms", pause.as_millis())
            }
            Progress::Propagating { change_id, waited } => {
                write!(f, "propagating ({change_id} PENDING for {} s)", waited.as_secs())
            }
        }
    }
}

/// A write that took effect and was read back as meant.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// None when an earlier attempt's answer was lost and the read-back
    /// showed it applied.
    pub change_id: Option<String>,
    /// How long GetChange said PENDING.
    pub propagated_in: Duration,
    pub attempts: u32,
    pub after: RecordPair,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    /// Route 53 refused the DELETE: a record is not as it was read.
    /// Nothing was written.
    Changed {
        detail: String,
    },
    /// Accepted but not INSYNC by the deadline.
    StillPropagating {
        change_id: String,
        waited: Duration,
    },
    /// Read back, the records are not what was written.
    NotVerified {
        detail: String,
    },
    Read(ReadError),
    Call(String),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Changed { detail } => write!(
                f,
                "changed since you looked: Route 53 refused the change batch, nothing was written ({detail}); \
                 read the records again and decide"
            ),
            WriteError::StillPropagating { change_id, waited } => write!(
                f,
                "still propagating after {} s: Route 53 accepted {change_id} and has not reported it INSYNC",
                waited.as_secs()
            ),
            WriteError::NotVerified { detail } => write!(f, "the records read back are not as written: {detail}"),
            WriteError::Read(e) => write!(f, "{e}"),
            WriteError::Call(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for WriteError {}

/// The weights for a percent to new: `100 - p` and `p`, so 0 and 100 put
/// every answer on one side (0/0 would be an equal split).
pub fn weights_for_percent(percent: u8) -> PerSide<u8> {
    let p = percent.min(100);
    PerSide::new(100 - p, p)
}

fn with_weight(record: &ResourceRecordSet, weight: u8) -> ResourceRecordSet {
    let mut r = record.clone();
    r.weight = Some(i64::from(weight));
    r
}

/// The batch: per side, DELETE the record as read, CREATE it with the
/// new weight. A side whose weight does not change is left out.
pub fn change_batch(route: &Route53Route, pair: &RecordPair, weights: PerSide<u8>) -> Result<ChangeBatch, String> {
    let mut changes = Vec::new();
    for side in Side::BOTH {
        let record = pair.records.get(side);
        if record.weight == *weights.get(side) {
            continue;
        }
        for (action, set) in [
            (ChangeAction::Delete, record.as_read().clone()),
            (ChangeAction::Create, with_weight(record.as_read(), *weights.get(side))),
        ] {
            let change = Change::builder().action(action).resource_record_set(set).build();
            changes.push(change.map_err(|e| format!("cannot build the change batch: {e}"))?);
        }
    }
    ChangeBatch::builder()
        .comment(format!(
            "cutover: route {}: weights {} {} -> {} {}",
            route.name, pair.records.old.weight, pair.records.new.weight, weights.old, weights.new
        ))
        .set_changes(Some(changes))
        .build()
        .map_err(|e| format!("cannot build the change batch: {e}"))
}

fn record_json(r: &ResourceRecordSet) -> serde_json::Value {
    let mut v = serde_json::json!({ "Name": r.name, "Type": r.r#type.as_str() });
    if let Some(id) = &r.set_identifier {
        v["SetIdentifier"] = id.clone().into();
    }
    if let Some(w) = r.weight {
        v["Weight"] = w.into();
    }
    if let Some(ttl) = r.ttl {
        v["TTL"] = ttl.into();
    }
    if let Some(records) = &r.resource_records {
        v["ResourceRecords"] = records.iter().map(|x| serde_json::json!({ "Value": x.value })).collect();
    }
    if let Some(a) = &r.alias_target {
        v["AliasTarget"] = serde_json::json!({
            "HostedZoneId": a.hosted_zone_id,
            "DNSName": a.dns_name,
            "EvaluateTargetHealth": a.evaluate_target_health,
        });
    }
    if let Some(h) = &r.health_check_id {
        v["HealthCheckId"] = h.clone().into();
    }
    v
}

/// The change batch a write would send, as the AWS CLI's
/// `--change-batch` JSON, without calling AWS.
pub fn dry_run(route: &Route53Route, pair: &RecordPair, weights: PerSide<u8>) -> String {
    let batch = match change_batch(route, pair, weights) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let json = serde_json::json!({
        "Comment": batch.comment,
        "Changes": batch.changes.iter().map(|c| serde_json::json!({
            "Action": c.action.as_str(),
            "ResourceRecordSet": c.resource_record_set.as_ref().map(record_json),
        })).collect::<Vec<_>>(),
    });
    // One line, quoted for a shell: the events panel wraps it, and it can
    // be pasted as it is.
    let text = serde_json::to_string(&json).unwrap_or_default().replace('\'', "'\\''");
    format!(
        "dry run: nothing sent. aws route53 change-resource-record-sets --hosted-zone-id {} --change-batch '{text}'",
        route.hosted_zone_id
    )
}

/// How a refused batch is to be handled.
enum Refusal {
    Changed(String),
    Retry(String),
    /// The answer was lost: the batch may or may not have been applied.
    Unknown(String),
    Other(String),
}

fn refusal<E>(e: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> Refusal
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = e.code().unwrap_or("");
    let message = e.message().unwrap_or("").to_string();
    // Route 53 answers InvalidChangeBatch in a body of its own shape
    // (<InvalidChangeBatch><Messages>...), which the SDK may not parse a
    // code from: the body says it.
    let body_says = e
        .raw_response()
        .and_then(|r| r.body().bytes())
        .is_some_and(|b| String::from_utf8_lossy(b).contains("InvalidChangeBatch"));
    match code {
        "InvalidChangeBatch" => Refusal::Changed(message),
        "" if body_says => Refusal::Changed("InvalidChangeBatch".into()),
        "Throttling" | "ThrottlingException" | "PriorRequestNotComplete" => Refusal::Retry(code.to_string()),
        _ if matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)) => {
            Refusal::Unknown(aws::explain(e, "route53:ChangeResourceRecordSets"))
        }
        _ => Refusal::Other(aws::explain(e, "route53:ChangeResourceRecordSets")),
    }
}

/// Whether the records now are the ones as read with `weights` set.
fn is_written(now: &RecordPair, as_read: &RecordPair, weights: &PerSide<u8>) -> bool {
    Side::BOTH
        .iter()
        .all(|s| now.records.get(*s).as_read() == &with_weight(as_read.records.get(*s).as_read(), *weights.get(*s)))
}

/// Sets the route's weights: the batch, the wait for INSYNC, the read-back.
/// `as_read` is the pair the operator decided on; a record that is not as
/// it was then refuses the write.
pub async fn set_weights(
    client: &Client,
    route: &Route53Route,
    as_read: &RecordPair,
    weights: PerSide<u8>,
    options: &WriteOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Written, WriteError> {
    let batch = change_batch(route, as_read, weights.clone()).map_err(WriteError::Call)?;
    if batch.changes.is_empty() {
        return Ok(Written { change_id: None, propagated_in: Duration::ZERO, attempts: 0, after: as_read.clone() });
    }
    let mut attempt = 0;
    let mut pause = options.backoff;
    let change_id = loop {
        attempt += 1;
        let sent = client
            .change_resource_record_sets()
            .hosted_zone_id(&route.hosted_zone_id)
            .change_batch(batch.clone())
            .customize()
            // One attempt per send: this loop decides what is safe to retry.
            .config_override(aws_sdk_route53::config::Builder::default().retry_config(RetryConfig::disabled()))
            .send()
            .await;
        let e = match sent {
            Ok(out) => break out.change_info().map(|c| c.id().to_string()),
            Err(e) => e,
        };
        match refusal(&e) {
            Refusal::Changed(detail) => {
                // After a lost answer, the refusal may be of our own
                // earlier attempt, applied: the records say.
                if attempt > 1
                    && let Ok(now) = read(client, route).await
                    && is_written(&now, as_read, &weights)
                {
                    break None;
                }
                return Err(WriteError::Changed { detail });
            }
            Refusal::Retry(why) if attempt < options.attempts => {
                progress(Progress::Retrying { attempt, pause, why });
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(8));
            }
            Refusal::Retry(why) => {
                return Err(WriteError::Call(format!(
                    "{}: {why} on route53:ChangeResourceRecordSets {attempt} times; nothing was written",
                    aws::THROTTLED
                )));
            }
            Refusal::Unknown(why) => {
                let now = read(client, route).await.map_err(|r| {
                    WriteError::Call(format!("{why}; whether the change was applied is not known: {r}"))
                })?;
                if is_written(&now, as_read, &weights) {
                    break None;
                }
                if is_written(&now, as_read, &as_read.weights()) && attempt < options.attempts {
                    tokio::time::sleep(pause).await;
                    continue;
                }
                return Err(WriteError::Call(format!("{why}; the records were read again: not written")));
            }
            Refusal::Other(why) => return Err(WriteError::Call(why)),
        }
    };
    let started = Instant::now();
    if let Some(id) = &change_id {
        loop {
            let status = client
                .get_change()
                .id(id)
                .send()
                .await
                .map_err(|e| WriteError::Call(aws::explain(&e, "route53:GetChange")))?;
            let waited = started.elapsed();
            if status.change_info().is_some_and(|c| c.status() == &ChangeStatus::Insync) {
                break;
            }
            if waited >= options.insync_deadline {
                return Err(WriteError::StillPropagating { change_id: id.clone(), waited });
            }
            progress(Progress::Propagating { change_id: id.clone(), waited });
            tokio::time::sleep(options.poll_every).await;
        }
    }
    let propagated_in = started.elapsed();
    let after = read(client, route).await.map_err(WriteError::Read)?;
    if !is_written(&after, as_read, &weights) {
        let got = after.weights();
        return Err(WriteError::NotVerified {
            detail: if got == weights {
                "the weights are as written, another field changed".to_string()
            } else {
                format!("weights old {} new {}, written {} {}", got.old, got.new, weights.old, weights.new)
            },
        });
    }
    Ok(Written { change_id, propagated_in, attempts: attempt, after })
}

/// What the console's executor does with a weight change of a route53
/// route: read the records now; unless it is a revert, refuse when they
/// are not what the operator saw; then the batch (or, in a dry run, only
/// its text), the wait for INSYNC and the read-back, as one outcome.
pub async fn set_route(
    client: &Client,
    route: &Route53Route,
    seen: Option<&[(String, crate::domain::Weight)]>,
    to: crate::domain::Weights,
    dry_run: bool,
    options: &WriteOptions,
    progress: crate::effects::Progress<'_>,
) -> crate::app::EffectResult {
    use crate::app::EffectResult;
    let name = &route.name;
    let pair = match read(client, route).await {
        Ok(pair) => pair,
        Err(e) => {
            return EffectResult::Failed { error: format!("route {name}: records not read, nothing written: {e}") };
        }
    };
    let now: Vec<(String, u16)> = Side::BOTH
        .iter()
        .map(|s| (route.set_identifier(*s).to_string(), u16::from(pair.records.get(*s).weight)))
        .collect();
    if let Some(seen) = seen {
        let saw: Vec<(String, u16)> = seen.iter().map(|(id, w)| (id.clone(), w.0)).collect();
        if saw != now {
            let show = |v: &[(String, u16)]| v.iter().map(|(id, w)| format!("{id}={w}")).collect::<Vec<_>>().join(", ");
            return EffectResult::Refused {
                reason: format!(
                    "route {name} changed since you looked: you saw {}, the records are {}",
                    show(&saw),
                    show(&now)
                ),
            };
        }
    }
    let max = u16::from(u8::MAX);
    if to.old.0 > max || to.new.0 > max {
        return EffectResult::Refused { reason: format!("route {name}: weighted records take 0 to 255") };
    }
    let weights = PerSide::new(to.old.0 as u8, to.new.0 as u8);
    if dry_run {
        return EffectResult::DryRun { calls: vec![crate::effects::route53::dry_run(route, &pair, weights)] };
    }
    let mut say = |p: Progress| progress(p.to_string());
    match set_weights(client, route, &pair, weights, options, &mut say).await {
        Ok(w) => {
            let back = w.after.weights();
            let how = match &w.change_id {
                Some(id) => format!("{id} INSYNC after {} s", w.propagated_in.as_secs()),
                None => "applied (an earlier attempt's answer was lost)".into(),
            };
            EffectResult::Verified {
                detail: format!("route {name}: {how}; reads back old {} / new {}", back.old, back.new),
            }
        }
        Err(WriteError::Changed { detail }) => {
            EffectResult::Refused { reason: format!("route {name}: {}", WriteError::Changed { detail }) }
        }
        Err(e @ WriteError::StillPropagating { .. }) => EffectResult::Mismatch { detail: format!("route {name}: {e}") },
        Err(e @ WriteError::NotVerified { .. }) => EffectResult::Mismatch { detail: format!("route {name}: {e}") },
        Err(e @ WriteError::Read(_)) => {
            EffectResult::Unknown { detail: format!("route {name}: the batch was accepted, the read-back failed: {e}") }
        }
        Err(WriteError::Call(e)) if e.contains("not known") => {
            EffectResult::Unknown { detail: format!("route {name}: {e}") }
        }
        Err(WriteError::Call(e)) => EffectResult::Failed { error: format!("route {name}: {e}") },
    }
}
