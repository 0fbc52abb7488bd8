//! Durable storage of a node's [`HardState`]: the [`Store`] trait, a crash-safe
//! [`FileStore`] and an in-memory [`MemoryStore`] for tests (feature `std`).
//!
//! A store holds one record: the last [`HardState`] made durable. The drivers call
//! [`Store::save`] for every [`Output::Persist`](crate::Output::Persist) and act on
//! the outputs behind it only once it returned `Ok`; on restart pass
//! [`Store::load`] to [`Election::new`](crate::Election::new).
//!
//! **A damaged record is an error, never `None`.** `None` means "this node never
//! voted": starting from it after losing a record would let the node vote a second
//! time in a term it already voted in. So [`FileStore::load`] answers `None` only
//! when there is no file, and a typed [`StoreError`] naming the file and the damage
//! for anything else (truncated, wrong checksum, another format version, another
//! node's file). Repair or remove the file by hand, knowing what that risks.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use crate::HardState;

mod file;
mod memory;

pub use file::{FORMAT_VERSION, FileStore};
pub use memory::MemoryStore;

/// Where a node's [`HardState`] is kept durably.
///
/// `Send + 'static` so a driver can move it to its writer thread.
pub trait Store<I>: Send + 'static {
    /// The last record saved, or `None` if nothing was ever saved. Anything that is
    /// there but unreadable is an error, never `None`.
    fn load(&mut self) -> Result<Option<HardState<I>>, StoreError>;

    /// Makes `hard_state` durable, replacing the previous record atomically: after a
    /// crash at any point, [`Store::load`] returns either the old record or the new
    /// one, never a mix and never nothing. Returns only once it is durable.
    fn save(&mut self, hard_state: &HardState<I>) -> Result<(), StoreError>;
}

/// A store that could not read or write its record.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading the state file failed.
    #[error("cannot read the state file {}: {source}", path.display())]
    Read {
        /// The state file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// Writing, flushing or renaming the state file failed. The previous record is
    /// still in place.
    #[error("cannot write the state file {}: {source}", path.display())]
    Write {
        /// The file that was being written (the temporary file or the directory).
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The state file exists but cannot be trusted.
    #[error("the state file {} is unusable: {damage}", path.display())]
    Damaged {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        damage: Damage,
    },
    /// A store that is not a file failed (a test store, a database).
    #[error("the store failed: {0}")]
    Other(&'static str),
}

/// What is wrong with a state file.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[non_exhaustive]
pub enum Damage {
    /// The file has the wrong length (truncated, or something appended).
    #[error("it is {found} bytes long, a record is {expected} bytes (truncated or overwritten)")]
    Length {
        /// The length of a record.
        expected: usize,
        /// The file's length.
        found: usize,
    },
    /// It does not start with the record's magic bytes: not a ballot state file.
    #[error("it does not start with the ballot state-file magic bytes")]
    Magic,
    /// It was written in another format version.
    #[error("it is in format version {found}; this version of ballot reads version {supported}")]
    Version {
        /// The file's version.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// Its node-id length differs from this node's id type.
    #[error("it holds {found}-byte node ids; this node's ids are {expected} bytes")]
    IdLength {
        /// The id length of this node's id type.
        expected: usize,
        /// The id length in the file.
        found: usize,
    },
    /// The checksum does not match the contents: the file was damaged.
    #[error("the checksum does not match (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum {
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the contents.
        computed: u32,
    },
    /// It was written by another node.
    #[error("it belongs to another node (its node id differs from this node's)")]
    OtherNode,
    /// A field holds a value no writer produces (a vote flag other than 0 or 1, an
    /// id its type cannot decode).
    #[error("the {0} field holds an impossible value")]
    Field(&'static str),
}
