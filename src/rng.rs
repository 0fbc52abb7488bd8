//! The election-timeout random stream.

use core::fmt::{self, Write};

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// A node's private, seeded ChaCha8 stream, stored compactly.
///
/// Only the seed and the number of draws so far are kept (16 bytes instead of the
/// ~300-byte buffered generator); each draw re-creates the generator at the right
/// stream position. Draws happen only when an election timer is re-armed with a
/// fresh duration (a role change or a fired timer), never per message, so the
/// extra block computation is off the hot path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeoutRng {
    seed: u64,
    draws: u64,
}

impl TimeoutRng {
    /// The stream for node `id` under the cluster-wide `seed`.
    pub(crate) fn new<I: fmt::Debug>(seed: u64, id: &I) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // `Debug` of a node id is stable for a given value; hashing it gives every node its
        // own stream without requiring `Hash` (whose output is not portable) on ids.
        let _ = write!(h, "{id:?}");
        TimeoutRng {
            seed: h.0,
            draws: 0,
        }
    }

    /// A uniform draw in `[0, span)`; `span == 0` gives 0.
    pub(crate) fn below(&mut self, span: u64) -> u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_word_pos(u128::from(self.draws) * 2);
        self.draws = self.draws.wrapping_add(1);
        let x = rng.next_u64();
        // Lemire's multiply-shift: integer only, so identical on every machine.
        ((u128::from(x) * u128::from(span)) >> 64) as u64
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
