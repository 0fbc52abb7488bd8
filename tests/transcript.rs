//! Transcript tests in the etcd-io/raft style: each `tests/transcripts/*.txt` file
//! is a scripted scenario in a tiny command language, interleaved with the output
//! the script produced when it was checked in. The test re-runs every command and
//! compares the whole transcript with the file; `BALLOT_REWRITE=1 cargo test --test
//! transcript` regenerates the files, and reviewers read the diff.
//!
//! # Format
//!
//! Lines starting at column 0 are commands (`#` starts a comment line); lines
//! starting with two spaces are output, and are ignored when the file is read back.
//! Every step a node takes prints a header — `<time> <node> <what>` — followed by
//! its outputs, in order, indented once more.
//!
//! # Commands
//!
//! ```text
//! config k=v ...              settings for nodes created or restarted after it:
//!                             pre_vote=on|off check_quorum=on|off min_voters=N
//!                             max_voters=N seed=N election=150..300 heartbeat=50 (ms)
//!                             priority=N witness=on|off
//!                             quarantine=on|off (restart quarantine) drift=N (ppm)
//! cluster 1 2 3 [learners 4]  create every member with this membership
//! node 4 voters 1 2 3 4 [learners 5]   create one node with its own membership
//! status                      one line per node (a leader's lease as `lease<T`)
//! wait <ms>                   move the clock forward (no node is woken)
//! next                        wake the node with the earliest deadline (clock jumps there)
//! fire <id>                   move the clock to <id>'s next deadline and tick only <id>
//!                             (other nodes' overdue timers wait for their own tick)
//! tick <targets>              tick nodes now
//! run <ms> [quiet]            for <ms>: deliver every message instantly, and wake each
//!                             node at its deadlines; `quiet` leaves out the steps that
//!                             only carry heartbeats (sent, answered or dropped) or
//!                             do nothing
//! deliver [<to>]              deliver the messages queued now (to <to>), once
//! stabilize                   deliver until no message is left
//! drop [<to>]                 drop the queued messages (to <to>)
//! send <from>-><to> <message> queue a hand-made message
//! isolate <id> / heal         cut a node off the network / reconnect everyone
//! crash <id> / restart <id>   lose a node's memory / rebuild it from its last Persist
//! campaign <targets>   step-down <targets>   freshness <targets> <term>/<index>
//! transfer <targets> <to>     forget-leader <targets>
//! add-voter <targets> <id>   add-learner <targets> <id>   remove <targets> <id>
//! ```
//!
//! `<targets>` is `all` (every running node) or a comma-separated list of ids.
//! Messages print (and parse) as `PreVote t2`, `Vote t2 fresh=1/5`,
//! `PreVoteResp t2 granted`, `VoteResp t2 rejected`, `Heartbeat t2 @150.000ms`,
//! `HeartbeatResp t2 @150.000ms` (`@` the heartbeat's send time in the leader's
//! clock, echoed by the reply; optional in a `send`, where it defaults to 0ms),
//! `Vote t3 transfer`, `Heartbeat t2 @0.000ms hand-over`,
//! `HeartbeatResp t2 @0.000ms fresh=1/5 prio=3 witness` (standing fields at their
//! defaults are left out), `TimeoutNow t2`.

