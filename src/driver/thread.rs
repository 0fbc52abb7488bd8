//! The thread driver (feature `std`): one thread per node owns the [`Election`];
//! a second thread writes its state; everything else talks to it through a
//! cloneable [`Handle`].
//!
//! ```
//! use ballot::driver::thread;
//! use ballot::store::MemoryStore;
//! use ballot::transport::channel::ChannelNetwork;
//! use ballot::{Config, Input, Membership};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! // A one-node cluster elects itself as soon as it campaigns.
//! let net = ChannelNetwork::new();
//! let members = Membership::new([1u64]).unwrap();
//! let node = thread::start(Config::default(), 1, members, MemoryStore::new(), net.transport(1)).unwrap();
//! net.register(1, Arc::new(node.handle()));
//! let changes = node.handle().subscribe();
//! node.handle().command(Input::Campaign).unwrap();
//! let led = changes.iter().find(|s| s.is_leader()).unwrap();
//! assert_eq!(led.leader, Some(1));
//! let halted = node.shutdown();
//! assert!(halted.error.is_none());
//! ```

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::vec::Vec;

use super::clock::Clock;
use super::{CommandFailed, Core, DriverStats, Halted, INBOX_CAPACITY, NodeStatus};
use crate::store::{Store, StoreError};
use crate::transport::{Inbox, SendError, Transport};
use crate::{Config, ConfigError, Election, HardState, Input, Membership, Message, NodeId};

type Reply<I> = Sender<Result<(), CommandFailed<I>>>;

/// Events handled back to back before the loop looks at the clock again.
const BATCH: usize = 64;

enum Event<I: NodeId> {
    Deliver(I, Message),
    Command(Input<I>, Reply<I>),
    Written(Result<(), StoreError>),
    Stats(Sender<DriverStats>),
    Shutdown,
}

/// The status last published and its subscribers.
type Watchers<I> = (NodeStatus<I>, Vec<Sender<NodeStatus<I>>>);

/// State shared between the node thread and its handles.
struct Shared<I> {
    status: Mutex<Watchers<I>>,
    queued: AtomicUsize,
    dropped: AtomicU64,
}

/// A cloneable handle to a node running on its own thread: deliver messages, send
/// commands, read and follow its status. Implements [`Inbox`] for transports.
pub struct Handle<I: NodeId> {
    tx: Sender<Event<I>>,
    shared: Arc<Shared<I>>,
}

