//! Commands from the application: campaign, step down, membership, freshness.

use alloc::vec::Vec;

use crate::{CommandError, Election, Input, Instant, Membership, NodeId, Output, Role, Term};

impl<I: NodeId> Election<I> {
    /// Carries out a command, or emits [`Output::Rejected`] and changes nothing.
    pub(crate) fn on_command(&mut self, command: Input<I>, now: Instant, out: &mut Vec<Output<I>>) {
        if let Err(error) = self.try_command(command, now, out) {
            self.stats.commands_rejected.bump();
            out.push(Output::Rejected(error));
        }
    }

    fn try_command(
        &mut self,
        command: Input<I>,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) -> Result<(), CommandError<I>> {
        let max_voters = self.config.max_voters();
        match command {
            Input::Tick | Input::Receive { .. } => {}
            Input::Campaign => {
                if !self.membership.is_voter(self.id) {
                    return Err(CommandError::NotAVoter);
                }
                if self.switches.witness() {
                    return Err(CommandError::Witness);
                }
                let voters = self.membership.voters().len();
                if voters < self.config.min_voters() {
                    return Err(CommandError::NotEnoughVoters {
                        voters,
                        min_voters: self.config.min_voters(),
                    });
                }
                // A no-op on the leader and on a node already campaigning.
                if self.role == Role::Follower {
                    if self.term == Term::MAX {
                        return Err(CommandError::TermExhausted);
                    }
                    if self.in_lease(now) {
                        // Its self-vote could elect a second leader while the current
                        // one holds its lease (or one it acknowledged before a restart).
                        return Err(CommandError::Sticky {
                            until: self
                                .leader_contact
                                .add_nanos(self.config.election_min_nanos()),
                        });
                    }
                    self.start_election(now, out);
                }
            }
            Input::StepDown => {
                if self.role != Role::Leader {
                    return Err(CommandError::NotLeader);
                }
                if !self.transfer_pending() {
                    let members = self.membership.clone();
                    self.hand_over_before_leaving(&members, now, out);
                }
                self.become_follower(self.term, now);
            }
            Input::TransferLeadership(to) => {
                if self.role != Role::Leader {
                    return Err(CommandError::NotLeader);
                }
                if to == self.id {
                    return Err(CommandError::TransferToSelf);
                }
                let index = self
                    .membership
                    .voter_index(to)
                    .ok_or(CommandError::TransferTargetNotAVoter(to))?;
                self.start_transfer(index, now, out);
            }
            Input::ForgetLeader => match self.role {
                Role::Leader => return Err(CommandError::IsLeader),
                Role::Follower => self.forget_leader(),
                Role::PreCandidate | Role::Candidate => {}
            },
            Input::AddVoter(node) => {
                if self.membership.is_voter(node) {
                    return Err(CommandError::AlreadyVoter(node));
                }
                if self.membership.voters().len() >= max_voters {
                    return Err(CommandError::TooManyVoters { node, max_voters });
                }
                let mut next = self.membership.clone();
                next.insert_voter(node);
                self.change_membership(next, now, out);
            }
            Input::AddLearner(node) => {
                if self.membership.is_learner(node) {
                    return Err(CommandError::AlreadyLearner(node));
                }
                let mut next = self.membership.clone();
                next.insert_learner(node);
                self.change_membership(next, now, out);
            }
            Input::RemoveNode(node) => {
                if !self.membership.contains(node) {
                    return Err(CommandError::NotAMember(node));
                }
                let mut next = self.membership.clone();
                next.remove(node);
                self.change_membership(next, now, out);
            }
            Input::SetMembership(next) => {
                let voters = next.voters().len();
                if voters > max_voters {
                    return Err(CommandError::MembershipTooLarge { voters, max_voters });
                }
                self.change_membership(next, now, out);
            }
            Input::SetFreshness(freshness) => self.freshness = freshness,
        }
        Ok(())
    }

    /// Installs a new membership and settles the consequences.
    ///
    /// A campaign is only ever won with grants from the voter set it started under:
    /// if the voter set changes while this node is a pre-candidate or candidate, its
    /// round ends — it becomes a follower in the same term, keeping its vote (a
    /// candidate's self-vote) and the election timer it drew when the round started,
    /// and campaigns afresh (under the new voter set) when that timer fires. A
    /// learner-only change leaves a running round alone. A leader that is no longer a
    /// voter steps down; otherwise it keeps its last contact with the voters that
    /// remain, counts a voter new to the set as heard from now, and re-checks its
    /// quorum at once (a smaller or different quorum may have lapsed already).
    fn change_membership(&mut self, next: Membership<I>, now: Instant, out: &mut Vec<Output<I>>) {
        let transfer = self.transfer_target();
        let old = core::mem::replace(&mut self.membership, next);
        let voters_changed = old.voters() != self.membership.voters();
        if let Some(leader) = self.leader {
            if leader != self.id && !self.membership.contains(leader) {
                // Forget who leads, not when it was heard from: the removed leader
                // may still hold a lease this node's acknowledgement helped prove.
                self.leader = None;
            }
        }
        match self.role {
            Role::Follower => {}
            Role::Leader if !self.membership.is_voter(self.id) => {
                // Hand over before leaving (openraft#2091): a pending transfer's target
                // if it is still a voter, otherwise the candidate successor.
                match transfer.filter(|&to| self.membership.is_voter(to)) {
                    Some(_) => {}
                    None => self.hand_over_before_leaving(&old, now, out),
                }
                self.become_follower(self.term, now);
            }
            Role::Leader => {
                let removed = transfer.filter(|&to| !self.membership.is_voter(to));
                if voters_changed {
                    self.tally.remap(&old, &self.membership, now);
                    if let Some(to) = removed {
                        // The remap dropped the target; report the failure.
                        out.push(Output::TransferFailed {
                            to,
                            term: self.term,
                            reason: crate::TransferFailure::TargetRemoved,
                        });
                        self.tally
                            .set_handover_until(now + self.config.priority_hold_off());
                    }
                }
                self.check_quorum(now);
                // Withdraw the hand-over announcement at once — only if this node still
                // leads: the new voter set's quorum may have lapsed already, and a node
                // that stepped down sends no heartbeat (found by the fuzzer).
                if removed.is_some() && self.role == Role::Leader {
                    self.broadcast_heartbeat(now, out);
                }
            }
            Role::PreCandidate | Role::Candidate if voters_changed => self.abandon_campaign(),
            Role::PreCandidate | Role::Candidate => {
                if !self.can_campaign() {
                    self.become_follower(self.term, now);
                } else {
                    // Same voters (a learner came or went): the tally still holds.
                    self.settle_round(now, out);
                }
            }
        }
    }
}
