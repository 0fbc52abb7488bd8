//! Three `ballot-node` processes on 127.0.0.1, run as a user runs them: wait for
//! a leader, SIGKILL it, require a new leader, restart the killed node from its
//! state directory and require it to rejoin as a follower without any term change;
//! five times. Then, from every JSON line every process printed: at most one leader
//! per term, and no node's term ever decreases (across its restarts).
//!
//! Every process and the temporary directory are cleaned up by guards, also when
//! the test fails. Bounds are generous (seconds against timeouts of 300–600 ms).
#![cfg(feature = "node")]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // real processes, real time

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const NODES: u64 = 3;
const KILLS: usize = 5;
/// How long any one expected change may take (an election takes well under 1 s).
const PATIENCE: Duration = Duration::from_secs(20);

/// One line a node printed, parsed.
#[derive(Clone, Debug)]
struct Event {
    /// Which process printed it (node id, incarnation).
    source: (u64, usize),
    event: String,
    term: u64,
    role: String,
    leader: Option<u64>,
}

/// Every event of every process, in the order each process printed them.
type Log = Arc<Mutex<Vec<Event>>>;

/// A running `ballot-node`: killed and waited for when dropped.
struct Node {
    child: Child,
    reader: Option<thread::JoinHandle<()>>,
}

impl Node {
    fn kill(mut self) {
        self.stop();
    }
    fn stop(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join(); // stdout closes with the process
        }
    }
}

