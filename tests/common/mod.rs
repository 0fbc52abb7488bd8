//! Helpers shared by the protocol tests: building nodes in a known state, short
//! names for messages and inputs, and picking outputs apart.
//!
//! Every helper drives the node only through its public API (`new`, `step`,
//! getters), so a test reads as "given this history, this input gives these outputs".
#![allow(dead_code)]

use ballot::{
    Config, Election, Freshness, HardState, Input, Instant, Membership, Message, Output, Role, Term,
};
use core::time::Duration;

/// Default timing: election timeout [150, 300) ms, heartbeat 50 ms.
pub const MIN: Duration = Duration::from_millis(150);
pub const MAX: Duration = Duration::from_millis(300);
pub const HEARTBEAT: Duration = Duration::from_millis(50);

pub type Node = Election<u64>;
pub type Out = Vec<Output<u64>>;

pub fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

pub fn t(n: u64) -> Term {
    Term(n)
}

/// The default configuration (PreVote and CheckQuorum on).
pub fn config() -> Config {
    Config::default()
}

/// The default configuration with PreVote off, for tests about real votes.
pub fn no_pre_vote() -> Config {
    Config::default().with_pre_vote(false)
}

pub fn voters(ids: &[u64]) -> Membership<u64> {
    Membership::new(ids.iter().copied()).unwrap()
}

pub fn members(ids: &[u64], learners: &[u64]) -> Membership<u64> {
    Membership::with_learners(ids.iter().copied(), learners.iter().copied()).unwrap()
}

/// A fresh node `id` among `ids` (all voters), created at time 0.
pub fn node(config: Config, id: u64, ids: &[u64]) -> Node {
    Election::new(config, id, voters(ids), None, Instant::ZERO).unwrap()
}

/// A node resumed from `hard` at time 0, with the restart quarantine off: these
/// tests are about what a resumed node remembers and may do at once; the quarantine
/// has its own tests (`protocol_lease.rs`).
pub fn restarted(config: Config, id: u64, ids: &[u64], hard: HardState<u64>) -> Node {
    let config = config.with_restart_quarantine(false);
    Election::new(config, id, voters(ids), Some(hard), Instant::ZERO).unwrap()
}

pub fn hard(term: u64, voted_for: Option<u64>) -> HardState<u64> {
    HardState {
        term: Term(term),
        voted_for,
    }
}

pub fn recv(from: u64, message: Message) -> Input<u64> {
    Input::Receive { from, message }
}

pub fn vote_request(term: u64) -> Message {
    Message::VoteRequest {
        term: Term(term),
        pre_vote: false,
        transfer: false,
        freshness: Freshness::default(),
    }
}

/// A real vote request carrying the transfer mark.
#[allow(dead_code)]
pub fn transfer_vote_request(term: u64) -> Message {
    Message::VoteRequest {
        term: Term(term),
        pre_vote: false,
        transfer: true,
        freshness: Freshness::default(),
    }
}

pub fn pre_vote_request(term: u64) -> Message {
    Message::VoteRequest {
        term: Term(term),
        pre_vote: true,
        transfer: false,
        freshness: Freshness::default(),
    }
}

pub fn vote_request_with(term: u64, pre_vote: bool, freshness: Freshness) -> Message {
    Message::VoteRequest {
        term: Term(term),
        pre_vote,
        transfer: false,
        freshness,
    }
}

pub fn vote_response(term: u64, granted: bool) -> Message {
    Message::VoteResponse {
        term: Term(term),
        pre_vote: false,
        granted,
    }
}

pub fn pre_vote_response(term: u64, granted: bool) -> Message {
    Message::VoteResponse {
        term: Term(term),
        pre_vote: true,
        granted,
    }
}

/// A heartbeat of `term` sent at the leader's instant zero (see [`heartbeat_at`]).
pub fn heartbeat(term: u64) -> Message {
    heartbeat_at(term, Instant::ZERO)
}

/// A heartbeat sent at time 0 announcing a hand-over.
#[allow(dead_code)]
pub fn hand_over_heartbeat(term: u64) -> Message {
    hand_over_heartbeat_at(term, Instant::ZERO)
}

/// A heartbeat sent at `sent` announcing a hand-over.
#[allow(dead_code)]
pub fn hand_over_heartbeat_at(term: u64, sent: Instant) -> Message {
    Message::Heartbeat {
        term: Term(term),
        sent,
        hand_over: true,
    }
}

/// A heartbeat of `term` sent at `sent` in the leader's clock.
pub fn heartbeat_at(term: u64, sent: Instant) -> Message {
    Message::Heartbeat {
        term: Term(term),
        sent,
        hand_over: false,
    }
}

/// A reply to a heartbeat sent at instant zero (see [`heartbeat_response_to`]).
pub fn heartbeat_response(term: u64) -> Message {
    heartbeat_response_to(term, Instant::ZERO)
}

