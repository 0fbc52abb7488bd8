//! A UDP transport: one socket per node, one [`Frame`] per datagram.
//!
//! Peers are configured as id → address. A datagram is accepted only if it is a
//! well-formed frame of this frame version and cluster, from a configured peer,
//! sent from that peer's configured address, addressed to this node, and — when a
//! shared cluster key is set (`ClusterKey`, feature `auth`) — carries a valid tag.
//! Everything else is dropped and counted in [`UdpStats`]; nothing panics.
//!
//! # Without a key, anyone who can reach the port controls the cluster
//!
//! The source-address check stops accidents (a misconfigured node, another
//! cluster on the same ports), not attackers: UDP source addresses are trivially
//! forged. Without the `auth` feature and a shared key, **any host that can send
//! one datagram to one node can wedge the whole cluster for good**: a forged
//! `Heartbeat` with term `u64::MAX` makes the node adopt that term, its replies
//! carry the term to every other node, and no node can ever campaign past it
//! (`CommandError::TermExhausted`): no leader, ever, until every state file is
//! reset. `tests/udp_attack.rs` shows it happening without a key and failing
//! with one. Run without a key only on a network where every host is trusted.
//!
//! With a key, every frame carries a keyed BLAKE3 MAC over all of its bytes (the
//! cluster id, both ids and the message included), so a frame can be neither
//! forged nor redirected to another recipient. Replaying a captured frame to its
//! own recipient is possible; to Raft it is a duplicated message, which the
//! protocol tolerates (and the simulator tests).

use std::collections::BTreeMap;
use std::fmt;
use std::format;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::vec::Vec;

use thiserror::Error;

use super::{Inbox, SendError, Transport};
use crate::frame::{Frame, FrameError};
use crate::{DecodeError, IdBytes, Message};

#[cfg(feature = "auth")]
use super::ClusterKey;

/// The largest datagram the receive loop reads; larger ones are malformed.
const RECV_BUF: usize = 1024;

/// How a node's UDP transport is set up.
///
/// ```
/// use ballot::transport::{UdpConfig, UdpTransport};
/// let config = UdpConfig::new(1u64, 0xba11_07)
///     .peer(2, "127.0.0.1:7002".parse().unwrap())
///     .peer(3, "127.0.0.1:7003".parse().unwrap());
/// let transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap(), config).unwrap();
/// assert_eq!(transport.stats().dropped(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct UdpConfig<I> {
    id: I,
    cluster: u64,
    peers: BTreeMap<I, SocketAddr>,
    #[cfg(feature = "auth")]
    key: Option<ClusterKey>,
}

impl<I: IdBytes> UdpConfig<I> {
    /// Node `id` of cluster `cluster` (any number the nodes agree on; frames of
    /// other clusters are dropped).
    pub fn new(id: I, cluster: u64) -> Self {
        UdpConfig {
            id,
            cluster,
            peers: BTreeMap::new(),
            #[cfg(feature = "auth")]
            key: None,
        }
    }

    /// Adds (or replaces) a peer's address. An entry for this node's own id is
    /// ignored: frames claiming to come from this node are always dropped.
    pub fn peer(mut self, id: I, addr: SocketAddr) -> Self {
        if id != self.id {
            self.peers.insert(id, addr);
        }
        self
    }

    /// Adds several peers (see [`UdpConfig::peer`]).
    pub fn peers(self, peers: impl IntoIterator<Item = (I, SocketAddr)>) -> Self {
        peers
            .into_iter()
            .fold(self, |c, (id, addr)| c.peer(id, addr))
    }

    /// Authenticates every frame with the shared cluster key (feature `auth`).
    /// Every node of the cluster must use the same key.
    #[cfg(feature = "auth")]
    pub fn key(mut self, key: ClusterKey) -> Self {
        self.key = Some(key);
        self
    }
}

