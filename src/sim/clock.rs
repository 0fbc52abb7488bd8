//! Per-node clocks: a constant offset and a constant rate error (drift).
//!
//! Global simulated time `g` (nanoseconds since the start) maps to a node's local
//! time as `offset + ⌊g × rate / 10⁶⌋`, where `rate = 10⁶ + drift_ppm`. The map is
//! monotonic (the rate is always positive), so local time never goes backwards. A
//! node's local deadline `d` maps back to the **earliest** global time whose local
//! time is `≥ d`, so a wake-up never comes before the node's own deadline.

use super::PPM;
use super::rng::SimRng;
use crate::Instant;

/// One node's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Clock {
    offset: u64,
    /// Local nanoseconds per 10⁶ global nanoseconds.
    rate: u64,
}

impl Clock {
    /// A perfect clock: local time equals global time.
    pub(crate) const PERFECT: Clock = Clock {
        offset: 0,
        rate: PPM as u64,
    };

    /// A clock with offset in `[0, max_offset]` and drift in `±max_drift_ppm`
    /// (capped at ±50 %).
    pub(crate) fn random(rng: &mut SimRng, max_offset: u64, max_drift_ppm: u32) -> Clock {
        let max_drift = u64::from(max_drift_ppm.min(PPM / 2));
        let offset = rng.range(0, max_offset.saturating_add(1));
        let drift = rng.range(0, 2 * max_drift + 1);
        Clock {
            offset,
            rate: u64::from(PPM) - max_drift + drift,
        }
    }

    /// The largest per-node drift `d` (ppm, either way) such that any two clocks
    /// drawn within `±d` run at rates that differ by at most the factor
    /// `1 + bound_ppm / 10⁶`: `(10⁶ + d) / (10⁶ - d) ≤ 1 + bound/10⁶`, i.e.
    /// `d ≤ bound·10⁶ / (2·10⁶ + bound)`.
    pub(crate) fn within_bound(bound_ppm: u32) -> u32 {
        let bound = u64::from(bound_ppm);
        let ppm = u64::from(PPM);
        u32::try_from(bound * ppm / (2 * ppm + bound)).unwrap_or(u32::MAX)
    }

    /// A clock with the given origin offset and drift (capped at ±50 %).
    pub(crate) fn new(offset: u64, drift_ppm: i32) -> Clock {
        let cap = i64::from(PPM / 2);
        let drift = i64::from(drift_ppm).clamp(-cap, cap);
        Clock {
            offset,
            rate: (i64::from(PPM) + drift) as u64,
        }
    }

    /// The node's local time at global time `global`.
    pub(crate) fn local(&self, global: u64) -> Instant {
        let scaled = u128::from(global) * u128::from(self.rate) / u128::from(PPM);
        let scaled = u64::try_from(scaled).unwrap_or(u64::MAX);
        Instant::from_nanos(self.offset.saturating_add(scaled))
    }

    /// The earliest global time at which local time has reached `deadline`.
    pub(crate) fn global(&self, deadline: Instant) -> u64 {
        let d = deadline.as_nanos();
        if d <= self.offset {
            return 0;
        }
        let want = u128::from(d - self.offset) * u128::from(PPM);
        let g = want.div_ceil(u128::from(self.rate));
        u64::try_from(g).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_up_is_never_before_the_local_deadline_and_never_late() {
        let mut rng = SimRng::new(3);
        for _ in 0..200 {
            let clock = Clock::random(&mut rng, 1_000_000_000, 20_000);
            for _ in 0..50 {
                let deadline = Instant::from_nanos(rng.range(0, 10_000_000_000));
                let g = clock.global(deadline);
                assert!(clock.local(g) >= deadline || g == u64::MAX);
                if g > 0 {
                    assert!(clock.local(g - 1) < deadline);
                }
            }
        }
    }

    #[test]
    fn clocks_within_the_bound_keep_the_lease_assumption() {
        for bound in [0, 1, 999, 10_000, 50_000] {
            let d = u64::from(Clock::within_bound(bound));
            let ppm = u64::from(PPM);
            // fastest / slowest <= 1 + bound / 10^6, in integers.
            assert!((ppm + d) * ppm <= (ppm - d) * (ppm + u64::from(bound)));
            // and one more ppm would not be.
            let e = d + 1;
            assert!((ppm + e) * ppm > (ppm - e) * (ppm + u64::from(bound)));
        }
    }

    #[test]
    fn perfect_clock_is_identity() {
        let c = Clock::PERFECT;
        assert_eq!(c.local(12_345), Instant::from_nanos(12_345));
        assert_eq!(c.global(Instant::from_nanos(12_345)), 12_345);
    }
}
