//! A compact, versioned binary encoding of [`Message`], for callers who do not
//! already have a serialization format.
//!
//! `Message` is a plain `Copy` enum, so any format works (derive your own wire
//! types, or use `Debug` in tests). This one needs no dependency, allocates nothing,
//! and its decoder turns any byte string into either a message or a typed
//! [`DecodeError`] — never a panic — so untrusted network input can be dropped and
//! counted.
//!
//! Layout, wire version 2 (integers little-endian):
//!
//! ```text
//! byte 0      version (high nibble, 2) | kind (low nibble: 1 VoteRequest,
//!             2 VoteResponse, 3 Heartbeat, 4 HeartbeatResponse, 5 TimeoutNow)
//! byte 1      flags: bit 0 pre_vote (vote messages), bit 1 granted (VoteResponse),
//!             bit 2 transfer (VoteRequest), bit 3 hand_over (Heartbeat),
//!             bit 4 witness (HeartbeatResponse); bits a kind does not define are 0
//! bytes 2-9   term
//! bytes 10-25 VoteRequest: freshness term, freshness index        (26 bytes)
//! bytes 10-17 Heartbeat, HeartbeatResponse: `sent` (nanoseconds)  (Heartbeat: 18 bytes)
//! bytes 18-33 HeartbeatResponse: freshness term, freshness index
//! byte 34     HeartbeatResponse: priority                         (35 bytes)
//!             VoteResponse and TimeoutNow end at byte 9            (10 bytes)
//! ```
//!
//! **Versions.** Version 2 added the heartbeat's `sent` instant (echoed by the
//! reply), which the [leader lease](crate::Election::lease) is built on, and
//! leadership transfer: the `TimeoutNow` kind, the vote request's transfer mark, the
//! heartbeat's hand-over announcement and the reply's standing (freshness,
//! priority, witness). A version-1 decoder rejects every version-2 frame with its
//! `UnsupportedVersion(2)` (so a new kind or field can never be misread by an old
//! node), and this decoder rejects version-1 frames with
//! [`DecodeError::UnsupportedVersion`]`(1)`
//! rather than guess: a version-1 node neither echoes send times nor keeps the
//! restart quarantine the lease's proof needs, so counting its replies would be
//! unsound, and a version-1 heartbeat has no send time to echo. Upgrade a cluster
//! from version 1 by stopping every node, upgrading, and starting them again; a node
//! on the other version sees only decode errors (dropped and counted by the
//! caller), which costs availability, never safety.

use core::fmt;
use core::ops::Deref;

use thiserror::Error;

use crate::{Freshness, Instant, Message, Term};

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
    /// A wire version this build does not speak (this build speaks version 2 only;
    /// version 1 is rejected too, see the [module docs](crate::wire)).
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
    /// The longest encoding (a heartbeat response): 35 bytes.
    pub const MAX_ENCODED_LEN: usize = 35;

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
        let (kind, flags, term) = match *self {
            Message::VoteRequest {
                term,
                pre_vote,
                transfer,
                freshness,
            } => {
                put_freshness(&mut bytes, 10, freshness);
                (1, flag(pre_vote, PRE_VOTE) | flag(transfer, TRANSFER), term)
            }
            Message::VoteResponse {
                term,
                pre_vote,
                granted,
            } => (2, flag(pre_vote, PRE_VOTE) | flag(granted, GRANTED), term),
            Message::Heartbeat {
                term,
                sent,
                hand_over,
            } => {
                bytes[10..18].copy_from_slice(&sent.as_nanos().to_le_bytes());
                (3, flag(hand_over, HAND_OVER), term)
            }
            Message::HeartbeatResponse {
                term,
                sent,
                freshness,
                priority,
                witness,
            } => {
                bytes[10..18].copy_from_slice(&sent.as_nanos().to_le_bytes());
                put_freshness(&mut bytes, 18, freshness);
                bytes[34] = priority;
                (4, flag(witness, WITNESS), term)
            }
            Message::TimeoutNow { term } => (5, 0, term),
        };
        bytes[0] = VERSION << 4 | kind;
        bytes[1] = flags;
        bytes[2..10].copy_from_slice(&term.get().to_le_bytes());
        Encoded {
            bytes,
            len: encoded_len(kind),
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
        if !(1..=5).contains(&kind) {
            return Err(DecodeError::UnknownKind(kind));
        }
        let expected = usize::from(encoded_len(kind));
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
        Ok(match kind {
            1 => Message::VoteRequest {
                term,
                pre_vote,
                transfer: flags & TRANSFER != 0,
                freshness: Freshness::new(u64_at(bytes, 10), u64_at(bytes, 18)),
            },
            2 => Message::VoteResponse {
                term,
                pre_vote,
                granted: flags & GRANTED != 0,
            },
            3 => Message::Heartbeat {
                term,
                sent: Instant::from_nanos(u64_at(bytes, 10)),
                hand_over: flags & HAND_OVER != 0,
            },
            4 => Message::HeartbeatResponse {
                term,
                sent: Instant::from_nanos(u64_at(bytes, 10)),
                freshness: Freshness::new(u64_at(bytes, 18), u64_at(bytes, 26)),
                priority: bytes.get(34).copied().unwrap_or(0),
                witness: flags & WITNESS != 0,
            },
            _ => Message::TimeoutNow { term },
        })
    }
}

/// The encoded length of a message of `kind` (1 to 5).
fn encoded_len(kind: u8) -> u8 {
    match kind {
        1 => 26,
        3 => 18,
        4 => 35,
        _ => 10,
    }
}

/// Writes `f` at `at..at + 16`.
fn put_freshness(bytes: &mut [u8; Message::MAX_ENCODED_LEN], at: usize, f: Freshness) {
    bytes[at..at + 8].copy_from_slice(&f.term.to_le_bytes());
    bytes[at + 8..at + 16].copy_from_slice(&f.index.to_le_bytes());
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
