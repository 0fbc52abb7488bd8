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
//!
//! That is the [`StorageModel::Blocking`] model. The drivers do better, and the
//! simulator runs what they do as [`StorageModel::Pipelined`]: the node is never
//! blocked — it keeps ticking and stepping while a write is in flight — and its
//! outputs go through the same [`Pipeline`] the drivers use (everything after a
//! pending `Persist` waits for it, writes coalesce, losing leadership is reported
//! at once). `SimOptions::from_seed` draws the model per run, so the swarm checks
//! the same invariants and liveness bound for both.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::options::StorageModel;
use crate::pipeline::Pipeline;
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
    /// The drivers' pipeline, in the pipelined model (`None`: blocking).
    pub(crate) pipeline: Option<Pipeline<u64>>,
    /// Scratch space for the pipeline's ready outputs.
    ready: Vec<Output<u64>>,
}

impl Disk {
    /// Uses `model` from now on (set when the node is created).
    pub(crate) fn set_model(&mut self, model: StorageModel) {
        self.pipeline = match model {
            StorageModel::Blocking => None,
            StorageModel::Pipelined => Some(Pipeline::new()),
        };
    }

    /// Whether the node is blocked: a write is pending in the blocking model. A
    /// pipelined node is never blocked.
    pub(crate) fn busy(&self) -> bool {
        self.pending.is_some() && self.pipeline.is_none()
    }

    /// Pipelined model: passes a step's outputs through the pipeline, leaving in
    /// `out` what may be carried out now (a `Persist` in it starts the write). The
    /// blocking model leaves `out` as it is.
    pub(crate) fn admit(&mut self, out: &mut Vec<Output<u64>>) {
        if let Some(pipeline) = self.pipeline.as_mut() {
            self.ready.clear();
            pipeline.push(out.drain(..), &mut self.ready);
            core::mem::swap(out, &mut self.ready);
        }
    }

    /// Pipelined model: the pending write is durable; appends to `held` what the
    /// pipeline releases.
    pub(crate) fn release(&mut self, held: &mut Vec<Output<u64>>) {
        if let Some(pipeline) = self.pipeline.as_mut() {
            pipeline.durable(held);
        }
    }

    /// A crash: everything not durable is gone.
    pub(crate) fn crash(&mut self) {
        self.pending = None;
        self.held.clear();
        self.batch_pos = 0;
        self.inbox.clear();
        if let Some(pipeline) = self.pipeline.as_mut() {
            *pipeline = Pipeline::new();
        }
    }
}
