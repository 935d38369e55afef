//! Reads the two weighted Route 53 records of a `kind = "route53"` route,
//! and finds each side's load balancer from where its record points.
//!
//! A route's records are read with ListResourceRecordSets started at the
//! record's name and type (and, on a later page, identifier), a few items
//! at a time: never a scan of the whole zone, which for a large zone is
//! hundreds of calls against Route 53's five requests per second per
//! account.

use std::fmt;

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use crate::domain::{MetricTarget, RouteKind};
use crate::domain::{PerSide, Side};
use crate::plan::{Arn, RecordType, Route53Route, Routed};
use crate::sources::aws;
use crate::sources::check::{Report, Verdict};
use crate::sources::health::Failure;
use crate::sources::traffic::{Reading, TrafficReader};

/// Records listed per page: both sides of a route, and a few more weighted
/// records of the same name (a third cluster, a canary) in one call.
const PAGE: i32 = 10;

/// Pages read at most for one route's name and type, so a name with
/// hundreds of weighted records cannot turn a read into a scan.
const MAX_PAGES: usize = 5;

/// Where a record sends its share of the answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordTarget {
    /// An alias to an AWS resource, usually a load balancer.
    Alias { dns_name: String, hosted_zone_id: String, evaluate_target_health: bool },
    /// Plain values (the CNAME's name, or addresses), with their TTL.
    Values(Vec<String>),
}

/// One side's weighted record, trimmed to what the console shows, with the
/// record exactly as read kept for the write (its DELETE must match it).
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedRecord {
    pub set_identifier: String,
    /// 0 to 255.
    pub weight: u8,
    /// None for an alias (it answers with the target's TTL).
    pub ttl: Option<i64>,
    pub target: RecordTarget,
    pub health_check_id: Option<String>,
    pub(crate) raw: ResourceRecordSet,
}

impl WeightedRecord {
    /// The name the record points at: the alias's DNS name or the CNAME's
    /// value. None for address records.
    pub fn points_at(&self) -> Option<&str> {
        match &self.target {
            RecordTarget::Alias { dns_name, .. } => Some(dns_name),
            RecordTarget::Values(v) if self.raw.r#type == RrType::Cname => v.first().map(String::as_str),
            RecordTarget::Values(_) => None,
        }
    }

    /// The record exactly as Route 53 listed it.
    pub fn as_read(&self) -> &ResourceRecordSet {
        &self.raw
    }
}

/// Both sides' records of a route, as read together, and every other
/// weighted record of the same name and type (a third cluster, a canary):
/// they take a share of the answers too, and the panic button sets them to 0.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPair {
    pub records: PerSide<WeightedRecord>,
    pub others: Vec<WeightedRecord>,
}

impl RecordPair {
    pub fn weights(&self) -> PerSide<u8> {
        PerSide::new(self.records.old.weight, self.records.new.weight)
    }

    /// Route 53 answers evenly among weighted records that are all at 0.
    pub fn equal_split(&self) -> bool {
        self.records.old.weight == 0 && self.records.new.weight == 0
    }

    /// The share of answers that go to new, in percent, as Route 53 gives
    /// them: new's weight over the sum, or 50 when both are 0.
    pub fn new_percent(&self) -> f64 {
        let (old, new) = (f64::from(self.records.old.weight), f64::from(self.records.new.weight));
        if old + new == 0.0 { 50.0 } else { new * 100.0 / (old + new) }
    }
}

