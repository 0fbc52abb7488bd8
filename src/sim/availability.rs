//! Availability: is there a leader in contact with a quorum, and is it stable?
//!
//! **Definition.** A live node `L` that leads term `T` is *in contact with a quorum*
//! when at least a quorum of `L`'s voters (itself included) are live nodes that are
//! voters in their own membership and currently believe `(T, L)`: their term is `T`
//! and their known leader is `L`. A follower believes `(T, L)` from the step that
//! made it accept `L`'s heartbeat (or vote, for `L` itself) until it learns a newer
//! term, forgets the leader when its election timer fires, or crashes; so contact is
//! judged by what the nodes believe, which lags a silent partition by at most one
//! election timeout (CheckQuorum ends the leader's side of it within
//! `election_timeout_min`).
//!
//! The cluster is **unavailable** while no leader is in contact with a quorum;
//! [`Report::unavailable`](super::Report::unavailable) is the total simulated time
//! spent so, from time zero (a cold start counts).
//!
//! A leader is **stable** when it is in contact with a quorum and *every* live member
//! (voter or learner in its own membership) believes `(T, L)`.
//!
//! Everything is maintained incrementally: a node's contribution changes only when
//! its term, leader, role or membership changes, and then costs one map update.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// What one live node contributes: the `(term, leader)` it believes in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct View {
    pub(crate) term: u64,
    pub(crate) leader: u64,
    /// The node is a voter in its own membership.
    pub(crate) voter: bool,
    /// The node is a member (voter or learner) in its own membership.
    pub(crate) member: bool,
    /// `Some(quorum of its voters)` when the node is the leader itself.
    pub(crate) leads: Option<usize>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    voters: usize,
    members: usize,
    /// The leader's quorum, while the leader itself believes it leads.
    quorum: Option<usize>,
}

impl Entry {
    fn satisfied(&self) -> bool {
        self.quorum.is_some_and(|q| self.voters >= q)
    }
}

/// The incremental availability tracker.
#[derive(Debug, Default)]
pub(crate) struct Availability {
    entries: BTreeMap<(u64, u64), Entry>,
    /// Keys of satisfied entries (almost always zero or one).
    satisfied: Vec<(u64, u64)>,
    /// Live nodes that are members in their own view.
    pub(crate) live_members: usize,
    unavailable_since: Option<u64>,
    total: u64,
    longest: u64,
}

impl Availability {
    pub(crate) fn new() -> Self {
        Availability {
            unavailable_since: Some(0),
            ..Availability::default()
        }
    }

    /// Replaces a node's contribution `old` with `new` at time `now`.
    pub(crate) fn update(&mut self, now: u64, old: Option<View>, new: Option<View>) {
        if old == new {
            return;
        }
        if let Some(v) = old {
            self.change(v, -1);
        }
        if let Some(v) = new {
            self.change(v, 1);
        }
        self.account(now);
    }

    fn change(&mut self, v: View, delta: isize) {
        let key = (v.term, v.leader);
        let entry = self.entries.entry(key).or_default();
        let was = entry.satisfied();
        let apply = |n: &mut usize, on: bool| {
            if on {
                *n = n.wrapping_add_signed(delta);
            }
        };
        apply(&mut entry.voters, v.voter);
        apply(&mut entry.members, v.member);
        if let Some(q) = v.leads {
            entry.quorum = (delta > 0).then_some(q);
        }
        let now = entry.satisfied();
        let empty = entry.voters == 0 && entry.members == 0 && entry.quorum.is_none();
        if empty {
            self.entries.remove(&key);
        }
        if was && !now {
            self.satisfied.retain(|k| *k != key);
        } else if !was && now {
            self.satisfied.push(key);
        }
    }

    fn account(&mut self, now: u64) {
        match (self.satisfied.is_empty(), self.unavailable_since) {
            (true, None) => self.unavailable_since = Some(now),
            (false, Some(since)) => {
                let d = now.saturating_sub(since);
                self.total += d;
                self.longest = self.longest.max(d);
                self.unavailable_since = None;
            }
            _ => {}
        }
    }

    /// Whether some leader is in contact with a quorum.
    pub(crate) fn available(&self) -> bool {
        !self.satisfied.is_empty()
    }

    /// A leader in contact with a quorum, if any: `(term, leader)`.
    pub(crate) fn leader(&self) -> Option<(u64, u64)> {
        self.satisfied.iter().max().copied()
    }

    /// A stable leader, if any: `(term, leader)`.
    pub(crate) fn stable(&self) -> Option<(u64, u64)> {
        self.satisfied.iter().copied().find(|k| {
            self.entries
                .get(k)
                .is_some_and(|e| e.members >= self.live_members)
        })
    }

    /// Total and longest unavailable time up to `now`, in nanoseconds.
    pub(crate) fn unavailable(&self, now: u64) -> (u64, u64) {
        match self.unavailable_since {
            Some(since) => {
                let d = now.saturating_sub(since);
                (self.total + d, self.longest.max(d))
            }
            None => (self.total, self.longest),
        }
    }
}
