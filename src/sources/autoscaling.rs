//! EC2 Auto Scaling activities as node signals: a group terminating an
//! instance that holds a route's pods (a capacity rebalance, a scale-in,
//! a health check replacement) shows on the console's time axis, on the
//! side of the node that instance is.
//!
//! Only the groups the lifecycle reader last found holding the routes'
//! pods are read, one DescribeScalingActivities call each a minute.

use std::collections::HashSet;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::app::{Msg, SourceId};
use crate::domain::{NodeRef, NodeSignalKind, SignalSeen, SignalSource};

use super::aws;
use super::health::{Failure, Health};
use super::lifecycle::Known;

/// How often the groups' activities are read.
pub const EVERY: Duration = Duration::from_secs(60);
/// How far back the first read looks: older terminations are history.
pub const FIRST_LOOK_BACK_SECS: i64 = 30 * 60;
/// The most of an activity's cause kept: its first sentence is the reason.
const DETAIL_CHARS: usize = 200;
/// The description Auto Scaling gives an activity that terminates one
/// instance.
const TERMINATING: &str = "Terminating EC2 instance: ";

/// The instance a "Terminating EC2 instance: i-0abc" activity is about.
pub fn terminated_instance(description: &str) -> Option<&str> {
    let rest = description.strip_prefix(TERMINATING)?;
    let id = rest.split(|c: char| c.is_whitespace() || c == ',').next()?;
    id.starts_with("i-").then_some(id)
}

/// A rebalance is said in the activity's cause; AWS does not document the
/// exact words ("...in response to an EC2 instance rebalance
/// recommendation"), so any "rebalanc" counts.
pub fn kind_of(cause: &str) -> NodeSignalKind {
    if cause.to_ascii_lowercase().contains("rebalanc") {
        NodeSignalKind::AsgRebalance
    } else {
        NodeSignalKind::AsgTermination
    }
}

/// An activity's cause, cut to a readable length and scrubbed, without
/// its leading `At 2026-12-08T19:47:12Z` (the signal's own time says it).
pub fn detail(cause: &str) -> String {
    let cause = match cause.strip_prefix("At ").and_then(|rest| rest.split_once(' ')) {
        Some((time, rest)) if time.parse::<Timestamp>().is_ok() => rest.trim_end_matches('.'),
        _ => cause,
    };
    let text = crate::sources::fault::short(cause, DETAIL_CHARS);
    crate::scrub::scrub(&text).into_owned()
}

/// What one group's activities say, those already sent and those before
/// `since` left out.
fn signals(
    activities: &[aws_sdk_autoscaling::types::Activity],
    since: Timestamp,
    seen: &mut HashSet<String>,
) -> Vec<SignalSeen> {
    let mut out = Vec::new();
    for a in activities {
        let Some(instance) = a.description().and_then(terminated_instance) else { continue };
        let Some(at) = a.start_time().and_then(to_timestamp) else { continue };
        let Some(id) = a.activity_id() else { continue };
        if at < since || !seen.insert(id.to_string()) {
            continue;
        }
        let cause = a.cause().unwrap_or_default();
        out.push(SignalSeen {
            at,
            node: NodeRef::Instance(instance.to_string()),
            kind: kind_of(cause),
            detail: detail(cause),
        });
    }
    out.sort_by_key(|s| s.at);
    out
}

/// An SDK time as a timestamp.
pub fn to_timestamp(t: &aws_smithy_types::DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
}

/// Polls each minute until cancelled, once the lifecycle reader has found
/// the groups. A denied call is said once (the IAM action it needs) and
/// the source stops: nothing else fails with it.
pub async fn poll(
    client: aws_sdk_autoscaling::Client,
    mut known: watch::Receiver<Known>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    let id = SourceId::Signals(SignalSource::AutoScaling);
    let mut health = Health::new(id);
    let since = Timestamp::now() - jiff::SignedDuration::from_secs(FIRST_LOOK_BACK_SECS);
    let mut seen = HashSet::new();
    if !super::lifecycle::first_known(&tx, id, &mut known, &cancel).await {
        return;
    }
    loop {
        let groups: Vec<String> = known.borrow_and_update().groups.iter().cloned().collect();
        let read = tokio::select! {
            _ = cancel.cancelled() => return,
            r = read_groups(&client, &groups, since, &mut seen) => r,
        };
        if !super::health::send_signals(&tx, &mut health, read, "Auto Scaling activities").await {
            return;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
            // The groups found for the first time, or changed: read them now.
            Ok(()) = known.changed() => {}
        }
    }
}

/// One DescribeScalingActivities per group (the newest 100 activities).
async fn read_groups(
    client: &aws_sdk_autoscaling::Client,
    groups: &[String],
    since: Timestamp,
    seen: &mut HashSet<String>,
) -> Result<Vec<SignalSeen>, Failure> {
    let mut found = Vec::new();
    for group in groups {
        let out = client
            .describe_scaling_activities()
            .auto_scaling_group_name(group)
            .max_records(100)
            .send()
            .await
            .map_err(|e| aws::failure(&e, "autoscaling:DescribeScalingActivities"))?;
        found.extend(signals(out.activities(), since, seen));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_autoscaling::types::{Activity, ScalingActivityStatusCode};
    use aws_smithy_types::DateTime;

    fn activity(id: &str, description: &str, cause: &str, secs: i64) -> Activity {
        Activity::builder()
            .activity_id(id)
            .auto_scaling_group_name("eks-spot")
            .description(description)
            .cause(cause)
            .start_time(DateTime::from_secs(secs))
            .status_code(ScalingActivityStatusCode::Successful)
            .build()
    }

    #[test]
    fn only_terminations_are_signals_each_once_and_a_rebalance_is_named() {
        let t = 1_800_000_000;
        let acts = [
            activity(
                "a1",
                "Terminating EC2 instance: i-0abc",
                "At 2027-01-15T09:00:00Z an instance was taken out of service in response to an EC2 instance rebalance recommendation.",
                t,
            ),
            activity("a2", "Launching a new EC2 instance: i-0new", "capacity", t),
            activity(
                "a3",
                "Terminating EC2 instance: i-0def",
                "a user request update of AutoScalingGroup constraints",
                t - 10,
            ),
            activity("old", "Terminating EC2 instance: i-0old", "long ago", t - 7200),
        ];
        let mut seen = HashSet::new();
        let since = Timestamp::from_second(t - 3600).unwrap_or_else(|e| panic!("{e}"));
        let out = signals(&acts, since, &mut seen);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].node, NodeRef::Instance("i-0def".into()));
        assert_eq!(out[0].kind, NodeSignalKind::AsgTermination);
        assert_eq!(out[1].kind, NodeSignalKind::AsgRebalance);
        assert_eq!(out[1].at.as_second(), t);
        assert_eq!(
            out[1].detail,
            "an instance was taken out of service in response to an EC2 instance rebalance recommendation",
            "the time the signal carries is not said again"
        );
        assert!(signals(&acts, since, &mut seen).is_empty(), "each activity once");
    }

    #[test]
    fn a_long_cause_is_cut() {
        let d = detail(&"x".repeat(500));
        assert!(d.chars().count() <= DETAIL_CHARS + 1, "{d}");
        assert_eq!(terminated_instance("Terminating EC2 instance: i-0abc (spot)"), Some("i-0abc"));
        assert_eq!(terminated_instance("Terminating EC2 instance: "), None);
    }
}