/// Why a route's records could not be read, each said so the operator
/// knows which plan line or which AWS object to look at.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    NoZone {
        route: String,
        zone: String,
        at: String,
    },
    NoRecord {
        route: String,
        zone: String,
        name: String,
        record_type: RecordType,
        at: String,
    },
    NoSetIdentifier {
        route: String,
        side: Side,
        set_identifier: String,
        present: Vec<String>,
        at: String,
    },
    NotWeighted {
        route: String,
        side: Side,
        set_identifier: String,
        policy: String,
        at: String,
    },
    /// The call failed: the explained AWS error.
    Call(Failure),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NoZone { route, zone, at } => write!(
                f,
                "{at}: route `{route}`: hosted zone {zone} does not exist (or this identity cannot see it)\n  \
                 hint: check hosted_zone_id against `aws route53 list-hosted-zones-by-name`"
            ),
            ReadError::NoRecord { route, zone, name, record_type, at } => write!(
                f,
                "{at}: route `{route}`: zone {zone} holds no {record_type} record named {name}\n  \
                 hint: check record_name and record_type; is the record in another zone (public vs private)?"
            ),
            ReadError::NoSetIdentifier { route, side, set_identifier, present, at } => {
                write!(f, "{at}: route `{route}`: no {side} record with set identifier `{set_identifier}`")?;
                if present.is_empty() {
                    write!(f, " (the record has no set identifiers: it is not weighted)")?;
                } else {
                    write!(f, " (the record's set identifiers: {})", present.join(", "))?;
                }
                write!(f, "\n  hint: set {side}_set_identifier to the Set ID of {side}'s record")
            }
            ReadError::NotWeighted { route, side, set_identifier, policy, at } => write!(
                f,
                "{at}: route `{route}`: the {side} record `{set_identifier}` is not weighted ({policy} routing)\n  \
                 hint: a route53 route shifts weights between two weighted records of one name"
            ),
            ReadError::Call(e) => f.write_str(&e.text),
        }
    }
}

impl std::error::Error for ReadError {}

impl ReadError {
    /// As a source's failure: a call's with its kind, the plan's as text.
    pub fn failure(self) -> Failure {
        match self {
            ReadError::Call(f) => f,
            e => Failure::other(e.to_string()),
        }
    }
}

/// Why a route's load balancers could not be found.
#[derive(Debug, Clone, PartialEq)]
pub enum LbError {
    /// The plan's mistake, said with the line to fix and a hint: a record
    /// that holds addresses, or points at no load balancer of the account.
    Plan(String),
    /// The listing failed, or the load balancer the plan names is not
    /// (yet) there: tried again at the next poll.
    Call(Failure),
}

impl fmt::Display for LbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LbError::Plan(text) => f.write_str(text),
            LbError::Call(failure) => f.write_str(&failure.text),
        }
    }
}

impl LbError {
    pub fn failure(self) -> Failure {
        match self {
            LbError::Plan(text) => Failure::other(text),
            LbError::Call(f) => f,
        }
    }
}

/// `www.example.com.`: lowercase, one trailing dot, Route 53's escape of
/// `*` undone, for comparing a plan's name with a listed one.
pub fn normalize_record_name(name: &str) -> String {
    let name = name.replace("\\052", "*").to_ascii_lowercase();
    format!("{}.", name.trim_end_matches('.'))
}

fn rr_type(t: RecordType) -> RrType {
    match t {
        RecordType::A => RrType::A,
        RecordType::Aaaa => RrType::Aaaa,
        RecordType::Cname => RrType::Cname,
    }
}

/// The routing policy of a record that has a set identifier but no weight.
fn policy_of(r: &ResourceRecordSet) -> &'static str {
    if r.failover.is_some() {
        "failover"
    } else if r.region.is_some() {
        "latency"
    } else if r.geo_location.is_some() {
        "geolocation"
    } else if r.geo_proximity_location.is_some() {
        "geoproximity"
    } else if r.multi_value_answer.is_some() {
        "multivalue answer"
    } else if r.cidr_routing_config.is_some() {
        "IP-based"
    } else if r.set_identifier.is_none() {
        "simple"
    } else {
        "unknown"
    }
}

fn trimmed(raw: &ResourceRecordSet, weight: u8) -> WeightedRecord {
    let target = match &raw.alias_target {
        Some(a) => RecordTarget::Alias {
            dns_name: a.dns_name.clone(),
            hosted_zone_id: a.hosted_zone_id.clone(),
            evaluate_target_health: a.evaluate_target_health,
        },
        None => RecordTarget::Values(raw.resource_records().iter().map(|r| r.value.clone()).collect()),
    };
    WeightedRecord {
        set_identifier: raw.set_identifier.clone().unwrap_or_default(),
        weight,
        ttl: raw.ttl,
        target,
        health_check_id: raw.health_check_id.clone(),
        raw: raw.clone(),
    }
}

