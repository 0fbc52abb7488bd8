//! Moving [`Message`]s between nodes (feature `std`): the [`Transport`] trait a
//! driver sends through, the [`Inbox`] trait a transport delivers into, the
//! in-process [`channel`] transport and the [`udp`] transport.
//!
//! ```text
//!  driver ──Transport::send(to, message)──▶ your network ──▶ Inbox::deliver(from, message) ──▶ driver of `to`
//! ```
//!
//! Both halves are small on purpose so that any network stack fits: implement
//! [`Transport`] for whatever sends bytes (a UDP socket, a TCP connection pool, a
//! message bus), and call [`Inbox::deliver`] on the receiving node's driver handle
//! from whatever receives them (a thread, a task). Both drivers' handles implement
//! [`Inbox`], so one transport serves the thread and the tokio driver alike.
//!
//! **Sending is best effort.** Raft tolerates lost messages; a [`SendError`] is
//! counted in the driver's stats (and logged with the `tracing` feature) and never
//! stops the node. A transport must not block for long in [`Transport::send`]: the
//! node's timers wait while it runs.
//!
//! **The sender's id is the transport's promise.** [`Inbox::deliver`]'s `from` is
//! what the node believes; a transport open to untrusted hosts must authenticate it
//! (a forged heartbeat with a huge term can wedge a cluster).

use thiserror::Error;

use crate::Message;

pub mod channel;
#[cfg(feature = "auth")]
mod key;
pub mod udp;

#[cfg(feature = "auth")]
pub use key::{ClusterKey, KeyError};
pub use udp::{Dropped, Receiving, UdpConfig, UdpStats, UdpTransport};

/// The sending half of a network, as a driver uses it.
pub trait Transport<I>: Send + 'static {
    /// Sends `message` to node `to`, best effort, without blocking for long.
    fn send(&mut self, to: I, message: Message) -> Result<(), SendError>;
}

/// Where a transport delivers what it received: a node's driver handle
/// ([`driver::thread::Handle`](crate::driver::thread::Handle) and, with the `tokio`
/// feature, `driver::tokio::Handle` implement it).
pub trait Inbox<I>: Send + Sync + 'static {
    /// Hands `message` from node `from` to the node, without blocking. An error says
    /// the message was not taken (the node's queue is full, or it has stopped).
    fn deliver(&self, from: I, message: Message) -> Result<(), SendError>;
}

/// Why a message was not sent or not taken. Counted, never fatal.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[non_exhaustive]
pub enum SendError {
    /// The transport knows no route to the recipient.
    #[error("no route to the recipient (unknown node)")]
    UnknownPeer,
    /// The link to the recipient is down (a partition, in tests).
    #[error("the link to the recipient is down")]
    LinkDown,
    /// The recipient's queue is full; the message was dropped.
    #[error("the recipient's queue is full")]
    Full,
    /// The recipient has stopped.
    #[error("the recipient has stopped")]
    Stopped,
    /// The operating system refused the send.
    #[error("the send failed: {0}")]
    Io(std::io::ErrorKind),
}
