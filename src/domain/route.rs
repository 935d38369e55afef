//! The traffic backends a route's weights can live in, and everything the
//! console knows of each that is not IO: the one table of per-backend
//! facts ([`RouteKind`]) and what a route's place looks like on screen and
//! in a recording ([`Backend`]).
//!
//! A new backend is a variant here (its facts, its place), a variant of
//! the plan's route target, a reader in `sources::traffic` and a writer in
//! `effects`; the screens, the recording and the report ask this table.

use serde::{Deserialize, Serialize};

use super::{PerSide, Side, Weights, WorkloadKey};

/// The most target groups one forward action may have (an ALB limit).
pub const MAX_TARGET_GROUPS: usize = 5;

/// How a route moves traffic: the backend its weights live in. The closed
/// set of backends; every per-backend fact is a method here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    /// An ALB listener rule forwarding to two target groups (0..=999).
    Alb,
    /// Two weighted Route 53 records of one name (0..=255).
    Route53,
}

impl RouteKind {
    pub const ALL: [RouteKind; 2] = [RouteKind::Alb, RouteKind::Route53];

    /// The largest weight the backend takes.
    pub fn max_weight(self) -> u16 {
        match self {
            RouteKind::Alb => 999,
            RouteKind::Route53 => 255,
        }
    }

    /// Share of traffic the weights send to new, in percent. Both at 0 is
    /// no traffic at all for an ALB rule (it answers 503) and an equal
    /// split for weighted records.
    pub fn share_new(self, w: Weights) -> Option<f64> {
        match (self, w.percent_new()) {
            (_, Some(p)) => Some(p),
            (RouteKind::Alb, None) => None,
            (RouteKind::Route53, None) => Some(50.0),
        }
    }

    /// Whether both weights at 0 split the traffic evenly (weighted
    /// records) rather than send it nowhere (a forward action).
    pub fn zero_is_equal_split(self) -> bool {
        self.share_new(Weights { old: super::Weight(0), new: super::Weight(0) }).is_some()
    }

    /// What the backend's objects holding the weights are called.
    pub fn weights_of(self) -> &'static str {
        match self {
            RouteKind::Alb => "the forward action",
            RouteKind::Route53 => "the weighted records",
        }
    }

    /// The weighted objects, counted: "2 target group(s)".
    pub fn weighted_objects(self) -> &'static str {
        match self {
            RouteKind::Alb => "target group(s)",
            RouteKind::Route53 => "weighted record(s)",
        }
    }

    /// One weighted object, named: "target group api-new".
    pub fn weighted_one(self) -> &'static str {
        match self {
            RouteKind::Alb => "target group",
            RouteKind::Route53 => "record",
        }
    }

    /// The most weighted objects the backend takes in one place, when it
    /// has a limit: an ALB forward action forwards to at most five
    /// target groups.
    pub fn max_weighted(self) -> Option<usize> {
        match self {
            RouteKind::Alb => Some(MAX_TARGET_GROUPS),
            RouteKind::Route53 => None,
        }
    }

    /// What holds the weights, as a noun in a line about a change to it.
    pub fn holder(self) -> &'static str {
        match self {
            RouteKind::Alb => "rule",
            RouteKind::Route53 => "records",
        }
    }

    /// Where the console learns who else writes the weights.
    pub fn owners_from(self) -> &'static str {
        match self {
            RouteKind::Alb => "ELBv2 tags",
            RouteKind::Route53 => "ExternalDNS registry",
        }
    }

    /// Whether each side has a load balancer of its own, whose own 5xx
    /// are then that side's.
    pub fn per_side_load_balancer(self) -> bool {
        match self {
            RouteKind::Alb => false,
            RouteKind::Route53 => true,
        }
    }

    /// Whether clients follow a change of the weights only over time (DNS
    /// answers are cached for a TTL): the share observed then lags the
    /// share set, and the screens draw both.
    pub fn clients_follow_late(self) -> bool {
        match self {
            RouteKind::Alb => false,
            RouteKind::Route53 => true,
        }
    }

    /// The backend as a sentence's subject: "the ALB", "Route 53".
    pub fn backend_name(self) -> &'static str {
        match self {
            RouteKind::Alb => "the ALB",
            RouteKind::Route53 => "Route 53",
        }
    }

    /// The source that reads the weights, as the screen names it.
    pub fn source_name(self) -> &'static str {
        match self {
            RouteKind::Alb => "ALB",
            RouteKind::Route53 => "Route 53",
        }
    }

    /// The source's name in the header: `alb: 3s ago`.
    pub fn source_label(self) -> &'static str {
        match self {
            RouteKind::Alb => "alb",
            RouteKind::Route53 => "dns",
        }
    }

    /// The source's name in a recording's `Source` messages (these names
    /// are the recording format's).
    pub fn source_tag(self) -> &'static str {
        match self {
            RouteKind::Alb => "Alb",
            RouteKind::Route53 => "Route53",
        }
    }

    /// The field of a recording line that repeats the backend's last read
    /// unchanged (`{"t":…,"alb":…}`): the recording format's.
    pub fn repeat_field(self) -> &'static str {
        match self {
            RouteKind::Alb => "alb",
            RouteKind::Route53 => "dns",
        }
    }

    /// How the route is titled in a report: `api (ALB rule)`; `ttl` is the
    /// records' TTL as last read, for a backend clients cache.
    pub fn report_title(self, route: &str, ttl: Option<i64>) -> String {
        match (self, ttl) {
            (RouteKind::Alb, _) => format!("{route} (ALB rule)"),
            (RouteKind::Route53, Some(ttl)) => format!("{route} (Route 53 records, TTL {ttl}s)"),
            (RouteKind::Route53, None) => format!("{route} (Route 53 records, never read)"),
        }
    }
}

