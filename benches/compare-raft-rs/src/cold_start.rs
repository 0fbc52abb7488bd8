//! Cold-start elections driven identically on both sides.
//!
//! Time advances in 1 ms ticks. Timeouts: `[150, 300) ms` on ballot; raft-rs gets
//! `election_tick = 150` and each node's first randomized timeout set to
//! `ceil(ballot's first deadline / 1 ms)` ticks, so both sides' first timeouts fire at
//! the same tick. Each tick: first timers run in id order (ballot: nodes whose
//! `next_deadline()` has come; raft-rs: `tick()` on every node, as its API
//! requires); then every message sent during the previous tick is delivered, in
//! FIFO order (one-way delay: one tick; timers first so that a timer re-armed by a
//! message at tick k fires at k + its timeout on both sides). The messages one step produces are sorted by destination
//! (stable) before they enter the queue, so a broadcast reaches peers in id order on
//! both sides. Persisting is synchronous (an in-memory buffer). The run ends at the
//! end of the first tick after which one leader exists and every node knows it; the
//! trace is the winner, its term, that tick, and the delivered messages by kind.

use std::fmt;
use std::time::{Duration, Instant as WallClock};

use ballot::{Election, Input, Instant, Message};
use raft::StateRole;
use raft::eraftpb::MessageType;

use crate::alloc;
use crate::{ballot_side, raft_side};

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Trace {
    pub winner: u64,
    pub term: u64,
    pub ms: u64,
    pub pre_vote_requests: u64,
    pub pre_vote_grants: u64,
    pub pre_vote_refusals: u64,
    pub vote_requests: u64,
    pub vote_grants: u64,
    pub vote_refusals: u64,
    /// Ballot: heartbeats; raft-rs: `MsgAppend` / `MsgHeartbeat`.
    pub leader_messages: u64,
    /// Replies to those.
    pub leader_replies: u64,
    pub other: u64,
}

impl Trace {
    pub fn messages(&self) -> u64 {
        self.pre_vote_requests
            + self.pre_vote_grants
            + self.pre_vote_refusals
            + self.vote_requests
            + self.vote_grants
            + self.vote_refusals
            + self.leader_messages
            + self.leader_replies
            + self.other
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "leader {} term {} at {} ms; {} msgs (pre-vote {}/{}+{}, vote {}/{}+{}, leader {}/{}, other {})",
            self.winner,
            self.term,
            self.ms,
            self.messages(),
            self.pre_vote_requests,
            self.pre_vote_grants,
            self.pre_vote_refusals,
            self.vote_requests,
            self.vote_grants,
            self.vote_refusals,
            self.leader_messages,
            self.leader_replies,
            self.other
        )
    }
}

/// Result of one run: the trace, wall time of the election (cluster construction
/// excluded), allocations during it.
pub struct Run {
    pub trace: Trace,
    pub wall: Duration,
    pub allocs: u64,
}

const MAX_MS: u64 = 10_000;

pub fn ballot_cluster(n: u64, pre_vote: bool) -> Vec<Election> {
    (1..=n)
        .map(|id| ballot_side::node(id, n, pre_vote))
        .collect()
}

/// Each node's first election timeout in whole ticks (rounded up), from ballot's draw.
pub fn first_timeouts(cluster: &[Election]) -> Vec<usize> {
    cluster
        .iter()
        .map(|e| e.next_deadline().unwrap().as_nanos().div_ceil(1_000_000) as usize)
        .collect()
}

pub fn raft_cluster(
    n: u64,
    pre_vote: bool,
    timeouts: &[usize],
    log: &slog::Logger,
) -> Vec<raft_side::Node> {
    let ticks = raft_side::Ticks {
        election: 150,
        max: 301,
        heartbeat: 50,
    };
    (1..=n)
        .map(|id| {
            let mut node = raft_side::node(id, n, pre_vote, ticks, log);
            node.raft
                .set_randomized_election_timeout(timeouts[id as usize - 1]);
            node
        })
        .collect()
}

