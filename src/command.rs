//! Commands from the application: campaign, step down, membership, freshness.

use alloc::vec::Vec;

use crate::election::NEVER;
use crate::{CommandError, Election, Input, Instant, Membership, NodeId, Output, Role};

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
                let voters = self.membership.voters().len();
                if voters < self.config.min_voters() {
                    return Err(CommandError::NotEnoughVoters {
                        voters,
                        min_voters: self.config.min_voters(),
                    });
                }
                if self.term == crate::Term(u64::MAX) {
                    return Err(CommandError::TermExhausted);
                }
                if self.role == Role::Follower && self.can_campaign() {
                    self.start_election(now, out);
                }
            }
            Input::StepDown => {
                if self.role != Role::Leader {
                    return Err(CommandError::NotLeader);
                }
                self.become_follower(self.term, now);
            }
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

    /// Installs a new membership and settles the consequences: a removed leader steps
    /// down, a campaign continues over the new voter set (and may be won or lost by
    /// the change), a node that may no longer campaign stops.
    fn change_membership(&mut self, next: Membership<I>, now: Instant, out: &mut Vec<Output<I>>) {
        let old = core::mem::replace(&mut self.membership, next);
        if self.role != Role::Follower {
            self.tally.remap(&old, &self.membership);
        }
        if let Some(leader) = self.leader {
            if leader != self.id && !self.membership.contains(leader) {
                self.leader = None;
                self.leader_contact = NEVER;
            }
        }
        match self.role {
            Role::Follower => {}
            Role::Leader if !self.membership.is_voter(self.id) => {
                self.become_follower(self.term, now);
            }
            Role::Leader => {}
            Role::PreCandidate | Role::Candidate if !self.can_campaign() => {
                self.become_follower(self.term, now);
            }
            Role::PreCandidate | Role::Candidate => self.settle_round(now, out),
        }
    }
}
