//! Freshness: the application's log position per node, as the simulator models it.
//!
//! In full Raft a node's [`Freshness`] (last log term, last log index) only grows:
//! a leader appends entries in its own term, a follower receives a prefix of the
//! leader's log (and a truncation of a conflicting suffix comes together with the
//! leader's newer entries, so `(term, index)` still grows). The simulator models
//! exactly that, never lowering a node's freshness on its own:
//!
//! * [`Simulation::replicate`]: the leader of the highest term among the live
//!   leaders appends entries; a node that follows it copies a part of its log
//!   (`(leader term, some index up to the leader's)`), never past it, never down.
//! * [`FreshnessFaults`] (random runs): every node starts with its own
//!   `(0, index)` drawn at creation, and every [`FreshnessFaults::every`] during the
//!   fault phase the leader appends and each other live node catches up fully,
//!   partly or not at all — so nodes fall behind, catch up partially and lag.
//! * [`Simulation::set_freshness`] sets any value (a script may model anything);
//!   it survives crashes and restarts, and for a node not started yet it applies
//!   from the node's start (also inside [`SimOptions::build_with`](super::SimOptions::build_with)).

use super::engine::Simulation;
use super::event::EventKind;
use super::options::FreshnessFaults;
use crate::{Freshness, Input, Role};

impl Simulation {
    /// Sets `node`'s freshness (its log position): at once if it is up, from its
    /// restart if it is down, and from its start if it does not exist yet (so a
    /// call in [`SimOptions::build_with`](super::SimOptions::build_with) holds from
    /// time zero). It survives crashes, like a log.
    pub fn set_freshness(&mut self, node: u64, freshness: Freshness) {
        self.tracer
            .mix(0xcb ^ node ^ freshness.term ^ freshness.index.rotate_left(32));
        match self.nodes.get_mut(node as usize).filter(|s| s.exists) {
            Some(slot) => slot.freshness = freshness,
            None => {
                self.overrides.freshness.insert(node, freshness);
            }
        }
        if self.is_up(node) {
            self.step_node(node as usize, Input::SetFreshness(freshness), None);
            self.flush_violations();
        }
    }

    /// Node `id`'s freshness as the application sets it (up or crashed), if it was
    /// ever started.
    pub fn freshness(&self, id: u64) -> Option<Freshness> {
        Some(self.nodes.get(id as usize).filter(|s| s.exists)?.freshness)
    }

    /// The live leader of the highest term, if any.
    pub(super) fn top_leader(&self) -> Option<(u64, u64)> {
        self.ids()
            .filter_map(|id| {
                let e = self.node(id)?;
                (e.role() == Role::Leader).then(|| (e.term().get(), id))
            })
            .max()
    }

    /// Replication as in full Raft, one step: if `node` is the live leader of the
    /// highest term, it appends `entries` entries in its term; if it follows that
    /// leader (same term, knows it as leader) it copies up to `entries` more entries
    /// of the leader's log (its freshness moves towards the leader's, never past it
    /// and never down). A no-op otherwise: no live leader, `node` down, `node` a
    /// witness (it holds no log), or not following it (a partitioned node receives
    /// nothing).
    pub fn replicate(&mut self, node: u64, entries: u64) {
        let Some((term, leader)) = self.top_leader() else {
            return;
        };
        let Some(current) = self.node(node).map(crate::Election::freshness) else {
            return;
        };
        if self.node(node).is_some_and(|e| e.config().witness) {
            // A witness votes but holds no data: its freshness stays where it began
            // (a witness fresher than every live voter that may lead would block
            // elections for good, the configuration's fault, not the protocol's).
            return;
        }
        let follows = self
            .node(node)
            .is_some_and(|e| e.term().get() == term && e.leader() == Some(leader));
        if node != leader && !follows {
            return; // entries only reach a node that follows the leader in its term
        }
        let next = if node == leader {
            Freshness::new(term, current.index.saturating_add(entries))
        } else {
            let Some(source) = self.freshness(leader) else {
                return;
            };
            if current >= source {
                return;
            }
            if current.term < source.term && current.index >= source.index {
                source // a conflicting suffix replaced by the leader's entries
            } else {
                let index = current.index.saturating_add(entries).min(source.index);
                Freshness::new(source.term, index).min(source)
            }
        };
        if next > current {
            self.set_freshness(node, next);
        }
    }

    /// The freshness a node gets when it is created: the script's, or a random
    /// `(0, index)` when [`FreshnessFaults`] are on.
    pub(super) fn initial_freshness(&mut self, id: u64) -> Freshness {
        let random = self
            .options
            .freshness
            .map(|f| Freshness::new(0, self.rng.range(0, f.initial_index.saturating_add(1))));
        match self.overrides.freshness.remove(&id) {
            Some(set) => set,
            None => random.unwrap_or_default(),
        }
    }

    /// The random injector's replication step (see [`FreshnessFaults`]).
    pub(super) fn on_freshness_fault(&mut self) {
        let Some(f) = self.options.freshness.filter(|_| self.faults_on) else {
            self.freshness_chain = false;
            return;
        };
        if let Some((_, leader)) = self.top_leader() {
            let appended = self.rng.range(1, f.append.max(1).saturating_add(1));
            self.replicate(leader, appended);
            let others: alloc::vec::Vec<u64> = self
                .ids()
                .filter(|&id| id != leader && self.is_up(id))
                .collect();
            for id in others {
                if self.rng.chance(f.catch_up_ppm) {
                    // Half the time all of it, else a random part.
                    let entries = if self.rng.chance(500_000) {
                        u64::MAX
                    } else {
                        self.rng.range(1, f.append.max(1).saturating_mul(2) + 1)
                    };
                    self.replicate(id, entries);
                }
            }
        }
        self.schedule_fault(f.every, EventKind::FreshnessFault);
    }

    /// The freshness part of the liveness check: the leader found after healing is
    /// at least as fresh as a majority of its voters (in Raft only such a node can
    /// win). Returns `(as_fresh, quorum)` when it is not.
    pub(super) fn leader_freshness_shortfall(&self, leader: u64) -> Option<(usize, usize)> {
        let election = self.node(leader)?;
        let mine = election.freshness();
        let members = election.membership();
        let as_fresh = members
            .voters()
            .iter()
            .filter(|&&v| self.freshness(v).unwrap_or_default() <= mine)
            .count();
        (as_fresh < members.quorum()).then_some((as_fresh, members.quorum()))
    }
}

impl FreshnessFaults {
    /// Moderate settings: initial indexes up to 20, a replication step every
    /// 20–200 ms appending 1–5 entries, each live follower catching up with
    /// probability 60 %.
    pub const fn moderate() -> Self {
        FreshnessFaults {
            initial_index: 20,
            every: super::Delay::uniform(
                core::time::Duration::from_millis(20),
                core::time::Duration::from_millis(200),
            ),
            append: 5,
            catch_up_ppm: 600_000,
        }
    }
}
