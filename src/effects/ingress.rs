//! Weights written where the AWS Load Balancer Controller takes them from:
//! the `alb.ingress.kubernetes.io/actions.<name>` annotation of its Ingress.
//! A rule the controller owns is put back at its next reconcile when it is
//! written directly; written here, the controller itself writes the rule,
//! and the console waits for the ALB to show it.
//!
//! Only the two weights change: the annotation is read, the entries of the
//! plan's two target groups (named by `targetGroupARN` or
//! `targetGroupName`) get their new weights, and everything else (other
//! entries, stickiness, other annotations) is written back as it was; the
//! JSON's keys come back in sorted order, which the controller ignores.

use k8s_openapi::api::networking::v1::Ingress;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use super::KUBE_CALL_DEADLINE;
use crate::app::EffectResult;
use crate::domain::IngressRef;
use crate::domain::Weights;
use crate::plan::{AlbRoute, Routed};
use crate::sources::kube::kube_error;

/// The annotation with the plan's two target groups set to `to`, or why
/// it cannot be.
pub fn with_weights(annotation: &str, route: &Routed<AlbRoute>, to: Weights) -> Result<String, String> {
    with_weights_all(annotation, route, to, false)
}

/// `with_weights`, and with `all_old` (the panic button) every other entry
/// (another target group, a `serviceName`) at 0.
pub fn with_weights_all(
    annotation: &str,
    route: &Routed<AlbRoute>,
    to: Weights,
    all_old: bool,
) -> Result<String, String> {
    let mut action: Value =
        serde_json::from_str(annotation).map_err(|e| format!("the annotation is not JSON ({e})"))?;
    let groups = action
        .pointer_mut("/forwardConfig/targetGroups")
        .and_then(Value::as_array_mut)
        .ok_or("the annotation has no forwardConfig.targetGroups: it is not a weighted forward")?;
    let mut found = (false, false);
    for group in groups.iter_mut() {
        let named = |arn: &crate::plan::Arn| {
            group.get("targetGroupARN").and_then(Value::as_str) == Some(arn.0.as_str())
                || group.get("targetGroupName").and_then(Value::as_str) == Some(arn.target_group_name())
        };
        let weight = if named(&route.old_target_group) {
            found.0 = true;
            to.old.0
        } else if named(&route.new_target_group) {
            found.1 = true;
            to.new.0
        } else if all_old {
            0
        } else {
            continue;
        };
        group["weight"] = json!(weight);
    }
    match found {
        (true, true) => serde_json::to_string(&action).map_err(|e| e.to_string()),
        _ => Err(format!(
            "the annotation does not name both {} and {} by targetGroupARN or targetGroupName (a serviceName entry cannot be matched to the plan's target groups)",
            route.old_target_group.target_group_name(),
            route.new_target_group.target_group_name()
        )),
    }
}

/// Whether every entry of an annotation other than the plan's two has
/// weight 0 (or there is none).
pub fn others_at_zero(annotation: &str, route: &Routed<AlbRoute>) -> bool {
    let Ok(action) = serde_json::from_str::<Value>(annotation) else { return false };
    let Some(groups) = action.pointer("/forwardConfig/targetGroups").and_then(Value::as_array) else { return false };
    groups
        .iter()
        .filter(|g| {
            let named = |arn: &crate::plan::Arn| {
                g.get("targetGroupARN").and_then(Value::as_str) == Some(arn.0.as_str())
                    || g.get("targetGroupName").and_then(Value::as_str) == Some(arn.target_group_name())
            };
            !named(&route.old_target_group) && !named(&route.new_target_group)
        })
        .all(|g| g.get("weight").and_then(Value::as_u64).unwrap_or(0) == 0)
}

/// The weights an annotation gives the plan's two target groups.
pub fn weights_in(annotation: &str, route: &Routed<AlbRoute>) -> Option<Weights> {
    let action: Value = serde_json::from_str(annotation).ok()?;
    let groups = action.pointer("/forwardConfig/targetGroups")?.as_array()?;
    let weight = |arn: &crate::plan::Arn| {
        groups.iter().find_map(|g| {
            let named = g.get("targetGroupARN").and_then(Value::as_str) == Some(arn.0.as_str())
                || g.get("targetGroupName").and_then(Value::as_str) == Some(arn.target_group_name());
            named.then(|| g.get("weight").and_then(Value::as_u64).unwrap_or(0) as u16)
        })
    };
    Some(Weights {
        old: crate::domain::Weight(weight(&route.old_target_group)?),
        new: crate::domain::Weight(weight(&route.new_target_group)?),
    })
}

async fn read(api: &Api<Ingress>, ingress: &IngressRef) -> Result<Option<String>, String> {
    let got = tokio::time::timeout(KUBE_CALL_DEADLINE, api.get(&ingress.key.name))
        .await
        .map_err(|_| format!("no answer within {}s", KUBE_CALL_DEADLINE.as_secs()))?
        .map_err(|e| kube_error(&e))?;
    Ok(got.metadata.annotations.and_then(|a| a.get(&ingress.annotation()).cloned()))
}

