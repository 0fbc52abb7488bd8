//! # ballot — Raft leader election as a sans-IO state machine
//!
//! `ballot` implements Raft leader election (Raft paper §5.2; Ongaro's thesis
//! §3.10, §4.2.3, §6.2, §9.6) — PreVote, CheckQuorum, leader stickiness, learners,
//! run-time membership, `min_voters`/`max_voters`, leadership transfer, preferred
//! leaders, witnesses, forget-leader — as one pure value per node,
//! [`Election`]. It has no runtime, no timers, no clock, no I/O and no OS
//! randomness: you give it inputs and the time, it gives you back what to do.
//! Same configuration, seed and inputs ⇒ bit-identical outputs, on any machine.
//!
//! ## The contract
//!
//! * **One door in:** [`Election::step`]`(input, now)` (or [`Election::step_into`]
//!   with a reused buffer) is the only way to change a node. An [`Input`] is time
//!   passing ([`Input::Tick`]), a message arriving ([`Input::Receive`]) or a command
//!   ([`Input::Campaign`], [`Input::StepDown`], [`Input::TransferLeadership`],
//!   [`Input::ForgetLeader`], membership changes, [`Input::SetFreshness`]).
//! * **One door out:** the returned [`Output`]s, to be carried out *in order*:
//!   [`Output::Persist`], [`Output::Send`], [`Output::Broadcast`] (you fan it out to
//!   [`Membership::peers_of`] this node), events ([`Output::RoleChanged`],
//!   [`Output::LeaderChanged`], [`Output::TransferStarted`],
//!   [`Output::TransferFailed`]) and command rejections ([`Output::Rejected`]).
//! * **Durability:** an [`Output::Persist`] comes before every output that depends
//!   on it (a vote grant, a vote request, a new term's heartbeats). Make it durable
//!   (write + fsync, term and vote as one atomic record) **before** carrying out any
//!   output after it in the same batch, and pass the last durable [`HardState`] to
//!   [`Election::new`] on restart. That is what prevents double votes across crashes.
//! * **Time:** `now` is an [`Instant`] you supply (nanoseconds from any monotonic
//!   origin). After every step, read [`Election::next_deadline`] and call
//!   `step(Input::Tick, t)` once `t` reaches it. Early ticks are harmless no-ops; a
//!   `now` that goes backwards is clamped.
//! * **Wire format:** optional. [`Message::encode`] / [`Message::decode`] give a
//!   26-byte, versioned, allocation-free encoding whose decoder answers garbage
//!   with a typed [`DecodeError`] (see [`wire`]); any other format works too.
//! * **Robustness:** `step` never panics. Garbage from the network is dropped and
//!   counted in [`Stats`]; a command that cannot be honoured yields an
//!   [`Output::Rejected`] with a typed [`CommandError`].
//!
//! ## One leader per *term*, not one leader at a time
//!
//! Raft guarantees at most one leader per [`Term`]. A leader that has been cut
//! off may still believe it leads while a newer leader is elected in a higher term.
//! Treat the term as a **fencing token**: tag everything a leader does to shared
//! resources with its term, and make those resources refuse a term lower than the
//! highest they have seen.
//!
//! ## A run loop
//!
//! Three nodes in one process, with an in-memory "network" and "disk":
//!
//! ```
//! use ballot::{Config, Election, HardState, Host, Input, Instant, Membership, Message, dispatch};
//! use std::collections::{BTreeMap, VecDeque};
//! use std::convert::Infallible;
//! use std::time::Duration;
//!
//! /// What one node's outputs need: a disk and a network (events are optional).
//! struct World<'a> {
//!     id: u64,
//!     disk: &'a mut BTreeMap<u64, HardState<u64>>,
//!     wire: &'a mut VecDeque<(u64, u64, Message)>, // (from, to, message)
//! }
//! impl Host<u64> for World<'_> {
//!     type Error = Infallible;
//!     fn persist(&mut self, hard_state: &HardState<u64>) -> Result<(), Infallible> {
//!         self.disk.insert(self.id, *hard_state); // a real host writes + fsyncs here
//!         Ok(())
//!     }
//!     fn send(&mut self, to: u64, message: Message) {
//!         self.wire.push_back((self.id, to, message));
//!     }
//! }
//!
//! let members = Membership::new([1u64, 2, 3]).unwrap();
//! let mut nodes: Vec<Election> = members
//!     .voters()
//!     .iter()
//!     .map(|&id| Election::new(Config::default(), id, members.clone(), None, Instant::ZERO).unwrap())
//!     .collect();
//! let mut disk: BTreeMap<u64, HardState<u64>> = BTreeMap::new();
//! let mut wire: VecDeque<(u64, u64, Message)> = VecDeque::new();
//! let mut now = Instant::ZERO;
//!
//! while !nodes.iter().any(|n| n.is_leader()) {
//!     // Deliver every message in flight; otherwise jump to the earliest deadline.
//!     let mut work: Vec<(usize, Input<u64>)> = Vec::new();
//!     if let Some((from, to, message)) = wire.pop_front() {
//!         work.push(((to - 1) as usize, Input::Receive { from, message }));
//!     } else {
//!         now = nodes.iter().filter_map(|n| n.next_deadline()).min().unwrap();
//!         now += Duration::from_millis(1); // say, 1 ms of network latency
//!         work.extend((0..nodes.len()).map(|i| (i, Input::Tick)));
//!     }
//!     for (i, input) in work {
//!         let outputs = nodes[i].step(input, now);
//!         let mut world = World { id: nodes[i].id(), disk: &mut disk, wire: &mut wire };
//!         // In order; a failed persist would stop here (and the node must stop too).
//!         dispatch(&nodes[i], outputs, &mut world).unwrap();
//!     }
//! }
//! let leader = nodes.iter().find(|n| n.is_leader()).unwrap();
//! println!("node {} leads term {}", leader.id(), leader.term());
//! assert_eq!(disk[&leader.id()].voted_for, Some(leader.id()));
//! ```
//!
//! [`dispatch`] carries out a step's outputs in order on your [`Host`], stopping at a
//! failed write. Inside an event loop that must not wait for the disk, feed the
//! outputs through a [`pipeline::Pipeline`] first; the drivers do exactly that.
//!
//! ## Features
//!
//! * `std` (default): the real stack around the core — the state store
//!   (`store`: a checksummed, crash-safe `FileStore`; a `MemoryStore`), the
//!   `transport` trait, an in-process channel transport and the UDP transport
//!   (`transport::udp`), and the thread driver (`driver::thread`). Without it the
//!   core is `#![no_std]` with `alloc` ([`dispatch`], [`pipeline`] and the transport
//!   [`frame`] codec included), so it builds for embedded and wasm targets. (A
//!   [`Membership`] shares its member list through `alloc::sync::Arc`, so the target
//!   needs pointer-sized atomics, as every tier-1 and most embedded targets have.)
//! * `tokio`: the tokio driver (`driver::tokio`): one task per node, tokio's clock.
//! * `auth`: keyed BLAKE3 authentication of UDP frames with a shared cluster key
//!   (`transport::ClusterKey`). **Without it, any host that can reach a node's UDP
//!   port can wedge the cluster with one forged datagram** (see `transport::udp`).
//! * `node`: the `ballot-node` binary (one node per process, JSON-line events);
//!   implies `std` and `auth`.
//! * `tracing`: `tracing` events from the drivers (role and term changes, failed
//!   sends, persist latency, failed writes). The core never logs.
//! * `sim`: the deterministic simulator, `ballot::sim`: fault injection, safety
//!   invariants checked after every event, liveness, one seed per run.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The core needs only `alloc` (vectors for membership and tallies). `std` is linked
// only when the feature asks for it, so a no_std build proves nothing else crept in.
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// A `tracing` event when the `tracing` feature is on; nothing otherwise (the
/// arguments are not evaluated). Used by the drivers and transports, never the core.
#[cfg(feature = "tracing")]
macro_rules! trace_event {
    ($level:ident, $($arg:tt)+) => { ::tracing::$level!($($arg)+) };
}
#[cfg(not(feature = "tracing"))]
#[allow(unused_macros)]
macro_rules! trace_event {
    ($level:ident, $($arg:tt)+) => {};
}

mod command;
mod config;
mod dispatch;
mod election;
mod error;
mod fast_path;
pub mod frame;
mod heartbeat;
mod id_bytes;
mod input;
mod membership;
mod message;
mod node_id;
mod output;
pub mod pipeline;
mod quorum;
mod rng;
mod role;
mod stats;
mod term;
mod time;
mod timer;
mod transfer;
mod transition;
mod vote;
pub mod wire;

#[cfg(feature = "std")]
pub mod driver;
#[cfg(feature = "std")]
pub mod store;
#[cfg(feature = "std")]
pub mod transport;

#[cfg(feature = "sim")]
pub mod sim;

pub use config::Config;
pub use dispatch::{Host, dispatch};
pub use election::Election;
pub use error::{CommandError, ConfigError, MembershipError};
pub use id_bytes::IdBytes;
pub use input::Input;
pub use membership::Membership;
pub use message::Message;
pub use node_id::NodeId;
pub use output::{Output, TransferFailure};
pub use role::Role;
pub use stats::{Stats, Status};
pub use term::{Freshness, HardState, Term};
pub use time::Instant;
pub use wire::{DecodeError, Encoded};
