//! A fixed-size byte encoding of node ids, for the state file and the transport frame.

use crate::NodeId;

/// A [`NodeId`] with a fixed-size byte encoding, so it can be written into a state
/// file record or a network frame.
///
/// Implemented for the unsigned integers (little-endian) and for byte arrays
/// `[u8; N]` (as they are; a UUID is a `[u8; 16]`). Implement it for your own id
/// type if you use the adapters with one.
///
/// ```
/// use ballot::IdBytes;
/// let mut buf = [0u8; 8];
/// 7u64.write_bytes(&mut buf);
/// assert_eq!(u64::read_bytes(&buf), Some(7));
/// assert_eq!(u64::read_bytes(&buf[..7]), None); // wrong length: no id, no panic
/// ```
pub trait IdBytes: NodeId {
    /// The encoded length in bytes.
    const LEN: usize;
    /// Writes the id into `out`, which must be exactly [`IdBytes::LEN`] bytes long
    /// (otherwise nothing is written).
    fn write_bytes(&self, out: &mut [u8]);
    /// Reads an id from exactly [`IdBytes::LEN`] bytes; `None` for any other length
    /// or an invalid encoding.
    fn read_bytes(bytes: &[u8]) -> Option<Self>;
}

macro_rules! int_id {
    ($($t:ty),*) => {$(
        impl IdBytes for $t {
            const LEN: usize = core::mem::size_of::<$t>();
            fn write_bytes(&self, out: &mut [u8]) {
                if out.len() == Self::LEN {
                    out.copy_from_slice(&self.to_le_bytes());
                }
            }
            fn read_bytes(bytes: &[u8]) -> Option<Self> {
                Some(<$t>::from_le_bytes(bytes.try_into().ok()?))
            }
        }
    )*};
}

int_id!(u8, u16, u32, u64, u128);

impl<const N: usize> IdBytes for [u8; N] {
    const LEN: usize = N;
    fn write_bytes(&self, out: &mut [u8]) {
        if out.len() == N {
            out.copy_from_slice(self);
        }
    }
    fn read_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::IdBytes;

    #[test]
    fn round_trips_and_rejects_wrong_lengths() {
        let mut b = [0u8; 16];
        let uuid = [9u8; 16];
        uuid.write_bytes(&mut b);
        assert_eq!(<[u8; 16]>::read_bytes(&b), Some(uuid));
        assert_eq!(<[u8; 16]>::read_bytes(&b[..15]), None);
        let mut w = [0u8; 4];
        0xdead_beef_u32.write_bytes(&mut w);
        assert_eq!(u32::read_bytes(&w), Some(0xdead_beef));
        assert_eq!(u32::read_bytes(&[1, 2, 3, 4, 5]), None);
    }
}
