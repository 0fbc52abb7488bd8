//! The safety checker, run after every event in O(1) amortized time (map look-ups
//! happen only on elections, votes and role changes, never per heartbeat).
//!
//! | invariant | how it is checked |
//! | --- | --- |
//! | at most one leader per term, ever | a `term → leader` map, filled when a node becomes leader (if it won in the step that wrote its vote — a one-voter campaign — once that write is durable: a crash before it leaves a leadership nobody saw, since every output after the `Persist` dies with it) |
//! | at most one granted vote per (node, term), across restarts | each node's vote ledger `(term, candidate)`, fed by every durable `Persist` with a vote and every granted `VoteResponse` that leaves; never reset by a crash |
//! | a node's term never decreases, across restarts | after every step the term is compared with the node's last term; on restart with its highest **durable** term (a term adopted but lost in a crash before it was durable was never visible to anyone) |
//! | vote grants and vote requests are durable before they leave | when a granted `VoteResponse` to `c` in term `t` leaves, the node's durable record must be `(t, Some(c))`; when a `VoteRequest` for `t` leaves, `(t, Some(self))` |
//! | every leader held a majority of grants **of the voter set its campaign started under** | when a node becomes `Candidate` for term `t` its membership is recorded (the voter set its election runs under); granted `VoteResponse`s **delivered** to the candidate are collected per (term, candidate); when it becomes leader of `t`, the distinct voters of that recorded set among them, plus itself, must reach that set's quorum ([`ViolationKind::LeaderWithoutMajority`]), and its voter set at the win must be the one it campaigned under ([`ViolationKind::VotersChangedDuringCampaign`]); a leader with no campaign for its term is [`ViolationKind::LeaderWithoutCampaign`] |
//! | a node that is not leader sends no leader traffic | when a `Heartbeat` leaves, the sender must be leader of that term |
//! | no two unexpired leases at once; nobody elected during another node's lease | after every step of a leader its `lease()` is converted to global time through its clock (see `sim::lease`) |
//! | CheckQuorum is exact (README rule 4) | per leader, each other voter's last contact (the `check_quorum` module of the simulator); after every step of a leader with `check_quorum` on: still leading ⇒ `t < E`, a CheckQuorum step-down ⇒ `t ≥ E`, and `next_deadline ≤ E` |
//! | a leader elected after healing is as fresh as a majority | checked once by [`Simulation::heal_and_check_liveness`](super::Simulation::heal_and_check_liveness) ([`ViolationKind::LeaderNotFreshest`]) |
//!
//! Violations are recorded (the first 1,000 kept, all counted), never panics.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use super::network::MessageKind;
use super::options::Nanos;
use crate::{Election, HardState, Instant, Membership, Message, Role, Term};

