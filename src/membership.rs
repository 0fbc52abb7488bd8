//! Who votes and who only listens.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::{MembershipError, NodeId};

/// The members of a cluster: voters, who elect the leader, and learners, who
/// follow the leader but never campaign and whose votes never count.
///
/// Both lists are kept sorted, so iteration order is deterministic. The
/// application owns membership (as in almost-raft) and changes it with
/// [`Input`](crate::Input) commands on every node.
///
/// # Safety rule for the caller
///
/// One leader per term rests on every two majorities sharing a voter. `ballot` has
/// no log to order membership changes, so the application must:
///
/// 1. **change the voter set by at most one voter at a time**, and apply each
///    change on every node (and give restarted nodes the current membership) —
///    a majority of the old set and one of the new set always share a voter;
/// 2. **let each voter change settle before the next**: once the change has been
///    applied on every node, wait until either (a) a majority of the *new* voter
///    set has made durable `HardState { term: T, voted_for: Some(L) }`, where `L`
///    has been elected leader of term `T` (read each node's
///    [`Election::hard_state`](crate::Election::hard_state) once the `Persist` that
///    wrote it is done; a node records the leader it follows as its vote when it
///    did not vote in that term, but a node that voted for a losing candidate keeps
///    that vote, so its [`Output::LeaderChanged`](crate::Output::LeaderChanged)
///    alone does not count), or (b) a leader has been elected in a term higher than
///    every term any node had when the change had been applied everywhere
///    ([`Input::StepDown`](crate::Input::StepDown) on the leader forces one).
///
/// `ballot` guarantees the rest: **a campaign is only won with grants from the
/// voter set it started under** — a change of the voter set ends a running
/// (pre-)campaign (the node becomes a follower in the same term, keeping its vote
/// and the timer of its round; a learner-only change leaves it running).
///
/// Rule 2 is what Raft gets from committing a configuration entry in the leader's
/// term; `ballot` has no log, so durable following (or an election) stands in for
/// the commit. Without it, two quick changes can let a node that missed a term win
/// that term again with a majority that shares no voter with the first winner's
/// (`tests/protocol_membership.rs` and `tests/sim_bugs.rs` show both sides).
///
/// Add a new node as a learner first and promote it once it follows the leader, so
/// the election that settles the change does not wait for it to catch up.
/// [`Input::SetMembership`](crate::Input::SetMembership) can make larger jumps; the
/// guarantee is then yours to provide (no election may run while nodes disagree).
///
/// A node that is not in its own membership (not yet added, or removed) follows
/// and votes but never campaigns; messages from nodes outside its membership are
/// dropped, so give a joining node the current membership (itself as a learner).
///
/// ```
/// use ballot::Membership;
/// let m = Membership::with_learners([3, 1, 2], [9]).unwrap();
/// assert_eq!(m.voters(), &[1, 2, 3]);
/// assert_eq!(m.quorum(), 2);
/// assert!(m.is_learner(9));
/// assert_eq!(m.peers_of(2).collect::<Vec<_>>(), vec![1, 3, 9]);
/// assert!(Membership::new([1, 1]).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Membership<I> {
    /// Voters (sorted), then learners (sorted): one allocation for both, shared
    /// by every clone (nodes of one process built from one `Membership` share one
    /// copy; a change makes a new one).
    ids: Arc<[I]>,
    /// How many of `ids` are voters.
    voters: u32,
}

impl<I> Default for Membership<I> {
    /// No members at all.
    fn default() -> Self {
        Membership {
            ids: Arc::from([]),
            voters: 0,
        }
    }
}

impl<I: NodeId> Membership<I> {
    /// A membership of voters only.
    pub fn new(voters: impl IntoIterator<Item = I>) -> Result<Self, MembershipError<I>> {
        Self::with_learners(voters, [])
    }