use ballot::{
    Config, Election, Freshness, HardState, Input, Instant, Membership, Message, Output, Term,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One node slot: the running node (None while crashed), what it had persisted,
/// and what it needs to be rebuilt.
struct Slot {
    node: Option<Election<u64>>,
    disk: Option<HardState<u64>>,
    config: Config,
    membership: Membership<u64>,
}

struct Env {
    now: Instant,
    config: Config,
    slots: BTreeMap<u64, Slot>,
    queue: VecDeque<(u64, u64, Message)>,
    isolated: BTreeSet<u64>,
    /// Inside `run .. quiet`: routine heartbeat steps not printed.
    quiet: Option<usize>,
    text: String,
}

impl Env {
    fn new() -> Self {
        Env {
            now: Instant::ZERO,
            config: Config::default(),
            slots: BTreeMap::new(),
            queue: VecDeque::new(),
            isolated: BTreeSet::new(),
            quiet: None,
            text: String::new(),
        }
    }

    fn say(&mut self, indent: usize, line: impl AsRef<str>) {
        let _ = writeln!(self.text, "{}{}", "  ".repeat(indent), line.as_ref());
    }

    fn run(&mut self, line: &str) -> Result<(), String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (command, args) = words.split_first().ok_or("empty command")?;
        match *command {
            "config" => self.configure(args)?,
            "cluster" => {
                let (voters, learners) = parse_members(args)?;
                let membership = membership(&voters, &learners)?;
                for id in voters.iter().chain(&learners) {
                    self.create(*id, membership.clone())?;
                }
            }
            "node" => {
                let (id, rest) = args.split_first().ok_or("node <id> voters ...")?;
                let rest = rest
                    .strip_prefix(&["voters"][..])
                    .ok_or("node <id> voters ...")?;
                let (voters, learners) = parse_members(rest)?;
                self.create(number(id)?, membership(&voters, &learners)?)?;
            }
            "status" => {
                for id in self.slots.keys().copied().collect::<Vec<_>>() {
                    let line = self.status_line(id);
                    self.say(1, line);
                }
            }
            "wait" => {
                self.now += millis(one(args)?)?;
                let line = format!("now {}", self.now);
                self.say(1, line);
            }
            "fire" => {
                let id = number(one(args)?)?;
                let deadline = self.running(id)?.next_deadline().ok_or("no deadline")?;
                self.now = self.now.max(deadline);
                self.step(id, Input::Tick, "tick".into())?;
            }
            "next" => {
                if !args.is_empty() {
                    return Err("next takes no argument".into());
                }
                let (deadline, id) = self.earliest().ok_or("no node is running")?;
                self.now = self.now.max(deadline);
                self.step(id, Input::Tick, "tick".into())?;
            }
            "tick" => {
                for id in self.targets(one(args)?)? {
                    self.step(id, Input::Tick, "tick".into())?;
                }
            }
            "run" => match args {
                [span] => self.run_for(millis(span)?, false)?,
                [span, "quiet"] => self.run_for(millis(span)?, true)?,
                _ => return Err("run <ms> [quiet]".into()),
            },
            "deliver" => {
                let to = args.first().map(|a| number(a)).transpose()?;
                self.deliver_once(to)?;
            }
            "stabilize" => self.stabilize()?,
            "drop" => {
                let to = args.first().map(|a| number(a)).transpose()?;
                let before = self.queue.len();
                self.queue.retain(|(_, t, _)| to.is_some_and(|to| *t != to));
                let line = format!("dropped {} message(s)", before - self.queue.len());
                self.say(1, line);
            }
            "send" => {
                let (route, message) = args.split_first().ok_or("send <from>-><to> <msg>")?;
                let (from, to) = route.split_once("->").ok_or("expected <from>-><to>")?;
                let message = parse_message(message)?;
                self.queue.push_back((number(from)?, number(to)?, message));
            }
            "isolate" => {
                self.isolated.insert(number(one(args)?)?);
            }
            "heal" => self.isolated.clear(),
            "crash" => {
                let id = number(one(args)?)?;
                let slot = self.slots.get_mut(&id).ok_or("no such node")?;
                let node = slot.node.take().ok_or("node is already down")?;
                slot.membership = node.membership().clone();
                let disk = slot.disk;
                self.say(1, format!("{id} crashed; on disk: {}", show_hard(disk)));
            }
            "restart" => {
                let id = number(one(args)?)?;
                let slot = self.slots.get_mut(&id).ok_or("no such node")?;
                if slot.node.is_some() {
                    return Err("node is running".into());
                }
                slot.config = self.config;
                let node = Election::new(
                    slot.config,
                    id,
                    slot.membership.clone(),
                    slot.disk,
                    self.now,
                )
                .map_err(|e| e.to_string())?;
                slot.node = Some(node);
                let line = self.status_line(id);
                self.say(1, format!("restarted {line}"));
            }
            "campaign" => self.command(args, |_| Ok(Input::Campaign))?,
            "step-down" => self.command(args, |_| Ok(Input::StepDown))?,
            "transfer" => {
                self.command(args, |a| Ok(Input::TransferLeadership(number(one(a)?)?)))?
            }
            "forget-leader" => self.command(args, |_| Ok(Input::ForgetLeader))?,
            "add-voter" => self.command(args, |a| Ok(Input::AddVoter(number(one(a)?)?)))?,
            "add-learner" => self.command(args, |a| Ok(Input::AddLearner(number(one(a)?)?)))?,
            "remove" => self.command(args, |a| Ok(Input::RemoveNode(number(one(a)?)?)))?,
            "freshness" => self.command(args, |a| Ok(Input::SetFreshness(fresh(one(a)?)?)))?,
            other => return Err(format!("unknown command {other:?}")),
        }
        Ok(())
    }

    fn configure(&mut self, args: &[&str]) -> Result<(), String> {
        for arg in args {
            let (key, value) = arg.split_once('=').ok_or("expected key=value")?;
            let on = || match value {
                "on" => Ok(true),
                "off" => Ok(false),
                _ => Err(format!("{key} is on or off")),
            };
            let c = self.config;
            self.config = match key {
                "pre_vote" => c.with_pre_vote(on()?),
                "check_quorum" => c.with_check_quorum(on()?),
                "min_voters" => c.with_min_voters(number(value)? as usize),
                "max_voters" => c.with_max_voters(number(value)? as usize),
                "seed" => c.with_seed(number(value)?),
                "priority" => c.with_priority(
                    u8::try_from(number(value)?).map_err(|_| "priority is 0..=255")?,
                ),
                "witness" => c.with_witness(on()?),
                "quarantine" => c.with_restart_quarantine(on()?),
                "drift" => c.with_max_clock_drift(number(value)? as u32),
                "heartbeat" => c.with_heartbeat_interval(millis(value)?),
                "election" => {
                    let (min, max) = value.split_once("..").ok_or("election=min..max")?;
                    c.with_election_timeout(millis(min)?, millis(max)?)
                }
                _ => return Err(format!("unknown setting {key:?}")),
            };
        }
        self.config.validate().map_err(|e| e.to_string())
    }

    fn create(&mut self, id: u64, membership: Membership<u64>) -> Result<(), String> {
        let node = Election::new(self.config, id, membership.clone(), None, self.now)
            .map_err(|e| e.to_string())?;
        let slot = Slot {
            node: Some(node),
            disk: None,
            config: self.config,
            membership,
        };
        if self.slots.insert(id, slot).is_some() {
            return Err(format!("node {id} exists"));
        }
        let line = self.status_line(id);
        self.say(1, line);
        Ok(())
    }

    fn status_line(&self, id: u64) -> String {
        let Some(node) = self.slots.get(&id).and_then(|s| s.node.as_ref()) else {
            return format!("{id} down");
        };
        let m = node.membership();
        let kind = if m.is_voter(id) {
            ""
        } else if m.is_learner(id) {
            " (learner)"
        } else {
            " (not a member)"
        };
        let mut line = format!("{id}{kind} {} t{}", node.role(), node.term().get());
        if let Some(leader) = node.leader() {
            let _ = write!(line, " leader={leader}");
        }
        if let Some(vote) = node.voted_for() {
            let _ = write!(line, " vote={vote}");
        }
        if let Some(lease) = node.lease() {
            let _ = write!(line, " lease<{lease}");
        }
        if let Some(deadline) = node.next_deadline() {
            let _ = write!(line, " wakes@{deadline}");
        }
        line
    }

    fn running(&mut self, id: u64) -> Result<&mut Election<u64>, String> {
        self.slots
            .get_mut(&id)
            .ok_or_else(|| format!("no node {id}"))?
            .node
            .as_mut()
            .ok_or_else(|| format!("node {id} is down"))
    }

    fn targets(&self, spec: &str) -> Result<Vec<u64>, String> {
        if spec == "all" {
            return Ok(self
                .slots
                .iter()
                .filter(|(_, s)| s.node.is_some())
                .map(|(id, _)| *id)
                .collect());
        }
        spec.split(',').map(number).collect()
    }

    fn command(
        &mut self,
        args: &[&str],
        input: impl Fn(&[&str]) -> Result<Input<u64>, String>,
    ) -> Result<(), String> {
        let (targets, rest) = args.split_first().ok_or("missing <targets>")?;
        let input = input(rest)?;
        let what = show_input(&input);
        for id in self.targets(targets)? {
            self.step(id, input.clone(), what.clone())?;
        }
        Ok(())
    }

    /// One step of node `id`, carried out the way a real caller would: Persist
    /// goes to disk at once, sends and broadcasts go on the wire in order.
    fn step(&mut self, id: u64, input: Input<u64>, what: String) -> Result<(), String> {
        let now = self.now;
        let routine_input = match &input {
            Input::Tick => true,
            Input::Receive { message, .. } => is_heartbeat(message),
            _ => false,
        };
        let node = self.running(id)?;
        let outputs = node.step(input, now);
        let peers: Vec<u64> = node.membership().peers_of(id).collect();
        let routine = routine_input
            && outputs.iter().all(|o| match o {
                Output::Send { message, .. } | Output::Broadcast { message } => {
                    is_heartbeat(message)
                }
                _ => false,
            });
        let shown = !self.hide(routine);
        if shown {
            self.say(1, format!("{now} {id} {what}"));
        }
        for output in outputs {
            match &output {
                Output::Persist(hard) => {
                    if let Some(slot) = self.slots.get_mut(&id) {
                        slot.disk = Some(*hard);
                    }
                }
                Output::Send { to, message } => self.queue.push_back((id, *to, *message)),
                Output::Broadcast { message } => {
                    for to in &peers {
                        self.queue.push_back((id, *to, *message));
                    }
                }
                _ => {}
            }
            if shown {
                self.say(2, show_output(&output));
            }
        }
        Ok(())
    }

    /// Whether to leave out a routine heartbeat step (counting it).
    fn hide(&mut self, routine: bool) -> bool {
        match &mut self.quiet {
            Some(hidden) if routine => {
                *hidden += 1;
                true
            }
            _ => false,
        }
    }

    fn earliest(&self) -> Option<(Instant, u64)> {
        self.slots
            .iter()
            .filter_map(|(id, s)| Some((s.node.as_ref()?.next_deadline()?, *id)))
            .min()
    }

    fn deliver_once(&mut self, to: Option<u64>) -> Result<(), String> {
        let (now, rest): (VecDeque<_>, VecDeque<_>) = self
            .queue
            .drain(..)
            .partition(|(_, t, _)| to.is_none_or(|to| *t == to));
        self.queue = rest;
        for (from, to, message) in now {
            self.deliver(from, to, message)?;
        }
        Ok(())
    }

    fn deliver(&mut self, from: u64, to: u64, message: Message) -> Result<(), String> {
        let what = format!("{from}->{to} {}", show_message(&message));
        let down = self.slots.get(&to).is_none_or(|s| s.node.is_none());
        let why = if self.isolated.contains(&from) || self.isolated.contains(&to) {
            "partitioned".to_string()
        } else if down {
            format!("{to} is down")
        } else {
            String::new()
        };
        if !why.is_empty() {
            if !self.hide(is_heartbeat(&message)) {
                self.say(1, format!("{} {what}: dropped ({why})", self.now));
            }
            Ok(())
        } else {
            let input = Input::Receive { from, message };
            let step_what = format!("<-{from} {}", show_message(&message));
            self.step(to, input, step_what)
        }
    }

    fn stabilize(&mut self) -> Result<(), String> {
        let mut rounds = 0;
        while let Some((from, to, message)) = self.queue.pop_front() {
            self.deliver(from, to, message)?;
            rounds += 1;
            if rounds > 10_000 {
                return Err("stabilize does not converge".into());
            }
        }
        Ok(())
    }

    /// Discrete-event run with an instant network: deliver everything, then wake the
    /// node with the earliest deadline, until `span` has passed.
    fn run_for(&mut self, span: Duration, quiet: bool) -> Result<(), String> {
        let end = self.now + span;
        self.quiet = quiet.then_some(0);
        let result = self.run_until(end);
        if let Some(hidden) = self.quiet.take() {
            self.say(1, format!("{end} ({hidden} heartbeat steps not shown)"));
        }
        result
    }

    fn run_until(&mut self, end: Instant) -> Result<(), String> {
        loop {
            self.stabilize()?;
            match self.earliest() {
                Some((at, id)) if at <= end => {
                    self.now = self.now.max(at);
                    self.step(id, Input::Tick, "tick".into())?;
                }
                _ => break,
            }
        }
        self.now = end;
        Ok(())
    }
}

