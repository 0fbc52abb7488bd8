//! Measures `ballot-node` on loopback, as BENCHMARKS.md reports it:
//!
//! 1. **failover**: a 3-node cluster; SIGKILL the leader, time until a new leader
//!    is elected (its own `leader` event: it holds the votes of a quorum) and until
//!    a quorum follows it; restart the killed node; repeat `--kills` times.
//! 2. **idle cost**: a 5-node cluster with a stable leader; CPU time (utime +
//!    stime from `/proc/PID/stat`) and resident memory (`VmRSS`) of every node
//!    over `--idle-secs` seconds.
//!
//! ```sh
//! cargo build --release --features node --bin ballot-node
//! cargo run --release --features node --example failover -- --kills 50 --idle-secs 60
//! ```
//!
//! Timestamps come from the nodes' JSON lines (wall-clock µs) and the kill time
//! from this process's wall clock, all on one machine.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // measuring real time

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// (node, term, role, leader, ts_us) of one JSON line.
type Line = (u64, u64, String, Option<u64>, u64);

struct Procs {
    bin: PathBuf,
    dir: tempfile::TempDir,
    ports: BTreeMap<u64, u16>,
    children: BTreeMap<u64, Child>,
    timeouts: (u64, u64, u64),
    tx: Sender<Line>,
}

impl Procs {
    fn new(bin: PathBuf, n: u64, timeouts: (u64, u64, u64), tx: Sender<Line>) -> Self {
        let sockets: Vec<UdpSocket> = (0..n)
            .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports = (1..=n)
            .zip(&sockets)
            .map(|(id, s)| (id, s.local_addr().unwrap().port()))
            .collect();
        Procs {
            bin,
            dir: tempfile::tempdir().unwrap(),
            ports,
            children: BTreeMap::new(),
            timeouts,
            tx,
        }
    }

    fn start(&mut self, id: u64) {
        let (min, max, hb) = self.timeouts;
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--id", &id.to_string(), "--cluster-id", "99"])
            .args(["--listen", &format!("127.0.0.1:{}", self.ports[&id])])
            .arg("--state-dir")
            .arg(self.dir.path().join(id.to_string()))
            .args(["--election-timeout-min", &min.to_string()])
            .args(["--election-timeout-max", &max.to_string()])
            .args(["--heartbeat", &hb.to_string()]);
        for (p, port) in self.ports.iter().filter(|(p, _)| **p != id) {
            cmd.args(["--peer", &format!("{p}=127.0.0.1:{port}")]);
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().expect("run ballot-node");
        let out = BufReader::new(child.stdout.take().unwrap());
        let tx = self.tx.clone();
        thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line).expect("a JSON line");
                let _ = tx.send((
                    v["node"].as_u64().unwrap(),
                    v["term"].as_u64().unwrap(),
                    v["role"].as_str().unwrap().to_owned(),
                    v["leader"].as_u64(),
                    v["ts_us"].as_u64().unwrap(),
                ));
            }
        });
        self.children.insert(id, child);
    }

    fn kill(&mut self, id: u64) {
        if let Some(mut c) = self.children.remove(&id) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        let ids: Vec<u64> = self.children.keys().copied().collect();
        for id in ids {
            self.kill(id);
        }
    }
}

/// Reads lines until `done` says so, keeping each node's latest line; returns
/// the `ts_us` of the line that satisfied it.
fn until(
    rx: &Receiver<Line>,
    latest: &mut BTreeMap<u64, Line>,
    mut done: impl FnMut(&BTreeMap<u64, Line>, &Line) -> bool,
) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no progress within 30 s");
        latest.insert(line.0, line.clone());
        if done(latest, &line) {
            return line.4;
        }
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn summary(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name}: n={} median {:.1} ms, p99 {:.1} ms, max {:.1} ms, min {:.1} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms[ms.len() - 1],
        ms[0]
    );
}

