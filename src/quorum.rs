//! Counting distinct voters: election tallies, the leader's last contact with each
//! voter (CheckQuorum), the heartbeat send times they acknowledged (the lease), and
//! the leader's hand-over state.

use alloc::boxed::Box;

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

/// Slots per voter (indexed like `Membership::voters`), behind a small header.
///
/// Everything lives in one heap allocation, made only while campaigning or leading
/// (a follower's tally is empty, so it costs a follower nothing but the pointer):
/// [`HEAD`] words first — the yes/no counts, and the leader's hand-over state (the
/// target of a pending leadership transfer, the instant that ends it or, with no
/// transfer pending, the instant before which no priority hand-over starts, and the
/// candidate successor) — then one slot per voter, and for a leader a second slot
/// per voter.
///
/// In a (pre-)election round a slot says what the voter answered: unknown, refused,
/// or granted *at* some instant (stored as nanoseconds + 1, so that zero means
/// unknown). A leader keeps two slots per voter: its last contact with the voter
/// (CheckQuorum; every heartbeat reply moves it forward), then, in a second half,
/// the latest heartbeat send time the voter acknowledged (the lease). Recording an
/// answer is a binary search; counting is free; a duplicated answer is recognised
/// and counted once.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    slots: Box<[u64]>,
}

/// Header words in front of the voter slots.
const HEAD: usize = 4;
/// Header word: yes count (high 32 bits) and no count (low 32 bits).
const COUNTS: usize = 0;
/// Header word (leader): the hand-over target's voter index + 1, or 0 for none.
const TARGET: usize = 1;
/// Header word (leader): nanoseconds of the hand-over instant (see
/// [`Tally::handover_until`]).
const UNTIL: usize = 2;
/// Header word (leader): the candidate successor's voter index + 1 (0 for none) in
/// the low 32 bits; [`ANSWERED`] once it was chosen in the current heartbeat round.
const SUCCESSOR: usize = 3;
/// Bit of the [`SUCCESSOR`] word: the current heartbeat round has its first
/// eligible answer.
const ANSWERED: u64 = 1 << 63;

/// An instant as a slot value (never `UNKNOWN` or `REFUSED`: the clock-range rule
/// keeps `now` far below `Instant::MAX`).
#[inline(always)]
fn at(now: Instant) -> u64 {
    now.as_nanos().saturating_add(1).min(REFUSED - 1)
}

impl Tally {
    /// Clears the tally for a new round over `members`' voters.
    pub(crate) fn reset<I: NodeId>(&mut self, members: &Membership<I>) {
        let len = HEAD + members.voters().len();
        if self.slots.len() == len {
            self.slots.fill(UNKNOWN);
        } else {
            self.slots = alloc::vec![UNKNOWN; len].into_boxed_slice();
        }
    }

    /// The first table: one slot per voter.
    fn voter_slots<I: NodeId>(&self, members: &Membership<I>) -> &[u64] {
        let n = members.voters().len();
        self.slots.get(HEAD..HEAD + n).unwrap_or_default()
    }

    fn head(&self, word: usize) -> u64 {
        self.slots.get(word).copied().unwrap_or(0)
    }

    fn set_head(&mut self, word: usize, value: u64) {
        if let Some(w) = self.slots.get_mut(word) {
            *w = value;
        }
    }

    fn set_counts(&mut self, yes: usize, no: usize) {
        let yes = u64::try_from(yes)
            .unwrap_or(u64::MAX)
            .min(u64::from(u32::MAX));
        let no = u64::try_from(no)
            .unwrap_or(u64::MAX)
            .min(u64::from(u32::MAX));
        self.set_head(COUNTS, yes << 32 | no);
    }

    /// Records `id`'s answer in this round, received at `now`.
    pub(crate) fn record<I: NodeId>(
        &mut self,
        members: &Membership<I>,
        id: I,
        yes: bool,
        now: Instant,
    ) -> Recorded {
        self.record_at(members.voter_index(id), yes, now)
    }

