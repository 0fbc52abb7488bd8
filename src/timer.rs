//! The node's timers: a small fixed table of deadlines.

use crate::Instant;

/// What a timer is for. `Election` and `Heartbeat` share one slot: a leader has no
/// election timer and only a leader has a heartbeat timer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Timer {
    /// Follower, pre-candidate, candidate: start a (pre-)election when it fires.
    Election,
    /// Leader: send the next heartbeat.
    Heartbeat,
    /// Leader with CheckQuorum: check that a quorum was heard from; also the
    /// deadline of a pending leadership transfer.
    CheckQuorum,
}

impl Timer {
    const fn slot(self) -> usize {
        match self {
            Timer::Election | Timer::Heartbeat => 0,
            Timer::CheckQuorum => 1,
        }
    }
}

/// Deadlines indexed by [`Timer`]. `Instant::MAX` means "not armed"; arming
/// saturates just below it, a deadline no clock reaches anyway.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timers {
    at: [Instant; 2],
}

impl Timers {
    pub(crate) const fn new() -> Self {
        Timers {
            at: [Instant::MAX; 2],
        }
    }

    #[inline]
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.at[timer.slot()] = at.min(Instant::from_nanos(u64::MAX - 1));
    }

    /// Arms `timer` at `at` unless it is already armed earlier.
    pub(crate) fn set_earliest(&mut self, timer: Timer, at: Instant) {
        let current = self.at[timer.slot()];
        if at < current {
            self.set(timer, at);
        }
    }

    #[inline]
    pub(crate) fn stop(&mut self, timer: Timer) {
        self.at[timer.slot()] = Instant::MAX;
    }

    #[inline]
    pub(crate) fn is_due(&self, timer: Timer, now: Instant) -> bool {
        let at = self.at[timer.slot()];
        at != Instant::MAX && at <= now
    }

    /// Whether any armed timer is due at `now` (`is_due` for some timer).
    #[inline]
    pub(crate) fn any_due(&self, now: Instant) -> bool {
        // An unarmed slot holds `Instant::MAX`, which is due for no `now` below it; at
        // `now == Instant::MAX` the general step decides (as before).
        self.at[0].min(self.at[1]) <= now
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        let min = self.at[0].min(self.at[1]);
        (min != Instant::MAX).then_some(min)
    }
}
