//! The simulator's own random draws: one seeded ChaCha8 stream, integer math only.
//!
//! Every draw is integer arithmetic on the generator's 64-bit outputs (no `f64`, no
//! `ln`/`exp`), so a seed replays bit-identically on every machine and compiler.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// Parts per million: the unit of every probability in the simulator.
pub const PPM: u32 = 1_000_000;

/// The simulator's random stream.
#[derive(Clone, Debug)]
pub(crate) struct SimRng(ChaCha8Rng);

impl SimRng {
    /// A stream determined by `seed` alone.
    pub(crate) fn new(seed: u64) -> Self {
        SimRng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// 64 uniformly random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform draw in `[0, span)`; `span == 0` gives 0 (Lemire's multiply-shift).
    pub(crate) fn below(&mut self, span: u64) -> u64 {
        if span == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as u64
    }

    /// A uniform draw in `[lo, hi)`; `lo` when the range is empty.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo))
    }

    /// True with probability `ppm` parts per million. Draws nothing for 0 and for
    /// certainty, so turning a fault off does not shift the stream for the others.
    pub(crate) fn chance(&mut self, ppm: u32) -> bool {
        if ppm == 0 {
            false
        } else if ppm >= PPM {
            true
        } else {
            self.below(u64::from(PPM)) < u64::from(ppm)
        }
    }

    /// A draw of `-ln(U)` for `U` uniform in `(0, 1]`, in 16.16 fixed point: an
    /// exponential variate with mean 1 (`65_536`), computed with integers only.
    pub(crate) fn exp_q16(&mut self) -> u64 {
        // U = (x + 1) / 2^63 with x uniform in [0, 2^63).
        let x = (self.next_u64() >> 1) + 1;
        // -log2(U) = 63 - log2(x + 1), then * ln 2.
        let neg_log2 = (63u64 << 16) - log2_q16(x);
        // ln 2 in 0.32 fixed point.
        const LN2_Q32: u128 = 2_977_044_472;
        ((u128::from(neg_log2) * LN2_Q32) >> 32) as u64
    }
}

/// `log2(x)` for `x >= 1`, in 16.16 fixed point, by repeated squaring of the
/// normalised mantissa (exact integer arithmetic, rounded down).
pub(crate) fn log2_q16(x: u64) -> u64 {
    debug_assert!(x >= 1);
    let lz = x.leading_zeros();
    let int = u64::from(63 - lz);
    // The mantissa in [1, 2) as a 1.63 fixed-point number.
    let mut y = u128::from(x << lz);
    let mut frac = 0u64;
    for bit in (0..16).rev() {
        y = (y * y) >> 63;
        if y >= 1u128 << 64 {
            y >>= 1;
            frac |= 1 << bit;
        }
    }
    (int << 16) | frac
}

/// SplitMix64: a strong 64-bit mixer, used to derive independent seeds.
pub(crate) const fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_is_exact_on_powers_and_close_elsewhere() {
        assert_eq!(log2_q16(1), 0);
        assert_eq!(log2_q16(1024), 10 << 16);
        // log2(3) = 1.58496... => 103_872.6 in Q16.
        assert_eq!(log2_q16(3), 103_872);
    }

    #[test]
    fn exponential_draws_have_mean_one() {
        let mut rng = SimRng::new(7);
        let n = 20_000u64;
        let sum: u64 = (0..n).map(|_| rng.exp_q16()).sum();
        let mean = sum / n;
        // Mean 65_536 within 3 %.
        assert!((63_500..67_500).contains(&mean), "mean {mean}");
    }

    #[test]
    fn chance_respects_extremes() {
        let mut rng = SimRng::new(1);
        assert!(!(0..100).any(|_| rng.chance(0)));
        assert!((0..100).all(|_| rng.chance(PPM)));
        let hits = (0..10_000).filter(|_| rng.chance(250_000)).count();
        assert!((2_300..2_700).contains(&hits), "{hits}");
    }
}
