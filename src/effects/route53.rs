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
use crate::plan::{Route53Route, Routed};
use crate::sources::aws;
use crate::sources::route53::{ReadError, RecordPair, WeightedRecord, read};

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
    /// The batch's answer was lost and the records do not show it: sent
    /// again. The lost one may still be applied (its DELETEs then no
    /// longer match, and Route 53 refuses it, unless nothing changed).
    Unanswered { attempt: u32, why: String },
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
            Progress::Unanswered { attempt, why } => {
                write!(f, "attempt {attempt} unanswered, the records do not show it; sending again ({why})")
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

/// Why a weight change of a route53 route did not end written and read
/// back. Each says what happened to the records, for the executor to
/// tell a refusal from a failure and an outcome that is not known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteError {
    /// Route 53 refused the DELETE: a record is not as it was read.
    /// Nothing was written.
    #[error(
        "changed since you looked: Route 53 refused the change batch, nothing was written ({detail}); \
         read the records again and decide"
    )]
    Changed { detail: String },
    /// Accepted but not INSYNC by the deadline.
    #[error(
        "still propagating after {} s: Route 53 accepted {change_id} and has not reported it INSYNC",
        waited.as_secs()
    )]
    StillPropagating { change_id: String, waited: Duration },
    /// Read back, the records are not what was written.
    #[error("the records read back are not as written: {detail}")]
    NotVerified { detail: String },
    #[error("{0}")]
    Read(ReadError),
    /// The answer was lost, and the records read again do not show the
    /// batch: not applied yet, and it may still be.
    #[error("{0}")]
    Unanswered(String),
    /// The answer was lost, and the records could not be read again:
    /// whether the batch was applied is not known.
    #[error("{0}")]
    NotKnown(String),
    #[error("{0}")]
    Call(String),
}

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
pub fn change_batch(
    route: &Routed<Route53Route>,
    pair: &RecordPair,
    weights: PerSide<u8>,
) -> Result<ChangeBatch, String> {
    change_batch_with(route, pair, weights, false)
}

/// Every record the batch rewrites, with its new weight: each side whose
/// weight changes, and with `zero_others` (the panic button) every other
/// weighted record of the name and type that is not at 0.
fn rewritten<'a>(pair: &'a RecordPair, weights: &PerSide<u8>, zero_others: bool) -> Vec<(&'a WeightedRecord, u8)> {
    let sides = Side::BOTH.iter().map(|s| (pair.records.get(*s), *weights.get(*s)));
    let others = pair.others.iter().filter(|_| zero_others).map(|r| (r, 0));
    sides.chain(others).filter(|(r, w)| r.weight != *w).collect()
}

