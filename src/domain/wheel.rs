//! One hand on the wheel: who may drive a plan, as a `coordination.k8s.io/v1`
//! Lease in the new cluster says. The Lease's fields as the console keeps
//! them, what a console should do with the Lease it read, and what it tells
//! the operator, without any IO: the lease tasks (`effects::lease` writes,
//! `sources::lease` only reads) carry the decisions out.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{clock, plus_secs};

/// How often the holder renews its lease, and a watcher reads it: a console
/// whose wheel was taken learns it within this long, and a watcher's header
/// is as old as this at most. One small write every five seconds is nothing
/// to an API server.
pub const RENEW_EVERY_SECS: i64 = 5;

/// How long another console waits, after the holder's last renewal, before
/// the lease counts as free (`leaseDurationSeconds`): six renewals, so a slow
/// API server or a few lost answers never hand the wheel over by themselves.
pub const LEASE_DURATION_SECS: i64 = 30;

/// How long a holder that cannot renew keeps driving. Shorter than the
/// lease's duration: it stops before anyone else may take the lease, with
/// ten seconds to spare for a write in flight (the executor's deadlines are
/// ten seconds) and for clocks that differ a little.
pub const GIVE_UP_SECS: i64 = 20;
const _: () =
    assert!(GIVE_UP_SECS + RENEW_EVERY_SECS <= LEASE_DURATION_SECS, "a holder stops before anyone may take it");

/// The annotation naming the holder's AWS and Kubernetes identity, once known.
pub const OPERATOR_ANNOTATION: &str = "cutover/operator";
/// The annotation naming who held the lease before it was released.
pub const LAST_HOLDER_ANNOTATION: &str = "cutover/last-holder";
/// The annotation with the plan's name as written (the Lease's name is a
/// DNS name made from it).
pub const PLAN_ANNOTATION: &str = "cutover/plan";

/// The annotation with the holder's handoff in flight (JSON of
/// [`HolderHandoff`]), so that other consoles know its gap is planned.
pub const HANDOFF_ANNOTATION: &str = "cutover/handoff";

/// A handoff the holder has in flight, as its Lease says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderHandoff {
    pub singleton: String,
    /// Its state in the holder's words (`scheduler: old is stopped and not
    /// yet gone; new is not started`).
    pub text: String,
    /// Between its stop and its start: the singleton rightly runs nowhere.
    pub in_gap: bool,
}

/// The word typed to take the wheel from someone.
pub const TAKE_WORD: &str = "take";

/// Where a plan's Lease is, in the new cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRef {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for LeaseRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The Lease of a plan's wheel, as read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LeaseRecord {
    /// `spec.holderIdentity`; None when empty: nobody holds it.
    pub holder: Option<String>,
    /// Who the holder is beyond its console (AWS ARN, kube users).
    pub operator: Option<String>,
    /// Who held it before it was released.
    pub last_holder: Option<String>,
    /// `spec.acquireTime`: since when the holder has held it.
    pub acquired: Option<Timestamp>,
    /// `spec.renewTime`.
    pub renewed: Option<Timestamp>,
    /// `spec.leaseDurationSeconds`; the default when missing.
    pub duration_secs: i64,
    /// `spec.leaseTransitions`: how often it changed hands.
    pub transitions: i32,
    /// The holder's handoff in flight.
    pub handoff: Option<HolderHandoff>,
}

impl LeaseRecord {
    /// Whether the holder has stopped renewing for longer than the lease's
    /// duration, by this machine's clock (a lease without a renewal time
    /// was never renewed, and is expired).
    pub fn expired(&self, now: Timestamp) -> bool {
        self.holder.is_some() && self.renewed.is_none_or(|r| plus_secs(r, self.duration_secs) < now)
    }

    /// The lease as written by `me` taking or renewing it at `now`: a
    /// renewal keeps the acquire time, a change of holder starts it and
    /// counts a transition.
    pub fn held_by(read: Option<&LeaseRecord>, me: &str, operator: Option<&str>, now: Timestamp) -> LeaseRecord {
        let renewal = read.is_some_and(|r| r.holder.as_deref() == Some(me));
        let transitions = read.map_or(0, |r| r.transitions + i32::from(!renewal && read.is_some()));
        LeaseRecord {
            holder: Some(me.to_string()),
            operator: operator
                .map(str::to_string)
                .or_else(|| read.and_then(|r| r.operator.clone()).filter(|_| renewal)),
            last_holder: None,
            acquired: if renewal { read.and_then(|r| r.acquired).or(Some(now)) } else { Some(now) },
            renewed: Some(now),
            duration_secs: LEASE_DURATION_SECS,
            transitions,
            handoff: None,
        }
    }

