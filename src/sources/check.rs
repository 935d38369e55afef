//! What `cutover check` finds, finding by finding: each source checks its
//! own backend into one report.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Works, but worth a look (no traffic yet, an unhealthy target).
    Warn,
    Fail,
    /// Not tried: a failure above already answers it.
    Skip,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub verdict: Verdict,
    pub area: String,
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = match self.verdict {
            Verdict::Ok => "ok",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        };
        write!(f, "  {v:<5} {:<16} {}", self.area, self.detail)
    }
}

/// The findings in the order they were made.
#[derive(Default)]
pub struct Report(pub Vec<Finding>);

impl Report {
    pub fn add(&mut self, verdict: Verdict, area: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Finding { verdict, area: area.into(), detail: detail.into() });
    }

    /// A failure whose reason (`why`) an earlier finding already gave, in
    /// full, is said once: later ones point at it.
    pub fn add_once(&mut self, verdict: Verdict, area: &str, what: &str, why: String) {
        let earlier =
            self.0.iter().find(|f| f.verdict != Verdict::Ok && f.detail.ends_with(&why)).map(|f| f.area.clone());
        let detail = match earlier {
            Some(first) => format!("{what}: the same failure as `{}` above", first.trim()),
            None if what.is_empty() => why,
            None => format!("{what}: {why}"),
        };
        self.add(verdict, area, detail);
    }
}
