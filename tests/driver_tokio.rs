//! The tokio driver, in virtual time (`start_paused`): clusters of 3 and 5 over
//! the channel transport elect, lose the leader and re-elect; a disk that stalls
//! for 10 × the election timeout neither delays a step-down nor lets a dependent
//! message out early; a failing disk halts the node before anything that depends
//! on the write leaves. Every run also checks the durability contract on every
//! message that really left.
#![cfg(feature = "tokio")]

mod driver_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ballot::driver::tokio::{self as driver, Node};
use ballot::driver::{CommandFailed, NodeStatus};
use ballot::transport::channel::ChannelNetwork;
use ballot::{CommandError, Config, Election, Input, Instant, Membership, Role, Term};
use driver_support::{
    Disk, Log, Recording, TestStore, assert_one_leader_per_term, check_durability,
    dependent_sends_by,
};
use tokio::time::Instant as TokioInstant;

const ET_MIN: Duration = Duration::from_millis(150);
const ET_MAX: Duration = Duration::from_millis(300);

struct Cluster {
    net: ChannelNetwork<u64>,
    log: Log,
    nodes: BTreeMap<u64, Node<u64, TestStore, Recording>>,
    stores: BTreeMap<u64, TestStore>,
    /// Every status any node published, in order.
    seen: Arc<Mutex<Vec<NodeStatus<u64>>>>,
}

impl Cluster {
    fn start(n: u64, config: Config, disk: impl Fn(u64) -> Disk) -> Self {
        let net = ChannelNetwork::new();
        let log = driver_support::log();
        let members = Membership::new(1..=n).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut nodes = BTreeMap::new();
        let mut stores = BTreeMap::new();
        for id in 1..=n {
            let store = TestStore::new(id, &log, disk(id));
            stores.insert(id, store.clone());
            let election = Election::new(config, id, members.clone(), None, Instant::ZERO).unwrap();
            let transport = Recording {
                node: id,
                inner: net.transport(id),
                log: Arc::clone(&log),
            };
            let node = driver::spawn(election, store, transport);
            net.register(id, Arc::new(node.handle()));
            let mut watch = node.handle().watch();
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                while watch.changed().await.is_ok() {
                    let status = *watch.borrow_and_update();
                    seen.lock().unwrap().push(status);
                }
            });
            nodes.insert(id, node);
        }
        Cluster {
            net,
            log,
            nodes,
            stores,
            seen,
        }
    }

    /// Every disk behaves like `disk` from now on.
    fn set_disks(&self, disk: Disk) {
        for store in self.stores.values() {
            store.set(disk);
        }
    }

    fn statuses(&self) -> BTreeMap<u64, NodeStatus<u64>> {
        self.nodes
            .iter()
            .map(|(id, n)| (*id, n.handle().status()))
            .collect()
    }

    /// Waits (in virtual time, 1 ms steps) until `done` holds; panics after
    /// `within`. Returns how long it took.
    async fn wait(
        &self,
        what: &str,
        within: Duration,
        done: impl Fn(&BTreeMap<u64, NodeStatus<u64>>) -> bool,
    ) -> Duration {
        let start = TokioInstant::now();
        loop {
            if done(&self.statuses()) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "{what}: not within {within:?}; statuses {:?}",
                self.statuses()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Waits for a leader of a term above `above` that a majority of the running
    /// nodes follow; returns it.
    async fn leader_above(&self, above: Term, within: Duration) -> (u64, Term) {
        self.wait("a new leader", within, |s| leader_of(s, above).is_some())
            .await;
        leader_of(&self.statuses(), above).unwrap()
    }

    fn finish(&self) {
        let leaders: Vec<(Term, u64)> = self
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.role == Role::Leader)
            .map(|s| (s.term, s.id))
            .collect();
        assert_one_leader_per_term(&leaders);
        // One change per real change: the watch never announces the same status twice
        // in a row.
        let seen = self.seen.lock().unwrap();
        for id in self.stores.keys() {
            let mine: Vec<_> = seen.iter().filter(|s| s.id == *id).collect();
            assert!(
                mine.windows(2).all(|w| w[0] != w[1]),
                "node {id} announced a non-change: {mine:?}"
            );
        }
        assert!(
            check_durability(&self.log) > 0,
            "no dependent message checked"
        );
    }
}

/// The leader of a term above `above` whom every other running node follows.
fn leader_of(s: &BTreeMap<u64, NodeStatus<u64>>, above: Term) -> Option<(u64, Term)> {
    let leader = s.values().find(|st| st.is_leader() && st.term > above)?;
    let followers = s
        .values()
        .filter(|st| st.running && st.leader == Some(leader.id) && st.term == leader.term)
        .count();
    let running = s.values().filter(|st| st.running).count();
    (followers == running).then_some((leader.id, leader.term))
}

