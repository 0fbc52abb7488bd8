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
//! use ballot::{Config, Election, HardState, Input, Instant, Membership, Output};
//! use std::collections::{BTreeMap, VecDeque};
//! use std::time::Duration;
//!
//! let members = Membership::new([1u64, 2, 3]).unwrap();
//! let mut nodes: Vec<Election> = members
//!     .voters()
//!     .iter()
//!     .map(|&id| Election::new(Config::default(), id, members.clone(), None, Instant::ZERO).unwrap())
//!     .collect();
//! let mut disk: BTreeMap<u64, HardState<u64>> = BTreeMap::new();
//! let mut wire: VecDeque<(u64, u64, ballot::Message)> = VecDeque::new(); // (from, to, msg)
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
//!         let id = nodes[i].id();
//!         for output in nodes[i].step(input, now) {
//!             match output {
//!                 // Durable before anything after it is acted on.
//!                 Output::Persist(hard_state) => { disk.insert(id, hard_state); }
//!                 Output::Send { to, message } => wire.push_back((id, to, message)),
//!                 Output::Broadcast { message } => {
//!                     for to in nodes[i].membership().peers_of(id) {
//!                         wire.push_back((id, to, message));
//!                     }
//!                 }
//!                 _ => {} // RoleChanged, LeaderChanged, Rejected: report them
//!             }
//!         }
//!     }
//! }
//! let leader = nodes.iter().find(|n| n.is_leader()).unwrap();
//! println!("node {} leads term {}", leader.id(), leader.term());
//! assert_eq!(disk[&leader.id()].voted_for, Some(leader.id()));
//! ```
//!
//! ## Features
//!
//! * `std` (default): nothing but `std`-only conveniences; the core is `#![no_std]`
//!   with `alloc`, so it builds for embedded and wasm targets without it. (A
//!   [`Membership`] shares its member list through `alloc::sync::Arc`, so the target
//!   needs pointer-sized atomics, as every tier-1 and most embedded targets have.)
//! * `sim`: the deterministic simulator, [`sim`]: fault injection, safety
//!   invariants checked after every event, liveness, one seed per run.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The core needs only `alloc` (vectors for membership and tallies). `std` is linked
// only when the feature asks for it, so a no_std build proves nothing else crept in.
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod command;
mod config;
mod election;
mod error;
mod heartbeat;
mod id_bytes;
mod input;
mod membership;
mod message;
mod node_id;
mod output;
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

#[cfg(feature = "sim")]
pub mod sim;

pub use config::Config;
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
