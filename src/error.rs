//! Typed errors: bad configuration, bad membership, commands that cannot be honoured.

use core::time::Duration;

use thiserror::Error;

use crate::{Instant, NodeId};

/// A [`Config`](crate::Config) (or the voter count given to
/// [`Election::new`](crate::Election::new)) that makes no sense.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `election_timeout_min` is zero.
    #[error("the minimum election timeout is zero; it must be a positive duration")]
    ZeroElectionTimeout,
    /// The election-timeout range `[min, max)` is empty or inverted.
    #[error(
        "the election timeout range [{min:?}, {max:?}) is empty: the maximum must be greater than the minimum"
    )]
    EmptyElectionTimeoutRange {
        /// The configured minimum.
        min: Duration,
        /// The configured maximum.
        max: Duration,
    },
    /// `election_timeout_max` does not fit in 64-bit nanoseconds.
    #[error("the maximum election timeout {max:?} is too long (it must fit in 584 years)")]
    ElectionTimeoutTooLong {
        /// The configured maximum.
        max: Duration,
    },
    /// `heartbeat_interval` is zero.
    #[error("the heartbeat interval is zero; it must be a positive duration")]
    ZeroHeartbeatInterval,
    /// The heartbeat interval is not below the minimum election timeout, so
    /// followers would time out between heartbeats.
    #[error(
        "the heartbeat interval {heartbeat:?} must be below the minimum election timeout {election_timeout_min:?} (a few times below is usual), or followers time out between heartbeats"
    )]
    HeartbeatNotBelowElectionTimeout {
        /// The configured heartbeat interval.
        heartbeat: Duration,
        /// The configured minimum election timeout.
        election_timeout_min: Duration,
    },
    /// `min_voters` is zero.
    #[error("min_voters is zero; it must be at least 1")]
    ZeroMinVoters,
    /// `max_voters` is zero.
    #[error("max_voters is zero; it must be at least 1")]
    ZeroMaxVoters,
    /// `min_voters` exceeds `max_voters`, so no election could ever happen.
    #[error(
        "min_voters ({min_voters}) is greater than max_voters ({max_voters}), so no election could ever start"
    )]
    MinVotersAboveMax {
        /// The configured minimum.
        min_voters: usize,
        /// The configured maximum.
        max_voters: usize,
    },
    /// [`Election::new`](crate::Election::new) was given a `now` outside the usable
    /// clock range (see [`Instant`](crate::Instant)): `now + election_timeout_max`
    /// must lie below [`Instant::MAX`](crate::Instant::MAX).
    #[error(
        "the clock reading {now:?} is outside the usable range: now + election_timeout_max must lie below Instant::MAX"
    )]
    ClockOutOfRange {
        /// The `now` given.
        now: Instant,
    },
    /// The initial membership has more voters than `max_voters`.
    #[error("the membership has {voters} voters but max_voters is {max_voters}")]
    TooManyVoters {
        /// Voters in the membership given.
        voters: usize,
        /// The configured maximum.
        max_voters: usize,
    },
    /// `max_clock_drift` is above [`Config::MAX_CLOCK_DRIFT_LIMIT`](crate::Config::MAX_CLOCK_DRIFT_LIMIT)
    /// parts per million: a clock that far off is broken, not drifting.
    #[error(
        "max_clock_drift is {ppm} ppm; at most {limit} ppm (5 %) is accepted: a clock that far off is broken, and no lease could be trusted"
    )]
    ClockDriftTooLarge {
        /// The configured bound, in parts per million.
        ppm: u32,
        /// The largest accepted bound.
        limit: u32,
    },
}

/// A membership that cannot be built.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[non_exhaustive]
pub enum MembershipError<I: NodeId> {
    /// A node is listed twice.
    #[error("node {0:?} is listed more than once")]
    Duplicate(I),
    /// A node is listed both as a voter and as a learner.
    #[error("node {0:?} is listed both as a voter and as a learner")]
    VoterAndLearner(I),
}

