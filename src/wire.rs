//! A compact, versioned binary encoding of [`Message`], for callers who do not
//! already have a serialization format.
//!
//! `Message` is a plain `Copy` enum, so any format works (derive your own wire
//! types, or use `Debug` in tests). This one needs no dependency, allocates nothing,
//! and its decoder turns any byte string into either a message or a typed
//! [`DecodeError`] — never a panic — so untrusted network input can be dropped and
//! counted.
//!
//! Layout (integers little-endian), version 2:
//!
//! ```text
//! byte 0      version (high nibble, 2) | kind (low nibble: 1 VoteRequest,
//!             2 VoteResponse, 3 Heartbeat, 4 HeartbeatResponse, 5 TimeoutNow)
//! byte 1      flags: bit 0 pre_vote (vote messages), bit 1 granted (VoteResponse),
//!             bit 2 transfer (VoteRequest), bit 3 hand_over (Heartbeat),
//!             bit 4 witness (HeartbeatResponse); bits a kind does not define are 0
//! bytes 2-9   term
//! bytes 10-25 VoteRequest, HeartbeatResponse: freshness term, freshness index
//! byte 26     HeartbeatResponse: priority
//! ```
//!
//! Version 1 (no transfer mark, hand-over, standing or `TimeoutNow`) is not
//! decoded: a version-1 decoder rejects every version-2 message with
//! [`DecodeError::UnsupportedVersion`], and this one rejects version 1 the same way,
//! so a mixed-version cluster drops (and counts) the other side's messages rather
//! than misreading them. Upgrade every node together.

use core::fmt;
use core::ops::Deref;

use thiserror::Error;

use crate::{Freshness, Message, Term};

const VERSION: u8 = 2;
const PRE_VOTE: u8 = 1;
const GRANTED: u8 = 2;
const TRANSFER: u8 = 4;
const HAND_OVER: u8 = 8;
const WITNESS: u8 = 16;

/// Why bytes are not a [`Message`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// No bytes at all.
    #[error("empty message")]
    Empty,
    /// A wire version this build does not speak.
    #[error("unsupported wire version {0} (this build speaks version 2)")]
    UnsupportedVersion(u8),
    /// An unknown message kind.
    #[error("unknown message kind {0}")]
    UnknownKind(u8),
    /// Fewer or more bytes than the kind needs.
    #[error("a message of this kind is {expected} bytes long, got {got}")]
    WrongLength {
        /// Length the kind requires.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// Flag bits that this kind does not define.
    #[error("flag bits {0:#04x} are not defined for this kind")]
    BadFlags(u8),
}

/// An encoded message: at most [`Message::MAX_ENCODED_LEN`] bytes on the stack.
/// Dereferences to the bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encoded {
    bytes: [u8; Message::MAX_ENCODED_LEN],
    len: u8,
}

impl Deref for Encoded {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl AsRef<[u8]> for Encoded {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Message {
    /// The longest encoding (a heartbeat response): 27 bytes.
    pub const MAX_ENCODED_LEN: usize = 27;

    /// Encodes the message (see the [`wire`](crate::wire) layout).
    ///
    /// ```
    /// use ballot::{Freshness, Message, Term};
    /// let m = Message::VoteRequest {
    ///     term: Term(7),
    ///     pre_vote: true,
    ///     transfer: false,
    ///     freshness: Freshness::new(6, 42),
    /// };
    /// let bytes = m.encode();
    /// assert_eq!(bytes.len(), 26);
    /// assert_eq!(Message::decode(&bytes), Ok(m));
    /// assert!(Message::decode(&bytes[..9]).is_err()); // truncated: an error, not a panic
    /// ```
    pub fn encode(&self) -> Encoded {
        let mut bytes = [0u8; Message::MAX_ENCODED_LEN];
        let mut put_freshness = |f: Freshness| {
            bytes[10..18].copy_from_slice(&f.term.to_le_bytes());
            bytes[18..26].copy_from_slice(&f.index.to_le_bytes());
        };
        let (kind, flags, term) = match *self {
            Message::VoteRequest {
                term,
                pre_vote,
                transfer,
                freshness,
            } => {
                put_freshness(freshness);
                (1, flag(pre_vote, PRE_VOTE) | flag(transfer, TRANSFER), term)
            }
            Message::VoteResponse {
                term,
                pre_vote,
                granted,
            } => (2, flag(pre_vote, PRE_VOTE) | flag(granted, GRANTED), term),
            Message::Heartbeat { term, hand_over } => (3, flag(hand_over, HAND_OVER), term),
            Message::HeartbeatResponse {
                term,
                freshness,
                priority,
                witness,
            } => {
                put_freshness(freshness);
                bytes[26] = priority;
                (4, flag(witness, WITNESS), term)
            }
            Message::TimeoutNow { term } => (5, 0, term),
        };
        bytes[0] = VERSION << 4 | kind;
        bytes[1] = flags;
        bytes[2..10].copy_from_slice(&term.get().to_le_bytes());
        let len = length(kind).unwrap_or(10);
        Encoded {
            bytes,
            len: len as u8,
        }
    }

    /// Decodes bytes produced by [`Message::encode`]. Any other input gives a
    /// [`DecodeError`]; nothing panics.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        let (&head, _) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if head >> 4 != VERSION {
            return Err(DecodeError::UnsupportedVersion(head >> 4));
        }
        let kind = head & 0x0f;
        let expected = length(kind).ok_or(DecodeError::UnknownKind(kind))?;
        if bytes.len() != expected {
            return Err(DecodeError::WrongLength {
                expected,
                got: bytes.len(),
            });
        }
        let flags = bytes[1];
        let allowed = match kind {
            1 => PRE_VOTE | TRANSFER,
            2 => PRE_VOTE | GRANTED,
            3 => HAND_OVER,
            4 => WITNESS,
            _ => 0,
        };
        if flags & !allowed != 0 {
            return Err(DecodeError::BadFlags(flags & !allowed));
        }
        let term = Term(u64_at(bytes, 2));
        let pre_vote = flags & PRE_VOTE != 0;
        let freshness = Freshness::new(u64_at(bytes, 10), u64_at(bytes, 18));
        Ok(match kind {
            1 => Message::VoteRequest {
                term,
                pre_vote,
                transfer: flags & TRANSFER != 0,
                freshness,
            },
            2 => Message::VoteResponse {
                term,
                pre_vote,
                granted: flags & GRANTED != 0,
            },
            3 => Message::Heartbeat {
                term,
                hand_over: flags & HAND_OVER != 0,
            },
            4 => Message::HeartbeatResponse {
                term,
                freshness,
                priority: bytes.get(26).copied().unwrap_or(0),
                witness: flags & WITNESS != 0,
            },
            _ => Message::TimeoutNow { term },
        })
    }
}

/// The encoded length of a message of `kind`, or `None` for an unknown kind.
const fn length(kind: u8) -> Option<usize> {
    match kind {
        1 => Some(26),
        2 | 3 | 5 => Some(10),
        4 => Some(27),
        _ => None,
    }
}

fn flag(on: bool, bit: u8) -> u8 {
    if on { bit } else { 0 }
}

/// The little-endian `u64` at `at` (the caller has checked the length).
fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    if let Some(src) = bytes.get(at..at + 8) {
        word.copy_from_slice(src);
    }
    u64::from_le_bytes(word)
}
