//! Random fault injection during the fault phase, and the liveness check after it.

use alloc::vec::Vec;
use core::time::Duration;

use super::engine::Simulation;
use super::event::EventKind;
use super::invariants::ViolationKind;
use super::options::{Delay, PartitionMode};
use super::report::Report;

/// Faults are never scheduled closer together than this, so a zero delay cannot
/// stall the clock.
const MIN_GAP: u64 = 1_000;

impl Simulation {
    /// The standard two-phase run: random faults (as the options say) for
    /// [`SimOptions::fault_phase`](super::SimOptions::fault_phase), invariants
    /// checked after every event; then [`Simulation::heal_and_check_liveness`] with
    /// [`SimOptions::liveness_timeouts`](super::SimOptions::liveness_timeouts).
    /// Returns the report.
    pub fn run(&mut self) -> Report {
        self.run_for(self.options.fault_phase);
        let down = self.pick_kept_down(self.options.keep_down);
        self.heal_and_check_liveness_keeping_down(self.options.liveness_timeouts, &down);
        self.report()
    }

    /// Up to `count` voters to keep down (never more than a minority): the live
    /// leader of the highest term first, then random voters.
    fn pick_kept_down(&mut self, count: usize) -> Vec<u64> {
        let voters = self.membership.voters().to_vec();
        let count = count.min(voters.len() - self.membership.quorum().min(voters.len()));
        let mut down = Vec::new();
        if count == 0 {
            return down;
        }
        if let Some((_, leader)) = self.top_leader().filter(|l| voters.contains(&l.1)) {
            down.push(leader);
        }
        let mut rest: Vec<u64> = voters.into_iter().filter(|v| !down.contains(v)).collect();
        while down.len() < count && !rest.is_empty() {
            let i = self.rng.below(rest.len() as u64) as usize;
            down.push(rest.swap_remove(i));
        }
        down
    }

    /// Starts (or resumes) the random crashes and partitions configured in the
    /// options. [`Simulation::new`] calls it when the options have any.
    pub fn start_faults(&mut self) {
        self.faults_on = true;
        if let Some(p) = self.options.partitions {
            if !self.partition_chain {
                self.partition_chain = true;
                self.schedule_fault(p.every, EventKind::PartitionFault);
            }
        }
        if let Some(f) = self.options.freshness {
            if !self.freshness_chain {
                self.freshness_chain = true;
                self.schedule_fault(f.every, EventKind::FreshnessFault);
            }
        }
        if let Some(c) = self.options.crashes {
            if !self.crash_chain {
                self.crash_chain = true;
                self.schedule_fault(c.every, EventKind::CrashFault);
            }
        }
    }

    /// Stops injecting random faults (pending scheduled restarts still happen).
    pub fn stop_faults(&mut self) {
        self.faults_on = false;
    }

    /// The liveness check: stops random faults (freshness stops changing), heals
    /// every link, stops message loss (per-link and per-kind loss too), disarms
    /// mid-batch crashes and restarts every crashed node; then requires a
    /// [stable leader](Simulation::stable_leader) within `timeouts` × the maximum
    /// election timeout, and, if that leader was elected after the heal, that it is
    /// at least as fresh as a quorum of its voters (in Raft only such a node can
    /// win; freshness may differ between nodes, which is what a PreVote deadlock
    /// needs). A leader that survived the heal is not held to it: it was elected
    /// under an earlier voter set and freshness, which the simulator does not keep
    /// consistent with a log (a learner's longer log is never truncated). On failure records a
    /// [`ViolationKind::Liveness`] or [`ViolationKind::LeaderNotFreshest`]
    /// violation. Returns whether a stable leader appeared.
    pub fn heal_and_check_liveness(&mut self, timeouts: u32) -> bool {
        self.heal_and_check_liveness_keeping_down(timeouts, &[])
    }

