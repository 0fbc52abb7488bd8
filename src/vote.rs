//! Vote and pre-vote requests and replies.

use alloc::vec::Vec;

use crate::quorum::Recorded;
use crate::{Election, Freshness, Instant, Message, NodeId, Output, Role, Term};

impl<I: NodeId> Election<I> {
    /// Answers a vote or pre-vote request from `from`.
    pub(crate) fn on_vote_request(
        &mut self,
        from: I,
        term: Term,
        pre_vote: bool,
        freshness: Freshness,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        if term < self.term {
            // Tell a stuck candidate our term so it catches up.
            self.stats.dropped_stale.bump();
            self.reply_vote(from, self.term, pre_vote, false, out);
            return;
        }
        let sticky = self.in_lease(now);
        if sticky && (term > self.term || pre_vote) {
            // Leader stickiness (thesis §4.2.3): a live leader exists, so neither grant
            // nor let the request move our term.
            self.stats.sticky_rejections.bump();
            self.reply_vote(from, term, pre_vote, false, out);
            return;
        }
        let fresh_enough = freshness >= self.freshness;
        if pre_vote {
            // A pre-vote changes nothing here: not term, vote, leader or timers.
            let free = term > self.term
                || (self.leader.is_none() && self.voted_for.is_none_or(|v| v == from));
            self.reply_vote(from, term, true, free && fresh_enough, out);
            return;
        }
        if term > self.term {
            self.become_follower(term, now);
        }
        // Candidates and leaders voted for themselves, so only a follower (or a
        // pre-candidate, which has not voted in this term) can be free.
        let free =
            self.voted_for == Some(from) || (self.voted_for.is_none() && self.leader.is_none());
        let granted = free && fresh_enough;
        if granted {
            // `finish` persists this vote before the reply below leaves.
            self.voted_for = Some(from);
            self.stats.votes_granted.bump();
            self.arm_election_timer(now, false);
        }
        self.reply_vote(from, term, false, granted, out);
    }

    fn reply_vote(
        &self,
        to: I,
        term: Term,
        pre_vote: bool,
        granted: bool,
        out: &mut Vec<Output<I>>,
    ) {
        self.send(
            to,
            Message::VoteResponse {
                term,
                pre_vote,
                granted,
            },
            out,
        );
    }

    /// Counts a vote or pre-vote reply.
    pub(crate) fn on_vote_response(
        &mut self,
        from: I,
        term: Term,
        pre_vote: bool,
        granted: bool,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        // Pre-vote replies echo the term asked about (ours + 1) without anyone having
        // moved to it, so for them only a term beyond that says the responder is ahead.
        let (asked, role) = if pre_vote {
            (self.term.next(), Role::PreCandidate)
        } else {
            (self.term, Role::Candidate)
        };
        if term > asked {
            self.become_follower(term, now);
        } else if term < asked {
            self.stats.dropped_stale.bump();
        } else if self.role != role {
            self.stats.dropped_unexpected.bump();
        } else if self.count(from, granted) {
            self.settle_round(now, out);
        }
    }

    /// Records one voter's answer; false (and counted in stats) if it must not count.
    fn count(&mut self, from: I, granted: bool) -> bool {
        match self.tally.record(&self.membership, from, granted) {
            Recorded::Counted => true,
            // Learners get vote requests too (a broadcast goes to every member) and may
            // answer; their answers never count, and are not an anomaly either.
            Recorded::NotAVoter => false,
            Recorded::Duplicate => {
                self.stats.dropped_duplicate.bump();
                false
            }
        }
    }

    /// Dispatches a message after checking the sender is a member.
    pub(crate) fn on_message(
        &mut self,
        from: I,
        message: Message,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        if from == self.id || !self.membership.contains(from) {
            self.stats.dropped_unknown_sender.bump();
            return;
        }
        match message {
            Message::VoteRequest {
                term,
                pre_vote,
                freshness,
            } => {
                self.on_vote_request(from, term, pre_vote, freshness, now, out);
            }
            Message::VoteResponse {
                term,
                pre_vote,
                granted,
            } => self.on_vote_response(from, term, pre_vote, granted, now, out),
            Message::Heartbeat { term } => self.on_heartbeat(from, term, now, out),
            Message::HeartbeatResponse { term } => self.on_heartbeat_response(from, term, now),
        }
    }
}
