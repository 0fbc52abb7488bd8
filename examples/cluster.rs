//! Five nodes on five threads, talking over channels, with real time and a real
//! disk: each node makes its `HardState` durable (write, fsync, rename) before it
//! acts on anything after a `Persist`.
//!
//! It prints who leads and in which term, crashes the leader, prints the new
//! leader, then restarts the crashed node from its file and shows it rejoin as a
//! follower of the new leader. Run with `cargo run --example cluster`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // a real deployment reads the real clock

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant as WallClock};

use ballot::{
    Config, Election, HardState, Input, Instant, Membership, Message, Output, Role, Term,
};

/// What arrives in a node's mailbox.
enum Envelope {
    Net { from: u64, message: Message },
    Crash,
}

/// What goes through the router: a message between nodes, or a node (re)joining
/// with a new mailbox.
enum Route {
    Message {
        from: u64,
        to: u64,
        message: Message,
    },
    Attach {
        id: u64,
        inbox: Sender<Envelope>,
    },
    Detach {
        id: u64,
    },
}

/// What nodes report to `main`.
#[derive(Debug)]
enum Event {
    Leader {
        node: u64,
        leader: Option<u64>,
        term: Term,
    },
    Role {
        node: u64,
        role: Role,
        term: Term,
    },
}

/// The time since the process started, as ballot's `Instant`.
fn now(epoch: WallClock) -> Instant {
    Instant::from_nanos(epoch.elapsed().as_nanos() as u64)
}

/// Makes `hs` durable: write a temporary file, fsync it, atomically rename it over the
/// old one. Term and vote are one record, so a crash leaves the old or the new one.
fn persist(path: &Path, hs: &HardState<u64>) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp)?;
    let vote = hs.voted_for.map_or(String::from("-"), |v| v.to_string());
    writeln!(f, "{} {}", hs.term.get(), vote)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

/// Reads the last durable `HardState`, if the node has run before.
fn load(path: &Path) -> Option<HardState<u64>> {
    let text = fs::read_to_string(path).ok()?;
    let mut parts = text.split_whitespace();
    let term = Term(parts.next()?.parse().ok()?);
    let voted_for = parts.next()?.parse().ok();
    Some(HardState { term, voted_for })
}

/// Runs one node until it is told to crash.
fn run_node(
    id: u64,
    members: Membership<u64>,
    dir: PathBuf,
    epoch: WallClock,
    inbox: Receiver<Envelope>,
    router: Sender<Route>,
    events: Sender<Event>,
) {
    let path = dir.join(format!("node-{id}.state"));
    let config = Config::default().with_seed(7);
    let mut node =
        Election::new(config, id, members, load(&path), now(epoch)).expect("valid config");
    let mut out = Vec::new();
    loop {
        // Sleep until the next deadline or the next message, whichever comes first.
        let wait = node.next_deadline().map_or(Duration::from_secs(1), |d| {
            d.saturating_duration_since(now(epoch))
        });
        let input = match inbox.recv_timeout(wait) {
            Ok(Envelope::Net { from, message }) => Input::Receive { from, message },
            Ok(Envelope::Crash) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => Input::Tick,
        };
        out.clear();
        node.step_into(input, now(epoch), &mut out);
        for output in out.drain(..) {
            match output {
                // Durable before anything after it: if the write fails, stop rather
                // than send a vote that was never recorded.
                Output::Persist(hs) => persist(&path, &hs).expect("persist hard state"),
                Output::Send { to, message } => {
                    let _ = router.send(Route::Message {
                        from: id,
                        to,
                        message,
                    });
                }
                Output::Broadcast { message } => {
                    for to in node.membership().peers_of(id) {
                        let _ = router.send(Route::Message {
                            from: id,
                            to,
                            message,
                        });
                    }
                }
                Output::LeaderChanged { leader, term } => {
                    let _ = events.send(Event::Leader {
                        node: id,
                        leader,
                        term,
                    });
                }
                Output::RoleChanged { role, term } => {
                    let _ = events.send(Event::Role {
                        node: id,
                        role,
                        term,
                    });
                }
                other => eprintln!("node {id}: {other:?}"),
            }
        }
    }
}

