//! One simulated node: its slot (`Election` while up, clock, disk, bookkeeping) and
//! its lifecycle: start, crash, restart.

use alloc::vec::Vec;

use super::availability::{Availability, View};
use super::clock::Clock;
use super::engine::{MAX_NODE_ID, Simulation};
use super::event::EventKind;
use super::history::{Change, HistoryEntry};
use super::invariants::ViolationKind;
use super::options::nanos;
use super::rng::splitmix64;
use super::storage::Disk;
use crate::{Config, Election, Freshness, Input, Instant, Membership, Term};

/// A node slot, indexed by node id.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Whether a node with this id was ever started.
    pub(crate) exists: bool,
    /// The running state machine; `None` while crashed.
    pub(crate) election: Option<Election<u64>>,
    pub(crate) clock: Clock,
    pub(crate) disk: Disk,
    /// Bumped at every crash; stale durable/restart events carry an older one.
    pub(crate) incarnation: u32,
    /// Bumped at every wake-up scheduled; only the latest one is live.
    pub(crate) wake_generation: u32,
    /// Global time of the live wake-up event, if one is queued.
    pub(crate) wake_at: Option<u64>,
    /// Crash just before carrying out this output position of the next non-empty
    /// batch (or right after it, if it is shorter).
    pub(crate) crash_at_output: Option<usize>,
    /// Crash as soon as the next `Persist` is issued, before it is durable.
    pub(crate) crash_on_write: bool,
    /// Restart automatically after the next crash (set by the fault injector).
    pub(crate) auto_restart: bool,
    /// The node's term after its last step (this incarnation).
    pub(crate) last_term: u64,
    /// The highest term ever durable on this node's disk.
    pub(crate) max_durable_term: u64,
    /// Votes cast: `(term, candidate)`, sorted by term; survives crashes.
    pub(crate) votes: Vec<(u64, u64)>,
    /// The node's contribution to availability.
    pub(crate) view: Option<View>,
    /// Counted in `Availability::live_members`.
    pub(crate) counted_member: bool,
    /// The application's freshness for this node (its log position); survives
    /// crashes and is re-applied on restart.
    pub(crate) freshness: Freshness,
}

impl Slot {
    pub(crate) fn empty() -> Self {
        Slot {
            exists: false,
            election: None,
            clock: Clock::PERFECT,
            disk: Disk::default(),
            incarnation: 0,
            wake_generation: 0,
            wake_at: None,
            crash_at_output: None,
            crash_on_write: false,
            auto_restart: false,
            last_term: 0,
            max_durable_term: 0,
            votes: Vec::new(),
            view: None,
            counted_member: false,
            freshness: Freshness::default(),
        }
    }

    /// Whether the node is up.
    pub(crate) fn is_up(&self) -> bool {
        self.election.is_some()
    }
}

impl Simulation {
    /// The configuration node `id` runs in its `incarnation`.
    fn node_config(&self, id: u64, incarnation: u32) -> Config {
        let salt = splitmix64(id ^ u64::from(incarnation).rotate_left(32));
        self.config_of(id)
            .with_seed(splitmix64(self.options.seed ^ salt))
    }

    /// Starts a brand-new node `id` with `membership` and an empty disk.
    pub(super) fn create_node(&mut self, id: u64, membership: Membership<u64>) {
        assert!(id <= MAX_NODE_ID, "node ids must be at most {MAX_NODE_ID}");
        let idx = id as usize;
        if self.nodes.len() <= idx {
            self.nodes.resize_with(idx + 1, Slot::empty);
        }
        if self.nodes[idx].exists {
            return;
        }
        let skew = self.options.clocks;
        let clock = if skew.max_offset.is_zero() && skew.max_drift_ppm == 0 {
            Clock::PERFECT
        } else {
            let mut drift = skew.max_drift_ppm;
            if !self.options.exceed_clock_drift {
                drift = drift.min(Clock::within_bound(self.config_of(id).max_clock_drift));
            }
            Clock::random(&mut self.rng, nanos(skew.max_offset), drift)
        };
        // A scripted clock replaces the random one (drawn all the same, so the
        // rest of the random stream does not depend on the override).
        let clock = self.overrides.clocks.get(&id).copied().unwrap_or(clock);
        let config = self.node_config(id, 0);
        let Ok(election) = Election::new(config, id, membership, None, clock.local(self.now))
        else {
            return;
        };
        let slot = &mut self.nodes[idx];
        slot.exists = true;
        slot.clock = clock;
        slot.election = Some(election);
        refresh_view(self.now, slot, &mut self.avail, true);
        self.tracer.line(
            self.now,
            Some((id, slot.election.as_ref())),
            format_args!("started"),
        );
        self.schedule_wake(idx, self.now);
    }