    /// `record` for a sender whose voter index (`None`: not a voter) is known.
    pub(crate) fn record_at(&mut self, voter: Option<usize>, yes: bool, now: Instant) -> Recorded {
        let Some(slot) = voter.and_then(|i| self.slots.get_mut(HEAD + i)) else {
            return Recorded::NotAVoter;
        };
        if *slot != UNKNOWN {
            return Recorded::Duplicate;
        }
        *slot = if yes { at(now) } else { REFUSED };
        let (y, n) = (self.yes(), self.no());
        if yes {
            self.set_counts(y + 1, n);
        } else {
            self.set_counts(y, n + 1);
        }
        Recorded::Counted
    }

    /// Distinct voters that said yes.
    pub(crate) fn yes(&self) -> usize {
        (self.head(COUNTS) >> 32) as usize
    }

    /// Distinct voters that said no.
    pub(crate) fn no(&self) -> usize {
        (self.head(COUNTS) & u64::from(u32::MAX)) as usize
    }

    /// Turns the won election's tally into the leader's tables: a new leader counts
    /// every voter as heard from at `now`, the instant it won (this gives every
    /// leader one whole `election_timeout_min` to hear from its voters before
    /// CheckQuorum can depose it, as etcd's first check-quorum period does), and no
    /// voter as having acknowledged any heartbeat yet (a vote grant makes a voter
    /// refuse other candidates of this term only, so it is no lease evidence). No
    /// hand-over is pending.
    pub(crate) fn start_contacts<I: NodeId>(&mut self, members: &Membership<I>, now: Instant) {
        let voters = members.voters().len();
        let mut slots = alloc::vec![UNKNOWN; HEAD + 2 * voters];
        if let Some(contacts) = slots.get_mut(HEAD..HEAD + voters) {
            contacts.fill(at(now));
        }
        self.slots = slots.into_boxed_slice();
    }

    /// Leader: the voter at `index` (in `Membership::voters`) was heard from at `now`.
    #[inline]
    pub(crate) fn contact_index(&mut self, index: usize, now: Instant) {
        if let Some(slot) = self.slots.get_mut(HEAD + index) {
            *slot = (*slot).max(at(now));
        }
    }

    /// Leader: the voter at `index` (of `voters` voters) acknowledged the heartbeat
    /// sent at `sent` (leader's clock).
    #[inline]
    pub(crate) fn acknowledged_index(&mut self, index: usize, voters: usize, sent: Instant) {
        if let Some(slot) = self.slots.get_mut(HEAD + voters + index) {
            *slot = (*slot).max(at(sent));
        }
    }

    /// Leader: voter `id`'s last contact, if it was ever heard from.
    pub(crate) fn last_contact<I: NodeId>(
        &self,
        members: &Membership<I>,
        id: I,
    ) -> Option<Instant> {
        let slot = *self.voter_slots(members).get(members.voter_index(id)?)?;
        (slot != UNKNOWN && slot != REFUSED).then(|| Instant::from_nanos(slot - 1))
    }

    /// Leader: the voter index of the pending hand-over's target, if any.
    pub(crate) fn handover_target(&self) -> Option<usize> {
        usize::try_from(self.head(TARGET)).ok()?.checked_sub(1)
    }

    /// Leader: sets (or clears) the hand-over target.
    pub(crate) fn set_handover_target(&mut self, index: Option<usize>) {
        let word = index.map_or(0, |i| u64::try_from(i).unwrap_or(u64::MAX - 1) + 1);
        self.set_head(TARGET, word);
    }

    /// Leader: with a transfer pending, the instant it is abandoned; otherwise the
    /// instant before which no priority hand-over starts.
    pub(crate) fn handover_until(&self) -> Instant {
        Instant::from_nanos(self.head(UNTIL))
    }

    /// Leader: a heartbeat round starts; the next eligible answer picks the
    /// candidate successor.
    pub(crate) fn new_heartbeat_round(&mut self) {
        let word = self.head(SUCCESSOR) & !ANSWERED;
        self.set_head(SUCCESSOR, word);
    }