impl Node {
    /// SIGTERM, then wait for the process to exit (and its output to end).
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let status = self.child.wait().expect("wait");
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The cluster: processes, ports, state directories (in a temp dir removed on
/// drop, after the processes are gone: fields drop in order).
struct Cluster {
    nodes: BTreeMap<u64, Node>,
    incarnations: BTreeMap<u64, usize>,
    ports: BTreeMap<u64, u16>,
    log: Log,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn new() -> Self {
        // Ephemeral ports picked by the OS; the sockets are closed just before the
        // nodes bind them.
        let sockets: Vec<UdpSocket> = (0..NODES)
            .map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let ports = (1..=NODES)
            .zip(&sockets)
            .map(|(id, s)| (id, s.local_addr().unwrap().port()))
            .collect();
        Cluster {
            nodes: BTreeMap::new(),
            incarnations: BTreeMap::new(),
            ports,
            log: Arc::default(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn state_dir(&self, id: u64) -> PathBuf {
        self.dir.path().join(format!("node-{id}"))
    }

    fn start(&mut self, id: u64) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ballot-node"));
        cmd.args(["--id", &id.to_string()])
            .args(["--listen", &format!("127.0.0.1:{}", self.ports[&id])])
            .args(["--state-dir", self.state_dir(id).to_str().unwrap()])
            .args(["--cluster-id", "4242"])
            .args(["--election-timeout-min", "300"])
            .args(["--election-timeout-max", "600"])
            .args(["--heartbeat", "50"]);
        for (&peer, port) in self.ports.iter().filter(|(p, _)| **p != id) {
            cmd.args(["--peer", &format!("{peer}=127.0.0.1:{port}")]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ballot-node");
        let incarnation = self.incarnations.entry(id).or_insert(0);
        *incarnation += 1;
        let source = (id, *incarnation);
        let stdout = child.stdout.take().unwrap();
        let log = Arc::clone(&self.log);
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event = parse(&line, source);
                log.lock().unwrap().push(event);
            }
        });
        self.nodes.insert(
            id,
            Node {
                child,
                reader: Some(reader),
            },
        );
    }

    fn kill(&mut self, id: u64) {
        self.nodes.remove(&id).expect("running").kill();
    }

    fn terminate(&mut self, id: u64) -> std::process::ExitStatus {
        self.nodes.remove(&id).expect("running").terminate()
    }

    fn events(&self) -> Vec<Event> {
        self.log.lock().unwrap().clone()
    }

    /// The latest event of each running process.
    fn latest(&self) -> BTreeMap<u64, Event> {
        let mut latest = BTreeMap::new();
        for e in self.events() {
            if self.incarnations.get(&e.source.0) == Some(&e.source.1)
                && self.nodes.contains_key(&e.source.0)
            {
                latest.insert(e.source.0, e);
            }
        }
        latest
    }

    /// A leader that every running node follows in its term: (leader, term).
    fn agreed_leader(&self) -> Option<(u64, u64)> {
        let latest = self.latest();
        if latest.len() != self.nodes.len() {
            return None;
        }
        let (leader, term) = latest
            .values()
            .find(|e| e.role == "leader")
            .map(|e| (e.source.0, e.term))?;
        latest
            .values()
            .all(|e| e.term == term && e.leader == Some(leader))
            .then_some((leader, term))
    }

    fn wait_for<T>(&self, what: &str, mut f: impl FnMut(&Self) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(t) = f(self) {
                return t;
            }
            if start.elapsed() > PATIENCE {
                panic!(
                    "timed out waiting for {what}; events:\n{:#?}",
                    self.events()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

fn parse(line: &str, source: (u64, usize)) -> Event {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!("node {source:?} printed a line that is not JSON ({e}): {line}")
    });
    let field = |k: &str| v.get(k).unwrap_or_else(|| panic!("no `{k}` in {line}"));
    assert_eq!(field("node").as_u64(), Some(source.0), "{line}");
    assert!(field("ts_us").as_u64().is_some(), "{line}");
    Event {
        source,
        event: field("event").as_str().expect("event").to_owned(),
        term: field("term").as_u64().expect("term"),
        role: field("role").as_str().expect("role").to_owned(),
        leader: field("leader").as_u64(),
    }
}

#[test]
fn three_processes_survive_five_leader_kills() {
    let mut cluster = Cluster::new();
    for id in 1..=NODES {
        cluster.start(id);
    }
    let (mut leader, mut term) = cluster.wait_for("a first leader", Cluster::agreed_leader);
    for round in 1..=KILLS {
        cluster.kill(leader);
        let (new_leader, new_term) = cluster.wait_for("a new leader", |c| {
            c.agreed_leader().filter(|&(_, t)| t > term)
        });
        assert_ne!(new_leader, leader, "round {round}");

        // Restart the killed node from its state directory: it must come back as
        // a follower of the new leader, and nobody's term may move.
        let events_before = cluster.events().len();
        cluster.start(leader);
        let rejoined = cluster.wait_for("the restarted node to follow", |c| {
            c.agreed_leader().filter(|&(l, _)| l == new_leader)
        });
        assert_eq!(
            rejoined,
            (new_leader, new_term),
            "round {round}: a term changed"
        );
        thread::sleep(Duration::from_millis(300)); // let any disturbance show
        let since = &cluster.events()[events_before..];
        for e in since.iter().filter(|e| e.event != "start") {
            assert_eq!(
                e.term, new_term,
                "round {round}: a term changed during the rejoin: {e:?}"
            );
            assert!(
                e.role == "follower" || e.source.0 == new_leader,
                "round {round}: the rejoin disturbed someone: {e:?}"
            );
        }
        let restarted: Vec<&Event> = since.iter().filter(|e| e.source.0 == leader).collect();
        assert_eq!(restarted[0].event, "start", "{restarted:?}");
        assert!(restarted[0].term <= new_term);
        (leader, term) = (new_leader, new_term);
    }
    check_logs(&cluster.events(), KILLS + 1);
    // Everything is killed, waited for and removed by the guards.
    drop(cluster);
}

/// `kill -TERM` on the leader (a planned stop, e.g. for maintenance): it hands over
/// before it exits, so the other two agree on a new leader well before any of them
/// could even time out (election timeouts here are 300–600 ms, and every follower
/// heard a heartbeat less than 50 ms before the signal). SIGKILL (the test above)
/// takes at least one election timeout.
#[test]
fn sigterm_on_the_leader_hands_over_before_it_exits() {
    let mut cluster = Cluster::new();
    for id in 1..=NODES {
        cluster.start(id);
    }
    let (leader, term) = cluster.wait_for("a first leader", Cluster::agreed_leader);
    // A few heartbeat rounds, so the leader knows who answers (its successor).
    thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    let status = cluster.terminate(leader);
    assert!(status.success(), "exit status {status}");
    let (new_leader, _) = cluster.wait_for("a new leader", |c| {
        c.agreed_leader().filter(|&(_, t)| t > term)
    });
    let took = sent.elapsed();
    assert_ne!(new_leader, leader);
    assert!(
        took < Duration::from_millis(250),
        "a new leader {took:?} after SIGTERM: no hand-over (an election needs >= 250 ms here)"
    );
    let events = cluster.events();
    let last = events.iter().rfind(|e| e.source.0 == leader).unwrap();
    assert_eq!(
        (last.event.as_str(), last.role.as_str()),
        ("stop", "follower"),
        "{last:?}"
    );
    check_logs(&events, 2);
}

/// At most one leader per term; per node (across restarts), terms never decrease;
/// at least `min_leaders` terms had a leader.
fn check_logs(events: &[Event], min_leaders: usize) {
    let mut leaders: BTreeMap<u64, u64> = BTreeMap::new();
    let mut last_term: BTreeMap<u64, u64> = BTreeMap::new();
    for e in events {
        if e.role == "leader" {
            if let Some(other) = leaders.insert(e.term, e.source.0) {
                assert_eq!(other, e.source.0, "two leaders in term {}", e.term);
            }
        }
        let last = last_term.entry(e.source.0).or_insert(0);
        assert!(
            e.term >= *last,
            "node {} went from term {last} to {}",
            e.source.0,
            e.term
        );
        *last = e.term;
    }
    assert!(
        leaders.len() >= min_leaders,
        "every stop was followed by a new leader: {leaders:?}"
    );
}

#[test]
fn the_log_checks_catch_two_leaders_and_a_term_going_back() {
    let ev = |node, term, role: &str| Event {
        source: (node, 1),
        event: "role".into(),
        term,
        role: role.into(),
        leader: None,
    };
    // A valid log passes (so the failures below are for the reasons named).
    check_logs(
        &[ev(1, 2, "leader"), ev(2, 2, "follower"), ev(2, 3, "leader")],
        2,
    );
    let two_leaders = [ev(1, 2, "leader"), ev(2, 2, "leader")];
    assert!(std::panic::catch_unwind(|| check_logs(&two_leaders, 0)).is_err());
    let back = [ev(1, 3, "follower"), ev(1, 2, "follower")];
    assert!(std::panic::catch_unwind(|| check_logs(&back, 0)).is_err());
    let too_few = [ev(1, 2, "leader")];
    assert!(std::panic::catch_unwind(|| check_logs(&too_few, 2)).is_err());
}

#[test]
fn bad_arguments_exit_with_code_2_and_a_clear_message() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ballot-node"))
            .args(args)
            .output()
            .expect("run ballot-node");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--id", "x"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--id: `x` is not an unsigned integer"),
        "{err}"
    );
    let (code, err) = run(&[
        "--id",
        "1",
        "--listen",
        "127.0.0.1:1",
        "--peer",
        "2=nowhere",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not an IP address with a port"), "{err}");
    let (code, err) = run(&["--bogus"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown option `--bogus`"), "{err}");
    let (code, out) = run(&["--help"]);
    assert_eq!(code, Some(0));
    let _ = out;
}

/// A damaged state file stops the node with an error that names the file; it
/// never starts with no term and no vote.
#[test]
fn a_damaged_state_file_is_an_error_not_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("node-1");
    std::fs::create_dir_all(&state).unwrap();
    write_garbage_state(&state);
    let out = Command::new(env!("CARGO_BIN_EXE_ballot-node"))
        .args([
            "--id",
            "1",
            "--listen",
            "127.0.0.1:0",
            "--peer",
            "2=127.0.0.1:9",
        ])
        .args(["--cluster-id", "1", "--state-dir", state.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(state.to_str().unwrap()),
        "names the file: {err}"
    );
}

fn write_garbage_state(dir: &Path) {
    std::fs::write(dir.join("ballot.state"), b"not a state file").unwrap();
}
