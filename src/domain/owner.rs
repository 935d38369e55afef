//! Other hands that write what cutover writes: the controllers that own a
//! listener rule, a target group or a workload, read from the marks they
//! leave on it (ELBv2 tags, Kubernetes labels and annotations).
//!
//! Detection is pure, and done at the sources' boundary: of an object's
//! tags, labels and annotations only the owner they name goes on (a
//! workload's `owner`, a route's `RouteOwners`), nothing else.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{PerSide, WorkloadKind};

/// ELBv2 tags of the AWS Load Balancer Controller.
pub const TAG_LBC_CLUSTER: &str = "elbv2.k8s.aws/cluster";
pub const TAG_LBC_STACK: &str = "ingress.k8s.aws/stack";
pub const TAG_LBC_RESOURCE: &str = "ingress.k8s.aws/resource";
/// The tag CloudFormation puts on what a stack created.
pub const TAG_CFN_STACK: &str = "aws:cloudformation:stack-name";

/// Argo CD's annotation tracking (the default from 3.0):
/// `<app>:<group>/<kind>:<namespace>/<name>`.
pub const ARGO_TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";
/// Argo CD's label tracking (the default before 3.0), also set by Helm charts.
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const FLUX_KUSTOMIZE_NAME: &str = "kustomize.toolkit.fluxcd.io/name";
pub const FLUX_KUSTOMIZE_NAMESPACE: &str = "kustomize.toolkit.fluxcd.io/namespace";
pub const FLUX_HELM_NAME: &str = "helm.toolkit.fluxcd.io/name";
pub const FLUX_HELM_NAMESPACE: &str = "helm.toolkit.fluxcd.io/namespace";
/// Flux's per-object opt-out: `disabled` and the controller leaves it alone.
pub const FLUX_RECONCILE: &str = "kustomize.toolkit.fluxcd.io/reconcile";
pub const HELM_RELEASE_NAME: &str = "meta.helm.sh/release-name";
pub const HELM_RELEASE_NAMESPACE: &str = "meta.helm.sh/release-namespace";

/// The word a proposal that an owner would undo must be confirmed with.
pub const OVERRIDE_WORD: &str = "override";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FluxKind {
    Kustomization,
    HelmRelease,
}

/// Who else writes a resource, and so may put back what cutover changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Owner {
    /// The AWS Load Balancer Controller: reconciles the rules it created
    /// from an Ingress and puts manual weight changes back.
    LoadBalancerController {
        /// `elbv2.k8s.aws/cluster`: the cluster the controller runs in.
        cluster: Option<String>,
        /// `ingress.k8s.aws/stack`: `namespace/name` of an Ingress, or an
        /// IngressGroup's name.
        stack: Option<String>,
        /// `ingress.k8s.aws/resource`: which part of the stack it is.
        resource: Option<String>,
    },
    /// Created by a CloudFormation stack: the stack's next update resets it.
    CloudFormation { stack: String },
    /// Tracked by an Argo CD application.
    ArgoCd {
        app: String,
        /// Only by the label `app.kubernetes.io/instance` (the older
        /// tracking, which Helm charts set as well): less certain.
        #[serde(default)]
        by_label: bool,
    },
    /// Applied by a Flux Kustomization or HelmRelease.
    Flux {
        kind: FluxKind,
        name: String,
        namespace: Option<String>,
        /// `kustomize.toolkit.fluxcd.io/reconcile: disabled` on the object.
        #[serde(default)]
        reconcile_disabled: bool,
    },
    /// Installed by `helm` (no controller: nothing reverts it until the
    /// next `helm upgrade`).
    Helm { release: String, namespace: Option<String> },
    /// ExternalDNS, by its TXT registry record: it writes the record from
    /// an Ingress or Service and puts its weight back at its next sync.
    ExternalDns {
        /// `external-dns/owner`: the `--txt-owner-id` of the instance.
        owner_id: String,
        /// `external-dns/resource`: `ingress/<namespace>/<name>` or
        /// `service/<namespace>/<name>`, when the registry says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<String>,
    },
}

/// The annotation ExternalDNS takes a weighted record's weight from.
pub const EXTERNAL_DNS_WEIGHT: &str = "external-dns.alpha.kubernetes.io/aws-weight";

