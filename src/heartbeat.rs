//! Leader traffic: heartbeats, their replies, and CheckQuorum.

use alloc::vec::Vec;

use crate::timer::Timer;
use crate::{Election, Instant, Message, NodeId, Output, Role, Term};

impl<I: NodeId> Election<I> {
    /// A heartbeat from `from`, claiming to lead `term`.
    pub(crate) fn on_heartbeat(
        &mut self,
        from: I,
        term: Term,
        sent: Instant,
        hand_over: bool,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        if term < self.term {
            // A deposed leader: tell it our term so it steps down.
            self.stats.dropped_stale.bump();
            self.reply_heartbeat(from, self.term, sent, out);
            return;
        }
        if term == self.term {
            let conflicting = self.role == Role::Leader || self.leader.is_some_and(|l| l != from);
            if conflicting {
                // Two leaders in one term cannot happen with correct peers; ignore.
                self.stats.dropped_unexpected.bump();
                return;
            }
        }
        self.become_follower(term, now);
        self.leader = Some(from);
        if self.voted_for.is_none() {
            // Following is made as durable as voting: a node that knows the leader of a
            // term must never vote for anyone else in it, not even after a restart that
            // made it forget the leader. Without this, a follower that never voted could
            // elect a second leader of the same term (one Persist per follower per term).
            self.voted_for = Some(from);
        }
        self.leader_contact = now;
        self.hand_over_seen = hand_over;
        self.arm_election_timer(now, false);
        self.reply_heartbeat(from, term, sent, out);
    }

    /// Answers a heartbeat in `term` sent at `sent`, telling the leader whether
    /// this node could take over (for hand-overs).
    pub(crate) fn reply_heartbeat(
        &self,
        to: I,
        term: Term,
        sent: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        let message = Message::HeartbeatResponse {
            term,
            sent,
            freshness: self.freshness,
            priority: self.switches.priority,
            witness: self.switches.witness(),
        };
        self.send(to, message, out);
    }

    /// A reply to one of our heartbeats.
    /// `from` and its index among the voters (`None` for a learner).
    pub(crate) fn on_heartbeat_response(
        &mut self,
        voter: Option<usize>,
        term: Term,
        sent: Instant,
        standing: (crate::Freshness, u8, bool),
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) {
        if term > self.term {
            // Someone moved on to a newer term: we are not the leader any more.
            self.become_follower(term, now);
            return;
        }
        if term < self.term {
            self.stats.dropped_stale.bump();
            return;
        }
        if self.role != Role::Leader {
            self.stats.dropped_unexpected.bump();
            return;
        }
        // Learners answer too: only voters' contact counts towards CheckQuorum, and
        // nothing here is an error. This only moves the voter's last contact forward:
        // the armed CheckQuorum deadline stays a lower bound of the true one, and is
        // re-derived when it comes due.
        let Some(index) = voter else {
            return;
        };
        self.tally.contact_index(index, now);
        // The lease counts the send time the reply echoes. A `sent` after `now`
        // cannot be one of ours (a forged or corrupt reply): it would stretch the
        // lease, so it is ignored.
        if sent <= now {
            self.tally
                .acknowledged_index(index, self.membership.voters().len(), sent);
        } else {
            self.stats.dropped_unexpected.bump();
        }
        self.note_standing(index, standing, now, out);
    }

    /// Time for the next heartbeat (called on the leader only).
    pub(crate) fn on_heartbeat_timer(&mut self, now: Instant, out: &mut Vec<Output<I>>) {
        self.broadcast_heartbeat(now, out);
    }

    /// CheckQuorum (leader only): step down if a quorum of voters (this node
    /// included) has not been heard from within `election_timeout_min` — at the
    /// first step with `now >= E`, where `E` is the instant the quorum's contact
    /// lapses — otherwise arm the CheckQuorum deadline at `E`. Contacts only move
    /// forward between two checks, so `E` only moves later: the armed deadline is
    /// never later than the true one, and a host that ticks at
    /// `next_deadline()` steps down exactly at `E`.
    pub(crate) fn check_quorum(&mut self, now: Instant) {
        if self.role != Role::Leader || !self.switches.check_quorum() {
            self.timers.stop(Timer::CheckQuorum);
            self.arm_transfer_deadline();
            return;
        }
        let lapses = self.quorum_lapses();
        if now >= lapses {
            self.stats.check_quorum_step_downs.bump();
            self.become_follower(self.term, now);
        } else {
            self.set_check_quorum_deadline(lapses);
        }
        self.arm_transfer_deadline();
    }

    /// Re-arms the CheckQuorum slot from scratch — `E`, or nothing, then the
    /// deadline of a pending transfer — after a transfer ended: the slot may still
    /// hold the ended transfer's deadline, which `set_earliest` put there and which
    /// no tick would clear (found by the fuzz replay: a leader with CheckQuorum off
    /// whose transfer timed out kept a due timer).
    pub(crate) fn rearm_check_quorum(&mut self) {
        if self.role == Role::Leader && self.switches.check_quorum() {
            let lapses = self.quorum_lapses();
            self.set_check_quorum_deadline(lapses);
        } else {
            self.timers.stop(Timer::CheckQuorum);
        }
        self.arm_transfer_deadline();
    }

    /// `E`: the instant this leader's quorum contact lapses (`Instant::ZERO` if it
    /// never had one, `Instant::MAX` if it is a quorum alone).
    fn quorum_lapses(&self) -> Instant {
        self.tally
            .quorum_contact(&self.membership, self.id)
            .map_or(Instant::ZERO, |heard| {
                heard.add_nanos(self.config.election_min_nanos())
            })
    }

    fn set_check_quorum_deadline(&mut self, lapses: Instant) {
        if lapses == Instant::MAX {
            // This node alone is a quorum: its contact never lapses.
            self.timers.stop(Timer::CheckQuorum);
        } else {
            self.timers.set(Timer::CheckQuorum, lapses);
        }
    }

    pub(crate) fn send(&self, to: I, message: Message, out: &mut Vec<Output<I>>) {
        out.push(Output::Send { to, message });
    }
}
