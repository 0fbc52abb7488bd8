//! Role transitions: the only places a node's role changes.

use alloc::vec::Vec;

use crate::election::NEVER;
use crate::timer::Timer;
use crate::{Election, Message, NodeId, Output, Role, Term};

impl<I: NodeId> Election<I> {
    /// Whether this node may start an election: it is a voter, not a witness, and
    /// the voter set has reached `min_voters`.
    pub(crate) fn can_campaign(&self) -> bool {
        !self.switches.witness()
            && self.membership.is_voter(self.id)
            && self.membership.voters().len() >= self.config.min_voters()
            && self.term < Term::MAX
    }

    /// Whether this node is inside the leader-stickiness window: it leads, or it heard
    /// from the leader of its term less than `election_timeout_min` ago.
    pub(crate) fn in_lease(&self, now: crate::Instant) -> bool {
        self.role == Role::Leader
            || (self.leader_contact != NEVER
                && now
                    < self
                        .leader_contact
                        .add_nanos(self.config.election_min_nanos()))
    }

    /// Forgets the known leader and when it was last heard from. Called only when
    /// the stickiness window is over (a round starts when the election timer fires,
    /// at least `election_timeout_min` after the last heartbeat, and `Campaign` is
    /// refused inside the window), or by an explicit bypass that gives up leases.
    pub(crate) fn forget_leader(&mut self) {
        self.leader = None;
        self.leader_contact = NEVER;
        self.hand_over_seen = false;
    }

