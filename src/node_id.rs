//! What a node identifier must be.

use core::fmt::Debug;

/// A node identifier: any small, copyable, totally ordered value (`u64`, `u32`, a
/// newtype, a `[u8; 16]` UUID, ...).
///
/// `Hash` is deliberately not required: `ballot` keeps members in sorted vectors so
/// that iteration order, and therefore every output, is deterministic. `Debug` is
/// used in error messages and to derive each node's private random stream from
/// [`Config::seed`](crate::Config::seed), so it must be stable for a given value
/// (derived `Debug` always is).
///
/// Implemented automatically for every type that qualifies.
pub trait NodeId: Copy + Ord + Debug {}

impl<T: Copy + Ord + Debug> NodeId for T {}
