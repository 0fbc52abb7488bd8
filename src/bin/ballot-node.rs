//! `ballot-node`: one Raft-election node per process, over UDP, with a durable
//! state file; prints one JSON line per event to stdout.
//!
//! ```text
//! ballot-node --id 1 --listen 127.0.0.1:7001 \
//!     --peer 2=127.0.0.1:7002 --peer 3=127.0.0.1:7003 \
//!     --state-dir /var/lib/ballot/1 --cluster-id 7 [--key-file cluster.key]
//! ```
//!
//! Run `ballot-node --help` for every option. Built with `--features node`.
//!
//! SIGINT or SIGTERM stops it gracefully: a leader first hands over to its most
//! up-to-date reachable voter (`Input::StepDown`), so the cluster has a new leader
//! within a round trip; a second signal exits at once. SIGKILL is a crash.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use ballot::driver::{NodeStatus, thread};
use ballot::store::FileStore;
use ballot::transport::{ClusterKey, UdpConfig, UdpTransport};
use ballot::{Config, Input, Membership, Role, Term};

/// The state file's name inside `--state-dir`.
const STATE_FILE: &str = "ballot.state";

const USAGE: &str = "\
usage: ballot-node --id ID --listen ADDR --peer ID=ADDR [--peer ID=ADDR ...]
                   --state-dir DIR --cluster-id N [options]

One Raft-election node per process, over UDP. Prints one JSON line per event
(start, role, leader, stop) to stdout. SIGINT/SIGTERM: a leader hands over to
another voter, then the node exits (a second signal exits at once).

required:
  --id ID                     this node's id (an unsigned 64-bit integer)
  --listen ADDR               UDP address to listen on, e.g. 127.0.0.1:7001
  --peer ID=ADDR              another voter and its UDP address (repeat per peer)
  --state-dir DIR             directory for this node's durable state file
  --cluster-id N              cluster id (unsigned 64-bit); frames of other clusters are dropped
options:
  --key-file FILE             shared cluster key (64 hex digits) to authenticate every frame;
                              without it any host that can reach the port can disrupt the cluster
  --election-timeout-min MS   lower bound of the randomized election timeout (default 150)
  --election-timeout-max MS   upper bound of the randomized election timeout (default 300)
  --heartbeat MS              leader heartbeat interval (default 50)
  --seed N                    seed for the election-timeout draws (default: the process id)
  --help                      print this and exit
";

/// Everything the command line says.
#[derive(Debug)]
struct Args {
    id: u64,
    listen: SocketAddr,
    peers: BTreeMap<u64, SocketAddr>,
    state_dir: PathBuf,
    cluster: u64,
    key_file: Option<PathBuf>,
    election_timeout: (Duration, Duration),
    heartbeat: Duration,
    seed: Option<u64>,
}

/// A command-line error: the message printed before the usage hint.
#[derive(Debug)]
struct Usage(String);

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, Usage> {
    let (mut id, mut listen, mut state_dir, mut cluster) = (None, None, None, None);
    let mut peers = BTreeMap::new();
    let mut key_file = None;
    let (mut min, mut max, mut heartbeat, mut seed) = (None, None, None, None);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (flag, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| Usage(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--id" => id = Some(number(&flag, &value()?)?),
            "--listen" => listen = Some(address(&flag, &value()?)?),
            "--peer" => {
                let v = value()?;
                let (pid, addr) = v
                    .split_once('=')
                    .ok_or_else(|| Usage(format!("--peer wants ID=ADDR, got `{v}`")))?;
                let pid = number("--peer id", pid)?;
                if peers
                    .insert(pid, address("--peer address", addr)?)
                    .is_some()
                {
                    return Err(Usage(format!("--peer {pid} given twice")));
                }
            }
            "--state-dir" => state_dir = Some(PathBuf::from(value()?)),
            "--cluster-id" => cluster = Some(number(&flag, &value()?)?),
            "--key-file" => key_file = Some(PathBuf::from(value()?)),
            "--election-timeout-min" => min = Some(millis(&flag, &value()?)?),
            "--election-timeout-max" => max = Some(millis(&flag, &value()?)?),
            "--heartbeat" => heartbeat = Some(millis(&flag, &value()?)?),
            "--seed" => seed = Some(number(&flag, &value()?)?),
            other => return Err(Usage(format!("unknown option `{other}`"))),
        }
    }
    let missing = |what: &str| Usage(format!("{what} is required"));
    let id: u64 = id.ok_or_else(|| missing("--id"))?;
    if peers.contains_key(&id) {
        return Err(Usage(format!(
            "--peer {id} is this node's own id (--id {id}); list only the other voters"
        )));
    }
    if peers.is_empty() {
        return Err(missing("at least one --peer"));
    }
    Ok(Some(Args {
        id,
        listen: listen.ok_or_else(|| missing("--listen"))?,
        peers,
        state_dir: state_dir.ok_or_else(|| missing("--state-dir"))?,
        cluster: cluster.ok_or_else(|| missing("--cluster-id"))?,
        key_file,
        election_timeout: (
            min.unwrap_or(Duration::from_millis(150)),
            max.unwrap_or(Duration::from_millis(300)),
        ),
        heartbeat: heartbeat.unwrap_or(Duration::from_millis(50)),
        seed,
    }))
}

