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

/// Where a finding's continued lines start: under its detail.
const DETAIL_INDENT: usize = 2 + 5 + 1 + 16 + 1;

/// The widest a line of a finding's detail is: with its indent, within a
/// 120-column terminal.
const DETAIL_WIDTH: usize = 90;

/// `text` in lines of at most `DETAIL_WIDTH` characters, broken at spaces,
/// each after the first indented under the finding's detail.
fn wrapped(text: &str) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split(' ') {
        let Some(last) = lines.last_mut() else { break };
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > DETAIL_WIDTH {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines.join(&format!("\n{}", " ".repeat(DETAIL_INDENT)))
}

impl Report {
    /// The lifecycle risks, each a warning with what it means and what to
    /// change; what could not be read, a warning each (it raises no risk);
    /// none found, one line saying what was `judged`. Warnings only: they
    /// never fail a check.
    pub fn risks(&mut self, risks: &[crate::domain::lifecycle::Risk], unread: &[String], judged: &str) {
        let indent = " ".repeat(DETAIL_INDENT);
        for line in unread {
            self.add(Verdict::Warn, "risks", wrapped(line));
        }
        for r in risks {
            let detail = format!(
                "{}\n{indent}{}\n{indent}{}",
                wrapped(&r.finding),
                wrapped(&format!("means: {}", r.kind.means())),
                wrapped(&format!("change: {}", r.change)),
            );
            self.add(Verdict::Warn, format!("risk {}", r.side), detail);
        }
        if risks.is_empty() {
            self.add(Verdict::Ok, "risks", format!("no lifecycle risks found ({judged})"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Side;
    use crate::domain::lifecycle::{Risk, RiskKind};

    #[test]
    fn a_risk_is_said_on_lines_within_200_characters_with_its_meaning_and_change() {
        let risk = Risk {
            kind: RiskKind::RebalanceWithoutHandler,
            side: Side::New,
            route: Some("api".into()),
            finding: "api: node group spot (ASG eks-spot-1) has capacity rebalance on, no termination handler".into(),
            brief: "capacity rebalance on spot".into(),
            change: "install aws-node-termination-handler so a rebalance cordons and drains in order (taints show on the console), and give the pods a preStop pause".into(),
        };
        let mut report = Report::default();
        report.risks(std::slice::from_ref(&risk), &["autoscaling:DescribeAutoScalingGroups denied".into()], "");
        for line in report.0.iter().flat_map(|f| f.detail.lines()) {
            assert!(line.trim().chars().count() <= DETAIL_WIDTH, "within {DETAIL_WIDTH}: {line}");
        }
        let text: String = report.0.iter().map(|f| format!("{f}\n")).collect();
        assert!(text.lines().count() >= 4, "{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= 200, "{line}");
        }
        assert!(text.contains("WARN  risks            autoscaling:DescribeAutoScalingGroups denied"), "{text}");
        assert!(text.contains("means: on a rebalance recommendation"), "{text}");
        assert!(text.contains("change: install aws-node-termination-handler"), "{text}");
        let mut none = Report::default();
        none.risks(&[], &[], "2 target group(s)");
        assert_eq!(none.0[0].verdict, Verdict::Ok);
        assert_eq!(none.0[0].detail, "no lifecycle risks found (2 target group(s))");
    }
}