impl Owner {
    /// One line, as the drill-downs, the proposals and `cutover check` say it.
    pub fn describe(&self) -> String {
        match self {
            Owner::LoadBalancerController { cluster, stack, .. } => {
                let mut parts = Vec::new();
                if let Some(c) = cluster {
                    parts.push(format!("cluster {c}"));
                }
                match stack {
                    Some(s) if s.contains('/') => parts.push(format!("Ingress {s}")),
                    Some(s) => parts.push(format!("IngressGroup {s}")),
                    None => {}
                }
                if parts.is_empty() {
                    "the AWS Load Balancer Controller".into()
                } else {
                    format!("the AWS Load Balancer Controller ({})", parts.join(", "))
                }
            }
            Owner::CloudFormation { stack } => format!("CloudFormation stack {stack}"),
            Owner::ArgoCd { app, by_label: false } => format!("Argo CD application {app}"),
            Owner::ArgoCd { app, by_label: true } => {
                format!("Argo CD application {app} (by its label {LABEL_INSTANCE})")
            }
            Owner::Flux { kind, name, namespace, reconcile_disabled } => {
                let name = namespace.as_ref().map_or(name.clone(), |ns| format!("{ns}/{name}"));
                let off = if *reconcile_disabled { " (reconcile disabled on this object)" } else { "" };
                format!("Flux {kind:?} {name}{off}")
            }
            Owner::Helm { release, namespace } => match namespace {
                Some(ns) => format!("Helm release {ns}/{release}"),
                None => format!("Helm release {release}"),
            },
            Owner::ExternalDns { owner_id, resource } => match resource {
                Some(r) => format!("ExternalDNS (owner {owner_id}, from {r})"),
                None => format!("ExternalDNS (owner {owner_id})"),
            },
        }
    }

    /// Whether it puts a listener rule's weights back by itself.
    pub fn reverts_weights(&self) -> bool {
        matches!(self, Owner::LoadBalancerController { .. } | Owner::ExternalDns { .. })
    }

    /// Whether it would scale a Deployment back by itself, if its manifest
    /// sets `replicas` (which cannot be seen from here: assumed).
    pub fn reverts_replicas(&self) -> bool {
        matches!(self, Owner::ArgoCd { .. } | Owner::Flux { reconcile_disabled: false, .. })
    }

    /// What it does to a weight change of a rule it owns, and what to do
    /// instead.
    pub fn weights_advice(&self) -> String {
        match self {
            Owner::LoadBalancerController { .. } => format!(
                "{} will put the weights back at its next reconcile: change the Ingress annotation `alb.ingress.kubernetes.io/actions.<name>` instead",
                self.describe()
            ),
            Owner::CloudFormation { .. } => {
                format!(
                    "{} sets these weights again at its next update: change them in the template too",
                    self.describe()
                )
            }
            Owner::ExternalDns { resource, .. } => {
                let on = resource.as_deref().map_or("the owning Ingress or Service".to_string(), |r| r.to_string());
                format!(
                    "{} will put the weight back at its next sync: change the annotation `{EXTERNAL_DNS_WEIGHT}` on {on} instead",
                    self.describe()
                )
            }
            other => format!("{} is named on it", other.describe()),
        }
    }

    /// What it does to a stopped or started singleton, and what to do
    /// instead.
    pub fn replicas_advice(&self, kind: WorkloadKind) -> String {
        let field = if kind == WorkloadKind::CronJob { "suspend" } else { "replicas" };
        let undo = if kind == WorkloadKind::CronJob { "undo the suspend or resume" } else { "scale it back" };
        match self {
            Owner::ArgoCd { app, .. } => format!(
                "{} with self-heal will {undo}: turn off automated sync for {app} (or add a deny sync window), or remove `{field}` from the manifest",
                self.describe()
            ),
            Owner::Flux { kind: flux, name, namespace, reconcile_disabled: false } => {
                let what = match flux {
                    FluxKind::Kustomization => "kustomization",
                    FluxKind::HelmRelease => "helmrelease",
                };
                let ns = namespace.as_ref().map(|n| format!(" -n {n}")).unwrap_or_default();
                format!(
                    "{} will {undo} at its next reconcile: `flux suspend {what} {name}{ns}`, or annotate it `{FLUX_RECONCILE}: disabled`, or remove `{field}` from the manifest",
                    self.describe()
                )
            }
            Owner::Flux { .. } => format!("{}: Flux leaves it alone", self.describe()),
            Owner::Helm { .. } => format!("{}: the next `helm upgrade` sets `{field}` again", self.describe()),
            other => format!("{} is named on it", other.describe()),
        }
    }
}

