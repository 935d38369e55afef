//! Plans that read well and would still hurt once connected: refused at
//! the start of `check`, `watch`, `run` and `relay`, with the plan's file
//! and line, before any source polls.
//!
//! - Both sides one cluster: two contexts whose kubeconfig names one API
//!   server, or, once connected, one `kube-system` Namespace (its UID is
//!   the cluster's own: two clusters never share one). Every singleton
//!   would then look as if it ran twice, and the fix stops its only copy.
//! - A route whose rule (or listener, for a default action) does not
//!   exist: a step would fail, and its weights could never be read.
//!
//! A backend that does not answer is not a refusal here: its source turns
//! stale and keeps trying, as always.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::Api;

use crate::domain::PerSide;
use crate::plan::{ClusterTarget, Plan, PlanError};

/// How long each side's Namespace read may take before the UID check is
/// left to a later start: a slow API server must not keep the console away.
const UID_TIMEOUT: Duration = Duration::from_secs(5);

/// The API server a context of its kubeconfig names, normalised (scheme
/// and host in lower case, the default port written out, no trailing
/// slash). None when the kubeconfig or the context cannot be read: the
/// start says so elsewhere.
pub fn server_url(target: &ClusterTarget) -> Option<String> {
    let kubeconfig = match &target.kubeconfig {
        Some(path) => kube::config::Kubeconfig::read_from(path).ok()?,
        None => kube::config::Kubeconfig::read().ok()?,
    };
    let context = kubeconfig.contexts.iter().find(|c| c.name == target.context)?.context.as_ref()?;
    let cluster = kubeconfig.clusters.iter().find(|c| c.name == context.cluster)?.cluster.as_ref()?;
    cluster.server.as_deref().map(normalise_server)
}

fn normalise_server(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let authority = authority.to_ascii_lowercase();
    let default = if scheme == "http" { "80" } else { "443" };
    // `host:port`, an IPv6 `[::1]:port`, or a host without a port.
    let has_port = authority.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        && !authority.ends_with(']');
    let authority = if has_port { authority } else { format!("{authority}:{default}") };
    format!("{scheme}://{authority}/{}", path.trim_end_matches('/'))
}

fn refusal(plan: &Plan, at: &ClusterTarget, problem: String, hint: &str) -> PlanError {
    PlanError { file: plan.path.display().to_string(), line: at.line, column: at.column, problem, hint: hint.into() }
}

const ONE_CLUSTER_HINT: &str = "point [new] at the new cluster's context (`kubectl config get-contexts` lists each \
     context's cluster), or leave out [old] when the old side is EC2";

/// Both sides' contexts name one API server in their kubeconfig.
pub fn one_cluster_by_config(plan: &Plan) -> Result<(), PlanError> {
    let Some(old) = &plan.old else { return Ok(()) };
    let new = &plan.new;
    match (server_url(old), server_url(new)) {
        (Some(a), Some(b)) if a == b => Err(refusal(
            plan,
            new,
            format!(
                "[new] context `{}` and [old] context `{}` (line {}) both reach the API server {b}: both sides would be one cluster",
                new.context, old.context, old.line
            ),
            ONE_CLUSTER_HINT,
        )),
        _ => Ok(()),
    }
}

/// Both sides answer with one Namespace: `kube-system` (or, if it cannot
/// be read there, a namespace of the plan) has the same UID on both. A
/// side that does not answer in time, or may not read Namespaces, leaves
/// the question open.
pub async fn one_cluster_by_uid(plan: &Plan, clients: &PerSide<Option<Client>>) -> Result<(), PlanError> {
    let (Some(old), Some(old_client), Some(new_client)) = (&plan.old, &clients.old, &clients.new) else {
        return Ok(());
    };
    let names = std::iter::once("kube-system").chain(plan.namespaces.iter().map(String::as_str));
    for name in names {
        let (a, b) = tokio::join!(namespace_uid(old_client, name), namespace_uid(new_client, name));
        let (Some(a), Some(b)) = (a, b) else { continue };
        if a != b {
            return Ok(());
        }
        let new = &plan.new;
        return Err(refusal(
            plan,
            new,
            format!(
                "[new] context `{}` reaches the same cluster as [old] context `{}` (line {}): namespace {name} has the same uid {a} on both",
                new.context, old.context, old.line
            ),
            ONE_CLUSTER_HINT,
        ));
    }
    tracing::info!("the sides' namespace UIDs could not be compared; the kubeconfig names two API servers");
    Ok(())
}

async fn namespace_uid(client: &Client, name: &str) -> Option<String> {
    let api = Api::<Namespace>::all(client.clone());
    match tokio::time::timeout(UID_TIMEOUT, api.get(name)).await {
        Ok(Ok(ns)) => ns.metadata.uid.filter(|u| !u.is_empty()),
        Ok(Err(e)) => {
            tracing::info!(namespace = name, error = %super::kube::kube_error(&e), "namespace not read for the one-cluster check");
            None
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_server;

    #[test]
    fn one_server_is_one_server_however_it_is_written() {
        let a = normalise_server("https://EKS.example.com");
        assert_eq!(a, "https://eks.example.com:443/");
        assert_eq!(normalise_server("https://eks.example.com:443/"), a);
        assert_eq!(normalise_server("http://127.0.0.1:8001"), "http://127.0.0.1:8001/");
        assert_ne!(normalise_server("http://127.0.0.1:8001"), normalise_server("http://127.0.0.1:8002"));
        assert_eq!(normalise_server("https://[::1]"), "https://[::1]:443/");
        assert_eq!(normalise_server("https://[::1]:6443"), "https://[::1]:6443/");
    }
}
