//! The election-timeout random stream.

use core::fmt::{self, Write};

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// Position in a node's private ChaCha8 stream.
///
/// The stream is keyed by the cluster-wide [`Config::seed`](crate::Config::seed)
/// mixed with the node id, so every node draws differently from one shared seed.
/// Only the number of draws so far is stored, in 16 bits (instead of the ~300-byte
/// buffered generator): each draw re-creates the generator at the right position.
/// After 65,536 draws the node's sequence of timeouts repeats; other nodes' streams
/// are unrelated, so nodes never fall into step because of it.
/// Draws happen only when an election timer is re-armed with a fresh duration (a
/// new election round, an idle timer firing, a leader stepping down), never per message, so that cost is off the hot
/// path.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimeoutRng {
    draws: u16,
}

impl TimeoutRng {
    /// The next draw of node `id`'s stream under `seed`: a uniform 16-bit fraction
    /// (`x / 2^16`) to scale onto the timeout range with [`scale`]. Sixteen bits give
    /// a resolution of 1/65,536 of the range (2.3 µs for 150–300 ms), far below any
    /// network's jitter.
    pub(crate) fn next_fraction<I: fmt::Debug>(&mut self, seed: u64, id: &I) -> u16 {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // `Debug` of a node id is stable for a given value; hashing it gives every node its
        // own stream without requiring `Hash` (whose output is not portable) on ids.
        let _ = write!(h, "{id:?}");
        let mut rng = ChaCha8Rng::seed_from_u64(h.0);
        rng.set_word_pos(u128::from(self.draws));
        self.draws = self.draws.wrapping_add(1);
        (rng.next_u32() >> 16) as u16
    }
}

/// `fraction / 2^16` of `span`: integer only, so identical on every machine.
pub(crate) fn scale(fraction: u16, span: u64) -> u64 {
    if span < 1 << 48 {
        // The product fits in 64 bits: the same value without 128-bit arithmetic.
        (u64::from(fraction) * span) >> 16
    } else {
        ((u128::from(fraction) * u128::from(span)) >> 16) as u64
    }
}

/// FNV-1a over the bytes written.
struct Fnv(u64);

impl Write for Fnv {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Ok(())
    }
}
