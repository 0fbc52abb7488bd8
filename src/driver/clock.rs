//! The one place where real time becomes [`ballot::Instant`](crate::Instant).
//!
//! The core and the simulator never read a clock (clippy's `disallowed_types` /
//! `disallowed_methods` enforce it). The drivers must: they wake up at
//! [`Election::next_deadline`](crate::Election::next_deadline) and stamp every step
//! with the time. This module is where they do it, with the lint allowed locally.
// Drivers may read clocks; core and sim may not. Only this file names std's Instant.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use core::time::Duration;
use std::time::Instant as StdInstant;

use crate::Instant;

/// How long "never" is when a deadline does not fit in `std::time::Instant`.
const FAR: Duration = Duration::from_secs(86_400 * 365);

/// Maps a monotonic `std::time::Instant` to `ballot::Instant` and back: `origin`
/// (real) corresponds to `base` (ballot time).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    origin: StdInstant,
    base: Instant,
}

impl Clock {
    /// A clock on which the real instant `origin` reads `base`.
    pub fn new(origin: StdInstant, base: Instant) -> Self {
        Clock { origin, base }
    }

    /// A clock that reads `base` now (so a node created at `base` continues
    /// seamlessly).
    pub fn starting_at(base: Instant) -> Self {
        Clock::new(StdInstant::now(), base)
    }

    /// The ballot time of the real instant `t` (clamped to the origin if earlier).
    pub fn at(&self, t: StdInstant) -> Instant {
        self.base + t.saturating_duration_since(self.origin)
    }

    /// The ballot time now, from `std::time::Instant::now()`.
    pub fn now(&self) -> Instant {
        self.at(StdInstant::now())
    }

    /// The real instant at which this clock reads `t` (far in the future if it
    /// cannot be represented).
    pub fn to_std(&self, t: Instant) -> StdInstant {
        let since = t.saturating_duration_since(self.base);
        self.origin
            .checked_add(since)
            .unwrap_or_else(|| self.origin + FAR)
    }

    /// How long from the real instant `now` until this clock reads `t` (zero if it
    /// already has).
    pub fn until(&self, t: Instant, now: StdInstant) -> Duration {
        self.to_std(t).saturating_duration_since(now)
    }

    /// How long from now until this clock reads `t` (zero if it already has).
    pub fn remaining(&self, t: Instant) -> Duration {
        self.until(t, StdInstant::now())
    }

    /// A stopwatch for measuring how long something took (persist latency).
    pub(crate) fn stopwatch() -> StdInstant {
        StdInstant::now()
    }

    /// Elapsed time since a [`Clock::stopwatch`] reading.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn elapsed(since: StdInstant) -> Duration {
        since.elapsed()
    }

    /// The ballot time of tokio's clock now (virtual under `start_paused`).
    #[cfg(feature = "tokio")]
    pub fn tokio_now(&self) -> Instant {
        self.at(tokio::time::Instant::now().into_std())
    }

    /// The tokio instant at which this clock reads `t`.
    #[cfg(feature = "tokio")]
    pub fn to_tokio(&self, t: Instant) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.to_std(t))
    }

    /// A clock reading `base` at tokio's now.
    #[cfg(feature = "tokio")]
    pub fn tokio_starting_at(base: Instant) -> Self {
        Clock::new(tokio::time::Instant::now().into_std(), base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_both_ways() {
        let origin = StdInstant::now();
        let c = Clock::new(origin, Instant::from_millis(500));
        assert_eq!(c.at(origin), Instant::from_millis(500));
        assert_eq!(
            c.at(origin + Duration::from_millis(20)),
            Instant::from_millis(520)
        );
        assert_eq!(
            c.to_std(Instant::from_millis(530)),
            origin + Duration::from_millis(30)
        );
        assert_eq!(c.to_std(Instant::ZERO), origin); // before the base: clamped
        assert!(c.to_std(Instant::MAX) > origin + Duration::from_secs(3600));
    }
}
