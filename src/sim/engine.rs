//! The discrete-event engine: the event loop and how one node's step is carried out.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use super::availability::Availability;
use super::event::{EventKind, Queue, message_word};
use super::history::{Change, Delta, HistoryEntry, NodeState};
use super::invariants::Checker;
use super::network::{MessageKind, Network, transmit};
use super::node::{Slot, refresh_view};
use super::options::{SimOptions, nanos};
use super::rng::{SimRng, splitmix64};
use super::script::Action;
use super::trace::Tracer;
use super::tuning::Overrides;
use crate::{ConfigError, Input, Instant, Membership, Message, Output, Role};

/// The largest node id the simulator accepts (nodes are stored by id).
pub const MAX_NODE_ID: u64 = (1 << 24) - 1;

/// One message delivery, as seen by a [`DeliveryHook`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Delivery {
    /// Global simulated time of arrival.
    pub at: Instant,
    /// The sender.
    pub from: u64,
    /// The receiver (a live node).
    pub to: u64,
    /// The message.
    pub message: Message,
}

/// A callback run for every message delivered to a live node, just before the node
/// processes it (see [`Simulation::on_deliver`]).
pub type DeliveryHook = Box<dyn FnMut(&Delivery)>;

/// A deterministic simulation of a cluster of [`Election`](crate::Election)s.
///
/// Build one from [`SimOptions`] (`SimOptions::new(seed).nodes(5).build()` or
/// [`Simulation::new`]), script it, run it, and read the outcome. See the
/// [module documentation](super) for the model and an example.
pub struct Simulation {
    pub(super) options: SimOptions,
    /// Global simulated time, nanoseconds.
    pub(super) now: u64,
    /// Node slots indexed by id.
    pub(super) nodes: Vec<Slot>,
    /// The membership as the application sees it (given to new and restarted nodes).
    pub(super) membership: Membership<u64>,
    pub(super) queue: Queue,
    pub(super) rng: SimRng,
    pub(super) net: Network,
    pub(super) checker: Checker,
    pub(super) avail: Availability,
    pub(super) tracer: Tracer,
    pub(super) history: Vec<HistoryEntry>,
    pub(super) actions: Vec<Option<Action>>,
    /// The one reused output buffer.
    out: Vec<Output<u64>>,
    pub(super) deliver_hook: Option<DeliveryHook>,
    pub(super) deliver_filter: Option<super::hooks::DeliveryFilter>,
    pub(super) output_hook: Option<super::hooks::OutputHook>,
    /// Inside the `setup` of [`Simulation::try_new_with`], before the initial nodes
    /// exist: node actions are deferred to time zero.
    pub(super) setting_up: bool,
    pub(super) faults_on: bool,
    pub(super) crash_chain: bool,
    pub(super) partition_chain: bool,
    pub(super) freshness_chain: bool,
    pub(super) events: u64,
    pub(super) crashes: u64,
    pub(super) restarts: u64,
    pub(super) liveness: Option<Duration>,
    /// Per-node configurations and clocks set by the script.
    pub(super) overrides: Overrides,
}

impl fmt::Debug for Simulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulation")
            .field("seed", &self.options.seed)
            .field("now", &Instant::from_nanos(self.now))
            .field("nodes", &self.nodes.iter().filter(|s| s.exists).count())
            .field("events", &self.events)
            .field("violations", &self.checker.count)
            .finish_non_exhaustive()
    }
}

impl Simulation {
    /// Options to build a simulation from: [`SimOptions::new`]`(seed)`.
    pub fn builder(seed: u64) -> SimOptions {
        SimOptions::new(seed)
    }

    /// Starts a simulation: creates the nodes at time zero and, if the options ask
    /// for random faults, starts injecting them.
    ///
    /// # Panics
    ///
    /// If the configuration template is invalid (see [`Simulation::try_new`]).
    pub fn new(options: SimOptions) -> Self {
        match Self::try_new(options) {
            Ok(sim) => sim,
            Err(e) => panic!("invalid simulation options: {e}"),
        }
    }

    /// Like [`Simulation::new`], but returns the configuration error instead of
    /// panicking.
    pub fn try_new(options: SimOptions) -> Result<Self, ConfigError> {
        Self::try_new_with(options, |_| {})
    }