fn is_heartbeat(m: &Message) -> bool {
    matches!(
        m,
        Message::Heartbeat {
            hand_over: false,
            ..
        } | Message::HeartbeatResponse { .. }
    )
}

fn number(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("not a number: {s:?}"))
}

fn millis(s: &str) -> Result<Duration, String> {
    Ok(Duration::from_millis(number(s.trim_end_matches("ms"))?))
}

fn one<'a>(args: &[&'a str]) -> Result<&'a str, String> {
    match args {
        [one] => Ok(one),
        _ => Err(format!("expected one argument, got {args:?}")),
    }
}

fn fresh(s: &str) -> Result<Freshness, String> {
    let (term, index) = s.split_once('/').ok_or("freshness is <term>/<index>")?;
    Ok(Freshness::new(number(term)?, number(index)?))
}

fn parse_members(args: &[&str]) -> Result<(Vec<u64>, Vec<u64>), String> {
    let split = args
        .iter()
        .position(|a| *a == "learners")
        .unwrap_or(args.len());
    let voters = args[..split]
        .iter()
        .map(|a| number(a))
        .collect::<Result<_, _>>()?;
    let learners = args.get(split + 1..).unwrap_or_default();
    let learners = learners
        .iter()
        .map(|a| number(a))
        .collect::<Result<_, _>>()?;
    Ok((voters, learners))
}