fn failover(bin: PathBuf, kills: usize, timeouts: (u64, u64, u64)) {
    let (tx, rx) = mpsc::channel();
    let mut procs = Procs::new(bin, 3, timeouts, tx);
    let mut latest = BTreeMap::new();
    for id in 1..=3 {
        procs.start(id);
    }
    let agreed = |l: &BTreeMap<u64, Line>, alive: &[u64], above: u64| -> Option<u64> {
        let leader = alive
            .iter()
            .filter_map(|id| l.get(id))
            .find(|x| x.2 == "leader" && x.1 > above)?;
        let following = alive
            .iter()
            .filter_map(|id| l.get(id))
            .filter(|x| x.3 == Some(leader.0) && x.1 == leader.1)
            .count();
        (following >= 2).then_some(leader.0)
    };
    let mut alive = vec![1, 2, 3];
    until(&rx, &mut latest, |l, _| agreed(l, &alive, 0).is_some());
    let (mut elected, mut followed) = (Vec::new(), Vec::new());
    for _ in 0..kills {
        let leader = agreed(&latest, &alive, 0).unwrap();
        let term = latest[&leader].1;
        thread::sleep(Duration::from_millis(200)); // a steady state before the kill
        let killed_at = now_us();
        procs.kill(leader);
        latest.remove(&leader);
        alive.retain(|&id| id != leader);
        let mut t_elected = None;
        let t_followed = until(&rx, &mut latest, |l, line| {
            if line.2 == "leader" && line.1 > term && t_elected.is_none() {
                t_elected = Some(line.4);
            }
            agreed(l, &alive, term).is_some()
        });
        elected.push((t_elected.unwrap() - killed_at) as f64 / 1000.0);
        followed.push((t_followed - killed_at) as f64 / 1000.0);
        procs.start(leader);
        alive.push(leader);
        alive.sort();
        let new_term = latest.values().map(|x| x.1).max().unwrap();
        until(&rx, &mut latest, |l, _| {
            alive
                .iter()
                .all(|id| l.get(id).is_some_and(|x| x.1 == new_term && x.3.is_some()))
        });
    }
    let (min, max, hb) = timeouts;
    println!(
        "failover, 3 ballot-node processes, timeouts [{min}, {max}) ms, heartbeat {hb} ms, SIGKILL of the leader:"
    );
    summary("  kill -> new leader elected", elected);
    summary("  kill -> a quorum follows it", followed);
}

fn idle(bin: PathBuf, secs: u64, timeouts: (u64, u64, u64)) {
    let (tx, rx) = mpsc::channel();
    let mut procs = Procs::new(bin, 5, timeouts, tx);
    let mut latest = BTreeMap::new();
    for id in 1..=5 {
        procs.start(id);
    }
    until(&rx, &mut latest, |l, _| {
        l.len() == 5 && l.values().filter(|x| x.3.is_some()).count() == 5
    });
    thread::sleep(Duration::from_secs(2));
    let ticks = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split(' ').collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap() // utime + stime
    };
    let rss_kb = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let pids: BTreeMap<u64, u32> = procs.children.iter().map(|(&id, c)| (id, c.id())).collect();
    let before: BTreeMap<u64, u64> = pids.iter().map(|(&id, &p)| (id, ticks(p))).collect();
    let start = Instant::now();
    thread::sleep(Duration::from_secs(secs));
    let wall = start.elapsed().as_secs_f64();
    let hz = 100.0; // USER_HZ on Linux
    let leader = latest.values().find(|x| x.2 == "leader").map(|x| x.0);
    println!("idle 5-node cluster over {wall:.1} s (CPU from /proc/PID/stat, USER_HZ = 100):");
    for (&id, &pid) in &pids {
        let cpu = (ticks(pid) - before[&id]) as f64 / hz;
        let role = if Some(id) == leader {
            "leader  "
        } else {
            "follower"
        };
        println!(
            "  node {id} ({role}): {:.3} % of a core ({cpu:.2} s CPU), VmRSS {} KiB",
            100.0 * cpu / wall,
            rss_kb(pid)
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut bin = PathBuf::from("target/release/ballot-node");
    let (mut kills, mut idle_secs) = (50, 30);
    let mut timeouts = (150, 300, 50);
    while let Some(a) = args.next() {
        let mut v = || args.next().expect("a value");
        match a.as_str() {
            "--bin" => bin = PathBuf::from(v()),
            "--kills" => kills = v().parse().expect("a number"),
            "--idle-secs" => idle_secs = v().parse().expect("a number"),
            "--timeouts" => {
                let t: Vec<u64> = v().split(',').map(|x| x.parse().unwrap()).collect();
                timeouts = (t[0], t[1], t[2]);
            }
            _ => panic!(
                "usage: failover [--bin PATH] [--kills N] [--idle-secs S] [--timeouts MIN,MAX,HB]"
            ),
        }
    }
    assert!(
        bin.exists(),
        "{} not found: cargo build --release --features node --bin ballot-node",
        bin.display()
    );
    if kills > 0 {
        failover(bin.clone(), kills, timeouts);
    }
    if idle_secs > 0 {
        idle(bin, idle_secs, timeouts);
    }
}