/// Which invariant was broken, with the evidence.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ViolationKind {
    /// Two nodes became leader of the same term.
    TwoLeaders {
        /// The term.
        term: Term,
        /// The first leader of that term.
        first: u64,
        /// The second one.
        second: u64,
    },
    /// A node voted for two candidates in one term.
    DoubleVote {
        /// The term.
        term: Term,
        /// The first candidate it voted for.
        first: u64,
        /// The second one.
        second: u64,
    },
    /// A node's term went down (within a run, or across a restart below its
    /// highest durable term).
    TermDecreased {
        /// The earlier (higher) term.
        from: Term,
        /// The later (lower) term.
        to: Term,
    },
    /// A vote grant or vote request left before the vote it carries was durable.
    NotDurable {
        /// The message that left.
        message: MessageKind,
        /// Its term.
        term: Term,
        /// What was durable at the time.
        durable: Option<HardState<u64>>,
    },
    /// A node became leader without grants from a majority of the voter set its
    /// campaign started under (the membership it had when it became `Candidate` for
    /// that term), whatever its membership is at the win.
    LeaderWithoutMajority {
        /// The term it leads.
        term: Term,
        /// Distinct voters of the campaign's voter set whose grants it had received
        /// (itself included).
        votes: usize,
        /// Votes it needed (the campaign's voter set's quorum).
        quorum: usize,
    },
    /// A node became leader of a term with a voter set other than the one its
    /// campaign for that term started under: grants collected under one voter set
    /// elected it under another (README rule 1: a voter change ends a running round).
    VotersChangedDuringCampaign {
        /// The term it leads.
        term: Term,
        /// Voters when its campaign started.
        at_start: usize,
        /// Voters when it won.
        at_win: usize,
    },
    /// A node became leader of a term it never campaigned in (was never `Candidate`
    /// of, in this incarnation).
    LeaderWithoutCampaign {
        /// The term it leads.
        term: Term,
    },
    /// A leader with `check_quorum` on was still leader after a step at local time
    /// `t >= E`, where `E` is the `K`-th most recent contact among its other voters
    /// (`K = quorum - 1`) plus `election_timeout_min` (README rule 4).
    CheckQuorumLate {
        /// The term it leads.
        term: Term,
        /// Other voters heard from within `election_timeout_min` before `t`.
        in_contact: usize,
        /// `K`: how many it needs.
        needed: usize,
    },
    /// A leader stepped down by CheckQuorum at local time `t < E` (too early).
    CheckQuorumEarly {
        /// The term it led.
        term: Term,
        /// Other voters heard from within `election_timeout_min` before `t`.
        in_contact: usize,
        /// `K`: how many it needed.
        needed: usize,
    },
    /// A leader's `next_deadline()` was later than `E`: a host ticking at the
    /// deadline would keep it leading past `E`.
    CheckQuorumDeadlineLate {
        /// The term it leads.
        term: Term,
        /// Its `next_deadline()` (local clock).
        deadline: Instant,
        /// `E` (local clock).
        expiry: Instant,
    },
    /// The leader elected after healing is less fresh than a quorum of its voters:
    /// in Raft only a node at least as fresh as a majority can win.
    LeaderNotFreshest {
        /// The term it leads.
        term: Term,
        /// Voters (itself included) at most as fresh as the leader.
        as_fresh: usize,
        /// The quorum of its voter set.
        quorum: usize,
    },
    /// A node that is not the leader of the term sent a heartbeat.
    HeartbeatFromNonLeader {
        /// The heartbeat's term.
        term: Term,
        /// The sender's role.
        role: Role,
    },
    /// After healing, no stable leader appeared within the bound.
    Liveness {
        /// The bound.
        bound: Duration,
    },
    /// A node held an unexpired [lease](crate::Election::lease) while another node
    /// acquired one or was elected leader (leases converted to global time through
    /// each node's clock; see [`sim::lease`](super::lease)).
    LeaseOverlap {
        /// The node whose lease had not expired.
        holder: u64,
        /// When that lease expires, in global simulated time.
        expires: Instant,
        /// The node that acquired a lease, or was elected, meanwhile.
        other: u64,
        /// True if `other` was elected leader; false if it acquired a lease.
        elected: bool,
    },
}

/// A broken invariant: when, where, what.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Violation {
    /// Global simulated time.
    pub at: Instant,
    /// The node concerned, if one is.
    pub node: Option<u64>,
    /// What went wrong.
    pub kind: ViolationKind,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.at)?;
        if let Some(n) = self.node {
            write!(f, "n{n}: ")?;
        }
        match self.kind {
            ViolationKind::TwoLeaders {
                term,
                first,
                second,
            } => write!(f, "two leaders in term {term}: n{first} and n{second}"),
            ViolationKind::DoubleVote {
                term,
                first,
                second,
            } => write!(f, "voted twice in term {term}: for n{first} and n{second}"),
            ViolationKind::TermDecreased { from, to } => {
                write!(f, "term decreased from {from} to {to}")
            }
            ViolationKind::NotDurable {
                message,
                term,
                durable,
            } => write!(
                f,
                "{message:?} for term {term} left before it was durable (durable: {durable:?})"
            ),
            ViolationKind::LeaderWithoutMajority {
                term,
                votes,
                quorum,
            } => write!(
                f,
                "became leader of term {term} with {votes} votes, quorum {quorum}"
            ),
            ViolationKind::VotersChangedDuringCampaign {
                term,
                at_start,
                at_win,
            } => write!(
                f,
                "became leader of term {term} with {at_win} voters, campaign started with {at_start} (a different voter set)"
            ),
            ViolationKind::LeaderWithoutCampaign { term } => {
                write!(f, "became leader of term {term} without campaigning in it")
            }
            ViolationKind::CheckQuorumLate {
                term,
                in_contact,
                needed,
            } => write!(
                f,
                "still leader of term {term} in contact with {in_contact} other voters, needs {needed} (CheckQuorum late)"
            ),
            ViolationKind::CheckQuorumEarly {
                term,
                in_contact,
                needed,
            } => write!(
                f,
                "CheckQuorum stepped down from term {term} in contact with {in_contact} other voters, needs {needed} (early)"
            ),
            ViolationKind::CheckQuorumDeadlineLate {
                term,
                deadline,
                expiry,
            } => write!(
                f,
                "leader of term {term}: next deadline {deadline} after its quorum contact lapses at {expiry}"
            ),
            ViolationKind::LeaderNotFreshest {
                term,
                as_fresh,
                quorum,
            } => write!(
                f,
                "leader of term {term} after healing is at least as fresh as only {as_fresh} voters, quorum {quorum}"
            ),
            ViolationKind::HeartbeatFromNonLeader { term, role } => {
                write!(f, "sent a heartbeat for term {term} as {role}")
            }
            ViolationKind::Liveness { bound } => write!(
                f,
                "no stable leader within {} after healing",
                Nanos(u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX))
            ),
            ViolationKind::LeaseOverlap {
                holder,
                expires,
                other,
                elected,
            } => write!(
                f,
                "n{other} {} while n{holder} held a lease until {expires}",
                if elected {
                    "was elected"
                } else {
                    "acquired a lease"
                }
            ),
        }
    }
}

