//! The CheckQuorum checker (README rule 4): a leader's quorum contact, seen from
//! outside, and the three ways the leader can get it wrong.
//!
//! For each leader with `check_quorum` on, the checker keeps the last contact of
//! every other voter of its membership, in the leader's own clock, as
//! [`Config::check_quorum`](crate::Config::check_quorum) documents it: the receipt
//! time (the local `now` of the step that processed it) of a `HeartbeatResponse`
//! carrying the leader's term; every voter counts as heard from at the instant the
//! leader won, and a voter added later at the instant it was added; a voter removed
//! is forgotten. With `K = quorum − 1` and
//! `E = (K-th most recent contact) + election_timeout_min` (no such contact: `E` is
//! in the past), after every step of the leader at local time `t`, with `E₀` the
//! value when the step began and `E₁` the value after the step's reply or voter
//! change:
//!
//! * still leader of that term ⇒ `t < E₀` and `t < E₁`
//!   ([`CheckQuorumLate`](super::ViolationKind::CheckQuorumLate));
//! * its `Stats::check_quorum_step_downs` went up ⇒ `t ≥ E₀` or `t ≥ E₁`
//!   ([`CheckQuorumEarly`](super::ViolationKind::CheckQuorumEarly)). The core
//!   checks `E₀` before it handles the input ("the first step with `now ≥ E`"), so
//!   a reply or a newly added voter arriving at `t = E₀` does not save the
//!   leadership; a voter change that moves `E` to `t` or before ends it in the
//!   same step;
//! * still leader ⇒ `next_deadline() ≤ E`, so a host that ticks at the deadline
//!   steps it down at `E` exactly
//!   ([`CheckQuorumDeadlineLate`](super::ViolationKind::CheckQuorumDeadlineLate)).
//!
//! A one-voter cluster (`K = 0`) never steps down. Each kind is reported once per
//! leadership.
//!
//! **Cost.** Contacts live in a map `voter → time` and an ordered set of
//! `(time, voter)`: a contact is `O(log voters)`; expiry pops from the front of the
//! set (each contact is popped at most once), after which "in contact" is the set's
//! size, so the first two checks are `O(1)` amortized per step. The deadline check
//! walks the set from its oldest entry while entries are older than
//! `deadline − election_timeout_min`, and stops after `len − K + 1` of them; in a
//! healthy cluster the oldest live contact is about one heartbeat interval old and
//! the walk is empty. Only a membership change on a leader rebuilds the state
//! (`O(voters log voters)`), and only a violation computes `E` itself (`O(K)`).

use alloc::collections::{BTreeMap, BTreeSet};

use super::invariants::{Checker, ViolationKind};
use crate::{Election, Instant, Membership, Message, Role, Term};

/// Per-node state of the CheckQuorum checker.
#[derive(Debug, Default)]
pub(crate) struct LeaseCheck {
    /// The effective local time of the node's last step (the core treats a `now`
    /// earlier than one it has seen as that one).
    last_local: u64,
    /// The contacts while the node leads with `check_quorum` on.
    leader: Option<Contacts>,
}

#[derive(Debug)]
struct Contacts {
    /// The leader.
    me: u64,
    term: u64,
    /// `election_timeout_min` of the leader's configuration, nanoseconds.
    min: u64,
    /// `quorum − 1` of the leader's membership.
    k: usize,
    /// The leader's voter list this state was built for.
    voters: Membership<u64>,
    /// Other voter → its last contact (local nanoseconds).
    latest: BTreeMap<u64, u64>,
    /// The same contacts ordered by time; entries older than
    /// `t − election_timeout_min` are popped (they can never count again).
    by_time: BTreeSet<(u64, u64)>,
    /// Kinds already reported for this leadership (late, early, deadline).
    reported: [bool; 3],
    /// `check_quorum` in the leader's configuration (nothing is checked without it).
    enabled: bool,
}

impl Contacts {
    /// A leadership won at local time `won`: every other voter counts as heard then.
    fn new(election: &Election<u64>, won: u64) -> Self {
        let config = election.config();
        let mut c = Contacts {
            me: election.id(),
            term: election.term().get(),
            min: u64::try_from(config.election_timeout_min.as_nanos()).unwrap_or(u64::MAX),
            k: 0,
            voters: election.membership().clone(),
            latest: BTreeMap::new(),
            by_time: BTreeSet::new(),
            reported: [false; 3],
            enabled: config.check_quorum,
        };
        c.rebuild(won, None);
        c
    }

