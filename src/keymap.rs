//! Key bindings as data: `keymaps/*.toml` map actions to keys.
//!
//! The embedded `default.toml` is always the base; `--keymap NAME|FILE`
//! lays one more file over it (`vim` is an embedded layer). The help screen
//! and the footer hints are generated from the same table, so what the
//! operator reads is what the keys do.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

const DEFAULT: &str = include_str!("../keymaps/default.toml");
const VIM: &str = include_str!("../keymaps/vim.toml");

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextPanel,
    PrevPanel,
    Open,
    Back,
    /// Opens the filter line of the focused table.
    Find,
    ProblemsOnly,
    Sort,
    StepUp,
    StepDown,
    SetPercent,
    Revert,
    RevertAll,
    Handoff,
    Abort,
    Confirm,
    /// The second confirmation a large or early step needs: a different
    /// key than the first, so a repeated key never gives it.
    ConfirmAgain,
    Cancel,
    /// Takes the plan's wheel from the console that drives it, by a typed word.
    TakeWheel,
    /// Cancels the autopilot's coming step on the route (the veto).
    AutopilotCancel,
    /// Pauses or resumes the route's autopilot.
    AutopilotPause,
}

impl Action {
    pub const ALL: [Action; 28] = [
        Action::Quit,
        Action::Help,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::NextPanel,
        Action::PrevPanel,
        Action::Open,
        Action::Back,
        Action::Find,
        Action::ProblemsOnly,
        Action::Sort,
        Action::StepUp,
        Action::StepDown,
        Action::SetPercent,
        Action::Revert,
        Action::RevertAll,
        Action::Handoff,
        Action::Abort,
        Action::Confirm,
        Action::ConfirmAgain,
        Action::Cancel,
        Action::TakeWheel,
        Action::AutopilotCancel,
        Action::AutopilotPause,
    ];

    /// Actions that must keep a key in every keymap, with what would be
    /// lost without one: a keymap leaving one of them unbound is refused.
    pub const ESSENTIAL: [(Action, &'static str); 5] = [
        (Action::Confirm, "no proposal could be applied, the panic button's included"),
        (Action::AutopilotCancel, "an autopilot's step could not be cancelled"),
        (Action::Cancel, "a proposal could be dropped only with `back`"),
        (Action::RevertAll, "the panic button (100% old on every route) would have no key"),
        (Action::Quit, "the console could be left only with ctrl-c"),
    ];

    /// Actions that change the world: proposed, never done on one key.
    pub fn mutates(self) -> bool {
        matches!(
            self,
            Action::StepUp
                | Action::StepDown
                | Action::SetPercent
                | Action::Revert
                | Action::RevertAll
                | Action::Handoff
                | Action::Abort
                | Action::TakeWheel
        )
    }

    /// The name used in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::NextPanel => "next_panel",
            Action::PrevPanel => "prev_panel",
            Action::Open => "open",
            Action::Back => "back",
            Action::Find => "find",
            Action::ProblemsOnly => "problems_only",
            Action::Sort => "sort",
            Action::StepUp => "step_up",
            Action::StepDown => "step_down",
            Action::SetPercent => "set_percent",
            Action::Revert => "revert",
            Action::RevertAll => "revert_all",
            Action::Handoff => "handoff",
            Action::Abort => "abort",
            Action::Confirm => "confirm",
            Action::ConfirmAgain => "confirm_again",
            Action::Cancel => "cancel",
            Action::TakeWheel => "take_wheel",
            Action::AutopilotCancel => "autopilot_cancel",
            Action::AutopilotPause => "autopilot_pause",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit (the terminal is restored)",
            Action::Help => "show or hide this help",
            Action::Up => "select the previous row",
            Action::Down => "select the next row",
            Action::PageUp => "move up a page",
            Action::PageDown => "move down a page",
            Action::Top => "go to the first row",
            Action::Bottom => "go to the last row",
            Action::NextPanel => "focus the next panel",
            Action::PrevPanel => "focus the previous panel",
            Action::Open => "open the selected route or workload",
            Action::Back => "clear a filter; close a view or the help",
            Action::Find => "filter the table as you type; enter keeps it",
            Action::ProblemsOnly => "only problems: failing, drift, alarms",
            Action::Sort => "sort by name, health, restarts or drift",
            Action::StepUp => "propose the route's next step toward new",
            Action::StepDown => "propose the route's previous step",
            Action::SetPercent => "propose an exact percentage to new",
            Action::Revert => "propose undoing the route's last change",
            Action::RevertAll => "propose 100% old on every route (panic)",
            Action::Handoff => "propose handing a singleton over",
            Action::Abort => "propose aborting a handoff (restore source)",
            Action::Confirm => "apply the proposal shown",
            Action::ConfirmAgain => "second confirmation: large or early step",
            Action::Cancel => "drop the proposal shown",
            Action::TakeWheel => "propose taking the wheel (type `take`)",
            Action::AutopilotCancel => "cancel the autopilot's coming step (route)",
            Action::AutopilotPause => "pause or resume the route's autopilot",
        }
    }
}