/// Forwards messages to the current mailbox of each node; drops those for crashed nodes.
fn run_router(routes: Receiver<Route>) {
    let mut inboxes: BTreeMap<u64, Sender<Envelope>> = BTreeMap::new();
    for route in routes {
        match route {
            Route::Message { from, to, message } => {
                if let Some(inbox) = inboxes.get(&to) {
                    let _ = inbox.send(Envelope::Net { from, message });
                }
            }
            Route::Attach { id, inbox } => {
                inboxes.insert(id, inbox);
            }
            Route::Detach { id } => {
                if let Some(inbox) = inboxes.remove(&id) {
                    let _ = inbox.send(Envelope::Crash);
                }
            }
        }
    }
}

struct Cluster {
    members: Membership<u64>,
    dir: PathBuf,
    epoch: WallClock,
    router: Sender<Route>,
    threads: BTreeMap<u64, JoinHandle<()>>,
    events_tx: Sender<Event>,
    events: Receiver<Event>,
}

impl Cluster {
    fn start(n: u64) -> Self {
        let dir = std::env::temp_dir().join(format!("ballot-cluster-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("create state directory");
        let (events_tx, events) = mpsc::channel();
        let (router, routes) = mpsc::channel();
        thread::spawn(move || run_router(routes));
        let mut cluster = Cluster {
            members: Membership::new(1..=n).expect("distinct ids"),
            dir,
            epoch: WallClock::now(),
            router,
            threads: BTreeMap::new(),
            events_tx,
            events,
        };
        for id in 1..=n {
            cluster.start_node(id);
        }
        cluster
    }

    /// Starts node `id` from whatever it persisted before.
    fn start_node(&mut self, id: u64) {
        let (inbox_tx, inbox) = mpsc::channel();
        let _ = self.router.send(Route::Attach {
            id,
            inbox: inbox_tx,
        });
        let (members, dir, epoch) = (self.members.clone(), self.dir.clone(), self.epoch);
        let (router, events) = (self.router.clone(), self.events_tx.clone());
        let handle =
            thread::spawn(move || run_node(id, members, dir, epoch, inbox, router, events));
        self.threads.insert(id, handle);
    }

    /// Stops node `id` abruptly; only what it persisted survives.
    fn crash(&mut self, id: u64) {
        let _ = self.router.send(Route::Detach { id });
        if let Some(handle) = self.threads.remove(&id) {
            let _ = handle.join();
        }
    }

    /// Waits for an event matching `pick`, printing role changes meanwhile.
    fn wait_for<T>(&self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = WallClock::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(WallClock::now());
            let event = self
                .events
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
            if let Event::Role { node, role, term } = &event {
                println!("  node {node} is now {role} (term {term})");
            }
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    }
}

fn main() {
    let mut cluster = Cluster::start(5);
    let (leader, term) = cluster.wait_for("a leader", |e| match *e {
        Event::Leader {
            node,
            leader: Some(l),
            term,
        } if l == node => Some((l, term)),
        _ => None,
    });
    println!("node {leader} leads term {term}");

    println!("crashing node {leader}");
    cluster.crash(leader);
    let (next, next_term) = cluster.wait_for("a new leader", |e| match *e {
        Event::Leader {
            node,
            leader: Some(l),
            term,
        } if l == node && l != leader => Some((l, term)),
        _ => None,
    });
    println!("node {next} leads term {next_term}");
    assert!(
        next_term > term,
        "a new leader always has a higher term: the term is a fencing token"
    );

    println!("restarting node {leader} from its persisted state");
    cluster.start_node(leader);
    cluster.wait_for("the restarted node to follow", |e| match *e {
        Event::Leader {
            node,
            leader: Some(l),
            term,
        } if node == leader && l == next => Some(term),
        _ => None,
    });
    println!("node {leader} follows node {next} in term {next_term}");
    let _ = fs::remove_dir_all(&cluster.dir);
}