fn number(what: &str, text: &str) -> Result<u64, Usage> {
    text.trim()
        .parse()
        .map_err(|_| Usage(format!("{what}: `{text}` is not an unsigned integer")))
}

fn address(what: &str, text: &str) -> Result<SocketAddr, Usage> {
    text.trim().parse().map_err(|_| {
        Usage(format!(
            "{what}: `{text}` is not an IP address with a port, e.g. 127.0.0.1:7001"
        ))
    })
}

/// Milliseconds, written as `150` or `150ms`.
fn millis(what: &str, text: &str) -> Result<Duration, Usage> {
    let digits = text.trim().trim_end_matches("ms");
    digits
        .parse()
        .map(Duration::from_millis)
        .map_err(|_| Usage(format!("{what}: `{text}` is not a number of milliseconds")))
}

/// One JSON object, built field by field (the values are numbers, `null` and
/// short strings; strings are escaped).
struct Json(String);

impl Json {
    fn new(event: &str, node: u64) -> Self {
        let mut j = Json(String::from("{"));
        j.field("ts_us", unix_micros());
        j.string("event", event);
        j.field("node", node);
        j
    }
    fn field(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Self {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        let _ = write!(self.0, "\"{key}\":{value}");
        self
    }
    fn string(&mut self, key: &str, value: &str) -> &mut Self {
        let mut quoted = String::from("\"");
        for c in value.chars() {
            match c {
                '"' => quoted.push_str("\\\""),
                '\\' => quoted.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(quoted, "\\u{:04x}", c as u32);
                }
                c => quoted.push(c),
            }
        }
        quoted.push('"');
        self.field(key, quoted)
    }
    fn option(&mut self, key: &str, value: Option<u64>) -> &mut Self {
        match value {
            Some(v) => self.field(key, v),
            None => self.field(key, "null"),
        }
    }
    /// Prints the line and flushes, so a reader sees every event at once.
    fn print(&mut self) {
        self.0.push('}');
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", self.0);
        let _ = out.flush();
    }
}

