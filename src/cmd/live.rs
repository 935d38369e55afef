//! What the commands on a plan's live backends share (`watch`, `run`,
//! `relay`): who drives, and what earlier sessions recorded.

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::tasks::Tasks;
use crate::app::Msg;
use crate::cli::RecordArgs;
use crate::plan::Plan;
use crate::{record, sources};

/// Reads, off the screen's thread, what earlier sessions of the plan
/// recorded of the routes' weights (the default recordings directory, and
/// the one `--record` writes to), and sends it as one message: recorded,
/// so a replay paces as the session did.
pub fn prior_changes(plan: &Plan, record: &RecordArgs, tx: mpsc::Sender<Msg>, tasks: &Tasks) {
    let started = jiff::Timestamp::now();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = record::default_path("live", started).and_then(|p| p.parent().map(|d| d.to_path_buf())) {
        dirs.push(dir);
    }
    if let Some(dir) = record.record.as_ref().and_then(|p| p.parent()) {
        dirs.push(if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir.to_path_buf() });
    }
    let name = plan.name.clone();
    let routes: Vec<String> = plan.routes.iter().map(|r| r.name.clone()).collect();
    tasks.tracker.spawn_blocking(move || {
        let (changes, recordings) = record::history::last_changes(&dirs, &name, &routes, started);
        tracing::info!(recordings, found = changes.len(), "earlier weight changes read");
        let _ = tx.blocking_send(Msg::PriorChanges { changes, recordings });
    });
}

/// Starts reading who drives the plan (its Lease, never written here), for
/// a console or relay that does not drive.
pub fn read_wheel(plan: &Plan, clients: &sources::Clients, tx: mpsc::Sender<Msg>, tasks: &Tasks) {
    if let Some(client) = clients.kube.new.clone() {
        tasks.spawn(sources::lease::watch(client, plan.lease(), tx, tasks.sources.clone()));
    }
}
