//! A versioned transport frame around a [`Message`]: magic and version, cluster id,
//! sender and recipient ids, the message, and an optional authentication tag.
//!
//! [`Message`] carries no ids (the transport supplies the sender), so a datagram
//! transport needs an envelope. This one allocates nothing beyond the caller's
//! buffer, and its decoder turns any byte string into a [`Received`] frame or a
//! typed [`FrameError`] — never a panic — so a transport can drop and count garbage.
//!
//! Layout (integers little-endian, `L` = [`IdBytes::LEN`] of the id type):
//!
//! ```text
//! bytes 0-1        magic "BL"
//! byte  2          frame version (1)
//! byte  3          flags: bit 0 = a tag follows the message; other bits must be 0
//! bytes 4-11       cluster id
//! byte  12         L, the length of each id
//! 13 .. 13+L       sender id
//! 13+L .. 13+2L    recipient id
//! then             the message, as Message::encode (10 or 26 bytes)
//! then             if flagged: a TAG_LEN-byte authentication tag over every byte before it
//! ```
//!
//! The recipient is part of the frame so that an authenticated frame cannot be
//! redirected: a vote granted to one candidate, captured and sent on to another,
//! would otherwise count for both. The tag slot is filled and checked by the
//! transport (see the `auth` feature of the UDP transport); this module only places
//! it and hands back the bytes it covers.
//!
//! ```
//! use ballot::frame::{Frame, FrameError};
//! use ballot::{Message, Term};
//!
//! let frame = Frame { cluster: 7, from: 1u64, to: 2u64, message: Message::Heartbeat { term: Term(3), sent: ballot::Instant::ZERO, hand_over: false } };
//! let mut buf = Vec::new();
//! frame.encode(&mut buf);
//! let got = Frame::<u64>::decode(&buf).unwrap();
//! assert_eq!(got.frame, frame);
//! assert_eq!(got.tag, None);
//! assert!(matches!(Frame::<u64>::decode(&buf[..12]), Err(FrameError::TooShort { .. })));
//! assert!(matches!(Frame::<u32>::decode(&buf), Err(FrameError::IdLength { .. }))); // other id type
//! ```

use alloc::vec::Vec;

use thiserror::Error;

use crate::{DecodeError, IdBytes, Message};

/// The two bytes every frame starts with.
pub const MAGIC: [u8; 2] = *b"BL";
/// The frame version this build writes and reads.
pub const VERSION: u8 = 1;
/// The length of the optional authentication tag.
pub const TAG_LEN: usize = 32;
/// Bytes before the ids: magic, version, flags, cluster id, id length.
pub const HEADER_LEN: usize = 13;

const TAGGED: u8 = 1;

/// One message with its envelope.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Frame<I> {
    /// The cluster this frame belongs to; receivers drop frames of other clusters.
    pub cluster: u64,
    /// The sender's node id.
    pub from: I,
    /// The recipient's node id.
    pub to: I,
    /// The message.
    pub message: Message,
}

/// A decoded frame, with its tag (if any) and the bytes the tag covers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Received<'a, I> {
    /// The frame.
    pub frame: Frame<I>,
    /// The authentication tag, when the frame carries one.
    pub tag: Option<&'a [u8; TAG_LEN]>,
    /// Every byte before the tag: what the tag authenticates.
    pub covered: &'a [u8],
}

/// Why bytes are not a [`Frame`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Fewer bytes than the smallest possible frame.
    #[error("a frame is at least {min} bytes long, got {got}")]
    TooShort {
        /// The smallest possible length for this id type.
        min: usize,
        /// Length received.
        got: usize,
    },
    /// The first two bytes are not [`MAGIC`]: not a ballot frame.
    #[error("not a ballot frame (bad magic)")]
    BadMagic,
    /// A frame version this build does not speak.
    #[error("unsupported frame version {0} (this build speaks version 1)")]
    UnsupportedVersion(u8),
    /// Flag bits that are not defined.
    #[error("undefined frame flag bits {0:#04x}")]
    BadFlags(u8),
    /// The ids are of another length than this node's id type.
    #[error("node ids in the frame are {got} bytes long, this node's are {expected}")]
    IdLength {
        /// [`IdBytes::LEN`] of this node's id type.
        expected: usize,
        /// The id length the frame declares.
        got: usize,
    },
    /// An id's bytes are not a valid id.
    #[error("an id in the frame is not a valid node id")]
    BadId,
    /// The message inside the frame does not decode.
    #[error("bad message in frame: {0}")]
    Message(#[from] DecodeError),
}

impl<I: IdBytes> Frame<I> {
    /// The shortest valid frame for this id type (a 10-byte message, no tag).
    pub const MIN_LEN: usize = HEADER_LEN + 2 * I::LEN + 10;
    /// The longest valid frame for this id type (a 26-byte message and a tag).
    pub const MAX_LEN: usize = HEADER_LEN + 2 * I::LEN + Message::MAX_ENCODED_LEN + TAG_LEN;