impl<I: NodeId> Clone for Handle<I> {
    fn clone(&self) -> Self {
        Handle {
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

/// A node running on its own thread. Dropping it shuts the node down.
pub struct Node<I: NodeId, S, T> {
    handle: Handle<I>,
    thread: Option<JoinHandle<Halted<I, S, T>>>,
}

/// Why a node could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The operating system would not start a thread.
    #[error("cannot start the node's thread: {0}")]
    Thread(std::io::ErrorKind),
}

/// Loads node `id`'s state from `store`, creates its [`Election`] and runs it on a
/// new thread. Register `node.handle()` with the transport's receiving side.
pub fn start<I, S, T>(
    config: Config,
    id: I,
    membership: Membership<I>,
    mut store: S,
    transport: T,
) -> Result<Node<I, S, T>, StartError>
where
    I: NodeId + Send + Sync + 'static,
    S: Store<I>,
    T: Transport<I>,
{
    let persisted = store.load()?;
    let election = Election::new(config, id, membership, persisted, crate::Instant::ZERO)?;
    spawn(election, store, transport)
}

/// Runs `election` on a new thread, writing through `store` and sending through
/// `transport`. The driver's clock continues from the time the election was last
/// stepped at (or created at).
pub fn spawn<I, S, T>(
    election: Election<I>,
    store: S,
    transport: T,
) -> Result<Node<I, S, T>, StartError>
where
    I: NodeId + Send + Sync + 'static,
    S: Store<I>,
    T: Transport<I>,
{
    let (tx, rx) = mpsc::channel();
    let status = NodeStatus {
        id: election.id(),
        role: election.role(),
        term: election.term(),
        leader: election.leader(),
        running: true,
    };
    let shared = Arc::new(Shared {
        status: Mutex::new((status, Vec::new())),
        queued: AtomicUsize::new(0),
        dropped: AtomicU64::new(0),
    });
    let handle = Handle {
        tx: tx.clone(),
        shared: Arc::clone(&shared),
    };
    let clock = Clock::starting_at(election.last_now);
    let core = Core::new(election, transport);
    let (writes, writer) = start_writer(store, tx).map_err(|e| StartError::Thread(e.kind()))?;
    let thread = std::thread::Builder::new()
        .name(std::format!("ballot-node-{:?}", status.id))
        .spawn(move || run(core, writes, writer, clock, rx, shared))
        .map_err(|e| StartError::Thread(e.kind()))?;
    Ok(Node {
        handle,
        thread: Some(thread),
    })
}

impl<I: NodeId, S, T> Node<I, S, T> {
    /// A handle to the node.
    pub fn handle(&self) -> Handle<I> {
        self.handle.clone()
    }

    /// Stops the node and returns its final state (after the write in flight, if
    /// any, has finished). Held outputs are discarded.
    pub fn shutdown(mut self) -> Halted<I, S, T> {
        let _ = self.handle.tx.send(Event::Shutdown);
        let thread = self.thread.take();
        match thread.map(JoinHandle::join) {
            Some(Ok(halted)) => halted,
            // The node thread never panics (no code path unwraps); if it somehow did,
            // re-raise it here rather than invent a state.
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => unreachable_halted(),
        }
    }
}

#[cold]
fn unreachable_halted<T>() -> T {
    // `thread` is only taken by `shutdown`, which consumes the node.
    std::panic!("ballot: node already shut down")
}

impl<I: NodeId, S, T> Drop for Node<I, S, T> {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.handle.tx.send(Event::Shutdown);
            let _ = thread.join();
        }
    }
}

impl<I: NodeId> Handle<I> {
    /// Hands a received message to the node without blocking. Dropped (counted as
    /// [`SendError::Full`]) when [`INBOX_CAPACITY`] messages are already queued.
    pub fn deliver(&self, from: I, message: Message) -> Result<(), SendError> {
        if self.shared.queued.fetch_add(1, Ordering::Relaxed) >= INBOX_CAPACITY {
            self.shared.queued.fetch_sub(1, Ordering::Relaxed);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            trace_event!(debug, from = ?from, "inbound message dropped: the node's queue is full");
            return Err(SendError::Full);
        }
        self.tx
            .send(Event::Deliver(from, message))
            .map_err(|_| SendError::Stopped)
    }

    /// Runs a command ([`Input::Campaign`], [`Input::StepDown`], a membership change,
    /// …) and waits for its answer: `Ok` once everything its step emitted has been
    /// carried out (its write, if any, durable; the status already shows its
    /// effect), or the node's rejection.
    pub fn command(&self, input: Input<I>) -> Result<(), CommandFailed<I>> {
        let (reply, answer) = mpsc::channel();
        self.tx
            .send(Event::Command(input, reply))
            .map_err(|_| CommandFailed::Stopped)?;
        answer.recv().unwrap_or(Err(CommandFailed::Stopped))
    }

    /// The node's status now.
    pub fn status(&self) -> NodeStatus<I> {
        self.shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// A channel that receives the current status at once, then every change of
    /// role, term, leader or running state (one message per change). It
    /// disconnects after the node stops.
    pub fn subscribe(&self) -> Receiver<NodeStatus<I>> {
        let (tx, rx) = mpsc::channel();
        let mut guard = self
            .shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if tx.send(guard.0).is_ok() && guard.0.running {
            guard.1.push(tx);
        }
        rx
    }

    /// The driver's counters (`None` once the node has stopped).
    pub fn stats(&self) -> Option<DriverStats> {
        let (tx, rx) = mpsc::channel();
        self.tx.send(Event::Stats(tx)).ok()?;
        rx.recv().ok()
    }
}

impl<I: NodeId + Send + Sync + 'static> Inbox<I> for Handle<I> {
    fn deliver(&self, from: I, message: Message) -> Result<(), SendError> {
        Handle::deliver(self, from, message)
    }
}

