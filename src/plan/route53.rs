//! A `kind = "route53"` route: two weighted Route 53 records of one name
//! and type, one per side, usually each an alias to its side's load
//! balancer.

use std::fmt;

use toml::Spanned;

use super::error::{Located, PlanError};
use super::route::RouteFile;
use super::values::{Arn, arn, required};
use crate::domain::{Backend, DnsSpec, PerSide, Side};

/// The record types a weighted route may shift: the ones an alias to a
/// load balancer (A, AAAA) or a name (CNAME) is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
}

impl RecordType {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the plan a Route 53 route's fields are, for messages about
/// what AWS holds ("the zone does not hold the record") to point at the
/// line to fix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route53Lines {
    pub hosted_zone_id: usize,
    pub record_name: usize,
    pub old_set_identifier: usize,
    pub new_set_identifier: usize,
    pub old_load_balancer: Option<usize>,
    pub new_load_balancer: Option<usize>,
}

/// A route that shifts traffic between two weighted Route 53 records of
/// one name and type, one per side (usually each an alias to that side's
/// load balancer).
#[derive(Debug, Clone, PartialEq)]
pub struct Route53Route {
    /// The bare id (`Z0123...`), without a `/hostedzone/` prefix.
    pub hosted_zone_id: String,
    /// Lowercase, with the trailing dot, as Route 53 lists it.
    pub record_name: String,
    pub record_type: RecordType,
    pub old_set_identifier: String,
    pub new_set_identifier: String,
    /// None: found from the record's alias target or CNAME value.
    pub old_load_balancer: Option<Arn>,
    pub new_load_balancer: Option<Arn>,
    pub lines: Route53Lines,
}

impl Route53Route {
    pub fn set_identifier(&self, side: Side) -> &str {
        match side {
            Side::Old => &self.old_set_identifier,
            Side::New => &self.new_set_identifier,
        }
    }

    pub fn load_balancer(&self, side: Side) -> Option<&Arn> {
        match side {
            Side::Old => self.old_load_balancer.as_ref(),
            Side::New => self.new_load_balancer.as_ref(),
        }
    }
}

impl Route53Route {
    /// What two routes must not share: the record set (zone, name, type).
    pub(super) fn place(&self, r: &RouteFile) -> (String, std::ops::Range<usize>, &'static str) {
        let key = format!("{} {} {}", self.hosted_zone_id, self.record_name, self.record_type);
        let span = r.record_name.as_ref().map_or(r.name.span(), Spanned::span);
        (key, span, "Route 53 record set (zone, `record_name`, `record_type`)")
    }

    /// What the console shows and records of the route.
    pub fn spec(&self) -> Backend {
        Backend::Route53(DnsSpec {
            hosted_zone_id: self.hosted_zone_id.clone(),
            record_name: self.record_name.clone(),
            record_type: self.record_type.as_str().into(),
            set_identifiers: PerSide::new(self.old_set_identifier.clone(), self.new_set_identifier.clone()),
        })
    }
}

/// The fields of a `kind = "route53"` route, checked.
pub(super) fn parse(loc: &Located<'_>, r: &RouteFile) -> Result<Route53Route, PlanError> {
    let line = |span: std::ops::Range<usize>| loc.line(span);
    let zone = required(loc, r, &r.hosted_zone_id, "hosted_zone_id", "\"Z0123456789ABCDEFGHIJ\"")?;
    // The console accepts the id as the AWS CLI prints it, too.
    let zone_id = zone.get_ref().trim().trim_start_matches("/hostedzone/").to_string();
    if zone_id.is_empty()
        || zone_id.len() > 32
        || !zone_id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(loc.at(
            zone.span(),
            format!("`hosted_zone_id = \"{}\"` is not a hosted zone id", zone.get_ref()),
            "the zone's id, e.g. \"Z0123456789ABCDEFGHIJ\" (aws route53 list-hosted-zones-by-name)",
        ));
    }
    let record = required(loc, r, &r.record_name, "record_name", "\"www.example.com.\"")?;
    let record_name = record.get_ref().trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*')
    };
    if record_name.is_empty() || record_name.len() > 253 || !record_name.split('.').all(label_ok) {
        return Err(loc.at(
            record.span(),
            format!("`record_name = \"{}\"` is not a DNS name", record.get_ref()),
            "the weighted records' name, e.g. \"www.example.com.\" (the trailing dot is optional)",
        ));
    }
    let record_type = match r.record_type.as_ref() {
        None => RecordType::A,
        Some(t) => match t.get_ref().as_str() {
            "A" => RecordType::A,
            "AAAA" => RecordType::Aaaa,
            "CNAME" => RecordType::Cname,
            other => {
                return Err(loc.at(
                    t.span(),
                    format!("record type `{other}` cannot be a route"),
                    "record_type = \"A\" (the default), \"AAAA\" or \"CNAME\"",
                ));
            }
        },
    };
    let set_identifier = |field: &str, value: &Option<Spanned<String>>| -> Result<(String, usize), PlanError> {
        let v = required(loc, r, value, field, "\"eks-2026\"")?;
        let text = v.get_ref().clone();
        if text.is_empty() || text.len() > 128 {
            return Err(loc.at(
                v.span(),
                format!("`{field}` must be 1 to 128 characters"),
                "the record's Set ID as the Route 53 console shows it",
            ));
        }
        Ok((text, line(v.span())))
    };
    let (old_set, old_line) = set_identifier("old_set_identifier", &r.old_set_identifier)?;
    let (new_set, new_line) = set_identifier("new_set_identifier", &r.new_set_identifier)?;
    if old_set == new_set {
        return Err(loc.at(
            r.new_set_identifier.as_ref().map_or(r.name.span(), Spanned::span),
            "`new_set_identifier` is the same as `old_set_identifier`",
            "a route shifts traffic between two different weighted records",
        ));
    }
    let lb = |field: &str, value: &Option<Spanned<String>>| -> Result<Option<Arn>, PlanError> {
        value.as_ref().map(|v| arn(loc, v, "loadbalancer/", field)).transpose()
    };
    let old_lb = lb("old_load_balancer", &r.old_load_balancer)?;
    let new_lb = lb("new_load_balancer", &r.new_load_balancer)?;
    if old_lb.is_some() && old_lb == new_lb {
        return Err(loc.at(
            r.new_load_balancer.as_ref().map_or(r.name.span(), Spanned::span),
            "`new_load_balancer` is the same as `old_load_balancer`",
            "one load balancer per side; leave both out to find them from the records",
        ));
    }
    Ok(Route53Route {
        hosted_zone_id: zone_id,
        record_name: format!("{record_name}."),
        record_type,
        old_set_identifier: old_set,
        new_set_identifier: new_set,
        old_load_balancer: old_lb,
        new_load_balancer: new_lb,
        lines: Route53Lines {
            hosted_zone_id: line(zone.span()),
            record_name: line(record.span()),
            old_set_identifier: old_line,
            new_set_identifier: new_line,
            old_load_balancer: r.old_load_balancer.as_ref().map(|v| line(v.span())),
            new_load_balancer: r.new_load_balancer.as_ref().map(|v| line(v.span())),
        },
    })
}
