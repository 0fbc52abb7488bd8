//! The event queue: a binary heap ordered by `(time, sequence number)`.
//!
//! The sequence number increases with every push, so events at the same time run
//! in the order they were scheduled, and the order is total and deterministic.

use alloc::collections::BinaryHeap;
use core::cmp::Ordering;

use crate::Message;

/// What happens when an event comes due. Node ids fit in `u32` (the simulator
/// caps them), which keeps an event at 56 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EventKind {
    /// A node's timer wake-up; stale unless `gen` matches the node's.
    Wake { node: u32, generation: u32 },
    /// A message arrives.
    Deliver {
        from: u32,
        to: u32,
        message: Message,
    },
    /// A node's pending `Persist` becomes durable (stale after a crash).
    Durable { node: u32, incarnation: u32 },
    /// A scripted action (index into the simulation's action table).
    Scripted { index: u32 },
    /// The random crash injector's next crash.
    CrashFault,
    /// The random partition injector's next partition.
    PartitionFault,
    /// The current random partition heals.
    PartitionHeal,
    /// A node crashed by the injector restarts (stale if it restarted meanwhile).
    Restart { node: u32, incarnation: u32 },
}

impl EventKind {
    /// A small tag for the trace hash.
    pub(crate) fn words(&self) -> [u64; 3] {
        match *self {
            EventKind::Wake { node, generation } => [1, u64::from(node), u64::from(generation)],
            EventKind::Deliver { from, to, message } => [
                2,
                u64::from(from) << 32 | u64::from(to),
                message_word(&message),
            ],
            EventKind::Durable { node, incarnation } => {
                [3, u64::from(node), u64::from(incarnation)]
            }
            EventKind::Scripted { index } => [4, u64::from(index), 0],
            EventKind::CrashFault => [5, 0, 0],
            EventKind::PartitionFault => [6, 0, 0],
            EventKind::PartitionHeal => [7, 0, 0],
            EventKind::Restart { node, incarnation } => {
                [8, u64::from(node), u64::from(incarnation)]
            }
        }
    }
}

/// A message folded into one word for hashing: kind, flags and term.
pub(crate) fn message_word(message: &Message) -> u64 {
    let (tag, flags, freshness) = match *message {
        Message::VoteRequest {
            pre_vote,
            freshness,
            ..
        } => (
            1u64,
            u64::from(pre_vote),
            freshness.term.rotate_left(32) ^ freshness.index,
        ),
        Message::VoteResponse {
            pre_vote, granted, ..
        } => (2, u64::from(pre_vote) | u64::from(granted) << 1, 0),
        Message::Heartbeat { .. } => (3, 0, 0),
        Message::HeartbeatResponse { .. } => (4, 0, 0),
    };
    (message.term().get() << 8 | tag << 4 | flags) ^ freshness.rotate_left(17)
}

/// One scheduled event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub(crate) at: u64,
    pub(crate) seq: u64,
    pub(crate) kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Event {}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Event {
    /// Reversed, so the max-heap pops the earliest `(at, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The pending events.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    heap: BinaryHeap<Event>,
    seq: u64,
}

impl Queue {
    /// Schedules `kind` at global time `at`.
    #[inline]
    pub(crate) fn push(&mut self, at: u64, kind: EventKind) {
        self.seq += 1;
        self.heap.push(Event {
            at,
            seq: self.seq,
            kind,
        });
    }

    /// The time of the earliest event.
    pub(crate) fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|e| e.at)
    }

    /// Removes the earliest event.
    pub(crate) fn pop(&mut self) -> Option<Event> {
        self.heap.pop()
    }

    /// Events waiting.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}
