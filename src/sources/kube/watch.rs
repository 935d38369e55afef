//! One kind of object, listed and watched: trimmed as it arrives, with
//! what went away while disconnected recovered from the re-list, and the
//! retry pause of a watch that fails.

use std::collections::HashSet;
use std::fmt::Debug;

use futures::stream::{BoxStream, StreamExt};
use kube::Resource;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, watcher};
use serde::de::DeserializeOwned;

use super::objects::EventObj;
use super::trim::{trim_node_event, trim_warning};
use crate::app::ClusterDelta;
use crate::domain::{PodKey, WorkloadKey};

/// One watch's deltas, and whether they end a full list (its first, or a
/// re-list after a reconnect).
pub(super) type Batch = Result<(Vec<ClusterDelta>, bool), watcher::Error>;

/// Retry pause for a failed watch: 0.5 s doubling to 5 s, back to 0.5 s
/// after a success. kube's default grows to 30 s, which at the console
/// means half a minute of stale data after an API server is back; with two
/// clusters and a dozen watches each, 5 s keeps the load of an outage low.
#[derive(Debug, Clone)]
struct Retry {
    next: std::time::Duration,
}

impl Retry {
    const FIRST: std::time::Duration = std::time::Duration::from_millis(500);
    const MAX: std::time::Duration = std::time::Duration::from_secs(5);

    fn new() -> Retry {
        Retry { next: Retry::FIRST }
    }
}

impl Iterator for Retry {
    type Item = std::time::Duration;

    fn next(&mut self) -> Option<Self::Item> {
        let now = self.next;
        self.next = (self.next * 2).min(Retry::MAX);
        Some(now)
    }
}

impl Backoff for Retry {
    fn reset(&mut self) {
        self.next = Retry::FIRST;
    }
}

/// What a watch remembers of each object it has listed: only what says
/// it is gone (a few dozen bytes), never the object or its trimmed form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Gone {
    Pod(PodKey),
    Workload(WorkloadKey),
    Node(String),
    Autoscaler(WorkloadKey),
}

impl Gone {
    fn of(delta: ClusterDelta) -> Option<Gone> {
        Some(match delta {
            ClusterDelta::PodGone(k) => Gone::Pod(k),
            ClusterDelta::WorkloadGone(k) => Gone::Workload(k),
            ClusterDelta::NodeGone(n) => Gone::Node(n),
            ClusterDelta::AutoscalerGone(k) => Gone::Autoscaler(k),
            _ => return None,
        })
    }

    fn delta(self) -> ClusterDelta {
        match self {
            Gone::Pod(k) => ClusterDelta::PodGone(k),
            Gone::Workload(k) => ClusterDelta::WorkloadGone(k),
            Gone::Node(n) => ClusterDelta::NodeGone(n),
            Gone::Autoscaler(k) => ClusterDelta::AutoscalerGone(k),
        }
    }
}

/// A list+watch of one kind, trimmed, with deletions that happened while
/// disconnected recovered from the re-list (objects no longer listed).
/// Lists come in pages (kube's default of 500 objects), so a large list
/// is never held whole, and each object is dropped once trimmed.
pub(super) fn watch<K>(
    api: Api<K>,
    trim: fn(&K) -> Option<ClusterDelta>,
    gone: fn(&K) -> Option<ClusterDelta>,
) -> BoxStream<'static, Batch>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let mut known: HashSet<Gone> = HashSet::new();
    let mut relist: Option<HashSet<Gone>> = None;
    watcher(api, watcher::Config::default().page_size(LIST_PAGE))
        .backoff(Retry::new())
        .map(move |event| {
            let event = event?;
            let mut out = Vec::new();
            let mut list_done = false;
            let gone = |o: &K| gone(o).and_then(Gone::of);
            match event {
                watcher::Event::Init => relist = Some(HashSet::new()),
                watcher::Event::InitApply(obj) => {
                    out.extend(trim(&obj));
                    if let (Some(g), Some(fresh)) = (gone(&obj), relist.as_mut()) {
                        fresh.insert(g);
                    }
                }
                watcher::Event::InitDone => {
                    list_done = true;
                    if let Some(fresh) = relist.take() {
                        out.extend(known.difference(&fresh).cloned().map(Gone::delta));
                        known = fresh;
                    }
                }
                watcher::Event::Apply(obj) => {
                    out.extend(trim(&obj));
                    if let Some(g) = gone(&obj) {
                        known.insert(g);
                    }
                }
                watcher::Event::Delete(obj) => {
                    if let Some(g) = gone(&obj) {
                        known.remove(&g);
                        out.push(g.delta());
                    }
                }
            }
            Ok((out, list_done))
        })
        .boxed()
}

/// Objects a list page holds: kube's default, said here because memory
/// at 50,000 pods a side depends on it.
const LIST_PAGE: u32 = 500;

/// Events, each once. Warning events once per occurrence (an event is
/// updated in place as it repeats, and a re-list after a reconnect lists
/// it again); Node Events that are disruption signals once per Event (a
/// repeat is the same signal). `nodes_only`: the watch of `default`, where
/// the Events of Nodes are kept, reads those and nothing else; the field
/// selector spares a real server, and is checked here too (kmock ignores it).
pub(super) fn events(api: Api<EventObj>, nodes_only: bool) -> BoxStream<'static, Batch> {
    let mut seen: HashSet<(String, i64)> = HashSet::new();
    let config = if nodes_only {
        watcher::Config::default().fields("involvedObject.kind=Node")
    } else {
        watcher::Config::default()
    };
    watcher(api, config)
        .backoff(Retry::new())
        .map(move |event| {
            let mut out = Vec::new();
            let event = event?;
            let list_done = matches!(event, watcher::Event::InitDone);
            if let watcher::Event::Apply(e) | watcher::Event::InitApply(e) = event {
                let id = match e.metadata.uid.clone() {
                    Some(uid) if !uid.is_empty() => uid,
                    _ => e.metadata.name.clone().unwrap_or_default(),
                };
                if let Some(signal) = trim_node_event(&e) {
                    if seen.insert((id, i64::MIN)) {
                        out.push(ClusterDelta::NodeEvent(signal));
                    }
                } else if let Some(w) = trim_warning(&e)
                    && (!nodes_only || e.involved_object.kind.as_deref() == Some("Node"))
                    && seen.insert((id, w.at.as_second()))
                {
                    out.push(ClusterDelta::Warning(w));
                }
            }
            Ok((out, list_done))
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_retries_double_to_five_seconds_and_reset() {
        let mut r = Retry::new();
        let pauses: Vec<u128> = (0..6).map(|_| r.next().unwrap().as_millis()).collect();
        assert_eq!(pauses, vec![500, 1000, 2000, 4000, 5000, 5000]);
        r.reset();
        assert_eq!(r.next().unwrap().as_millis(), 500);
    }
}
