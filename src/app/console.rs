//! The console of one session: the state `update` builds from its
//! messages, and its operator's view of that state.
//!
//! The view (the selection, the drill-down, the filters, the help, the
//! keys, where the last frame drew) is kept apart from the state so that
//! either can be had without the other: `ui` draws a [`State`] with any
//! view of it, and the moves of `app::moves` change a view against a state
//! they only read. A replay and a followed session keep a view of their
//! own beside the recorded console and draw the recorded state with it;
//! nothing is swapped in and out.
//!
//! The operator's own view stays with the session all the same: its keys
//! act on what it selects (a step is of the selected route), so `update`
//! is given both, and a keyframe keeps both: the state's fields and, beside
//! them, the view as `ui`, as keyframes always had it.

use std::ops::{Deref, DerefMut};

use jiff::Timestamp;
use serde::de::{DeserializeSeed, Error as _, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::{Pod, Side, WorkloadKey};
use crate::keymap::Keymap;

use super::{AppConfig, EventEntry, Screen, State, UiState, WorkloadRow};

/// A session's state and its operator's view of it. It reads as its state
/// (`Deref`), so what only reads or changes the state takes a [`State`]
/// and is given an `App` as well.
pub struct App {
    /// What `update` built from the session's messages.
    pub state: State,
    /// Where the operator is on the screen: what the keys act on.
    pub ui: UiState,
    /// The session's keys: what a key does, and how proposals and notices
    /// name them. In the recording's header, not in keyframes.
    pub keymap: Keymap,
    /// Where the last frame drew each panel and row, for the mouse; not
    /// saved, rebuilt by every frame.
    pub screen: Screen,
}

impl App {
    pub fn new(config: AppConfig, keymap: Keymap, now: Timestamp) -> App {
        App { state: State::new(config, now), ui: UiState::default(), keymap, screen: Screen::default() }
    }

    /// The workload rows the operator's view shows: filtered, problems
    /// only if asked, sorted.
    pub fn visible_workloads(&self) -> Vec<WorkloadRow<'_>> {
        self.state.visible_workloads(&self.ui.find)
    }

    /// Keys of the workload rows the operator's view shows, in order.
    pub fn visible_workload_keys(&self) -> Vec<WorkloadKey> {
        self.state.visible_workload_keys(&self.ui.find)
    }

    /// The events the operator's view shows, newest first.
    pub fn visible_events(&self) -> Vec<&EventEntry> {
        self.state.visible_events(&self.ui.find)
    }

    /// The pods of `key` on `side` the operator's drill-down lists.
    pub fn visible_pods(&self, key: &WorkloadKey, side: Side) -> Vec<&Pod> {
        self.state.visible_pods(key, side, &self.ui.find)
    }
}

impl Deref for App {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for App {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

/// The operator's view's field in a keyframe.
const UI: &str = "ui";

/// A keyframe's object: the state's fields, then the view.
impl Serialize for App {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Saved<'a> {
            #[serde(flatten)]
            state: &'a State,
            ui: &'a UiState,
        }
        Saved { state: &self.state, ui: &self.ui }.serialize(s)
    }
}

/// Read back in one pass: the view is taken out of the object wherever it
/// is (keyframes of earlier versions have it among the state's fields),
/// and the rest is the state's.
impl<'de> Deserialize<'de> for App {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<App, D::Error> {
        d.deserialize_map(SavedVisitor)
    }
}

struct SavedVisitor;

impl<'de> Visitor<'de> for SavedVisitor {
    type Value = App;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a console's state and its view")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<App, A::Error> {
        let mut fields = WithoutView { map, ui: None };
        let state = State::deserialize(serde::de::value::MapAccessDeserializer::new(&mut fields))?;
        let ui = fields.ui.ok_or_else(|| A::Error::missing_field(UI))?;
        Ok(App { state, ui, keymap: Keymap::default(), screen: Screen::default() })
    }
}

/// The fields of a saved console but its view, which is kept aside.
struct WithoutView<A> {
    map: A,
    ui: Option<UiState>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WithoutView<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<String>()? {
            if key == UI {
                self.ui = Some(self.map.next_value()?);
                continue;
            }
            return seed.deserialize(IntoDeserializer::<A::Error>::into_deserializer(key)).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keyframe holds the state's fields and the view beside them, and
    /// reads back as it was written, wherever the view is in the object.
    #[test]
    fn a_saved_console_reads_back_with_its_view() {
        let t0 = Timestamp::from_second(1_800_000_000).expect("a time");
        let world = crate::sim::World::new(&crate::sim::SimConfig { seed: 2026, start: t0, scale: 1 });
        let mut app = App::new(world.app_config(), Keymap::default(), t0);
        app.ui.focus = super::super::Panel::Events;
        app.ui.find.text[0] = "api".into();
        app.state.next_effect = 7;
        let saved = serde_json::to_value(&app).expect("saved");
        let object = saved.as_object().expect("an object");
        assert!(object.contains_key("ui") && object.contains_key("config") && object.contains_key("next_effect"));
        let back: App = serde_json::from_value(saved.clone()).expect("read back");
        assert_eq!(back.ui, app.ui);
        assert_eq!(serde_json::to_value(&back).expect("saved again"), saved);
        // Earlier keyframes had the view in the middle of the object.
        let text = serde_json::to_string(&app).expect("saved");
        let ui = serde_json::to_string(&app.ui).expect("the view");
        let moved = text.replacen(&format!(",\"ui\":{ui}"), "", 1).replacen("{", &format!("{{\"ui\":{ui},"), 1);
        let back: App = serde_json::from_str(&moved).expect("read back");
        assert_eq!(back.ui, app.ui);
        let without = text.replacen(&format!(",\"ui\":{ui}"), "", 1);
        assert!(serde_json::from_str::<App>(&without).is_err(), "a keyframe without its view is refused");
    }
}
