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
    /// [`CommandError::Witness`](crate::CommandError::Witness),
    /// [`CommandError::NotEnoughVoters`](crate::CommandError::NotEnoughVoters), or,
    /// on a follower at term `u64::MAX`,
    /// [`CommandError::TermExhausted`](crate::CommandError::TermExhausted).
    Campaign,
    /// Leader only: stop leading and become a follower in the same term, handing
    /// over to the best reachable voter when there is one: the first voter to answer
    /// the leader's latest heartbeat round (the most reachable one) among those that
    /// reported being at least as fresh as this leader and not a witness, if it was
    /// heard from within `election_timeout_min`, is told to campaign at
    /// once (as in [`Input::TransferLeadership`], reported with
    /// [`Output::TransferStarted`](crate::Output::TransferStarted)), so the cluster
    /// does not wait an election timeout for a new leader. With no such voter the
    /// next election comes when a follower's timer fires. Another node (possibly
    /// this one again) may win. Rejected with
    /// [`CommandError::NotLeader`](crate::CommandError::NotLeader) elsewhere.
    StepDown,
    /// Leader only: hand leadership to voter `to` (Raft thesis §3.10, etcd's
    /// `MsgTimeoutNow`). The leader tells `to` to campaign at once
    /// ([`Message::TimeoutNow`]) and tells every member that it is handing over
    /// (its heartbeats carry `hand_over` while the transfer is pending); `to` skips
    /// PreVote and its vote requests carry the transfer mark, which lets voters
    /// that heard from this leader vote without waiting out stickiness.
    ///
    /// While the transfer is pending, [`Status::transfer`](crate::Status::transfer)
    /// names the target and the application should pause leader work (the leader
    /// has announced it is leaving); it starts with
    /// [`Output::TransferStarted`](crate::Output::TransferStarted). It ends when
    /// this node stops leading ([`Output::RoleChanged`](crate::Output::RoleChanged):
    /// normally because `to` won and its term reached this node), or with
    /// [`Output::TransferFailed`](crate::Output::TransferFailed) — after one
    /// election timeout (`election_timeout_max`) without a new leader, when a second
    /// transfer replaces it, when `to` is removed from the voter set, or when `to`
    /// answers that it is a witness — after which this node leads normally again.
    /// Make sure `to` is at least as fresh as the voters it needs, or they refuse it.
    ///
    /// Rejected with [`CommandError::NotLeader`](crate::CommandError::NotLeader) on
    /// a non-leader, [`CommandError::TransferToSelf`](crate::CommandError::TransferToSelf),
    /// or [`CommandError::TransferTargetNotAVoter`](crate::CommandError::TransferTargetNotAVoter).
    TransferLeadership(I),
    /// Follower: forget the leader and the stickiness window, so this node grants
    /// pre-votes and votes (for a later term) at once instead of waiting
    /// `election_timeout_min` since it last heard the leader (etcd's
    /// `ForgetLeader`): for hosts with an external signal that the leader is gone
    /// (cockroachdb#107060). Its term, vote and election timer are unchanged. A
    /// no-op on a pre-candidate or candidate (they have no leader); rejected with
    /// [`CommandError::IsLeader`](crate::CommandError::IsLeader) on the leader.
    ///
    /// It voids the leader's stickiness guarantee for this node: a leader that
    /// relies on followers refusing votes for `election_timeout_min` after its
    /// heartbeat (a lease) is no longer safe once any follower has been told to
    /// forget it. Only use it when the leader is known to be gone.
    ForgetLeader,
    /// Make a node a voter (promoting it if it is a learner).
    AddVoter(I),
    /// Make a node a learner (demoting it if it is a voter).
    AddLearner(I),
    /// Remove a voter or learner. Removing this node itself stops it from
    /// campaigning; a leader that is no longer a voter hands over to the best
    /// reachable voter of the new voter set (as [`Input::StepDown`] does) and steps
    /// down (openraft#2091: otherwise the cluster waits an election timeout).
    RemoveNode(I),
    /// Replace the whole membership. See [`Membership`] for the one-voter-at-a-time
    /// rule that keeps elections safe.
    SetMembership(Membership<I>),
    /// Set this node's freshness (e.g. its last log term and index). Votes are
    /// granted only to candidates at least this fresh.
    SetFreshness(Freshness),
}
