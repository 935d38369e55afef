//! The report as a document: headings, sentences and tables, built once
//! and written as Markdown or as the HTML page's body, so the two say the
//! same thing in the same order.

use jiff::Timestamp;

use super::{AutomaticAction, Figures, Report, RouteAnalysis, RouteReport, Step, StepVerdict, Worst};
use crate::domain::{Side, Weights, clock, clock_minute, short_node};

pub enum Block {
    Title(String),
    Heading(String),
    Subheading(String),
    Text(String),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// Where the HTML page puts its charts; nothing in Markdown.
    Charts,
}

pub struct Doc {
    pub blocks: Vec<Block>,
}

impl Doc {
    fn title(&mut self, t: impl Into<String>) {
        self.blocks.push(Block::Title(t.into()));
    }
    fn h2(&mut self, t: impl Into<String>) {
        self.blocks.push(Block::Heading(t.into()));
    }
    fn h3(&mut self, t: impl Into<String>) {
        self.blocks.push(Block::Subheading(t.into()));
    }
    fn text(&mut self, t: impl Into<String>) {
        self.blocks.push(Block::Text(t.into()));
    }
    fn table(&mut self, head: &[&str], rows: Vec<Vec<String>>) {
        self.blocks.push(Block::Table { head: head.iter().map(|h| h.to_string()).collect(), rows });
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Title(t) => out.push_str(&format!("# {t}\n\n")),
                Block::Heading(t) => out.push_str(&format!("## {t}\n\n")),
                Block::Subheading(t) => out.push_str(&format!("### {t}\n\n")),
                Block::Text(t) => out.push_str(&format!("{t}\n\n")),
                Block::Table { head, rows } => {
                    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
                    out.push_str(&line(head.iter().map(|h| cell(h)).collect()));
                    out.push_str(&line(head.iter().map(|_| "---".to_string()).collect()));
                    for row in rows {
                        out.push_str(&line(row.iter().map(|c| cell(c)).collect()));
                    }
                    out.push('\n');
                }
                Block::Charts => {}
            }
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }
}

/// A Markdown table cell: pipes would end the cell early.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// `75/25`: old, then new.
pub fn weights(w: Weights) -> String {
    format!("{}/{}", w.old.0, w.new.0)
}

pub fn node_name(node: &str) -> String {
    short_node(node).to_string()
}

