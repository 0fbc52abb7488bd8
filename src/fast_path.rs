//! The fast path of [`Election::step_into`]: the steps a node takes most often,
//! done without the general step's bookkeeping.

use alloc::vec::Vec;

use crate::{Election, Input, Instant, Message, NodeId, Output, Role};

impl<I: NodeId> Election<I> {
    /// The two steps a node takes most often, done directly. Each has exactly the
    /// effect [`Election::step_general`] would have (checked against it on random
    /// inputs by `tests::fast_paths_match_the_general_step`); anything else returns
    /// `false` untouched.
    ///
    /// - A tick with no timer due changes nothing but `last_now`.
    /// - A leader's heartbeat reply from a voter in its term, echoing a send time not
    ///   after `now`, with no timer due: the voter's last contact moves to `now`
    ///   (CheckQuorum), its acknowledged send time to the echoed one (the lease), and
    ///   its standing is noted for hand-overs (which may start or abandon a transfer:
    ///   outputs, but no change of term, vote, role or leader, so nothing for
    ///   `finish` to add).
    /// - A follower's heartbeat from the leader it already follows in its term, once
    ///   its vote is recorded: the leader is a member (a membership change that
    ///   removes it forgets it), term, vote, role and leader stay, so nothing is
    ///   persisted and no event is emitted; the contact is noted, the election timer
    ///   restarted with the same draw, and the reply sent.
    #[inline(always)]
    pub(crate) fn fast_step(
        &mut self,
        input: &Input<I>,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) -> bool {
        match *input {
            Input::Tick if !self.timers.any_due(now) => {}
            Input::Receive {
                from,
                message:
                    Message::Heartbeat {
                        term,
                        sent,
                        hand_over: false,
                    },
            } if term == self.term
                && self.role == Role::Follower
                && self.leader == Some(from)
                && from != self.id
                && self.voted_for.is_some() =>
            {
                debug_assert!(self.membership.contains(from));
                self.leader_contact = now;
                self.arm_election_timer(now, false);
                // A plain heartbeat withdraws any hand-over announcement.
                self.hand_over_seen = false;
                self.reply_heartbeat(from, term, sent, out);
            }
            Input::Receive {
                from,
                message: ref reply @ Message::HeartbeatResponse { .. },
            } if self.role == Role::Leader => return self.fast_reply(from, reply, now, out),
            _ => return false,
        }
        self.last_now = now;
        true
    }
}