/// A reply in `term` to the heartbeat sent at `sent`.
pub fn heartbeat_response_to(term: u64, sent: Instant) -> Message {
    heartbeat_response_with(term, sent, Freshness::default(), 0, false)
}

/// A heartbeat reply with the responder's standing.
#[allow(dead_code)]
pub fn heartbeat_response_with(
    term: u64,
    sent: Instant,
    freshness: Freshness,
    priority: u8,
    witness: bool,
) -> Message {
    Message::HeartbeatResponse {
        term: Term(term),
        sent,
        freshness,
        priority,
        witness,
    }
}

/// The leader of `term` tells the receiver to campaign now.
#[allow(dead_code)]
pub fn timeout_now(term: u64) -> Message {
    Message::TimeoutNow { term: Term(term) }
}

pub fn send(to: u64, message: Message) -> Output<u64> {
    Output::Send { to, message }
}

pub fn broadcast(message: Message) -> Output<u64> {
    Output::Broadcast { message }
}

pub fn persist(term: u64, voted_for: Option<u64>) -> Output<u64> {
    Output::Persist(hard(term, voted_for))
}

pub fn role_changed(role: Role, term: u64) -> Output<u64> {
    Output::RoleChanged {
        role,
        term: Term(term),
    }
}

pub fn leader_changed(leader: Option<u64>, term: u64) -> Output<u64> {
    Output::LeaderChanged {
        leader,
        term: Term(term),
    }
}

/// Ticks `node` exactly at its next deadline; returns that time and the outputs.
pub fn fire(node: &mut Node) -> (Instant, Out) {
    let at = node.next_deadline().expect("a timer is always armed");
    (at, node.step(Input::Tick, at))
}

/// The `Persist` outputs, in order.
pub fn persists(out: &[Output<u64>]) -> Vec<HardState<u64>> {
    out.iter()
        .filter_map(|o| match o {
            Output::Persist(h) => Some(*h),
            _ => None,
        })
        .collect()
}

/// The messages sent or broadcast, in order (`None` as recipient for a broadcast).
pub fn messages(out: &[Output<u64>]) -> Vec<(Option<u64>, Message)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { to, message } => Some((Some(*to), *message)),
            Output::Broadcast { message } => Some((None, *message)),
            _ => None,
        })
        .collect()
}

/// Position of the first output matching `pred`.
pub fn position(out: &[Output<u64>], pred: impl Fn(&Output<u64>) -> bool) -> Option<usize> {
    out.iter().position(pred)
}

/// Node 1 of `ids`, made a candidate of term 1 by its election timeout
/// (the config must have PreVote off). Returns the node and the time.
pub fn candidate(config: Config, ids: &[u64]) -> (Node, Instant) {
    assert!(!config.pre_vote, "candidate() needs PreVote off");
    let mut n = node(config, 1, ids);
    let (now, _) = fire(&mut n);
    assert_eq!(n.role(), Role::Candidate);
    (n, now)
}

/// Node 1 of `ids` (at least 2 voters), elected leader of term 1 with the votes of
/// the next voters. Returns the node and the time of its election.
pub fn leader(config: Config, ids: &[u64]) -> (Node, Instant) {
    let (mut n, now) = candidate(config.with_pre_vote(false), ids);
    let quorum = ids.len() / 2 + 1;
    for &peer in ids.iter().filter(|&&p| p != 1).take(quorum - 1) {
        let _ = n.step(recv(peer, vote_response(1, true)), now);
    }
    assert_eq!(n.role(), Role::Leader);
    (n, now)
}

/// Node `id` of `ids`, following leader `from` of `term` after a heartbeat at `at`.
pub fn follower_of(
    config: Config,
    id: u64,
    ids: &[u64],
    from: u64,
    term: u64,
    at: Instant,
) -> Node {
    let mut n = node(config, id, ids);
    let _ = n.step(recv(from, heartbeat(term)), at);
    assert_eq!(n.leader(), Some(from));
    assert_eq!(n.term(), Term(term));
    n
}

/// Whether the state a test can observe (hard state, role, leader, deadline) is
/// unchanged between two snapshots.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Snapshot {
    pub role: Role,
    pub term: Term,
    pub voted_for: Option<u64>,
    pub leader: Option<u64>,
    pub next_deadline: Option<Instant>,
    pub membership: Membership<u64>,
    pub freshness: Freshness,
}

pub fn snapshot(n: &Node) -> Snapshot {
    Snapshot {
        role: n.role(),
        term: n.term(),
        voted_for: n.voted_for(),
        leader: n.leader(),
        next_deadline: n.next_deadline(),
        membership: n.membership().clone(),
        freshness: n.freshness(),
    }
}
