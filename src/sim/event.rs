//! The event queue, ordered by `(time, sequence number)`.
//!
//! The sequence number increases with every push, so events at the same time run
//! in the order they were scheduled, and the order is total and deterministic. The
//! queue is a radix heap ([`Queue`]): the same order as a binary heap, without its
//! cache misses on large queues.

use alloc::vec::Vec;

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
    /// A message a delivery filter postponed arrives (not filtered again).
    Postponed {
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
    /// The random freshness injector's next replication step.
    FreshnessFault,
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
            EventKind::FreshnessFault => [9, 0, 0],
            EventKind::Postponed { from, to, message } => [
                10,
                u64::from(from) << 32 | u64::from(to),
                message_word(&message),
            ],
        }
    }
}

/// A message folded into one word for hashing: kind, flags and term.
pub(crate) fn message_word(message: &Message) -> u64 {
    let (tag, flags, freshness) = match *message {
        Message::VoteRequest {
            pre_vote,
            transfer,
            freshness,
            ..
        } => (
            1u64,
            u64::from(pre_vote) | u64::from(transfer) << 2,
            freshness.term.rotate_left(32) ^ freshness.index,
        ),
        Message::VoteResponse {
            pre_vote, granted, ..
        } => (2, u64::from(pre_vote) | u64::from(granted) << 1, 0),
        Message::Heartbeat { hand_over, .. } => (3, u64::from(hand_over) << 3, 0),
        Message::HeartbeatResponse { .. } => (4, 0, 0),
        Message::TimeoutNow { .. } => (5, 0, 0),
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

impl Event {
    /// The event's place in the total order: `(at, seq)` as one 128-bit number.
    #[inline]
    fn key(&self) -> u128 {
        u128::from(self.at) << 64 | u128::from(self.seq)
    }
}

/// Buckets of the radix queue: bucket 0 holds the key equal to the last one
/// popped; bucket `b >= 1` holds keys whose highest bit differing from it is
/// bit `b - 1`.
const BUCKETS: usize = 129;

/// The pending events, popped in increasing `(at, seq)` order.
///
/// A **radix heap** (Ahuja, Mehlhorn, Orlin and Tarjan, 1990) over the 128-bit key
/// `(at, seq)`. It relies on the queue being *monotone* — no event is ever scheduled
/// before the last one popped, which holds because the simulation only schedules
/// at or after its current time — and pops exactly the same sequence as a binary
/// heap ordered by `(at, seq)` would (keys are unique, so the minimum is unique).
///
/// Why not a binary heap: a cold-start election of 10,001 nodes keeps hundreds of
/// thousands of messages in flight, and every binary-heap pop then walks ~20 levels
/// of a heap far larger than the CPU caches, one cache miss per level; that was
/// over 80 % of the simulator's time. A radix heap appends events to a few vectors
/// and moves each one a handful of times, sequentially, before it is popped.
#[derive(Debug)]
pub(crate) struct Queue {
    buckets: [Vec<Event>; BUCKETS],
    /// Bit `b - 1` is set when bucket `b >= 1` is non-empty.
    occupied: u128,
    /// The key of the last event popped (0 before the first). Only a pop moves it:
    /// a peek must not, since the simulation may still schedule events before a
    /// peeked one (but never before a popped one).
    last: u128,
    /// The smallest key queued, when known (set by a peek, kept by pushes, cleared
    /// by pops), so that a pop after a peek does not scan its bucket twice.
    min: Option<u128>,
    len: usize,
    seq: u64,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            buckets: core::array::from_fn(|_| Vec::new()),
            occupied: 0,
            last: 0,
            min: None,
            len: 0,
            seq: 0,
        }
    }
}

/// The bucket of `key` relative to the last popped key `last`.
#[inline]
fn bucket(key: u128, last: u128) -> usize {
    (128 - (key ^ last).leading_zeros()) as usize
}

impl Queue {
    /// Schedules `kind` at global time `at` (never before the last event popped:
    /// an earlier `at` is raised to it, which the simulation never needs).
    #[inline]
    pub(crate) fn push(&mut self, at: u64, kind: EventKind) {
        self.seq += 1;
        let last_at = (self.last >> 64) as u64;
        debug_assert!(at >= last_at, "event scheduled in the past");
        let event = Event {
            at: at.max(last_at),
            seq: self.seq,
            kind,
        };
        let key = event.key();
        if let Some(min) = self.min.as_mut() {
            *min = (*min).min(key);
        }
        let b = bucket(key, self.last);
        self.buckets[b].push(event);
        if b > 0 {
            self.occupied |= 1 << (b - 1);
        }
        self.len += 1;
    }