impl<I: NodeId> Election<I> {
    /// The leader's arm of [`Election::fast_step`], out of line so that the
    /// follower's heartbeat arm stays as short as it was without it.
    #[inline]
    fn fast_reply(
        &mut self,
        from: I,
        reply: &Message,
        now: Instant,
        out: &mut Vec<Output<I>>,
    ) -> bool {
        let Message::HeartbeatResponse {
            term,
            sent,
            freshness,
            priority,
            witness,
        } = *reply
        else {
            return false;
        };
        if term != self.term || from == self.id || sent > now || self.timers.any_due(now) {
            return false;
        }
        // A voter's reply in our term (learners' and strangers' replies take the
        // general path): its contact (CheckQuorum), its acknowledged send time (the
        // lease), and its standing for hand-overs, which may start or end a transfer
        // but never changes term, vote, role or leader.
        let Some(index) = self.membership.voter_index(from) else {
            return false;
        };
        self.tally.contact_index(index, now);
        self.tally
            .acknowledged_index(index, self.membership.voters().len(), sent);
        self.note_standing(index, (freshness, priority, witness), now, out);
        self.last_now = now;
        true
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::vec::Vec;
    use core::time::Duration;

    use rand_chacha::ChaCha8Rng;
    use rand_core::{Rng, SeedableRng};

    use crate::{
        Config, Election, Freshness, Input, Instant, Membership, Message, Output, Role, Term,
    };

    fn random_input(rng: &mut ChaCha8Rng, node: &Election) -> Input<u64> {
        let r = rng.next_u32();
        let from = 1 + u64::from(rng.next_u32() % 7); // 6 and 7 are not members; 2 is the node
        let term = Term(
            node.term()
                .get()
                .saturating_add(u64::from(rng.next_u32() % 4))
                .saturating_sub(1),
        );
        let flag = rng.next_u32() % 2 == 0;
        // A reply's standing varies too: freshness around the leader's, priorities
        // around its own (1), sometimes a witness — so that replies start, replace
        // and abandon transfers on both paths.
        let s = rng.next_u32();
        let (freshness, priority, witness) = (
            Freshness::new(0, u64::from(s % 3)),
            (s >> 8) as u8 % 3,
            s >> 16 & 7 == 0,
        );
        // Heartbeats from the followed leader in the current term are made common, so
        // the fast path is exercised as often as the rest.
        if node.is_leader() && r % 4 != 0 {
            // A leader mostly hears heartbeat replies (from voters 1, 3, 4, learner 5).
            let from = [1, 3, 4, 5][(r / 4 % 4) as usize];
            let message = Message::HeartbeatResponse {
                term: node.term(),
                sent: Instant::from_millis(u64::from(r % 2_000)),
                freshness,
                priority,
                witness,
            };
            return Input::Receive { from, message };
        }
        match r % 16 {
            0..=3 => Input::Tick,
            4..=6 if node.is_leader() => Input::Receive {
                from,
                message: Message::HeartbeatResponse {
                    term: node.term(),
                    sent: Instant::from_millis(u64::from(r % 2_000)),
                    freshness,
                    priority,
                    witness,
                },
            },
            4..=6 => Input::Receive {
                from: node.leader().unwrap_or(from),
                message: Message::Heartbeat {
                    term: node.term(),
                    sent: Instant::from_millis(u64::from(r % 2_000)),
                    hand_over: false,
                },
            },
            7 => Input::Receive {
                from,
                message: Message::Heartbeat {
                    term,
                    sent: Instant::from_millis(u64::from(r % 2_000)),
                    hand_over: false,
                },
            },
            8 => Input::Receive {
                from,
                message: Message::HeartbeatResponse {
                    term,
                    sent: Instant::from_millis(u64::from(r % 2_000)),
                    freshness,
                    priority,
                    witness,
                },
            },
            9 | 10 => Input::Receive {
                from,
                message: Message::VoteRequest {
                    term,
                    pre_vote: flag,
                    transfer: false,
                    freshness: Freshness::default(),
                },
            },
            // Campaigns are answered in their own term, so that rounds are won too.
            4..=12 if node.role() == Role::PreCandidate => Input::Receive {
                from: [1, 3, 4, 5][(r / 16 % 4) as usize],
                message: Message::VoteResponse {
                    term: node.term().next(),
                    pre_vote: true,
                    granted: r % 5 != 0,
                },
            },
            4..=12 if node.role() == Role::Candidate => Input::Receive {
                from: [1, 3, 4, 5][(r / 16 % 4) as usize],
                message: Message::VoteResponse {
                    term: node.term(),
                    pre_vote: false,
                    granted: r % 5 != 0,
                },
            },
            11 | 12 => Input::Receive {
                from,
                message: Message::VoteResponse {
                    term,
                    pre_vote: flag,
                    granted: rng.next_u32() % 3 != 0,
                },
            },
            13 => match r / 16 % 4 {
                0 | 1 => Input::Campaign,
                2 => Input::TransferLeadership(from),
                _ => Input::SetFreshness(Freshness::new(0, u64::from(s % 3))),
            },
            14 => Input::StepDown,
            _ => match rng.next_u32() % 3 {
                0 => Input::AddVoter(from),
                1 => Input::AddLearner(from),
                _ => Input::RemoveNode(from),
            },
        }
    }

    /// On random input sequences, `step_into` (fast path first) and the general step
    /// alone leave identical nodes and identical outputs after every step.
    #[test]
    fn fast_paths_match_the_general_step() {
        // Fast steps taken: ticks, follower heartbeats, leader heartbeat replies.
        let mut fast_taken = [0u32; 3];
        for seed in 0..300u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let config = Config::default()
                .with_priority(1)
                .with_pre_vote(seed % 2 == 0)
                .with_check_quorum(seed % 3 != 0)
                .with_seed(seed);
            let members = Membership::with_learners([1, 2, 3, 4], [5]).unwrap();
            let mut node = Election::new(config, 2, members, None, Instant::ZERO).unwrap();
            let mut now = Instant::ZERO;
            for _ in 0..400 {
                // Mostly forward in small steps, sometimes a long gap, sometimes back.
                now = match rng.next_u32() % 10 {
                    0 => now.saturating_sub(Duration::from_millis(5)),
                    1 => now + Duration::from_millis(u64::from(rng.next_u32() % 400)),
                    _ => now + Duration::from_micros(u64::from(rng.next_u32() % 20_000)),
                };
                let input = random_input(&mut rng, &node);
                let kind = match input {
                    Input::Tick => 0,
                    Input::Receive {
                        message: Message::Heartbeat { .. },
                        ..
                    } => 1,
                    Input::Receive {
                        message: Message::HeartbeatResponse { .. },
                        ..
                    } => 2,
                    _ => 0,
                };
                let mut general = node.clone();
                let (mut out_fast, mut out_general) = (Vec::new(), Vec::new());
                let mut probe = node.clone();
                if now >= probe.last_now
                    && probe.config.usable_now(now)
                    && probe.fast_step(&input, now, &mut Vec::<Output<u64>>::new())
                {
                    fast_taken[kind] += 1;
                }
                node.step_into(input.clone(), now, &mut out_fast);
                general.step_general(input.clone(), now, &mut out_general);
                assert_eq!(
                    out_fast, out_general,
                    "seed {seed}: outputs differ on {input:?}"
                );
                assert_eq!(
                    format!("{node:?}"),
                    format!("{general:?}"),
                    "seed {seed}: state differs after {input:?}"
                );
            }
        }
        // Every fast path was exercised often, so the comparison means something.
        assert!(fast_taken.iter().all(|&n| n > 100), "{fast_taken:?}");
    }
}
