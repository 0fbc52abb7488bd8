//! Transports: how nodes' messages travel (feature `std`).

#[cfg(feature = "auth")]
mod key;
pub mod udp;

#[cfg(feature = "auth")]
pub use key::{ClusterKey, KeyError};
pub use udp::{Dropped, Receiving, UdpConfig, UdpStats, UdpTransport};