fn membership(voters: &[u64], learners: &[u64]) -> Result<Membership<u64>, String> {
    Membership::with_learners(voters.iter().copied(), learners.iter().copied())
        .map_err(|e| e.to_string())
}

fn parse_message(words: &[&str]) -> Result<Message, String> {
    let (kind, rest) = words.split_first().ok_or("missing message")?;
    let (term, rest) = rest.split_first().ok_or("missing term")?;
    let term = Term(number(
        term.strip_prefix('t').ok_or("terms are written t<n>")?,
    )?);
    let granted = || match rest {
        ["granted"] => Ok(true),
        ["rejected"] => Ok(false),
        _ => Err("expected granted or rejected".to_string()),
    };
    let flag = |name: &str| rest.contains(&name);
    let freshness = || -> Result<Freshness, String> {
        match rest.iter().find_map(|w| w.strip_prefix("fresh=")) {
            None => Ok(Freshness::default()),
            Some(f) => fresh(f),
        }
    };
    Ok(match *kind {
        "PreVote" | "Vote" => Message::VoteRequest {
            term,
            pre_vote: *kind == "PreVote",
            transfer: flag("transfer"),
            freshness: freshness()?,
        },
        "PreVoteResp" | "VoteResp" => Message::VoteResponse {
            term,
            pre_vote: *kind == "PreVoteResp",
            granted: granted()?,
        },
        "Heartbeat" => Message::Heartbeat {
            term,
            sent: sent_at(rest)?,
            hand_over: flag("hand-over"),
        },
        "HeartbeatResp" => Message::HeartbeatResponse {
            term,
            sent: sent_at(rest)?,
            freshness: freshness()?,
            priority: match rest.iter().find_map(|w| w.strip_prefix("prio=")) {
                None => 0,
                Some(p) => p.parse().map_err(|_| format!("bad priority {p:?}"))?,
            },
            witness: flag("witness"),
        },
        "TimeoutNow" => Message::TimeoutNow { term },
        other => return Err(format!("unknown message {other:?}")),
    })
}