/// A command ([`Input`](crate::Input)) that could not be honoured. Returned as
/// [`Output::Rejected`](crate::Output::Rejected); the node's state is unchanged.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[non_exhaustive]
pub enum CommandError<I: NodeId> {
    /// `StepDown` or `TransferLeadership` on a node that is not the leader.
    #[error("this node is not the leader, so it cannot step down or transfer leadership")]
    NotLeader,
    /// `Campaign` on a node that is not a voter (a learner, or not a member).
    #[error("this node is not a voter, so it cannot campaign")]
    NotAVoter,
    /// `Campaign` on a witness (a non-leading voter, [`Config::witness`](crate::Config::witness)).
    #[error("this node is a witness (a voter that never leads), so it cannot campaign")]
    Witness,
    /// `TransferLeadership` to a node that is not a voter in this leader's membership.
    #[error("cannot transfer leadership to {0:?}: it is not a voter")]
    TransferTargetNotAVoter(I),
    /// `TransferLeadership` to the leader itself.
    #[error("cannot transfer leadership to this node itself: it already leads")]
    TransferToSelf,
    /// `ForgetLeader` on the leader: there is no other leader to forget (use
    /// `StepDown` or `TransferLeadership` to stop leading).
    #[error(
        "this node is the leader; ForgetLeader is for followers (use StepDown or TransferLeadership to stop leading)"
    )]
    IsLeader,
    /// `Campaign` on a follower inside its stickiness window: it heard from a leader
    /// less than `election_timeout_min` ago (in its own clock), or it (re)started
    /// less than that ago (the restart quarantine). Campaigning now could elect a
    /// second leader while the current one holds its
    /// [lease](crate::Election::lease). Retry at `until`, or move leadership with a
    /// transfer on the leader.
    #[error(
        "cannot campaign before {until:?}: this node heard from a leader (or restarted) less than election_timeout_min ago, and campaigning could break that leader's lease"
    )]
    Sticky {
        /// When the window ends, in this node's clock.
        until: Instant,
    },
    /// `Campaign` on a follower at term `u64::MAX`: there is no next term to
    /// campaign in.
    #[error("cannot campaign: the term is u64::MAX and there is no next term")]
    TermExhausted,
    /// The command came with a `now` outside the usable clock range (see
    /// [`Instant`](crate::Instant)); nothing was done.
    #[error(
        "the clock reading {now:?} is outside the usable range (now + election_timeout_max must lie below Instant::MAX); the command was not carried out"
    )]
    ClockOutOfRange {
        /// The `now` given.
        now: Instant,
    },
    /// `Campaign` while the voter set is below `min_voters`.
    #[error("cannot campaign: the cluster has {voters} voters and min_voters is {min_voters}")]
    NotEnoughVoters {
        /// Voters now.
        voters: usize,
        /// The configured minimum.
        min_voters: usize,
    },
    /// Adding a voter would exceed `max_voters`.
    #[error("cannot add voter {node:?}: the cluster already has max_voters ({max_voters}) voters")]
    TooManyVoters {
        /// The node that was to be added.
        node: I,
        /// The configured maximum.
        max_voters: usize,
    },
    /// `AddVoter` for a node that is already a voter.
    #[error("node {0:?} is already a voter")]
    AlreadyVoter(I),
    /// `AddLearner` for a node that is already a learner.
    #[error("node {0:?} is already a learner")]
    AlreadyLearner(I),
    /// `RemoveNode` for a node that is not a member.
    #[error("node {0:?} is not a member")]
    NotAMember(I),
    /// `SetMembership` with a membership that has more voters than `max_voters`.
    #[error("the new membership has {voters} voters but max_voters is {max_voters}")]
    MembershipTooLarge {
        /// Voters in the proposed membership.
        voters: usize,
        /// The configured maximum.
        max_voters: usize,
    },
}
