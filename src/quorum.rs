//! Counting distinct voters: election tallies, and the leader's last contact with
//! each voter (CheckQuorum).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::{Instant, Membership, NodeId};

/// A voter's slot: not heard from (in this round, or ever as leader).
const UNKNOWN: u64 = 0;
/// A voter's slot: refused in this round.
const REFUSED: u64 = u64::MAX;

/// The result of recording one answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Recorded {
    /// Counted.
    Counted,
    /// The node is not a voter; not counted.
    NotAVoter,
    /// This voter was already counted in this round; not counted again.
    Duplicate,
}

/// One slot per voter (indexed like `Membership::voters`), with running counts.
///
/// In a (pre-)election round a slot says what the voter answered: unknown, refused,
/// or granted *at* some instant (stored as nanoseconds + 1, so that zero means
/// unknown). A leader keeps the same slots as its last contact with each voter:
/// the election's grants are its first contacts, and every heartbeat reply moves a
/// voter's slot forward. Recording an answer is a binary search; counting is free;
/// a duplicated answer is recognised and counted once.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    slots: Box<[u64]>,
    yes: u32,
    no: u32,
}

/// An instant as a slot value (never `UNKNOWN` or `REFUSED`: the clock-range rule
/// keeps `now` far below `Instant::MAX`).
fn at(now: Instant) -> u64 {
    now.as_nanos().saturating_add(1).min(REFUSED - 1)
}

impl Tally {
    /// Clears the tally for a new round over `members`' voters.
    pub(crate) fn reset<I: NodeId>(&mut self, members: &Membership<I>) {
        let voters = members.voters().len();
        if self.slots.len() == voters {
            self.slots.fill(UNKNOWN);
        } else {
            self.slots = alloc::vec![UNKNOWN; voters].into_boxed_slice();
        }
        self.yes = 0;
        self.no = 0;
    }

    /// Records `id`'s answer in this round, received at `now`.
    pub(crate) fn record<I: NodeId>(
        &mut self,
        members: &Membership<I>,
        id: I,
        yes: bool,
        now: Instant,
    ) -> Recorded {
        let Some(slot) = members.voter_index(id).and_then(|i| self.slots.get_mut(i)) else {
            return Recorded::NotAVoter;
        };
        if *slot != UNKNOWN {
            return Recorded::Duplicate;
        }
        if yes {
            *slot = at(now);
            self.yes += 1;
        } else {
            *slot = REFUSED;
            self.no += 1;
        }
        Recorded::Counted
    }

    /// Distinct voters that said yes.
    pub(crate) fn yes(&self) -> usize {
        self.yes as usize
    }

    /// Distinct voters that said no.
    pub(crate) fn no(&self) -> usize {
        self.no as usize
    }

    /// Turns the won election's tally into the leader's contact table: a new leader
    /// counts every voter as heard from at `now`, the instant it won. (Winning took a
    /// quorum of grants within one round; this gives every leader one whole
    /// `election_timeout_min` to hear from its voters before CheckQuorum can depose
    /// it, as etcd's first check-quorum period does.)
    pub(crate) fn start_contacts(&mut self, now: Instant) {
        self.slots.fill(at(now));
    }

    /// Leader: voter `id` was heard from at `now`. Non-voters are ignored.
    pub(crate) fn contact<I: NodeId>(&mut self, members: &Membership<I>, id: I, now: Instant) {
        if let Some(slot) = members.voter_index(id).and_then(|i| self.slots.get_mut(i)) {
            *slot = (*slot).max(at(now));
        }
    }

    /// Leader `me`: the latest instant at which a quorum of voters (`me` included,
    /// always in contact) had been heard from — the `quorum - 1`-th most recent
    /// contact among the others. `None` when fewer than that many were ever heard
    /// from; `Some(Instant::MAX)` when `me` alone is a quorum.
    ///
    /// Allocation-free: the k-th largest slot is found bit by bit (64 passes over
    /// the voters). It runs when the CheckQuorum deadline is due (about once per
    /// `election_timeout_min`) and on membership changes, never per message.
    pub(crate) fn quorum_contact<I: NodeId>(
        &self,
        members: &Membership<I>,
        me: I,
    ) -> Option<Instant> {
        let quorum = members.quorum();
        let mine = members.voter_index(me);
        let others = quorum - usize::from(mine.is_some());
        if others == 0 {
            return Some(Instant::MAX);
        }
        let count_at_least = |x: u64| {
            self.slots
                .iter()
                .enumerate()
                .filter(|&(i, &s)| Some(i) != mine && s != REFUSED && s >= x)
                .count()
        };
        if count_at_least(1) < others {
            return None;
        }
        // The largest x with at least `others` contacts at or after x.
        let mut x = 0u64;
        for bit in (0..64).rev() {
            let candidate = x | (1u64 << bit);
            if count_at_least(candidate) >= others {
                x = candidate;
            }
        }
        Some(Instant::from_nanos(x - 1))
    }

    /// Leader: carries the contact slots over to a changed voter set. Voters that
    /// remain keep their last contact, removed voters' are dropped, and a voter new
    /// to the set counts as heard from at `now`, the moment it was added (as in
    /// etcd: otherwise adding a voter to a leader that has not yet heard from it
    /// would depose the leader at once).
    pub(crate) fn remap<I: NodeId>(
        &mut self,
        old: &Membership<I>,
        new: &Membership<I>,
        now: Instant,
    ) {
        let mut slots = Vec::with_capacity(new.voters().len());
        let (mut yes, mut no) = (0, 0);
        for id in new.voters() {
            let slot = old
                .voter_index(*id)
                .and_then(|i| self.slots.get(i).copied())
                .unwrap_or(at(now));
            match slot {
                UNKNOWN => {}
                REFUSED => no += 1,
                _ => yes += 1,
            }
            slots.push(slot);
        }
        *self = Tally {
            slots: slots.into_boxed_slice(),
            yes,
            no,
        };
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.len() * core::mem::size_of::<u64>()
    }
}