/// The keys of `cutover replay`, from the `[replay]` table of a keymap.
/// In a replay they come before the console's: `[`/`]` move between marks
/// there, `←`/`→` seek.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReplayAction {
    PlayPause,
    Slower,
    Faster,
    Back,
    Forward,
    BackMinute,
    ForwardMinute,
    PrevMark,
    NextMark,
    GotoTime,
    /// Following a shared session: back to what is happening now.
    Live,
}

impl ReplayAction {
    pub const ALL: [ReplayAction; 11] = [
        ReplayAction::PlayPause,
        ReplayAction::Slower,
        ReplayAction::Faster,
        ReplayAction::Back,
        ReplayAction::Forward,
        ReplayAction::BackMinute,
        ReplayAction::ForwardMinute,
        ReplayAction::PrevMark,
        ReplayAction::NextMark,
        ReplayAction::GotoTime,
        ReplayAction::Live,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReplayAction::PlayPause => "play_pause",
            ReplayAction::Slower => "slower",
            ReplayAction::Faster => "faster",
            ReplayAction::Back => "back",
            ReplayAction::Forward => "forward",
            ReplayAction::BackMinute => "back_minute",
            ReplayAction::ForwardMinute => "forward_minute",
            ReplayAction::PrevMark => "prev_mark",
            ReplayAction::NextMark => "next_mark",
            ReplayAction::GotoTime => "goto_time",
            ReplayAction::Live => "live",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            ReplayAction::PlayPause => "pause or play",
            ReplayAction::Slower => "slower (down to 1x)",
            ReplayAction::Faster => "faster (up to 60x)",
            ReplayAction::Back => "back 10 seconds",
            ReplayAction::Forward => "forward 10 seconds",
            ReplayAction::BackMinute => "back 1 minute",
            ReplayAction::ForwardMinute => "forward 1 minute",
            ReplayAction::PrevMark => "previous mark (action, refusal, drain, spike)",
            ReplayAction::NextMark => "next mark",
            ReplayAction::GotoTime => "go to a typed time (HH:MM[:SS] UTC)",
            ReplayAction::Live => "following a shared session: back to live",
        }
    }
}

/// What a keymap table binds: named actions.
trait Named: Copy + Ord + std::hash::Hash + 'static {
    const TABLE: &'static str;
    fn all() -> &'static [Self];
    fn name(self) -> &'static str;
    /// The actions that must keep a key, with what would be lost.
    fn essential() -> &'static [(Self, &'static str)] {
        &[]
    }
    /// The embedded default's first key of an action, for a hint.
    fn default_key(action: Self) -> String {
        let _ = action;
        String::new()
    }
}

impl Named for Action {
    const TABLE: &'static str = "the console";
    fn all() -> &'static [Self] {
        &Action::ALL
    }
    fn name(self) -> &'static str {
        Action::name(self)
    }
    fn essential() -> &'static [(Self, &'static str)] {
        &Action::ESSENTIAL
    }
    fn default_key(action: Self) -> String {
        match action {
            Action::Confirm => "y",
            Action::Cancel => "n",
            Action::RevertAll => "R",
            Action::Quit => "q",
            _ => "",
        }
        .into()
    }
}

