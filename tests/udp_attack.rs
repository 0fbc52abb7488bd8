//! The attack the `auth` feature exists for: one forged `Heartbeat` with term
//! `u64::MAX` wedges a node — and through its replies the whole cluster — at
//! `TermExhausted`. Without a key the forged frame gets through; with a key it is
//! dropped and counted.
//!
//! The attacker sends from the address of a configured peer that is down (its port
//! is free): on a real network it would forge the source address instead, which the
//! transport cannot detect. Everything runs on 127.0.0.1 with ephemeral ports.
#![cfg(feature = "std")]

use std::net::UdpSocket;
use std::time::Duration;

use ballot::frame::Frame;
use ballot::transport::{UdpConfig, UdpTransport};
use ballot::{
    CommandError, Config, Election, Input, Instant, Membership, Message, Output, Role, Term,
};

const CLUSTER: u64 = 0xa77ac;

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// A follower of leader 1 in term 5, in a cluster {1, 2, 3}.
fn follower() -> Election<u64> {
    let members = Membership::new([1u64, 2, 3]).unwrap();
    let mut node = Election::new(Config::default(), 2, members, None, Instant::ZERO).unwrap();
    let _ = node.step(
        Input::Receive {
            from: 1,
            message: Message::Heartbeat {
                term: Term(5),
                sent: Instant::ZERO,
                hand_over: false,
            },
        },
        Instant::from_millis(1),
    );
    assert_eq!((node.term(), node.leader()), (Term(5), Some(1)));
    node
}

/// The forged datagram: "node `from` leads term u64::MAX", unauthenticated.
fn forged(from: u64, to: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    Frame {
        cluster: CLUSTER,
        from,
        to,
        message: Message::Heartbeat {
            term: Term(u64::MAX),
            sent: Instant::ZERO,
            hand_over: false,
        },
    }
    .encode(&mut buf);
    buf
}

/// Node 2 receives what arrives (the forged frame, then an honest heartbeat from
/// leader 1) and steps its election with every accepted message; then the
/// election times out and is asked to campaign. Returns the node and what the
/// campaign produced.
fn attack(
    node_transport: UdpTransport<u64>,
    leader: &UdpTransport<u64>,
    attacker: &UdpSocket,
) -> (Election<u64>, Vec<Output<u64>>, UdpTransport<u64>) {
    let mut node = follower();
    attacker
        .send_to(&forged(3, 2), node_transport.local_addr().unwrap())
        .unwrap();
    leader
        .send(
            2,
            Message::Heartbeat {
                term: Term(5),
                sent: Instant::ZERO,
                hand_over: false,
            },
        )
        .unwrap();
    let mut now = Instant::from_millis(2);
    loop {
        let (from, message) = node_transport.recv().unwrap();
        now += Duration::from_millis(1);
        let _ = node.step(Input::Receive { from, message }, now);
        if (from, message)
            == (
                1,
                Message::Heartbeat {
                    term: Term(5),
                    sent: Instant::ZERO,
                    hand_over: false,
                },
            )
        {
            break; // the honest heartbeat comes last
        }
    }
    let out = node.step(Input::Campaign, now + Duration::from_secs(1));
    (node, out, node_transport)
}

fn setup(#[allow(unused)] key: Option<u8>) -> (UdpTransport<u64>, UdpTransport<u64>, UdpSocket) {
    let (s1, s2, attacker) = (socket(), socket(), socket());
    let (a1, a2, a3) = (
        s1.local_addr().unwrap(),
        s2.local_addr().unwrap(),
        attacker.local_addr().unwrap(), // node 3 is down; the attacker holds its port
    );
    let config = |id, peers: [(u64, _); 2]| {
        let c = UdpConfig::new(id, CLUSTER).peers(peers);
        #[cfg(feature = "auth")]
        let c = match key {
            Some(k) => c.key(ballot::transport::ClusterKey::from_bytes([k; 32])),
            None => c,
        };
        c
    };
    let node = UdpTransport::from_socket(s2, config(2, [(1, a1), (3, a3)])).unwrap();
    let leader = UdpTransport::from_socket(s1, config(1, [(2, a2), (3, a3)])).unwrap();
    (node, leader, attacker)
}

#[test]
fn without_a_key_one_forged_heartbeat_wedges_a_node_at_term_exhausted() {
    let (node, leader, attacker) = setup(None);
    let (election, out, transport) = attack(node, &leader, &attacker);
    assert_eq!(
        transport.stats().received,
        2,
        "the forged frame was accepted"
    );
    assert_eq!(election.term(), Term(u64::MAX));
    assert_eq!(election.leader(), Some(3));
    assert!(
        out.contains(&Output::Rejected(CommandError::TermExhausted)),
        "it can never campaign again: {out:?}"
    );
    // And it spreads: the real leader's heartbeat is answered with term u64::MAX,
    // which the leader adopts (it is a higher term), and so on.
    let mut election = election;
    let reply = election.step(
        Input::Receive {
            from: 1,
            message: Message::Heartbeat {
                term: Term(5),
                sent: Instant::ZERO,
                hand_over: false,
            },
        },
        Instant::from_secs(10),
    );
    assert!(reply.iter().any(|o| matches!(
        o,
        Output::Send { to: 1, message: Message::HeartbeatResponse { term, .. } } if *term == Term(u64::MAX)
    )), "{reply:?}");
}

