//! The risks of the night, judged from the lifecycle reader's last facts
//! and the clusters as watched: again when the facts come, when a route's
//! workload changes how its pods stop, and each minute (pods move between
//! nodes). A risk that appears or goes is an event; one that stays is not
//! said again.

use std::collections::BTreeSet;

use crate::domain::lifecycle::{LifecycleFacts, Risk, RouteSide, assess, instance_of};
use crate::domain::{Node, Side};

use super::{Level, State};

/// The facts of a new read: kept whole, what could not be read said once,
/// and the risks judged again.
pub fn on_lifecycle(app: &mut State, facts: LifecycleFacts) {
    let at = facts.at;
    for line in &facts.unread {
        if app.unread_said.insert(line.clone()) {
            app.push_event(at, None, Level::Warn, format!("lifecycle: {line}"));
        }
    }
    app.lifecycle = Some(facts);
    judge(app);
}

/// The route's sides as the risks see them, from the state.
fn route_sides<'a>(app: &'a State, facts: &'a LifecycleFacts) -> Vec<RouteSide<'a>> {
    let mut out = Vec::new();
    for route in &app.routes {
        let spec = &route.spec;
        for side in Side::BOTH {
            let cluster = app.clusters.get(side);
            let workload = spec.workload.as_ref().map(|key| (key, cluster.workloads.get(key).and_then(|w| w.stop)));
            // Counted by node name first: a workload of thousands of pods
            // costs its pods, not its pods times its nodes.
            let mut counts: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
            if let Some(key) = &spec.workload {
                for node in cluster.pods_of(key).filter_map(|p| p.node.as_deref()) {
                    *counts.entry(node).or_default() += 1;
                }
            }
            let nodes: Vec<(&Node, u32)> =
                counts.into_iter().filter_map(|(name, n)| Some((cluster.nodes.get(name)?, n))).collect();
            // A side without Kubernetes: its targets are its EC2 instances.
            // (On a cluster, instance targets are its nodes, whose groups
            // the Load Balancer Controller registers, not the group.)
            let kube = facts.clusters.get(side).is_some() || !cluster.nodes.is_empty();
            let instances = match &route.read {
                Some(read) if !kube => read.targets.get(side).iter().filter_map(|t| instance_of(&t.id)).collect(),
                _ => Vec::new(),
            };
            out.push(RouteSide {
                route: &spec.name,
                side,
                workload: workload.filter(|_| kube),
                target_group: facts.route_target_group(&spec.name, side),
                nodes,
                instances,
            });
        }
    }
    out
}

/// Judges the risks again; says the ones that appeared and went.
pub fn judge(app: &mut State) {
    let Some(facts) = app.lifecycle.as_ref() else { return };
    let risks = assess(facts, &route_sides(app, facts));
    if risks == app.risks {
        return;
    }
    let key = |r: &Risk| (r.kind, r.side, r.route.clone());
    let before: BTreeSet<_> = app.risks.iter().map(key).collect();
    let after: BTreeSet<_> = risks.iter().map(key).collect();
    let at = app.now;
    for r in risks.iter().filter(|r| !before.contains(&key(r))) {
        app.push_event(at, Some(r.side), Level::Warn, format!("risk: {}: {}", r.kind.short(), r.finding));
    }
    let gone: Vec<Risk> = app.risks.iter().filter(|r| !after.contains(&key(r))).cloned().collect();
    for r in gone {
        app.push_event(at, Some(r.side), Level::Info, format!("risk gone: {}: {}", r.kind.short(), r.finding));
    }
    app.risks = risks;
}

/// The risks that put one route's side at risk, for its causes.
pub fn of_route<'a>(app: &'a State, route: &'a str, side: Side) -> impl Iterator<Item = &'a Risk> + 'a {
    app.risks.iter().filter(move |r| r.side == side && r.route.as_deref() == Some(route))
}