const KEEP: usize = 1_000;

/// The checker's state.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    /// term → its leader.
    leaders: BTreeMap<u64, u64>,
    /// (term, candidate) → voters whose grants were delivered to it (may repeat).
    grants: BTreeMap<(u64, u64), Vec<u64>>,
    pub(crate) violations: Vec<Violation>,
    /// How many of `violations` went into the trace already.
    pub(crate) traced: usize,
    pub(crate) count: u64,
    pub(crate) elections_won: u64,
    pub(crate) max_term: u64,
    /// Unexpired leases (see `sim::lease`).
    pub(crate) leases: super::lease::Leases,
}

impl Checker {
    pub(crate) fn record(&mut self, at: u64, node: Option<u64>, kind: ViolationKind) -> Violation {
        let v = Violation {
            at: Instant::from_nanos(at),
            node,
            kind,
        };
        self.count += 1;
        if self.violations.len() < KEEP {
            self.violations.push(v);
        }
        v
    }

    /// After a step: the in-memory term never decreases.
    pub(crate) fn check_term(
        &mut self,
        at: u64,
        node: u64,
        last: &mut u64,
        term: u64,
    ) -> Option<Violation> {
        self.max_term = self.max_term.max(term);
        if term < *last {
            let v = self.record(
                at,
                Some(node),
                ViolationKind::TermDecreased {
                    from: Term(*last),
                    to: Term(term),
                },
            );
            *last = term;
            return Some(v);
        }
        *last = term;
        None
    }

    /// A node voted for `candidate` in `term` (durably, or by sending the grant).
    pub(crate) fn on_vote(
        &mut self,
        at: u64,
        node: u64,
        ledger: &mut Vec<(u64, u64)>,
        term: u64,
        candidate: u64,
    ) -> Option<Violation> {
        let first = match ledger.last() {
            Some(&(t, c)) if t == term => c,
            Some(&(t, _)) if t > term => match ledger.binary_search_by_key(&term, |e| e.0) {
                Ok(i) => ledger[i].1,
                Err(i) => {
                    ledger.insert(i, (term, candidate));
                    return None;
                }
            },
            _ => {
                ledger.push((term, candidate));
                return None;
            }
        };
        (first != candidate).then(|| {
            self.record(
                at,
                Some(node),
                ViolationKind::DoubleVote {
                    term: Term(term),
                    first,
                    second: candidate,
                },
            )
        })
    }