/// Every record of the route's name and type, read from the first of that
/// name and type on, page by page, until the name or type changes.
async fn list_records(client: &Client, route: &Routed<Route53Route>) -> Result<Vec<ResourceRecordSet>, ReadError> {
    let wanted_type = rr_type(route.record_type);
    let mut found = Vec::new();
    let mut identifier: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let answer = client
            .list_resource_record_sets()
            .hosted_zone_id(&route.hosted_zone_id)
            .start_record_name(&route.record_name)
            .start_record_type(wanted_type.clone())
            .set_start_record_identifier(identifier.clone())
            .max_items(PAGE)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_no_such_hosted_zone()) {
                    return ReadError::NoZone {
                        route: route.name().to_string(),
                        zone: route.hosted_zone_id.clone(),
                        at: route.at(route.lines.hosted_zone_id),
                    };
                }
                ReadError::Call(aws::failure_on(
                    &e,
                    "route53:ListResourceRecordSets",
                    Some(&format!("hostedzone/{}", route.hosted_zone_id)),
                ))
            })?;
        let mut past = false;
        for r in answer.resource_record_sets() {
            if normalize_record_name(&r.name) == route.record_name && r.r#type == wanted_type {
                found.push(r.clone());
            } else {
                past = true;
            }
        }
        let same_next = answer.next_record_name().is_some_and(|n| normalize_record_name(n) == route.record_name)
            && answer.next_record_type() == Some(&wanted_type);
        if past || !answer.is_truncated() || !same_next {
            break;
        }
        match answer.next_record_identifier() {
            Some(next) => identifier = Some(next.to_string()),
            None => break,
        }
    }
    Ok(found)
}

/// Both weighted records of a route. One ListResourceRecordSets call for
/// a name with up to ten weighted records.
pub async fn read(client: &Client, route: &Routed<Route53Route>) -> Result<RecordPair, ReadError> {
    let records = list_records(client, route).await?;
    if records.is_empty() {
        return Err(ReadError::NoRecord {
            route: route.name().to_string(),
            zone: route.hosted_zone_id.clone(),
            name: route.record_name.clone(),
            record_type: route.record_type,
            at: route.at(route.lines.record_name),
        });
    }
    let side = |side: Side| -> Result<WeightedRecord, ReadError> {
        let id = route.set_identifier(side);
        let line = match side {
            Side::Old => route.lines.old_set_identifier,
            Side::New => route.lines.new_set_identifier,
        };
        let Some(raw) = records.iter().find(|r| r.set_identifier.as_deref() == Some(id)) else {
            return Err(ReadError::NoSetIdentifier {
                route: route.name().to_string(),
                side,
                set_identifier: id.to_string(),
                present: records.iter().filter_map(|r| r.set_identifier.clone()).collect(),
                at: route.at(line),
            });
        };
        match raw.weight {
            Some(w) => Ok(trimmed(raw, w.clamp(0, 255) as u8)),
            None => Err(ReadError::NotWeighted {
                route: route.name().to_string(),
                side,
                set_identifier: id.to_string(),
                policy: policy_of(raw).to_string(),
                at: route.at(line),
            }),
        }
    };
    let pair = PerSide::new(side(Side::Old)?, side(Side::New)?);
    let ours = |r: &ResourceRecordSet| {
        Side::BOTH.iter().any(|s| r.set_identifier.as_deref() == Some(route.set_identifier(*s)))
    };
    let others = records
        .iter()
        .filter(|r| !ours(r))
        .filter_map(|r| r.weight.map(|w| trimmed(r, w.clamp(0, 255) as u8)))
        .collect();
    Ok(RecordPair { records: pair, others })
}

/// A load balancer a record points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    pub arn: Arn,
    pub dns_name: String,
}