/// Where a route's weights live, with what the screen names them by: the
/// plan's target as the console shows and records it (the recording's
/// header keeps it, so its field names are the recording format's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Backend {
    Alb(AlbSpec),
    Route53(DnsSpec),
}

/// One listener rule (or default action) forwarding to an old and a new
/// target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlbSpec {
    /// `app/name/id`.
    pub load_balancer: String,
    /// `None`: the listener's default action.
    pub rule: Option<String>,
    pub old_target_group: String,
    pub new_target_group: String,
    /// Where the AWS Load Balancer Controller takes the rule's weights
    /// from, when the plan says: steps are written there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressRef>,
}

impl AlbSpec {
    pub fn target_group(&self, side: Side) -> &str {
        match side {
            Side::Old => &self.old_target_group,
            Side::New => &self.new_target_group,
        }
    }
}

/// Two weighted records of one name and type, one per side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsSpec {
    pub hosted_zone_id: String,
    pub record_name: String,
    pub record_type: String,
    pub set_identifiers: PerSide<String>,
}

/// An Ingress whose `alb.ingress.kubernetes.io/actions.<action>`
/// annotation the AWS Load Balancer Controller turns into a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngressRef {
    pub side: Side,
    pub key: WorkloadKey,
    pub action: String,
}

impl IngressRef {
    pub fn annotation(&self) -> String {
        format!("alb.ingress.kubernetes.io/actions.{}", self.action)
    }
}

impl Backend {
    pub fn kind(&self) -> RouteKind {
        match self {
            Backend::Alb(_) => RouteKind::Alb,
            Backend::Route53(_) => RouteKind::Route53,
        }
    }

    /// What holds each side's weight: a target group, a record's set
    /// identifier.
    pub fn weighted(&self, side: Side) -> &str {
        match self {
            Backend::Alb(a) => a.target_group(side),
            Backend::Route53(d) => d.set_identifiers.get(side),
        }
    }

    /// Where the weights are, in a few words: `rule 1a2b on app/web/…`,
    /// `www.example.com. A`.
    pub fn place(&self) -> String {
        match self {
            Backend::Alb(a) => format!("{} on {}", a.rule.as_deref().unwrap_or("default action"), a.load_balancer),
            Backend::Route53(d) => format!("{} {}", d.record_name, d.record_type),
        }
    }

    /// The same, as short as a row of the traffic panel takes it: the
    /// rule, the record's name; and a tag for the kind when the short
    /// place does not say it (`dns`).
    pub fn short_place(&self) -> (Option<&'static str>, String) {
        match self {
            Backend::Alb(a) => (None, a.rule.as_deref().unwrap_or("default action").to_string()),
            Backend::Route53(d) => (Some("dns"), d.record_name.clone()),
        }
    }

    /// The route's title line in its drill-down, in pieces that wrap
    /// whole: where the weights are, then what holds them.
    pub fn title(&self) -> [String; 2] {
        match self {
            Backend::Alb(a) => {
                [format!("{} · ", a.load_balancer), a.rule.as_deref().unwrap_or("listener default action").to_string()]
            }
            Backend::Route53(d) => [
                format!("{} {} · ", d.record_name, d.record_type),
                format!("zone {} · weighted records", d.hosted_zone_id),
            ],
        }
    }

    /// The one load balancer every side's requests pass, when there is
    /// one; else each side's is known from its reads.
    pub fn load_balancer(&self) -> Option<&str> {
        match self {
            Backend::Alb(a) => Some(&a.load_balancer),
            Backend::Route53(_) => None,
        }
    }

    /// The Ingress the AWS Load Balancer Controller writes the weights
    /// from, when the plan names one.
    pub fn ingress(&self) -> Option<&IngressRef> {
        match self {
            Backend::Alb(a) => a.ingress.as_ref(),
            Backend::Route53(_) => None,
        }
    }
}

/// One side's weighted record as read: what the DNS view shows besides
/// the weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRead {
    pub set_identifier: String,
    /// None for an alias: resolvers get the target's TTL (60 s for a
    /// load balancer).
    pub ttl: Option<i64>,
    /// The alias target or CNAME value, or the addresses.
    pub points_at: String,
    pub alias: bool,
    pub evaluate_target_health: bool,
    pub health_check: Option<String>,
    /// The side's load balancer (`app/name/id`), where known.
    pub load_balancer: Option<String>,
}

/// What a read says beyond weights and targets, per backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReadDetail {
    Alb,
    /// Boxed: records are far larger than the ALB's nothing.
    Route53 {
        records: Box<PerSide<RecordRead>>,
    },
}

impl ReadDetail {
    /// The backend a read is of.
    pub fn kind(&self) -> RouteKind {
        match self {
            ReadDetail::Alb => RouteKind::Alb,
            ReadDetail::Route53 { .. } => RouteKind::Route53,
        }
    }
}
