//! The plan's routes: one `[[route]]` each, of one backend, in one list
//! whose order (by backend, then the plan's) is the routes' ids. What every route has (a name, the
//! workload serving it, its steps) is here; what each backend needs is in
//! its own file, and this one dispatches on the route's `kind`.

use serde::Deserialize;
use toml::Spanned;

use super::alb::{self, AlbRoute};
use super::analysis::{self, AnalysisFile};
use super::error::{Located, PlanError};
use super::route53::{self, Route53Route};
use super::values::{steps, workload_key};
use crate::domain::analysis::AnalysisSpec;
use crate::domain::{Backend, MetricsKind, RouteId, RouteKind, WorkloadKey};

/// A route of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRoute {
    pub name: String,
    /// The Deployment serving the route on both sides.
    pub workload: Option<WorkloadKey>,
    /// Percent to new, in order.
    pub steps: Vec<u8>,
    pub target: RouteTarget,
    /// Where its requests, 5xx and latency are read.
    pub metrics: MetricsKind,
    /// What each step must show, when the plan (or the route) says.
    pub analysis: Option<AnalysisSpec>,
    /// The plan file and the line of the route's name, for messages about
    /// what the backend holds to point at the line to fix.
    pub file: String,
    pub line: usize,
}

/// Where a route's weights live: one backend's fields.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteTarget {
    Alb(AlbRoute),
    Route53(Route53Route),
}

impl RouteTarget {
    pub fn kind(&self) -> RouteKind {
        match self {
            RouteTarget::Alb(_) => RouteKind::Alb,
            RouteTarget::Route53(_) => RouteKind::Route53,
        }
    }

    /// What the console shows and records of the route's place.
    pub fn spec(&self) -> Backend {
        match self {
            RouteTarget::Alb(a) => a.spec(),
            RouteTarget::Route53(r) => r.spec(),
        }
    }
}

impl PlanRoute {
    pub fn kind(&self) -> RouteKind {
        self.target.kind()
    }

    pub fn alb(&self) -> Option<&AlbRoute> {
        match &self.target {
            RouteTarget::Alb(a) => Some(a),
            _ => None,
        }
    }

    pub fn route53(&self) -> Option<&Route53Route> {
        match &self.target {
            RouteTarget::Route53(r) => Some(r),
            _ => None,
        }
    }

    /// `cutover.toml:23` for a field's line: where to fix what the
    /// backend refused.
    pub fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.file)
    }
}

/// One route of one backend, as that backend's reader and writer keep it:
/// its id, its name and place in the plan, and the backend's own fields
/// (which it derefs to: `routed.rule` is the ALB route's rule).
#[derive(Debug, Clone, PartialEq)]
pub struct Routed<T> {
    pub id: RouteId,
    pub name: String,
    /// The plan file and the line of the route's name.
    pub file: String,
    pub line: usize,
    pub target: T,
}

impl<T> Routed<T> {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `cutover.toml:23`: where to fix what the backend refused.
    pub fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.file)
    }
}

impl PlanRoute {
    /// The route as its backend's reader and writer take it.
    pub fn routed<T: Clone>(&self, id: RouteId, target: &T) -> Routed<T> {
        Routed { id, name: self.name.clone(), file: self.file.clone(), line: self.line, target: target.clone() }
    }
}

impl<T> Routed<T> {
    /// A route as a test or a benchmark makes it, of no plan file.
    pub fn new(id: RouteId, name: &str, target: T) -> Routed<T> {
        Routed { id, name: name.into(), file: String::new(), line: 0, target }
    }
}

impl<T> std::ops::Deref for Routed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.target
    }
}

impl<T> std::ops::DerefMut for Routed<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.target
    }
}

/// The word a plan gives a backend in `kind = "..."`, and what to say of
/// it when the kind is mistyped.
fn kind_word(kind: RouteKind) -> (&'static str, &'static str) {
    match kind {
        RouteKind::Alb => ("alb", "an ALB route (no kind, or kind = \"alb\")"),
        RouteKind::Route53 => ("route53", "a route53 route (kind = \"route53\")"),
    }
}

/// One `[[route]]` of either kind. Every kind's fields are optional here;
/// [`Plan::parse`] says which a kind needs and which it does not take, so
/// a mistake names the field rather than "data did not match any variant".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteFile {
    pub name: Spanned<String>,
    /// `alb` (the default) or `route53`.
    pub kind: Option<Spanned<String>>,
    pub workload: Option<Spanned<String>>,
    pub steps: Option<Spanned<Vec<u8>>>,
    // kind = "alb"
    pub listener_arn: Option<Spanned<String>>,
    pub rule_arn: Option<Spanned<String>>,
    pub old_target_group: Option<Spanned<String>>,
    pub new_target_group: Option<Spanned<String>>,
    /// `side:namespace/name` of the Ingress the AWS Load Balancer
    /// Controller writes this rule from.
    pub ingress: Option<Spanned<String>>,
    /// The `<name>` of its `alb.ingress.kubernetes.io/actions.<name>`.
    pub ingress_action: Option<Spanned<String>>,
    // kind = "route53"
    pub hosted_zone_id: Option<Spanned<String>>,
    pub record_name: Option<Spanned<String>>,
    pub record_type: Option<Spanned<String>>,
    pub old_set_identifier: Option<Spanned<String>>,
    pub new_set_identifier: Option<Spanned<String>>,
    pub old_load_balancer: Option<Spanned<String>>,
    pub new_load_balancer: Option<Spanned<String>>,
    /// `[route.analysis]`: what this route's steps must show, over the
    /// plan's `[analysis]`.
    pub analysis: Option<Spanned<AnalysisFile>>,
}

