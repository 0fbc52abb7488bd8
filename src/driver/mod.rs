//! Drivers: run an [`Election`] for real, on a thread ([`thread`]) or a tokio task
//! (`tokio`, feature `tokio`), with a [`Store`](crate::store::Store) and a
//! [`Transport`].
//!
//! A driver owns one node. It wakes up at [`Election::next_deadline`], steps the
//! node on every message and command, and carries out the outputs through a
//! [`Pipeline`]: writes go to a writer off the event loop, and everything that
//! depends on a write waits for it while the node keeps stepping — **time never
//! waits on the disk**, so a leader whose disk stalls still steps down on schedule
//! (and says so at once). A failed write halts the node: nothing that depended on
//! it is sent, commands answer [`CommandFailed::Stopped`], and shutting down returns
//! the error.
//!
//! Drivers hold no protocol logic: every decision is the [`Election`]'s; the driver
//! only waits, stamps the time, and forwards.
//!
//! What the application sees of a node is its [`NodeStatus`]: role, term and leader
//! as the node has reported them — in order, behind the writes they depend on
//! (except that losing leadership is reported at once; see [`crate::pipeline`]).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::convert::Infallible;

use thiserror::Error;

use crate::pipeline::{Pipeline, PipelineStats};
use crate::store::StoreError;
use crate::transport::Transport;
use crate::{
    CommandError, Election, HardState, Host, Input, Instant, Message, NodeId, Output, Role, Stats,
    Term,
};

pub mod clock;
pub mod thread;
#[cfg(feature = "tokio")]
pub mod tokio;

/// How many received messages a driver queues before it drops new ones.
pub const INBOX_CAPACITY: usize = 4096;

/// A node as its driver reports it: what its released events said last.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub struct NodeStatus<I> {
    /// The node.
    pub id: I,
    /// Its role.
    pub role: Role,
    /// Its term: the highest term it has made durable. Events are reported only
    /// after the writes they depend on, so this never runs ahead of the disk (a
    /// crash cannot take it back), and it never decreases.
    pub term: Term,
    /// The leader it knows of, `Some(id)` when it leads itself.
    pub leader: Option<I>,
    /// False once the node has stopped (shut down, or halted by a failed write).
    pub running: bool,
}

impl<I: NodeId> NodeStatus<I> {
    /// Whether the node is the leader (and running).
    pub fn is_leader(&self) -> bool {
        self.running && self.role == Role::Leader
    }
}

/// Why a command sent to a driver did not succeed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[non_exhaustive]
pub enum CommandFailed<I: NodeId> {
    /// The node rejected it ([`Output::Rejected`]); nothing changed.
    #[error(transparent)]
    Rejected(#[from] CommandError<I>),
    /// The node has stopped (shut down, or halted by a failed write), so the
    /// command may or may not have been carried out.
    #[error("the node has stopped")]
    Stopped,
}

/// Counters of a driver.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct DriverStats {
    /// The node's own counters ([`Election::stats`]).
    pub election: Stats,
    /// The pipeline's counters.
    pub pipeline: PipelineStats,
    /// Steps taken.
    pub steps: u64,
    /// Sends the transport refused ([`Transport::send`] errors).
    pub send_failures: u64,
    /// Received messages dropped because the node's queue was full
    /// ([`INBOX_CAPACITY`]).
    pub inbound_dropped: u64,
    /// Writes made durable.
    pub writes: u64,
}

/// What a driver hands back when its node stops.
#[derive(Debug)]
#[non_exhaustive]
pub struct Halted<I: NodeId, S, T> {
    /// The node as it was when it stopped. After a failed write it is ahead of what
    /// is durable: restart from the store, not from this.
    pub election: Election<I>,
    /// The store (to restart from).
    pub store: S,
    /// The transport.
    pub transport: T,
    /// The failed write that halted the node, if one did.
    pub error: Option<StoreError>,
    /// The driver's counters at the end.
    pub stats: DriverStats,
}

/// The event-loop-independent part of a driver: the node, its pipeline, the
/// status it reports and the commands waiting for their step to be released.
/// `R` is how a command is answered (a channel sender).
pub(crate) struct Core<I: NodeId, T, R> {
    pub(crate) election: Election<I>,
    pipeline: Pipeline<I>,
    pub(crate) transport: T,
    out: Vec<Output<I>>,
    ready: Vec<Output<I>>,
    /// The status as the released events say.
    view: NodeStatus<I>,
    /// The status last published.
    published: NodeStatus<I>,
    /// A write to start (taken by the loop).
    write: Option<HardState<I>>,
    /// Commands waiting for their step: (step, result, reply).
    replies: VecDeque<(u64, Result<(), CommandFailed<I>>, R)>,
    pub(crate) stats: DriverStats,
    pub(crate) error: Option<StoreError>,
}

impl<I: NodeId, T: Transport<I>, R> Core<I, T, R> {
    pub(crate) fn new(election: Election<I>, transport: T) -> Self {
        let view = NodeStatus {
            id: election.id(),
            role: election.role(),
            term: election.term(),
            leader: election.leader(),
            running: true,
        };
        Core {
            election,
            pipeline: Pipeline::new(),
            transport,
            out: Vec::new(),
            ready: Vec::new(),
            view,
            published: view,
            write: None,
            replies: VecDeque::new(),
            stats: DriverStats::default(),
            error: None,
        }
    }

    /// Whether the node has halted (a write failed).
    pub(crate) fn halted(&self) -> bool {
        self.pipeline.is_halted()
    }