    /// Leader: voter number `index` answered a heartbeat, able to take over or
    /// not. The first eligible answer of a round becomes the candidate successor
    /// (the most reachable voter); a successor that answers ineligible is dropped.
    pub(crate) fn note_successor(&mut self, index: usize, eligible: bool) {
        let word = self.head(SUCCESSOR);
        let Ok(index) = u64::try_from(index) else {
            return;
        };
        if eligible && word & ANSWERED == 0 {
            self.set_head(SUCCESSOR, (index + 1) | ANSWERED);
        } else if !eligible && word & !ANSWERED == index + 1 {
            self.set_head(SUCCESSOR, word & ANSWERED);
        }
    }

    /// Leader: whether an answer from voter number `index` cannot change the
    /// candidate successor: the round already has its first eligible answer, and
    /// it was not `index`'s (see [`Tally::note_successor`]).
    #[inline]
    pub(crate) fn successor_settled_for(&self, index: usize) -> bool {
        let word = self.head(SUCCESSOR);
        word & ANSWERED != 0 && u64::try_from(index).is_ok_and(|i| word & !ANSWERED != i + 1)
    }

    /// Leader: the candidate successor's voter index, if any.
    pub(crate) fn successor(&self) -> Option<usize> {
        usize::try_from(self.head(SUCCESSOR) & !ANSWERED)
            .ok()?
            .checked_sub(1)
    }

    /// Leader: sets [`Tally::handover_until`].
    pub(crate) fn set_handover_until(&mut self, until: Instant) {
        self.set_head(UNTIL, until.as_nanos());
    }

    /// Leader `me`: the latest instant at which a quorum of voters (`me` included,
    /// always in contact) had been heard from — the `quorum - 1`-th most recent
    /// contact among the others. `None` when fewer than that many were ever heard
    /// from; `Some(Instant::MAX)` when `me` alone is a quorum.
    pub(crate) fn quorum_contact<I: NodeId>(
        &self,
        members: &Membership<I>,
        me: I,
    ) -> Option<Instant> {
        let voters = members.voters().len();
        quorum_instant(self.slots.get(HEAD..HEAD + voters)?, members, me)
    }

    /// Leader `me`: the latest send time such that a quorum of voters (`me`
    /// included) acknowledged a heartbeat sent at or after it — the `quorum - 1`-th
    /// most recent acknowledged send time among the others. `None` when fewer than
    /// that many acknowledged any heartbeat of this leadership; `Some(Instant::MAX)`
    /// when `me` alone is a quorum.
    pub(crate) fn quorum_acknowledged<I: NodeId>(
        &self,
        members: &Membership<I>,
        me: I,
    ) -> Option<Instant> {
        let voters = members.voters().len();
        quorum_instant(
            self.slots.get(HEAD + voters..HEAD + 2 * voters)?,
            members,
            me,
        )
    }

    /// Leader: carries both tables over to a changed voter set. Voters that remain
    /// keep their last contact and acknowledged send time, removed voters' are
    /// dropped, and a voter new to the set counts as heard from at `now`, the moment
    /// it was added (as in etcd: otherwise adding a voter to a leader that has not
    /// yet heard from it would depose the leader at once), but as having
    /// acknowledged nothing. A pending hand-over's target keeps its place if it is
    /// still a voter (the caller reports it otherwise); the candidate successor is
    /// chosen afresh.
    pub(crate) fn remap<I: NodeId>(
        &mut self,
        old: &Membership<I>,
        new: &Membership<I>,
        now: Instant,
    ) {
        let (n_old, n_new) = (old.voters().len(), new.voters().len());
        let target = self
            .handover_target()
            .and_then(|i| old.voters().get(i))
            .and_then(|id| new.voter_index(*id));
        let mut slots = alloc::vec![UNKNOWN; HEAD + 2 * n_new];
        slots[UNTIL] = self.head(UNTIL);
        let (mut yes, mut no) = (0, 0);
        for (i, id) in new.voters().iter().enumerate() {
            let kept = old.voter_index(*id);
            let contact = kept
                .and_then(|j| self.slots.get(HEAD + j).copied())
                .unwrap_or(at(now));
            match contact {
                UNKNOWN => {}
                REFUSED => no += 1,
                _ => yes += 1,
            }
            slots[HEAD + i] = contact;
            slots[HEAD + n_new + i] = kept
                .and_then(|j| self.slots.get(HEAD + n_old + j).copied())
                .unwrap_or(UNKNOWN);
        }
        self.slots = slots.into_boxed_slice();
        self.set_counts(yes, no);
        self.set_handover_target(target);
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.len() * core::mem::size_of::<u64>()
    }
}

