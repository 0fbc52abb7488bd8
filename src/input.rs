//! Everything that can happen to a node.

use crate::{Freshness, Membership, Message};

/// One event for [`Election::step`](crate::Election::step): time passing, a message
/// arriving, or a command from the application.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Input<I> {
    /// Time has passed. Send it once `now >= next_deadline()`; sending it earlier (a
    /// spurious wake-up) is a harmless no-op.
    Tick,
    /// A message arrived from node `from`. Messages from non-members, stale
    /// messages and impossible replies are dropped and counted in
    /// [`Stats`](crate::Stats); they never cause an error.
    Receive {
        /// The sender, as the transport authenticated it.
        from: I,
        /// The message.
        message: Message,
    },
    /// Start an election now instead of waiting for the election timeout (with a
    /// PreVote round first when `pre_vote` is on). A no-op on the leader and on a
    /// node already campaigning. Rejected with
    /// [`CommandError::NotAVoter`](crate::CommandError::NotAVoter),
    /// [`CommandError::NotEnoughVoters`](crate::CommandError::NotEnoughVoters), or,
    /// on a follower at term `u64::MAX`,
    /// [`CommandError::TermExhausted`](crate::CommandError::TermExhausted).
    Campaign,
    /// Leader only: stop leading and become a follower in the same term. Another
    /// node (possibly this one again) wins the next election. Rejected with
    /// [`CommandError::NotLeader`](crate::CommandError::NotLeader) elsewhere.
    StepDown,
    /// Make a node a voter (promoting it if it is a learner).
    AddVoter(I),
    /// Make a node a learner (demoting it if it is a voter).
    AddLearner(I),
    /// Remove a voter or learner. Removing this node itself stops it from
    /// campaigning; a removed leader steps down.
    RemoveNode(I),
    /// Replace the whole membership. See [`Membership`] for the one-voter-at-a-time
    /// rule that keeps elections safe.
    SetMembership(Membership<I>),
    /// Set this node's freshness (e.g. its last log term and index). Votes are
    /// granted only to candidates at least this fresh.
    SetFreshness(Freshness),
}