    /// When the loop must next call [`Core::tick`]; `None` once halted.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        if self.halted() {
            None
        } else {
            self.election.next_deadline()
        }
    }

    /// Steps the node with `input` at `now` and carries out what may leave now.
    /// Returns the step number and the rejection it produced, if any.
    fn step(&mut self, input: Input<I>, now: Instant) -> (u64, Option<CommandError<I>>) {
        if self.halted() {
            return (0, None);
        }
        self.stats.steps += 1;
        self.out.clear();
        self.election.step_into(input, now, &mut self.out);
        let rejected = self.out.iter().find_map(|o| match o {
            Output::Rejected(e) => Some(*e),
            _ => None,
        });
        let step = self.pipeline.push(self.out.drain(..), &mut self.ready);
        self.carry_out();
        (step, rejected)
    }

    /// A message arrived.
    pub(crate) fn receive(&mut self, from: I, message: Message, now: Instant) {
        self.step(Input::Receive { from, message }, now);
    }

    /// Ticks the node if its deadline has come.
    pub(crate) fn tick(&mut self, now: Instant) {
        if self.deadline().is_some_and(|d| d <= now) {
            self.step(Input::Tick, now);
        }
    }

    /// Runs a command; `reply` is answered (see [`Core::take_replies`]) once the
    /// command's step has been released.
    pub(crate) fn command(&mut self, input: Input<I>, now: Instant, reply: R) {
        if self.halted() {
            self.replies
                .push_back((0, Err(CommandFailed::Stopped), reply));
            return;
        }
        let (step, rejected) = self.step(input, now);
        let result = rejected.map_or(Ok(()), |e| Err(CommandFailed::Rejected(e)));
        self.replies.push_back((step, result, reply));
    }

    /// The write handed out last finished.
    pub(crate) fn written(&mut self, result: Result<(), StoreError>) {
        match result {
            Ok(()) => {
                self.stats.writes += 1;
                // The written term is durable now: report it even when no role or
                // leader change names it (a follower that adopted a newer term).
                if let Some(hard_state) = self.pipeline.writing() {
                    self.view.term = self.view.term.max(hard_state.term);
                }
                self.pipeline.durable(&mut self.ready);
                self.carry_out();
            }
            Err(error) => {
                trace_event!(error, node = ?self.election.id(), %error, "write failed: the node halts");
                self.pipeline.failed();
                self.error = Some(error);
                self.view.running = false;
            }
        }
    }

    /// Marks the node stopped (shutdown).
    pub(crate) fn stop(&mut self) {
        self.view.running = false;
    }

    /// A write to start now, if the pipeline released one.
    pub(crate) fn take_write(&mut self) -> Option<HardState<I>> {
        self.write.take()
    }

    /// Commands whose answer is known, in order.
    pub(crate) fn take_replies(&mut self, mut answer: impl FnMut(R, Result<(), CommandFailed<I>>)) {
        let through = self.pipeline.released_through();
        let halted = self.halted() || !self.view.running;
        while let Some((step, _, _)) = self.replies.front() {
            if *step > through && !halted {
                break;
            }
            let Some((step, result, reply)) = self.replies.pop_front() else {
                break;
            };
            let result = if step > through || step == 0 {
                Err(CommandFailed::Stopped)
            } else {
                result
            };
            answer(reply, result);
        }
    }

    /// The status, if it changed since it was last taken (one change per real
    /// change, however many events a release carried).
    pub(crate) fn status_change(&mut self) -> Option<NodeStatus<I>> {
        if self.view == self.published {
            return None;
        }
        self.published = self.view;
        Some(self.view)
    }

    /// The driver's counters now.
    pub(crate) fn snapshot(&self) -> DriverStats {
        DriverStats {
            election: self.election.stats(),
            pipeline: self.pipeline.stats(),
            ..self.stats
        }
    }

    /// Carries out the ready outputs.
    fn carry_out(&mut self) {
        let mut host = CoreHost {
            transport: &mut self.transport,
            view: &mut self.view,
            write: &mut self.write,
            send_failures: &mut self.stats.send_failures,
        };
        let Ok(()) = crate::dispatch(&self.election, self.ready.drain(..), &mut host);
    }
}

/// The [`Host`] a driver's released outputs are carried out on.
struct CoreHost<'a, I: NodeId, T> {
    transport: &'a mut T,
    view: &'a mut NodeStatus<I>,
    write: &'a mut Option<HardState<I>>,
    send_failures: &'a mut u64,
}

impl<I: NodeId, T: Transport<I>> Host<I> for CoreHost<'_, I, T> {
    type Error = Infallible;

    /// Hands the write to the loop, which starts it off the event loop; the
    /// pipeline holds everything after it until the loop reports it durable.
    fn persist(&mut self, hard_state: &HardState<I>) -> Result<(), Infallible> {
        debug_assert!(self.write.is_none(), "one write per release");
        *self.write = Some(*hard_state);
        Ok(())
    }

    fn send(&mut self, to: I, message: Message) {
        if let Err(_error) = self.transport.send(to, message) {
            *self.send_failures += 1;
            trace_event!(debug, to = ?to, error = %_error, "send failed");
        }
    }

    fn role_changed(&mut self, role: Role, term: Term) {
        trace_event!(info, node = ?self.view.id, %role, term = term.get(), "role changed");
        self.view.role = role;
        // Never backwards: an early step-down report names the term the node led,
        // which may be below a term already made durable.
        self.view.term = self.view.term.max(term);
    }

    fn leader_changed(&mut self, leader: Option<I>, term: Term) {
        trace_event!(info, node = ?self.view.id, leader = ?leader, term = term.get(), "leader changed");
        self.view.leader = leader;
        self.view.term = self.view.term.max(term);
    }

    fn rejected(&mut self, _error: CommandError<I>) {
        trace_event!(debug, node = ?self.view.id, error = %_error, "command rejected");
    }
}