    /// Becomes a follower in `term` (adopting it, with no vote, if it is newer).
    /// The leader is forgotten when the term changes. The election timer is re-armed
    /// with a fresh draw when a leader steps down (it had none). A candidate or
    /// pre-candidate keeps the timer it drew when its round started: re-arming all
    /// of a split vote's candidates at the moment they learn of a newer term (or of
    /// their defeat) would restart their timers together and keep them in step.
    ///
    /// A newer term does not end the stickiness window (`leader_contact`): a node
    /// that acknowledged a leader's heartbeat must refuse votes for a whole
    /// `election_timeout_min` after it, whatever terms it learns of meanwhile (a
    /// stale vote reply or heartbeat reply can carry a newer term), or the leader's
    /// lease would not hold.
    pub(crate) fn become_follower(&mut self, term: Term, now: crate::Instant) {
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.leader = None;
            // A hand-over announced in an older term says nothing about this one.
            self.hand_over_seen = false;
        }
        if self.role != Role::Follower {
            if self.leader == Some(self.id) {
                self.leader = None;
            }
            if self.role == Role::Leader {
                self.timers.stop(Timer::CheckQuorum);
                self.arm_election_timer(now, true);
            }
            self.role = Role::Follower;
        }
    }

    /// A quorum refused this (pre-)candidate, or its voter set changed mid-round (a
    /// campaign is only won with grants from the voter set it started under): it
    /// cannot win this round, so it becomes a follower at once (a former pre-candidate, which has not voted in this term,
    /// may then grant another candidate's vote; a candidate keeps its self-vote), but keeps the
    /// election timer it drew when the round started. Re-arming here would restart
    /// every losing candidate's timer at the same moment — the moment the refusals
    /// arrive — and keep split votes in lock-step when the timeout range is narrower
    /// than the network and disk jitter (the Raft paper's 150–151 ms case went from
    /// minutes to seconds with this rule; see docs/figure16.md).
    pub(crate) fn abandon_campaign(&mut self) {
        self.role = Role::Follower;
    }

    /// The election timer fired: no leader was heard from for a whole timeout.
    pub(crate) fn on_election_timeout(&mut self, now: crate::Instant, out: &mut Vec<Output<I>>) {
        if self.can_campaign() {
            self.start_election(now, out);
        } else {
            // A learner, a non-member, or a voter waiting for `min_voters`: the leader has
            // gone quiet, so stop claiming to know it, and keep waiting.
            self.forget_leader();
            self.arm_election_timer(now, true);
        }
    }

    /// Starts a PreVote round, or a real election when PreVote is off.
    pub(crate) fn start_election(&mut self, now: crate::Instant, out: &mut Vec<Output<I>>) {
        if self.switches.pre_vote() {
            self.become_pre_candidate(now, out);
        } else {
            self.become_candidate(now, false, out);
        }
    }

    /// Starts a (pre-)election round as `role`: forgets the leader, draws a fresh
    /// timeout, and counts its own vote. True if that vote alone is a quorum.
    fn start_round(&mut self, role: Role, now: crate::Instant) -> bool {
        self.role = role;
        // Forgetting the leader also makes a pre-candidate grant others' pre-votes
        // (etcd's fix for the PreVote + CheckQuorum deadlock).
        self.forget_leader();
        self.timers.stop(Timer::CheckQuorum);
        self.arm_election_timer(now, true);
        self.tally.reset(&self.membership);
        self.tally.record(&self.membership, self.id, true, now);
        self.tally.yes() >= self.membership.quorum()
    }

    /// After an answer was counted (or a learner-only membership change): a (pre-)candidate with
    /// a quorum of grants moves on, one with a quorum of refusals gives up the round.
    pub(crate) fn settle_round(&mut self, now: crate::Instant, out: &mut Vec<Output<I>>) {
        let quorum = self.membership.quorum();
        if self.tally.yes() >= quorum {
            match self.role {
                Role::PreCandidate => self.become_candidate(now, false, out),
                Role::Candidate => self.become_leader(now, out),
                Role::Follower | Role::Leader => {}
            }
        } else if self.tally.no() >= quorum {
            self.abandon_campaign();
        }
    }

    /// Asks for pre-votes for `term + 1` without changing term or vote.
    fn become_pre_candidate(&mut self, now: crate::Instant, out: &mut Vec<Output<I>>) {
        self.stats.pre_votes_started.bump();
        if self.start_round(Role::PreCandidate, now) {
            self.become_candidate(now, false, out);
            return;
        }
        out.push(Output::Broadcast {
            message: Message::VoteRequest {
                term: self.term.next(),
                pre_vote: true,
                transfer: false,
                freshness: self.freshness,
            },
        });
    }

    /// Starts a real election: next term, vote for self, ask everyone. A
    /// `transfer` campaign (told to by the leader) marks its vote requests.
    pub(crate) fn become_candidate(
        &mut self,
        now: crate::Instant,
        transfer: bool,
        out: &mut Vec<Output<I>>,
    ) {
        if self.term == Term::MAX {
            // No next term exists; campaigning again in this term could vote twice.
            self.become_follower(self.term, now);
            return;
        }
        self.term = self.term.next();
        self.voted_for = Some(self.id);
        self.stats.elections_started.bump();
        if self.start_round(Role::Candidate, now) {
            self.become_leader(now, out);
            return;
        }
        // `finish` puts the Persist of the new term and self-vote before this request.
        out.push(Output::Broadcast {
            message: Message::VoteRequest {
                term: self.term,
                pre_vote: false,
                transfer,
                freshness: self.freshness,
            },
        });
    }

    /// Won the election: lead, heartbeat at once, start CheckQuorum (every voter
    /// counts as heard from at the instant of the win).
    pub(crate) fn become_leader(&mut self, now: crate::Instant, out: &mut Vec<Output<I>>) {
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.leader_contact = NEVER;
        self.lease_forfeited = false;
        self.stats.elections_won.bump();
        self.timers.stop(Timer::Election);
        self.tally.start_contacts(&self.membership, now);
        // A new leader leads for a while before any priority hand-over.
        self.tally
            .set_handover_until(now + self.config.priority_hold_off());
        self.check_quorum(now);
        self.broadcast_heartbeat(now, out);
    }
}
