//! Five nodes in one process on the real stack: each runs on the thread driver,
//! keeps its term and vote in a state file (`FileStore`: checksummed, fsync +
//! rename + directory fsync) and talks to the others over UDP on 127.0.0.1.
//!
//! It prints who leads and in which term, crashes the leader, prints the new
//! leader, then restarts the crashed node from its state file and shows it rejoin
//! as a follower of the new leader. Needs no set-up (ephemeral ports, a temporary
//! directory that is removed at the end): `cargo run --example cluster`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // real time, on purpose

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use ballot::driver::{NodeStatus, thread};
use ballot::store::FileStore;
use ballot::transport::{Receiving, UdpConfig, UdpTransport};
use ballot::{Config, Membership, Role, Term};

const CLUSTER_ID: u64 = 0xba11;

/// One running node: its driver, its UDP receive loop.
struct Running {
    node: thread::Node<u64, FileStore<u64>, UdpTransport<u64>>,
    _receiving: Receiving,
}

struct Cluster {
    members: Membership<u64>,
    addrs: BTreeMap<u64, SocketAddr>,
    running: BTreeMap<u64, Running>,
    events: Receiver<NodeStatus<u64>>,
    events_tx: Sender<NodeStatus<u64>>,
}

impl Cluster {
    /// Binds one UDP socket per node (ephemeral ports), then starts every node.
    fn start(n: u64, dir: &Path) -> Self {
        let sockets: BTreeMap<u64, UdpSocket> = (1..=n)
            .map(|id| (id, UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1")))
            .collect();
        let addrs = sockets
            .iter()
            .map(|(&id, s)| (id, s.local_addr().unwrap()))
            .collect();
        let (events_tx, events) = mpsc::channel();
        let mut cluster = Cluster {
            members: Membership::new(1..=n).unwrap(),
            addrs,
            running: BTreeMap::new(),
            events,
            events_tx,
        };
        for (id, socket) in sockets {
            cluster.start_node(id, socket, dir);
        }
        cluster
    }

    /// Starts node `id` from its state file (none yet on the first start).
    fn start_node(&mut self, id: u64, socket: UdpSocket, dir: &Path) {
        let store = FileStore::new(dir.join(format!("node-{id}.state")), id).expect("state file");
        let peers = self.addrs.iter().map(|(&p, &a)| (p, a));
        let transport =
            UdpTransport::from_socket(socket, UdpConfig::new(id, CLUSTER_ID).peers(peers))
                .expect("udp transport");
        let config = Config::default().with_seed(id);
        let node = thread::start(config, id, self.members.clone(), store, transport.clone())
            .expect("a readable state file and a valid config");
        // Messages from the socket go to the node; its status changes come here.
        let receiving = transport.deliver_to(node.handle()).expect("receive thread");
        let changes = node.handle().subscribe();
        let tx = self.events_tx.clone();
        std::thread::spawn(move || changes.iter().try_for_each(|s| tx.send(s)));
        self.running.insert(
            id,
            Running {
                node,
                _receiving: receiving,
            },
        );
    }

    /// Stops node `id` as a crash would: its thread and socket go away; only its
    /// state file remains.
    fn crash(&mut self, id: u64) {
        let running = self.running.remove(&id).expect("running");
        drop(running._receiving);
        let halted = running.node.shutdown();
        assert!(halted.error.is_none(), "no failed write");
    }

    /// Waits for a node to report that it leads, in a term above `above`.
    fn wait_for_leader(&self, above: Term) -> (u64, Term) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let s = self
                .events
                .recv_timeout(left)
                .expect("a leader within 20 s");
            if s.running && s.role == Role::Leader && s.term > above {
                return (s.id, s.term);
            }
        }
    }

    /// Waits for node `id` to report that it follows `leader`.
    fn wait_for_follower(&self, id: u64, leader: u64) -> Term {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let s = self
                .events
                .recv_timeout(left)
                .expect("the node rejoins within 20 s");
            if s.id == id && s.leader == Some(leader) {
                return s.term;
            }
        }
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut cluster = Cluster::start(5, dir.path());
    let (leader, term) = cluster.wait_for_leader(Term(0));
    println!("node {leader} leads term {term}");

    println!("crashing node {leader}");
    cluster.crash(leader);
    let (next, next_term) = cluster.wait_for_leader(term);
    println!("node {next} leads term {next_term}");
    assert!(
        next_term > term,
        "a new leader has a higher term: the term is a fencing token"
    );

    println!("restarting node {leader} from its state file");
    let socket = UdpSocket::bind(cluster.addrs[&leader]).expect("the crashed node's port is free");
    cluster.start_node(leader, socket, dir.path());
    let followed = cluster.wait_for_follower(leader, next);
    println!("node {leader} follows node {next} in term {followed}");

    for (_, running) in std::mem::take(&mut cluster.running) {
        let halted = running.node.shutdown();
        assert!(halted.error.is_none());
    }
    // `dir` and the state files in it are removed when it drops.
}
