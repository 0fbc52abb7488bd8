//! Counters and the status snapshot.

use crate::{Instant, Role, Term};

/// Counters of what a node has seen and done since it was created.
///
/// Everything dropped is counted here instead of being an error: network input
/// is untrusted, and a stale, duplicated or misdirected message is normal.
///
/// The counters are stored in 32 bits to keep nodes small, and saturate (stop) at
/// 4,294,967,295.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Steps whose `now` was earlier than a previous one (treated as the latest).
    pub clamped_now: u64,
    /// Steps whose `now` was outside the usable clock range (so late that
    /// `now + election_timeout_max` would not fit below [`Instant::MAX`]): ignored,
    /// as if they had not happened (a command among them was rejected with
    /// [`CommandError::ClockOutOfRange`](crate::CommandError::ClockOutOfRange)).
    pub clock_out_of_range: u64,
    /// Messages from a node that is not a member (or from this node itself).
    pub dropped_unknown_sender: u64,
    /// Messages from an older term (answered with our term where that helps the
    /// sender catch up).
    pub dropped_stale: u64,
    /// Replies that do not fit this node's role or round: late vote replies after
    /// the election ended, heartbeat replies to a non-leader, heartbeats from a
    /// second leader of our own term. (Vote replies from learners are ignored without
    /// being counted here: vote requests are broadcast to learners too.)
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
    /// Leader: the voter a pending leadership transfer hands over to (pause leader
    /// work while this is `Some`). `None` on other roles.
    pub transfer: Option<I>,
}

/// A saturating 32-bit event counter: half the size of a `u64`, which matters when a
/// process holds thousands of nodes. At 4,294,967,295 it stops counting.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub(crate) struct Counter(u32);

impl Counter {
    pub(crate) fn bump(&mut self) {
        self.0 = self.0.saturating_add(1);
    }
}

/// The stored form of [`Stats`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub(crate) struct Counters {
    pub(crate) clamped_now: Counter,
    pub(crate) clock_out_of_range: Counter,
    pub(crate) dropped_unknown_sender: Counter,
    pub(crate) dropped_stale: Counter,
    pub(crate) dropped_unexpected: Counter,
    pub(crate) dropped_duplicate: Counter,
    pub(crate) sticky_rejections: Counter,
    pub(crate) pre_votes_started: Counter,
    pub(crate) elections_started: Counter,
    pub(crate) elections_won: Counter,
    pub(crate) votes_granted: Counter,
    pub(crate) check_quorum_step_downs: Counter,
    pub(crate) commands_rejected: Counter,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        let c = |c: Counter| u64::from(c.0);
        Stats {
            clamped_now: c(self.clamped_now),
            clock_out_of_range: c(self.clock_out_of_range),
            dropped_unknown_sender: c(self.dropped_unknown_sender),
            dropped_stale: c(self.dropped_stale),
            dropped_unexpected: c(self.dropped_unexpected),
            dropped_duplicate: c(self.dropped_duplicate),
            sticky_rejections: c(self.sticky_rejections),
            pre_votes_started: c(self.pre_votes_started),
            elections_started: c(self.elections_started),
            elections_won: c(self.elections_won),
            votes_granted: c(self.votes_granted),
            check_quorum_step_downs: c(self.check_quorum_step_downs),
            commands_rejected: c(self.commands_rejected),
        }
    }
}
