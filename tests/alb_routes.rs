//! Per-route ALB state against the real peers: a listener rule deleted
//! mid-session (through the AWS proxy, as someone's `aws elbv2
//! delete-rule` would) is that route's problem alone. The ALB source stays
//! live, the other route keeps being read and stepped, the deleted one
//! shows why and its steps are refused, and the recording says so.
#![allow(clippy::unwrap_used)]

mod common;

use common::live::Driver;
use common::sent;
use cutover::app::{EffectResult, Modal, Panel, SourceId, SourceState};
use cutover::domain::Weights;

#[test]
fn a_deleted_rule_is_its_routes_problem_and_the_other_route_still_steps() {
    let path = common::fresh_path("alb-routes", "deleted-rule.jsonl");
    let mut d = Driver::start_recorded("realistic", &path);
    let rule = d.plan.routes[1].alb().unwrap().rule.clone().unwrap().0;
    let elb = d.elb();
    d.rt.block_on(async { elb.delete_rule().rule_arn(&rule).send().await.unwrap() });
    d.until("the admin route's problem", |app| app.routes[1].problem.is_some());
    let (_, problem) = d.app.routes[1].problem.clone().unwrap();
    let short = rule.rsplit('/').next().unwrap();
    assert_eq!(problem, format!("rule {short} does not exist (RuleNotFound): deleted, or the plan's ARN is wrong"));
    assert!(
        matches!(
            d.app.sources.get(&SourceId::Traffic(cutover::domain::RouteKind::Alb)),
            Some(SourceState::Live { .. })
        ),
        "{:?}",
        d.app.sources
    );
    assert!(
        d.app.events.iter().any(|e| e.text.starts_with("route admin cannot be read: rule ")
            && e.text.contains("its steps wait, the other routes go on")),
        "{:?}",
        d.app.events.iter().take(4).collect::<Vec<_>>()
    );
    // The api route goes on being read.
    let read_at = d.app.routes[0].read.as_ref().unwrap().at;
    d.until("api read again", |app| app.routes[0].read.as_ref().unwrap().at > read_at);
    assert!(d.app.routes[0].problem.is_none());
    let screen = d.screen();
    // The route's own line (the header's risks name it too).
    let admin_line = screen.lines().find(|l| l.contains("│admin ")).unwrap();
    assert!(admin_line.contains("✖ not read since") && admin_line.contains("does not exist"), "{screen}");

    // A step of admin is refused, with why.
    d.app.ui.focus = Panel::Traffic;
    d.app.ui.selected[Panel::Traffic.index()] = 1;
    d.press("]");
    assert!(d.app.modal.is_none() && sent().is_empty());
    let notice = d.app.notice.clone().unwrap();
    assert!(
        notice.starts_with("route admin cannot be read since ")
            && notice.contains("does not exist (RuleNotFound)")
            && notice.ends_with("steps wait until it reads again (R still reverts)"),
        "{notice}"
    );
    // A step of api works, written and verified at the peer.
    d.app.ui.selected[Panel::Traffic.index()] = 0;
    d.press("]");
    assert!(matches!(d.app.modal, Some(Modal::Proposal(_))), "{:?}", d.app.notice);
    d.press("y");
    let results = d.execute();
    assert!(matches!(results[..], [EffectResult::Verified { .. }]), "{results:?}");
    assert_eq!(d.peers.get("/elb/weights?route=api")["new"], 50);
    d.until("api read at 50%", |app| app.routes[0].weights() == Some(Weights::from_percent_new(50)));
    assert!(d.app.routes[1].problem.is_some(), "admin still cannot be read");

    // The recording holds the problem as one message, replayed the same.
    d.console.recorder = None;
    let text = std::fs::read_to_string(&path).unwrap();
    let problems: Vec<&str> = text.lines().filter(|l| l.contains("\"RouteProblems\"")).collect();
    assert!(!problems.is_empty() && problems.iter().any(|l| l.contains("RuleNotFound")), "{}", problems.join("\n"));
    let mut player = cutover::replay::Player::open(&path).unwrap();
    let end = player.span().1;
    player.seek(end).unwrap();
    assert_eq!(player.app.routes[1].problem, d.app.routes[1].problem);
}
