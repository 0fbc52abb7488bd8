//! Scripting: faults, membership and commands, now or at a given time, and the
//! read-only queries a script asserts on.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use super::engine::{DeliveryHook, Simulation};
use super::history::HistoryEntry;
use super::invariants::Violation;
use super::network::NetStats;
use super::options::{Delay, SimOptions, nanos};
use super::trace::TraceSink;
use crate::{Election, Freshness, HardState, Input, Instant, Membership, Output, Role};

/// Something a script does to the simulation, now ([`Simulation::apply`]) or later
/// ([`Simulation::at`], [`Simulation::after`]). Each variant is also a method of
/// [`Simulation`] with the same meaning.
#[non_exhaustive]
pub enum Action {
    /// [`Simulation::crash`].
    Crash(u64),
    /// [`Simulation::crash_mid_batch`].
    CrashMidBatch {
        /// The node.
        node: u64,
        /// The output position in its next non-empty batch before which it crashes.
        before_output: usize,
    },
    /// [`Simulation::crash_during_next_write`].
    CrashDuringNextWrite(u64),
    /// [`Simulation::restart`].
    Restart(u64),
    /// [`Simulation::cut`].
    Cut {
        /// Sender side.
        from: u64,
        /// Receiver side.
        to: u64,
    },
    /// [`Simulation::heal_link`].
    HealLink {
        /// Sender side.
        from: u64,
        /// Receiver side.
        to: u64,
    },
    /// [`Simulation::partition`].
    Partition(Vec<Vec<u64>>),
    /// [`Simulation::isolate`].
    Isolate(u64),
    /// [`Simulation::heal_all`].
    HealAll,
    /// [`Simulation::add_voter`].
    AddVoter(u64),
    /// [`Simulation::add_learner`].
    AddLearner(u64),
    /// [`Simulation::remove_node`].
    RemoveNode(u64),
    /// [`Simulation::set_freshness`].
    SetFreshness(u64, Freshness),
    /// [`Simulation::replicate`].
    Replicate {
        /// The node.
        node: u64,
        /// Entries appended (leader) or copied (others).
        entries: u64,
    },
    /// [`Simulation::command`] (the outputs are recorded, not returned).
    Command(u64, Input<u64>),
    /// [`Simulation::set_link_delay`].
    SetLinkDelay {
        /// Sender side.
        from: u64,
        /// Receiver side.
        to: u64,
        /// The link's delay distribution.
        delay: Delay,
    },
    /// [`Simulation::clear_link_delay`].
    ClearLinkDelay {
        /// Sender side.
        from: u64,
        /// Receiver side.
        to: u64,
    },
    /// [`Simulation::set_link_loss`].
    SetLinkLoss {
        /// Sender side.
        from: u64,
        /// Receiver side.
        to: u64,
        /// Loss probability in parts per million (`None`: the network's).
        ppm: Option<u32>,
    },
    /// [`Simulation::set_clock`].
    SetClock {
        /// The node.
        node: u64,
        /// Its local clock's origin offset.
        offset: Duration,
        /// Its rate error, in parts per million.
        drift_ppm: i32,
    },
    /// [`Simulation::start_faults`].
    StartFaults,
    /// [`Simulation::stop_faults`].
    StopFaults,
    /// Any code, run at that moment.
    Call(Box<dyn FnOnce(&mut Simulation)>),
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Crash(n) => write!(f, "Crash({n})"),
            Action::CrashMidBatch {
                node,
                before_output,
            } => write!(f, "CrashMidBatch({node}, {before_output})"),
            Action::CrashDuringNextWrite(n) => write!(f, "CrashDuringNextWrite({n})"),
            Action::Restart(n) => write!(f, "Restart({n})"),
            Action::Cut { from, to } => write!(f, "Cut({from} -> {to})"),
            Action::HealLink { from, to } => write!(f, "HealLink({from} -> {to})"),
            Action::Partition(g) => write!(f, "Partition({g:?})"),
            Action::Isolate(n) => write!(f, "Isolate({n})"),
            Action::HealAll => write!(f, "HealAll"),
            Action::AddVoter(n) => write!(f, "AddVoter({n})"),
            Action::AddLearner(n) => write!(f, "AddLearner({n})"),
            Action::RemoveNode(n) => write!(f, "RemoveNode({n})"),
            Action::SetFreshness(n, x) => write!(f, "SetFreshness({n}, {x:?})"),
            Action::Replicate { node, entries } => write!(f, "Replicate({node}, {entries})"),
            Action::Command(n, i) => write!(f, "Command({n}, {i:?})"),
            Action::SetLinkDelay { from, to, delay } => {
                write!(f, "SetLinkDelay({from} -> {to}, {delay})")
            }
            Action::ClearLinkDelay { from, to } => write!(f, "ClearLinkDelay({from} -> {to})"),
            Action::SetLinkLoss { from, to, ppm } => {
                write!(f, "SetLinkLoss({from} -> {to}, {ppm:?})")
            }
            Action::SetClock {
                node,
                offset,
                drift_ppm,
            } => write!(f, "SetClock({node}, {offset:?}, {drift_ppm} ppm)"),
            Action::StartFaults => write!(f, "StartFaults"),
            Action::StopFaults => write!(f, "StopFaults"),
            Action::Call(_) => write!(f, "Call(..)"),
        }
    }
}