/// Why a datagram was dropped (one counter in [`UdpStats`] each; the tag cases
/// share `bad_tag`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[non_exhaustive]
pub enum Dropped {
    /// Not a well-formed frame.
    #[error("malformed frame: {0}")]
    Malformed(FrameError),
    /// A frame or message version this build does not speak.
    #[error("unsupported version: {0}")]
    BadVersion(FrameError),
    /// A frame of another cluster.
    #[error("frame of cluster {0:#x}, not ours")]
    WrongCluster(u64),
    /// A key is set and the frame has no tag.
    #[error("frame without an authentication tag")]
    MissingTag,
    /// A key is set and the tag is wrong: forged, corrupted, or another key.
    #[error("frame with a wrong authentication tag")]
    BadTag,
    /// No key is set and the frame has a tag (a node configured with a key?).
    #[error("frame with a tag, but this node has no key")]
    UnexpectedTag,
    /// The sender id is not a configured peer (or is this node's own id).
    #[error("frame from an unknown sender")]
    UnknownSender,
    /// The datagram came from another address than the sender's configured one.
    #[error("frame from an address that is not the sender's")]
    WrongAddress,
    /// The frame is addressed to another node.
    #[error("frame addressed to another node")]
    WrongRecipient,
}

/// What a [`UdpTransport`] has sent, accepted and dropped (a snapshot).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct UdpStats {
    /// Frames sent.
    pub sent: u64,
    /// Sends that failed (the socket returned an error, or no address for the id).
    pub send_errors: u64,
    /// Frames accepted and handed on.
    pub received: u64,
    /// Dropped: not a well-formed frame.
    pub malformed: u64,
    /// Dropped: another frame or message version.
    pub bad_version: u64,
    /// Dropped: another cluster id.
    pub wrong_cluster: u64,
    /// Dropped: missing, wrong or unexpected authentication tag.
    pub bad_tag: u64,
    /// Dropped: sender not a configured peer.
    pub unknown_sender: u64,
    /// Dropped: not from the sender's configured address.
    pub wrong_address: u64,
    /// Dropped: addressed to another node.
    pub wrong_recipient: u64,
    /// Accepted, but the node did not take it (its inbox was full).
    pub inbox_full: u64,
}

impl UdpStats {
    /// All datagrams dropped, for any reason.
    pub fn dropped(&self) -> u64 {
        self.malformed
            + self.bad_version
            + self.wrong_cluster
            + self.bad_tag
            + self.unknown_sender
            + self.wrong_address
            + self.wrong_recipient
    }
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    send_errors: AtomicU64,
    received: AtomicU64,
    malformed: AtomicU64,
    bad_version: AtomicU64,
    wrong_cluster: AtomicU64,
    bad_tag: AtomicU64,
    unknown_sender: AtomicU64,
    wrong_address: AtomicU64,
    wrong_recipient: AtomicU64,
    inbox_full: AtomicU64,
}