/// The owner a set of ELBv2 tags names, if any: the Load Balancer
/// Controller first (it reconciles), then CloudFormation.
pub fn owner_from_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Owner> {
    let tags: BTreeMap<&str, &str> = tags.into_iter().collect();
    let tag = |k: &str| tags.get(k).map(|v| v.to_string());
    let (cluster, stack, resource) = (tag(TAG_LBC_CLUSTER), tag(TAG_LBC_STACK), tag(TAG_LBC_RESOURCE));
    if cluster.is_some() || stack.is_some() || resource.is_some() {
        return Some(Owner::LoadBalancerController { cluster, stack, resource });
    }
    tag(TAG_CFN_STACK).map(|stack| Owner::CloudFormation { stack })
}

/// An object's owner from its labels and annotations (only the keys
/// above are looked at), for an object of `kind` named `namespace/name`.
///
/// In order: Argo CD's tracking-id, when it names this very object (Argo
/// CD ignores one copied onto another object); Flux's labels; Helm's
/// release annotation with its managed-by label; Argo CD's older instance
/// label.
pub fn owner_from_metadata(
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Option<Owner> {
    let label = |k: &str| labels.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let annotation = |k: &str| annotations.get(k).map(String::as_str).filter(|v| !v.is_empty());
    if let Some(id) = annotation(ARGO_TRACKING_ID)
        && let Some(app) = argo_app(id, kind, namespace, name)
    {
        return Some(Owner::ArgoCd { app, by_label: false });
    }
    let disabled = annotation(FLUX_RECONCILE).or(label(FLUX_RECONCILE)) == Some("disabled");
    for (flux, name_key, ns_key) in [
        (FluxKind::Kustomization, FLUX_KUSTOMIZE_NAME, FLUX_KUSTOMIZE_NAMESPACE),
        (FluxKind::HelmRelease, FLUX_HELM_NAME, FLUX_HELM_NAMESPACE),
    ] {
        if let Some(n) = label(name_key) {
            return Some(Owner::Flux {
                kind: flux,
                name: n.into(),
                namespace: label(ns_key).map(Into::into),
                reconcile_disabled: disabled,
            });
        }
    }
    if let Some(release) = annotation(HELM_RELEASE_NAME)
        && label(LABEL_MANAGED_BY).is_some_and(|m| m.eq_ignore_ascii_case("helm"))
    {
        return Some(Owner::Helm {
            release: release.into(),
            namespace: annotation(HELM_RELEASE_NAMESPACE).map(Into::into),
        });
    }
    // Helm charts set the instance label too: with `managed-by: Helm` and
    // no release annotation it is a chart rendered by something else (Argo
    // CD renders Helm charts), so it still names Argo CD's application.
    label(LABEL_INSTANCE).map(|app| Owner::ArgoCd { app: app.into(), by_label: true })
}

/// The application a tracking-id names, if it names this object:
/// `<app>:<group>/<kind>:<namespace>/<name>` (the group is empty for core
/// kinds; the namespace is empty for cluster-scoped objects).
fn argo_app(id: &str, kind: WorkloadKind, namespace: &str, name: &str) -> Option<String> {
    let (app, rest) = id.split_once(':')?;
    let (group_kind, ns_name) = rest.split_once(':')?;
    let tracked_kind = group_kind.rsplit('/').next()?;
    let (tracked_ns, tracked_name) = ns_name.split_once('/')?;
    let kind_name = match kind {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::StatefulSet => "StatefulSet",
        WorkloadKind::CronJob => "CronJob",
        WorkloadKind::Job => "Job",
    };
    (!app.is_empty() && tracked_kind == kind_name && tracked_ns == namespace && tracked_name == name)
        .then(|| app.to_string())
}

/// Who else writes a route's ALB resources, from their ELBv2 tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteOwners {
    pub route: super::RouteId,
    /// The listener rule, or the listener for a default action: the owner
    /// that would put the weights back.
    pub rule: Option<Owner>,
    /// The old and new target groups (their targets, not the weights).
    pub target_groups: PerSide<Option<Owner>>,
}