impl Named for ReplayAction {
    const TABLE: &'static str = "[replay]";
    fn all() -> &'static [Self] {
        &ReplayAction::ALL
    }
    fn name(self) -> &'static str {
        ReplayAction::name(self)
    }
}

/// A key press, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
    /// Only for non-character keys: a shifted letter is its upper case.
    pub shift: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KeyCode {
    Char(char),
    Up,
    Down,
    Left,
    Right,
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Home,
    End,
    PageUp,
    PageDown,
    F(u8),
}

const NAMED: [(&str, KeyCode); 14] = [
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
];

impl Key {
    pub fn plain(code: KeyCode) -> Key {
        Key { code, ctrl: false, alt: false, shift: false }
    }

    pub fn char(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    pub fn ctrl(c: char) -> Key {
        Key { ctrl: true, ..Key::char(c) }
    }

    /// Brings equivalent spellings to one form, so that what the terminal
    /// sends and what a keymap file says compare equal.
    pub fn normalized(mut self) -> Key {
        if let KeyCode::Char(c) = self.code {
            self.shift = false;
            if self.ctrl {
                self.code = KeyCode::Char(c.to_ascii_lowercase());
            }
        }
        // Terminals report shift-tab as BackTab, some with SHIFT set too.
        if self.code == KeyCode::Tab && self.shift {
            self.code = KeyCode::BackTab;
        }
        if self.code == KeyCode::BackTab {
            self.shift = false;
        }
        self
    }

    /// Parses `q`, `R`, `ctrl-c`, `shift-up`, `f5`, `space`, `-`.
    pub fn parse(text: &str) -> Result<Key, String> {
        if text.chars().count() == 1 {
            let c = text.chars().next().unwrap_or(' ');
            return Ok(Key::char(c));
        }
        let (mods, name) = match text.strip_suffix("--") {
            Some(mods) => (mods, "-"),
            None => match text.rsplit_once('-') {
                Some((mods, name)) => (mods, name),
                None => ("", text),
            },
        };
        let mut key = Key::plain(KeyCode::Esc);
        for m in mods.split('-').filter(|m| !m.is_empty()) {
            match m.to_ascii_lowercase().as_str() {
                "ctrl" | "c" => key.ctrl = true,
                "alt" | "a" | "m" => key.alt = true,
                "shift" | "s" => key.shift = true,
                other => return Err(format!("unknown modifier `{other}` (use ctrl, alt or shift)")),
            }
        }
        let lower = name.to_ascii_lowercase();
        key.code = if name.chars().count() == 1 {
            let c = name.chars().next().unwrap_or(' ');
            KeyCode::Char(if key.shift { c.to_ascii_uppercase() } else { c })
        } else if lower == "space" {
            KeyCode::Char(' ')
        } else if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == lower) {
            *code
        } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            if !(1..=12).contains(&n) {
                return Err(format!("`{name}` is not a function key (f1 to f12)"));
            }
            KeyCode::F(n)
        } else {
            return Err(format!("unknown key name `{name}`"));
        };
        Ok(key.normalized())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => {
                let name = NAMED.iter().find(|(_, c)| *c == code).map(|(n, _)| *n).unwrap_or("?");
                f.write_str(name)
            }
        }
    }
}

/// A keymap problem, located precisely enough to fix without guessing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub problem: String,
    pub hint: String,
}

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.problem)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for KeymapError {}

/// One table of a keymap: each action's keys, and each key's action.
#[derive(Debug, Clone)]
struct Bindings<A> {
    keys: BTreeMap<A, Vec<Key>>,
    actions: HashMap<Key, A>,
    /// Where each key was last bound (file, line, column): what a refusal
    /// points at.
    bound_at: HashMap<Key, (String, usize, usize)>,
}