/// Wall-clock microseconds since the Unix epoch: the event timestamp, comparable
/// across processes on one machine (the node's timers use the monotonic clock).
#[allow(clippy::disallowed_types, clippy::disallowed_methods)] // a timestamp for people and scripts
fn unix_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// Starts the node and prints its events until it stops (it runs until killed,
/// or until a failed state write halts it).
fn run(args: Args) -> Result<(), String> {
    let key = match &args.key_file {
        Some(path) => Some(ClusterKey::read_file(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let config = Config::default()
        .with_election_timeout(args.election_timeout.0, args.election_timeout.1)
        .with_heartbeat_interval(args.heartbeat)
        .with_seed(args.seed.unwrap_or(u64::from(std::process::id())));
    config
        .validate()
        .map_err(|e| format!("bad timing options: {e}"))?;
    let members = Membership::new(std::iter::once(args.id).chain(args.peers.keys().copied()))
        .map_err(|e| format!("bad membership: {e}"))?;
    std::fs::create_dir_all(&args.state_dir).map_err(|e| {
        format!(
            "cannot create the state directory {}: {e}",
            args.state_dir.display()
        )
    })?;
    let store =
        FileStore::new(args.state_dir.join(STATE_FILE), args.id).map_err(|e| e.to_string())?;
    let mut udp = UdpConfig::new(args.id, args.cluster).peers(args.peers.clone());
    if let Some(key) = key {
        udp = udp.key(key);
    }
    let transport = UdpTransport::bind(args.listen, udp)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let node = thread::start(config, args.id, members, store, transport.clone())
        .map_err(|e| e.to_string())?;
    let receiving = transport
        .deliver_to(node.handle())
        .map_err(|e| format!("cannot start the receive thread: {e}"))?;
    // One queue for the node's status changes and the stop signal (SIGINT/SIGTERM).
    let (events, queue) = mpsc::channel();
    let statuses = node.handle().subscribe();
    let forward = events.clone();
    std::thread::spawn(move || {
        for status in statuses {
            if forward.send(Event::Status(status)).is_err() {
                break;
            }
        }
    });
    let signalled = AtomicBool::new(false);
    ctrlc::set_handler(move || {
        if signalled.swap(true, Ordering::SeqCst) {
            std::process::exit(130); // a second signal: stop now, no hand-over
        }
        let _ = events.send(Event::Signal);
    })
    .map_err(|e| format!("cannot install the signal handler: {e}"))?;
    let mut last: Option<NodeStatus<u64>> = None;
    let mut signal = false;
    while let Ok(event) = queue.recv() {
        let status = match event {
            Event::Status(status) => status,
            Event::Signal => {
                signal = true;
                // A leader hands over to its most up-to-date reachable voter before
                // it steps down (`StepDown`), so the cluster has a new leader within
                // a round trip instead of an election timeout. The command returns
                // once the hand-over messages are sent. A follower has nothing to do.
                let _ = node.handle().command(Input::StepDown);
                while let Ok(Event::Status(status)) = queue.recv_timeout(Duration::from_millis(20))
                {
                    print_status(&mut last, status, &transport, &args);
                }
                break;
            }
        };
        if !status.running {
            break; // reported below, with the error that stopped it
        }
        print_status(&mut last, status, &transport, &args);
    }
    drop(receiving);
    let halted = node.shutdown();
    let e = &halted.election;
    let mut line = status_line("stop", e.id(), e.term(), e.role(), e.leader());
    if signal {
        line.string("reason", "signal");
    }
    if let Some(e) = &halted.error {
        line.string("error", &e.to_string());
    }
    line.print();
    match halted.error {
        Some(e) => Err(format!("stopped: {e}")),
        None => Ok(()),
    }
}

/// What the main loop waits for.
enum Event {
    Status(NodeStatus<u64>),
    Signal,
}

/// Prints a status change: `start` for the first, then `role` or `leader`.
fn print_status(
    last: &mut Option<NodeStatus<u64>>,
    status: NodeStatus<u64>,
    transport: &UdpTransport<u64>,
    args: &Args,
) {
    let event = match last {
        None => "start",
        Some(prev) if prev.role != status.role => "role",
        Some(_) => "leader", // the leader or the term changed
    };
    let mut line = status_line(event, status.id, status.term, status.role, status.leader);
    if event == "start" {
        let listen = transport.local_addr().map(|a| a.to_string());
        line.string("listen", &listen.unwrap_or_default());
        line.field("pid", std::process::id());
        line.field("authenticated", args.key_file.is_some());
    }
    line.print();
    *last = Some(status);
}

/// A line with the fields every line has: node, term, role, leader.
fn status_line(event: &str, id: u64, term: Term, role: Role, leader: Option<u64>) -> Json {
    let mut line = Json::new(event, id);
    line.field("term", term.get());
    line.string("role", &role.to_string());
    line.option("leader", leader);
    line
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(Usage(message)) => {
            eprintln!("ballot-node: {message}\n(run `ballot-node --help` for usage)");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ballot-node: {message}");
            ExitCode::from(2)
        }
    }
}
