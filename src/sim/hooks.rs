//! Hooks into the event loop — a delivery filter that can drop or postpone a
//! message, an observer of every output as it leaves a node — per-link rules per
//! message kind, and the time of the next event.

use alloc::boxed::Box;
use core::time::Duration;

use super::PPM;
use super::engine::{Delivery, Simulation};
use super::event::EventKind;
use super::network::MessageKind;
use super::options::{Delay, nanos};
use crate::{Instant, Message, Output};

/// What a [delivery filter](Simulation::filter_deliveries) does with a message that
/// is about to be delivered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Deliver it now (then the [`on_deliver`](Simulation::on_deliver) observer runs).
    Deliver,
    /// Drop it (counted in [`NetStats::dropped_filter`](super::NetStats::dropped_filter)).
    Drop,
    /// Deliver it this much later instead (the link checks run again then, the
    /// filter does not).
    Delay(Duration),
}

/// A delivery filter: see [`Simulation::filter_deliveries`].
pub type DeliveryFilter = Box<dyn FnMut(&Delivery) -> Verdict>;

/// One output as it leaves a node, seen by an [`OutputHook`].
#[derive(Clone, Copy, Debug)]
pub struct Emitted<'a> {
    /// Global simulated time at which the output is carried out (for outputs held
    /// behind a `Persist`: when that write became durable).
    pub at: Instant,
    /// The node's local time then.
    pub local: Instant,
    /// The node.
    pub node: u64,
    /// The output (a `Send`, a `Broadcast` — once for all recipients — a
    /// `Persist` as it is issued, a role or leader change, a rejection).
    pub output: &'a Output<u64>,
}

/// An output observer: see [`Simulation::on_output`].
pub type OutputHook = Box<dyn FnMut(&Emitted<'_>)>;

impl Simulation {
    /// Sets a filter run for every message about to be delivered to a live node
    /// (after the link checks, before the node sees it and before the
    /// [`on_deliver`](Simulation::on_deliver) observer): it can deliver, drop or
    /// postpone it ([`Verdict`]). Replaces any earlier filter. The liveness check
    /// ([`Simulation::heal_and_check_liveness`]) keeps it: clear it first with
    /// [`Simulation::clear_delivery_filter`] if it would stop the cluster.
    pub fn filter_deliveries(&mut self, filter: DeliveryFilter) {
        self.tracer.mix(0xe0);
        self.deliver_filter = Some(filter);
    }

    /// Removes the delivery filter.
    pub fn clear_delivery_filter(&mut self) {
        self.tracer.mix(0xe1);
        self.deliver_filter = None;
    }

    /// Sets an observer called for every output of every node as it is carried out
    /// (the send side: a message leaves with the time shown; see [`Emitted`]).
    /// Replaces any earlier one. Observing changes nothing in the run.
    pub fn on_output(&mut self, hook: OutputHook) {
        self.output_hook = Some(hook);
    }

    /// Removes the output observer.
    pub fn clear_output_hook(&mut self) {
        self.output_hook = None;
    }

    /// The global time of the next event ([`Simulation::step`] would process it),
    /// or `None` if nothing is queued. A script that must not overshoot an instant
    /// `t` steps while `next_event_time() <= Some(t)`.
    pub fn next_event_time(&self) -> Option<Instant> {
        self.queue.next_time().map(Instant::from_nanos)
    }

    /// Gives messages of `kind` on the directed link `from → to` their own delay
    /// (`None`: back to the link's or the network's), e.g. slow heartbeats only.
    /// Applies to messages sent from now on; [`Simulation::heal_all`] keeps it.
    pub fn set_link_kind_delay(
        &mut self,
        from: u64,
        to: u64,
        kind: MessageKind,
        delay: Option<Delay>,
    ) {
        self.tracer.mix(
            0xe2 ^ from
                ^ to.rotate_left(32)
                ^ (kind as u64) << 8
                ^ delay.map_or(u64::MAX, |d| d.max_nanos()).rotate_left(12),
        );
        self.net
            .set_link(from, to, |l| l.kinds[kind as usize].delay = delay);
        self.note(format_args!("n{from} -> n{to} {kind:?} delay {delay:?}"));
    }

    /// Gives messages of `kind` on the directed link `from → to` their own loss
    /// probability (parts per million; `None`: back to the link's or the
    /// network's). Applies to messages sent from now on;
    /// [`Simulation::heal_and_check_liveness`] clears it.
    pub fn set_link_kind_loss(&mut self, from: u64, to: u64, kind: MessageKind, ppm: Option<u32>) {
        let ppm = ppm.map(|p| p.min(PPM));
        self.tracer.mix(
            0xe3 ^ from
                ^ to.rotate_left(32)
                ^ (kind as u64) << 8
                ^ u64::from(ppm.unwrap_or(u32::MAX)) << 16,
        );
        self.net
            .set_link(from, to, |l| l.kinds[kind as usize].loss_ppm = ppm);
        self.note(format_args!("n{from} -> n{to} {kind:?} loss {ppm:?} ppm"));
    }

    /// Loses every message of `kind` sent on `from → to` from now on, while the
    /// other kinds pass — e.g. "heartbeats from A to B are lost, votes still pass".
    /// Undo with [`Simulation::set_link_kind_loss`]`(from, to, kind, None)`.
    pub fn drop_kind(&mut self, from: u64, to: u64, kind: MessageKind) {
        self.set_link_kind_loss(from, to, kind, Some(PPM));
    }

    /// Runs the delivery filter on a message about to be delivered; returns whether
    /// to deliver it now (a postponed one is queued again as `Postponed`).
    pub(super) fn filter_delivery(&mut self, from: u64, to: u64, message: Message) -> bool {
        let Some(filter) = self.deliver_filter.as_mut() else {
            return true;
        };
        let delivery = Delivery {
            at: Instant::from_nanos(self.now),
            from,
            to,
            message,
        };
        match filter(&delivery) {
            Verdict::Deliver => true,
            Verdict::Drop => {
                self.net.stats.dropped_filter += 1;
                false
            }
            Verdict::Delay(by) => {
                self.net.stats.delayed_filter += 1;
                let kind = EventKind::Postponed {
                    from: from as u32,
                    to: to as u32,
                    message,
                };
                self.queue.push(self.now.saturating_add(nanos(by)), kind);
                false
            }
        }
    }

    /// Postpones by `delay`, during `setup` of [`SimOptions::build_with`], an action
    /// on `node` that needs it to exist: it runs at time zero, once the initial
    /// nodes are up. Returns whether it was deferred.
    ///
    /// [`SimOptions::build_with`]: super::SimOptions::build_with
    pub(super) fn defer_in_setup(
        &mut self,
        node: u64,
        action: impl FnOnce() -> super::Action,
    ) -> bool {
        if !self.setting_up || self.exists(node) {
            return false;
        }
        let action = action();
        self.note(format_args!("deferred to time zero: {action:?}"));
        self.at(Instant::ZERO, action);
        true
    }
}
