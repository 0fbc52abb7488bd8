//! The tokio driver (feature `tokio`): one task per node owns the [`Election`]; a
//! second task writes its state; everything else talks to it through a cloneable
//! [`Handle`], and follows it through a [`tokio::sync::watch`] of its
//! [`NodeStatus`].
//!
//! The task waits with `select!` on received messages, commands, finished writes
//! and `sleep_until(next_deadline)`, on **tokio's clock**: under
//! `#[tokio::test(start_paused = true)]` a whole cluster runs in virtual time,
//! deterministically and instantly. Writes go through an [`AsyncStore`]; an ordinary
//! (blocking) [`Store`] runs on tokio's blocking pool via [`Blocking`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use ballot::driver::tokio as driver;
//! use ballot::store::MemoryStore;
//! use ballot::transport::channel::ChannelNetwork;
//! use ballot::{Config, Input, Membership};
//! use std::sync::Arc;
//!
//! let net = ChannelNetwork::new();
//! let members = Membership::new([1u64]).unwrap();
//! let node = driver::start(Config::default(), 1, members, MemoryStore::new(), net.transport(1)).unwrap();
//! net.register(1, Arc::new(node.handle()));
//! let mut status = node.handle().watch();
//! node.handle().command(Input::Campaign).await.unwrap();
//! let led = status.wait_for(|s| s.is_leader()).await.unwrap().clone();
//! assert_eq!(led.leader, Some(1));
//! assert!(node.shutdown().await.error.is_none());
//! # }
//! ```

use core::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::thread::StartError;
use super::{CommandFailed, Core, DriverStats, Halted, INBOX_CAPACITY, NodeStatus};
use crate::store::{Store, StoreError};
use crate::transport::{Inbox, SendError, Transport};
use crate::{Config, Election, HardState, Input, Membership, Message, NodeId};

/// Where the tokio driver makes a node's [`HardState`] durable.
///
/// The driver keeps stepping the node while `save` is pending; everything that
/// depends on the write waits for it. [`Blocking`] adapts any [`Store`].
pub trait AsyncStore<I>: Send + 'static {
    /// Makes `hard_state` durable (see [`Store::save`]).
    fn save(
        &mut self,
        hard_state: HardState<I>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A blocking [`Store`] run on tokio's blocking pool (`spawn_blocking`), one save
/// at a time.
#[derive(Debug)]
pub struct Blocking<S>(Option<S>);

impl<S> Blocking<S> {
    /// Wraps `store`.
    pub fn new(store: S) -> Self {
        Blocking(Some(store))
    }

    /// The store back (`None` if a save panicked and took it down).
    pub fn into_inner(self) -> Option<S> {
        self.0
    }
}

impl<I: Send + Sync + 'static, S: Store<I>> AsyncStore<I> for Blocking<S> {
    async fn save(&mut self, hard_state: HardState<I>) -> Result<(), StoreError> {
        let Some(mut store) = self.0.take() else {
            return Err(StoreError::Other("the store was lost in an earlier save"));
        };
        let saved = tokio::task::spawn_blocking(move || {
            let result = store.save(&hard_state);
            (store, result)
        })
        .await;
        match saved {
            Ok((store, result)) => {
                self.0 = Some(store);
                result
            }
            Err(_) => Err(StoreError::Other("the store's save panicked")),
        }
    }
}

type Reply<I> = oneshot::Sender<Result<(), CommandFailed<I>>>;

/// Received messages handled back to back before the loop selects again.
const BATCH: usize = 64;

enum Request<I: NodeId> {
    Command(Input<I>, Reply<I>),
    Stats(oneshot::Sender<DriverStats>),
    Shutdown,
}

/// A cloneable handle to a node running on a tokio task. Implements [`Inbox`] for
/// transports.
pub struct Handle<I: NodeId> {
    inbound: mpsc::Sender<(I, Message)>,
    dropped: Arc<AtomicU64>,
    requests: mpsc::Sender<Request<I>>,
    status: watch::Receiver<NodeStatus<I>>,
}

impl<I: NodeId> Clone for Handle<I> {
    fn clone(&self) -> Self {
        Handle {
            inbound: self.inbound.clone(),
            dropped: Arc::clone(&self.dropped),
            requests: self.requests.clone(),
            status: self.status.clone(),
        }
    }
}