impl LoadBalancer {
    /// `app/web-2026/0123abcd`: the CloudWatch `LoadBalancer` dimension.
    pub fn dimension(&self) -> String {
        let resource = self.arn.0.split_once(":loadbalancer/").map_or("", |(_, r)| r);
        resource.to_string()
    }
}

/// A DNS name as a load balancer's: lowercase, no trailing dot, no
/// `dualstack.` (Route 53 aliases to an ALB carry it; the ALB's own name
/// does not).
pub fn normalize_dns(name: &str) -> String {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    name.strip_prefix("dualstack.").map(str::to_string).unwrap_or(name)
}

/// Each side's load balancer: the plan's when it names one, else the one
/// whose DNS name the side's record points at. One DescribeLoadBalancers
/// listing (paged) serves both sides.
pub async fn load_balancers(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    route: &Routed<Route53Route>,
    pair: &RecordPair,
) -> Result<PerSide<LoadBalancer>, LbError> {
    let mut all: Vec<LoadBalancer> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = elb
            .describe_load_balancers()
            .set_marker(marker.clone())
            .page_size(400)
            .send()
            .await
            .map_err(|e| LbError::Call(aws::failure(&e, "elasticloadbalancing:DescribeLoadBalancers")))?;
        for lb in page.load_balancers() {
            if let (Some(arn), Some(dns)) = (lb.load_balancer_arn(), lb.dns_name()) {
                all.push(LoadBalancer { arn: Arn(arn.to_string()), dns_name: dns.to_string() });
            }
        }
        match page.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    let find = |side: Side| -> Result<LoadBalancer, LbError> {
        let record = pair.records.get(side);
        if let Some(arn) = route.load_balancer(side) {
            let line = match side {
                Side::Old => route.lines.old_load_balancer,
                Side::New => route.lines.new_load_balancer,
            };
            return all.iter().find(|lb| &lb.arn == arn).cloned().ok_or_else(|| {
                let text = format!(
                    "{}: route `{}`: {side}_load_balancer {arn} is not a load balancer in this account and region",
                    route.at(line.unwrap_or(route.line)),
                    route.name()
                );
                LbError::Call(Failure::new(text, crate::domain::Fault::NotFound))
            });
        }
        let Some(target) = record.points_at() else {
            return Err(LbError::Plan(format!(
                "{}: route `{}`: the {side} record `{}` holds addresses, not a load balancer's name\n  \
                 hint: give {side}_load_balancer in the plan",
                route.at(route.line),
                route.name(),
                record.set_identifier
            )));
        };
        let wanted = normalize_dns(target);
        all.iter().find(|lb| normalize_dns(&lb.dns_name) == wanted).cloned().ok_or_else(|| {
            LbError::Plan(format!(
                "{}: route `{}`: the {side} record `{}` points at {target}, which is not a load balancer in this \
                 account and region\n  hint: give {side}_load_balancer in the plan",
                route.at(route.line),
                route.name(),
                record.set_identifier
            ))
        })
    };
    Ok(PerSide::new(find(Side::Old)?, find(Side::New)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_route53_lists_them() {
        assert_eq!(normalize_record_name("WWW.Example.test"), "www.example.test.");
        assert_eq!(normalize_record_name("\\052.example.test."), "*.example.test.");
        assert_eq!(
            normalize_dns("dualstack.Web-2026-123.us-east-1.elb.amazonaws.com."),
            normalize_dns("web-2026-123.us-east-1.elb.amazonaws.com")
        );
    }
}

/// ExternalDNS's TXT registry value: `heritage=external-dns,...`.
const HERITAGE: &str = "heritage=external-dns";

/// Who wrote a weighted record, from ExternalDNS's TXT registry: a TXT
/// record of the same set identifier, named as the record (the old
/// format) or with the record type in front (`a-www.example.com.`, the
/// format since ExternalDNS 0.11), whose value says
/// `heritage=external-dns,external-dns/owner=<id>,external-dns/resource=<kind/ns/name>`.
pub fn external_dns_owner(values: &[String]) -> Option<crate::domain::Owner> {
    values.iter().find_map(|v| {
        let v = v.trim().trim_matches('"');
        if !v.starts_with(HERITAGE) {
            return None;
        }
        let field = |key: &str| {
            v.split(',').find_map(|kv| kv.trim().strip_prefix(key).map(|rest| rest.trim_start_matches('=').to_string()))
        };
        Some(crate::domain::Owner::ExternalDns {
            owner_id: field("external-dns/owner").unwrap_or_default(),
            resource: field("external-dns/resource").filter(|r| !r.is_empty()),
        })
    })
}

/// The names ExternalDNS may keep its registry record of `route` under.
fn registry_names(route: &Routed<Route53Route>) -> [String; 2] {
    let prefix = route.record_type.as_str().to_ascii_lowercase();
    [route.record_name.clone(), format!("{prefix}-{}", route.record_name)]
}

/// Who owns each side's record, from ExternalDNS's TXT registry: one
/// ListResourceRecordSets per registry name (two), a page each.
pub async fn read_owner(
    client: &Client,
    route: &Routed<Route53Route>,
) -> Result<PerSide<Option<crate::domain::Owner>>, String> {
    let mut owners = PerSide::new(None, None);
    for name in registry_names(route) {
        let answer = client
            .list_resource_record_sets()
            .hosted_zone_id(&route.hosted_zone_id)
            .start_record_name(&name)
            .start_record_type(RrType::Txt)
            .max_items(PAGE)
            .send()
            .await
            .map_err(|e| aws::explain(&e, "route53:ListResourceRecordSets"))?;
        for r in answer.resource_record_sets() {
            if normalize_record_name(&r.name) != name || r.r#type != RrType::Txt {
                continue;
            }
            let values: Vec<String> = r.resource_records().iter().map(|v| v.value.clone()).collect();
            for side in Side::BOTH {
                let ours = r.set_identifier.as_deref() == Some(route.set_identifier(side));
                if ours && owners.get(side).is_none() {
                    *owners.get_mut(side) = external_dns_owner(&values);
                }
            }
        }
    }
    Ok(owners)
}

/// The target groups a load balancer forwards to: one
/// DescribeTargetGroups call.
pub async fn target_groups(elb: &aws_sdk_elasticloadbalancingv2::Client, lb: &Arn) -> Result<Vec<Arn>, Failure> {
    let out = match elb.describe_target_groups().load_balancer_arn(&lb.0).send().await {
        Ok(out) => out,
        // A load balancer that forwards to no target group yet.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_target_group_not_found_exception()) => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(aws::failure_on(&e, "elasticloadbalancing:DescribeTargetGroups", Some(&lb.0))),
    };
    Ok(out.target_groups().iter().filter_map(|g| g.target_group_arn().map(|a| Arn(a.to_string()))).collect())
}

/// Target groups read per load balancer: enough for an ALB with a few
/// rules, bounded so a large one cannot turn a poll into many calls.
const MAX_GROUPS: usize = 4;

/// A route53 route as its reader keeps it between polls.
#[derive(Debug, Clone)]
pub struct Watched {
    pub route: Routed<Route53Route>,
    /// Found at the start, or at a later poll when the start could not.
    pub load_balancers: Option<PerSide<LoadBalancer>>,
    /// Each side's load balancer's target groups, once listed (a load
    /// balancer may have none: that is not listed again every poll).
    pub groups: PerSide<Option<Vec<Arn>>>,
}

impl Watched {
    pub fn new(route: Routed<Route53Route>) -> Watched {
        Watched { route, load_balancers: None, groups: PerSide::default() }
    }
}

/// What the start of a session learns of a route53 route, or why the plan
/// is wrong: a zone without the record, a missing set identifier, a record
/// that is not weighted, a load balancer that is not one. A call that
/// fails (throttled, unreachable) is not the plan's fault: the source
/// goes on trying.
pub async fn resolve(
    client: &Client,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    watched: &mut Watched,
) -> Result<(), String> {
    let pair = match read(client, &watched.route).await {
        Ok(pair) => pair,
        Err(ReadError::Call(e)) => {
            tracing::warn!(route = %watched.route.name(), error = %e, "route53 records not read at start");
            return Ok(());
        }
        Err(e) => return Err(e.to_string()),
    };
    match load_balancers(elb, &watched.route, &pair).await {
        Ok(lbs) => watched.load_balancers = Some(lbs),
        Err(e @ LbError::Plan(_)) => return Err(e.to_string()),
        Err(LbError::Call(e)) => {
            tracing::warn!(route = %watched.route.name(), error = %e, "load balancers not found at start")
        }
    }
    Ok(())
}

fn record_read(record: &WeightedRecord, lb: Option<&LoadBalancer>) -> crate::domain::RecordRead {
    let (points_at, alias, evaluate) = match &record.target {
        RecordTarget::Alias { dns_name, evaluate_target_health, .. } => {
            (dns_name.clone(), true, *evaluate_target_health)
        }
        RecordTarget::Values(v) => (v.join(" "), false, false),
    };
    crate::domain::RecordRead {
        set_identifier: record.set_identifier.clone(),
        ttl: record.ttl,
        points_at,
        alias,
        evaluate_target_health: evaluate,
        health_check: record.health_check_id.clone(),
        load_balancer: lb.map(LoadBalancer::dimension),
    }
}

/// One read of a route: both records, each side's load balancer's target
/// health (its target groups are listed once, then every `GROUPS_EVERY`
/// polls).
pub async fn read_route(
    client: &Client,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    watched: &mut Watched,
    list_groups: bool,
) -> Result<crate::domain::RouteRead, Failure> {
    use crate::domain::{ReadDetail, RouteRead, Weight, Weights};
    let pair = read(client, &watched.route).await.map_err(ReadError::failure)?;
    if watched.load_balancers.is_none() {
        watched.load_balancers = Some(load_balancers(elb, &watched.route, &pair).await.map_err(LbError::failure)?);
    }
    let lbs = watched.load_balancers.clone();
    let mut targets = PerSide::new(Vec::new(), Vec::new());
    if let Some(lbs) = &lbs {
        for side in Side::BOTH {
            if list_groups || watched.groups.get(side).is_none() {
                *watched.groups.get_mut(side) = Some(target_groups(elb, &lbs.get(side).arn).await?);
            }
            for group in watched.groups.get(side).iter().flatten().take(MAX_GROUPS) {
                match super::alb::read_targets_of(elb, group).await? {
                    Ok(found) => targets.get_mut(side).extend(found),
                    Err(fault) => return Err(Failure::other(fault.text())),
                }
            }
        }
    }
    let lb = |side: Side| lbs.as_ref().map(|l| l.get(side));
    let records =
        PerSide::new(record_read(&pair.records.old, lb(Side::Old)), record_read(&pair.records.new, lb(Side::New)));
    let w = pair.weights();
    Ok(RouteRead {
        route: watched.route.id,
        weights: Some(Weights { old: Weight(u16::from(w.old)), new: Weight(u16::from(w.new)) }),
        others: pair.others.iter().map(|r| (r.set_identifier.clone(), Weight(u16::from(r.weight)))).collect(),
        targets,
        detail: ReadDetail::Route53 { records: Box::new(records) },
    })
}

/// Target groups are listed again every this many polls.
const GROUPS_EVERY: u32 = 12;

/// The reader of every route53 route of the plan, at the ALB poll's pace:
/// the records, the target health of each side's load balancer, and now
/// and then ExternalDNS's registry.
pub struct Route53Reader {
    client: Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    routes: Vec<Watched>,
}

impl Route53Reader {
    /// None for a plan without route53 routes.
    pub fn new(clients: &super::traffic::Clients, routes: Vec<Routed<Route53Route>>) -> Option<Route53Reader> {
        (!routes.is_empty()).then(|| Route53Reader {
            client: clients.route53.clone(),
            elb: clients.elb.clone(),
            routes: routes.into_iter().map(Watched::new).collect(),
        })
    }
}

impl TrafficReader for Route53Reader {
    const KIND: RouteKind = RouteKind::Route53;
    /// ExternalDNS's registry is read with the first poll and every this many.
    const OWNERS_EVERY: u32 = 10;

    /// Route 53 routes are resolved before anything polls: a record the
    /// zone does not hold is the plan's mistake, said at once (exit 2).
    async fn prepare(&mut self) -> Result<(), String> {
        for w in &mut self.routes {
            resolve(&self.client, &self.elb, w).await?;
        }
        Ok(())
    }

    async fn read(&mut self, poll: u32) -> Result<Reading, Failure> {
        let list_groups = poll.is_multiple_of(GROUPS_EVERY);
        let mut reads = Vec::with_capacity(self.routes.len());
        for w in self.routes.iter_mut() {
            reads.push(read_route(&self.client, &self.elb, w, list_groups).await?);
        }
        Ok(Reading { reads, problems: None })
    }

    async fn owners(&mut self) -> Result<Vec<crate::domain::RouteOwners>, String> {
        let mut owners = Vec::new();
        for w in &self.routes {
            let o = read_owner(&self.client, &w.route).await?;
            // Both records are written in one batch: either side's owner
            // would put the weights back.
            owners.push(crate::domain::RouteOwners {
                route: w.route.id,
                rule: o.new.or(o.old),
                target_groups: PerSide::new(None, None),
            });
        }
        Ok(owners)
    }

    /// Each side's own load balancer, which serves that side only, once
    /// found.
    fn metric_targets(&self) -> Vec<MetricTarget> {
        self.routes
            .iter()
            .filter_map(|w| {
                let lbs = w.load_balancers.as_ref()?;
                Some(MetricTarget::on_load_balancers(
                    w.route.id,
                    &PerSide::new(lbs.old.dimension(), lbs.new.dimension()),
                ))
            })
            .flatten()
            .collect()
    }

    /// Both weighted records read as the console would (which also proves
    /// the zone, the set identifiers and the read permission), and each
    /// side's load balancer found.
    async fn check(&self, report: &mut Report) {
        for w in &self.routes {
            let route = &w.route;
            let area = format!("route53 {}", route.name());
            let pair = match read(&self.client, route).await {
                Ok(p) => p,
                Err(e) => {
                    // One line per finding: the hint follows after a semicolon.
                    report.add_once(Verdict::Fail, &area, "records", e.to_string().replace("\n  hint: ", "; "));
                    continue;
                }
            };
            report.add(
                Verdict::Ok,
                &area,
                format!(
                    "zone {} holds {} {} with both weighted records",
                    route.hosted_zone_id, route.record_type, route.record_name
                ),
            );
            for side in Side::BOTH {
                let rec = pair.records.get(side);
                let target = match &rec.target {
                    RecordTarget::Alias { dns_name, evaluate_target_health, .. } => format!(
                        "alias {dns_name} (evaluate target health: {})",
                        if *evaluate_target_health { "yes" } else { "no" }
                    ),
                    RecordTarget::Values(v) => format!("TTL {} s, {}", rec.ttl.unwrap_or(0), v.join(" ")),
                };
                report.add(
                    Verdict::Ok,
                    &area,
                    format!("{side} record `{}`: weight {}, {target}", rec.set_identifier, rec.weight),
                );
            }
            let split = if pair.equal_split() {
                "both weights are 0: Route 53 answers evenly, 50% to new".to_string()
            } else {
                format!("{:.0}% of answers to new", pair.new_percent())
            };
            report.add(Verdict::Ok, &area, split);
            match load_balancers(&self.elb, route, &pair).await {
                Ok(lbs) => {
                    for side in Side::BOTH {
                        let how = if route.load_balancer(side).is_some() { "from the plan" } else { "from the record" };
                        report.add(
                            Verdict::Ok,
                            &area,
                            format!("{side} load balancer {} ({how})", lbs.get(side).dimension()),
                        );
                    }
                }
                Err(e) => {
                    report.add_once(Verdict::Fail, &area, "load balancers", e.to_string().replace("\n  hint: ", "; "))
                }
            }
        }
    }
}