/// `change_batch`, and with `zero_others` every other weighted record of
/// the name and type set to 0 in the same batch.
pub fn change_batch_with(
    route: &Routed<Route53Route>,
    pair: &RecordPair,
    weights: PerSide<u8>,
    zero_others: bool,
) -> Result<ChangeBatch, String> {
    let mut changes = Vec::new();
    for (record, weight) in rewritten(pair, &weights, zero_others) {
        for (action, set) in [
            (ChangeAction::Delete, record.as_read().clone()),
            (ChangeAction::Create, with_weight(record.as_read(), weight)),
        ] {
            let change = Change::builder().action(action).resource_record_set(set).build();
            changes.push(change.map_err(|e| format!("cannot build the change batch: {e}"))?);
        }
    }
    ChangeBatch::builder()
        .comment(format!(
            "cutover: route {}: weights {} {} -> {} {}",
            route.name(),
            pair.records.old.weight,
            pair.records.new.weight,
            weights.old,
            weights.new
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
pub fn dry_run(route: &Routed<Route53Route>, pair: &RecordPair, weights: PerSide<u8>) -> String {
    dry_run_with(route, pair, weights, false)
}

/// `dry_run`, with every other weighted record at 0 when `zero_others`.
pub fn dry_run_with(
    route: &Routed<Route53Route>,
    pair: &RecordPair,
    weights: PerSide<u8>,
    zero_others: bool,
) -> String {
    let batch = match change_batch_with(route, pair, weights, zero_others) {
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
        _ if aws::is_throttling(code) => Refusal::Retry(code.to_string()),
        _ if matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)) => {
            Refusal::Unknown(aws::explain(e, "route53:ChangeResourceRecordSets"))
        }
        _ => Refusal::Other(aws::explain(e, "route53:ChangeResourceRecordSets")),
    }
}

/// Whether the records now are the ones as read with `weights` set, and
/// with `zero_others` every other one as read at 0.
fn is_written(now: &RecordPair, as_read: &RecordPair, weights: &PerSide<u8>, zero_others: bool) -> bool {
    let sides = Side::BOTH
        .iter()
        .all(|s| now.records.get(*s).as_read() == &with_weight(as_read.records.get(*s).as_read(), *weights.get(*s)));
    let others = !zero_others
        || as_read.others.iter().all(|r| {
            let want = with_weight(r.as_read(), 0);
            now.others.iter().any(|n| n.as_read() == &want)
        });
    sides && others
}

/// Sets the route's weights: the batch, the wait for INSYNC, the read-back.
/// `as_read` is the pair the operator decided on; a record that is not as
/// it was then refuses the write.
pub async fn set_weights(
    client: &Client,
    route: &Routed<Route53Route>,
    as_read: &RecordPair,
    weights: PerSide<u8>,
    options: &WriteOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Written, WriteError> {
    write_records(client, route, as_read, weights, false, options, progress).await
}

/// `set_weights`, and with `zero_others` (the panic button) every other
/// weighted record of the name and type at 0, in the same batch.
pub async fn write_records(
    client: &Client,
    route: &Routed<Route53Route>,
    as_read: &RecordPair,
    weights: PerSide<u8>,
    zero_others: bool,
    options: &WriteOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Written, WriteError> {
    let batch = change_batch_with(route, as_read, weights.clone(), zero_others).map_err(WriteError::Call)?;
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
                    && is_written(&now, as_read, &weights, zero_others)
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
                    WriteError::NotKnown(format!("{why}; whether the change was applied is not known: {r}"))
                })?;
                if is_written(&now, as_read, &weights, zero_others) {
                    break None;
                }
                if is_written(&now, as_read, &as_read.weights(), false) && attempt < options.attempts {
                    progress(Progress::Unanswered { attempt, why: why.clone() });
                    tokio::time::sleep(pause).await;
                    continue;
                }
                return Err(WriteError::Unanswered(format!(
                    "{why}; the records were read again: not written, and the batch may still be applied"
                )));
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
    if !is_written(&after, as_read, &weights, zero_others) {
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
    route: &Routed<Route53Route>,
    write: Write<'_>,
    dry_run: bool,
    options: &WriteOptions,
    progress: crate::effects::Progress<'_>,
) -> crate::app::EffectResult {
    use crate::app::EffectResult;
    use crate::effects::Note;
    let name = route.name();
    let to = write.to;
    let pair = match read(client, route).await {
        Ok(pair) => pair,
        Err(e) => {
            return EffectResult::Failed { error: format!("route {name}: records not read, nothing written: {e}") };
        }
    };
    // As the console reads them: both sides, then every other weighted
    // record of the name.
    let mut now: Vec<(String, u16)> = Side::BOTH
        .iter()
        .map(|s| (route.set_identifier(*s).to_string(), u16::from(pair.records.get(*s).weight)))
        .collect();
    now.extend(pair.others.iter().map(|r| (r.set_identifier.clone(), u16::from(r.weight))));
    if let Some(seen) = write.seen {
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
        let call = dry_run_with(route, &pair, weights, write.all_old);
        return EffectResult::DryRun { calls: vec![call] };
    }
    // The records the plan does not know that the panic button sets to 0.
    let zeroed: Vec<String> = pair
        .others
        .iter()
        .filter(|r| write.all_old && r.weight > 0)
        .map(|r| format!("{}={}", r.set_identifier, r.weight))
        .collect();
    let mut say = |p: Progress| {
        progress(match p {
            Progress::Unanswered { .. } => Note::unanswered(p.to_string()),
            _ => Note::waiting(p.to_string()),
        })
    };
    match write_records(client, route, &pair, weights, write.all_old, options, &mut say).await {
        Ok(w) => {
            let back = w.after.weights();
            let how = match &w.change_id {
                Some(id) => format!("{id} INSYNC after {} s", w.propagated_in.as_secs()),
                None if w.attempts == 0 => "already so, nothing written".into(),
                None => "applied (an earlier attempt's answer was lost)".into(),
            };
            let mut others: Vec<String> =
                w.after.others.iter().map(|r| format!("{}={}", r.set_identifier, r.weight)).collect();
            others.sort();
            let also = match (zeroed.is_empty(), others.is_empty()) {
                (false, _) => format!(", and {} (not in the plan) set to 0: {}", zeroed.join(" "), others.join(" ")),
                (true, false) => format!(", other records {}", others.join(" ")),
                (true, true) => String::new(),
            };
            EffectResult::Verified {
                detail: format!("route {name}: {how}; reads back old {} / new {}{also}", back.old, back.new),
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
        Err(WriteError::Unanswered(e)) => EffectResult::NotYet { detail: format!("route {name}: {e}") },
        Err(WriteError::NotKnown(e)) => EffectResult::Unknown { detail: format!("route {name}: {e}") },
        Err(WriteError::Call(e)) => EffectResult::Failed { error: format!("route {name}: {e}") },
    }
}

/// A weight change of a route53 route as the executor is asked for it.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// What the operator saw (both sides, then the other records); None:
    /// a revert, written whatever the records are now.
    pub seen: Option<&'a [(String, crate::domain::Weight)]>,
    pub to: crate::domain::Weights,
    /// The panic button: every other weighted record of the name at 0.
    pub all_old: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{RecordType, Route53Lines};
    use crate::sources::route53::RecordTarget;
    use aws_sdk_route53::types::{ResourceRecord, RrType};

    fn route() -> Routed<Route53Route> {
        let target = Route53Route {
            hosted_zone_id: "Z1".into(),
            record_name: "www.example.test.".into(),
            record_type: RecordType::A,
            old_set_identifier: "eks-2022".into(),
            new_set_identifier: "eks-2026".into(),
            old_load_balancer: None,
            new_load_balancer: None,
            lines: Route53Lines::default(),
        };
        let mut route = Routed::new(crate::domain::RouteId(0), "www", target);
        route.file = "plan.toml".into();
        route
    }

    fn record(id: &str, weight: u8) -> WeightedRecord {
        let raw = ResourceRecordSet::builder()
            .name("www.example.test.")
            .r#type(RrType::A)
            .set_identifier(id)
            .weight(i64::from(weight))
            .ttl(60)
            .resource_records(ResourceRecord::builder().value("192.0.2.1").build().unwrap())
            .build()
            .unwrap();
        WeightedRecord {
            set_identifier: id.into(),
            weight,
            ttl: Some(60),
            target: RecordTarget::Values(vec!["192.0.2.1".into()]),
            health_check_id: None,
            raw,
        }
    }

    fn pair(old: u8, new: u8, canary: u8) -> RecordPair {
        RecordPair {
            records: PerSide::new(record("eks-2022", old), record("eks-2026", new)),
            others: vec![record("canary", canary)],
        }
    }

    /// A third weighted record of the name: a step leaves it, the panic
    /// button DELETEs it as read and CREATEs it at 0 in the same batch.
    #[test]
    fn the_panic_button_sets_every_other_record_to_zero_in_one_batch() {
        let before = pair(80, 0, 20);
        let weights = PerSide::new(100, 0);
        let step = change_batch(&route(), &before, weights.clone()).unwrap();
        assert_eq!(step.changes().len(), 2, "old's DELETE and CREATE only");
        let all_old = change_batch_with(&route(), &before, weights.clone(), true).unwrap();
        let sets: Vec<(String, Option<i64>)> = all_old
            .changes()
            .iter()
            .map(|c| {
                let r = c.resource_record_set().unwrap();
                (format!("{} {}", c.action().as_str(), r.set_identifier().unwrap_or_default()), r.weight())
            })
            .collect();
        assert_eq!(
            sets,
            [
                ("DELETE eks-2022".to_string(), Some(80)),
                ("CREATE eks-2022".to_string(), Some(100)),
                ("DELETE canary".to_string(), Some(20)),
                ("CREATE canary".to_string(), Some(0)),
            ]
        );
        assert!(is_written(&pair(100, 0, 0), &before, &weights, true));
        assert!(!is_written(&pair(100, 0, 20), &before, &weights, true), "the canary still answers");
        assert!(is_written(&pair(100, 0, 20), &before, &weights, false));
    }
}
