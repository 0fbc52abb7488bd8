//! Leadership transfer and hand-overs: `TransferLeadership`, `TimeoutNow`, the
//! transfer mark, priority hand-overs, and the hand-over of `StepDown` and removal.
//!
//! The transfer mark rule (why a forged or stale mark cannot depose a live leader):
//! a voter inside its stickiness window votes for a transfer-marked request only if
//! it is a real vote request for exactly the voter's term + 1 and the leader of the
//! voter's term has announced a hand-over — it sent a heartbeat with `hand_over`
//! (followers), or it is this node and the candidate is its transfer target. A mark
//! from an older transfer carries a term at or below the voter's and is handled as
//! any vote request; a forged mark while the leader is not handing over meets
//! ordinary stickiness.

use alloc::vec::Vec;

use crate::timer::Timer;
use crate::{Election, Freshness, Instant, Message, NodeId, Output, Role, Term, TransferFailure};

impl<I: NodeId> Election<I> {
    /// Whether a transfer-marked vote request from `from` for `term` may bypass
    /// this node's stickiness (see the module docs).
    pub(crate) fn honours_transfer_mark(&self, from: I, term: Term) -> bool {
        if self.term == Term::MAX || term != self.term.next() {
            return false;
        }
        match self.role {
            Role::Leader => self.transfer_target() == Some(from),
            _ => self.hand_over_seen,
        }
    }

    /// Leader: starts handing over to voter number `index`, replacing a pending
    /// transfer. Announces the hand-over to every member (a heartbeat with
    /// `hand_over`) and tells the target to campaign.
    pub(crate) fn start_transfer(&mut self, index: usize, now: Instant, out: &mut Vec<Output<I>>) {
        let Some(&to) = self.membership.voters().get(index) else {
            return;
        };
        if self.transfer_pending() {
            self.fail_transfer(TransferFailure::Replaced, now, false, out);
        }
        // The target's voters may now bypass stickiness, the lease's foundation: the
        // lease is given up for the rest of this term, before anything is sent.
        self.forfeit_lease();
        self.tally.set_handover_target(Some(index));
        self.tally
            .set_handover_until(now + self.config.transfer_timeout());
        out.push(Output::TransferStarted {
            to,
            term: self.term,
        });
        self.broadcast_heartbeat(now, out);
        self.send(to, Message::TimeoutNow { term: self.term }, out);
        self.arm_transfer_deadline();
    }

    /// Leader: gives up the pending transfer and leads on; no priority hand-over
    /// starts for the next hold-off period. With `announce`, a plain heartbeat goes
    /// out at once to withdraw the hand-over announcement.
    pub(crate) fn fail_transfer(
        &mut self,
        reason: TransferFailure,
        now: Instant,
        announce: bool,
        out: &mut Vec<Output<I>>,
    ) {
        let Some(to) = self.transfer_target() else {
            return;
        };
        self.tally.set_handover_target(None);
        self.tally
            .set_handover_until(now + self.config.priority_hold_off());
        self.rearm_check_quorum();
        out.push(Output::TransferFailed {
            to,
            term: self.term,
            reason,
        });
        if announce {
            self.broadcast_heartbeat(now, out);
        }
    }

    /// Leader: the CheckQuorum slot also wakes the leader when a pending transfer
    /// is due to be abandoned.
    pub(crate) fn arm_transfer_deadline(&mut self) {
        if self.transfer_pending() {
            self.timers
                .set_earliest(Timer::CheckQuorum, self.tally.handover_until());
        }
    }

    /// Leader, on a tick: abandons a transfer that has not completed in time.
    pub(crate) fn check_transfer(&mut self, now: Instant, out: &mut Vec<Output<I>>) {
        if self.transfer_pending() && now >= self.tally.handover_until() {
            self.fail_transfer(TransferFailure::TimedOut, now, true, out);
        }
    }

