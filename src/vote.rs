//! Vote and pre-vote requests and replies.

use alloc::vec::Vec;

use crate::quorum::Recorded;
use crate::{Election, Freshness, Instant, Message, NodeId, Output, Role, Term};

impl<I: NodeId> Election<I> {
    /// Answers a vote or pre-vote request from `from`.
    ///
    /// A grant echoes the request's term (etcd #8243: a pre-candidate must be able to
    /// tell its grants from stale ones). A refusal carries the higher of this node's
    /// term and the requester's (the request's term, less one for a pre-vote): a
    /// requester that is behind always learns the newer term, and one that is not
    /// can count the refusal in its round.
    pub(crate) fn on_vote_request(
        &mut self,
        from: I,
        term: Term,
        (pre_vote, transfer): (bool, bool),
        freshness: Freshness,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        let requester_term = if pre_vote { term.prev() } else { term };
        if term < self.term {
            // Tell a stuck candidate our term so it catches up.
            self.stats.dropped_stale.bump();
            self.refuse_vote(from, requester_term, pre_vote, out);
            return;
        }
        let sticky = self.in_lease(now)
            && !(transfer && !pre_vote && self.honours_transfer_mark(from, term));
        if sticky && (term > self.term || pre_vote) {
            // Leader stickiness (thesis §4.2.3): a live leader exists, so neither grant
            // nor let the request move our term.
            self.stats.sticky_rejections.bump();
            self.refuse_vote(from, requester_term, pre_vote, out);
            return;
        }
        let fresh_enough = freshness >= self.freshness;
        if pre_vote {
            // A pre-vote changes nothing here: not term, vote, leader or timers.
            let free = term > self.term
                || (self.leader.is_none() && self.voted_for.is_none_or(|v| v == from));
            if free && fresh_enough {
                self.reply_vote(from, term, true, true, out);
            } else {
                self.refuse_vote(from, requester_term, true, out);
            }
            return;
        }
        if term > self.term {
            self.become_follower(term, now);
        }
        // Candidates and leaders voted for themselves, so only a follower (or a
        // pre-candidate, which has not voted in this term) can be free.
        let repeat = self.voted_for == Some(from);
        let free = repeat || (self.voted_for.is_none() && self.leader.is_none());
        if free && fresh_enough && sticky && !repeat {
            // Stickiness covers every new vote, also in our own term: this node may
            // have learned the term from a message that is not a heartbeat (a late
            // vote or heartbeat reply) while the leader it acknowledged still holds a
            // lease. Repeating a vote already given changes nothing and is allowed.
            self.stats.sticky_rejections.bump();
            self.refuse_vote(from, requester_term, false, out);
        } else if free && fresh_enough {
            // `finish` persists this vote before the reply below leaves.
            self.voted_for = Some(from);
            self.stats.votes_granted.bump();
            self.arm_election_timer(now, false);
            self.reply_vote(from, term, false, true, out);
        } else {
            self.refuse_vote(from, requester_term, false, out);
        }
    }

    /// Refuses a (pre-)vote to a requester at `requester_term`, telling it the
    /// higher of that and our term.
    fn refuse_vote(&self, to: I, requester_term: Term, pre_vote: bool, out: &mut Vec<Output<I>>) {
        self.reply_vote(to, self.term.max(requester_term), pre_vote, false, out);
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
    ///
    /// A reply whose term is newer than ours (a refusal from a node that has moved
    /// on, or any vote reply beyond our term) makes this node adopt that term as a
    /// follower. Otherwise it counts in the current round if it answers it: a grant
    /// echoes the term asked about (ours, or ours + 1 for a pre-vote), a refusal
    /// carries our own term. Anything else is a reply to an older round.
    pub(crate) fn on_vote_response(
        &mut self,
        voter: Option<usize>,
        term: Term,
        pre_vote: bool,
        granted: bool,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        let (answers_round, role) = if pre_vote {
            // A pre-vote grant echoes the term asked about, ours + 1, without the
            // granter having moved to it: it says nothing about the granter's term.
            let asked = self.term.next();
            if granted && term == asked && asked > self.term {
                (true, Role::PreCandidate)
            } else if !granted && term > self.term {
                self.become_follower(term, now);
                return;
            } else {
                (!granted && term == self.term, Role::PreCandidate)
            }
        } else {
            if term > self.term {
                self.become_follower(term, now);
                return;
            }
            (term == self.term, Role::Candidate)
        };
        if !answers_round {
            self.stats.dropped_stale.bump();
        } else if self.role != role {
            self.stats.dropped_unexpected.bump();
        } else if self.count(voter, granted, now) {
            self.settle_round(now, out);
        }
    }

    /// Records one voter's answer (`voter`: the sender's index among the voters, if
    /// it is one); false (and counted in stats) if it must not count.
    fn count(&mut self, voter: Option<usize>, granted: bool, now: Instant) -> bool {
        match self.tally.record_at(voter, granted, now) {
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
        // A leader that was just removed from the membership may still hand over:
        // its `TimeoutNow` is judged by `on_timeout_now` (which obeys only the leader
        // of our term), and its hand-over announcement is taken from the node this
        // one followed (or voted for) in the current term; nothing else from a
        // non-member counts.
        // One lookup of the sender: its index among the voters also serves the tally
        // (a binary search saved per reply in large clusters); only a non-voter is
        // looked up again among the learners.
        let voter = self.membership.voter_index(from);
        if voter.is_none() && from != self.id && !self.membership.is_learner(from) {
            match message {
                Message::TimeoutNow { .. } => {}
                Message::Heartbeat {
                    term,
                    hand_over: true,
                    ..
                } if self.role == Role::Follower
                    && term == self.term
                    && self.leader.is_none()
                    && self.voted_for == Some(from) =>
                {
                    self.hand_over_seen = true;
                    return;
                }
                _ => {
                    self.stats.dropped_unknown_sender.bump();
                    return;
                }
            }
        }
        if from == self.id {
            self.stats.dropped_unknown_sender.bump();
            return;
        }
        match message {
            Message::VoteRequest {
                term,
                pre_vote,
                transfer,
                freshness,
            } => {
                self.on_vote_request(from, term, (pre_vote, transfer), freshness, now, out);
            }
            Message::VoteResponse {
                term,
                pre_vote,
                granted,
            } => self.on_vote_response(voter, term, pre_vote, granted, now, out),
            Message::Heartbeat {
                term,
                sent,
                hand_over,
            } => {
                self.on_heartbeat(from, term, sent, hand_over, now, out);
            }
            Message::HeartbeatResponse {
                term,
                sent,
                freshness,
                priority,
                witness,
            } => self.on_heartbeat_response(
                voter,
                term,
                sent,
                (freshness, priority, witness),
                now,
                out,
            ),
            Message::TimeoutNow { term } => self.on_timeout_now(from, term, now, out),
        }
    }
}
