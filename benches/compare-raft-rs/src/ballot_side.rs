//! The `ballot` side: nodes in the states each scenario needs, and the host work
//! done with their outputs (the same work the raft-rs side does with its `Ready`).

use std::time::Duration;

use ballot::{Config, Election, HardState, Input, Instant, Membership, Message, Output, Term};

/// What a host does with outputs: messages are moved into an outbox (a `Broadcast`
/// is fanned out to every peer there), a `Persist` is written to an in-memory
/// "disk" buffer, role/leader events are looked at and dropped.
#[derive(Default)]
pub struct Host {
    pub outbox: Vec<(u64, u64, Message)>,
    pub disk: Vec<u8>,
}

impl Host {
    pub fn handle(&mut self, node: &Election, outputs: &mut Vec<Output<u64>>) {
        let id = node.id();
        for output in outputs.iter() {
            match output {
                Output::Persist(hs) => self.persist(*hs),
                Output::Send { to, message } => self.outbox.push((id, *to, *message)),
                Output::Broadcast { message } => {
                    for peer in node.membership().peers_of(id) {
                        self.outbox.push((id, peer, *message));
                    }
                }
                other => {
                    std::hint::black_box(other);
                }
            }
        }
        outputs.clear();
    }

    fn persist(&mut self, hs: HardState<u64>) {
        self.disk.clear();
        self.disk.extend_from_slice(&hs.term.get().to_le_bytes());
        self.disk
            .extend_from_slice(&hs.voted_for.unwrap_or(0).to_le_bytes());
    }
}

pub fn config(pre_vote: bool) -> Config {
    Config::default()
        .with_election_timeout(Duration::from_millis(150), Duration::from_millis(300))
        .with_heartbeat_interval(Duration::from_millis(50))
        .with_pre_vote(pre_vote)
        .with_check_quorum(true)
}

pub fn node(id: u64, voters: u64, pre_vote: bool) -> Election {
    let members = Membership::new(1..=voters).unwrap();
    Election::new(config(pre_vote), id, members, None, Instant::ZERO).unwrap()
}

/// Node 2 of `voters`, following leader 1 in term 1.
pub fn follower(voters: u64) -> Election {
    let mut n = node(2, voters, true);
    let hb = Message::Heartbeat {
        term: Term(1),
        sent: Instant::ZERO,
        hand_over: false,
    };
    let _ = n.step(
        Input::Receive {
            from: 1,
            message: hb,
        },
        Instant::from_millis(1),
    );
    assert_eq!(n.leader(), Some(1));
    n
}

/// Node 1 of `voters`, leader of term 1 (elected without PreVote by feeding it
/// grants), with CheckQuorum on. Returns the node and the time of its election.
pub fn leader(voters: u64) -> (Election, Instant) {
    let mut n = node(1, voters, false);
    let mut now = Instant::from_millis(1);
    let _ = n.step(Input::Campaign, now);
    for from in 2..=voters {
        now += Duration::from_micros(1);
        let message = Message::VoteResponse {
            term: n.term(),
            pre_vote: false,
            granted: true,
        };
        let _ = n.step(Input::Receive { from, message }, now);
    }
    assert!(n.is_leader());
    (n, now)
}
