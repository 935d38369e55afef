//! The kubeconfig, read: a client for a context, the context's user, and
//! the API server's version.

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::errors::kube_error;
use crate::plan::ClusterTarget;
use crate::scrub::scrub;

/// Builds a client for a kubeconfig context, explaining what is wrong if
/// it cannot: the file, the context, the server.
pub async fn client_for(target: &ClusterTarget) -> Result<Client, String> {
    let kubeconfig = match &target.kubeconfig {
        Some(path) => {
            Kubeconfig::read_from(path).map_err(|e| format!("cannot read kubeconfig {}: {e}", path.display()))?
        }
        None => {
            Kubeconfig::read().map_err(|e| format!("cannot read the kubeconfig (KUBECONFIG or ~/.kube/config): {e}"))?
        }
    };
    let known: Vec<String> = kubeconfig.contexts.iter().map(|c| c.name.clone()).collect();
    if !known.contains(&target.context) {
        return Err(format!(
            "context `{}` is not in the kubeconfig (it has: {})",
            target.context,
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ));
    }
    let options = KubeConfigOptions { context: Some(target.context.clone()), ..Default::default() };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| scrub(&format!("context `{}`: {e}", target.context)).into_owned())?;
    // Building the client runs an exec credential plugin, whose failure
    // kube-rs reports with the plugin's arguments and environment.
    Client::try_from(config).map_err(|e| format!("context `{}`: {}", target.context, kube_error(&e)))
}

/// The kube user name of a context, for "who did it".
pub fn context_user(target: &ClusterTarget) -> Option<String> {
    let kubeconfig = match &target.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok()?,
        None => Kubeconfig::read().ok()?,
    };
    let context = kubeconfig.contexts.iter().find(|c| c.name == target.context)?;
    context.context.as_ref()?.user.clone()
}

/// The API server's version, for the header; "?" if it will not say.
pub async fn server_version(client: &Client) -> String {
    match client.apiserver_version().await {
        Ok(v) => format!("{}.{}", v.major, v.minor.trim_end_matches('+')),
        Err(_) => "?".into(),
    }
}