    /// Like [`Simulation::try_new`], but runs `setup` on the simulation before the
    /// initial nodes start (see [`SimOptions::build_with`]).
    pub fn try_new_with(
        options: SimOptions,
        setup: impl FnOnce(&mut Simulation),
    ) -> Result<Self, ConfigError> {
        options.config.validate()?;
        if options.nodes > options.config.max_voters {
            return Err(ConfigError::TooManyVoters {
                voters: options.nodes,
                max_voters: options.config.max_voters,
            });
        }
        let voters = 1..=options.nodes as u64;
        let learners = options.nodes as u64 + 1..=(options.nodes + options.learners) as u64;
        let membership = Membership::with_learners(voters, learners.clone())
            .unwrap_or_else(|_| Membership::default());
        let mut sim = Simulation {
            now: 0,
            nodes: Vec::new(),
            membership,
            queue: Queue::default(),
            rng: SimRng::new(splitmix64(options.seed)),
            net: Network::new(options.delay, options.loss_ppm, options.duplicate_ppm),
            checker: Checker::default(),
            avail: Availability::new(),
            tracer: Tracer::new(options.trace),
            history: Vec::new(),
            actions: Vec::new(),
            out: Vec::new(),
            deliver_hook: None,
            deliver_filter: None,
            output_hook: None,
            setting_up: false,
            faults_on: false,
            crash_chain: false,
            partition_chain: false,
            freshness_chain: false,
            events: 0,
            crashes: 0,
            restarts: 0,
            liveness: None,
            overrides: Overrides::default(),
            options,
        };
        sim.setting_up = true;
        setup(&mut sim);
        sim.setting_up = false;
        for id in 1..=*learners.end() {
            let members = sim.membership.clone();
            sim.create_node(id, members);
        }
        if sim.options.partitions.is_some()
            || sim.options.crashes.is_some()
            || sim.options.freshness.is_some()
        {
            sim.start_faults();
        }
        Ok(sim)
    }

    /// Runs for `duration` of simulated time (every event up to and including
    /// `now + duration`), then sets the clock to that time.
    pub fn run_for(&mut self, duration: Duration) {
        let limit = self.now.saturating_add(nanos(duration));
        self.run_loop(limit, |_| false);
    }

    /// Runs until `done` holds (checked before starting and after every event) or
    /// `within` has passed. Returns whether `done` held; the clock is then at the
    /// event that made it true, or at `now + within`.
    pub fn run_until(
        &mut self,
        mut done: impl FnMut(&Simulation) -> bool,
        within: Duration,
    ) -> bool {
        if done(self) {
            return true;
        }
        let limit = self.now.saturating_add(nanos(within));
        self.run_loop(limit, done)
    }

    /// Processes the next event, if any; returns whether there was one.
    pub fn step(&mut self) -> bool {
        match self.queue.pop() {
            Some(ev) => {
                self.now = self.now.max(ev.at);
                self.process(ev.at, ev.kind);
                true
            }
            None => false,
        }
    }

    fn run_loop(&mut self, limit: u64, mut done: impl FnMut(&Simulation) -> bool) -> bool {
        while let Some(at) = self.queue.peek_time() {
            if at > limit {
                break;
            }
            let Some(ev) = self.queue.pop() else { break };
            self.now = self.now.max(ev.at);
            self.process(ev.at, ev.kind);
            if done(self) {
                return true;
            }
        }
        self.now = self.now.max(limit);
        false
    }

    fn process(&mut self, at: u64, kind: EventKind) {
        self.events += 1;
        self.tracer.mix(at);
        for w in kind.words() {
            self.tracer.mix(w);
        }
        match kind {
            EventKind::Wake { node, generation } => self.on_wake(node as usize, generation),
            EventKind::Deliver { from, to, message } => {
                self.on_delivery(u64::from(from), u64::from(to), message, true);
            }
            EventKind::Postponed { from, to, message } => {
                self.on_delivery(u64::from(from), u64::from(to), message, false);
            }
            EventKind::Durable { node, incarnation } => {
                self.on_durable(node as usize, incarnation);
            }
            EventKind::Scripted { index } => {
                let action = self.actions.get_mut(index as usize).and_then(Option::take);
                if let Some(action) = action {
                    self.apply(action);
                }
            }
            EventKind::CrashFault => self.on_crash_fault(),
            EventKind::PartitionFault => self.on_partition_fault(),
            EventKind::PartitionHeal => self.on_partition_heal(),
            EventKind::FreshnessFault => self.on_freshness_fault(),
            EventKind::Restart { node, incarnation } => {
                if self.nodes[node as usize].incarnation == incarnation {
                    self.restart_node(node as usize);
                }
            }
        }
        self.flush_violations();
    }