fn config() -> Config {
    Config::default()
        .with_election_timeout(ET_MIN, ET_MAX)
        .with_seed(7)
}

#[tokio::test(start_paused = true)]
async fn clusters_of_three_and_five_elect_lose_the_leader_and_re_elect() {
    for n in [3u64, 5] {
        let mut c = Cluster::start(n, config(), |_| Disk::Slow(Duration::from_millis(2)));
        let (mut leader, mut term) = c.leader_above(Term::ZERO, Duration::from_secs(5)).await;
        // Lose the leader (a quorum stays): n = 3 once, n = 5 twice.
        for _ in 0..(n - 1) / 2 {
            let node = c.nodes.remove(&leader).unwrap();
            c.net.unregister(leader);
            let halted = node.shutdown().await;
            assert!(halted.error.is_none());
            assert!(halted.stats.writes > 0);
            let (next, next_term) = c.leader_above(term, Duration::from_secs(5)).await;
            assert_ne!(next, leader);
            (leader, term) = (next, next_term);
        }
        c.finish();
        for (_, node) in std::mem::take(&mut c.nodes) {
            let halted = node.shutdown().await;
            assert!(!halted.election.is_leader() || halted.election.id() == leader);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_disk_does_not_delay_a_check_quorum_step_down() {
    let stall = 10 * ET_MAX;
    let c = Cluster::start(3, config(), |_| Disk::Slow(Duration::from_millis(2)));
    let (leader, term) = c.leader_above(Term::ZERO, Duration::from_secs(5)).await;
    // From now on every write takes 10 election timeouts (Raft cannot elect
    // anyone then: a vote must be durable within an election timeout).
    c.set_disks(Disk::Slow(stall));
    // Cut the leader off: it must step down one election timeout after it last
    // heard from a quorum, although every disk takes 3 s per write.
    c.net.isolate(leader);
    let took = c
        .wait("the isolated leader steps down", stall, |s| {
            !s[&leader].is_leader()
        })
        .await;
    println!("isolated leader stepped down after {took:?}");
    assert!(took <= ET_MIN + ET_MIN, "stepped down after {took:?}");
    assert_eq!(
        c.statuses()[&leader].term,
        term,
        "no new term: nothing to write"
    );
    // The disks recover; the cluster elects again, never two leaders in a term.
    c.set_disks(Disk::Slow(Duration::from_millis(2)));
    c.net.heal();
    c.leader_above(term, 10 * stall).await;
    c.finish();
}

#[tokio::test(start_paused = true)]
async fn a_leader_whose_write_stalls_reports_losing_leadership_at_once() {
    // No CheckQuorum: an isolated leader keeps leading until it hears of a newer
    // term. Every write takes 10 election timeouts.
    let stall = 10 * ET_MAX;
    let fast = Disk::Slow(Duration::from_millis(2));
    let c = Cluster::start(3, config().with_check_quorum(false), |_| fast);
    let (old, old_term) = c.leader_above(Term::ZERO, Duration::from_secs(5)).await;
    c.net.isolate(old);
    // The other two elect a leader in a higher term while the old one still leads.
    let (new, new_term) = {
        c.wait("a second leader", Duration::from_secs(5), |s| {
            s.values().any(|st| st.is_leader() && st.term > old_term)
        })
        .await;
        let s = c.statuses();
        let st = s
            .values()
            .find(|st| st.is_leader() && st.term > old_term)
            .unwrap();
        (st.id, st.term)
    };
    assert!(
        c.statuses()[&old].is_leader(),
        "two leaders, in different terms"
    );
    let sent_before_heal = dependent_sends_by(&c.log, old);
    // Now the old leader's disk stalls: 10 election timeouts per write.
    c.stores[&old].set(Disk::Slow(stall));
    c.net.heal();
    // The new leader's heartbeat reaches the old one, which must write the new
    // term (3 s) — but says at once that it no longer leads.
    let took = c
        .wait("the old leader reports stepping down", stall, |s| {
            !s[&old].is_leader()
        })
        .await;
    println!("old leader reported stepping down {took:?} after the heal");
    assert!(
        took < Duration::from_millis(100),
        "two leaders acted for {took:?} after the heal"
    );
    let st = c.statuses()[&old];
    assert_eq!(
        (st.role, st.term, st.leader),
        (Role::Follower, old_term, None),
        "reported at once, in the term it led (the new term is not durable yet)"
    );
    // Nothing that depends on the new term leaves before it is durable: the old
    // leader's reply to the heartbeat waits for the 3 s write.
    tokio::time::sleep(stall / 2).await;
    assert_eq!(c.statuses()[&old].term, old_term);
    c.wait("the old leader follows the new one", 2 * stall, |s| {
        s[&old].leader == Some(new) && s[&old].term == new_term
    })
    .await;
    assert!(dependent_sends_by(&c.log, old) >= sent_before_heal);
    c.finish();
}

#[tokio::test(start_paused = true)]
async fn a_failing_disk_halts_the_node_before_anything_depends_on_it() {
    let c = Cluster::start(3, config(), |id| {
        if id == 1 {
            Disk::Failing
        } else {
            Disk::Slow(Duration::from_millis(2))
        }
    });
    let one = c.nodes[&1].handle();
    // Node 1 campaigns: its pre-vote round needs no write; the real campaign does,
    // and that write fails.
    let _ = one.command(Input::Campaign).await;
    c.wait("node 1 halts", Duration::from_secs(10), |s| !s[&1].running)
        .await;
    assert_eq!(
        dependent_sends_by(&c.log, 1),
        0,
        "node 1 sent something that depended on its failed write"
    );
    assert_eq!(
        one.command(Input::Campaign).await,
        Err(CommandFailed::Stopped)
    );
    // The other two carry on.
    c.wait("2 and 3 elect a leader", Duration::from_secs(10), |s| {
        s.values().any(|st| st.is_leader())
    })
    .await;
    c.finish();
    let mut nodes = c.nodes;
    let halted = nodes.remove(&1).unwrap().shutdown().await;
    let error = halted.error.expect("the write error is returned");
    assert!(
        error.to_string().contains("injected write failure"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn commands_answer_with_the_nodes_own_rejections() {
    let c = Cluster::start(3, config(), |_| Disk::Slow(Duration::from_millis(1)));
    let (leader, _) = c.leader_above(Term::ZERO, Duration::from_secs(5)).await;
    let follower = c.nodes.keys().copied().find(|id| *id != leader).unwrap();
    let f = c.nodes[&follower].handle();
    assert_eq!(
        f.command(Input::StepDown).await,
        Err(CommandFailed::Rejected(CommandError::NotLeader))
    );
    assert_eq!(
        f.command(Input::AddVoter(leader)).await,
        Err(CommandFailed::Rejected(CommandError::AlreadyVoter(leader)))
    );
    let l = c.nodes[&leader].handle();
    assert_eq!(l.command(Input::StepDown).await, Ok(()));
    assert!(!l.status().is_leader());
    let stats = l.stats().await.unwrap();
    assert!(stats.steps > 0 && stats.election.elections_won >= 1);
    c.finish();
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_messages_is_dropped_and_counted_never_blocking() {
    let c = Cluster::start(3, config(), |_| Disk::Slow(Duration::from_millis(1)));
    let h = c.nodes[&1].handle();
    // The node task cannot run while this loop does not await: its queue fills.
    let extra = 904;
    let garbage = ballot::Message::Heartbeat {
        term: Term(u64::MAX),
        sent: ballot::Instant::ZERO,
        hand_over: false,
    };
    let mut full = 0;
    for _ in 0..ballot::driver::INBOX_CAPACITY + extra {
        if let Err(e) = h.deliver(99, garbage) {
            assert_eq!(e, ballot::transport::SendError::Full);
            full += 1;
        }
    }
    assert_eq!(full, extra);
    tokio::time::sleep(Duration::from_millis(10)).await; // let the node drain its queue
    let stats = h.stats().await.unwrap();
    assert_eq!(stats.inbound_dropped, extra as u64);
    // What was queued was stepped: a non-member's messages are dropped by the core.
    assert_eq!(
        stats.election.dropped_unknown_sender,
        ballot::driver::INBOX_CAPACITY as u64
    );
    assert_eq!(h.status().term, Term::ZERO, "the forged term did nothing");
}

#[tokio::test(start_paused = true)]
async fn a_command_whose_caller_gave_up_still_runs() {
    let c = Cluster::start(3, config(), |_| Disk::Slow(Duration::from_millis(1)));
    let (leader, term) = c.leader_above(Term::ZERO, Duration::from_secs(5)).await;
    let h = c.nodes[&leader].handle();
    // The command is queued on the first poll, then its future is dropped while it
    // waits for the answer.
    tokio::select! {
        biased;
        _ = h.command(Input::StepDown) => panic!("answered without the node running"),
        () = std::future::ready(()) => {}
    }
    c.wait("the leader steps down", Duration::from_millis(50), |s| {
        !s[&leader].is_leader()
    })
    .await;
    assert_eq!(h.status().term, term);
    c.finish();
}
