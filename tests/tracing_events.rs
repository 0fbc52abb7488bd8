//! The `tracing` feature: the drivers emit events (never the core), seen by a
//! subscriber the application installs. A 3-node cluster on the thread driver, as
//! the README's "With threads" section runs it, with a recording subscriber set as
//! the global default (the drivers log from their own threads).
#![cfg(feature = "tracing")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ballot::driver::thread;
use ballot::store::MemoryStore;
use ballot::transport::channel::ChannelNetwork;
use ballot::{Config, Input, Membership};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Every event's level and message.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(Level, String)>>>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0
            .lock()
            .unwrap()
            .push((*event.metadata().level(), message.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn the_drivers_emit_role_leader_and_persist_events() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(recorder.clone()).unwrap();

    let net = ChannelNetwork::new();
    let members = Membership::new([1u64, 2, 3]).unwrap();
    let mut nodes = Vec::new();
    for id in [1u64, 2, 3] {
        let node = thread::start(
            Config::default(),
            id,
            members.clone(),
            MemoryStore::new(),
            net.transport(id),
        )
        .unwrap();
        net.register(id, Arc::new(node.handle()));
        nodes.push(node);
    }
    let handle = nodes[0].handle();
    for status in handle.subscribe() {
        if status.leader.is_some() {
            break;
        }
    }
    // A command node 1 rejects whatever its role: a transfer to itself
    // (`TransferToSelf` as leader, `NotLeader` otherwise).
    assert!(handle.command(Input::TransferLeadership(1)).is_err());
    // Let the other nodes report the leader too.
    std::thread::sleep(Duration::from_millis(100));
    for node in nodes {
        assert!(node.shutdown().error.is_none());
    }

    let events = recorder.0.lock().unwrap().clone();
    let count = |level: Level, text: &str| {
        events
            .iter()
            .filter(|(l, m)| *l == level && m.contains(text))
            .count()
    };
    assert!(count(Level::INFO, "role changed") >= 2, "{events:?}");
    assert!(count(Level::INFO, "leader changed") >= 3, "{events:?}");
    assert!(count(Level::DEBUG, "persist") >= 3, "{events:?}");
    assert!(count(Level::DEBUG, "command rejected") >= 1, "{events:?}");
}
