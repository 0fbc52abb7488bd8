//! The network model: which directed links are up, and what happens to a message
//! on its way (loss, duplication, delay).
//!
//! A directed link `from → to` is up unless `from` or `to` is isolated, the two are
//! in different partition groups, or the link is cut. The three layers are
//! independent: [`Simulation::heal_link`](super::Simulation::heal_link) only undoes
//! a [`cut`](super::Simulation::cut), and
//! [`heal_all`](super::Simulation::heal_all) clears everything. A message is dropped
//! if its link is down when it is sent **or** when it would arrive (in-flight
//! packets die with the link).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use super::engine::MAX_NODE_ID;
use super::event::{EventKind, Queue};
use super::options::Delay;
use super::rng::SimRng;
use crate::Message;

/// Which kind of message: the index of the per-kind counters in [`NetStats`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum MessageKind {
    /// [`Message::VoteRequest`] with `pre_vote: true`.
    PreVoteRequest = 0,
    /// [`Message::VoteResponse`] with `pre_vote: true`.
    PreVoteResponse = 1,
    /// [`Message::VoteRequest`] with `pre_vote: false`.
    VoteRequest = 2,
    /// [`Message::VoteResponse`] with `pre_vote: false`.
    VoteResponse = 3,
    /// [`Message::Heartbeat`].
    Heartbeat = 4,
    /// [`Message::HeartbeatResponse`].
    HeartbeatResponse = 5,
    /// [`Message::TimeoutNow`].
    TimeoutNow = 6,
}

impl MessageKind {
    /// Every kind, in counter order.
    pub const ALL: [MessageKind; 7] = [
        MessageKind::PreVoteRequest,
        MessageKind::PreVoteResponse,
        MessageKind::VoteRequest,
        MessageKind::VoteResponse,
        MessageKind::Heartbeat,
        MessageKind::HeartbeatResponse,
        MessageKind::TimeoutNow,
    ];

    /// The kind of `message`.
    pub const fn of(message: &Message) -> MessageKind {
        match *message {
            Message::VoteRequest { pre_vote: true, .. } => MessageKind::PreVoteRequest,
            Message::VoteRequest { .. } => MessageKind::VoteRequest,
            Message::VoteResponse { pre_vote: true, .. } => MessageKind::PreVoteResponse,
            Message::VoteResponse { .. } => MessageKind::VoteResponse,
            Message::Heartbeat { .. } => MessageKind::Heartbeat,
            Message::HeartbeatResponse { .. } => MessageKind::HeartbeatResponse,
            Message::TimeoutNow { .. } => MessageKind::TimeoutNow,
        }
    }
}

/// Message counters for the whole run.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct NetStats {
    /// Messages handed to the network (a broadcast counts once per recipient).
    pub sent: u64,
    /// Messages delivered to a live node (duplicates included).
    pub delivered: u64,
    /// Extra copies created by duplication.
    pub duplicated: u64,
    /// Messages lost at random.
    pub dropped_loss: u64,
    /// Messages dropped because their link was down (partition, cut, isolation).
    pub dropped_link: u64,
    /// Messages that arrived at a crashed or non-existent node.
    pub dropped_down: u64,
    /// Messages a [delivery filter](super::Simulation::filter_deliveries) dropped.
    pub dropped_filter: u64,
    /// Deliveries a delivery filter postponed.
    pub delayed_filter: u64,
    /// Deliveries per [`MessageKind`] (indexed by `kind as usize`).
    pub delivered_by_kind: [u64; 7],
}

impl NetStats {
    /// Deliveries of one kind of message.
    pub fn delivered(&self, kind: MessageKind) -> u64 {
        self.delivered_by_kind[kind as usize]
    }
}

/// What one directed link does differently from the network-wide settings: for
/// every message, and per [`MessageKind`] (a kind's setting wins over the link's).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LinkOverride {
    pub(crate) delay: Option<Delay>,
    pub(crate) loss_ppm: Option<u32>,
    pub(crate) kinds: [KindOverride; 6],
}

/// One message kind's delay and loss on one link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KindOverride {
    pub(crate) delay: Option<Delay>,
    pub(crate) loss_ppm: Option<u32>,
}

impl LinkOverride {
    fn is_empty(&self) -> bool {
        self.delay.is_none()
            && self.loss_ppm.is_none()
            && self.kinds.iter().all(|k| *k == KindOverride::default())
    }
}

/// Link state and message fate parameters.
#[derive(Debug)]
pub(crate) struct Network {
    /// Partition group per node id (absent = group 0).
    groups: Vec<u32>,
    /// Isolated nodes, by id (absent = not isolated).
    isolated: Vec<bool>,
    /// Cut directed links `(from, to)`.
    cuts: BTreeSet<(u64, u64)>,
    /// Whether any of the three layers is not healed (the fast path skips them all).
    faulty: bool,
    /// Per-link overrides of the delay and loss, by directed link `(from, to)`.
    pub(crate) links: BTreeMap<(u64, u64), LinkOverride>,
    pub(crate) delay: Delay,
    pub(crate) loss_ppm: u32,
    pub(crate) duplicate_ppm: u32,
    pub(crate) stats: NetStats,
}