    /// The lease as `me` leaves it on a clean quit: nobody holds it, so
    /// the next console takes it at once, and it says who held it last.
    pub fn released(read: &LeaseRecord, me: &str, now: Timestamp) -> LeaseRecord {
        LeaseRecord {
            holder: None,
            operator: None,
            last_holder: Some(me.to_string()),
            acquired: read.acquired,
            renewed: Some(now),
            duration_secs: read.duration_secs,
            transitions: read.transitions,
            handoff: None,
        }
    }
}

/// Who holds a plan's wheel, as one console sees it: what reaches `update`
/// (as `Msg::Wheel`), the header and the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wheel {
    /// This console holds it.
    Yours {
        identity: String,
        since: Timestamp,
        /// Renewals failing since then, with the latest error: past
        /// `GIVE_UP_SECS` the console stops driving.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failing: Option<(Timestamp, String)>,
    },
    /// Another console holds it.
    Held {
        holder: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operator: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Timestamp>,
        /// Its handoff in flight, as its Lease says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handoff: Option<HolderHandoff>,
    },
    /// Nobody holds it: released by `last` (or never held), or `expired`:
    /// `last` stopped renewing it.
    Free {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last: Option<String>,
        #[serde(default)]
        expired: bool,
    },
    /// This console held it and could not renew it for `GIVE_UP_SECS`: it
    /// no longer drives, though the lease may still name it.
    Lapsed { identity: String, renewed: Timestamp, error: String },
    /// The lease could not be read, and this console does not hold it.
    Unread { error: String },
}

impl Wheel {
    pub fn is_yours(&self) -> bool {
        matches!(self, Wheel::Yours { .. })
    }

    /// Who holds it, as the Lease says; None: nobody, or not known.
    pub fn holder(&self) -> Option<&str> {
        match self {
            Wheel::Yours { identity, .. } => Some(identity),
            Wheel::Held { holder, .. } => Some(holder),
            Wheel::Free { .. } | Wheel::Lapsed { .. } | Wheel::Unread { .. } => None,
        }
    }

    /// Why this console may not act now, in one line that says what it
    /// may still do; None when it holds the wheel.
    pub fn refusal(&self, take: &str, revert: &str) -> Option<String> {
        let to_take = format!("{take} takes the wheel; {revert} still sends every route to old");
        Some(match self {
            Wheel::Yours { .. } => return None,
            Wheel::Held { holder, since, .. } => {
                let since = since.map(|s| format!(" since {}", clock(s))).unwrap_or_default();
                format!("{} drives this plan{since}: you are watching ({to_take})", short_holder(holder))
            }
            Wheel::Free { last, expired } => match (last.as_deref().map(short_holder), expired) {
                (Some(last), true) => format!("nobody drives: the lease of {last} expired ({to_take})"),
                (Some(last), false) => format!("nobody drives: {last} released the wheel ({to_take})"),
                (None, _) => format!("nobody drives yet ({to_take})"),
            },
            Wheel::Lapsed { renewed, error, .. } => format!(
                "you no longer drive: the wheel's lease was not renewed since {} ({error}); {revert} still sends every route to old",
                clock(*renewed)
            ),
            Wheel::Unread { error } => {
                format!("the wheel's lease cannot be read ({error}): nothing but {revert} is taken from here")
            }
        })
    }
}

/// The short form of a holder's identity, for a header: `alice@laptop`
/// of `alice@laptop pid 4242 run-20261128T080000Z`.
pub fn short_holder(identity: &str) -> &str {
    identity.split(" pid ").next().unwrap_or(identity)
}

/// A console's identity as a lease holder: who and where, down to the
/// process and its session, so two consoles of one person differ.
pub fn holder_identity(user: &str, host: &str, pid: u32, session: &str) -> String {
    format!("{user}@{host} pid {pid} {session}")
}

/// The process of a holder on `host`, from its identity; None for a
/// holder elsewhere (or an identity of another form).
pub fn holder_process(identity: &str, host: &str) -> Option<u32> {
    let (who, rest) = identity.split_once(" pid ")?;
    let (_, holder_host) = who.rsplit_once('@')?;
    let pid = rest.split(' ').next()?.parse().ok()?;
    (holder_host == host).then_some(pid)
}

