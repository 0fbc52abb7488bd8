//! The shared cluster key for authenticated frames (feature `auth`).

use std::borrow::ToOwned;
use std::boxed::Box;
use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A 32-byte secret shared by every node of a cluster. With it, the UDP transport
/// tags every frame with a keyed BLAKE3 MAC and drops frames whose tag is missing
/// or wrong.
///
/// The key is written as 64 hexadecimal digits (surrounding whitespace is ignored),
/// e.g. made with `openssl rand -hex 32 > cluster.key`. `Debug` never prints it.
///
/// ```
/// use ballot::transport::ClusterKey;
/// let key = ClusterKey::from_hex(&"ab".repeat(32)).unwrap();
/// assert!(ClusterKey::from_hex("abc").is_err());
/// assert_eq!(format!("{key:?}"), "ClusterKey(..)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterKey(pub(crate) [u8; 32]);

/// Why a key could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not 64 hexadecimal digits.
    #[error("a cluster key is 64 hexadecimal digits (32 bytes), got {0} characters")]
    BadLength(usize),
    /// A character that is not a hexadecimal digit.
    #[error("a cluster key is 64 hexadecimal digits; found a non-hex character")]
    NotHex,
    /// The key file could not be read.
    #[error("cannot read key file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The key file does not hold a key.
    #[error("key file {}: {source}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with its contents.
        #[source]
        source: Box<KeyError>,
    },
}

impl ClusterKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ClusterKey(bytes)
    }

    /// Parses 64 hexadecimal digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(KeyError::BadLength(text.chars().count()));
        }
        let mut key = [0u8; 32];
        for (byte, pair) in key.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| KeyError::NotHex)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| KeyError::NotHex)?;
        }
        Ok(ClusterKey(key))
    }

    /// Reads a key file (64 hexadecimal digits); errors name the file.
    pub fn read_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_hex(&text).map_err(|e| KeyError::BadFile {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// The MAC key actually used for frames: derived from the cluster key with a
    /// fixed context, so the same secret used elsewhere never yields the same tags.
    pub(crate) fn frame_mac_key(&self) -> [u8; 32] {
        blake3::derive_key("ballot 2026 udp frame mac v1", &self.0)
    }
}

impl fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterKey(..)")
    }
}
