//! A keyframe: everything `update` has built, written now and then so a
//! replay can enter a long recording anywhere by reading one keyframe and
//! the messages after it, rather than the whole file.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::app::{
    App, AppConfig, ClusterState, EventEntry, Handoff, LbMetrics, Modal, RouteState, SourceId, SourceState, UiState,
};
use crate::domain::{NodeSignal, PerSide};
use crate::keymap::Keymap;

/// The state of an `App` that messages change. What is left out is not
/// state: the keymap (in the header), `quit`, and the outbox and marks,
/// which the runtime drains after every message.
///
/// Borrowed when written, owned when read: one type for both directions.
#[derive(Debug, Serialize, Deserialize)]
pub struct Keyframe<'a> {
    pub now: Timestamp,
    pub config: Cow<'a, AppConfig>,
    pub clusters: Cow<'a, PerSide<ClusterState>>,
    pub routes: Cow<'a, [RouteState]>,
    pub load_balancers: Cow<'a, BTreeMap<String, LbMetrics>>,
    pub events: Cow<'a, VecDeque<EventEntry>>,
    pub node_signals: Cow<'a, VecDeque<NodeSignal>>,
    /// As pairs: a source's id is not a string, so not a JSON object key.
    pub sources: Vec<(SourceId, SourceState)>,
    pub ui: Cow<'a, UiState>,
    pub modal: Cow<'a, Option<Modal>>,
    pub notice: Cow<'a, Option<String>>,
    pub handoff: Cow<'a, Option<Handoff>>,
    pub operator: Cow<'a, str>,
}

impl<'a> Keyframe<'a> {
    pub fn of(app: &'a App) -> Keyframe<'a> {
        Keyframe {
            now: app.now,
            config: Cow::Borrowed(&app.config),
            clusters: Cow::Borrowed(&app.clusters),
            routes: Cow::Borrowed(&app.routes),
            load_balancers: Cow::Borrowed(&app.load_balancers),
            events: Cow::Borrowed(&app.events),
            node_signals: Cow::Borrowed(&app.node_signals),
            sources: app.sources.iter().map(|(id, s)| (*id, s.clone())).collect(),
            ui: Cow::Borrowed(&app.ui),
            modal: Cow::Borrowed(&app.modal),
            notice: Cow::Borrowed(&app.notice),
            handoff: Cow::Borrowed(&app.handoff),
            operator: Cow::Borrowed(&app.operator),
        }
    }

    /// The console as it was when the keyframe was written.
    pub fn restore(self, keymap: Keymap) -> App {
        let mut app = App::new(self.config.into_owned(), keymap, self.now);
        app.clusters = self.clusters.into_owned();
        app.routes = self.routes.into_owned();
        app.load_balancers = self.load_balancers.into_owned();
        app.events = self.events.into_owned();
        app.node_signals = self.node_signals.into_owned();
        app.sources = self.sources.into_iter().collect();
        app.ui = self.ui.into_owned();
        app.modal = self.modal.into_owned();
        app.notice = self.notice.into_owned();
        app.handoff = self.handoff.into_owned();
        app.operator = self.operator.into_owned();
        app
    }
}
