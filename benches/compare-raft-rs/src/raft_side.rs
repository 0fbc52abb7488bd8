//! The raft-rs 0.7 side: `RawNode`s in the states each scenario needs, and the host
//! work done with a `Ready` (the same work the ballot side does with its outputs).

use raft::eraftpb::{ConfState, Message, MessageType};
use raft::storage::MemStorage;
use raft::{Config, RawNode, StateRole};

pub type Node = RawNode<MemStorage>;

/// What a host does with a `Ready`: messages are moved into an outbox, the hard
/// state is written to an in-memory "disk" buffer, new log entries (only the
/// leader's empty entry in these scenarios) go to raft-rs's own `MemStorage`, and
/// the ready is advanced. Committed entries are not applied (there is nothing to
/// apply).
#[derive(Default)]
pub struct Host {
    pub outbox: Vec<Message>,
    pub disk: Vec<u8>,
}

impl Host {
    pub fn handle_ready(&mut self, node: &mut Node) {
        if !node.has_ready() {
            return;
        }
        let mut rd = node.ready();
        self.outbox.extend(rd.take_messages());
        if !rd.entries().is_empty() {
            node.mut_store().wl().append(rd.entries()).unwrap();
        }
        if let Some(hs) = rd.hs() {
            self.disk.clear();
            self.disk.extend_from_slice(&hs.term.to_le_bytes());
            self.disk.extend_from_slice(&hs.vote.to_le_bytes());
            self.disk.extend_from_slice(&hs.commit.to_le_bytes());
        }
        self.outbox.extend(rd.take_persisted_messages());
        let mut light = node.advance(rd);
        self.outbox.extend(light.take_messages());
        std::hint::black_box(light.committed_entries());
        node.advance_apply();
    }
}

pub fn logger() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

/// Timeouts in ticks. `[election, max)` is the randomized range.
#[derive(Clone, Copy)]
pub struct Ticks {
    pub election: usize,
    pub max: usize,
    pub heartbeat: usize,
}

/// The per-operation scenarios: heartbeat every tick, election timeout 3 ticks
/// (the same 1 : 3 ratio as ballot's 50 ms : 150 ms).
pub const OP_TICKS: Ticks = Ticks {
    election: 3,
    max: 6,
    heartbeat: 1,
};

pub fn node(id: u64, voters: u64, pre_vote: bool, ticks: Ticks, log: &slog::Logger) -> Node {
    let storage = MemStorage::new_with_conf_state(ConfState::from((
        (1..=voters).collect::<Vec<_>>(),
        vec![],
    )));
    let config = Config {
        id,
        election_tick: ticks.election,
        heartbeat_tick: ticks.heartbeat,
        min_election_tick: ticks.election,
        max_election_tick: ticks.max,
        pre_vote,
        check_quorum: true,
        ..Default::default()
    };
    RawNode::new(&config, storage, log).unwrap()
}

pub fn msg(kind: MessageType, from: u64, to: u64, term: u64) -> Message {
    let mut m = Message::default();
    m.set_msg_type(kind);
    m.from = from;
    m.to = to;
    m.term = term;
    m
}

/// Node 2 of `voters`, following leader 1 in term 1.
pub fn follower(voters: u64, log: &slog::Logger) -> Node {
    let mut n = node(2, voters, true, OP_TICKS, log);
    n.step(msg(MessageType::MsgHeartbeat, 1, 2, 1)).unwrap();
    Host::default().handle_ready(&mut n);
    assert_eq!(n.raft.leader_id, 1);
    n
}

/// Node 1 of `voters`, leader of term 1 (elected without PreVote by feeding it
/// grants), with CheckQuorum on; every follower has acknowledged the leader's empty
/// entry, so heartbeat replies trigger no appends.
pub fn leader(voters: u64, log: &slog::Logger) -> Node {
    let mut n = node(1, voters, false, OP_TICKS, log);
    let mut host = Host::default();
    n.campaign().unwrap();
    host.handle_ready(&mut n);
    for from in 2..=voters {
        let term = n.raft.term;
        n.step(msg(MessageType::MsgRequestVoteResponse, from, 1, term))
            .unwrap();
        host.handle_ready(&mut n);
    }
    assert_eq!(n.raft.state, StateRole::Leader);
    let last = n.raft.raft_log.last_index();
    for from in 2..=voters {
        let mut m = msg(MessageType::MsgAppendResponse, from, 1, n.raft.term);
        m.index = last;
        n.step(m).unwrap();
        host.handle_ready(&mut n);
    }
    n
}
