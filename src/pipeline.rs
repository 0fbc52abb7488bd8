//! Persistence that never blocks time: outputs held behind an in-flight write while
//! the node keeps stepping.
//!
//! A run loop that calls `fsync` inline stops its clock while the disk works: timers
//! fire late, and a leader whose disk stalls keeps acting as leader long after it
//! should have stepped down (etcd #13527: ticks queued behind a stalled write let two
//! nodes act as leader). A [`Pipeline`] lets the loop keep stepping the
//! [`Election`](crate::Election) — ticks, messages, commands — while one write is in
//! flight, and holds back exactly what must wait for it.
//!
//! # The rules
//!
//! Feed every step's outputs to [`Pipeline::push`]; carry out what it hands back (the
//! *ready* outputs), in order, with [`dispatch`](crate::dispatch()); report each
//! write's completion with [`Pipeline::durable`] (or [`Pipeline::failed`]).
//!
//! 1. **A ready [`Output::Persist`] starts a write** (hand it to a writer thread or
//!    task; do not wait for it). While it is in flight, *every* later output waits,
//!    in order, and is handed back by the [`Pipeline::durable`] call that reports
//!    the write done. Writes complete in the order they were started (there is only
//!    ever one in flight).
//! 2. **Writes are coalesced.** A `Persist` issued while another is in flight is
//!    queued; if a third comes before the second has started, it replaces the
//!    second (each `Persist` is the node's whole [`HardState`], and a later one
//!    supersedes an earlier: the term never goes back, and a vote once recorded in a
//!    term is never changed). The messages that were waiting for the replaced write
//!    were emitted under a state that will never be written, so they are dropped
//!    (counted; to the network it is message loss, which Raft tolerates, and the
//!    messages were already obsolete: the node has moved to a newer term or vote).
//!    Events behind it wait for the replacement, which starts no later than the
//!    replaced write would have. So at most two writes exist at a time (one in
//!    flight, one queued), and every message that leaves was emitted under a state
//!    that is durable exactly, as it was.
//! 3. **A failed write stops the node.** [`Pipeline::failed`] drops everything held
//!    (nothing that depended on the write ever leaves) and the pipeline releases
//!    nothing afterwards. Stop stepping the node and restart it from the store.
//! 4. **Losing leadership is reported at once.** When a step ends this node's
//!    leadership while outputs are held, the pipeline hands back immediately, ahead
//!    of the queue, `RoleChanged { role, term }` and `LeaderChanged { leader: None,
//!    term }` with the term the node was leading (the one already reported, which is
//!    durable); the step's own events follow in order once its write is durable.
//!    Saying "I no longer lead" early is the safe direction — it makes the
//!    application do less, never more — and it is what keeps a leader with a stalled
//!    disk from acting as leader past its CheckQuorum deadline. Everything else,
//!    becoming leader included, waits.
//! 5. **Held messages are bounded.** While a write is stalled, at most
//!    [`MAX_HELD_MESSAGES`] `Send`/`Broadcast` outputs are held; more are dropped and
//!    counted (a lost message, which Raft tolerates). Events and writes are never
//!    dropped.
//!
//! A held [`Output::Broadcast`] is fanned out when it is released, to the peers of
//! the node's membership at that time.
//!
//! ```
//! use ballot::pipeline::Pipeline;
//! use ballot::{HardState, Message, Output, Term};
//!
//! let mut pipeline = Pipeline::<u64>::new();
//! let mut ready = Vec::new();
//! let vote = HardState { term: Term(2), voted_for: Some(7) };
//! let grant = Output::Send { to: 7, message: Message::VoteResponse { term: Term(2), pre_vote: false, granted: true } };
//! pipeline.push([Output::Persist(vote), grant.clone()], &mut ready);
//! assert_eq!(ready, [Output::Persist(vote)]); // start this write; the grant waits
//! ready.clear();
//! pipeline.durable(&mut ready); // the write is on disk
//! assert_eq!(ready, [grant]);
//! ```

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::{HardState, NodeId, Output, Role, Term};

/// How many `Send`/`Broadcast` outputs a [`Pipeline`] holds behind a write at most.
pub const MAX_HELD_MESSAGES: usize = 4096;

/// Outputs held behind an in-flight write. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Pipeline<I: NodeId> {
    /// The write in flight and the step it came from.
    writing: Option<(u64, HardState<I>)>,
    /// Everything that waits, in order, with the step it came from. At most one
    /// `Persist` in here: the queued (not yet started) write.
    held: VecDeque<(u64, Output<I>)>,
    /// `Send`/`Broadcast` outputs in `held`.
    held_messages: usize,
    /// Steps pushed so far.
    steps: u64,
    /// What the released events said last: leading, and the term.
    leading: bool,
    term: Term,
    halted: bool,
    stats: PipelineStats,
}

/// Counters of a [`Pipeline`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct PipelineStats {
    /// Writes handed out to be started.
    pub writes_started: u64,
    /// Writes replaced by a later one before they started.
    pub writes_coalesced: u64,
    /// Loss of leadership reported ahead of held outputs.
    pub early_step_downs: u64,
    /// Messages dropped because [`MAX_HELD_MESSAGES`] were already held.
    pub dropped_messages: u64,
    /// Messages dropped because the write they waited for was replaced (rule 2).
    pub superseded_messages: u64,
    /// [`Pipeline::durable`] calls with no write in flight (ignored).
    pub unexpected_completions: u64,
}

