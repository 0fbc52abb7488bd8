//! The storage model: each node's disk, and the durability rule.
//!
//! * A node's disk holds one durable [`HardState`] (or nothing, if it never
//!   persisted).
//! * When a node's output batch contains [`Output::Persist`], the write takes a
//!   random latency ([`SimOptions::persist_latency`](super::SimOptions::persist_latency)).
//!   The outputs after it are **held** and carried out only once the write is durable.
//! * While a write is pending the node is blocked, like a single-threaded event loop
//!   that calls `fsync`: inputs that arrive meanwhile (messages, commands) wait in an
//!   inbox, in order, and timer wake-ups are deferred. They run once the write is
//!   durable.
//! * A crash loses the pending write, the held outputs and the inbox. On restart the
//!   node gets exactly the last durable `HardState`.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::{HardState, Input, Output};

/// One node's disk and the work waiting on it.
#[derive(Debug, Default)]
pub(crate) struct Disk {
    /// The last durable record.
    pub(crate) durable: Option<HardState<u64>>,
    /// A write issued but not yet durable.
    pub(crate) pending: Option<HardState<u64>>,
    /// Outputs of the current batch that wait for `pending`.
    pub(crate) held: Vec<Output<u64>>,
    /// The position in its batch of the first held output.
    pub(crate) batch_pos: usize,
    /// Inputs that arrived while the node was blocked on `pending`.
    pub(crate) inbox: VecDeque<Input<u64>>,
}

impl Disk {
    /// Whether a write is pending (the node is blocked).
    pub(crate) fn busy(&self) -> bool {
        self.pending.is_some()
    }

    /// A crash: everything not durable is gone.
    pub(crate) fn crash(&mut self) {
        self.pending = None;
        self.held.clear();
        self.batch_pos = 0;
        self.inbox.clear();
    }
}