    /// Writes new violations to the trace.
    pub(super) fn flush_violations(&mut self) {
        while self.checker.traced < self.checker.violations.len() {
            let v = self.checker.violations[self.checker.traced];
            self.checker.traced += 1;
            self.tracer
                .line(self.now, None, format_args!("VIOLATION {v}"));
        }
    }

    fn on_wake(&mut self, idx: usize, generation: u32) {
        let now = self.now;
        let slot = &mut self.nodes[idx];
        if slot.wake_generation != generation {
            return; // superseded by an earlier wake-up
        }
        slot.wake_at = None;
        let Some(election) = slot.election.as_ref() else {
            return;
        };
        if slot.disk.busy() {
            return; // re-armed once the pending write is durable
        }
        let due = election.next_deadline().map(|d| slot.clock.global(d));
        if due.is_some_and(|g| g <= now) {
            self.step_node(idx, Input::Tick, None);
        } else {
            // The deadline moved later since this wake-up was queued.
            self.schedule_wake(idx, now);
        }
    }

    fn on_delivery(&mut self, from: u64, to: u64, message: Message, filter: bool) {
        if !self.net.link_up(from, to) {
            self.net.stats.dropped_link += 1;
            return;
        }
        let idx = to as usize;
        if !self.nodes.get(idx).is_some_and(Slot::is_up) {
            self.net.stats.dropped_down += 1;
            return;
        }
        if filter && !self.filter_delivery(from, to, message) {
            return;
        }
        self.net.stats.delivered += 1;
        self.net.stats.delivered_by_kind[MessageKind::of(&message) as usize] += 1;
        if let Some(hook) = self.deliver_hook.as_mut() {
            hook(&Delivery {
                at: Instant::from_nanos(self.now),
                from,
                to,
                message,
            });
        }
        if let Message::VoteResponse {
            term,
            pre_vote: false,
            granted: true,
        } = message
        {
            self.checker.on_grant_delivered(term.get(), to, from);
        }
        let message = match message {
            Message::HeartbeatResponse {
                term,
                freshness,
                priority,
                witness,
                ..
            } if self.options.lease_from_ack_time => {
                // Negative control: the lease counts the arrival, not the send time.
                let local = self.nodes[idx].clock.local(self.now);
                Message::HeartbeatResponse {
                    term,
                    sent: local,
                    freshness,
                    priority,
                    witness,
                }
            }
            other => other,
        };
        self.step_node(idx, Input::Receive { from, message }, None);
    }

    /// The lease invariant after a step of node `idx` (see `sim::lease`).
    fn check_lease(&mut self, idx: usize) {
        let slot = &self.nodes[idx];
        let Some(election) = slot.election.as_ref() else {
            return;
        };
        if !election.is_leader() && !self.checker.leases.holds(idx as u64) {
            return;
        }
        let expires = if election.membership().voters().len() <= super::lease::MAX_VOTERS {
            election.lease().map(|l| slot.clock.global(l))
        } else {
            None
        };
        self.checker.on_lease(self.now, idx as u64, expires);
    }

    fn on_durable(&mut self, idx: usize, incarnation: u32) {
        let now = self.now;
        let slot = &mut self.nodes[idx];
        if slot.incarnation != incarnation || !slot.is_up() {
            return; // the write died with a crash
        }
        let Some(hard) = slot.disk.pending.take() else {
            return;
        };
        slot.disk.durable = Some(hard);
        slot.max_durable_term = slot.max_durable_term.max(hard.term.get());
        if let Some(candidate) = hard.voted_for {
            self.checker
                .on_vote(now, idx as u64, &mut slot.votes, hard.term.get(), candidate);
        }
        if core::mem::take(&mut slot.leading_after_write) {
            if let Some(e) = slot.election.as_ref() {
                self.checker.on_leader(
                    now,
                    idx as u64,
                    hard.term.get(),
                    slot.campaign.as_ref(),
                    e.membership(),
                );
            }
        }
        let mut held = core::mem::take(&mut slot.disk.held);
        slot.disk.release(&mut held); // pipelined model: what waited for this write
        let pos = slot.disk.batch_pos;
        self.carry_out(idx, &mut held, pos);
        held.clear();
        if self.nodes[idx].disk.held.is_empty() {
            self.nodes[idx].disk.held = held; // keep the capacity
        }
        // Inputs that waited for the write, in order, until the node blocks again.
        loop {
            let slot = &mut self.nodes[idx];
            if !slot.is_up() || slot.disk.busy() {
                break;
            }
            let Some(input) = slot.disk.inbox.pop_front() else {
                break;
            };
            self.step_node(idx, input, None);
        }
        self.schedule_wake(idx, now);
    }