fn count_ballot(t: &mut Trace, m: &Message) {
    match *m {
        Message::VoteRequest { pre_vote: true, .. } => t.pre_vote_requests += 1,
        Message::VoteRequest { .. } => t.vote_requests += 1,
        Message::VoteResponse {
            pre_vote: true,
            granted: true,
            ..
        } => t.pre_vote_grants += 1,
        Message::VoteResponse { pre_vote: true, .. } => t.pre_vote_refusals += 1,
        Message::VoteResponse { granted: true, .. } => t.vote_grants += 1,
        Message::VoteResponse { .. } => t.vote_refusals += 1,
        Message::Heartbeat { .. } => t.leader_messages += 1,
        Message::HeartbeatResponse { .. } => t.leader_replies += 1,
        _ => t.other += 1,
    }
}

fn count_raft(t: &mut Trace, m: &raft::eraftpb::Message) {
    use MessageType::*;
    match (m.get_msg_type(), m.reject) {
        (MsgRequestPreVote, _) => t.pre_vote_requests += 1,
        (MsgRequestVote, _) => t.vote_requests += 1,
        (MsgRequestPreVoteResponse, false) => t.pre_vote_grants += 1,
        (MsgRequestPreVoteResponse, true) => t.pre_vote_refusals += 1,
        (MsgRequestVoteResponse, false) => t.vote_grants += 1,
        (MsgRequestVoteResponse, true) => t.vote_refusals += 1,
        (MsgAppend | MsgHeartbeat, _) => t.leader_messages += 1,
        (MsgAppendResponse | MsgHeartbeatResponse, _) => t.leader_replies += 1,
        _ => t.other += 1,
    }
}

pub fn run_ballot(mut nodes: Vec<Election>) -> Run {
    let mut host = ballot_side::Host::default();
    let mut queue = Vec::new();
    let mut out = Vec::new();
    let mut trace = Trace::default();
    let allocs = alloc::allocs();
    let start = WallClock::now();
    for ms in 1..=MAX_MS {
        let now = Instant::from_millis(ms);
        std::mem::swap(&mut queue, &mut host.outbox);
        for node in &mut nodes {
            if node.next_deadline().is_some_and(|d| d <= now) {
                node.step_into(Input::Tick, now, &mut out);
                let at = host.outbox.len();
                host.handle(node, &mut out);
                host.outbox[at..].sort_by_key(|m| m.1);
            }
        }
        for (from, to, message) in queue.drain(..) {
            count_ballot(&mut trace, &message);
            let node = &mut nodes[to as usize - 1];
            node.step_into(Input::Receive { from, message }, now, &mut out);
            let at = host.outbox.len();
            host.handle(node, &mut out);
            host.outbox[at..].sort_by_key(|m| m.1);
        }
        if let Some(leader) = nodes.iter().find(|n| n.is_leader()) {
            let (id, term) = (leader.id(), leader.term());
            if nodes
                .iter()
                .all(|n| n.leader() == Some(id) && n.term() == term)
            {
                trace.winner = id;
                trace.term = term.get();
                trace.ms = ms;
                break;
            }
        }
    }
    let wall = start.elapsed();
    Run {
        trace,
        wall,
        allocs: alloc::allocs() - allocs,
    }
}

pub fn run_raft(mut nodes: Vec<raft_side::Node>) -> Run {
    let mut host = raft_side::Host::default();
    let mut queue = Vec::new();
    let mut trace = Trace::default();
    let allocs = alloc::allocs();
    let start = WallClock::now();
    for ms in 1..=MAX_MS {
        std::mem::swap(&mut queue, &mut host.outbox);
        for node in &mut nodes {
            node.tick();
            let at = host.outbox.len();
            host.handle_ready(node);
            host.outbox[at..].sort_by_key(|m| m.to);
        }
        for message in queue.drain(..) {
            count_raft(&mut trace, &message);
            let node = &mut nodes[message.to as usize - 1];
            let _ = node.step(message);
            let at = host.outbox.len();
            host.handle_ready(node);
            host.outbox[at..].sort_by_key(|m| m.to);
        }
        if let Some(leader) = nodes.iter().find(|n| n.raft.state == StateRole::Leader) {
            let (id, term) = (leader.raft.id, leader.raft.term);
            if nodes
                .iter()
                .all(|n| n.raft.leader_id == id && n.raft.term == term)
            {
                trace.winner = id;
                trace.term = term;
                trace.ms = ms;
                break;
            }
        }
    }
    let wall = start.elapsed();
    Run {
        trace,
        wall,
        allocs: alloc::allocs() - allocs,
    }
}