impl Counters {
    fn count_drop(&self, why: &Dropped) {
        let counter = match why {
            Dropped::Malformed(_) => &self.malformed,
            Dropped::BadVersion(_) => &self.bad_version,
            Dropped::WrongCluster(_) => &self.wrong_cluster,
            Dropped::MissingTag | Dropped::BadTag | Dropped::UnexpectedTag => &self.bad_tag,
            Dropped::UnknownSender => &self.unknown_sender,
            Dropped::WrongAddress => &self.wrong_address,
            Dropped::WrongRecipient => &self.wrong_recipient,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A node's UDP endpoint: sends [`Message`]s to peers by id and receives theirs,
/// dropping and counting everything else. Cheap to clone (clones share the socket
/// and the counters), so one clone can receive on a thread while others send.
pub struct UdpTransport<I> {
    inner: Arc<Inner<I>>,
}

struct Inner<I> {
    socket: UdpSocket,
    id: I,
    cluster: u64,
    peers: BTreeMap<I, SocketAddr>,
    mac_key: Option<[u8; 32]>,
    counters: Counters,
}

impl<I> Clone for UdpTransport<I> {
    fn clone(&self) -> Self {
        UdpTransport {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<I: fmt::Debug> fmt::Debug for UdpTransport<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpTransport")
            .field("id", &self.inner.id)
            .field("cluster", &self.inner.cluster)
            .field("local_addr", &self.inner.socket.local_addr().ok())
            .field("peers", &self.inner.peers)
            .field("authenticated", &self.inner.mac_key.is_some())
            .finish()
    }
}

impl<I: IdBytes> UdpTransport<I> {
    /// Binds a socket to `listen` (port 0 picks a free port; see
    /// [`UdpTransport::local_addr`]). Fails if the address cannot be bound or the
    /// id type's frames would not fit in a datagram buffer of 1024 bytes.
    pub fn bind(listen: SocketAddr, config: UdpConfig<I>) -> io::Result<Self> {
        Self::from_socket(UdpSocket::bind(listen)?, config)
    }

    /// Uses a socket that is already bound (e.g. bound first to learn its port).
    /// The socket must be in blocking mode for [`UdpTransport::recv`]. Fails if
    /// the id type is longer than 255 bytes or its frames would not fit in 1024.
    pub fn from_socket(socket: UdpSocket, config: UdpConfig<I>) -> io::Result<Self> {
        if Frame::<I>::MAX_LEN >= RECV_BUF || I::LEN > usize::from(u8::MAX) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "node ids are too long for a UDP frame",
            ));
        }
        #[cfg(feature = "auth")]
        let mac_key = config.key.as_ref().map(ClusterKey::frame_mac_key);
        #[cfg(not(feature = "auth"))]
        let mac_key = None;
        Ok(UdpTransport {
            inner: Arc::new(Inner {
                socket,
                id: config.id,
                cluster: config.cluster,
                peers: config.peers,
                mac_key,
                counters: Counters::default(),
            }),
        })
    }

    /// The address the socket is bound to (with the real port when bound to 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.socket.local_addr()
    }

    /// This node's id.
    pub fn id(&self) -> I {
        self.inner.id
    }

    /// The configured peers.
    pub fn peers(&self) -> &BTreeMap<I, SocketAddr> {
        &self.inner.peers
    }

    /// The socket, e.g. for `try_clone` into an async runtime.
    pub fn socket(&self) -> &UdpSocket {
        &self.inner.socket
    }