impl RouteFile {
    /// The fields only a route of `kind` takes, with their values' spans.
    fn fields_of(&self, kind: RouteKind) -> Vec<(&'static str, Option<std::ops::Range<usize>>)> {
        match kind {
            RouteKind::Alb => self.alb_fields().to_vec(),
            RouteKind::Route53 => self.route53_fields().to_vec(),
        }
    }

    /// The fields only an ALB route takes, with their values' spans.
    fn alb_fields(&self) -> [(&'static str, Option<std::ops::Range<usize>>); 6] {
        [
            ("listener_arn", self.listener_arn.as_ref().map(Spanned::span)),
            ("rule_arn", self.rule_arn.as_ref().map(Spanned::span)),
            ("old_target_group", self.old_target_group.as_ref().map(Spanned::span)),
            ("new_target_group", self.new_target_group.as_ref().map(Spanned::span)),
            ("ingress", self.ingress.as_ref().map(Spanned::span)),
            ("ingress_action", self.ingress_action.as_ref().map(Spanned::span)),
        ]
    }

    /// The fields only a Route 53 route takes.
    fn route53_fields(&self) -> [(&'static str, Option<std::ops::Range<usize>>); 7] {
        [
            ("hosted_zone_id", self.hosted_zone_id.as_ref().map(Spanned::span)),
            ("record_name", self.record_name.as_ref().map(Spanned::span)),
            ("record_type", self.record_type.as_ref().map(Spanned::span)),
            ("old_set_identifier", self.old_set_identifier.as_ref().map(Spanned::span)),
            ("new_set_identifier", self.new_set_identifier.as_ref().map(Spanned::span)),
            ("old_load_balancer", self.old_load_balancer.as_ref().map(Spanned::span)),
            ("new_load_balancer", self.new_load_balancer.as_ref().map(Spanned::span)),
        ]
    }
}

/// Every `[[route]]`, in the plan's order.
pub(super) fn parse(
    loc: &Located<'_>,
    raw: &[Spanned<RouteFile>],
    plan_analysis: Option<&Spanned<AnalysisFile>>,
) -> Result<Vec<PlanRoute>, PlanError> {
    let mut routes: Vec<PlanRoute> = Vec::new();
    // What each route's weights live in, with the route's name and line:
    // two routes on one rule (or record set) would step each other's.
    let mut weighted: Vec<(String, String, usize)> = Vec::new();
    for r in raw {
        let r = r.get_ref();
        let name = r.name.get_ref();
        if routes.iter().any(|x| &x.name == name) {
            return Err(loc.at(r.name.span(), format!("route `{name}` is named twice"), "route names must be unique"));
        }
        let word = r.kind.as_ref().map(|k| k.get_ref().as_str());
        let kind = match word {
            None => RouteKind::Alb,
            Some(w) => match RouteKind::ALL.into_iter().find(|k| kind_word(*k).0 == w) {
                Some(kind) => kind,
                None => {
                    return Err(loc.at(
                        r.kind.as_ref().map_or(r.name.span(), Spanned::span),
                        format!("route kind `{w}` is not known"),
                        "kind = \"alb\" (the default: weights of a listener rule) or kind = \"route53\" (weighted records)",
                    ));
                }
            },
        };
        // A field of another kind is a mistake worth naming: it would be
        // silently ignored otherwise.
        for other in RouteKind::ALL.into_iter().filter(|k| *k != kind) {
            if let Some((field, Some(span))) = r.fields_of(other).into_iter().find(|(_, s)| s.is_some()) {
                let (this, _) = kind_word(kind);
                let (that, phrase) = kind_word(other);
                let hint = if kind == RouteKind::Alb {
                    format!("add kind = \"{that}\" to the route, or remove the field")
                } else {
                    format!("remove the field, or make it {phrase}")
                };
                return Err(loc.at(
                    span,
                    format!("`{field}` is a field of kind = \"{that}\" routes; route `{name}` is kind = \"{this}\""),
                    hint,
                ));
            }
        }
        let workload = match &r.workload {
            Some(w) => Some(workload_key(loc, w)?),
            None => None,
        };
        let steps = steps(loc, r.steps.as_ref())?;
        let (target, (key, span, what)) = match kind {
            RouteKind::Alb => {
                let a = alb::parse(loc, r)?;
                let place = a.place(r);
                (RouteTarget::Alb(a), place)
            }
            RouteKind::Route53 => {
                let d = route53::parse(loc, r)?;
                let place = d.place(r);
                (RouteTarget::Route53(d), place)
            }
        };
        if let Some((_, other, other_line)) = weighted.iter().find(|(k, _, _)| *k == key) {
            return Err(loc.at(
                span,
                format!(
                    "route `{name}` is on route `{other}`'s {what} (line {other_line}): both would write its weights"
                ),
                "one route per rule, default action or record set: remove one of the two, or point it at its own",
            ));
        }
        let line = loc.line(r.name.span());
        weighted.push((key, name.clone(), line));
        let metrics = MetricsKind::CloudWatch;
        let analysis = analysis::of_route(loc, plan_analysis, r.analysis.as_ref())?;
        routes.push(PlanRoute {
            analysis,
            name: name.clone(),
            workload,
            steps,
            target,
            metrics,
            file: loc.file.to_string(),
            line,
        });
    }
    // The console lists the routes by backend, in the order of
    // [`RouteKind::ALL`], and in the plan's order within one: the order,
    // and so the routes' ids, every earlier build gave them.
    routes.sort_by_key(PlanRoute::kind);
    Ok(routes)
}