pub async fn set_weights(
    client: &Client,
    route: &Routed<AlbRoute>,
    ingress: &IngressRef,
    to: Weights,
    all_old: bool,
    dry_run: bool,
) -> EffectResult {
    let api = Api::<Ingress>::namespaced(client.clone(), &ingress.key.namespace);
    let where_ = format!("Ingress {} on {}", ingress.key, ingress.side);
    let annotation = match read(&api, ingress).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return EffectResult::Refused {
                reason: format!("{where_} has no annotation {}: nothing was written", ingress.annotation()),
            };
        }
        Err(e) => return EffectResult::Failed { error: format!("reading {where_}: {e}") },
    };
    let written = match with_weights_all(&annotation, route, to, all_old) {
        Ok(w) => w,
        Err(reason) => return EffectResult::Refused { reason: format!("{where_}: {reason}") },
    };
    let body = json!({ "metadata": { "annotations": { ingress.annotation(): written } } });
    let call = format!("PATCH (merge) networking.k8s.io/v1 ingresses {} on {}: {body}", ingress.key, ingress.side);
    if dry_run {
        return EffectResult::DryRun { calls: vec![call] };
    }
    let params = PatchParams { field_manager: Some("cutover".into()), ..PatchParams::default() };
    let patched =
        tokio::time::timeout(KUBE_CALL_DEADLINE, api.patch(&ingress.key.name, &params, &Patch::Merge(&body))).await;
    let lost = match patched {
        Ok(Ok(_)) => None,
        Ok(Err(e @ kube::Error::Api(_))) => {
            return EffectResult::Failed { error: format!("{call}: {}", kube_error(&e)) };
        }
        Ok(Err(e)) => Some(kube_error(&e)),
        Err(_) => Some(format!("no answer within {}s", KUBE_CALL_DEADLINE.as_secs())),
    };
    match (read(&api, ingress).await, lost) {
        (Ok(Some(back)), lost)
            if weights_in(&back, route) == Some(to) && (!all_old || others_at_zero(&back, route)) =>
        {
            EffectResult::Verified {
                detail: match lost {
                    None => format!("{call}; waiting for the AWS Load Balancer Controller to write the rule"),
                    Some(l) => format!("{call}: the answer was lost ({l}); read again, it is applied"),
                },
            }
        }
        (Ok(back), None) => EffectResult::Mismatch {
            detail: format!(
                "{where_} reads back {:?}, not what was written",
                back.as_deref().and_then(|b| weights_in(b, route))
            ),
        },
        (Ok(_), Some(l)) => EffectResult::NotYet {
            detail: format!("{call}: the answer was lost ({l}); read again, it is not applied, and it may still be"),
        },
        (Err(e), None) => EffectResult::Mismatch { detail: format!("{where_}: written, read-back failed: {e}") },
        (Err(e), Some(l)) => {
            EffectResult::Unknown { detail: format!("{call}: the answer was lost ({l}) and the re-read failed ({e})") }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Weight;
    use crate::plan::Arn;

    fn route() -> Routed<AlbRoute> {
        let target = AlbRoute {
            listener: Arn("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2".into()),
            rule: None,
            old_target_group: Arn("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/admin-old/aa".into()),
            new_target_group: Arn("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/admin-new/bb".into()),
            ingress: None,
            lines: Default::default(),
        };
        Routed::new(crate::domain::RouteId(0), "admin", target)
    }

    #[test]
    fn only_the_two_weights_change_and_the_rest_is_kept() {
        let before = r#"{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/admin-old/aa","weight":90},{"targetGroupName":"admin-new","weight":10},{"serviceName":"canary","servicePort":"80","weight":0}],"targetGroupStickinessConfig":{"enabled":true,"durationSeconds":60}}}"#;
        let to = Weights { old: Weight(50), new: Weight(50) };
        let after = with_weights(before, &route(), to).unwrap();
        let expected = before.replace("\"weight\":90", "\"weight\":50").replace("\"weight\":10", "\"weight\":50");
        let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap();
        assert_eq!(parse(&after), parse(&expected));
        assert_eq!(weights_in(&after, &route()), Some(to));
    }

    #[test]
    fn an_annotation_that_does_not_name_both_groups_is_refused() {
        let by_service = r#"{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"admin","servicePort":"80","weight":100}]}}"#;
        let err = with_weights(by_service, &route(), Weights { old: Weight(0), new: Weight(100) }).unwrap_err();
        assert!(err.contains("does not name both admin-old and admin-new"), "{err}");
        assert!(with_weights("{", &route(), Weights::from_percent_new(0)).unwrap_err().contains("not JSON"));
        let plain = r#"{"type":"forward","targetGroupARN":"arn:x"}"#;
        assert!(
            with_weights(plain, &route(), Weights::from_percent_new(0)).unwrap_err().contains("not a weighted forward")
        );
    }

    #[test]
    fn the_panic_button_sets_every_other_entry_to_zero() {
        let before = r#"{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/admin-old/aa","weight":80},{"targetGroupName":"admin-new","weight":0},{"serviceName":"canary","servicePort":"80","weight":20}]}}"#;
        let to = Weights::from_percent_new(0);
        let kept = with_weights(before, &route(), to).unwrap();
        assert!(!others_at_zero(&kept, &route()), "a step keeps the canary's 20");
        let after = with_weights_all(before, &route(), to, true).unwrap();
        assert!(others_at_zero(&after, &route()));
        assert_eq!(weights_in(&after, &route()), Some(to));
    }
}