impl<A> Default for Bindings<A> {
    fn default() -> Self {
        Bindings { keys: BTreeMap::new(), actions: HashMap::new(), bound_at: HashMap::new() }
    }
}

/// An action left without a key by a layer, and why: `taken` names the
/// key another action took from it, with where; None when the layer gave
/// it no key at all, at its name.
struct Emptied<A> {
    action: A,
    taken: Option<(Key, A)>,
    at: (usize, usize),
}

impl<A: Named> Bindings<A> {
    /// Lays `text[range]` of `file` over these bindings: an action named
    /// there gets exactly the keys listed, and takes them from any other.
    fn layer(&mut self, file: &str, text: &str, range: std::ops::Range<usize>) -> Result<(), KeymapError> {
        let at = |span: std::ops::Range<usize>, problem: String, hint: &str| {
            let (line, column) = line_col(text, range.start + span.start);
            KeymapError { file: file.into(), line, column, problem, hint: hint.into() }
        };
        type Table = BTreeMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>;
        let table: Table = toml::from_str(&text[range.clone()]).map_err(|e| {
            at(
                e.span().unwrap_or(0..0),
                format!("not a valid keymap: {}", e.message().trim()),
                "each line is `action = [\"key\", ...]`, and `[replay]` the only table; see keymaps/default.toml",
            )
        })?;
        let mut seen: HashMap<Key, A> = HashMap::new();
        // In file order, so a conflict is reported at its second mention.
        let mut entries: Vec<_> = table.into_iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        let mut emptied: Vec<Emptied<A>> = Vec::new();
        for (name, keys) in entries {
            let action = A::all().iter().copied().find(|a| a.name() == name.get_ref()).ok_or_else(|| {
                let known: Vec<_> = A::all().iter().map(|a| a.name()).collect();
                at(
                    name.span(),
                    format!("unknown action `{}` for {}", name.get_ref(), A::TABLE),
                    &format!("known actions: {}", known.join(", ")),
                )
            })?;
            let mut parsed = Vec::new();
            let mut spans = Vec::new();
            for key in keys.get_ref() {
                let k = Key::parse(key.get_ref()).map_err(|problem| {
                    at(
                        key.span(),
                        format!("bad key `{}` for `{}`: {problem}", key.get_ref(), action.name()),
                        "write keys like \"q\", \"R\", \"ctrl-c\", \"shift-up\", \"enter\", \"f5\"",
                    )
                })?;
                if let Some(other) = seen.insert(k, action).filter(|o| *o != action) {
                    return Err(at(
                        key.span(),
                        format!("key `{k}` is bound to both `{}` and `{}`", other.name(), action.name()),
                        "a key can do one thing: remove it from one of the two",
                    ));
                }
                parsed.push(k);
                spans.push(key.span());
            }
            // A later layer owns the keys it names: drop them from whatever
            // action had them before, then give the action exactly these.
            for (k, span) in parsed.iter().zip(&spans) {
                if let Some(previous) = self.actions.remove(k)
                    && let Some(list) = self.keys.get_mut(&previous)
                {
                    list.retain(|x| x != k);
                    if list.is_empty() && previous != action {
                        let at = line_col(text, range.start + span.start);
                        emptied.push(Emptied { action: previous, taken: Some((*k, action)), at });
                    }
                }
            }
            if parsed.is_empty() {
                emptied.push(Emptied { action, taken: None, at: line_col(text, range.start + name.span().start) });
            }
            if let Some(old) = self.keys.insert(action, parsed.clone()) {
                for k in old {
                    self.actions.remove(&k);
                }
            }
            for (k, span) in parsed.into_iter().zip(spans) {
                self.actions.insert(k, action);
                let (line, column) = line_col(text, range.start + span.start);
                self.bound_at.insert(k, (file.to_string(), line, column));
            }
        }
        // Refused once the whole layer is in: a key moved away and another
        // given in the same file is fine.
        for e in emptied {
            let Some((_, loss)) = A::essential().iter().find(|(a, _)| *a == e.action) else { continue };
            if self.keys.get(&e.action).is_some_and(|k| !k.is_empty()) {
                continue;
            }
            let name = e.action.name();
            let problem = match e.taken {
                Some((key, by)) => {
                    format!("key `{key}` for `{}` leaves `{name}` without a key: {loss}", by.name())
                }
                None => format!("`{name}` has no key: {loss}"),
            };
            return Err(KeymapError {
                file: file.into(),
                line: e.at.0,
                column: e.at.1,
                problem,
                hint: format!(
                    "give `{name}` a key of its own in this file too, e.g. {name} = [\"{}\"]",
                    A::default_key(e.action)
                ),
            });
        }
        Ok(())
    }