    /// Every term that had a leader, with its (first) leader.
    pub(crate) fn leaders(&self) -> impl Iterator<Item = (Term, u64)> + '_ {
        self.leaders.iter().map(|(&t, &l)| (Term(t), l))
    }

    /// A granted (real) vote from `voter` reached `candidate`.
    pub(crate) fn on_grant_delivered(&mut self, term: u64, candidate: u64, voter: u64) {
        self.grants
            .entry((term, candidate))
            .or_default()
            .push(voter);
    }

    /// `node` just became leader of `term`; `campaign` is the term and membership
    /// its last campaign started with (this incarnation), `membership` its own now.
    pub(crate) fn on_leader(
        &mut self,
        at: u64,
        node: u64,
        term: u64,
        campaign: Option<&(u64, Membership<u64>)>,
        membership: &Membership<u64>,
    ) {
        self.elections_won += 1;
        self.check_elected(at, node);
        match self.leaders.get(&term) {
            Some(&first) if first != node => {
                self.record(
                    at,
                    Some(node),
                    ViolationKind::TwoLeaders {
                        term: Term(term),
                        first,
                        second: node,
                    },
                );
            }
            Some(_) => {}
            None => {
                self.leaders.insert(term, node);
            }
        }
        let mut voters = self.grants.remove(&(term, node)).unwrap_or_default();
        let Some((_, started)) = campaign.filter(|c| c.0 == term) else {
            self.record(
                at,
                Some(node),
                ViolationKind::LeaderWithoutCampaign { term: Term(term) },
            );
            return;
        };
        if started.voters() != membership.voters() {
            self.record(
                at,
                Some(node),
                ViolationKind::VotersChangedDuringCampaign {
                    term: Term(term),
                    at_start: started.voters().len(),
                    at_win: membership.voters().len(),
                },
            );
        }
        voters.push(node);
        voters.sort_unstable();
        voters.dedup();
        let votes = voters.iter().filter(|&&v| started.is_voter(v)).count();
        let quorum = started.quorum();
        if votes < quorum {
            self.record(
                at,
                Some(node),
                ViolationKind::LeaderWithoutMajority {
                    term: Term(term),
                    votes,
                    quorum,
                },
            );
        }
    }

    /// A message leaves `node` (`to` is `None` for a broadcast). Checks durability
    /// of votes and that only leaders send heartbeats; records granted votes.
    pub(crate) fn on_send(
        &mut self,
        at: u64,
        election: &Election<u64>,
        durable: Option<HardState<u64>>,
        ledger: &mut Vec<(u64, u64)>,
        to: Option<u64>,
        message: &Message,
    ) {
        let node = election.id();
        match *message {
            Message::VoteResponse {
                term,
                pre_vote: false,
                granted: true,
            } => {
                let Some(to) = to else { return };
                let expect = HardState {
                    term,
                    voted_for: Some(to),
                };
                if durable != Some(expect) {
                    self.record(
                        at,
                        Some(node),
                        ViolationKind::NotDurable {
                            message: MessageKind::VoteResponse,
                            term,
                            durable,
                        },
                    );
                }
                self.on_vote(at, node, ledger, term.get(), to);
            }
            Message::VoteRequest {
                term,
                pre_vote: false,
                ..
            } => {
                let expect = HardState {
                    term,
                    voted_for: Some(node),
                };
                if durable != Some(expect) {
                    self.record(
                        at,
                        Some(node),
                        ViolationKind::NotDurable {
                            message: MessageKind::VoteRequest,
                            term,
                            durable,
                        },
                    );
                }
            }
            Message::Heartbeat {
                term, hand_over, ..
            } if (election.role() != Role::Leader || election.term() != term)
                // A leader that stops leading in this step (StepDown, removal) may
                // announce its hand-over with one last heartbeat of the term it led.
                && !(hand_over
                    && election.term() == term
                    && self.leaders.get(&term.get()) == Some(&node)) =>
            {
                self.record(
                    at,
                    Some(node),
                    ViolationKind::HeartbeatFromNonLeader {
                        term,
                        role: election.role(),
                    },
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voters(ids: &[u64]) -> Membership<u64> {
        Membership::new(ids.iter().copied()).unwrap()
    }

    /// The checker itself, independent of any core: grants counted against the
    /// campaign's voter set, not the current one.
    #[test]
    fn a_win_on_a_tally_from_another_voter_set_is_a_violation() {
        let mut c = Checker::default();
        c.on_grant_delivered(1, 4, 5);
        let campaign = (1, voters(&[1, 2, 3, 4, 5]));
        c.on_leader(0, 4, 1, Some(&campaign), &voters(&[1, 4, 5]));
        let kinds: Vec<ViolationKind> = c.violations.iter().map(|v| v.kind).collect();
        assert_eq!(
            kinds,
            [
                ViolationKind::VotersChangedDuringCampaign {
                    term: Term(1),
                    at_start: 5,
                    at_win: 3
                },
                ViolationKind::LeaderWithoutMajority {
                    term: Term(1),
                    votes: 2,
                    quorum: 3
                },
            ]
        );
        // A campaign of another term, or none: a leader without a campaign.
        c.on_leader(0, 2, 2, Some(&campaign), &voters(&[1, 2, 3, 4, 5]));
        c.on_leader(0, 3, 3, None, &voters(&[1, 2, 3, 4, 5]));
        assert_eq!(c.count, 4);
        // A legitimate win: grants from a majority of an unchanged voter set.
        let mut c = Checker::default();
        c.on_grant_delivered(1, 1, 2);
        c.on_grant_delivered(1, 1, 2);
        c.on_grant_delivered(1, 1, 3);
        let campaign = (1, voters(&[1, 2, 3, 4, 5]));
        c.on_leader(0, 1, 1, Some(&campaign), &voters(&[1, 2, 3, 4, 5]));
        assert_eq!(c.count, 0, "{:?}", c.violations);
    }
}