#[cfg(feature = "auth")]
#[test]
fn with_a_key_the_forged_heartbeat_is_dropped_and_counted() {
    let (node, leader, attacker) = setup(Some(42));
    let (election, out, transport) = attack(node, &leader, &attacker);
    let stats = transport.stats();
    assert_eq!((stats.received, stats.bad_tag), (1, 1), "{stats:?}");
    assert_eq!(election.term(), Term(5));
    assert!(
        !out.iter().any(|o| matches!(o, Output::Rejected(_))),
        "{out:?}"
    );
    assert!(
        matches!(election.role(), Role::PreCandidate | Role::Candidate),
        "it can still campaign: {:?}",
        election.role()
    );
}

/// The same attack on a running cluster: three nodes on the thread driver over
/// UDP (voters {1, 2, 3, 4}; node 4 is down and the attacker holds its port).
/// The attacker sends one forged heartbeat to one node.
mod running_cluster {
    #![allow(clippy::disallowed_types, clippy::disallowed_methods)] // real time
    use super::*;
    use ballot::driver::thread;
    use ballot::store::MemoryStore;
    use std::collections::BTreeMap;
    use std::time::Instant as WallClock;

    type Node = thread::Node<u64, MemoryStore<u64>, UdpTransport<u64>>;

    struct Cluster {
        nodes: BTreeMap<u64, (Node, ballot::transport::Receiving, UdpTransport<u64>)>,
        attacker: UdpSocket,
        addrs: BTreeMap<u64, std::net::SocketAddr>,
    }

    fn start(#[allow(unused)] key: Option<u8>) -> Cluster {
        let sockets: BTreeMap<u64, UdpSocket> = (1..=4).map(|id| (id, socket())).collect();
        let addrs: BTreeMap<u64, _> = sockets
            .iter()
            .map(|(&id, s)| (id, s.local_addr().unwrap()))
            .collect();
        let members = Membership::new([1u64, 2, 3, 4]).unwrap();
        let mut nodes = BTreeMap::new();
        let mut attacker = None;
        for (id, socket) in sockets {
            if id == 4 {
                attacker = Some(socket);
                continue;
            }
            let config = UdpConfig::new(id, CLUSTER).peers(addrs.iter().map(|(&p, &a)| (p, a)));
            #[cfg(feature = "auth")]
            let config = match key {
                Some(k) => config.key(ballot::transport::ClusterKey::from_bytes([k; 32])),
                None => config,
            };
            let transport = UdpTransport::from_socket(socket, config).unwrap();
            // Generous timeouts: a busy test machine must not cause elections.
            let config = Config::default()
                .with_election_timeout(Duration::from_millis(500), Duration::from_millis(1000))
                .with_seed(id);
            let node = thread::start(
                config,
                id,
                members.clone(),
                MemoryStore::new(),
                transport.clone(),
            )
            .unwrap();
            let receiving = transport.deliver_to(node.handle()).unwrap();
            nodes.insert(id, (node, receiving, transport));
        }
        Cluster {
            nodes,
            attacker: attacker.unwrap(),
            addrs,
        }
    }

    impl Cluster {
        /// (leader, term) once a node leads and every node follows it.
        fn agreed_leader(&self) -> Option<(u64, Term)> {
            let statuses: Vec<_> = self.nodes.values().map(|n| n.0.handle().status()).collect();
            let leader = statuses.iter().find(|s| s.is_leader())?;
            statuses
                .iter()
                .all(|s| s.leader == Some(leader.id) && s.term == leader.term)
                .then_some((leader.id, leader.term))
        }

        fn wait_for_leader(&self) -> (u64, Term) {
            let start = WallClock::now();
            loop {
                if let Some(found) = self.agreed_leader() {
                    return found;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "no leader within 20 s"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }

        /// The terms of all nodes, sampled every 10 ms for `span`, and whether any
        /// node led at any sample.
        fn watch(&self, span: Duration) -> (Vec<Term>, bool) {
            let start = WallClock::now();
            let mut led = false;
            loop {
                let statuses: Vec<_> = self.nodes.values().map(|n| n.0.handle().status()).collect();
                led |= statuses.iter().any(|s| s.is_leader());
                if start.elapsed() > span {
                    return (statuses.iter().map(|s| s.term).collect(), led);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }

        fn forge(&self, to: u64) {
            self.attacker
                .send_to(&forged(4, to), self.addrs[&to])
                .unwrap();
        }
    }

    #[test]
    fn without_a_key_one_datagram_leaves_the_cluster_without_a_leader_for_good() {
        let cluster = start(None);
        let (leader, _) = cluster.wait_for_leader();
        let victim = if leader == 1 { 2 } else { 1 };
        cluster.forge(victim);
        // The third node hears no leader any more, times out (0.5-1 s), asks for
        // pre-votes and learns u64::MAX from the refusals; after that nobody can
        // campaign past it.
        std::thread::sleep(Duration::from_secs(2));
        let (terms, led) = cluster.watch(Duration::from_secs(2));
        assert_eq!(
            terms,
            vec![Term(u64::MAX); 3],
            "every node was pushed to the last term"
        );
        assert!(!led, "no node led during the 2 s after the spread");
        let victim_stats = cluster.nodes[&victim].2.stats();
        assert!(
            victim_stats.received > 0 && victim_stats.dropped() == 0,
            "{victim_stats:?}"
        );
    }

    #[cfg(feature = "auth")]
    #[test]
    fn with_a_key_the_forged_datagram_is_dropped_and_the_leader_stays() {
        let cluster = start(Some(9));
        let (leader, term) = cluster.wait_for_leader();
        let victim = if leader == 1 { 2 } else { 1 };
        cluster.forge(victim);
        let (terms, _) = cluster.watch(Duration::from_secs(2));
        assert_eq!(terms, vec![term; 3], "no term moved");
        assert_eq!(cluster.agreed_leader(), Some((leader, term)));
        assert_eq!(cluster.nodes[&victim].2.stats().bad_tag, 1);
    }
}