    fn label(&self, action: A) -> String {
        let keys: Vec<String> = self.keys.get(&action).into_iter().flatten().map(ToString::to_string).collect();
        if keys.is_empty() { "unbound".into() } else { keys.join("/") }
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    console: Bindings<Action>,
    replay: Bindings<ReplayAction>,
    /// The layers in order, for the help screen: `default`, `vim`, a path.
    pub layers: Vec<String>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::load(None).unwrap_or_else(|e| panic!("embedded keymap is broken: {e}"))
    }
}

impl Keymap {
    /// The default keymap with `choice` laid over it: an embedded name
    /// (`default`, `vim`) or a path to a TOML file.
    pub fn load(choice: Option<&str>) -> Result<Keymap, KeymapError> {
        let mut keymap = Keymap { console: Bindings::default(), replay: Bindings::default(), layers: vec![] };
        keymap.layer("keymaps/default.toml (embedded)", DEFAULT)?;
        keymap.layers = vec!["default".into()];
        match choice {
            None | Some("default") => {}
            Some("vim") => {
                keymap.layer("keymaps/vim.toml (embedded)", VIM)?;
                keymap.layers.push("vim".into());
            }
            Some(path) => {
                let text = std::fs::read_to_string(Path::new(path)).map_err(|e| KeymapError {
                    file: path.into(),
                    line: 0,
                    column: 0,
                    problem: format!("cannot read the keymap file: {e}"),
                    hint: "give `default`, `vim`, or the path of a TOML keymap file".into(),
                })?;
                keymap.layer(path, &text)?;
                keymap.layers.push(path.into());
            }
        }
        Ok(keymap)
    }

    /// A file's console bindings, then its `[replay]` table if it has one.
    fn layer(&mut self, file: &str, text: &str) -> Result<(), KeymapError> {
        let mut offset = 0;
        let replay = text.split_inclusive('\n').find_map(|line| {
            let start = offset;
            offset += line.len();
            (line.trim() == "[replay]").then_some((start, offset))
        });
        match replay {
            Some((header, body)) => {
                self.console.layer(file, text, 0..header)?;
                self.replay.layer(file, text, body..text.len())?;
            }
            None => self.console.layer(file, text, 0..text.len())?,
        }
        self.quit_in_replay()
    }

    /// In a replay the `[replay]` keys come first: one that takes every
    /// key of `quit` leaves a replay without a way out but ctrl-c.
    fn quit_in_replay(&self) -> Result<(), KeymapError> {
        let quit = self.keys(Action::Quit);
        if quit.iter().any(|k| !self.replay.actions.contains_key(k)) {
            return Ok(());
        }
        let Some(k) = quit.last() else { return Ok(()) };
        let by = self.replay.actions.get(k).map_or("?", |a| a.name());
        let (file, line, column) = self.replay.bound_at.get(k).cloned().unwrap_or_default();
        Err(KeymapError {
            file,
            line,
            column,
            problem: format!(
                "key `{k}` for [replay] `{by}` leaves `quit` without a key in a replay (the [replay] keys come first there)"
            ),
            hint: format!("bind `{by}` to another key, or give `quit` a key the [replay] table does not take"),
        })
    }

    /// Every action's keys: what a recording keeps, so that the keys it
    /// holds mean in a replay what they meant in the session.
    pub fn bindings(&self) -> BTreeMap<Action, Vec<Key>> {
        self.console.keys.clone()
    }

