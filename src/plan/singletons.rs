//! `[[singleton]]`: what must never run on both sides at once.

use toml::Spanned;

use super::PlanFile;
use super::error::{Located, PlanError};
use crate::domain::{Side, SingletonSpec, WorkloadKey, WorkloadKind};

/// Every singleton, checked: a known kind, a watched namespace, one
/// singleton per workload.
pub(super) fn parse(loc: &Located<'_>, raw: &PlanFile, namespaces: &[String]) -> Result<Vec<SingletonSpec>, PlanError> {
    let mut singletons: Vec<SingletonSpec> = Vec::new();
    let mut singleton_lines: Vec<usize> = Vec::new();
    for s in &raw.singleton {
        let s = s.get_ref();
        let kind = match s.kind.get_ref().as_str() {
            "Deployment" => WorkloadKind::Deployment,
            "CronJob" => WorkloadKind::CronJob,
            other => {
                return Err(loc.at(
                    s.kind.span(),
                    format!("singleton kind `{other}` is not supported"),
                    "use \"Deployment\" or \"CronJob\"",
                ));
            }
        };
        let ns = s.namespace.get_ref();
        if !namespaces.contains(ns) {
            return Err(loc.at(
                s.namespace.span(),
                format!("namespace `{ns}` is not in `namespaces`"),
                "add it to `namespaces`, or the console cannot see the singleton",
            ));
        }
        let name = s.name.get_ref();
        if singletons.iter().any(|x| &x.name == name) {
            return Err(loc.at(
                s.name.span(),
                format!("singleton `{name}` is named twice"),
                "singleton names must be unique",
            ));
        }
        let replicas = match &s.replicas {
            Some(r) if *r.get_ref() == 0 => {
                return Err(loc.at(r.span(), "`replicas` is 0", "how many the running side should have, usually 1"));
            }
            Some(r) => *r.get_ref(),
            None => 1,
        };
        let named = |n: &Option<Spanned<String>>| n.as_ref().map_or_else(|| name.clone(), |n| n.get_ref().clone());
        let spec = SingletonSpec {
            name: name.clone(),
            kind,
            old: WorkloadKey::new(ns, named(&s.old_name)),
            new: WorkloadKey::new(ns, named(&s.new_name)),
            replicas,
        };
        // Two singletons on one workload: each handoff would stop and
        // start the other's.
        for side in Side::BOTH {
            let Some((other, line)) =
                singletons.iter().zip(&singleton_lines).find(|(o, _)| o.kind == kind && o.key(side) == spec.key(side))
            else {
                continue;
            };
            let field = match side {
                Side::Old => &s.old_name,
                Side::New => &s.new_name,
            };
            return Err(loc.at(
                field.as_ref().map_or(s.name.span(), Spanned::span),
                format!(
                    "singleton `{name}`: its {side} {kind:?} {} is singleton `{}`'s too (line {line})",
                    spec.key(side),
                    other.name
                ),
                format!("one singleton per workload: remove one of the two, or give this one its own {side}_name"),
            ));
        }
        singleton_lines.push(loc.line(s.name.span()));
        singletons.push(spec);
    }

    Ok(singletons)
}
