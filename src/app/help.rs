//! What the help says, made from the keymap: every key, a replay's own
//! keys, and how to read the screen.
//!
//! `ui::help` draws it; `update` scrolls it, and knows how far it may from
//! here, not from the drawing: the reducer stays apart from the view, and
//! the same keys scroll a replay of the session the same way.

use crate::domain::Health;
use crate::keymap::{Action, Keymap, ReplayAction};

/// A key and what it does, as a line of the help says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLine {
    /// The keys, as the keymap names them.
    pub keys: String,
    pub text: String,
    /// An action this console does not take (read-only here): drawn dim.
    pub unavailable: bool,
}

/// The help's content, before it is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help {
    /// The keymap's layers, said before its keys: `default + vim`.
    pub layers: String,
    /// One line per action of the keymap.
    pub keys: Vec<KeyLine>,
    /// A replay's own keys, said first in a replay; none elsewhere.
    pub replay: Option<Vec<KeyLine>>,
}

/// How each health is told apart, in the legend.
pub const HEALTH: [(Health, &str); 4] = [
    (Health::Healthy, "healthy"),
    (Health::Degraded, "degraded: not all ready, restarts, 5xx ≥ 1%"),
    (Health::Failing, "failing: nothing ready, crash loop, 5xx ≥ 5%"),
    (Health::Idle, "idle: scaled to zero or suspended on purpose"),
];

/// Every glyph the console draws, and how to read it.
pub const GLYPHS: [(&str, &str); 27] = [
    ("≠", "image differs between the sides; the difference underlined"),
    ("◆", "singleton: never on both sides at once"),
    ("‼", "a singleton runs on both sides now"),
    ("?", "that side's source is stale: its figures are old"),
    ("—", "not on this side"),
    ("▲", "warning (events)"),
    ("✖", "alert (events); failing (health)"),
    ("·", "information (events); no data for that minute (never 0)"),
    ("–", "no data (never 0)"),
    ("█ ▒", "weight bar: old's share, new's share"),
    ("│→50", "route chart: the weights moved to 50% new here"),
    ("┊", "route chart: a node signal (drain, interruption) here"),
    ("⟳", "a write awaited: Ingress on the ALB, DNS propagating"),
    ("⚠", "another writer (rule owner, Argo CD, Flux) may undo a change"),
    ("−3 pods", "pods of the workload lost to that node signal"),
    ("⇢", "old cluster ⇢ new cluster"),
    ("→", "steps of a route; old → new in a proposal"),
    ("…", "text left out; a number is never cut, only left out whole"),
    ("▶ ═", "no colour: the focused panel; selection in reverse video"),
    ("ALB 5xx", "the ALB's own 502/503/504, whole ALB"),
    ("observed", "share of requests reaching new, last minute"),
    ("dns", "weighted Route 53 records, one load balancer a side"),
    ("lag", "observed minus set share to new, in points (DNS caches)"),
    ("LB 5xx", "each side's own load balancer's 502/503/504 (dns routes)"),
    ("STALE", "a source stopped answering; its data greyed"),
    ("tg 3/4", "healthy targets of all registered in the target group"),
    ("rst", "container restarts of the workload's pods"),
];

impl Help {
    /// The help of a console with these keys: one that may act or not, a
    /// replay or not.
    pub fn of(keymap: &Keymap, can_act: bool, replay: bool) -> Help {
        let keys = Action::ALL
            .into_iter()
            .map(|action| {
                let unavailable = action.mutates() && !can_act;
                let mut text = action.description().to_string();
                if unavailable {
                    text = format!("{text} (read-only here)");
                }
                KeyLine { keys: keymap.label(action), text, unavailable }
            })
            .collect();
        let replay = replay.then(|| {
            ReplayAction::ALL
                .into_iter()
                .map(|action| KeyLine {
                    keys: keymap.replay_label(action),
                    text: action.description().to_string(),
                    unavailable: false,
                })
                .collect()
        });
        Help { layers: keymap.layers.join(" + "), keys, replay }
    }
}

/// Lines of the keys: the keymap's layers, then one per action.
pub const KEY_LINES: usize = 1 + Action::ALL.len();
/// Lines of a replay's own keys: a title, one per key, and a blank line.
pub const REPLAY_LINES: usize = 1 + ReplayAction::ALL.len() + 1;
/// Lines of the legend: a title, the healths, then the glyphs.
pub const LEGEND_LINES: usize = 1 + HEALTH.len() + GLYPHS.len();

/// Lines of the help in one column (a replay's keys, the keys, a blank
/// line, the legend): what its scroll is clamped to. Whatever the keys are
/// called, each is one line, so the keymap does not change it.
pub fn line_count(replay: bool) -> usize {
    let replay = if replay { REPLAY_LINES } else { 0 };
    replay + KEY_LINES + 1 + LEGEND_LINES
}