pub fn day_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn duration(secs: i64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h {:02}m {:02}s", s / 3600, s / 60 % 60, s % 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

pub fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// `1,020`: a count as people read it.
pub fn count(n: f64) -> String {
    let digits = format!("{}", n.round().max(0.0) as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `25%`, `33.3%`: a share of traffic.
pub fn share(p: Option<f64>) -> String {
    match p {
        None => "no traffic (both weights 0)".into(),
        Some(p) if (p - p.round()).abs() < 0.05 => format!("{}%", p.round()),
        Some(p) => format!("{p:.1}%"),
    }
}

/// `api (ALB rule)`, `www (Route 53 records, TTL 60s)`.
pub fn route_label(r: &RouteReport) -> String {
    r.kind.report_title(&r.route, r.ttl_secs)
}

fn worst(w: &Option<Worst>) -> String {
    match w {
        None => "no data".into(),
        Some(w) => format!(
            "{:.2}% ({} of {} req) at {}",
            w.percent,
            count(w.target_5xx),
            count(w.requests),
            clock_minute(w.at)
        ),
    }
}

/// A side's 5xx over the minutes around a step.
fn figures(f: &Figures) -> String {
    match (f.percent, f.requests_per_minute()) {
        (Some(p), Some(rpm)) => format!("{p:.2}% of {} req/min ({} min)", count(rpm), f.minutes),
        _ => "no data".into(),
    }
}

fn step_row(s: &Step, dns: bool) -> Vec<String> {
    let before =
        s.before.map_or("not read".into(), |b| format!("{} ({})", share(s.before_share_new_percent), weights(b)));
    let mut change = format!("{before} → {} ({})", share(s.after_share_new_percent), weights(s.after));
    if s.revert {
        change.push_str(", back toward old");
    }
    let result = match (&s.outcome, s.verified) {
        (_, true) => "verified".to_string(),
        (Some(o), false) => o.clone(),
        (None, false) => "no answer recorded".into(),
    };
    let mut row = vec![
        s.number.to_string(),
        clock(s.at),
        change,
        s.who.clone(),
        match s.secs_at_previous {
            None => "-".into(),
            // The console saw them from its first read on, no earlier.
            Some(secs) if s.since_first_read => format!("at least {}", duration(secs)),
            Some(secs) => duration(secs),
        },
        s.target_side.to_string(),
        figures(&s.before_figures),
        figures(&s.after_figures),
        result,
    ];
    if let Some(v) = &s.analysis {
        row.extend(verdict_cells(v));
    }
    if dns {
        row.push(s.followed.clone().unwrap_or_else(|| "-".into()));
    }
    row
}

/// A judged step's verdict, its evidence, and how long it took to decide.
fn verdict_cells(v: &StepVerdict) -> [String; 3] {
    let verdict = match v.verdict {
        None => "none".to_string(),
        Some("fail") => "**FAIL**".into(),
        Some("pass") => "pass (baking)".into(),
        Some(other) => other.into(),
    };
    let evidence = v.evidence.clone().unwrap_or_else(|| "no whole minute judged at this weight".into());
    let decided = match (v.decision_secs, v.decision) {
        (Some(secs), Some(decision)) => format!("{} ({decision})", duration(secs)),
        _ => "not decided".into(),
    };
    [verdict, evidence, decided]
}

/// `1%`, `0.5%`: a limit of the plan as it wrote it.
fn limit(p: f64) -> String {
    format!("{}%", (p * 1e6).round() / 1e6)
}

/// How a route is judged, in a sentence, and what the verdict columns say.
fn judged_by(a: &RouteAnalysis) -> String {
    let mut checks = Vec::new();
    if let Some(p) = a.max_error_rate_percent {
        checks.push(format!("new's 5xx at most {}", limit(p)));
    }
    if let Some(p) = a.max_error_increase_percent {
        checks.push(format!("at most {} points above old's", limit(p).trim_end_matches('%')));
    }
    if let Some(ms) = a.max_latency_ms {
        checks.push(format!("latency at most {ms} ms"));
    }
    let checks = if checks.is_empty() { "no limit".to_string() } else { checks.join(", ") };
    let on_failure = match a.on_failure {
        crate::domain::analysis::OnFailure::Alarm => "an alarm",
        crate::domain::analysis::OnFailure::Revert => "a revert by the console itself",
    };
    let advance = match a.advance {
        crate::domain::analysis::Advance::Manual => "the operator steps",
        crate::domain::analysis::Advance::Prompt => "the next step is proposed",
        crate::domain::analysis::Advance::Auto => "the autopilot steps after its countdown",
    };
    format!(
        "Judged by the plan's analysis: {checks}, at {} confidence; ready after {} passing at a weight; {} \
         failing minutes fail a step. A failed step: {on_failure} ({}). A ready step: {advance} ({}). Verdict: the \
         last one at the step's weight; time to decision: from the step to its first decisive verdict (ready or fail).",
        limit(a.confidence * 100.0),
        duration(a.bake_secs),
        a.failure_limit,
        a.on_failure_at,
        a.advance_at,
    )
}

pub fn document(r: &Report) -> Doc {
    let mut d = Doc { blocks: Vec::new() };
    let s = &r.session;
    d.title(format!("Cutover report: {}", s.title));
    summary(&mut d, r);
    d.blocks.push(Block::Charts);
    steps(&mut d, r);
    automatic(&mut d, r);
    peaks(&mut d, r);
    causes(&mut d, r);
    risks(&mut d, r);
    incidents(&mut d, r);
    d.h2("Timeline");
    if r.timeline.is_empty() {
        d.text("Nothing was marked: no action, refusal, node signal or 5xx spike.");
    } else {
        d.text(
            "Times are UTC; a spike's time is the start of its minute. Each action is one line: its \
             proposal, confirmation and the executor's answer together.",
        );
        let rows = r
            .timeline
            .iter()
            .map(|m| {
                // A demo starts with simulated history, and a live console
                // with CloudWatch's recent minutes: say so.
                let before = if m.at < s.started { " (before the session started)" } else { "" };
                vec![clock(m.at), m.class.to_string(), format!("{}{before}", m.text)]
            })
            .collect();
        d.table(&["Time", "Kind", "What"], rows);
    }
    d
}

/// The summary's Recording row: how the session ended, whether everything
/// up to it is in the recording, and what was lost where.
fn recording(r: &Report) -> String {
    let s = &r.session;
    let sum = &r.summary;
    let counts = format!("cutover {}, {}, {}", s.tool, plural(s.messages, "message"), plural(s.keyframes, "keyframe"));
    let mut text = match (&s.stopped, &sum.ended) {
        (Some(why), _) => format!("CUT SHORT: {why}; everything before the cut is reported"),
        (None, None) => format!(
            "CUT: no end recorded (the console was killed with SIGKILL, the machine stopped, or it is still running): its last second may be missing ({counts})"
        ),
        (None, Some(end)) => match (end.how, end.signal) {
            ("quit", _) if sum.complete => format!("complete ({counts})"),
            ("quit", _) => format!("ended when the operator quit, NOT COMPLETE ({counts})"),
            ("signal", Some(signal)) => {
                format!("ended by {signal} at {}, everything up to it recorded ({counts}): {}", clock(end.at), end.text)
            }
            ("crash", _) => format!("CRASHED at {}: {} ({counts})", clock(end.at), end.text),
            _ => format!("ended at {}: {} ({counts})", clock(end.at), end.text),
        },
    };
    for gap in &sum.recording_gaps {
        let span = |from: Timestamp, to: Option<Timestamp>| match to {
            Some(to) => format!("{}–{}", clock(from), clock(to)),
            None => format!("from {} to its end", clock(from)),
        };
        text.push_str(&match (gap.lost, gap.lost_from) {
            (0, _) if gap.to.is_some() => format!(
                "; not writable {} ({}): its {} lines were held and written late, none lost",
                span(gap.from, gap.to),
                gap.error,
                gap.written_late
            ),
            (0, _) => {
                format!("; NOT WRITABLE {} ({}): what came after is not in it", span(gap.from, gap.to), gap.error)
            }
            (n, Some(from)) => {
                format!("; {n} lines lost {} ({}; more than memory held)", span(from, gap.lost_to), gap.error)
            }
            (n, None) => format!("; {n} lines lost {} ({})", span(gap.from, gap.to), gap.error),
        });
    }
    text
}

fn summary(d: &mut Doc, r: &Report) {
    let s = &r.session;
    let sum = &r.summary;
    d.h2("Summary");
    let mut rows = vec![
        vec!["Plan".into(), format!("{}, {} mode", s.title, s.mode)],
        vec!["Clusters".into(), format!("old {} → new {}", s.old_cluster, s.new_cluster)],
        vec!["Driven by".into(), if sum.drivers.is_empty() { "unknown".into() } else { sum.drivers.join(", ") }],
    ];
    let watching: Vec<&String> = s.operators.iter().filter(|o| !sum.drivers.contains(o)).collect();
    if !watching.is_empty() {
        rows.push(vec!["Also at the keys".into(), watching.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(", ")]);
    }
    rows.push(vec!["Start".into(), day_time(s.started)]);
    rows.push(vec!["End".into(), day_time(s.ended)]);
    rows.push(vec!["Duration".into(), duration(s.duration_secs)]);
    rows.push(vec!["Recording".into(), recording(r)]);
    if !r.window.whole {
        rows.push(vec!["Reported".into(), format!("only {} to {}", day_time(r.window.from), day_time(r.window.to))]);
    }
    let outside = match (sum.outside_changes, sum.outside_reverts) {
        (0, _) => "none".to_string(),
        (n, 0) => n.to_string(),
        (n, k) => format!("{n}, {k} of them undoing a write of this session"),
    };
    rows.push(vec!["Changes not made by cutover".into(), outside]);
    let none_or = |n: usize| if n == 0 { "none".to_string() } else { n.to_string() };
    rows.push(vec!["Singleton alarms".into(), none_or(sum.alarms)]);
    rows.push(vec!["Refusals".into(), none_or(sum.refusals)]);
    rows.push(vec!["5xx peaks".into(), {
        let during = match sum.peaks {
            0 => format!("none above the {}% guard", s.spike_percent),
            n => format!("{} above the {}% guard", plural(n, "run"), s.spike_percent),
        };
        match sum.peaks_before {
            0 => during,
            n => format!("{during}; {n} more before the session started"),
        }
    }]);
    if let Some(a) = &sum.analysis {
        rows.push(vec!["Step verdicts".into(), {
            let judged = format!("{} of {} judged", plural(a.steps, "step"), a.routes.join(", "));
            let mut said = format!(
                "{judged}: {} passed, {} failed, {} inconclusive",
                a.steps_passed, a.steps_failed, a.steps_inconclusive
            );
            // Steps with no whole minute judged at their weight (the
            // session ended first, or the next step came sooner).
            let none = a.steps.saturating_sub(a.steps_passed + a.steps_failed + a.steps_inconclusive);
            if none > 0 {
                said.push_str(&format!(", {none} without a whole minute judged"));
            }
            said
        }]);
        rows.push(vec!["Automatic actions".into(), {
            let mut said = Vec::new();
            for (n, what) in [(a.automatic_reverts, "automatic revert"), (a.autopilot_steps, "autopilot step")] {
                if n > 0 {
                    said.push(plural(n, what));
                }
            }
            if a.would_revert > 0 {
                said.push(format!(
                    "{} said, not made, where the console could not act",
                    plural(a.would_revert, "revert")
                ));
            }
            if a.blind > 0 {
                said.push(format!("blind {}", if a.blind == 1 { "once".into() } else { format!("{} times", a.blind) }));
            }
            if said.is_empty() { "none".into() } else { said.join("; ") }
        }]);
    }
    d.table(&["Session", ""], rows);

    d.h3("Routes");
    let rows = sum
        .routes
        .iter()
        .zip(&r.routes)
        .map(|(rs, rr)| {
            let first = rs
                .first
                .map_or("never read".into(), |w| format!("{} ({})", share(rs.first_share_new_percent), weights(w)));
            let last = rs
                .last
                .map_or("never read".into(), |w| format!("{} ({})", share(rs.final_share_new_percent), weights(w)));
            let highest = match (rs.highest_share_new_percent, rs.highest_share_at) {
                (Some(p), Some(at)) if at > r.window.from => format!("{} from {}", share(Some(p)), clock(at)),
                (Some(p), Some(_)) if rr.history.len() == 1 => format!("{} (unchanged)", share(Some(p))),
                (Some(p), Some(_)) => format!("{} at the start", share(Some(p))),
                _ => "-".into(),
            };
            vec![route_label(rr), first, last, highest, rs.steps.to_string(), rs.reverts.to_string()]
        })
        .collect();
    d.table(&["Route", "First on new (old/new)", "Final on new", "Highest on new", "Steps", "Back toward old"], rows);

    d.h3("Errors and target health");
    d.text(format!(
        "The worst minute of each side: its targets' 5xx as a share of its requests. The load balancer's own \
         5xx (502/503/504, answered without a target) are counted per load balancer, so an ALB shared by \
         several routes counts them for each. Spike guard: {}% of a side's requests in a minute.",
        s.spike_percent
    ));
    let mut rows = Vec::new();
    for rs in &sum.routes {
        for side in Side::BOTH {
            let health = match rs.lowest_healthy.get(side) {
                None => "never read".into(),
                Some(h) if h.healthy == h.targets => format!("all {} healthy", h.targets),
                Some(h) => format!("{} of {} at {}", h.healthy, h.targets, clock_minute(h.at)),
            };
            rows.push(vec![rs.route.clone(), side.to_string(), worst(rs.worst_5xx.get(side)), health]);
        }
        let lb = match &rs.worst_lb_5xx {
            None => "none counted".into(),
            Some(w) => format!(
                "{} at {}{}",
                count(w.count),
                clock_minute(w.at),
                w.percent.map_or(String::new(), |p| format!(" ({p:.2}% of requests)"))
            ),
        };
        rows.push(vec![rs.route.clone(), "load balancer".into(), lb, "-".into()]);
    }
    d.table(&["Route", "Side", "Worst 5xx minute", "Fewest healthy targets"], rows);

    if !sum.singletons.is_empty() {
        d.h3("Singletons");
        let rows = sum
            .singletons
            .iter()
            .map(|ss| {
                let handoffs = match (ss.handoffs, ss.done) {
                    (0, _) => "none".to_string(),
                    (n, k) if n == k => format!("{n}, done"),
                    (n, k) => format!("{n}, {k} done"),
                };
                let gaps: Vec<String> = r
                    .handoffs
                    .iter()
                    .filter(|h| h.singleton == ss.singleton)
                    .filter_map(|h| h.gap_secs.map(|g| crate::app::gap_text(g, h.gap_max_secs)))
                    .collect();
                let gaps = if gaps.is_empty() { "-".to_string() } else { gaps.join(", ") };
                vec![ss.singleton.clone(), handoffs, gaps]
            })
            .collect();
        d.table(&["Singleton", "Handoffs", "Nothing running for"], rows);
    }
}

fn steps(d: &mut Doc, r: &Report) {
    d.h2("Steps");
    d.text(format!(
        "Each confirmed weight change. The side gaining traffic is the one its figures are for: its 5xx share and \
         requests per minute over up to {} whole minutes before the step's minute and after it (stopping at the \
         next change).",
        super::STEP_WINDOW_MINUTES
    ));
    for route in &r.routes {
        d.h3(route_label(route));
        let dns = route.kind.clients_follow_late();
        if route.steps.is_empty() {
            d.text("No step.");
        } else {
            let mut head = vec![
                "#",
                "Time",
                "Share on new",
                "Who",
                "At the previous weight",
                "Gaining",
                "5xx before",
                "5xx after",
                "Result",
            ];
            if route.analysis.is_some() {
                head.extend(["Verdict", "Evidence", "Time to decision"]);
            }
            if dns {
                head.push("Clients");
            }
            d.table(&head, route.steps.iter().map(|s| step_row(s, dns)).collect());
        }
        if let Some(a) = &route.analysis {
            d.text(judged_by(a));
        }
        if route.history.is_empty() {
            d.text("Weights never read.");
        } else if dns && !route.followed.is_empty() {
            d.text(format!(
                "Clients follow a change as their DNS caches expire: how long the observed share (new's requests \
                 per minute) took to come within {} points of the share set.",
                crate::domain::CONVERGED_POINTS
            ));
            let rows = route
                .history
                .iter()
                .map(|w| {
                    let clients =
                        route.followed.iter().find(|f| f.at == w.at).map_or("first read", |f| f.text.as_str());
                    vec![clock(w.at), w.weights.old.0.to_string(), w.weights.new.0.to_string(), clients.to_string()]
                })
                .collect();
            d.table(&["From", "Old", "New", "Clients"], rows);
        } else {
            let seen: Vec<String> =
                route.history.iter().map(|w| format!("{} from {}", weights(w.weights), clock(w.at))).collect();
            d.text(format!("Weights read (old/new): {}.", seen.join(", ")));
        }
    }
}

/// What the console did by itself, or said it would have: only for a
/// session that has any of it.
fn automatic(d: &mut Doc, r: &Report) {
    let Some(actions) = r.automatic_actions.as_ref().filter(|a| !a.is_empty()) else { return };
    d.h2("Automatic actions");
    d.text(
        "What the console did without a key press, as the plan armed it: a failed step reverted, a ready step \
         taken by the autopilot after its countdown; what it would have done where it could not act; and its \
         analysis going blind (its metrics stale: no verdict, nothing reverted) and seeing again.",
    );
    let rows = actions.iter().map(action_row).collect();
    d.table(&["Time", "Route", "What", "Change", "Armed by", "Why", "Result"], rows);
}

fn action_row(a: &AutomaticAction) -> Vec<String> {
    let at = |w: Option<crate::domain::Weights>, p: Option<f64>| w.map(|w| format!("{} ({})", share(p), weights(w)));
    let (before, after) = (at(a.before, a.before_share_new_percent), at(a.after, a.after_share_new_percent));
    let step = a.step.map_or(String::new(), |n| format!(" (step {n})"));
    let (what, change) = match a.kind {
        "revert" => (format!("automatic revert{step}"), None),
        "autopilot" => (format!("autopilot step{step}"), None),
        _ => (a.text.clone(), before.as_ref().map(|b| format!("at {b}"))),
    };
    let change = change.or_else(|| match (&before, &after) {
        (Some(b), Some(a)) => Some(format!("{b} → {a}")),
        (None, Some(a)) => Some(format!("weights not read → {a}")),
        _ => None,
    });
    let armed = match (&a.who, &a.armed_at) {
        (Some(who), _) => who.clone(),
        (None, Some(at)) => format!("on_failure = revert ({at})"),
        (None, None) => "-".into(),
    };
    let result = match (a.kind, a.verified, &a.outcome) {
        (_, Some(true), _) => "verified".to_string(),
        (_, Some(false), Some(o)) => o.clone(),
        (_, Some(false), None) => "no answer recorded".into(),
        ("would_revert", ..) => "not done".into(),
        _ => "-".into(),
    };
    vec![
        clock(a.at),
        a.route.clone(),
        what,
        change.unwrap_or_else(|| "-".into()),
        armed,
        a.why.clone().unwrap_or_else(|| "-".into()),
        result,
    ]
}

fn signal_text(s: &super::Signal) -> String {
    format!("{} {}: {}", clock(s.at), node_name(&s.node), s.label)
}

fn peaks(d: &mut Doc, r: &Report) {
    d.h2("5xx peaks");
    if r.peaks.is_empty() {
        d.text(format!("No minute went above the {}% guard on either side.", r.session.spike_percent));
        return;
    }
    d.text(format!(
        "Runs of minutes above the {}% guard, with the node signals on the same side from {} minutes before.",
        r.session.spike_percent,
        super::SIGNALS_BEFORE_MINUTES
    ));
    let rows = r
        .peaks
        .iter()
        .map(|p| {
            let signals = if p.signals_before.is_empty() {
                "none".to_string()
            } else {
                p.signals_before.iter().map(signal_text).collect::<Vec<_>>().join("; ")
            };
            let lost = if p.pods_lost.is_empty() {
                "none".to_string()
            } else {
                p.pods_lost
                    .iter()
                    .map(|l| format!("{} from {}", l.text, node_name(&l.node)))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let mut span = if p.from == p.to {
                clock_minute(p.from)
            } else {
                format!("{} to {}", clock_minute(p.from), clock_minute(p.to))
            };
            if p.to < r.session.started {
                span.push_str(" (before the session started)");
            }
            vec![
                p.route.clone(),
                p.side.to_string(),
                span,
                format!("{:.2}% at {}", p.peak_percent, clock_minute(p.peak_at)),
                signals,
                lost,
            ]
        })
        .collect();
    d.table(&["Route", "Side", "Minutes", "Peak", "Node signals before", "Pods lost to them"], rows);
}

fn causes(d: &mut Doc, r: &Report) {
    d.h2("Likely causes");
    if r.causes.is_empty() {
        d.text("No 5xx rise above the guard was put down to a cause.");
        return;
    }
    d.text(
        "For each rise of a route's 5xx above the guard: the pods behind it that went in the minutes before, the \
         nodes that held them and what took each, and the risks that made it hurt; the console's last word on it \
         (a late CloudTrail event or Auto Scaling activity may have changed it after the rise).",
    );
    let rows = r
        .causes
        .iter()
        .map(|c| {
            let text = c.text.split_once(": ").map_or(c.text.as_str(), |(_, rest)| rest);
            vec![c.route.clone(), c.side.to_string(), clock_minute(c.from), text.to_string()]
        })
        .collect();
    d.table(&["Route", "Side", "From", "Likely cause"], rows);
}

fn risks(d: &mut Doc, r: &Report) {
    d.h2("Lifecycle risks");
    if r.risks.is_empty() {
        d.text("None found, or the lifecycle was not read (a recording of an earlier version, a denied call).");
        return;
    }
    d.text("Settings that make a stopping pod or node cut requests off, as the console last judged them.");
    let rows = r
        .risks
        .iter()
        .map(|k| vec![k.side.to_string(), k.finding.clone(), k.means.to_string(), k.change.clone()])
        .collect();
    d.table(&["Side", "Risk", "What it means", "What to change"], rows);
}

/// Who held the plan's wheel: only for a session that read a Lease.
fn wheel(d: &mut Doc, r: &Report) {
    if r.wheel.is_empty() {
        return;
    }
    d.h2("Who held the wheel");
    d.text(format!(
        "The plan's Lease ({}), as this console read it: one row per holder, in order. Only the holder's \
         actions were taken (the way back, every route to old, excepted).",
        r.session.lease.as_deref().unwrap_or("in the new cluster")
    ));
    let rows = r
        .wheel
        .iter()
        .map(|w| {
            let holder = match (&w.holder, w.mine) {
                (Some(h), true) => format!("**{h}** (this console)"),
                (Some(h), false) => h.clone(),
                (None, _) => "nobody".into(),
            };
            let to = w.to.map_or("the end of the recording".into(), clock);
            vec![holder, clock(w.from), to, w.began_text(), w.ended_text()]
        })
        .collect();
    d.table(&["Holder", "From", "To", "How it came to them", "How it left them"], rows);
}

fn incidents(d: &mut Doc, r: &Report) {
    wheel(d, r);
    d.h2("Singleton handoffs");
    if r.handoffs.is_empty() {
        d.text("No handoff.");
    } else {
        let rows = r
            .handoffs
            .iter()
            .map(|h| {
                vec![
                    h.singleton.clone(),
                    format!("{} → {}", h.from, h.to),
                    clock(h.started),
                    h.ended.map_or("-".into(), clock),
                    h.who.clone(),
                    match h.picked_up {
                        Some(at) => format!("{}, picked up at {} from an earlier session", h.result, clock(at)),
                        None => h.result.clone(),
                    },
                    h.gap_secs.map_or("-".into(), |g| crate::app::gap_text(g, h.gap_max_secs)),
                ]
            })
            .collect();
        d.table(&["Singleton", "From → to", "Started", "Ended", "By", "Result", "Nothing running for"], rows);
    }

    d.h2("Refusals");
    if r.refusals.is_empty() {
        d.text("Nothing was refused.");
    } else {
        let rows =
            r.refusals.iter().map(|x| vec![clock(x.at), x.who.clone(), x.by.to_string(), x.reason.clone()]).collect();
        d.table(&["Time", "Who", "Refused by", "Reason"], rows);
    }

    d.h2("Overrides");
    if r.overrides.is_empty() {
        d.text("No proposal was confirmed against an owner that would undo it.");
    } else {
        d.text("Confirmed with the typed override, against the warning that another writer would undo it.");
        let rows =
            r.overrides.iter().map(|o| vec![clock(o.at), o.who.clone(), o.owner.clone(), o.proposal.clone()]).collect();
        d.table(&["Time", "Who", "Owner that would undo it", "Proposal"], rows);
    }

    d.h2("Changes not made by cutover");
    if r.outside.is_empty() {
        d.text("Nobody else changed the weights, replicas or suspension of the plan's objects.");
    } else {
        let rows = r
            .outside
            .iter()
            .map(|o| {
                vec![
                    clock(o.at),
                    o.subject.clone(),
                    o.before.clone(),
                    o.after.clone(),
                    o.who.clone().unwrap_or_else(|| "not told".into()),
                    if o.revert { "**yes**".into() } else { "no".into() },
                ]
            })
            .collect();
        d.table(&["Time", "What", "Before", "After", "By", "Reverted this session's write"], rows);
    }

    d.h2("Singleton alarms");
    if r.alarms.is_empty() {
        d.text("No singleton ran on neither side or on both.");
    } else {
        let rows = r
            .alarms
            .iter()
            .map(|a| {
                let ran = if a.ran_on == "both" { "on BOTH sides" } else { "on NEITHER side" };
                vec![
                    a.singleton.clone(),
                    ran.to_string(),
                    clock(a.from),
                    a.until.map_or("the end of the recording".into(), clock),
                    a.text.clone(),
                ]
            })
            .collect();
        d.table(&["Singleton", "Ran", "From", "Until", "What the console said"], rows);
    }

    d.h2("Pods lost to node disruptions");
    if r.pods_lost.is_empty() {
        d.text("No pod of a route's workload left a node with a disruption signal.");
    } else {
        d.text(
            "Pods of the routes' workloads deleted, terminating or evicted from a node with a disruption signal, \
             put down to the node's strongest signal.",
        );
        let rows = r
            .pods_lost
            .iter()
            .map(|l| vec![clock(l.from), clock(l.to), l.side.to_string(), l.text.clone(), l.node.clone()])
            .collect();
        d.table(&["From", "To", "Side", "What", "Node"], rows);
    }
}
