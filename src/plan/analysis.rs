//! `[analysis]` and a route's `[route.analysis]`: what a step must show
//! before the next one, and what the console does on its own when it
//! does not (or does). A route's table overrides the plan's, field by
//! field; the plan's overrides the defaults below.
//!
//! Shares and durations are strings with their unit, as runbooks write
//! them: `"1%"`, `"0.5%"`, `"500ms"`, `"5m"`.

use serde::Deserialize;
use toml::Spanned;

use super::error::{Located, PlanError};
use crate::domain::analysis::{Advance, AnalysisSpec, OnFailure};

pub use crate::domain::analysis::{
    DEFAULT_BAKE_SECS, DEFAULT_CONFIDENCE, DEFAULT_FAILURE_LIMIT, DEFAULT_MAX_ERROR_INCREASE, DEFAULT_MAX_ERROR_RATE,
    DEFAULT_MAX_LATENCY_MS,
};

/// One `[analysis]` table as the file gives it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AnalysisFile {
    max_error_rate: Option<Spanned<String>>,
    max_error_increase: Option<Spanned<String>>,
    max_latency: Option<Spanned<String>>,
    bake: Option<Spanned<String>>,
    failure_limit: Option<Spanned<i64>>,
    confidence: Option<Spanned<f64>>,
    on_failure: Option<Spanned<String>>,
    advance: Option<Spanned<String>>,
}

/// The analysis of a route: its own table over the plan's, over the
/// defaults. None when neither the plan nor the route has one: the route
/// is not judged.
pub(super) fn of_route(
    loc: &Located<'_>,
    plan: Option<&Spanned<AnalysisFile>>,
    route: Option<&Spanned<AnalysisFile>>,
) -> Result<Option<AnalysisSpec>, PlanError> {
    let tables: Vec<&Spanned<AnalysisFile>> = [plan, route].into_iter().flatten().collect();
    let Some(first) = tables.first() else { return Ok(None) };
    // The last table that gives a field wins: the route's over the plan's.
    macro_rules! pick {
        ($field:ident) => {
            tables.iter().rev().find_map(|t| t.get_ref().$field.as_ref())
        };
    }
    let at = |span: Option<std::ops::Range<usize>>| {
        format!("{}:{}", loc.file, loc.line(span.unwrap_or_else(|| first.span())))
    };
    let share = |value: Option<&Spanned<String>>, field: &str, default: f64| match value {
        Some(v) => percent(loc, v, field),
        None => Ok(Some(default)),
    };
    let max_error_rate = share(pick!(max_error_rate), "max_error_rate", DEFAULT_MAX_ERROR_RATE)?;
    let max_error_increase = share(pick!(max_error_increase), "max_error_increase", DEFAULT_MAX_ERROR_INCREASE)?;
    let max_latency_ms = match pick!(max_latency) {
        Some(v) if v.get_ref().trim() == "none" => None,
        Some(v) => Some(duration_ms(loc, v, "max_latency")?).filter(|ms| *ms > 0.0).map(Some).ok_or_else(|| {
            loc.at(
                v.span(),
                "`max_latency` must be above 0",
                "e.g. max_latency = \"500ms\", or \"none\" to judge no latency",
            )
        })?,
        None => Some(DEFAULT_MAX_LATENCY_MS),
    };
    let bake_secs = match pick!(bake) {
        Some(v) => (duration_ms(loc, v, "bake")? / 1000.0).round() as i64,
        None => DEFAULT_BAKE_SECS,
    };
    let failure_limit = match pick!(failure_limit) {
        Some(v) if !(1..=60).contains(v.get_ref()) => {
            return Err(loc.at(
                v.span(),
                "`failure_limit` must be 1 to 60",
                "failing minutes before the step fails, e.g. failure_limit = 2",
            ));
        }
        Some(v) => *v.get_ref() as u32,
        None => DEFAULT_FAILURE_LIMIT,
    };
    let confidence = match pick!(confidence) {
        Some(v) if !(*v.get_ref() >= 0.5 && *v.get_ref() < 1.0) => {
            return Err(loc.at(
                v.span(),
                "`confidence` must be at least 0.5 and below 1",
                "how sure a pass or a fail must be, e.g. confidence = 0.95",
            ));
        }
        Some(v) => *v.get_ref(),
        None => DEFAULT_CONFIDENCE,
    };
    let on_failure_field = pick!(on_failure);
    let on_failure = match on_failure_field.map(|v| v.get_ref().as_str()) {
        None | Some("alarm") => OnFailure::Alarm,
        Some("revert") => OnFailure::Revert,
        Some(other) => {
            return Err(loc.at(
                on_failure_field.map_or(first.span(), Spanned::span),
                format!("`on_failure = \"{other}\"` is not known"),
                "on_failure = \"alarm\" (the operator decides) or \"revert\" (the console reverts the route by itself)",
            ));
        }
    };
    let advance_field = pick!(advance);
    let advance = match advance_field.map(|v| v.get_ref().as_str()) {
        None | Some("manual") => Advance::Manual,
        Some("prompt") => Advance::Prompt,
        Some("auto") => Advance::Auto,
        Some(other) => {
            return Err(loc.at(
                advance_field.map_or(first.span(), Spanned::span),
                format!("`advance = \"{other}\"` is not known"),
                "advance = \"manual\", \"prompt\" (the next step proposed when ready) or \"auto\" (applied after a countdown)",
            ));
        }
    };
    Ok(Some(AnalysisSpec {
        max_error_rate,
        max_error_increase,
        max_latency_ms,
        bake_secs,
        failure_limit,
        confidence,
        on_failure,
        advance,
        on_failure_at: at(on_failure_field.map(Spanned::span)),
        advance_at: at(advance_field.map(Spanned::span)),
    }))
}

/// `"1%"` as 0.01; `"none"` as no limit.
fn percent(loc: &Located<'_>, value: &Spanned<String>, field: &str) -> Result<Option<f64>, PlanError> {
    let text = value.get_ref().trim();
    if text == "none" {
        return Ok(None);
    }
    let number = text.strip_suffix('%').and_then(|n| n.trim().parse::<f64>().ok());
    match number {
        Some(p) if (0.0..=100.0).contains(&p) => Ok(Some(p / 100.0)),
        _ => Err(loc.at(
            value.span(),
            format!("`{field} = \"{text}\"` is not a percentage"),
            format!("a share with its % sign, from \"0%\" to \"100%\", as a string: {field} = \"1%\" (or \"none\")"),
        )),
    }
}

/// `"500ms"`, `"30s"`, `"5m"`, `"1h"` in milliseconds.
fn duration_ms(loc: &Located<'_>, value: &Spanned<String>, field: &str) -> Result<f64, PlanError> {
    let text = value.get_ref().trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ms" => Some(1.0),
        "s" => Some(1_000.0),
        "m" => Some(60_000.0),
        "h" => Some(3_600_000.0),
        _ => None,
    };
    match (number.parse::<f64>().ok(), scale) {
        (Some(n), Some(scale)) if n >= 0.0 && n * scale <= 24.0 * 3_600_000.0 => Ok(n * scale),
        _ => Err(loc.at(
            value.span(),
            format!("`{field} = \"{text}\"` is not a duration"),
            format!("a number and its unit (ms, s, m, h) as a string, at most a day: {field} = \"5m\""),
        )),
    }
}