    /// Writes the frame without a tag into `out` (cleared first).
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.write(out, 0);
    }

    /// Writes the frame with a tag into `out` (cleared first): `tag` is called with
    /// every byte before the tag (flags included, so stripping the tag is detected)
    /// and its result is appended.
    pub fn encode_tagged(&self, out: &mut Vec<u8>, tag: impl FnOnce(&[u8]) -> [u8; TAG_LEN]) {
        self.write(out, TAGGED);
        let tag = tag(out);
        out.extend_from_slice(&tag);
    }

    fn write(&self, out: &mut Vec<u8>, flags: u8) {
        out.clear();
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(flags);
        out.extend_from_slice(&self.cluster.to_le_bytes());
        // Id types are small (an integer or a UUID); a longer one is written with
        // a length byte that wraps, and its frames then fail to decode (`IdLength`).
        out.push(I::LEN as u8);
        let at = out.len();
        out.resize(at + 2 * I::LEN, 0);
        self.from.write_bytes(&mut out[at..at + I::LEN]);
        self.to.write_bytes(&mut out[at + I::LEN..]);
        out.extend_from_slice(&self.message.encode());
    }

    /// Decodes a frame. Any byte string gives a frame or a [`FrameError`]; nothing
    /// panics. The caller checks the cluster, the ids and the tag.
    pub fn decode(bytes: &[u8]) -> Result<Received<'_, I>, FrameError> {
        if bytes.len() < Self::MIN_LEN {
            // Say what is wrong with the header if enough of it is there.
            if bytes.len() >= HEADER_LEN {
                check_header(bytes, I::LEN)?;
            }
            return Err(FrameError::TooShort {
                min: Self::MIN_LEN,
                got: bytes.len(),
            });
        }
        let tagged = check_header(bytes, I::LEN)?;
        let cluster = u64::from_le_bytes(bytes[4..12].try_into().unwrap_or_default());
        let ids = HEADER_LEN..HEADER_LEN + 2 * I::LEN;
        let (from, to) = bytes[ids.clone()].split_at(I::LEN);
        let from = I::read_bytes(from).ok_or(FrameError::BadId)?;
        let to = I::read_bytes(to).ok_or(FrameError::BadId)?;
        let (covered, tag) = if tagged {
            let split = bytes.len().saturating_sub(TAG_LEN).max(ids.end);
            let (covered, tag) = bytes.split_at(split);
            let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| FrameError::TooShort {
                min: Self::MIN_LEN + TAG_LEN,
                got: bytes.len(),
            })?;
            (covered, Some(tag))
        } else {
            (bytes, None)
        };
        let message = Message::decode(&covered[ids.end..])?;
        Ok(Received {
            frame: Frame {
                cluster,
                from,
                to,
                message,
            },
            tag,
            covered,
        })
    }
}

/// Checks magic, version, flags and id length; returns whether a tag follows.
fn check_header(bytes: &[u8], id_len: usize) -> Result<bool, FrameError> {
    if bytes[..2] != MAGIC {
        return Err(FrameError::BadMagic);
    }
    if bytes[2] != VERSION {
        return Err(FrameError::UnsupportedVersion(bytes[2]));
    }
    if bytes[3] & !TAGGED != 0 {
        return Err(FrameError::BadFlags(bytes[3] & !TAGGED));
    }
    if usize::from(bytes[12]) != id_len {
        return Err(FrameError::IdLength {
            expected: id_len,
            got: usize::from(bytes[12]),
        });
    }
    Ok(bytes[3] & TAGGED != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Freshness, Term};

    fn sample() -> Frame<u64> {
        Frame {
            cluster: 0xfeed,
            from: 1,
            to: 2,
            message: Message::VoteRequest {
                term: Term(9),
                pre_vote: true,
                transfer: false,
                freshness: Freshness::new(1, 2),
            },
        }
    }

    #[test]
    fn round_trips_with_and_without_tag() {
        let mut buf = Vec::new();
        sample().encode(&mut buf);
        assert_eq!(buf.len(), HEADER_LEN + 16 + 26);
        let got = Frame::<u64>::decode(&buf).unwrap();
        assert_eq!(
            (got.frame, got.tag, got.covered),
            (sample(), None, &buf[..])
        );

        sample().encode_tagged(&mut buf, |covered| [covered.len() as u8; TAG_LEN]);
        assert_eq!(buf.len(), HEADER_LEN + 16 + 26 + TAG_LEN);
        assert!(buf.len() <= Frame::<u64>::MAX_LEN);
        let got = Frame::<u64>::decode(&buf).unwrap();
        assert_eq!(got.frame, sample());
        assert_eq!(got.tag, Some(&[(buf.len() - TAG_LEN) as u8; TAG_LEN]));
        assert_eq!(got.covered, &buf[..buf.len() - TAG_LEN]);
    }

    #[test]
    fn every_truncation_and_header_byte_change_is_an_error_or_a_different_frame() {
        let mut buf = Vec::new();
        sample().encode_tagged(&mut buf, |_| [7; TAG_LEN]);
        for len in 0..buf.len() {
            assert!(Frame::<u64>::decode(&buf[..len]).is_err(), "len {len}");
        }
        for at in 0..HEADER_LEN {
            let mut bad = buf.clone();
            bad[at] ^= 0x80;
            // The cluster id is free-form; every other header byte is checked.
            let res = Frame::<u64>::decode(&bad);
            if (4..12).contains(&at) {
                assert_ne!(res.unwrap().frame, sample());
            } else {
                assert!(res.is_err(), "byte {at}");
            }
        }
    }
}