    /// The keymap of a recorded session: its console keys only, since a
    /// replay's own keys are the viewer's.
    pub fn from_bindings(bindings: BTreeMap<Action, Vec<Key>>) -> Keymap {
        let actions = bindings.iter().flat_map(|(a, keys)| keys.iter().map(move |k| (*k, *a))).collect();
        let console = Bindings { keys: bindings, actions, bound_at: HashMap::new() };
        Keymap { console, replay: Bindings::default(), layers: vec!["recorded".into()] }
    }

    /// The action bound to exactly this key, modifiers and all: an Alt
    /// chord (what crossterm makes of an Esc and a key read together) is
    /// an action only if a keymap binds that chord, never the bare key's.
    pub fn action(&self, key: Key) -> Option<Action> {
        let key = key.normalized();
        if key == Key::ctrl('c') {
            return Some(Action::Quit);
        }
        self.console.actions.get(&key).copied()
    }

    /// What a key does in a replay, before the console's keys are asked.
    pub fn replay_action(&self, key: Key) -> Option<ReplayAction> {
        self.replay.actions.get(&key.normalized()).copied()
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.console.keys.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn replay_keys(&self, action: ReplayAction) -> &[Key] {
        self.replay.keys.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The keys of an action as the help and footer show them: `q/ctrl-c`.
    pub fn label(&self, action: Action) -> String {
        self.console.label(action)
    }

    pub fn replay_label(&self, action: ReplayAction) -> String {
        self.replay.label(action)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_temp(name: &str, text: &str) -> String {
        let dir = std::env::temp_dir().join(format!("cutover-keymap-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.toml");
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn parses_keys_in_every_spelling() {
        assert_eq!(Key::parse("q").unwrap(), Key::char('q'));
        assert_eq!(Key::parse("ctrl-C").unwrap(), Key::ctrl('c'));
        assert_eq!(Key::parse("shift-r").unwrap(), Key::char('R'));
        assert_eq!(Key::parse("-").unwrap(), Key::char('-'));
        assert_eq!(Key::parse("ctrl--").unwrap(), Key { ctrl: true, ..Key::char('-') });
        assert_eq!(Key::parse("space").unwrap(), Key::char(' '));
        assert_eq!(Key::parse("shift-tab").unwrap(), Key::plain(KeyCode::BackTab));
        let from_terminal = Key { shift: true, ..Key::plain(KeyCode::BackTab) };
        assert_eq!(from_terminal.normalized(), Key::plain(KeyCode::BackTab));
        assert_eq!(Key::parse("f5").unwrap().to_string(), "f5");
        assert!(Key::parse("f13").is_err());
        assert!(Key::parse("hyper-x").is_err());
        assert!(Key::parse("escape").is_err());
    }

    #[test]
    fn every_action_has_a_default_key() {
        let km = Keymap::default();
        for a in Action::ALL {
            assert!(!km.keys(a).is_empty(), "{} has no default key", a.name());
        }
        assert_eq!(km.action(Key::char('q')), Some(Action::Quit));
        assert_eq!(km.action(Key::plain(KeyCode::Tab)), Some(Action::NextPanel));
    }

    #[test]
    fn a_layer_replaces_the_keys_of_the_actions_it_names() {
        let km = Keymap::load(Some("vim")).unwrap();
        assert_eq!(km.action(Key::char('j')), Some(Action::Down));
        assert_eq!(km.action(Key::plain(KeyCode::Down)), Some(Action::Down));
        assert_eq!(km.action(Key::char('q')), Some(Action::Quit), "untouched actions keep defaults");

        let path = write_temp("steal", "help = [\"q\"]\nquit = [\"x\"]\n");
        let km = Keymap::load(Some(&path)).unwrap();
        assert_eq!(km.action(Key::char('q')), Some(Action::Help));
        assert_eq!(km.action(Key::char('x')), Some(Action::Quit));
        assert_eq!(km.action(Key::char('?')), None);
        assert_eq!(km.action(Key::ctrl('c')), Some(Action::Quit), "ctrl-c always quits");
    }

    #[test]
    fn the_replay_table_binds_its_own_keys_apart_from_the_console() {
        let km = Keymap::default();
        assert_eq!(km.replay_action(Key::char(']')), Some(ReplayAction::NextMark));
        assert_eq!(km.action(Key::char(']')), Some(Action::StepUp), "the same key, another table");
        let shift_left = Key { shift: true, ..Key::plain(KeyCode::Left) };
        assert_eq!(km.replay_action(shift_left), Some(ReplayAction::BackMinute));
        for a in ReplayAction::ALL {
            assert!(!km.replay_keys(a).is_empty(), "{} has no default key", a.name());
        }

        let path = write_temp("replay", "quit = [\"Q\"]\n\n[replay]\nnext_mark = [\"n\"]\n");
        let km = Keymap::load(Some(&path)).unwrap();
        assert_eq!(km.replay_action(Key::char('n')), Some(ReplayAction::NextMark));
        assert_eq!(km.replay_action(Key::char(']')), None, "the layer took next_mark's keys");
        assert_eq!(km.replay_action(Key::char('[')), Some(ReplayAction::PrevMark), "the rest kept");
        assert_eq!(km.action(Key::char('Q')), Some(Action::Quit));

        let path = write_temp("replay-bad", "quit = [\"q\"]\n[replay]\nrewind_time = [\"r\"]\n");
        let err = Keymap::load(Some(&path)).unwrap_err();
        assert_eq!((err.line, err.column), (3, 1), "{err}");
        assert!(err.problem.contains("unknown action `rewind_time` for [replay]"), "{err}");
        assert!(err.hint.contains("next_mark"), "{err}");

        let path = write_temp("replay-dup", "[replay]\nslower = [\"<\"]\nfaster = [\"<\"]\n");
        let err = Keymap::load(Some(&path)).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.problem.contains("bound to both `slower` and `faster`"), "{err}");
    }

    #[test]
    fn an_alt_chord_is_only_its_own_binding_never_the_bare_key() {
        let alt = |c| Key { alt: true, ..Key::char(c) };
        let km = Keymap::default();
        for c in ['[', ']', 'R', 'h', 'x', 'y'] {
            assert!(km.action(Key::char(c)).is_some(), "{c} is bound");
            assert_eq!(km.action(alt(c)), None, "alt-{c} is not");
            assert_eq!(km.action(Key { shift: true, ..alt(c) }), None, "nor alt-shift-{c}");
        }
        assert_eq!(km.replay_action(Key::char('[')), Some(ReplayAction::PrevMark));
        assert_eq!(km.replay_action(alt('[')), None);

        let path = write_temp("alt", "abort = [\"alt-x\"]\n");
        let km = Keymap::load(Some(&path)).unwrap();
        assert_eq!(km.action(alt('x')), Some(Action::Abort), "a bound chord is its action");
        assert_eq!(km.action(Key::char('x')), None, "and the bare key is not");
    }

    #[test]
    fn a_keymap_that_leaves_confirm_cancel_revert_all_or_quit_without_a_key_is_refused() {
        // `y` taken for another action: every proposal "unbound apply".
        let path = write_temp("steal-y", "help = [\"?\"]\ncancel = [\"n\", \"y\"]\n");
        let err = Keymap::load(Some(&path)).unwrap_err();
        assert_eq!((err.line, err.column), (2, 16), "{err}");
        assert!(err.problem.contains("key `y` for `cancel` leaves `confirm` without a key"), "{err}");
        assert!(err.problem.contains("no proposal could be applied"), "{err}");
        assert!(err.hint.contains("confirm = [\"y\"]"), "{err}");
        assert!(err.to_string().starts_with(&format!("{path}:2:16:")), "{err}");

        // The same, with confirm given another key in the same file: fine.
        let path = write_temp("move-y", "cancel = [\"n\", \"y\"]\nconfirm = [\"a\"]\n");
        let km = Keymap::load(Some(&path)).unwrap();
        assert_eq!(km.action(Key::char('a')), Some(Action::Confirm));
        assert_eq!(km.action(Key::char('y')), Some(Action::Cancel));

        // An essential action given no key at all.
        for (action, loss) in [
            ("revert_all", "the panic button"),
            ("quit", "only with ctrl-c"),
            ("cancel", "only with `back`"),
            ("confirm", "no proposal could be applied"),
        ] {
            let path = write_temp(&format!("empty-{action}"), &format!("up = [\"k\"]\n{action} = []\n"));
            let err = Keymap::load(Some(&path)).unwrap_err();
            assert_eq!((err.line, err.column), (2, 1), "{err}");
            assert!(err.problem.contains(&format!("`{action}` has no key")) && err.problem.contains(loss), "{err}");
        }
        // The panic button's only key taken by a step.
        let path = write_temp("steal-R", "step_up = [\"]\", \"R\"]\n");
        let err = Keymap::load(Some(&path)).unwrap_err();
        assert!(err.problem.contains("key `R` for `step_up` leaves `revert_all` without a key"), "{err}");
        assert!(err.hint.contains("revert_all = [\"R\"]"), "{err}");
        // Quit keeps a key while one of its keys is left.
        let path = write_temp("steal-q", "help = [\"q\"]\n");
        assert!(Keymap::load(Some(&path)).is_ok());
        // Actions that are not essential may be unbound.
        let path = write_temp("no-sort", "sort = []\n");
        assert!(Keymap::load(Some(&path)).unwrap().keys(Action::Sort).is_empty());
    }

    #[test]
    fn a_replay_table_that_takes_every_key_of_quit_is_refused() {
        // In a replay the [replay] keys come first: quit's `q` and ctrl-c
        // both taken leaves no way out.
        let path = write_temp("replay-q", "[replay]\nplay_pause = [\"space\", \"q\"]\nslower = [\"ctrl-c\"]\n");
        let err = Keymap::load(Some(&path)).unwrap_err();
        assert!(err.problem.contains("leaves `quit` without a key in a replay"), "{err}");
        assert_eq!(err.line, 3, "{err}");
        // One of them is enough.
        let path = write_temp("replay-q-ok", "[replay]\nplay_pause = [\"space\", \"q\"]\n");
        let km = Keymap::load(Some(&path)).unwrap();
        assert_eq!(km.replay_action(Key::char('q')), Some(ReplayAction::PlayPause));
    }

    #[test]
    fn unknown_actions_and_bad_keys_name_file_line_and_key() {
        let path = write_temp("unknown", "quit = [\"q\"]\n\nlaunch_rockets = [\"L\"]\n");
        let err = Keymap::load(Some(&path)).unwrap_err();
        assert_eq!((err.line, err.column), (3, 1));
        assert!(err.problem.contains("unknown action `launch_rockets`"), "{err}");
        assert!(err.to_string().starts_with(&format!("{path}:3:1:")), "{err}");

        let path = write_temp("badkey", "quit = [\"q\", \"ctrl-nope\"]\n");
        let err = Keymap::load(Some(&path)).unwrap_err();
        assert_eq!(err.line, 1);
        assert_eq!(err.column, 14, "the column of the opening quote");
        assert!(err.problem.contains("`ctrl-nope`"), "{err}");

        let path = write_temp("syntax", "quit = [\"q\"\nhelp = 3\n");
        let err = Keymap::load(Some(&path)).unwrap_err();
        assert!(err.problem.starts_with("not a valid keymap"), "{err}");
        assert!(err.line >= 1);

        let path = write_temp("dup", "up = [\"k\"]\ndown = [\"k\"]\n");
        let err = Keymap::load(Some(&path)).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.problem.contains("bound to both"), "{err}");

        let err = Keymap::load(Some("/nonexistent/keys.toml")).unwrap_err();
        assert!(err.problem.contains("cannot read"), "{err}");
    }
}