fn show_message(m: &Message) -> String {
    match *m {
        Message::VoteRequest {
            term,
            pre_vote,
            transfer,
            freshness,
        } => {
            let kind = if pre_vote { "PreVote" } else { "Vote" };
            let mark = if transfer { " transfer" } else { "" };
            format!("{kind} t{term}{}{mark}", show_freshness(freshness))
        }
        Message::VoteResponse {
            term,
            pre_vote,
            granted,
        } => {
            let kind = if pre_vote { "PreVoteResp" } else { "VoteResp" };
            let answer = if granted { "granted" } else { "rejected" };
            format!("{kind} t{term} {answer}")
        }
        Message::Heartbeat {
            term,
            sent,
            hand_over,
        } => {
            let mark = if hand_over { " hand-over" } else { "" };
            format!("Heartbeat t{term} @{sent}{mark}")
        }
        Message::HeartbeatResponse {
            term,
            sent,
            freshness,
            priority,
            witness,
        } => {
            let prio = if priority != 0 {
                format!(" prio={priority}")
            } else {
                String::new()
            };
            let witness = if witness { " witness" } else { "" };
            format!(
                "HeartbeatResp t{term} @{sent}{}{prio}{witness}",
                show_freshness(freshness)
            )
        }
        Message::TimeoutNow { term } => format!("TimeoutNow t{term}"),
        _ => format!("{m:?}"),
    }
}

fn show_freshness(f: Freshness) -> String {
    if f == Freshness::default() {
        String::new()
    } else {
        format!(" fresh={}/{}", f.term, f.index)
    }
}

/// A heartbeat's `@<ms>` send time (`@150`, `@150ms` or `@150.250ms`); 0 if absent.
fn sent_at(rest: &[&str]) -> Result<Instant, String> {
    let Some(text) = rest.iter().find_map(|w| w.strip_prefix('@')) else {
        return Ok(Instant::ZERO);
    };
    let text = text.trim_end_matches("ms");
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 6 {
        return Err(format!("at most 6 decimals in {text:?}"));
    }
    let frac_nanos = if frac.is_empty() {
        0
    } else {
        number(frac)? * 10u64.pow(6 - frac.len() as u32)
    };
    Ok(Instant::from_nanos(number(whole)? * 1_000_000 + frac_nanos))
}