    /// Steps node `idx` with `input` now, checks the invariants on its new state and
    /// carries out its outputs. A crashed node ignores the input; a node blocked on a
    /// write queues it. With `capture`, the step's outputs are also copied there.
    pub(super) fn step_node(
        &mut self,
        idx: usize,
        input: Input<u64>,
        capture: Option<&mut Vec<Output<u64>>>,
    ) {
        let now = self.now;
        let slot = &mut self.nodes[idx];
        let Some(election) = slot.election.as_mut() else {
            return;
        };
        if slot.disk.busy() {
            slot.disk.inbox.push_back(input);
            return;
        }
        let tick = matches!(input, Input::Tick);
        let command = !tick && !matches!(input, Input::Receive { .. });
        let before = NodeState::of(election);
        let received = match input {
            Input::Receive { from, message } => Some((from, message)),
            _ => None,
        };
        let step_downs =
            (before.role == Role::Leader).then(|| election.stats().check_quorum_step_downs);
        let local = slot.clock.local(now);
        let mut out = core::mem::take(&mut self.out);
        out.clear();
        election.step_into(input, local, &mut out);
        if let Some(capture) = capture {
            capture.extend(out.iter().cloned());
        }
        if let Some(election) = slot.election.as_ref() {
            slot.lease.after_step(
                &mut self.checker,
                now,
                election,
                local,
                received,
                step_downs,
                command,
            );
        }
        let persists = out.iter().any(|o| matches!(o, Output::Persist(_)));
        self.after_step(idx, before, command, persists);
        if let Some(slot) = self.nodes.get_mut(idx) {
            slot.disk.admit(&mut out); // pipelined model: only what may leave now
        }
        self.check_lease(idx);
        self.carry_out(idx, &mut out, 0);
        self.out = out;
        // After a tick every due timer has fired; never wake again at the same instant.
        self.schedule_wake(idx, if tick { now + 1 } else { now });
    }

    /// Checks and records what a step changed in node `idx`'s state.
    fn after_step(&mut self, idx: usize, before: NodeState, command: bool, persists: bool) {
        let now = self.now;
        let id = idx as u64;
        let Simulation {
            nodes,
            checker,
            tracer,
            history,
            avail,
            ..
        } = self;
        let slot = &mut nodes[idx];
        let Some(election) = slot.election.as_ref() else {
            return;
        };
        let after = NodeState::of(election);
        checker.check_term(now, id, &mut slot.last_term, after.term.get());
        if after == before && !command {
            return;
        }
        if after != before {
            history.push(HistoryEntry {
                at: Instant::from_nanos(now),
                node: id,
                change: Change::State(after),
            });
            tracer.line(
                now,
                Some((id, Some(election))),
                format_args!("{}", Delta(before, after)),
            );
            // The campaign's voter set: the membership when the node became
            // Candidate for this term (in this step, if it also won in it).
            let campaigned = after.term != before.term || before.role != Role::Candidate;
            if campaigned
                && (after.role == Role::Candidate
                    || (after.role == Role::Leader && after.term != before.term))
            {
                slot.campaign = Some((after.term.get(), election.membership().clone()));
            }
            let new_term = after.term != before.term || before.role != Role::Leader;
            if after.role == Role::Leader && new_term {
                if persists {
                    // Won in the step that wrote its vote (a one-voter campaign): it
                    // leads once that write is durable; a crash before makes it a
                    // leadership nobody ever saw (its outputs die with the write).
                    slot.leading_after_write = true;
                } else {
                    checker.on_leader(
                        now,
                        id,
                        after.term.get(),
                        slot.campaign.as_ref(),
                        election.membership(),
                    );
                }
            }
        }
        refresh_view(now, slot, avail, command);
    }

