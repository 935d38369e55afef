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

/// The widest a continued line of a finding is.
const DETAIL_WIDTH: usize = 100;

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
    /// change; what could not be read, a warning each; none found, one
    /// line saying what was judged.
    pub fn risks(
        &mut self,
        risks: &[crate::domain::lifecycle::Risk],
        facts: Option<&crate::domain::lifecycle::LifecycleFacts>,
    ) {
        let Some(facts) = facts else {
            self.add(Verdict::Warn, "risks", "the lifecycle could not be read: no risk was judged");
            return;
        };
        for line in &facts.unread {
            self.add(Verdict::Warn, "risks", wrapped(&format!("{line}: that risk is not judged")));
        }
        for r in risks {
            let detail = format!(
                "{}\n{}{}\n{}{}",
                wrapped(&r.finding),
                " ".repeat(DETAIL_INDENT),
                wrapped(&format!("means: {}", r.kind.means())),
                " ".repeat(DETAIL_INDENT),
                wrapped(&format!("change: {}", r.change)),
            );
            self.add(Verdict::Warn, format!("risk {}", r.side), detail);
        }
        if risks.is_empty() {
            self.add(
                Verdict::Ok,
                "risks",
                wrapped(&format!(
                    "no lifecycle risk found ({} target group(s), {} Auto Scaling group(s), the termination handlers and readiness gates of each cluster)",
                    facts.target_groups.len(),
                    facts.scaling_groups.len()
                )),
            );
        }
    }
}