impl<I: NodeId> Default for Pipeline<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: NodeId> Pipeline<I> {
    /// An idle pipeline.
    pub fn new() -> Self {
        Pipeline {
            writing: None,
            held: VecDeque::new(),
            held_messages: 0,
            steps: 0,
            leading: false,
            term: Term::ZERO,
            halted: false,
            stats: PipelineStats::default(),
        }
    }

    /// Takes the outputs of one step, in order, and appends to `ready` what may be
    /// carried out now (a `Persist` in `ready` means: start this write). Returns the
    /// step's number (1, 2, …), for [`Pipeline::released_through`]. After
    /// [`Pipeline::failed`], everything pushed is dropped.
    pub fn push(
        &mut self,
        outputs: impl IntoIterator<Item = Output<I>>,
        ready: &mut Vec<Output<I>>,
    ) -> u64 {
        self.steps += 1;
        let step = self.steps;
        for output in outputs {
            if self.halted {
                continue;
            }
            if self.writing.is_none() {
                self.release(step, output, ready);
                continue;
            }
            match output {
                Output::Persist(hard_state) => self.queue_write(step, hard_state),
                Output::Send { .. } | Output::Broadcast { .. } => {
                    if self.held_messages >= MAX_HELD_MESSAGES {
                        self.stats.dropped_messages += 1;
                    } else {
                        self.held_messages += 1;
                        self.held.push_back((step, output));
                    }
                }
                Output::RoleChanged { role, .. } if role != Role::Leader && self.leading => {
                    // Rule 4: the safe direction goes first.
                    self.leading = false;
                    self.stats.early_step_downs += 1;
                    ready.push(Output::RoleChanged {
                        role,
                        term: self.term,
                    });
                    ready.push(Output::LeaderChanged {
                        leader: None,
                        term: self.term,
                    });
                    self.held.push_back((step, output));
                }
                Output::RoleChanged { .. }
                | Output::LeaderChanged { .. }
                | Output::Rejected(_)
                | Output::TransferStarted { .. }
                | Output::TransferFailed { .. } => self.held.push_back((step, output)),
            }
        }
        step
    }

    /// Reports the write in flight durable: appends to `ready` the outputs that
    /// waited for it, up to and including the next write to start (if any).
    pub fn durable(&mut self, ready: &mut Vec<Output<I>>) {
        if self.writing.take().is_none() || self.halted {
            self.stats.unexpected_completions += 1;
            return;
        }
        while self.writing.is_none() {
            let Some((step, output)) = self.held.pop_front() else {
                break;
            };
            if matches!(output, Output::Send { .. } | Output::Broadcast { .. }) {
                self.held_messages -= 1;
            }
            self.release(step, output, ready);
        }
    }

    /// Reports the write in flight failed: drops everything held and halts. The node
    /// must not act again; restart it from what its store holds.
    pub fn failed(&mut self) {
        self.halted = true;
        self.writing = None;
        self.held.clear();
        self.held_messages = 0;
    }

    /// The write in flight, if any.
    pub fn writing(&self) -> Option<&HardState<I>> {
        self.writing.as_ref().map(|(_, hs)| hs)
    }

    /// Whether a write failed ([`Pipeline::failed`]).
    pub fn is_halted(&self) -> bool {
        self.halted
    }

    /// Whether nothing is in flight or held.
    pub fn is_idle(&self) -> bool {
        self.writing.is_none() && self.held.is_empty()
    }

    /// Outputs held behind the write in flight.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// The last step (as numbered by [`Pipeline::push`]) whose outputs have all been
    /// released and whose write, if it had one, is durable. A driver answers a
    /// command once its step is released.
    pub fn released_through(&self) -> u64 {
        match (self.halted, &self.writing) {
            (true, _) => 0,
            (false, Some((step, _))) => step - 1,
            (false, None) => self.steps,
        }
    }

    /// Counters.
    pub fn stats(&self) -> PipelineStats {
        self.stats
    }

    /// Hands `output` out now; a `Persist` becomes the write in flight.
    fn release(&mut self, step: u64, output: Output<I>, ready: &mut Vec<Output<I>>) {
        match &output {
            Output::Persist(hard_state) => {
                self.writing = Some((step, *hard_state));
                self.stats.writes_started += 1;
            }
            Output::RoleChanged { role, term } => {
                self.leading = *role == Role::Leader;
                self.term = *term;
            }
            Output::LeaderChanged { term, .. } => self.term = *term,
            Output::Send { .. }
            | Output::Broadcast { .. }
            | Output::Rejected(_)
            | Output::TransferStarted { .. }
            | Output::TransferFailed { .. } => {}
        }
        ready.push(output);
    }

    /// Queues a write behind the one in flight, replacing a queued one and dropping
    /// the messages that waited for it (rule 2).
    fn queue_write(&mut self, step: u64, hard_state: HardState<I>) {
        let Some(at) = self
            .held
            .iter()
            .position(|(_, o)| matches!(o, Output::Persist(_)))
        else {
            self.held.push_back((step, Output::Persist(hard_state)));
            return;
        };
        self.held[at].1 = Output::Persist(hard_state);
        self.stats.writes_coalesced += 1;
        let before = self.held.len();
        let mut i = 0;
        self.held.retain(|(_, o)| {
            i += 1;
            i <= at + 1 || !matches!(o, Output::Send { .. } | Output::Broadcast { .. })
        });
        let dropped = before - self.held.len();
        self.held_messages -= dropped;
        self.stats.superseded_messages += dropped as u64;
    }
}