    /// Carries out `out` (a batch, or its held rest starting at batch position
    /// `start`) for node `idx`, in order, stopping at a `Persist`.
    fn carry_out(&mut self, idx: usize, out: &mut Vec<Output<u64>>, start: usize) {
        let mut pos = start;
        let mut i = 0;
        while i < out.len() {
            if self.nodes[idx].crash_at_output.is_some_and(|k| k <= pos) {
                self.crash_node(idx);
                return;
            }
            if let Some(hook) = self.output_hook.as_mut() {
                let slot = &self.nodes[idx];
                hook(&super::hooks::Emitted {
                    at: Instant::from_nanos(self.now),
                    local: slot.clock.local(self.now),
                    node: idx as u64,
                    output: &out[i],
                });
            }
            match &out[i] {
                Output::Persist(hard) => {
                    let hard = *hard;
                    self.tracer.mix(0x5045_5253 ^ hard.term.get());
                    let slot = &mut self.nodes[idx];
                    slot.disk.pending = Some(hard);
                    slot.disk.held.extend(out.drain(i + 1..));
                    slot.disk.batch_pos = pos + 1;
                    let latency = self.options.persist_latency.draw(&mut self.rng);
                    let incarnation = slot.incarnation;
                    self.queue.push(
                        self.now.saturating_add(latency),
                        EventKind::Durable {
                            node: idx as u32,
                            incarnation,
                        },
                    );
                    if self.nodes[idx].crash_on_write {
                        self.crash_node(idx); // the write is lost
                    }
                    return;
                }
                Output::Send { to, message } => {
                    let (to, message) = (*to, *message);
                    self.send(idx, Some(to), message);
                }
                Output::Broadcast { message } => {
                    let message = *message;
                    self.send(idx, None, message);
                }
                Output::RoleChanged { .. }
                | Output::LeaderChanged { .. }
                | Output::TransferStarted { .. }
                | Output::TransferFailed { .. } => {
                    // Recorded from the state diff in `after_step`.
                }
                Output::Rejected(error) => {
                    let error = *error;
                    self.history.push(HistoryEntry {
                        at: Instant::from_nanos(self.now),
                        node: idx as u64,
                        change: Change::Rejected(error),
                    });
                    let e = self.nodes[idx].election.as_ref();
                    self.tracer.line(
                        self.now,
                        Some((idx as u64, e)),
                        format_args!("rejected a command: {error}"),
                    );
                }
            }
            i += 1;
            pos += 1;
        }
        if pos > 0 && self.nodes[idx].crash_at_output.is_some() {
            // The armed crash lands right after this (shorter) batch.
            self.crash_node(idx);
        }
    }

    /// A message leaves node `idx`: to one node, or to every peer (`to == None`).
    fn send(&mut self, idx: usize, to: Option<u64>, message: Message) {
        let now = self.now;
        let Simulation {
            nodes,
            checker,
            net,
            rng,
            queue,
            tracer,
            ..
        } = self;
        let Slot {
            election,
            disk,
            votes,
            ..
        } = &mut nodes[idx];
        let Some(election) = election.as_ref() else {
            return;
        };
        checker.on_send(now, election, disk.durable, votes, to, &message);
        let from = idx as u64;
        tracer.mix(message_word(&message) ^ to.unwrap_or(u64::MAX).rotate_left(40));
        match to {
            Some(to) => transmit(net, rng, queue, now, from, to, message),
            None => {
                for to in election.membership().peers_of(from) {
                    transmit(net, rng, queue, now, from, to, message);
                }
            }
        }
    }

    /// Re-arms node `idx`'s wake-up from its `next_deadline`, no earlier than
    /// `floor`. Keeps at most one live wake-up per node: a new event is queued only
    /// when the deadline moved earlier than the queued one (a later deadline is
    /// handled when the early wake-up fires).
    pub(super) fn schedule_wake(&mut self, idx: usize, floor: u64) {
        let slot = &mut self.nodes[idx];
        let Some(election) = slot.election.as_ref() else {
            return;
        };
        if slot.disk.busy() {
            return;
        }
        let Some(deadline) = election.next_deadline() else {
            return;
        };
        let at = slot.clock.global(deadline).max(floor);
        if slot.wake_at.is_none_or(|w| at < w) {
            slot.wake_generation = slot.wake_generation.wrapping_add(1);
            slot.wake_at = Some(at);
            self.queue.push(
                at,
                EventKind::Wake {
                    node: idx as u32,
                    generation: slot.wake_generation,
                },
            );
        }
    }
}
