//! Shared by the driver tests: a store and a transport that record, in one causal
//! log per cluster, every write made durable and every message sent — so a test can
//! check the durability contract on what really left — plus stores that stall or
//! fail.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ballot::store::{MemoryStore, Store, StoreError};
use ballot::transport::channel::ChannelTransport;
use ballot::transport::{SendError, Transport};
use ballot::{HardState, Message, Role, Term};

/// Something that happened, in the order it happened.
#[derive(Clone, Copy, Debug)]
pub enum Entry {
    /// Node `node`'s write of `hs` became durable.
    Durable { node: u64, hs: HardState<u64> },
    /// Node `from` sent `message` to `to`.
    Sent {
        from: u64,
        to: u64,
        message: Message,
    },
}

pub type Log = Arc<Mutex<Vec<Entry>>>;

pub fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

/// How a [`TestStore`] behaves.
#[derive(Clone, Copy, Debug)]
pub enum Disk {
    /// Every save succeeds after `delay`.
    Slow(Duration),
    /// Every save fails.
    Failing,
}

/// A store that records what became durable, and may stall or fail. Clones share
/// the disk setting, so a test can change it while the node runs.
#[derive(Clone)]
pub struct TestStore {
    pub node: u64,
    pub log: Log,
    pub disk: Arc<Mutex<Disk>>,
    pub inner: MemoryStore<u64>,
}

impl TestStore {
    pub fn new(node: u64, log: &Log, disk: Disk) -> Self {
        TestStore {
            node,
            log: Arc::clone(log),
            disk: Arc::new(Mutex::new(disk)),
            inner: MemoryStore::new(),
        }
    }

    /// Changes how the disk behaves from the next save on.
    pub fn set(&self, disk: Disk) {
        *self.disk.lock().unwrap() = disk;
    }

    fn delay(&self) -> Option<Duration> {
        match *self.disk.lock().unwrap() {
            Disk::Slow(d) => Some(d),
            Disk::Failing => None,
        }
    }

    fn finish(&mut self, hs: &HardState<u64>) -> Result<(), StoreError> {
        if let Disk::Failing = *self.disk.lock().unwrap() {
            return Err(StoreError::Other("injected write failure"));
        }
        self.inner.save(hs)?;
        self.log.lock().unwrap().push(Entry::Durable {
            node: self.node,
            hs: *hs,
        });
        Ok(())
    }
}

impl Store<u64> for TestStore {
    fn load(&mut self) -> Result<Option<HardState<u64>>, StoreError> {
        self.inner.load()
    }
    fn save(&mut self, hs: &HardState<u64>) -> Result<(), StoreError> {
        if let Some(d) = self.delay() {
            std::thread::sleep(d);
        }
        self.finish(hs)
    }
}

#[cfg(feature = "tokio")]
impl ballot::driver::tokio::AsyncStore<u64> for TestStore {
    async fn save(&mut self, hs: HardState<u64>) -> Result<(), StoreError> {
        if let Some(d) = self.delay() {
            tokio::time::sleep(d).await; // tokio's clock: virtual under start_paused
        }
        self.finish(&hs)
    }
}

/// A channel transport that records every message it sends.
pub struct Recording {
    pub node: u64,
    pub inner: ChannelTransport<u64>,
    pub log: Log,
}

impl Transport<u64> for Recording {
    fn send(&mut self, to: u64, message: Message) -> Result<(), SendError> {
        self.log.lock().unwrap().push(Entry::Sent {
            from: self.node,
            to,
            message,
        });
        self.inner.send(to, message)
    }
}

/// The durability contract, checked on what really left: every message that
/// depends on the sender's term or vote (heartbeats and their replies, real vote
/// requests, granted real votes) was sent only after a write covering it was
/// durable. Refusals and pre-votes promise nothing and are not checked. Returns how
/// many messages were checked.
pub fn check_durability(log: &Log) -> usize {
    let log = log.lock().unwrap();
    let mut durable: std::collections::BTreeMap<u64, HardState<u64>> = Default::default();
    let mut checked = 0;
    for entry in log.iter() {
        match *entry {
            Entry::Durable { node, hs } => {
                let prev = durable.insert(node, hs);
                if let Some(prev) = prev {
                    assert!(prev.term <= hs.term, "node {node}: durable term went back");
                }
            }
            Entry::Sent { from, to, message } => {
                let have = durable.get(&from).copied().unwrap_or_default();
                let needs = match message {
                    Message::Heartbeat { term, .. } | Message::HeartbeatResponse { term, .. } => {
                        term
                    }
                    Message::VoteRequest {
                        term,
                        pre_vote: false,
                        ..
                    } => {
                        assert_eq!(
                            (have.term, have.voted_for),
                            (term, Some(from)),
                            "node {from} asked for votes in {term:?} before its self-vote was durable"
                        );
                        term
                    }
                    Message::VoteResponse {
                        term,
                        pre_vote: false,
                        granted: true,
                    } => {
                        assert_eq!(
                            (have.term, have.voted_for),
                            (term, Some(to)),
                            "node {from} granted {to} a vote in {term:?} before it was durable"
                        );
                        term
                    }
                    _ => continue,
                };
                assert!(
                    have.term >= needs,
                    "node {from} sent {message:?} at durable term {:?}",
                    have.term
                );
                checked += 1;
            }
        }
    }
    checked
}

/// Messages sent by `node` that depend on a write (see [`check_durability`]).
pub fn dependent_sends_by(log: &Log, node: u64) -> usize {
    log.lock()
        .unwrap()
        .iter()
        .filter(|e| match e {
            Entry::Sent { from, message, .. } if *from == node => matches!(
                message,
                Message::Heartbeat { .. }
                    | Message::HeartbeatResponse { .. }
                    | Message::VoteRequest {
                        pre_vote: false,
                        ..
                    }
                    | Message::VoteResponse {
                        pre_vote: false,
                        granted: true,
                        ..
                    }
            ),
            _ => false,
        })
        .count()
}

/// Every (term, leader) a node reported leading, from recorded statuses: at most
/// one leader per term.
pub fn assert_one_leader_per_term(leaders: &[(Term, u64)]) {
    let mut by_term: std::collections::BTreeMap<Term, u64> = Default::default();
    for &(term, id) in leaders {
        if let Some(other) = by_term.insert(term, id) {
            assert_eq!(other, id, "two leaders in term {term:?}");
        }
    }
}

pub fn is_leader(role: Role) -> bool {
    role == Role::Leader
}
