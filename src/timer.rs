//! The node's timers: a small fixed table of deadlines.

use crate::Instant;

/// What a timer is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Timer {
    /// Follower, pre-candidate, candidate: start a (pre-)election when it fires.
    Election = 0,
    /// Leader: send the next heartbeat.
    Heartbeat = 1,
    /// Leader with CheckQuorum: check that a quorum was heard from.
    CheckQuorum = 2,
}

const COUNT: usize = 3;

/// Deadlines indexed by [`Timer`]. `Instant::MAX` means "not armed" (no real
/// deadline is that late: arming saturates just below it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timers {
    at: [Instant; COUNT],
}

impl Timers {
    pub(crate) const fn new() -> Self {
        Timers {
            at: [Instant::MAX; COUNT],
        }
    }

    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        // Keep `Instant::MAX` for "unarmed"; a deadline that far away is never due anyway.
        self.at[timer as usize] = if at == Instant::MAX {
            Instant::from_nanos(u64::MAX - 1)
        } else {
            at
        };
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.at[timer as usize] = Instant::MAX;
    }

    pub(crate) fn is_due(&self, timer: Timer, now: Instant) -> bool {
        let at = self.at[timer as usize];
        at != Instant::MAX && at <= now
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        let min = self.at.iter().copied().min().unwrap_or(Instant::MAX);
        (min != Instant::MAX).then_some(min)
    }
}