fn show_hard(hard: Option<HardState<u64>>) -> String {
    match hard {
        None => "nothing".into(),
        Some(h) => match h.voted_for {
            Some(v) => format!("t{} vote={v}", h.term),
            None => format!("t{} vote=none", h.term),
        },
    }
}

fn show_output(o: &Output<u64>) -> String {
    match o {
        Output::Persist(h) => format!("persist {}", show_hard(Some(*h))),
        Output::Send { to, message } => format!("send {to} {}", show_message(message)),
        Output::Broadcast { message } => format!("broadcast {}", show_message(message)),
        Output::RoleChanged { role, term } => format!("role {role} t{term}"),
        Output::LeaderChanged {
            leader: Some(l),
            term,
        } => format!("leader {l} t{term}"),
        Output::LeaderChanged { leader: None, term } => format!("leader none t{term}"),
        Output::Rejected(e) => format!("rejected: {e}"),
        Output::TransferStarted { to, term } => format!("transfer-started to={to} t{term}"),
        Output::TransferFailed { to, term, reason } => {
            format!("transfer-failed to={to} t{term} {reason:?}")
        }
        other => format!("{other:?}"),
    }
}

fn show_input(i: &Input<u64>) -> String {
    match i {
        Input::Campaign => "campaign".into(),
        Input::StepDown => "step-down".into(),
        Input::TransferLeadership(n) => format!("transfer {n}"),
        Input::ForgetLeader => "forget-leader".into(),
        Input::AddVoter(n) => format!("add-voter {n}"),
        Input::AddLearner(n) => format!("add-learner {n}"),
        Input::RemoveNode(n) => format!("remove {n}"),
        Input::SetFreshness(f) => format!("freshness {}/{}", f.term, f.index),
        other => format!("{other:?}"),
    }
}

/// Runs the commands of a transcript and returns the transcript it produces.
fn replay(original: &str, name: &str) -> String {
    let mut env = Env::new();
    for (number, line) in original.lines().enumerate() {
        if line.starts_with("  ") {
            continue; // output of the previous run
        }
        env.text.push_str(line);
        env.text.push('\n');
        let command = line.trim();
        if command.is_empty() || command.starts_with('#') {
            continue;
        }
        if let Err(error) = env.run(command) {
            panic!("{name}:{}: {command:?}: {error}", number + 1);
        }
    }
    env.text
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts")
}

fn check(name: &str) {
    let path = dir().join(format!("{name}.txt"));
    let original = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let actual = replay(&original, name);
    if std::env::var_os("BALLOT_REWRITE").is_some() {
        if actual != original {
            std::fs::write(&path, &actual).unwrap();
        }
        return;
    }
    if actual != original {
        let (want, got): (Vec<_>, Vec<_>) = (original.lines().collect(), actual.lines().collect());
        let at = want.iter().zip(&got).position(|(w, g)| w != g);
        let at = at.unwrap_or(want.len().min(got.len()));
        let from = at.saturating_sub(3);
        let mut report = String::new();
        for (i, line) in got.iter().enumerate().skip(from).take(8) {
            let mark = if i == at { ">" } else { " " };
            let _ = writeln!(report, "{mark}{:4} {line}", i + 1);
        }
        let expected = want.get(at).copied().unwrap_or("<end of file>");
        panic!(
            "{name}.txt differs from its replay at line {}:\n  expected: {expected}\n  actual:\n{report}\
             Re-run with BALLOT_REWRITE=1 to accept the new output, then review the diff.",
            at + 1
        );
    }
}

macro_rules! transcripts {
    ($($name:ident),* $(,)?) => {
        /// One test per transcript file, named after it.
        mod transcripts {
            $( #[test] fn $name() { super::check(stringify!($name)); } )*
        }

        #[test]
        fn every_transcript_file_has_a_test() {
            let listed = [$(stringify!($name)),*];
            for entry in std::fs::read_dir(dir()).unwrap() {
                let path = entry.unwrap().path();
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                assert!(listed.contains(&stem.as_str()), "{path:?} has no test in transcript.rs");
            }
        }
    };
}

transcripts!(
    campaign,
    freshness,
    prevote,
    checkquorum,
    stickiness,
    membership,
    restart,
    transfer,
    lease,
);
