//! Messages exchanged between nodes.

use crate::{Freshness, Instant, Term};

/// A message between two nodes. The sender is not inside the message: the
/// transport knows it and passes it as `from` in
/// [`Input::Receive`](crate::Input::Receive).
///
/// Messages are small `Copy` values with no identifiers inside, so any encoding
/// works; the caller serializes them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Message {
    /// Ask for a vote (or, with `pre_vote`, a pre-vote) in `term`.
    ///
    /// A pre-vote request carries the term the candidate *would* campaign in
    /// (its current term + 1) without having moved to it.
    VoteRequest {
        /// The term of the election.
        term: Term,
        /// True for a PreVote round (thesis §9.6): nobody changes state for it.
        pre_vote: bool,
        /// The transfer mark: the candidate campaigns because the leader of the
        /// previous term told it to ([`Message::TimeoutNow`]). A voter that is
        /// inside its stickiness window honours the mark — votes as if it had not
        /// heard from the leader — only for a real (not pre-) vote request whose
        /// term is exactly its own term + 1, and only when the leader of its own term
        /// has announced a hand-over to it (a heartbeat with `hand_over`), or when
        /// the voter is that leader and the candidate is its transfer target. A
        /// forged or stale mark therefore cannot depose a leader that is not
        /// handing over.
        transfer: bool,
        /// The candidate's freshness; voters fresher than this refuse.
        freshness: Freshness,
    },
    /// The answer to a [`Message::VoteRequest`].
    ///
    /// A grant carries the request's term (etcd #8243). A refusal carries the
    /// higher of the responder's own term and the requester's (the request's term,
    /// less one for a pre-vote): a requester that is behind learns the newer term
    /// and adopts it; one that is not counts the refusal in its round.
    VoteResponse {
        /// A grant: the request's term. A refusal: the higher of the responder's
        /// term and the requester's.
        term: Term,
        /// Echoes the request's `pre_vote`.
        pre_vote: bool,
        /// Whether the vote was granted.
        granted: bool,
    },
    /// Leader traffic: "I lead `term`". Resets the receiver's election timer.
    Heartbeat {
        /// The leader's term.
        term: Term,
        /// When the leader sent it, in the leader's own clock. Opaque to the
        /// receiver, which echoes it in its [`Message::HeartbeatResponse`]: the
        /// leader's [lease](crate::Election::lease) starts from the send time of the
        /// heartbeats a quorum acknowledged (a reply proves the follower heard the
        /// leader no earlier than this instant).
        sent: Instant,
        /// The leader is handing over (a leadership transfer is pending): a
        /// transfer-marked vote request for `term + 1` may bypass the receiver's
        /// stickiness. A heartbeat without it withdraws the announcement.
        hand_over: bool,
    },
    /// The answer to a heartbeat, carrying the responder's term. The leader counts
    /// these for CheckQuorum; a stale leader learns the newer term from them. It
    /// also tells the leader whether the responder could take over (priority,
    /// freshness, witness) for hand-overs.
    HeartbeatResponse {
        /// The responder's term.
        term: Term,
        /// The `sent` of the heartbeat this answers, echoed unchanged.
        sent: Instant,
        /// The responder's freshness.
        freshness: Freshness,
        /// The responder's [`Config::priority`](crate::Config::priority).
        priority: u8,
        /// The responder is a witness ([`Config::witness`](crate::Config::witness)):
        /// it never campaigns, so it is never handed leadership.
        witness: bool,
    },
    /// Leadership transfer: the leader of `term` tells the receiver to campaign at
    /// once (etcd's `MsgTimeoutNow`): skip PreVote and mark its vote requests as a
    /// transfer. Obeyed only from the leader of the receiver's own term — the
    /// leader it follows or, once it forgot that leader (e.g. because its removal
    /// was applied), the node it voted for or followed in that term; also from a
    /// sender that is no longer a member, so a removed leader can hand over. Ignored
    /// (and counted) otherwise, and by witnesses and nodes that cannot campaign.
    TimeoutNow {
        /// The sender's (the leader's) term.
        term: Term,
    },
}

impl Message {
    /// The term the message carries.
    pub const fn term(&self) -> Term {
        match *self {
            Message::VoteRequest { term, .. }
            | Message::VoteResponse { term, .. }
            | Message::Heartbeat { term, .. }
            | Message::HeartbeatResponse { term, .. }
            | Message::TimeoutNow { term } => term,
        }
    }
}