/// The node thread: wait for an event or the deadline, step, forward.
fn run<I, S, T>(
    mut core: Core<I, T, Reply<I>>,
    writes: Sender<HardState<I>>,
    writer: JoinHandle<S>,
    clock: Clock,
    rx: Receiver<Event<I>>,
    shared: Arc<Shared<I>>,
) -> Halted<I, S, T>
where
    I: NodeId + Send + Sync + 'static,
    S: Store<I>,
    T: Transport<I>,
{
    'run: loop {
        publish(&mut core, &shared);
        // Expiry is decided by the clock, not by which wait returned.
        let now = clock.now();
        core.tick(now);
        if core.halted() {
            break;
        }
        start_write(&mut core, &writes);
        publish(&mut core, &shared);
        let event = match core.deadline() {
            Some(deadline) => {
                let wait = clock.remaining(deadline);
                match rx.recv_timeout(wait) {
                    Ok(event) => event,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            None => match rx.recv() {
                Ok(event) => event,
                Err(_) => break,
            },
        };
        // Handle it and whatever else is already queued (up to a bound, so the
        // deadline and status are looked at again soon), each at its own time.
        let mut next = Some(event);
        let mut handled = 0;
        while let Some(event) = next.take() {
            let now = clock.now();
            match event {
                Event::Deliver(from, message) => {
                    shared.queued.fetch_sub(1, Ordering::Relaxed);
                    core.receive(from, message, now);
                }
                Event::Command(input, reply) => core.command(input, now, reply),
                Event::Written(result) => core.written(result),
                Event::Stats(reply) => {
                    let mut stats = core.snapshot();
                    stats.inbound_dropped = shared.dropped.load(Ordering::Relaxed);
                    let _ = reply.send(stats);
                }
                Event::Shutdown => break 'run,
            }
            start_write(&mut core, &writes);
            handled += 1;
            if handled < BATCH && !core.halted() {
                next = rx.try_recv().ok();
            }
        }
    }
    core.stop();
    publish(&mut core, &shared);
    drop(writes); // the writer finishes the write in flight and returns the store
    let store = match writer.join() {
        Ok(store) => store,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    let mut stats = core.snapshot();
    stats.inbound_dropped = shared.dropped.load(Ordering::Relaxed);
    shared
        .status
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .1
        .clear();
    Halted {
        election: core.election,
        store,
        transport: core.transport,
        error: core.error,
        stats,
    }
}

/// Publishes a status change, then answers finished commands.
fn publish<I: NodeId, T>(core: &mut Core<I, T, Reply<I>>, shared: &Shared<I>)
where
    T: Transport<I>,
{
    // Status first: a command's answer must not arrive before what it changed shows.
    if let Some(status) = core.status_change() {
        let mut guard = shared.status.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0 = status;
        guard.1.retain(|s| s.send(status).is_ok());
    }
    core.take_replies(|reply, result| {
        let _ = reply.send(result);
    });
}

fn start_write<I: NodeId, T: Transport<I>>(
    core: &mut Core<I, T, Reply<I>>,
    writes: &Sender<HardState<I>>,
) {
    if let Some(hard_state) = core.take_write() {
        if writes.send(hard_state).is_err() {
            core.written(Err(StoreError::Other("the writer thread has stopped")));
        }
    }
}

/// The writer thread: saves each hard state in turn and reports the result.
fn start_writer<I, S>(
    mut store: S,
    results: Sender<Event<I>>,
) -> std::io::Result<(Sender<HardState<I>>, JoinHandle<S>)>
where
    I: NodeId + Send + Sync + 'static,
    S: Store<I>,
{
    let (tx, rx) = mpsc::channel::<HardState<I>>();
    let writer = move || {
        for hard_state in rx {
            let _started = Clock::stopwatch();
            let result = store.save(&hard_state);
            trace_event!(debug, latency = ?Clock::elapsed(_started), ok = result.is_ok(), "persist");
            let failed = result.is_err();
            if results.send(Event::Written(result)).is_err() || failed {
                break;
            }
        }
        store
    };
    let handle = std::thread::Builder::new()
        .name("ballot-writer".into())
        .spawn(writer)?;
    Ok((tx, handle))
}