    /// The counters so far.
    pub fn stats(&self) -> UdpStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        UdpStats {
            sent: get(&c.sent),
            send_errors: get(&c.send_errors),
            received: get(&c.received),
            malformed: get(&c.malformed),
            bad_version: get(&c.bad_version),
            wrong_cluster: get(&c.wrong_cluster),
            bad_tag: get(&c.bad_tag),
            unknown_sender: get(&c.unknown_sender),
            wrong_address: get(&c.wrong_address),
            wrong_recipient: get(&c.wrong_recipient),
            inbox_full: get(&c.inbox_full),
        }
    }

    /// The datagram that carries `message` to `to` (tagged when a key is set).
    pub fn encode(&self, to: I, message: Message, out: &mut Vec<u8>) {
        let frame = Frame {
            cluster: self.inner.cluster,
            from: self.inner.id,
            to,
            message,
        };
        match self.inner.mac_key {
            Some(key) => frame.encode_tagged(out, |covered| mac(&key, covered)),
            None => frame.encode(out),
        }
    }

    /// Sends `message` to peer `to`. UDP is lossy: success means the datagram was
    /// handed to the operating system. Errors (no address configured for `to`, a
    /// socket error) are counted in [`UdpStats::send_errors`] and returned.
    pub fn send(&self, to: I, message: Message) -> io::Result<()> {
        let result = match self.inner.peers.get(&to) {
            Some(&addr) => {
                let mut buf = Vec::with_capacity(Frame::<I>::MAX_LEN);
                self.encode(to, message, &mut buf);
                self.inner.socket.send_to(&buf, addr).map(drop)
            }
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no address configured for node {to:?}"),
            )),
        };
        let counter = match result {
            Ok(()) => &self.inner.counters.sent,
            Err(_) => &self.inner.counters.send_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }

    /// Checks a datagram that arrived from `src`: the sender and message if it is
    /// acceptable, otherwise why not. Counts nothing (see [`UdpTransport::accept`]).
    pub fn check(&self, datagram: &[u8], src: SocketAddr) -> Result<(I, Message), Dropped> {
        let inner = &*self.inner;
        let got = Frame::<I>::decode(datagram).map_err(|e| match e {
            FrameError::UnsupportedVersion(_)
            | FrameError::Message(DecodeError::UnsupportedVersion(_)) => Dropped::BadVersion(e),
            _ => Dropped::Malformed(e),
        })?;
        let frame = got.frame;
        if frame.cluster != inner.cluster {
            return Err(Dropped::WrongCluster(frame.cluster));
        }
        match (inner.mac_key, got.tag) {
            (Some(key), Some(tag)) => {
                if !tag_matches(&key, got.covered, tag) {
                    return Err(Dropped::BadTag);
                }
            }
            (Some(_), None) => return Err(Dropped::MissingTag),
            (None, Some(_)) => return Err(Dropped::UnexpectedTag),
            (None, None) => {}
        }
        let addr = inner.peers.get(&frame.from).ok_or(Dropped::UnknownSender)?;
        if canonical(*addr) != canonical(src) {
            return Err(Dropped::WrongAddress);
        }
        if frame.to != inner.id {
            return Err(Dropped::WrongRecipient);
        }
        Ok((frame.from, frame.message))
    }

    /// [`UdpTransport::check`], counting the outcome in [`UdpStats`].
    pub fn accept(&self, datagram: &[u8], src: SocketAddr) -> Option<(I, Message)> {
        let counters = &self.inner.counters;
        match self.check(datagram, src) {
            Ok(got) => {
                counters.received.fetch_add(1, Ordering::Relaxed);
                Some(got)
            }
            Err(why) => {
                counters.count_drop(&why);
                trace_event!(debug, node = ?self.inner.id, %src, reason = %why, "udp: dropped a datagram");
                None
            }
        }
    }

    /// Blocks until an acceptable frame arrives and returns its sender and message;
    /// everything else is dropped and counted on the way. Returns an error only
    /// for a socket error (including the timeout, if one is set on
    /// [`UdpTransport::socket`]).
    pub fn recv(&self) -> io::Result<(I, Message)> {
        loop {
            if let Some(got) = self.recv_one(&AtomicBool::new(false))? {
                return Ok(got);
            }
        }
    }

    /// Reads datagrams until one is acceptable (`Some`) or `stop` is set (`None`,
    /// checked after every datagram, before it is counted).
    fn recv_one(&self, stop: &AtomicBool) -> io::Result<Option<(I, Message)>> {
        let mut buf = [0u8; RECV_BUF];
        loop {
            let got = self.inner.socket.recv_from(&mut buf);
            if stop.load(Ordering::Acquire) {
                return Ok(None);
            }
            let (len, src) = match got {
                Ok(got) => got,
                // An ICMP "port unreachable" for an earlier send (a peer is down):
                // not about this socket's health.
                Err(e) if transient(&e) => continue,
                Err(e) => return Err(e),
            };
            if let Some(got) = self.accept(&buf[..len], src) {
                return Ok(Some(got));
            }
        }
    }
}

impl<I: IdBytes + Send + Sync + 'static> UdpTransport<I> {
    /// Runs the receive loop on its own thread, calling `deliver(from, message)` for
    /// every accepted frame, until `deliver` returns `false`, the returned
    /// [`Receiving`] is stopped or dropped, or the socket fails.
    pub fn spawn_receiver(
        &self,
        mut deliver: impl FnMut(I, Message) -> bool + Send + 'static,
    ) -> io::Result<Receiving> {
        let stop = Arc::new(AtomicBool::new(false));
        let wake = (
            self.inner.socket.try_clone()?,
            wake_addr(self.local_addr()?),
        );
        let transport = self.clone();
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("ballot-udp-recv".into())
            .spawn(move || {
                while let Some((from, message)) = transport.recv_one(&stopped)? {
                    if !deliver(from, message) {
                        break;
                    }
                }
                Ok(())
            })?;
        Ok(Receiving {
            stop,
            wake,
            thread: Some(thread),
        })
    }
}