    /// A membership of voters and learners.
    pub fn with_learners(
        voters: impl IntoIterator<Item = I>,
        learners: impl IntoIterator<Item = I>,
    ) -> Result<Self, MembershipError<I>> {
        let voters = sorted_unique(voters)?;
        let learners = sorted_unique(learners)?;
        if let Some(both) = learners.iter().find(|l| voters.binary_search(l).is_ok()) {
            return Err(MembershipError::VoterAndLearner(*both));
        }
        Ok(Self::from_sorted(voters, learners))
    }

    fn from_sorted(mut voters: Vec<I>, learners: Vec<I>) -> Self {
        let count = u32::try_from(voters.len()).unwrap_or(u32::MAX);
        voters.truncate(count as usize);
        voters.extend(learners);
        Membership {
            ids: Arc::from(voters),
            voters: count,
        }
    }

    /// The voters, sorted.
    pub fn voters(&self) -> &[I] {
        self.ids.get(..self.voters as usize).unwrap_or_default()
    }

    /// The learners, sorted.
    pub fn learners(&self) -> &[I] {
        self.ids.get(self.voters as usize..).unwrap_or_default()
    }

    /// Whether `id` is a voter.
    pub fn is_voter(&self, id: I) -> bool {
        self.voters().binary_search(&id).is_ok()
    }

    /// Whether `id` is a learner.
    pub fn is_learner(&self, id: I) -> bool {
        self.learners().binary_search(&id).is_ok()
    }

    /// Whether `id` is a voter or a learner.
    pub fn contains(&self, id: I) -> bool {
        self.is_voter(id) || self.is_learner(id)
    }

    /// Number of voters and learners.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no members at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Votes needed to win an election: a strict majority of the voters.
    pub fn quorum(&self) -> usize {
        self.voters().len() / 2 + 1
    }

    /// Every member except `id`, voters first: the recipients of an
    /// [`Output::Broadcast`](crate::Output::Broadcast) from `id`.
    pub fn peers_of(&self, id: I) -> impl Iterator<Item = I> + '_ {
        self.ids.iter().copied().filter(move |m| *m != id)
    }

    /// The position of `id` among the voters.
    pub(crate) fn voter_index(&self, id: I) -> Option<usize> {
        self.voters().binary_search(&id).ok()
    }

    /// The voters and learners as separate vectors, for editing.
    fn split(&self) -> (Vec<I>, Vec<I>) {
        (self.voters().to_vec(), self.learners().to_vec())
    }

    /// Makes `id` a voter (promoting it if it is a learner).
    pub(crate) fn insert_voter(&mut self, id: I) {
        let (mut voters, mut learners) = self.split();
        learners.retain(|l| *l != id);
        if let Err(at) = voters.binary_search(&id) {
            voters.insert(at, id);
        }
        *self = Self::from_sorted(voters, learners);
    }

    /// Makes `id` a learner (demoting it if it is a voter).
    pub(crate) fn insert_learner(&mut self, id: I) {
        let (mut voters, mut learners) = self.split();
        voters.retain(|v| *v != id);
        if let Err(at) = learners.binary_search(&id) {
            learners.insert(at, id);
        }
        *self = Self::from_sorted(voters, learners);
    }

    /// Removes `id` from either list.
    pub(crate) fn remove(&mut self, id: I) {
        let (mut voters, mut learners) = self.split();
        voters.retain(|v| *v != id);
        learners.retain(|l| *l != id);
        *self = Self::from_sorted(voters, learners);
    }

    /// Heap bytes of the shared member list (its two reference counts included),
    /// counted in full even when other clones share it.
    pub(crate) fn heap_bytes(&self) -> usize {
        2 * core::mem::size_of::<usize>() + self.ids.len() * core::mem::size_of::<I>()
    }
}

fn sorted_unique<I: NodeId>(
    ids: impl IntoIterator<Item = I>,
) -> Result<Vec<I>, MembershipError<I>> {
    let mut v: Vec<I> = ids.into_iter().collect();
    v.sort_unstable();
    if let Some(w) = v.windows(2).find(|w| w[0] == w[1]) {
        return Err(MembershipError::Duplicate(w[0]));
    }
    Ok(v)
}