/// A node running on a tokio task. It stops on [`Node::shutdown`], or once the
/// node and every [`Handle`] to it are dropped.
pub struct Node<I: NodeId, S, T> {
    handle: Handle<I>,
    task: JoinHandle<Halted<I, S, T>>,
}

/// Loads node `id`'s state from `store` (a blocking [`Store`], read here once),
/// creates its [`Election`] and runs it on a new task of the current runtime.
pub fn start<I, S, T>(
    config: Config,
    id: I,
    membership: Membership<I>,
    mut store: S,
    transport: T,
) -> Result<Node<I, Blocking<S>, T>, StartError>
where
    I: NodeId + Send + Sync + 'static,
    S: Store<I>,
    T: Transport<I>,
{
    let persisted = store.load()?;
    let election = Election::new(config, id, membership, persisted, crate::Instant::ZERO)?;
    Ok(spawn(election, Blocking::new(store), transport))
}

/// Runs `election` on a new task of the current tokio runtime (panics outside
/// one, like `tokio::spawn`), writing through `store` and sending through
/// `transport`. The driver's clock (tokio's) continues from the time the election
/// was last stepped at.
pub fn spawn<I, S, T>(election: Election<I>, store: S, transport: T) -> Node<I, S, T>
where
    I: NodeId + Send + Sync + 'static,
    S: AsyncStore<I>,
    T: Transport<I>,
{
    let (inbound_tx, inbound) = mpsc::channel(INBOX_CAPACITY);
    let (requests_tx, requests) = mpsc::channel(64);
    let status = NodeStatus {
        id: election.id(),
        role: election.role(),
        term: election.term(),
        leader: election.leader(),
        running: true,
    };
    let (status_tx, status_rx) = watch::channel(status);
    let clock = Clock::tokio_starting_at(election.last_now);
    let (writes, writes_rx) = mpsc::unbounded_channel();
    let (written_tx, written) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_loop(store, writes_rx, written_tx));
    let core = Core::new(election, transport);
    let channels = Channels {
        inbound,
        requests,
        written,
        writes,
        status: status_tx,
    };
    let dropped = Arc::new(AtomicU64::new(0));
    let task = tokio::spawn(run(core, channels, writer, clock, Arc::clone(&dropped)));
    Node {
        handle: Handle {
            inbound: inbound_tx,
            dropped,
            requests: requests_tx,
            status: status_rx,
        },
        task,
    }
}

impl<I: NodeId, S, T> Node<I, S, T> {
    /// A handle to the node.
    pub fn handle(&self) -> Handle<I> {
        self.handle.clone()
    }

    /// Stops the node and returns its final state (after the write in flight, if
    /// any, has finished). Held outputs are discarded.
    pub async fn shutdown(self) -> Halted<I, S, T> {
        let _ = self.handle.requests.send(Request::Shutdown).await;
        match self.task.await {
            Ok(halted) => halted,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

impl<I: NodeId> Handle<I> {
    /// Hands a received message to the node without blocking or waiting; dropped
    /// ([`SendError::Full`]) when [`INBOX_CAPACITY`] messages are queued.
    pub fn deliver(&self, from: I, message: Message) -> Result<(), SendError> {
        self.inbound.try_send((from, message)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                trace_event!(debug, from = ?from, "inbound message dropped: the node's queue is full");
                SendError::Full
            }
            mpsc::error::TrySendError::Closed(_) => SendError::Stopped,
        })
    }

    /// Runs a command and waits for its answer: `Ok` once everything its step
    /// emitted has been carried out (its write, if any, durable; the status already
    /// shows its effect), or the node's rejection.
    ///
    /// Cancel-safe in the sense that matters: dropping the future before the
    /// command was queued means it never runs; once queued it runs to completion
    /// whether or not anyone still waits for the answer.
    pub async fn command(&self, input: Input<I>) -> Result<(), CommandFailed<I>> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Command(input, reply))
            .await
            .map_err(|_| CommandFailed::Stopped)?;
        answer.await.unwrap_or(Err(CommandFailed::Stopped))
    }

    /// The node's status now.
    pub fn status(&self) -> NodeStatus<I> {
        *self.status.borrow()
    }

    /// A watch of the node's status: it changes once per change of role, term,
    /// leader or running state (never `None`-then-`Some` within one step).
    pub fn watch(&self) -> watch::Receiver<NodeStatus<I>> {
        self.status.clone()
    }

    /// The driver's counters (`None` once the node has stopped).
    pub async fn stats(&self) -> Option<DriverStats> {
        let (tx, rx) = oneshot::channel();
        self.requests.send(Request::Stats(tx)).await.ok()?;
        let mut stats = rx.await.ok()?;
        stats.inbound_dropped = self.dropped.load(Ordering::Relaxed);
        Some(stats)
    }
}