    /// Broadcasts a heartbeat (announcing a pending hand-over) and restarts the
    /// heartbeat interval.
    pub(crate) fn broadcast_heartbeat(&mut self, now: Instant, out: &mut Vec<Output<I>>) {
        self.tally.new_heartbeat_round();
        out.push(Output::Broadcast {
            message: Message::Heartbeat {
                term: self.term,
                sent: now,
                hand_over: self.transfer_pending(),
            },
        });
        self.timers.set(
            Timer::Heartbeat,
            now.add_nanos(self.config.heartbeat_nanos()),
        );
    }

    /// Leader: what a heartbeat reply from voter `from` says about hand-overs. A
    /// target that turns out to be a witness ends the transfer; the first voter to
    /// answer a heartbeat round that could take over (not a witness, at least as
    /// fresh) becomes the candidate successor for `StepDown` and removal; one with a
    /// higher priority is handed leadership once the hold-off has passed.
    ///
    /// `index` is the voter's index in the voter list (the caller looked it up).
    #[inline]
    pub(crate) fn note_standing(
        &mut self,
        index: usize,
        (freshness, priority, witness): (Freshness, u8, bool),
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        // Most replies of a round change nothing: not a witness (which could end a
        // transfer to it), no higher priority (which could start one), and the
        // round's successor already chosen by an earlier answer.
        if !witness && priority <= self.switches.priority && self.tally.successor_settled_for(index)
        {
            return;
        }
        let pending = self.tally.handover_target();
        if pending == Some(index) && witness {
            self.fail_transfer(TransferFailure::TargetCannotLead, now, true, out);
            return;
        }
        let eligible = !witness && freshness >= self.freshness;
        self.tally.note_successor(index, eligible);
        if eligible
            && pending.is_none()
            && priority > self.switches.priority
            && now >= self.tally.handover_until()
        {
            self.start_transfer(index, now, out);
        }
    }

    /// Leader about to stop leading (`StepDown`, or no longer a voter under
    /// `members`): tells the candidate successor — the first eligible voter to
    /// answer the latest heartbeat round, if heard from within
    /// `election_timeout_min` and a voter of `members` — to campaign now, and
    /// announces the hand-over.
    pub(crate) fn hand_over_before_leaving(
        &mut self,
        old: &crate::Membership<I>,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        let Some(to) = self
            .tally
            .successor()
            .and_then(|i| old.voters().get(i).copied())
        else {
            return;
        };
        let recent = self
            .tally
            .last_contact(old, to)
            .is_some_and(|t| now < t.add_nanos(self.config.election_min_nanos()));
        if !recent || to == self.id || !self.membership.is_voter(to) {
            return;
        }
        self.forfeit_lease();
        out.push(Output::TransferStarted {
            to,
            term: self.term,
        });
        out.push(Output::Broadcast {
            message: Message::Heartbeat {
                term: self.term,
                sent: now,
                hand_over: true,
            },
        });
        self.send(to, Message::TimeoutNow { term: self.term }, out);
    }

    /// `TimeoutNow` from `from`: campaign at once, without PreVote, with the
    /// transfer mark — if `from` leads this node's term and this node may campaign
    /// and is not a witness.
    ///
    /// `from` leads our term if it is the leader we follow in it, or — when we no
    /// longer know a leader (its removal made us forget it) — the node we voted for
    /// or followed in this term (following is recorded as the vote). Anything else
    /// is dropped: an older term is stale; a newer term, or a node that is not our
    /// leader, could be a forgery, and a campaign without PreVote could disrupt a
    /// live leader.
    pub(crate) fn on_timeout_now(
        &mut self,
        from: I,
        term: Term,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        if term < self.term {
            self.stats.dropped_stale.bump();
            return;
        }
        let leads_our_term = term == self.term
            && self.role != Role::Leader
            && match self.leader {
                Some(leader) => leader == from,
                None => self.voted_for == Some(from),
            };
        if !leads_our_term || self.switches.witness() || !self.can_campaign() {
            self.stats.dropped_unexpected.bump();
            return;
        }
        self.become_candidate(now, true, out);
    }
}