    /// After a change from the voter set `old` (`None`: the leader just won): keeps
    /// only the current voters other than `me`, counts a voter new to the set as
    /// heard at `now`; recomputes `K` and the order. (A voter whose contact expired
    /// is not in `latest` but is not new: it stays out of contact.)
    fn rebuild(&mut self, now: u64, old: Option<&Membership<u64>>) {
        let (me, voters) = (self.me, &self.voters);
        self.latest.retain(|&v, _| v != me && voters.is_voter(v));
        for &v in voters.voters() {
            if v != me && old.is_none_or(|o| !o.is_voter(v)) {
                self.latest.insert(v, now);
            }
        }
        self.by_time = self.latest.iter().map(|(&v, &t)| (t, v)).collect();
        self.k = voters.quorum().saturating_sub(1);
    }

    fn contact(&mut self, voter: u64, at: u64) {
        if voter == self.me || !self.voters.is_voter(voter) {
            return;
        }
        if let Some(old) = self.latest.insert(voter, at) {
            self.by_time.remove(&(old, voter));
        }
        self.by_time.insert((at, voter));
    }

    /// Forgets contacts that no longer count at `t` (`contact + min ≤ t`); returns
    /// how many other voters are in contact at `t`.
    fn in_contact(&mut self, t: u64) -> usize {
        while let Some(&(at, voter)) = self.by_time.first() {
            if at.saturating_add(self.min) > t {
                break;
            }
            self.by_time.pop_first();
            self.latest.remove(&voter);
        }
        self.by_time.len()
    }

    /// Whether `deadline ≤ E` (call after [`Contacts::in_contact`] with a time at or
    /// before `deadline`, and only while at least `K` voters are in contact).
    fn deadline_in_time(&self, deadline: u64) -> bool {
        let spare = self.by_time.len() - self.k;
        let mut older = 0;
        for &(at, _) in &self.by_time {
            if at.saturating_add(self.min) >= deadline {
                return true;
            }
            older += 1;
            if older > spare {
                return false;
            }
        }
        true
    }

    /// `E`, for a report: the K-th most recent contact plus `min` (0 if none).
    fn expiry(&self) -> u64 {
        self.by_time
            .iter()
            .rev()
            .nth(self.k.saturating_sub(1))
            .map_or(0, |&(at, _)| at.saturating_add(self.min))
    }
}