impl<I: NodeId + Send + Sync + 'static> Inbox<I> for Handle<I> {
    fn deliver(&self, from: I, message: Message) -> Result<(), SendError> {
        Handle::deliver(self, from, message)
    }
}

struct Channels<I: NodeId> {
    inbound: mpsc::Receiver<(I, Message)>,
    requests: mpsc::Receiver<Request<I>>,
    written: mpsc::UnboundedReceiver<Result<(), StoreError>>,
    writes: mpsc::UnboundedSender<HardState<I>>,
    status: watch::Sender<NodeStatus<I>>,
}

/// The node task: wait for an event or the deadline, step, forward.
async fn run<I, S, T>(
    mut core: Core<I, T, Reply<I>>,
    mut ch: Channels<I>,
    writer: JoinHandle<S>,
    clock: Clock,
    dropped: Arc<AtomicU64>,
) -> Halted<I, S, T>
where
    I: NodeId + Send + Sync + 'static,
    S: AsyncStore<I>,
    T: Transport<I>,
{
    let far = clock.to_tokio(crate::Instant::MAX);
    let sleep = tokio::time::sleep_until(far);
    tokio::pin!(sleep);
    let mut armed = None;
    loop {
        // Expiry is decided by the clock, not by which branch woke us.
        core.tick(clock.tokio_now());
        if core.halted() {
            break;
        }
        forward(&mut core, &ch);
        let deadline = core.deadline();
        if deadline != armed {
            armed = deadline;
            sleep
                .as_mut()
                .reset(deadline.map_or(far, |d| clock.to_tokio(d)));
        }
        tokio::select! {
            biased;
            Some(result) = ch.written.recv() => core.written(result),
            request = ch.requests.recv() => match request {
                Some(Request::Command(input, reply)) => core.command(input, clock.tokio_now(), reply),
                Some(Request::Stats(reply)) => { let _ = reply.send(core.snapshot()); }
                Some(Request::Shutdown) | None => break,
            },
            Some((from, message)) = ch.inbound.recv() => core.receive(from, message, clock.tokio_now()),
            () = &mut sleep => {}
        }
        forward(&mut core, &ch);
        // Messages already queued, back to back (bounded, so the deadline and the
        // other channels are looked at again soon), each at its own time.
        for _ in 0..BATCH {
            let Ok((from, message)) = ch.inbound.try_recv() else {
                break;
            };
            core.receive(from, message, clock.tokio_now());
            forward(&mut core, &ch);
        }
    }
    core.stop();
    forward(&mut core, &ch);
    drop(ch.writes); // the writer finishes the write in flight and returns the store
    let store = match writer.await {
        Ok(store) => store,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    let mut stats = core.snapshot();
    stats.inbound_dropped = dropped.load(Ordering::Relaxed);
    Halted {
        election: core.election,
        store,
        transport: core.transport,
        error: core.error,
        stats,
    }
}

/// Starts a released write, publishes a status change, answers finished commands.
fn forward<I: NodeId, T: Transport<I>>(core: &mut Core<I, T, Reply<I>>, ch: &Channels<I>) {
    if let Some(hard_state) = core.take_write() {
        if ch.writes.send(hard_state).is_err() {
            core.written(Err(StoreError::Other("the writer task has stopped")));
        }
    }
    // Status first: a command's answer must not arrive before what it changed shows.
    if let Some(status) = core.status_change() {
        ch.status.send_replace(status);
    }
    core.take_replies(|reply, result| {
        let _ = reply.send(result);
    });
}

/// The writer task: saves each hard state in turn and reports the result.
async fn write_loop<I: NodeId + Send + 'static, S: AsyncStore<I>>(
    mut store: S,
    mut writes: mpsc::UnboundedReceiver<HardState<I>>,
    results: mpsc::UnboundedSender<Result<(), StoreError>>,
) -> S {
    while let Some(hard_state) = writes.recv().await {
        let _started = tokio::time::Instant::now();
        let result = store.save(hard_state).await;
        trace_event!(debug, latency = ?_started.elapsed(), ok = result.is_ok(), "persist");
        let failed = result.is_err();
        if results.send(result).is_err() || failed {
            break;
        }
    }
    store
}