impl<I: IdBytes + Send + Sync + 'static> UdpTransport<I> {
    /// Runs the receive loop on its own thread and hands every accepted message to
    /// `inbox` — a driver's handle (thread or tokio: both implement [`Inbox`]).
    /// Stops when the node has stopped, or when the returned [`Receiving`] is
    /// stopped or dropped. A message the node's full inbox does not take is counted
    /// in [`UdpStats::inbox_full`].
    ///
    /// With the tokio driver this is the receive loop on a thread of its own (the
    /// socket blocks); the driver's task never waits on it.
    pub fn deliver_to(&self, inbox: impl Inbox<I>) -> io::Result<Receiving> {
        let transport = self.clone();
        self.spawn_receiver(move |from, message| match inbox.deliver(from, message) {
            Err(SendError::Stopped) => false,
            Err(_) => {
                let counters = &transport.inner.counters;
                counters.inbox_full.fetch_add(1, Ordering::Relaxed);
                true
            }
            Ok(()) => true,
        })
    }
}

/// Sending for the drivers: [`UdpTransport::send`], with errors as [`SendError`]
/// (no address for the node: [`SendError::UnknownPeer`]; a socket error:
/// [`SendError::Io`]). Never blocks for long: a UDP send only queues the datagram.
impl<I: IdBytes + Send + Sync + 'static> Transport<I> for UdpTransport<I> {
    fn send(&mut self, to: I, message: Message) -> Result<(), SendError> {
        UdpTransport::send(self, to, message).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => SendError::UnknownPeer,
            kind => SendError::Io(kind),
        })
    }
}

/// A running receive loop (see [`UdpTransport::spawn_receiver`]); stops on drop.
#[derive(Debug)]
pub struct Receiving {
    stop: Arc<AtomicBool>,
    /// The socket itself (a clone) and its own address, to wake the blocked receive.
    wake: (UdpSocket, SocketAddr),
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Receiving {
    /// Stops the loop and waits for its thread; returns the socket error that
    /// ended it early, if any.
    pub fn stop(mut self) -> io::Result<()> {
        self.halt()
    }

    fn halt(&mut self) -> io::Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.stop.store(true, Ordering::Release);
        // Wake the blocked `recv_from` with an empty datagram from the socket to
        // itself (same address family, no other socket needed).
        if !thread.is_finished() {
            let _ = self.wake.0.send_to(&[], self.wake.1);
        }
        thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the receive thread panicked")))
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Where to send a wake-up datagram: our own port, on loopback if we are bound to
/// the unspecified address.
fn wake_addr(mut local: SocketAddr) -> SocketAddr {
    if local.ip().is_unspecified() {
        local.set_ip(if local.is_ipv4() {
            Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    local
}

/// An IPv4-mapped IPv6 address compares equal to its IPv4 form.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(feature = "auth")]
fn mac(key: &[u8; 32], covered: &[u8]) -> [u8; crate::frame::TAG_LEN] {
    *blake3::keyed_hash(key, covered).as_bytes()
}

#[cfg(feature = "auth")]
fn tag_matches(key: &[u8; 32], covered: &[u8], tag: &[u8; crate::frame::TAG_LEN]) -> bool {
    // `blake3::Hash` compares in constant time.
    blake3::keyed_hash(key, covered) == blake3::Hash::from_bytes(*tag)
}

// Without the `auth` feature there is never a key, so these are never called.
#[cfg(not(feature = "auth"))]
fn mac(_: &[u8; 32], _: &[u8]) -> [u8; crate::frame::TAG_LEN] {
    [0; crate::frame::TAG_LEN]
}

#[cfg(not(feature = "auth"))]
fn tag_matches(_: &[u8; 32], _: &[u8], _: &[u8; crate::frame::TAG_LEN]) -> bool {
    false
}