impl LeaseCheck {
    /// Checks one step of node `election` (local time `local`, the input's message
    /// if it was one). `step_downs` is its `Stats::check_quorum_step_downs` before
    /// the step, if it was leader then.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn after_step(
        &mut self,
        checker: &mut Checker,
        at: u64,
        election: &Election<u64>,
        local: Instant,
        received: Option<(u64, Message)>,
        step_downs: Option<u64>,
        membership_changed: bool,
    ) {
        let t = self.last_local.max(local.as_nanos());
        self.last_local = t;
        let node = election.id();
        let (role, term) = (election.role(), election.term().get());

        // The leadership this step continued or ended.
        let mut lapsed_before = false;
        if let Some(c) = self.leader.as_mut() {
            let still = role == Role::Leader && term == c.term;
            // `E` as it stood when the step began (the core checks it before it
            // handles the input: a reply or a voter change in the same step comes
            // too late to save a lapsed leadership).
            lapsed_before = c.enabled && c.k > 0 && c.in_contact(t) < c.k;
            if still {
                if let Some((from, Message::HeartbeatResponse { term: answered, .. })) = received {
                    if answered.get() == c.term {
                        c.contact(from, t);
                    }
                }
            }
            // A voter change in this step counts for this step's check too (the
            // core re-derives `E` on voter changes, and may step down at once).
            if membership_changed && c.voters.voters() != election.membership().voters() {
                let old = core::mem::replace(&mut c.voters, election.membership().clone());
                c.rebuild(t, Some(&old));
            }
            let in_contact = c.in_contact(t);
            let stepped = c.enabled
                && step_downs.is_some_and(|n| election.stats().check_quorum_step_downs > n);
            if stepped && !lapsed_before && in_contact >= c.k && !c.reported[1] {
                c.reported[1] = true;
                checker.record(
                    at,
                    Some(node),
                    ViolationKind::CheckQuorumEarly {
                        term: Term(c.term),
                        in_contact,
                        needed: c.k,
                    },
                );
            }
            if !still {
                self.leader = None;
            }
        }

        if role != Role::Leader {
            self.leader = None;
            return;
        }
        if self.leader.is_none() {
            // A new leadership: every voter counts as heard at the win.
            self.leader = Some(Contacts::new(election, t));
        }
        let Some(c) = self.leader.as_mut() else {
            return;
        };
        if !c.enabled || c.k == 0 {
            return; // CheckQuorum off, or one voter: never steps down
        }
        let in_contact = c.in_contact(t);
        if in_contact < c.k || lapsed_before {
            if !c.reported[0] {
                c.reported[0] = true;
                checker.record(
                    at,
                    Some(node),
                    ViolationKind::CheckQuorumLate {
                        term: Term(c.term),
                        in_contact,
                        needed: c.k,
                    },
                );
            }
            return;
        }
        if let Some(deadline) = election.next_deadline() {
            if !c.deadline_in_time(deadline.as_nanos()) && !c.reported[2] {
                c.reported[2] = true;
                checker.record(
                    at,
                    Some(node),
                    ViolationKind::CheckQuorumDeadlineLate {
                        term: Term(c.term),
                        deadline,
                        expiry: Instant::from_nanos(c.expiry()),
                    },
                );
            }
        }
    }

    /// The node crashed: its leadership is gone (its clock is not).
    pub(crate) fn crash(&mut self) {
        self.leader = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 150;

    /// Contacts of a leader `1` of voters `1..=n` that won at `won`, then heard
    /// `heard`.
    fn contacts(n: u64, won: u64, heard: &[(u64, u64)]) -> Contacts {
        let mut c = Contacts {
            me: 1,
            term: 1,
            min: MIN,
            k: 0,
            voters: Membership::new(1..=n).unwrap(),
            latest: BTreeMap::new(),
            by_time: BTreeSet::new(),
            reported: [false; 3],
            enabled: true,
        };
        c.rebuild(won, None);
        for &(v, t) in heard {
            c.contact(v, t);
        }
        c
    }

    /// E is the K-th most recent contact plus the minimum timeout: in contact at
    /// `t` exactly when `t < E`, and a deadline is in time exactly when `<= E`.
    #[test]
    fn in_contact_until_the_kth_most_recent_contact_expires() {
        // Five voters: K = 2. Contacts at 10, 40, 30, 20 (node 5 latest at 20).
        let mut c = contacts(5, 0, &[(2, 10), (3, 40), (4, 30), (5, 5), (5, 20)]);
        assert_eq!(c.k, 2);
        // The second most recent contact is 30: E = 180.
        assert_eq!(c.expiry(), 30 + MIN);
        assert!(c.deadline_in_time(180));
        assert!(!c.deadline_in_time(181));
        assert_eq!(c.in_contact(179), 2);
        assert!(c.in_contact(180) < c.k, "t = E is out of contact");
        // A fresher contact moves E.
        let mut c = contacts(5, 0, &[(2, 10), (3, 40), (4, 30)]);
        c.contact(2, 100);
        assert_eq!(c.expiry(), 40 + MIN);
        assert_eq!(c.in_contact(189), 2);
        assert_eq!(c.in_contact(190), 1);
    }

    /// Every voter counts as heard at the win; removed voters and the leader itself
    /// never count; a new voter counts as heard when it was added; contacts from
    /// non-voters are ignored.
    #[test]
    fn voters_count_from_the_win_or_their_addition() {
        let mut c = contacts(3, 0, &[(1, 50), (2, 10), (9, 60)]);
        assert_eq!((c.k, c.in_contact(20)), (1, 2), "2 at 10, 3 at the win");
        let old = core::mem::replace(&mut c.voters, Membership::new([1, 3, 4]).unwrap());
        c.rebuild(25, Some(&old));
        assert_eq!(c.in_contact(149), 2, "3 at the win, 4 at its addition");
        assert_eq!(c.in_contact(160), 1, "2 was removed, 3 expired");
        assert_eq!(c.expiry(), 25 + MIN);
        // An expired voter is not new: another change does not revive it.
        let old = core::mem::replace(&mut c.voters, Membership::new([1, 3, 4, 5]).unwrap());
        c.rebuild(170, Some(&old));
        assert_eq!(c.in_contact(170), 2, "4 (until 175) and 5 (added at 170)");
        assert_eq!(c.in_contact(175), 1);
    }
}
