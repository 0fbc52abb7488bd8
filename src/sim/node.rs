//! One simulated node: its `Election` (while up), clock, disk and bookkeeping.

use alloc::vec::Vec;

use super::availability::View;
use super::clock::Clock;
use super::storage::Disk;
use crate::{Election, Freshness};

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
