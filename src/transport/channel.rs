//! An in-process transport: every node of a cluster in one process, messages
//! handed from one driver's queue to another's. For single-process clusters and
//! tests (almost-raft's closed mpsc loop), with links that a test can cut.

use std::boxed::Box;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use super::{Inbox, SendError, Transport};
use crate::{Message, NodeId};

type Shared<I> = Arc<Mutex<Net<I>>>;

struct Net<I> {
    inboxes: BTreeMap<I, Arc<dyn Inbox<I>>>,
    /// Directed links that are down: `(from, to)`.
    cut: BTreeSet<(I, I)>,
}

/// The in-process network: register each node's driver handle, then give each
/// driver its [`ChannelTransport`].
///
/// ```
/// use ballot::transport::channel::ChannelNetwork;
/// use ballot::transport::{Inbox, SendError, Transport};
/// use ballot::Message;
/// use std::sync::{Arc, Mutex};
///
/// #[derive(Default)]
/// struct Recorder(Mutex<Vec<(u64, Message)>>);
/// impl Inbox<u64> for Recorder {
///     fn deliver(&self, from: u64, m: Message) -> Result<(), SendError> {
///         self.0.lock().unwrap().push((from, m));
///         Ok(())
///     }
/// }
/// let net = ChannelNetwork::new();
/// let two = Arc::new(Recorder::default());
/// net.register(2, two.clone());
/// let mut from_one = net.transport(1);
/// let hb = Message::Heartbeat { term: ballot::Term(1), sent: ballot::Instant::ZERO, hand_over: false };
/// from_one.send(2, hb).unwrap();
/// net.cut(1, 2);
/// assert_eq!(from_one.send(2, hb), Err(SendError::LinkDown));
/// assert_eq!(from_one.send(3, hb), Err(SendError::UnknownPeer));
/// assert_eq!(two.0.lock().unwrap().len(), 1);
/// ```
pub struct ChannelNetwork<I> {
    net: Shared<I>,
}

impl<I> Clone for ChannelNetwork<I> {
    fn clone(&self) -> Self {
        ChannelNetwork {
            net: Arc::clone(&self.net),
        }
    }
}

impl<I: NodeId + Send + Sync + 'static> Default for ChannelNetwork<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: NodeId + Send + Sync + 'static> ChannelNetwork<I> {
    /// An empty network with every link up.
    pub fn new() -> Self {
        ChannelNetwork {
            net: Arc::new(Mutex::new(Net {
                inboxes: BTreeMap::new(),
                cut: BTreeSet::new(),
            })),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Net<I>) -> R) -> R {
        f(&mut self.net.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Routes messages for `id` into `inbox` (a driver handle), replacing any
    /// earlier registration (a restarted node).
    pub fn register(&self, id: I, inbox: Arc<dyn Inbox<I>>) {
        self.with(|n| n.inboxes.insert(id, inbox));
    }

    /// Stops routing messages to `id` (they fail with [`SendError::UnknownPeer`]).
    pub fn unregister(&self, id: I) {
        self.with(|n| n.inboxes.remove(&id));
    }

    /// The sending half for node `id`.
    pub fn transport(&self, id: I) -> ChannelTransport<I> {
        ChannelTransport {
            id,
            net: Arc::clone(&self.net),
        }
    }

    /// Takes the directed link `from → to` down.
    pub fn cut(&self, from: I, to: I) {
        self.with(|n| n.cut.insert((from, to)));
    }

    /// Cuts every link to and from `id` (among registered nodes).
    pub fn isolate(&self, id: I) {
        self.with(|n| {
            let peers: Box<[I]> = n.inboxes.keys().copied().collect();
            for p in peers.iter().copied().filter(|p| *p != id) {
                n.cut.insert((id, p));
                n.cut.insert((p, id));
            }
        });
    }

    /// Brings every link back up.
    pub fn heal(&self) {
        self.with(|n| n.cut.clear());
    }
}

/// The sending half of a [`ChannelNetwork`] for one node.
pub struct ChannelTransport<I> {
    id: I,
    net: Shared<I>,
}

impl<I: NodeId + Send + Sync + 'static> Transport<I> for ChannelTransport<I> {
    fn send(&mut self, to: I, message: Message) -> Result<(), SendError> {
        // Look the inbox up under the lock, deliver outside it.
        let inbox = {
            let net = self.net.lock().unwrap_or_else(PoisonError::into_inner);
            if net.cut.contains(&(self.id, to)) {
                return Err(SendError::LinkDown);
            }
            Arc::clone(net.inboxes.get(&to).ok_or(SendError::UnknownPeer)?)
        };
        inbox.deliver(self.id, message)
    }
}
