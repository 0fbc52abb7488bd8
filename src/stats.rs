//! Counters and the status snapshot.

use crate::{Instant, Role, Term};

/// Counters of what a node has seen and done since it was created.
///
/// Everything dropped is counted here instead of being an error: network input
/// is untrusted, and a stale, duplicated or misdirected message is normal.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Calls to `step`/`step_into`.
    pub steps: u64,
    /// Steps whose `now` was earlier than a previous one (treated as the latest).
    pub clamped_now: u64,
    /// Messages from a node that is not a member (or from this node itself).
    pub dropped_unknown_sender: u64,
    /// Messages from an older term (answered with our term where that helps the
    /// sender catch up).
    pub dropped_stale: u64,
    /// Replies that do not fit this node's role or round: late vote replies after
    /// the election ended, heartbeat replies to a non-leader, heartbeats from a
    /// second leader of our own term, votes from non-voters.
    pub dropped_unexpected: u64,
    /// Vote replies from a voter already counted in this round.
    pub dropped_duplicate: u64,
    /// Higher-term vote requests ignored because this node heard from a live
    /// leader within the minimum election timeout (leader stickiness).
    pub sticky_rejections: u64,
    /// PreVote rounds started.
    pub pre_votes_started: u64,
    /// Elections (real campaigns) started.
    pub elections_started: u64,
    /// Elections won.
    pub elections_won: u64,
    /// Votes granted to candidates (real votes, not pre-votes).
    pub votes_granted: u64,
    /// Times this node stepped down because CheckQuorum failed.
    pub check_quorum_step_downs: u64,
    /// Commands rejected with an [`Output::Rejected`](crate::Output::Rejected).
    pub commands_rejected: u64,
}

/// A snapshot of a node's state, from [`Election::status`](crate::Election::status).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct Status<I> {
    /// This node.
    pub id: I,
    /// Its role.
    pub role: Role,
    /// Its current term.
    pub term: Term,
    /// The leader it knows of in `term`.
    pub leader: Option<I>,
    /// Whom it voted for in `term`.
    pub voted_for: Option<I>,
    /// Number of voters in its membership.
    pub voters: usize,
    /// Number of learners in its membership.
    pub learners: usize,
    /// When it next needs a `Tick`.
    pub next_deadline: Option<Instant>,
}