    /// [`Simulation::heal_and_check_liveness`], except that the nodes in `down` are
    /// crashed (if up) and stay down: the others — a connected live majority, if
    /// `down` is a minority — must elect a stable leader at least as fresh as a
    /// majority of its voters. This is the check a PreVote deadlock fails (two live
    /// voters of three, one a term behind but fresher).
    pub fn heal_and_check_liveness_keeping_down(&mut self, timeouts: u32, down: &[u64]) -> bool {
        self.stop_faults();
        self.heal_all();
        self.net.loss_ppm = 0;
        self.net.clear_link_losses();
        let crashed: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].exists && !self.nodes[i].is_up())
            .filter(|&i| !down.contains(&(i as u64)))
            .collect();
        for slot in &mut self.nodes {
            slot.crash_at_output = None;
            slot.crash_on_write = false;
            slot.auto_restart = false;
        }
        for &node in down {
            if let Some(slot) = self.nodes.get_mut(node as usize).filter(|s| s.exists) {
                if slot.is_up() {
                    self.crash_node(node as usize);
                } else {
                    // Invalidate a restart the injector scheduled.
                    slot.incarnation = slot.incarnation.wrapping_add(1);
                }
            }
        }
        if !down.is_empty() {
            self.note(format_args!("kept down: {down:?}"));
        }
        for idx in crashed {
            self.restart_node(idx);
        }
        let bound = self
            .options
            .config
            .election_timeout_max
            .saturating_mul(timeouts);
        let start = self.now;
        self.note(format_args!("healed; liveness bound {bound:?}"));
        let ok = self.run_until(|s| s.stable_leader().is_some(), bound);
        if ok {
            self.liveness = Some(Duration::from_nanos(self.now - start));
            let leader = self.stable_leader().unwrap_or_default();
            self.note(format_args!("stable leader n{leader}"));
            // Elected after the heal (not a leader that survived it): then its
            // campaign ran under the current voters with the current freshness.
            let elected_now = self
                .history
                .iter()
                .rev()
                .find(|e| e.node == leader && e.is_new_leader())
                .is_some_and(|e| e.at.as_nanos() >= start);
            let shortfall = elected_now
                .then(|| self.leader_freshness_shortfall(leader))
                .flatten();
            if let Some((as_fresh, quorum)) = shortfall {
                let term = self
                    .node(leader)
                    .map_or(crate::Term(0), crate::Election::term);
                self.checker.record(
                    self.now,
                    Some(leader),
                    ViolationKind::LeaderNotFreshest {
                        term,
                        as_fresh,
                        quorum,
                    },
                );
            }
        } else {
            self.liveness = None;
            self.checker
                .record(self.now, None, ViolationKind::Liveness { bound });
        }
        self.flush_violations();
        ok
    }

    pub(super) fn schedule_fault(&mut self, every: Delay, kind: EventKind) {
        let gap = every.draw(&mut self.rng).max(MIN_GAP);
        self.queue.push(self.now.saturating_add(gap), kind);
    }

    pub(super) fn on_crash_fault(&mut self) {
        let Some(c) = self.options.crashes.filter(|_| self.faults_on) else {
            self.crash_chain = false;
            return;
        };
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_up())
            .collect();
        if !live.is_empty() {
            let idx = live[self.rng.below(live.len() as u64) as usize];
            self.nodes[idx].auto_restart = true;
            if self.rng.chance(c.mid_batch_ppm) {
                // Before output 0..=3 of the next batch, or while its write is pending.
                match self.rng.below(5) as usize {
                    4 => {
                        self.nodes[idx].crash_on_write = true;
                        self.note(format_args!("n{idx} will crash during its next write"));
                    }
                    k => {
                        self.nodes[idx].crash_at_output = Some(k);
                        self.note(format_args!(
                            "n{idx} will crash before output {k} of its next batch"
                        ));
                    }
                }
            } else {
                self.crash_node(idx);
            }
        }
        self.schedule_fault(c.every, EventKind::CrashFault);
    }

    pub(super) fn on_partition_fault(&mut self) {
        let Some(p) = self.options.partitions.filter(|_| self.faults_on) else {
            self.partition_chain = false;
            return;
        };
        let ids: Vec<u64> = self.ids().collect();
        let n = ids.len() as u64;
        let mode = match p.mode {
            PartitionMode::Mixed => match self.rng.below(3) {
                0 => PartitionMode::Symmetric,
                1 => PartitionMode::Directed,
                _ => PartitionMode::Isolate,
            },
            m => m,
        };
        if n >= 2 {
            match mode {
                PartitionMode::Symmetric => {
                    let mut shuffled = ids.clone();
                    for i in (1..shuffled.len()).rev() {
                        let j = self.rng.below(i as u64 + 1) as usize;
                        shuffled.swap(i, j);
                    }
                    let k = self.rng.range(1, n) as usize;
                    let (a, b) = shuffled.split_at(k);
                    self.partition(&[a, b]);
                }
                PartitionMode::Directed => {
                    let count = self.rng.range(1, n * (n - 1) / 2 + 1);
                    let mut cuts = Vec::new();
                    for _ in 0..count {
                        let from = ids[self.rng.below(n) as usize];
                        let to = ids[self.rng.below(n) as usize];
                        if from != to {
                            self.tracer.mix(from ^ to.rotate_left(32));
                            self.net.cut(from, to);
                            cuts.push((from, to));
                        }
                    }
                    self.note(format_args!("cut directed links {cuts:?}"));
                }
                _ => {
                    let node = ids[self.rng.below(n) as usize];
                    self.isolate(node);
                }
            }
        }
        let lasting = p.lasting.draw(&mut self.rng).max(MIN_GAP);
        self.queue
            .push(self.now.saturating_add(lasting), EventKind::PartitionHeal);
    }

    pub(super) fn on_partition_heal(&mut self) {
        self.heal_all();
        match self.options.partitions.filter(|_| self.faults_on) {
            Some(p) => self.schedule_fault(p.every, EventKind::PartitionFault),
            None => self.partition_chain = false,
        }
    }

    /// The time from healing to a stable leader in the last liveness check.
    pub fn liveness(&self) -> Option<Duration> {
        self.liveness
    }

    /// The total simulated time so far without a leader in contact with a quorum.
    pub fn unavailable(&self) -> Duration {
        Duration::from_nanos(self.avail.unavailable(self.now).0)
    }
}
