//! Reproductions of published measurements of Raft elections, runnable on your own
//! settings.
//!
//! * [`figure16`]: the Raft paper's Figure 16 — time to replace a crashed leader
//!   in a five-server cluster, per election-timeout range (`cargo run --release
//!   --features sim --example figure16` prints ours next to the paper's).
//! * [`split_vote`]: Ongaro's thesis §9.3 — how often the first term ends
//!   without a leader when every timer starts together.
//! * [`wan`]: Ongaro's thesis §9.3 WAN experiment — election times of five
//!   servers with 30–40 ms one-way latency and 300–600 ms timeouts, with 0, 1
//!   or 2 servers failed.
//!
//! Each builds one [`Simulation`](super::Simulation) per trial, seeded from the
//! experiment's seed and the trial number, so a result replays exactly. The
//! statistics ([`Summary`], [`ks_distance`]) use integer quantiles, the same for
//! our samples and the paper's.

pub mod figure16;
pub mod split_vote;
mod summary;
pub mod wan;

pub use summary::{Summary, ks_critical_squared, ks_distance, quantile};