/// Up to this many voters `quorum_instant` selects on a stack copy of the slots.
const SMALL: usize = 128;

/// The latest instant `x` such that a quorum of `members`' voters (`me` included,
/// always counted) have a slot at or after `x`: the `quorum - 1`-th largest slot
/// among the others. `None` when fewer than that many slots are known;
/// `Some(Instant::MAX)` when `me` alone is a quorum.
///
/// Allocation-free: up to `SMALL` voters a selection on a stack copy of the slots,
/// beyond that the k-th largest slot found bit by bit (64 passes over the voters).
/// It runs when the CheckQuorum deadline is due, on membership changes, and when the
/// application asks for the lease; never per message.
fn quorum_instant<I: NodeId>(slots: &[u64], members: &Membership<I>, me: I) -> Option<Instant> {
    let quorum = members.quorum();
    let mine = members.voter_index(me);
    let others = quorum - usize::from(mine.is_some());
    if others == 0 {
        return Some(Instant::MAX);
    }
    if slots.len() <= SMALL {
        kth_select(slots, mine, others)
    } else {
        kth_bitwise(slots, mine, others)
    }
}

/// The `others`-th largest known slot other than `mine`, selected on a stack copy.
/// Needs `slots.len() <= SMALL`.
fn kth_select(slots: &[u64], mine: Option<usize>, others: usize) -> Option<Instant> {
    let mut heard = [0u64; SMALL];
    let mut n = 0;
    for (i, &s) in slots.iter().enumerate() {
        if Some(i) != mine && s != REFUSED && s != UNKNOWN {
            *heard.get_mut(n)? = s;
            n += 1;
        }
    }
    if n < others {
        return None;
    }
    let (_, kth, _) = heard
        .get_mut(..n)?
        .select_nth_unstable_by(others - 1, |a, b| b.cmp(a));
    Some(Instant::from_nanos(*kth - 1))
}

/// The same as `kth_select`, for any number of slots: the largest `x` with at least
/// `others` known slots at or after `x`, found bit by bit.
fn kth_bitwise(slots: &[u64], mine: Option<usize>, others: usize) -> Option<Instant> {
    let count_at_least = |x: u64| {
        slots
            .iter()
            .enumerate()
            .filter(|&(i, &s)| Some(i) != mine && s != REFUSED && s >= x)
            .count()
    };
    if count_at_least(1) < others {
        return None;
    }
    let mut x = 0u64;
    for bit in (0..64).rev() {
        let candidate = x | (1u64 << bit);
        if count_at_least(candidate) >= others {
            x = candidate;
        }
    }
    Some(Instant::from_nanos(x - 1))
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use rand_chacha::ChaCha8Rng;
    use rand_core::{Rng, SeedableRng};

    use super::{REFUSED, SMALL, UNKNOWN, kth_bitwise, kth_select};

    /// The stack selection finds the same instant as the bitwise search, for every
    /// size it handles, with unknown, refused, repeated and extreme slot values.
    #[test]
    fn selection_matches_the_bitwise_search() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut found = 0;
        for _ in 0..5_000 {
            let len = 1 + (rng.next_u32() as usize % SMALL);
            let slots: Vec<u64> = (0..len)
                .map(|_| match rng.next_u32() % 8 {
                    0 => UNKNOWN,
                    1 => REFUSED,
                    2 => REFUSED - 1,
                    3 => 1,
                    4 => 1 + u64::from(rng.next_u32() % 4), // repeats
                    _ => rng.next_u64() % (REFUSED - 1) + 1,
                })
                .collect();
            let mine = (rng.next_u32() % 2 == 0).then(|| rng.next_u32() as usize % len);
            let others = 1 + rng.next_u32() as usize % len;
            let select = kth_select(&slots, mine, others);
            assert_eq!(
                select,
                kth_bitwise(&slots, mine, others),
                "{slots:?} {mine:?} {others}"
            );
            found += usize::from(select.is_some());
        }
        assert!(found > 1_000, "{found}"); // both outcomes are exercised
    }
}