    /// Crashes node `idx` now: its state machine, pending write, held outputs and
    /// inbox are gone; its disk keeps the last durable record.
    pub(super) fn crash_node(&mut self, idx: usize) {
        let now = self.now;
        let slot = &mut self.nodes[idx];
        if !slot.is_up() {
            return;
        }
        self.tracer.line(
            now,
            Some((idx as u64, slot.election.as_ref())),
            format_args!("CRASH"),
        );
        slot.election = None;
        self.checker.on_lease(now, idx as u64, None);
        slot.disk.crash();
        slot.crash_at_output = None;
        slot.crash_on_write = false;
        slot.incarnation = slot.incarnation.wrapping_add(1);
        slot.wake_generation = slot.wake_generation.wrapping_add(1);
        slot.wake_at = None;
        self.avail.update(now, slot.view.take(), None);
        if core::mem::take(&mut slot.counted_member) {
            self.avail.live_members -= 1;
        }
        self.crashes += 1;
        self.tracer.mix(0x4352_4153 ^ idx as u64);
        self.history.push(HistoryEntry {
            at: Instant::from_nanos(now),
            node: idx as u64,
            change: Change::Crashed,
        });
        if core::mem::take(&mut slot.auto_restart) {
            if let Some(crashes) = self.options.crashes {
                let down = crashes.down_for.draw(&mut self.rng);
                let incarnation = slot.incarnation;
                self.queue.push(
                    now.saturating_add(down),
                    EventKind::Restart {
                        node: idx as u32,
                        incarnation,
                    },
                );
            }
        }
    }

    /// Restarts crashed node `idx` from its durable state (or from nothing, when
    /// durability is deliberately broken) with the current membership.
    pub(super) fn restart_node(&mut self, idx: usize) {
        let now = self.now;
        let id = idx as u64;
        let config = self.node_config(id, self.nodes[idx].incarnation);
        let broken = self.options.break_durability;
        let slot = &mut self.nodes[idx];
        if !slot.exists || slot.is_up() {
            return;
        }
        let persisted = if broken {
            slot.disk.durable = None;
            None
        } else {
            slot.disk.durable
        };
        let local = slot.clock.local(now);
        let Ok(election) = Election::new(config, id, self.membership.clone(), persisted, local)
        else {
            return;
        };
        let term = election.term().get();
        if term < slot.max_durable_term {
            self.checker.record(
                now,
                Some(id),
                ViolationKind::TermDecreased {
                    from: Term(slot.max_durable_term),
                    to: Term(term),
                },
            );
        }
        slot.last_term = term;
        slot.election = Some(election);
        refresh_view(now, slot, &mut self.avail, true);
        self.restarts += 1;
        self.tracer.mix(0x5245_5354 ^ id);
        self.history.push(HistoryEntry {
            at: Instant::from_nanos(now),
            node: id,
            change: Change::Restarted { term: Term(term) },
        });
        self.tracer.line(
            now,
            Some((id, slot.election.as_ref())),
            format_args!("restarted from {persisted:?}"),
        );
        let freshness = slot.freshness;
        if freshness != crate::Freshness::default() {
            self.step_node(idx, Input::SetFreshness(freshness), None);
        }
        self.schedule_wake(idx, now);
    }
}

/// Recomputes a live node's contribution to availability (and, after commands,
/// whether it counts as a live member).
pub(super) fn refresh_view(
    now: u64,
    slot: &mut Slot,
    avail: &mut Availability,
    membership_changed: bool,
) {
    let Some(election) = slot.election.as_ref() else {
        return;
    };
    let id = election.id();
    let members = election.membership();
    if membership_changed {
        let member = members.contains(id);
        if member != slot.counted_member {
            slot.counted_member = member;
            if member {
                avail.live_members += 1;
            } else {
                avail.live_members -= 1;
            }
        }
    }
    let view = election.leader().map(|leader| View {
        term: election.term().get(),
        leader,
        voter: members.is_voter(id),
        member: members.contains(id),
        leads: (leader == id).then(|| members.quorum()),
    });
    avail.update(now, slot.view, view);
    slot.view = view;
}