impl RouteOwners {
    /// One line: the rule's owner, then the target groups' where known.
    pub fn describe(&self) -> String {
        let name = |o: &Option<Owner>| o.as_ref().map_or("nobody known".to_string(), Owner::describe);
        if self.rule.is_none() && self.target_groups.old.is_none() && self.target_groups.new.is_none() {
            return "nobody known (no controller's tags on the rule or its target groups)".into();
        }
        let mut text = format!("rule: {}", name(&self.rule));
        if self.target_groups.old == self.target_groups.new {
            text.push_str(&format!("; target groups: {}", name(&self.target_groups.old)));
        } else {
            text.push_str(&format!(
                "; target groups: old {}, new {}",
                name(&self.target_groups.old),
                name(&self.target_groups.new)
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn owners_from_elbv2_tags() {
        let lbc = |cluster: Option<&str>, stack: Option<&str>, resource: Option<&str>| {
            Some(Owner::LoadBalancerController {
                cluster: cluster.map(Into::into),
                stack: stack.map(Into::into),
                resource: resource.map(Into::into),
            })
        };
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<Owner>);
        let cases: Vec<Case> = vec![
            ("no tags", vec![], None),
            ("unrelated tags", vec![("app", "photo"), ("team", "sre")], None),
            (
                "a rule of an Ingress",
                vec![
                    (TAG_LBC_CLUSTER, "eks-old"),
                    (TAG_LBC_STACK, "app/photo-api"),
                    (TAG_LBC_RESOURCE, "80:1"),
                    ("app", "photo"),
                ],
                lbc(Some("eks-old"), Some("app/photo-api"), Some("80:1")),
            ),
            (
                "an IngressGroup's listener",
                vec![(TAG_LBC_CLUSTER, "eks-old"), (TAG_LBC_STACK, "photo"), (TAG_LBC_RESOURCE, "443")],
                lbc(Some("eks-old"), Some("photo"), Some("443")),
            ),
            ("the cluster tag alone", vec![(TAG_LBC_CLUSTER, "eks-new")], lbc(Some("eks-new"), None, None)),
            (
                "CloudFormation",
                vec![(TAG_CFN_STACK, "photo-alb"), ("aws:cloudformation:logical-id", "AdminRule")],
                Some(Owner::CloudFormation { stack: "photo-alb".into() }),
            ),
            (
                "the controller wins over CloudFormation",
                vec![(TAG_CFN_STACK, "photo-alb"), (TAG_LBC_STACK, "app/photo-api")],
                lbc(None, Some("app/photo-api"), None),
            ),
        ];
        for (what, tags, expected) in cases {
            assert_eq!(owner_from_tags(tags.iter().map(|(k, v)| (*k, *v))), expected, "{what}");
        }
    }

    #[test]
    fn owners_from_labels_and_annotations() {
        let argo = |app: &str, by_label| Some(Owner::ArgoCd { app: app.into(), by_label });
        let flux = |kind, name: &str, ns: Option<&str>, off| {
            Some(Owner::Flux { kind, name: name.into(), namespace: ns.map(Into::into), reconcile_disabled: off })
        };
        let deploy = WorkloadKind::Deployment;
        type Pairs<'a> = Vec<(&'a str, &'a str)>;
        let cases: Vec<(&str, WorkloadKind, Pairs, Pairs, Option<Owner>)> = vec![
            ("nothing", deploy, vec![("app", "scheduler")], vec![], None),
            (
                "Argo CD tracking-id naming this object",
                deploy,
                vec![],
                vec![(ARGO_TRACKING_ID, "photo-api:apps/Deployment:app/scheduler")],
                argo("photo-api", false),
            ),
            (
                "a tracking-id copied from another object is not Argo CD's",
                deploy,
                vec![],
                vec![(ARGO_TRACKING_ID, "photo-api:apps/Deployment:app/api")],
                None,
            ),
            (
                "a CronJob's tracking-id (batch group)",
                WorkloadKind::CronJob,
                vec![],
                vec![(ARGO_TRACKING_ID, "billing:batch/CronJob:app/scheduler")],
                argo("billing", false),
            ),
            ("a malformed tracking-id", deploy, vec![], vec![(ARGO_TRACKING_ID, "photo-api")], None),
            ("Argo CD's instance label", deploy, vec![(LABEL_INSTANCE, "photo-api")], vec![], argo("photo-api", true)),
            (
                "the tracking-id wins over the instance label",
                deploy,
                vec![(LABEL_INSTANCE, "legacy")],
                vec![(ARGO_TRACKING_ID, "photo-api:apps/Deployment:app/scheduler")],
                argo("photo-api", false),
            ),
            (
                "a Flux Kustomization",
                deploy,
                vec![(FLUX_KUSTOMIZE_NAME, "apps"), (FLUX_KUSTOMIZE_NAMESPACE, "flux-system")],
                vec![],
                flux(FluxKind::Kustomization, "apps", Some("flux-system"), false),
            ),
            (
                "a Flux Kustomization with the per-object opt-out",
                deploy,
                vec![(FLUX_KUSTOMIZE_NAME, "apps"), (FLUX_KUSTOMIZE_NAMESPACE, "flux-system")],
                vec![(FLUX_RECONCILE, "disabled")],
                flux(FluxKind::Kustomization, "apps", Some("flux-system"), true),
            ),
            (
                "a Flux HelmRelease (Helm's marks too: Flux wins)",
                deploy,
                vec![
                    (FLUX_HELM_NAME, "scheduler"),
                    (FLUX_HELM_NAMESPACE, "app"),
                    (LABEL_MANAGED_BY, "Helm"),
                    (LABEL_INSTANCE, "scheduler"),
                ],
                vec![(HELM_RELEASE_NAME, "scheduler"), (HELM_RELEASE_NAMESPACE, "app")],
                flux(FluxKind::HelmRelease, "scheduler", Some("app"), false),
            ),
            (
                "a Helm release",
                deploy,
                vec![(LABEL_MANAGED_BY, "Helm"), (LABEL_INSTANCE, "scheduler")],
                vec![(HELM_RELEASE_NAME, "scheduler"), (HELM_RELEASE_NAMESPACE, "app")],
                Some(Owner::Helm { release: "scheduler".into(), namespace: Some("app".into()) }),
            ),
            (
                "a Helm chart rendered by Argo CD (no release annotation)",
                deploy,
                vec![(LABEL_MANAGED_BY, "Helm"), (LABEL_INSTANCE, "photo-api")],
                vec![],
                argo("photo-api", true),
            ),
            ("an empty label names nobody", deploy, vec![(LABEL_INSTANCE, "")], vec![], None),
        ];
        for (what, kind, labels, annotations, expected) in cases {
            let found = owner_from_metadata(kind, "app", "scheduler", &map(&labels), &map(&annotations));
            assert_eq!(found, expected, "{what}");
        }
    }

    #[test]
    fn who_reverts_what_and_how_it_is_said() {
        let lbc = Owner::LoadBalancerController {
            cluster: Some("eks-old".into()),
            stack: Some("app/photo-api".into()),
            resource: Some("80:1".into()),
        };
        assert!(lbc.reverts_weights() && !lbc.reverts_replicas());
        assert_eq!(lbc.describe(), "the AWS Load Balancer Controller (cluster eks-old, Ingress app/photo-api)");
        assert!(lbc.weights_advice().contains("will put the weights back at its next reconcile: change the Ingress annotation `alb.ingress.kubernetes.io/actions.<name>` instead"));
        let group = Owner::LoadBalancerController { cluster: None, stack: Some("photo".into()), resource: None };
        assert_eq!(group.describe(), "the AWS Load Balancer Controller (IngressGroup photo)");

        let argo = Owner::ArgoCd { app: "photo-api".into(), by_label: false };
        assert!(argo.reverts_replicas() && !argo.reverts_weights());
        assert_eq!(
            argo.replicas_advice(WorkloadKind::Deployment),
            "Argo CD application photo-api with self-heal will scale it back: turn off automated sync for photo-api (or add a deny sync window), or remove `replicas` from the manifest"
        );
        let flux = Owner::Flux {
            kind: FluxKind::Kustomization,
            name: "apps".into(),
            namespace: Some("flux-system".into()),
            reconcile_disabled: false,
        };
        assert!(flux.reverts_replicas());
        assert!(
            flux.replicas_advice(WorkloadKind::Deployment).contains("`flux suspend kustomization apps -n flux-system`")
        );
        let off = Owner::Flux {
            kind: FluxKind::Kustomization,
            name: "apps".into(),
            namespace: None,
            reconcile_disabled: true,
        };
        assert!(!off.reverts_replicas());
        assert_eq!(off.describe(), "Flux Kustomization apps (reconcile disabled on this object)");
        let helm = Owner::Helm { release: "scheduler".into(), namespace: Some("app".into()) };
        assert!(!helm.reverts_replicas() && !helm.reverts_weights());
        assert!(!Owner::CloudFormation { stack: "s".into() }.reverts_weights());
    }

    #[test]
    fn route_owners_in_one_line() {
        let lbc = Owner::LoadBalancerController { cluster: Some("c".into()), stack: None, resource: None };
        let mut r =
            RouteOwners { route: crate::domain::RouteId(1), rule: None, target_groups: PerSide::new(None, None) };
        assert_eq!(r.describe(), "nobody known (no controller's tags on the rule or its target groups)");
        r.rule = Some(lbc.clone());
        assert_eq!(r.describe(), "rule: the AWS Load Balancer Controller (cluster c); target groups: nobody known");
        r.target_groups.new = Some(lbc);
        assert!(
            r.describe().ends_with("target groups: old nobody known, new the AWS Load Balancer Controller (cluster c)")
        );
    }
}
