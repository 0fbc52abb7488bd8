//! The UDP transport under the tokio driver, with 16-byte (UUID) node ids — the
//! almost-raft migration path of the README, run for real on 127.0.0.1: three
//! nodes elect a leader, lose it, elect another.
#![cfg(all(feature = "tokio", feature = "std"))]

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::time::Duration;

use ballot::driver::tokio as driver;
use ballot::store::FileStore;
use ballot::transport::{UdpConfig, UdpTransport};
use ballot::{Config, Input, Membership};

type Uuid = [u8; 16];

fn uuid(n: u8) -> Uuid {
    let mut id = [0x5a; 16];
    id[15] = n;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tokio_nodes_over_udp_with_uuid_ids_elect_and_re_elect() {
    let dir = tempfile::tempdir().unwrap();
    let ids = [uuid(1), uuid(2), uuid(3)];
    let sockets: BTreeMap<Uuid, UdpSocket> = ids
        .iter()
        .map(|&id| (id, UdpSocket::bind("127.0.0.1:0").unwrap()))
        .collect();
    let peers: Vec<(Uuid, _)> = sockets
        .iter()
        .map(|(&id, s)| (id, s.local_addr().unwrap()))
        .collect();
    let members = Membership::new(ids).unwrap();
    let config = Config::default()
        .with_election_timeout(Duration::from_millis(300), Duration::from_millis(600));
    let mut nodes = BTreeMap::new();
    for (id, socket) in sockets {
        let store = FileStore::new(dir.path().join(format!("{}.state", id[15])), id).unwrap();
        let udp =
            UdpTransport::from_socket(socket, UdpConfig::new(id, 7).peers(peers.clone())).unwrap();
        let node = driver::start(config, id, members.clone(), store, udp.clone()).unwrap();
        let receiving = udp.deliver_to(node.handle()).unwrap(); // the receive loop, on its own thread
        nodes.insert(id, (node, receiving));
    }

    let leader = wait_for_leader(&nodes, None).await;
    let term = nodes[&leader].0.handle().status().term;
    // Commands go through the handle and answer with a Result: adding a node
    // that already is a voter is rejected with a typed error.
    let other = *ids.iter().find(|&&id| id != leader).unwrap();
    assert!(
        nodes[&other]
            .0
            .handle()
            .command(Input::AddVoter(other))
            .await
            .is_err()
    );

    let (node, receiving) = nodes.remove(&leader).unwrap();
    drop(receiving);
    assert!(node.shutdown().await.error.is_none());
    let next = wait_for_leader(&nodes, Some(leader)).await;
    assert!(nodes[&next].0.handle().status().term > term);
    for (_, (node, _)) in nodes {
        assert!(node.shutdown().await.error.is_none());
    }
}

/// Waits (up to 20 s) until a node other than `not` leads and every running node
/// follows it, using the handles' watch channels.
async fn wait_for_leader<S, T>(
    nodes: &BTreeMap<Uuid, (driver::Node<Uuid, S, T>, ballot::transport::Receiving)>,
    not: Option<Uuid>,
) -> Uuid {
    let agreed = || {
        let statuses: Vec<_> = nodes.values().map(|(n, _)| n.handle().status()).collect();
        let leader = statuses
            .iter()
            .find(|s| s.is_leader() && Some(s.id) != not)?;
        statuses
            .iter()
            .all(|s| s.leader == Some(leader.id) && s.term == leader.term)
            .then_some(leader.id)
    };
    let mut watches: Vec<_> = nodes.values().map(|(n, _)| n.handle().watch()).collect();
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Some(id) = agreed() {
                return id;
            }
            // Wake on any node's next status change.
            let changed = watches.iter_mut().map(|w| Box::pin(w.changed()));
            let _ = futures_select(changed).await;
        }
    })
    .await
    .expect("a leader within 20 s")
}

/// Resolves when the first of the futures does.
async fn futures_select<F: std::future::Future + Unpin>(futures: impl Iterator<Item = F>) {
    let mut futures: Vec<F> = futures.collect();
    std::future::poll_fn(|cx| {
        for f in &mut futures {
            if std::pin::Pin::new(f).poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}