impl Network {
    pub(crate) fn new(delay: Delay, loss_ppm: u32, duplicate_ppm: u32) -> Self {
        Network {
            groups: Vec::new(),
            isolated: Vec::new(),
            cuts: BTreeSet::new(),
            faulty: false,
            links: BTreeMap::new(),
            delay,
            loss_ppm,
            duplicate_ppm,
            stats: NetStats::default(),
        }
    }

    /// Whether the directed link `from → to` is up.
    #[inline]
    pub(crate) fn link_up(&self, from: u64, to: u64) -> bool {
        if !self.faulty {
            return true;
        }
        let group = |id: u64| self.groups.get(id as usize).copied().unwrap_or(0);
        let isolated = |id: u64| self.isolated.get(id as usize).copied().unwrap_or(false);
        !isolated(from)
            && !isolated(to)
            && group(from) == group(to)
            && !self.cuts.contains(&(from, to))
    }

    /// The delay distribution and loss probability of a message of `kind` on the
    /// directed link `from → to`.
    #[inline]
    pub(crate) fn fate(&self, from: u64, to: u64, kind: MessageKind) -> (Delay, u32) {
        if self.links.is_empty() {
            return (self.delay, self.loss_ppm);
        }
        match self.links.get(&(from, to)) {
            Some(o) => {
                let k = &o.kinds[kind as usize];
                (
                    k.delay.or(o.delay).unwrap_or(self.delay),
                    k.loss_ppm.or(o.loss_ppm).unwrap_or(self.loss_ppm),
                )
            }
            None => (self.delay, self.loss_ppm),
        }
    }

    /// Sets or clears (`None`) one part of the override of `from → to`.
    pub(crate) fn set_link(&mut self, from: u64, to: u64, set: impl FnOnce(&mut LinkOverride)) {
        let entry = self.links.entry((from, to)).or_default();
        set(entry);
        if entry.is_empty() {
            self.links.remove(&(from, to));
        }
    }

    /// Drops every per-link and per-kind loss override (delays stay).
    pub(crate) fn clear_link_losses(&mut self) {
        for l in self.links.values_mut() {
            l.loss_ppm = None;
            l.kinds.iter_mut().for_each(|k| k.loss_ppm = None);
        }
        self.links.retain(|_, l| !l.is_empty());
    }

    /// Whether every link is up.
    pub(crate) fn is_healed(&self) -> bool {
        !self.faulty
    }

    pub(crate) fn cut(&mut self, from: u64, to: u64) {
        self.cuts.insert((from, to));
        self.faulty = true;
    }

    pub(crate) fn heal_link(&mut self, from: u64, to: u64) {
        self.cuts.remove(&(from, to));
        self.refresh();
    }

    /// Puts each listed group in its own partition; unlisted nodes stay together in
    /// the remaining group (group 0).
    pub(crate) fn partition(&mut self, groups: &[&[u64]]) {
        self.groups.iter_mut().for_each(|g| *g = 0);
        for (i, members) in groups.iter().enumerate() {
            for &id in *members {
                let at = id as usize;
                if self.groups.len() <= at {
                    self.groups.resize(at + 1, 0);
                }
                self.groups[at] = i as u32 + 1;
            }
        }
        self.refresh();
    }

    pub(crate) fn isolate(&mut self, id: u64, on: bool) {
        let at = id as usize;
        if self.isolated.len() <= at {
            self.isolated.resize(at + 1, false);
        }
        self.isolated[at] = on;
        self.refresh();
    }

    pub(crate) fn heal_all(&mut self) {
        self.groups.clear();
        self.isolated.clear();
        self.cuts.clear();
        self.faulty = false;
    }

    fn refresh(&mut self) {
        self.faulty = !self.cuts.is_empty()
            || self.isolated.iter().any(|&i| i)
            || self.groups.iter().any(|&g| g != 0);
    }
}

/// Puts one message on the wire: link check, loss, delay, duplication.
#[inline]
pub(crate) fn transmit(
    net: &mut Network,
    rng: &mut SimRng,
    queue: &mut Queue,
    now: u64,
    from: u64,
    to: u64,
    message: Message,
) {
    net.stats.sent += 1;
    if !net.link_up(from, to) {
        net.stats.dropped_link += 1;
        return;
    }
    if to > MAX_NODE_ID {
        net.stats.dropped_down += 1;
        return;
    }
    let (delay, loss_ppm) = net.fate(from, to, MessageKind::of(&message));
    if rng.chance(loss_ppm) {
        net.stats.dropped_loss += 1;
        return;
    }
    let kind = EventKind::Deliver {
        from: from as u32,
        to: to as u32,
        message,
    };
    queue.push(now.saturating_add(delay.draw(rng)), kind);
    if rng.chance(net.duplicate_ppm) {
        net.stats.duplicated += 1;
        queue.push(now.saturating_add(delay.draw(rng)), kind);
    }
}