impl Simulation {
    /// Carries out `action` now.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Crash(n) => self.crash(n),
            Action::CrashMidBatch {
                node,
                before_output,
            } => self.crash_mid_batch(node, before_output),
            Action::CrashDuringNextWrite(n) => self.crash_during_next_write(n),
            Action::Restart(n) => self.restart(n),
            Action::Cut { from, to } => self.cut(from, to),
            Action::HealLink { from, to } => self.heal_link(from, to),
            Action::Partition(groups) => {
                let groups: Vec<&[u64]> = groups.iter().map(Vec::as_slice).collect();
                self.partition(&groups);
            }
            Action::Isolate(n) => self.isolate(n),
            Action::HealAll => self.heal_all(),
            Action::AddVoter(n) => self.add_voter(n),
            Action::AddLearner(n) => self.add_learner(n),
            Action::RemoveNode(n) => self.remove_node(n),
            Action::SetFreshness(n, f) => self.set_freshness(n, f),
            Action::Replicate { node, entries } => self.replicate(node, entries),
            Action::Command(n, input) => {
                let _ = self.command(n, input);
            }
            Action::SetLinkDelay { from, to, delay } => self.set_link_delay(from, to, delay),
            Action::ClearLinkDelay { from, to } => self.clear_link_delay(from, to),
            Action::SetLinkLoss { from, to, ppm } => self.set_link_loss(from, to, ppm),
            Action::SetClock {
                node,
                offset,
                drift_ppm,
            } => self.set_clock(node, offset, drift_ppm),
            Action::StartFaults => self.start_faults(),
            Action::StopFaults => self.stop_faults(),
            Action::Call(f) => f(self),
        }
    }

    /// Schedules `action` at global time `at` (now, if `at` is in the past). Actions
    /// at the same time run in the order they were scheduled.
    pub fn at(&mut self, at: Instant, action: Action) {
        let index = self.actions.len() as u32;
        self.actions.push(Some(action));
        let at = at.as_nanos().max(self.now);
        self.queue
            .push(at, super::event::EventKind::Scripted { index });
    }

    /// Schedules `action` after `delay` from now.
    pub fn after(&mut self, delay: Duration, action: Action) {
        let at = Instant::from_nanos(self.now.saturating_add(nanos(delay)));
        self.at(at, action);
    }

    /// Crashes `node` now (a no-op if it is down or unknown). Its pending write, the
    /// outputs waiting for it and its queued inputs are lost; its disk keeps the
    /// last durable `HardState`.
    pub fn crash(&mut self, node: u64) {
        if self.defer_in_setup(node, || Action::Crash(node)) {
            return;
        }
        self.tracer.mix(0xc0 ^ node);
        if let Some(idx) = self.live_index(node) {
            self.crash_node(idx);
            self.flush_violations();
        }
    }

    /// Arms a crash inside `node`'s next non-empty output batch, just before it
    /// carries out output number `before_output` (0-based; a `Persist` counts as
    /// carried out once it is durable, so `before_output: 1` after a `Persist` keeps
    /// the write but sends nothing). If the batch is shorter, the node crashes right
    /// after it. If the node is already waiting on a write, the position counts within
    /// that batch. To lose a write in flight, see
    /// [`Simulation::crash_during_next_write`].
    pub fn crash_mid_batch(&mut self, node: u64, before_output: usize) {
        if self.defer_in_setup(node, || Action::CrashMidBatch {
            node,
            before_output,
        }) {
            return;
        }
        self.tracer.mix(0xc1 ^ node ^ (before_output as u64) << 32);
        if let Some(idx) = self.live_index(node) {
            self.nodes[idx].crash_at_output = Some(before_output);
        }
    }

    /// Arms a crash of `node` at the moment it next issues a `Persist`: the write
    /// is lost (never durable) and so is everything after it in the batch.
    pub fn crash_during_next_write(&mut self, node: u64) {
        if self.defer_in_setup(node, || Action::CrashDuringNextWrite(node)) {
            return;
        }
        self.tracer.mix(0xcd ^ node);
        if let Some(idx) = self.live_index(node) {
            self.nodes[idx].crash_on_write = true;
        }
    }

    /// Restarts crashed `node` from its durable `HardState`, with the current
    /// membership ([`Simulation::membership`]) and its last freshness. A no-op if it
    /// is up or unknown.
    pub fn restart(&mut self, node: u64) {
        if self.defer_in_setup(node, || Action::Restart(node)) {
            return;
        }
        self.tracer.mix(0xc2 ^ node);
        if node <= super::MAX_NODE_ID && self.nodes.get(node as usize).is_some() {
            self.restart_node(node as usize);
            self.flush_violations();
        }
    }

    /// Cuts the directed link `from → to`: messages from `from` no longer reach `to`
    /// (the reverse direction is unaffected).
    pub fn cut(&mut self, from: u64, to: u64) {
        self.tracer.mix(0xc3 ^ from ^ to.rotate_left(32));
        self.net.cut(from, to);
        self.note(format_args!("cut n{from} -> n{to}"));
    }

    /// Cuts both directions between `a` and `b`.
    pub fn cut_both(&mut self, a: u64, b: u64) {
        self.cut(a, b);
        self.cut(b, a);
    }

    /// Undoes [`Simulation::cut`] for `from → to` (partitions and isolation stay).
    pub fn heal_link(&mut self, from: u64, to: u64) {
        self.tracer.mix(0xc4 ^ from ^ to.rotate_left(32));
        self.net.heal_link(from, to);
        self.note(format_args!("healed n{from} -> n{to}"));
    }

    /// Splits the network into symmetric groups: nodes talk only within their
    /// group. Nodes not listed form one more group together. Replaces any previous
    /// partition (cuts and isolation stay).
    pub fn partition(&mut self, groups: &[&[u64]]) {
        for g in groups {
            self.tracer.mix(0xc5 ^ g.len() as u64);
            g.iter().for_each(|&n| self.tracer.mix(n));
        }
        self.net.partition(groups);
        self.note(format_args!("partition {groups:?}"));
    }

    /// Cuts `node` off from everyone, both ways.
    pub fn isolate(&mut self, node: u64) {
        self.tracer.mix(0xc6 ^ node);
        self.net.isolate(node, true);
        self.note(format_args!("isolated n{node}"));
    }

    /// Heals every link: no partition, no isolation, no cut.
    pub fn heal_all(&mut self) {
        self.tracer.mix(0xc7);
        self.net.heal_all();
        self.note(format_args!("healed all links"));
    }

    /// Makes `node` a voter: starts it if it does not exist yet (with the current
    /// membership plus itself as a voter), updates [`Simulation::membership`] and
    /// sends [`Input::AddVoter`] to every other live node.
    ///
    /// # Panics
    ///
    /// If `node` is above [`MAX_NODE_ID`](super::MAX_NODE_ID) (nodes are stored by id).
    pub fn add_voter(&mut self, node: u64) {
        self.tracer.mix(0xc8 ^ node);
        let max = self.options.config.max_voters;
        if !self.membership.is_voter(node) && self.membership.voters().len() < max {
            self.membership.insert_voter(node);
        }
        self.change_membership(node, Input::AddVoter(node));
    }

    /// Makes `node` a learner (demoting it if it is a voter), starting it if it does
    /// not exist yet, like [`Simulation::add_voter`].
    ///
    /// # Panics
    ///
    /// If `node` is above [`MAX_NODE_ID`](super::MAX_NODE_ID).
    pub fn add_learner(&mut self, node: u64) {
        self.tracer.mix(0xc9 ^ node);
        self.membership.insert_learner(node);
        self.change_membership(node, Input::AddLearner(node));
    }

    /// Removes `node` from the membership on every live node (itself included). The
    /// node keeps running; crash it to stop it.
    pub fn remove_node(&mut self, node: u64) {
        self.tracer.mix(0xca ^ node);
        self.membership.remove(node);
        self.note(format_args!("remove n{node}"));
        for idx in self.live_indices() {
            self.step_node(idx, Input::RemoveNode(node), None);
        }
        self.flush_violations();
    }

    fn change_membership(&mut self, node: u64, input: Input<u64>) {
        self.note(format_args!("{input:?}"));
        let started = !self.exists(node);
        if started {
            let members = self.membership.clone();
            self.create_node(node, members);
        }
        for idx in self.live_indices() {
            if !(started && idx as u64 == node) {
                self.step_node(idx, input.clone(), None);
            }
        }
        self.flush_violations();
    }

    /// Steps `node` with `input` now (any input: a command such as
    /// [`Input::Campaign`], or a forged message) and returns the outputs of that
    /// step, which the simulation carries out as usual. Returns nothing if the node is
    /// down, or if it is waiting on a write (the input is then queued). Inside
    /// [`SimOptions::build_with`](super::SimOptions::build_with) the command is
    /// carried out at time zero, once the initial nodes are up (its outputs are in
    /// the history and trace, not returned); so are [`Simulation::crash`],
    /// [`Simulation::crash_mid_batch`], [`Simulation::crash_during_next_write`]
    /// and [`Simulation::restart`] there.
    pub fn command(&mut self, node: u64, input: Input<u64>) -> Vec<Output<u64>> {
        if self.setting_up && !self.exists(node) {
            self.defer_in_setup(node, || Action::Command(node, input));
            return Vec::new();
        }
        self.tracer.mix(0xcc ^ node);
        let mut outputs = Vec::new();
        if let Some(idx) = self.live_index(node) {
            self.note(format_args!("n{node} <- {input:?}"));
            self.step_node(idx, input, Some(&mut outputs));
            self.flush_violations();
        }
        outputs
    }

    /// Sets a hook called for every message delivered to a live node, just before the
    /// node processes it (e.g. to time when followers first hear a new leader).
    pub fn on_deliver(&mut self, hook: DeliveryHook) {
        self.deliver_hook = Some(hook);
    }

    /// Sends trace lines to `sink` instead of keeping them in memory, and turns
    /// tracing on.
    pub fn set_trace_sink(&mut self, sink: TraceSink) {
        self.tracer.on = true;
        self.tracer.sink = Some(sink);
    }

    /// Turns the in-memory trace on or off.
    pub fn set_tracing(&mut self, on: bool) {
        self.tracer.on = on;
    }

    /// A uniform draw in `[0, span)` from the simulation's own random stream, for
    /// scripts that want seeded randomness (it advances the stream).
    pub fn random_below(&mut self, span: u64) -> u64 {
        self.rng.below(span)
    }

    // ---- queries -------------------------------------------------------------

    /// Global simulated time.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(self.now)
    }

    /// The options this simulation runs with.
    pub fn options(&self) -> &SimOptions {
        &self.options
    }

    /// Node `id`'s state machine, if the node is up.
    pub fn node(&self, id: u64) -> Option<&Election<u64>> {
        self.nodes.get(id as usize)?.election.as_ref()
    }

    /// Whether node `id` is up.
    pub fn is_up(&self, id: u64) -> bool {
        self.node(id).is_some()
    }

    /// Whether a node `id` was ever started (up or crashed).
    pub fn exists(&self, id: u64) -> bool {
        self.nodes.get(id as usize).is_some_and(|s| s.exists)
    }

    /// Every node ever started, up or crashed, in id order.
    pub fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, s)| s.exists)
            .map(|(i, _)| i as u64)
    }

    /// Node `id`'s role, if it is up.
    pub fn role(&self, id: u64) -> Option<Role> {
        self.node(id).map(Election::role)
    }

    /// The last durable `HardState` on node `id`'s disk.
    pub fn durable(&self, id: u64) -> Option<HardState<u64>> {
        self.nodes.get(id as usize)?.disk.durable
    }

    /// The membership as the application sees it: what new and restarted nodes get.
    pub fn membership(&self) -> &Membership<u64> {
        &self.membership
    }

    /// Every live node that believes it leads (possibly several, in different
    /// terms), in id order. O(nodes).
    pub fn leaders(&self) -> Vec<u64> {
        self.ids()
            .filter(|&id| self.role(id) == Some(Role::Leader))
            .collect()
    }

    /// The leader in contact with a quorum (see the [`availability`](super#availability)
    /// definition), if any. O(1).
    pub fn leader(&self) -> Option<u64> {
        self.avail.leader().map(|(_, l)| l)
    }

    /// A stable leader: in contact with a quorum and recognised by every live member.
    /// O(1).
    pub fn stable_leader(&self) -> Option<u64> {
        self.avail.stable().map(|(_, l)| l)
    }

    /// Whether some leader is in contact with a quorum.
    pub fn is_available(&self) -> bool {
        self.avail.available()
    }

    /// Every role, term and leader change, crash, restart and rejected command, in
    /// order, with global timestamps.
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }

    /// Every term that has had a leader, in term order, with its leader (the first,
    /// if the checker found two): the safety checker's record, in which a leader
    /// counts once its leadership can be seen (see [`ViolationKind::TwoLeaders`]).
    ///
    /// [`ViolationKind::TwoLeaders`]: super::ViolationKind::TwoLeaders
    pub fn elected(&self) -> impl Iterator<Item = (crate::Term, u64)> + '_ {
        self.checker.leaders()
    }

    /// The entries of [`Simulation::history`] where a node became leader.
    pub fn leader_history(&self) -> impl Iterator<Item = &HistoryEntry> + '_ {
        self.history.iter().filter(|e| e.is_new_leader())
    }

    /// The trace lines kept so far (empty unless tracing is on and no sink is set).
    pub fn trace(&self) -> &[String] {
        &self.tracer.lines
    }

    /// The running hash of every event processed so far.
    pub fn trace_hash(&self) -> u64 {
        self.tracer.hash
    }

    /// Message counters.
    pub fn net_stats(&self) -> &NetStats {
        &self.net.stats
    }

    /// The violations found so far (the first 1,000).
    pub fn violations(&self) -> &[Violation] {
        &self.checker.violations
    }

    /// Whether every link is up (no partition, isolation or cut).
    pub fn is_network_healed(&self) -> bool {
        self.net.is_healed()
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Events waiting in the queue.
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    fn live_index(&self, node: u64) -> Option<usize> {
        self.nodes
            .get(node as usize)
            .filter(|s| s.is_up())
            .map(|_| node as usize)
    }

    fn live_indices(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_up())
            .collect()
    }

    /// A trace line for a scripted action.
    pub(super) fn note(&mut self, what: fmt::Arguments<'_>) {
        self.tracer.line(self.now, None, what);
    }
}
