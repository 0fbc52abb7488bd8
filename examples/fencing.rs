//! Leases and fencing: a leader acts on its own only within its lease, and tags
//! everything it writes to a shared resource with its term, which the resource uses
//! to reject a deposed leader.
//!
//! Three nodes run in one process with an instant in-memory network and a simulated
//! clock. Node 1 is elected, writes under its lease, then is cut off; while cut off
//! it keeps believing it leads for a while but its lease runs out first, and the
//! writes it still tries (from a request queued earlier) are fenced off by the term
//! check once node 2 or 3 has written with a higher term.
//!
//! ```text
//! cargo run --example fencing
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use ballot::{Config, Election, Input, Instant, Membership, Output, Term};

/// A toy shared resource (a storage service, a lock server): it remembers the
/// highest term that wrote to it and rejects lower ones.
#[derive(Default)]
struct Resource {
    highest_term: Term,
    log: Vec<(Term, u64, String)>,
}

impl Resource {
    fn write(&mut self, term: Term, writer: u64, what: &str) -> Result<(), String> {
        if term < self.highest_term {
            return Err(format!(
                "fenced: term {term} < {} (a newer leader has written)",
                self.highest_term
            ));
        }
        self.highest_term = term;
        self.log.push((term, writer, what.to_owned()));
        Ok(())
    }
}

struct Cluster {
    nodes: Vec<Election<u64>>,
    queue: VecDeque<(u64, u64, ballot::Message)>,
    cut: Option<u64>,
    now: Instant,
}

impl Cluster {
    fn new() -> Self {
        let members = Membership::new([1, 2, 3]).expect("distinct ids");
        let nodes = (1..=3)
            .map(|id| {
                let config = Config::default().with_seed(id);
                Election::new(config, id, members.clone(), None, Instant::ZERO)
                    .expect("valid config")
            })
            .collect();
        Cluster {
            nodes,
            queue: VecDeque::new(),
            cut: None,
            now: Instant::ZERO,
        }
    }

    fn node(&mut self, id: u64) -> &mut Election<u64> {
        &mut self.nodes[id as usize - 1]
    }

    /// Whether node `id` holds its lease now.
    fn holds_lease(&self, id: u64) -> bool {
        holds_lease(&self.nodes[id as usize - 1], self.now)
    }

    fn carry_out(&mut self, from: u64, out: Vec<Output<u64>>) {
        for o in out {
            match o {
                // A real node makes this durable (fsync) before going on.
                Output::Persist(_) => {}
                Output::Send { to, message } => self.queue.push_back((from, to, message)),
                Output::Broadcast { message } => {
                    for to in (1..=3).filter(|&to| to != from) {
                        self.queue.push_back((from, to, message));
                    }
                }
                _ => {}
            }
        }
    }

    /// Advances the clock by 1 ms, delivering messages and firing timers.
    fn tick(&mut self) {
        self.now += Duration::from_millis(1);
        while let Some((from, to, message)) = self.queue.pop_front() {
            if self.cut == Some(from) || self.cut == Some(to) {
                continue;
            }
            let now = self.now;
            let out = self.node(to).step(Input::Receive { from, message }, now);
            self.carry_out(to, out);
        }
        for id in 1..=3 {
            let now = self.now;
            if self.node(id).next_deadline().is_some_and(|d| d <= now) {
                let out = self.node(id).step(Input::Tick, now);
                self.carry_out(id, out);
            }
        }
    }
}

/// What a leader does before acting on its own (e.g. serving a read from local
/// state): check that its lease still runs *now*.
fn holds_lease(node: &Election<u64>, now: Instant) -> bool {
    node.lease().is_some_and(|until| now < until)
}

fn main() {
    let mut cluster = Cluster::new();
    let mut resource = Resource::default();

    // Elect someone.
    while !cluster.nodes.iter().any(|n| n.is_leader()) {
        cluster.tick();
    }
    let first = cluster.nodes.iter().find(|n| n.is_leader()).unwrap().id();
    // Wait for its first quorum-acknowledged heartbeat.
    while !cluster.holds_lease(first) {
        cluster.tick();
    }
    let term = cluster.node(first).term();
    let lease = cluster.node(first).lease().expect("a lease");
    println!(
        "{}: node {first} leads term {term}, lease until {lease}",
        cluster.now
    );
    resource
        .write(term, first, "written under the lease")
        .expect("the current leader writes");

    // Cut the leader off. It still believes it leads for a while (until CheckQuorum
    // deposes it), but its lease runs out first: it stops acting on its own.
    cluster.cut = Some(first);
    let mut lease_gone = None;
    while cluster.node(first).is_leader() {
        if lease_gone.is_none() && !cluster.holds_lease(first) {
            lease_gone = Some(cluster.now);
        }
        cluster.tick();
    }
    let lease_gone = lease_gone.expect("the lease ends before CheckQuorum deposes it");
    println!(
        "{}: node {first} steps down; its lease had ended at {lease_gone}",
        cluster.now
    );
    assert!(lease_gone < cluster.now);

    // The others elect a new leader, which writes with its higher term.
    let second = loop {
        cluster.tick();
        if let Some(n) = cluster
            .nodes
            .iter()
            .find(|n| n.is_leader() && n.id() != first)
        {
            if holds_lease(n, cluster.now) {
                break n.id();
            }
        }
    };
    let new_term = cluster.node(second).term();
    println!("{}: node {second} leads term {new_term}", cluster.now);
    assert!(
        cluster
            .nodes
            .iter()
            .filter(|n| holds_lease(n, cluster.now))
            .count()
            == 1
    );
    resource
        .write(new_term, second, "written by the new leader")
        .expect("the new leader writes");

    // A write the old leader had started before it was cut off (a slow request,
    // a GC pause) arrives late, tagged with its old term: the term fences it off.
    let late = resource.write(term, first, "a late write from the deposed leader");
    println!("late write from node {first}: {late:?}");
    assert!(late.is_err());
    for (term, writer, what) in &resource.log {
        println!("  resource: term {term}, node {writer}: {what}");
    }
}
