//! What waits for the operator (a proposal, the percentage being typed,
//! the question before quitting), and the writes a confirmation sends:
//! why each was sent, and each one not yet answered.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{Side, Weights};

/// A change waiting for the operator's `y`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub title: String,
    pub lines: Vec<String>,
    pub kind: ProposalKind,
    /// Confirmations needed and given. A second one (a step above
    /// `max_step`, or before `min_dwell`) takes a different key than the
    /// first, so a repeated key never gives it.
    pub needed: u8,
    pub given: u8,
    pub made_at: Timestamp,
    /// Set when another writer of the object would undo the change (the
    /// AWS Load Balancer Controller, a GitOps controller): the first
    /// confirmation is then a typed word and Enter, never `y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typed_override: Option<TypedOverride>,
    /// Confirmed with the typed word of an alternative: write directly.
    #[serde(default)]
    pub direct: bool,
}

/// The confirmation of a proposal that an owner of the object would undo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypedOverride {
    /// Who would undo it, in one line: what the mark and the report name.
    pub owner: String,
    /// The word to type.
    pub word: String,
    /// What was typed so far.
    pub typed: String,
    /// `y` confirms the right way (through the owner); the typed word the
    /// direct write the owner would undo.
    #[serde(default)]
    pub alternative: bool,
    /// Why the handoff this confirms would not be kept on disk (the state
    /// file cannot be written): said beside the owner, or alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unkept: Option<String>,
    /// Why the plan's analysis holds this step back: a failed step, or
    /// one not yet ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<String>,
}

impl TypedOverride {
    pub fn new(owner: String) -> TypedOverride {
        TypedOverride {
            owner,
            word: crate::domain::OVERRIDE_WORD.into(),
            typed: String::new(),
            alternative: false,
            unkept: None,
            analysis: None,
        }
    }

    /// The override of a step the plan's analysis holds back.
    pub fn analysis(why: String) -> TypedOverride {
        TypedOverride { analysis: Some(why), ..TypedOverride::new(String::new()) }
    }

    /// The override of a handoff that nothing would keep on disk.
    pub fn unkept(why: String) -> TypedOverride {
        TypedOverride { unkept: Some(why), ..TypedOverride::new(String::new()) }
    }

    /// Why the typed word is asked for, in a few words: "Argo CD ... would
    /// undo it", "the handoff state file cannot be written", or both.
    pub fn reason(&self) -> String {
        let owner = (!self.owner.is_empty()).then(|| format!("{} would undo it", self.owner));
        let analysis = self.analysis.as_ref().map(|why| format!("the analysis holds it ({why})"));
        [owner, self.unkept.clone(), analysis].into_iter().flatten().collect::<Vec<_>>().join("; ")
    }

    /// What is overridden, as the report's Overrides section names it.
    pub fn overridden(&self) -> String {
        let analysis = self.analysis.as_ref().map(|why| format!("the analysis ({why})"));
        [Some(self.owner.clone()).filter(|o| !o.is_empty()), self.unkept.clone(), analysis]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProposalKind {
    /// (route index, weights seen, weights wanted) per route: a step.
    Weights(Vec<(usize, Weights, Weights)>),
    /// `r`: back to the weights before the last change.
    Undo(Vec<(usize, Weights, Weights)>),
    /// `R`: every route to old, whatever was seen.
    RevertAll(Vec<(usize, Weights, Weights)>),
    Handoff {
        singleton: usize,
        from: Side,
        to: Side,
        /// For a CronJob: the `startingDeadlineSeconds` the start writes, so
        /// that no run missed while it was suspended starts.
        #[serde(default)]
        starting_deadline: Option<i64>,
    },
    /// Bring a singleton back to one side: start it where it belongs
    /// (`start`), or stop the side it must not run on.
    Fix { singleton: usize, side: Side, start: bool },
    /// Abort the handoff in progress: restore its source side.
    Abort,
    /// Take the plan's wheel from `from` (None: nobody held it).
    TakeWheel { from: Option<String> },
}

impl ProposalKind {
    pub fn weights(changes: Vec<(usize, Weights, Weights)>, purpose: Purpose) -> ProposalKind {
        match purpose {
            Purpose::Undo => ProposalKind::Undo(changes),
            Purpose::Revert => ProposalKind::RevertAll(changes),
            _ => ProposalKind::Weights(changes),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PercentInput {
    pub route: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Modal {
    Proposal(Proposal),
    Percent(PercentInput),
    /// Quitting would leave something in flight: what, in plain words.
    Quit(Vec<String>),
}

/// Why an effect was sent, for matching its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// A weight change the operator proposed (a step, an exact percentage).
    Step,
    /// `r`: back to the weights before the last change of this session.
    Undo,
    /// `R`: everything to old.
    Revert,
    /// A step of the handoff in progress.
    Handoff,
    /// A fix of a singleton alarm outside any handoff.
    Fix,
    /// Taking the plan's wheel.
    Wheel,
    /// The session's way back written again, by itself, after a late write
    /// of the session's own undid it (see `app::late`).
    Reassert,
    /// A failed step reverted by itself, as the plan's analysis arms it.
    AutoRevert,
    /// A ready step's next step, applied by the autopilot the plan arms.
    Autopilot,
}

impl Purpose {
    /// The write, as a line names it: "the step", "the revert".
    pub fn noun(self) -> &'static str {
        match self {
            Purpose::Step => "step",
            Purpose::Undo => "undo",
            Purpose::Revert => "revert",
            Purpose::Reassert => "revert written again",
            Purpose::AutoRevert => "automatic revert",
            Purpose::Autopilot => "autopilot step",
            Purpose::Handoff | Purpose::Fix | Purpose::Wheel => "write",
        }
    }
}

/// An effect sent and not yet answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    pub effect: crate::app::Effect,
    pub purpose: Purpose,
    pub since: Timestamp,
    /// The weights a weight change went from, as read.
    #[serde(default)]
    pub from: Option<Weights>,
    /// What it is waiting for, as the executor last said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// Requests of it that went unanswered while it went on (a revert
    /// written again): each may still land.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unanswered: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