    /// The smallest key queued, without moving anything.
    fn min_key(&mut self) -> Option<u128> {
        if let Some(e) = self.buckets[0].last() {
            return Some(e.key());
        }
        if self.min.is_none() && self.occupied != 0 {
            let b = self.occupied.trailing_zeros() as usize + 1;
            self.min = self.buckets[b].iter().map(Event::key).min();
        }
        self.min
    }

    /// The time of the earliest event.
    pub(crate) fn peek_time(&mut self) -> Option<u64> {
        self.min_key().map(|k| (k >> 64) as u64)
    }

    /// The time of the earliest event, without touching the queue's cache (a scan
    /// of one bucket when the minimum is not known).
    pub(crate) fn next_time(&self) -> Option<u64> {
        if let Some(e) = self.buckets[0].last() {
            return Some(e.at);
        }
        if let Some(min) = self.min {
            return Some((min >> 64) as u64);
        }
        if self.occupied == 0 {
            return None;
        }
        let b = self.occupied.trailing_zeros() as usize + 1;
        self.buckets[b]
            .iter()
            .map(Event::key)
            .min()
            .map(|k| (k >> 64) as u64)
    }

    /// Removes the earliest event.
    pub(crate) fn pop(&mut self) -> Option<Event> {
        let min = self.min_key()?;
        self.min = None;
        if self.buckets[0].is_empty() {
            // The earliest event is in the lowest non-empty bucket `b`: make it the
            // new `last`; every event of `b` then belongs to a lower bucket.
            let b = self.occupied.trailing_zeros() as usize + 1;
            self.occupied &= !(1 << (b - 1));
            self.last = min;
            let mut events = core::mem::take(&mut self.buckets[b]);
            for event in events.drain(..) {
                let to = bucket(event.key(), min);
                self.buckets[to].push(event);
                if to > 0 {
                    self.occupied |= 1 << (to - 1);
                }
            }
            self.buckets[b] = events; // keep the capacity
        }
        let event = self.buckets[0].pop();
        self.len -= usize::from(event.is_some());
        event
    }

    /// Events waiting.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::SimRng;
    use alloc::collections::BinaryHeap;
    use core::cmp::Reverse;

    /// The radix queue pops exactly what a binary heap on `(at, seq)` pops, for
    /// any monotone schedule (bursts at one instant, long and short delays).
    #[test]
    fn pops_in_the_same_order_as_a_binary_heap() {
        let mut rng = SimRng::new(5);
        let mut queue = Queue::default();
        let mut heap = BinaryHeap::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        for round in 0..20_000u64 {
            if rng.below(2) == 0 {
                // A peek must not stop earlier events from being scheduled later.
                let expected = heap.peek().map(|Reverse(k): &Reverse<(u64, u64)>| k.0);
                assert_eq!(queue.peek_time(), expected);
            }
            for _ in 0..rng.below(4) {
                let delay = match rng.below(4) {
                    0 => 0,
                    1 => rng.below(10),
                    2 => rng.below(3_000_000),
                    _ => rng.below(u64::from(u32::MAX)),
                };
                seq += 1;
                queue.push(
                    now + delay,
                    EventKind::Scripted {
                        index: round as u32,
                    },
                );
                heap.push(Reverse((now + delay, seq)));
            }
            if rng.below(3) > 0 {
                let expected = heap.pop().map(|Reverse(k)| k);
                assert_eq!(queue.peek_time(), expected.map(|k| k.0));
                let got = queue.pop().map(|e| (e.at, e.seq));
                assert_eq!(got, expected);
                if let Some((at, _)) = got {
                    now = at;
                }
            }
            assert_eq!(queue.len(), heap.len());
        }
        while let Some(Reverse(k)) = heap.pop() {
            assert_eq!(queue.pop().map(|e| (e.at, e.seq)), Some(k));
        }
        assert!(queue.pop().is_none());
    }
}