/// The Lease's name for a plan: `cutover-` and the plan's name as a DNS-1123
/// subdomain (lowercase letters, digits, `-` and `.`, at most 253, starting
/// and ending with a letter or digit). Two plans whose names differ only in
/// what this drops share a wheel.
pub fn lease_name(plan: &str) -> String {
    let mut name = String::from("cutover-");
    for c in plan.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' { c } else { '-' };
        // No `--`, `..`, `-.` or `.-` runs: one separator for each run.
        if !c.is_ascii_alphanumeric() && name.ends_with(['-', '.']) {
            continue;
        }
        name.push(c);
    }
    name.truncate(253);
    name.trim_end_matches(['-', '.']).to_string()
}

/// What a console wants of the lease this round.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// It holds the wheel: renew.
    Renew,
    /// It is starting: take the lease if nobody holds it (or the holder's
    /// lease expired), else watch.
    Acquire,
    /// The operator confirmed taking the wheel from `from` (None: from
    /// nobody): take it whoever holds it now, unless it passed to someone
    /// else meanwhile.
    Take { from: Option<String> },
    /// It watches: leave the lease alone, unless it still names this
    /// console (its renewals failed and nobody took it since).
    Watch,
}

/// What to do with the lease as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// There is no lease: create one naming this console.
    Create,
    /// Write the lease naming this console, with the resourceVersion read:
    /// a renewal, or a take (from `from`, or from nobody).
    Write { renewal: bool, from: Option<String> },
    /// Leave it: this is what it says.
    Leave(Wheel),
    /// A take the lease no longer allows: why.
    Refuse(String),
}

/// The decision for one round, from the lease as read (None: there is
/// none). Pure: every write is decided here and carried out elsewhere.
pub fn next_step(read: Option<&LeaseRecord>, me: &str, intent: &Intent, now: Timestamp) -> Step {
    let Some(r) = read else {
        return match intent {
            Intent::Watch => Step::Leave(Wheel::Free { last: None, expired: false }),
            // Deleted while held (or never made): nobody holds it, so the
            // holder makes it again rather than drive without one.
            Intent::Renew | Intent::Acquire | Intent::Take { .. } => Step::Create,
        };
    };
    let held = |holder: &str| Wheel::Held {
        holder: holder.to_string(),
        operator: r.operator.clone(),
        since: r.acquired,
        handoff: r.handoff.clone(),
    };
    match (r.holder.as_deref(), intent) {
        (Some(h), _) if h == me => Step::Write { renewal: true, from: None },
        (None, Intent::Acquire | Intent::Take { .. }) => Step::Write { renewal: false, from: None },
        // Cleared by someone else while this console held it: it is not
        // this console's any more; taking it again is the operator's call.
        (None, Intent::Renew | Intent::Watch) => {
            Step::Leave(Wheel::Free { last: r.last_holder.clone(), expired: false })
        }
        (Some(h), Intent::Take { from }) => {
            if from.as_deref() == Some(h) || r.expired(now) {
                Step::Write { renewal: false, from: Some(h.to_string()) }
            } else {
                Step::Refuse(format!("the wheel passed to {h} while you confirmed; look again and take it from them"))
            }
        }
        (Some(h), Intent::Acquire) if r.expired(now) => Step::Write { renewal: false, from: Some(h.to_string()) },
        (Some(h), Intent::Watch) if r.expired(now) => {
            Step::Leave(Wheel::Free { last: Some(h.to_string()), expired: true })
        }
        (Some(h), Intent::Acquire | Intent::Renew | Intent::Watch) => Step::Leave(held(h)),
    }
}

/// What a read-only reader (`watch`, a dry run, the relay) tells of the
/// lease it read.
pub fn observed(read: Option<&LeaseRecord>, now: Timestamp) -> Wheel {
    match next_step(read, "", &Intent::Watch, now) {
        Step::Leave(wheel) => wheel,
        // A reader never writes: an unnamed holder is nobody.
        _ => Wheel::Free { last: None, expired: false },
    }
}

