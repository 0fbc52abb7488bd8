//! A deterministic simulator for clusters of [`Election`](crate::Election)s
//! (feature `sim`).
//!
//! One `u64` seed determines everything: the network's delays, losses and
//! duplicates, storage latencies, clocks, random faults, and each node's
//! [`Config::seed`](crate::Config::seed). All draws are integer arithmetic on a
//! seeded ChaCha8 stream, so a seed replays bit-identically on any machine. After
//! every event the simulator checks the safety invariants
//! ([`ViolationKind`]); after a fault phase it heals and demands a stable leader
//! (liveness). Use it to test your own [`Config`](crate::Config) against the faults
//! you fear, or to reproduce a bug report in a dozen lines.
//!
//! ```
//! use ballot::sim::{SimOptions, Simulation};
//! use core::time::Duration;
//!
//! // Five nodes on a calm network.
//! let mut sim = SimOptions::new(7).nodes(5).build();
//! assert!(sim.run_until(|s| s.stable_leader().is_some(), Duration::from_secs(5)));
//! let old = sim.stable_leader().unwrap();
//!
//! // A partial partition: the leader can still send to everyone, but only node
//! // `ally` can answer it. CheckQuorum makes it step down, and a node it cannot
//! // hear from takes over (it never learns of it: that is what "partial" means).
//! let ally = if old == 1 { 2 } else { 1 };
//! for n in 1..=5 {
//!     if n != old && n != ally {
//!         sim.cut(n, old);
//!     }
//! }
//! sim.run_for(Duration::from_secs(5));
//! let new = sim.leader(); // the leader in contact with a quorum
//! assert!(new.is_some() && new != Some(old));
//! assert!(sim.report().is_ok(), "{}", sim.report());
//!
//! // A randomized run from a seed: faults, then heal and demand a leader.
//! let report = Simulation::new(SimOptions::from_seed(42)).run();
//! println!("{report}"); // options first; "reproduce with SIM_SEED=42" on failure
//! ```
//!
//! # The model
//!
//! * **Events.** A priority queue of events ordered by `(time, sequence number)` (a
//!   radix heap: the order of a binary heap, without its cache misses when hundreds
//!   of thousands of messages are in flight); the clock jumps to the next event, so
//!   an idle cluster costs nothing. Nodes are
//!   stepped with [`Election::step_into`](crate::Election::step_into) and one reused
//!   output buffer; each node has at most one live timer wake-up, re-derived from
//!   [`next_deadline`](crate::Election::next_deadline) after every step.
//! * **Network.** Every message (each recipient of a broadcast separately) is lost
//!   with probability [`SimOptions::loss_ppm`], else delivered after a
//!   [`Delay`] draw, and duplicated (with a second, independent delay) with
//!   probability [`SimOptions::duplicate_ppm`]. Varied delays reorder messages.
//!   Links are directed: see [`Simulation::cut`], [`Simulation::partition`],
//!   [`Simulation::isolate`]. A message whose link is down when it is sent or when
//!   it arrives is dropped. One directed link can have its own delay or loss
//!   ([`Simulation::set_link_delay`], [`Simulation::set_link_loss`]).
//! * **Storage.** A `Persist` takes [`SimOptions::persist_latency`]; the outputs
//!   after it wait until it is durable, and the node is blocked meanwhile (inputs
//!   queue up, timers wait). A crash loses the pending write and everything waiting
//!   for it; a restart sees only the last durable `HardState`. Crashes can land
//!   between any two outputs of a batch ([`Simulation::crash_mid_batch`]).
//! * **Clocks.** Each node's local time is `offset + time × (1 + drift)` with a
//!   random offset and a bounded drift in parts per million ([`ClockSkew`]), or
//!   the ones a script sets ([`Simulation::set_clock`]). Local time is monotonic
//!   (unless a script sets a running node's clock back), and a node is never woken
//!   before its own deadline. Random drift is capped so that any two nodes' clock
//!   rates differ by at most their [`Config::max_clock_drift`](crate::Config::max_clock_drift),
//!   as the [lease](crate::Election::lease) assumes
//!   ([`SimOptions::exceed_clock_drift`] lifts the cap, as a negative control);
//!   the lease invariant converts each leader's lease through its clock
//!   ([`lease`]).
//! * **Configuration.** Every node runs [`SimOptions::config`] unless the script
//!   gives it its own ([`Simulation::set_config`], from the node's next start or
//!   restart; [`SimOptions::build_with`] sets it before time zero), e.g. one node
//!   without PreVote, as in a mixed-version rollout.
//! * **Membership.** The simulation holds the application's membership
//!   ([`Simulation::membership`]); [`Simulation::add_voter`],
//!   [`Simulation::add_learner`] and [`Simulation::remove_node`] update it and send
//!   the command to every live node. New and restarted nodes start with it.
//!
//! # Availability
//!
//! A leader is *in contact with a quorum* when a quorum of its voters (itself
//! included) are live voters that believe it leads the current term (their term
//! and known leader match); a *stable* leader is one that every live member
//! believes in. The cluster is *unavailable* while no leader is in contact with a
//! quorum; the report sums that time from time zero. Belief lags a silent
//! partition by at most an election timeout (and CheckQuorum bounds the leader's
//! side).

mod availability;
mod clock;
mod engine;
mod event;
pub mod experiments;
mod faults;
pub mod fuzz;
mod history;
mod invariants;
pub mod lease;
mod network;
mod node;
mod options;
mod report;
mod rng;
mod script;
mod storage;
mod trace;
mod tuning;

pub use engine::{Delivery, DeliveryHook, MAX_NODE_ID, Simulation};
pub use history::{Change, HistoryEntry, NodeState};
pub use invariants::{Violation, ViolationKind};
pub use network::{MessageKind, NetStats};
pub use options::{ClockSkew, CrashFaults, Delay, PartitionFaults, PartitionMode, SimOptions};
pub use report::Report;
pub use rng::PPM;
pub use script::Action;
pub use trace::TraceSink;

/// The README's Rust examples (the simulator section), compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