/// What a holder says while its renewals fail: still holding until
/// `GIVE_UP_SECS` after its last renewal, then lapsed.
pub fn renewal_failed(identity: &str, since: Timestamp, renewed: Timestamp, error: &str, now: Timestamp) -> Wheel {
    if now.as_second() - renewed.as_second() >= GIVE_UP_SECS {
        Wheel::Lapsed { identity: identity.to_string(), renewed, error: error.to_string() }
    } else {
        Wheel::Yours { identity: identity.to_string(), since, failing: Some((renewed, error.to_string())) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn held(holder: &str, renewed: i64) -> LeaseRecord {
        LeaseRecord {
            holder: Some(holder.into()),
            acquired: Some(at(0)),
            renewed: Some(at(renewed)),
            duration_secs: LEASE_DURATION_SECS,
            transitions: 2,
            ..LeaseRecord::default()
        }
    }

    #[test]
    fn a_plan_name_becomes_a_dns_subdomain() {
        assert_eq!(lease_name("photo-api-2026"), "cutover-photo-api-2026");
        assert_eq!(lease_name("Photo API (demo)"), "cutover-photo-api-demo");
        assert_eq!(lease_name("a..b__c.-d"), "cutover-a.b-c.d");
        assert_eq!(lease_name("--"), "cutover");
        assert_eq!(lease_name("写真"), "cutover");
        let long = lease_name(&"x".repeat(400));
        assert_eq!(long.len(), 253);
        for name in [lease_name("Ünïcode straße!"), lease_name("end."), long] {
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'));
            assert!(name.ends_with(|c: char| c.is_ascii_alphanumeric()), "{name}");
        }
    }

    #[test]
    fn a_starting_console_takes_a_free_or_expired_lease_and_watches_a_live_one() {
        let me = "bob@b pid 2 run-2";
        assert_eq!(next_step(None, me, &Intent::Acquire, at(0)), Step::Create);
        let free = LeaseRecord { holder: None, last_holder: Some("alice".into()), ..held("x", 0) };
        assert_eq!(next_step(Some(&free), me, &Intent::Acquire, at(1)), Step::Write { renewal: false, from: None });
        // Renewed 20 s ago of a 30 s lease: alive.
        let live = held("alice", 0);
        assert_eq!(
            next_step(Some(&live), me, &Intent::Acquire, at(20)),
            Step::Leave(Wheel::Held { holder: "alice".into(), operator: None, since: Some(at(0)), handoff: None })
        );
        // Not renewed for longer than its duration: the holder is gone.
        assert_eq!(
            next_step(Some(&live), me, &Intent::Acquire, at(31)),
            Step::Write { renewal: false, from: Some("alice".into()) }
        );
        // A lease of this very console (started again with the same
        // identity is impossible, but a watcher whose lease still names it):
        assert_eq!(next_step(Some(&held(me, 0)), me, &Intent::Watch, at(5)), Step::Write { renewal: true, from: None });
    }

    #[test]
    fn a_holder_renews_its_own_and_learns_when_another_took_it() {
        let me = "alice";
        assert_eq!(next_step(Some(&held(me, 0)), me, &Intent::Renew, at(5)), Step::Write { renewal: true, from: None });
        // Even late: a renewal of one's own lease is never a take.
        assert_eq!(
            next_step(Some(&held(me, 0)), me, &Intent::Renew, at(99)),
            Step::Write { renewal: true, from: None }
        );
        let taken = next_step(Some(&held("bob", 4)), me, &Intent::Renew, at(5));
        assert_eq!(
            taken,
            Step::Leave(Wheel::Held { holder: "bob".into(), operator: None, since: Some(at(0)), handoff: None })
        );
        // Cleared by someone: not taken back without the operator.
        let cleared = LeaseRecord { holder: None, last_holder: Some("carol".into()), ..held("x", 0) };
        assert_eq!(
            next_step(Some(&cleared), me, &Intent::Renew, at(5)),
            Step::Leave(Wheel::Free { last: Some("carol".into()), expired: false })
        );
        // Deleted: made again.
        assert_eq!(next_step(None, me, &Intent::Renew, at(5)), Step::Create);
    }

    #[test]
    fn a_take_goes_over_the_holder_it_was_confirmed_against_only() {
        let me = "bob";
        let alice = held("alice", 0);
        let take = |from: Option<&str>| Intent::Take { from: from.map(str::to_string) };
        assert_eq!(
            next_step(Some(&alice), me, &take(Some("alice")), at(3)),
            Step::Write { renewal: false, from: Some("alice".into()) }
        );
        // The wheel passed to carol while bob typed: refused, say who.
        let carol = held("carol", 2);
        assert!(
            matches!(next_step(Some(&carol), me, &take(Some("alice")), at(3)), Step::Refuse(why) if why.contains("carol"))
        );
        // Confirmed against nobody, and nobody holds it, or it expired.
        assert_eq!(next_step(None, me, &take(None), at(3)), Step::Create);
        assert!(matches!(next_step(Some(&carol), me, &take(None), at(3)), Step::Refuse(_)));
        assert_eq!(
            next_step(Some(&carol), me, &take(None), at(40)),
            Step::Write { renewal: false, from: Some("carol".into()) }
        );
    }

    #[test]
    fn a_reader_tells_held_free_and_expired_leases_apart_and_never_writes() {
        assert_eq!(observed(None, at(0)), Wheel::Free { last: None, expired: false });
        assert_eq!(
            observed(Some(&held("alice", 10)), at(20)),
            Wheel::Held { holder: "alice".into(), operator: None, since: Some(at(0)), handoff: None }
        );
        assert_eq!(
            observed(Some(&held("alice", 10)), at(41)),
            Wheel::Free { last: Some("alice".into()), expired: true }
        );
        let released = LeaseRecord { holder: None, last_holder: Some("alice".into()), ..held("x", 0) };
        assert_eq!(observed(Some(&released), at(1)), Wheel::Free { last: Some("alice".into()), expired: false });
        // An empty holder is nobody, even to a reader with no identity.
        let unnamed = LeaseRecord { holder: Some(String::new()), ..held("x", 0) };
        assert_eq!(observed(Some(&unnamed), at(1)), Wheel::Free { last: None, expired: false });
    }

    #[test]
    fn what_is_written_keeps_a_renewal_and_counts_a_change_of_hands() {
        let alice = LeaseRecord { operator: Some("arn:alice".into()), ..held("alice", 0) };
        let renewed = LeaseRecord::held_by(Some(&alice), "alice", None, at(5));
        assert_eq!(renewed.acquired, Some(at(0)));
        assert_eq!(renewed.renewed, Some(at(5)));
        assert_eq!(renewed.transitions, 2);
        assert_eq!(renewed.operator.as_deref(), Some("arn:alice"));
        let taken = LeaseRecord::held_by(Some(&alice), "bob", Some("arn:bob"), at(6));
        assert_eq!((taken.holder.as_deref(), taken.acquired, taken.transitions), (Some("bob"), Some(at(6)), 3));
        assert_eq!(taken.operator.as_deref(), Some("arn:bob"));
        let taken = LeaseRecord::held_by(Some(&alice), "bob", None, at(6));
        assert_eq!(taken.operator, None, "alice's identity is not bob's");
        let created = LeaseRecord::held_by(None, "bob", None, at(7));
        assert_eq!((created.transitions, created.duration_secs), (0, LEASE_DURATION_SECS));
        let released = LeaseRecord::released(&taken, "bob", at(9));
        assert_eq!((released.holder.as_deref(), released.last_holder.as_deref()), (None, Some("bob")));
        assert_eq!(observed(Some(&released), at(9)), Wheel::Free { last: Some("bob".into()), expired: false });
        // Released, it is free at once for the next console.
        assert_eq!(
            next_step(Some(&released), "carol", &Intent::Acquire, at(9)),
            Step::Write { renewal: false, from: None }
        );
    }

    #[test]
    fn a_holder_whose_renewals_fail_keeps_driving_until_it_gives_up() {
        let since = at(0);
        let w = renewal_failed("alice", since, at(10), "connection refused", at(25));
        assert!(matches!(&w, Wheel::Yours { failing: Some((t, e)), .. } if *t == at(10) && e == "connection refused"));
        let w = renewal_failed("alice", since, at(10), "connection refused", at(10 + GIVE_UP_SECS));
        assert_eq!(w, Wheel::Lapsed { identity: "alice".into(), renewed: at(10), error: "connection refused".into() });
        assert!(w.refusal("W", "R").unwrap().contains("R still sends every route to old"));
    }

    #[test]
    fn the_wheel_refuses_with_who_drives_and_what_is_left() {
        let held =
            Wheel::Held { holder: "alice@a pid 1 run-1".into(), operator: None, since: Some(at(0)), handoff: None };
        let why = held.refusal("W", "R").unwrap();
        assert!(why.starts_with("alice@a drives this plan since"), "{why}");
        assert!(why.contains("W takes the wheel; R still sends every route to old"), "{why}");
        assert_eq!(Wheel::Yours { identity: "me".into(), since: at(0), failing: None }.refusal("W", "R"), None);
        assert_eq!(short_holder("alice@a pid 1 run-1"), "alice@a");
        assert_eq!(holder_identity("alice", "a", 1, "run-1"), "alice@a pid 1 run-1");
        assert_eq!(holder_process("alice@a pid 42 run-1", "a"), Some(42));
        assert_eq!(holder_process("alice@a pid 42 run-1", "b"), None, "another host's process is not known here");
        assert_eq!(holder_process("leader-election-7f9c", "a"), None);
    }
}
