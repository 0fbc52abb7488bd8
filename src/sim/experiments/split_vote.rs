//! How often the first term ends without a leader (Ongaro's thesis §9.3).
//!
//! The thesis' model: every server starts its election timer at the same moment,
//! each timeout is uniform over `[min, max)`, messages take a fixed one-way
//! latency `δ`, and disks are instantaneous. Some servers are down; the live ones
//! are just enough for a majority, so a candidate needs **every** live server's
//! vote. The first server to time out starts term 1 and sends its vote requests;
//! they arrive `δ` later. Any other live server whose own timeout fires before
//! then becomes a candidate of term 1 too and votes for itself, and term 1 can no
//! longer elect anyone: it ends (when someone's timer fires again and starts
//! term 2) with no leader. So term 1 has a leader exactly when the gap between the
//! first and the second timeout among the `k` live servers exceeds `δ`, which for
//! uniform timeouts happens with probability `(1 - δ / (max - min))^k`:
//!
//! | servers | down | `δ / (max - min)` | `P(no leader in term 1)` |
//! |---|---|---|---|
//! | 5 | 2 | 0.2 | `1 - 0.8³ = 0.488` |
//! | 9 | 4 | 0.1 | `1 - 0.9⁵ ≈ 0.410` |
//!
//! With more live servers than a bare majority, the thesis' general formula
//! applies ([`SplitVote::thesis_rate`]): term 1 splits only when enough servers
//! time out within `δ` of the first that it cannot collect a majority.
//!
//! [`SplitVote`] runs that experiment on the real [`Election`](crate::Election)
//! through the simulator (PreVote off, as in the model) and counts the trials
//! whose term 1 produced no leader.
//!
//! ```
//! use ballot::sim::experiments::split_vote::SplitVote;
//!
//! let experiment = SplitVote::new(5, 2, 200_000); // 5 servers, 2 down, δ = 0.2 × range
//! let outcome = experiment.run(200);
//! assert_eq!(outcome.trials, 200);
//! println!(
//!     "no leader in term 1: {:.1} % (model {:.1} %)",
//!     100.0 * outcome.fraction(),
//!     100.0 * experiment.predicted()
//! );
//! ```

use core::time::Duration;

use super::super::options::{Delay, SimOptions, nanos};
use super::super::rng::splitmix64;
use crate::{Config, Role, Term};

/// One configuration of the split-vote experiment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct SplitVote {
    /// Cluster size (voters).
    pub servers: usize,
    /// Servers that are down from the start (the highest ids).
    pub down: usize,
    /// Lower bound of the election timeout.
    pub timeout_min: Duration,
    /// Upper bound (exclusive) of the election timeout.
    pub timeout_max: Duration,
    /// The fixed one-way message latency `δ`.
    pub latency: Duration,
    /// Seed of trial 0; trial `i` derives its own seed from it.
    pub seed: u64,
}

impl SplitVote {
    /// `servers` servers of which `down` are down, election timeouts in
    /// `[150 ms, 300 ms)`, a fixed one-way latency of `latency_ppm / 10⁶` of the
    /// timeout range, no persist latency, seed 0.
    pub fn new(servers: usize, down: usize, latency_ppm: u32) -> Self {
        let (min, max) = (Duration::from_millis(150), Duration::from_millis(300));
        let range = nanos(max - min);
        let latency = (u128::from(range) * u128::from(latency_ppm) / 1_000_000) as u64;
        SplitVote {
            servers,
            down,
            timeout_min: min,
            timeout_max: max,
            latency: Duration::from_nanos(latency),
            seed: 0,
        }
    }

    /// Sets the seed of the experiment.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The model's probability that term 1 ends without a leader:
    /// `1 - (1 - δ / (max - min))^live`.
    pub fn predicted(&self) -> f64 {
        let range = nanos(self.timeout_max.saturating_sub(self.timeout_min)) as f64;
        let d = (nanos(self.latency) as f64 / range).min(1.0);
        let live = self.servers.saturating_sub(self.down);
        let mut all_late = 1.0;
        for _ in 0..live {
            all_late *= 1.0 - d;
        }
        1.0 - all_late
    }

    /// The thesis' general split-vote formula for a fixed latency (§9.3, "Split
    /// vote rate with fixed latency"): with `s` live servers of `n`, the first
    /// server to time out gets its own vote and those of the servers that time
    /// out more than `δ` after it, so term 1 splits when the first
    /// `c = s - ⌊n/2⌋ + 1` timeouts fall within `δ` of each other, which has
    /// probability `Σ_{k=c-1}^{s} C(s, k) lᵏ (1 - l)^{s-k}` with `l = δ / (max -
    /// min)` (capped at 1). For a bare majority (`c = 2`) this is
    /// [`SplitVote::predicted`]; with more live servers it is lower. 1 if the
    /// live servers are no majority (no term can elect anyone), 0 if `c > s`.
    pub fn thesis_rate(&self) -> f64 {
        let n = self.servers;
        let s = self.servers.saturating_sub(self.down);
        if s < n / 2 + 1 {
            return 1.0;
        }
        let c = s - n / 2 + 1;
        if c > s {
            return 0.0;
        }
        let range = nanos(self.timeout_max.saturating_sub(self.timeout_min)) as f64;
        let l = (nanos(self.latency) as f64 / range).min(1.0);
        let mut total = 0.0;
        for k in c - 1..=s {
            total += binomial(s, k) * powi(l, k) * powi(1.0 - l, s - k);
        }
        total.min(1.0)
    }

    /// Runs trial `index`; returns whether some node became leader in term 1.
    ///
    /// # Panics
    ///
    /// If the timeouts do not make a valid [`Config`] (`0 < min < max`).
    pub fn trial(&self, index: u64) -> bool {
        let heartbeat = (self.timeout_min / 2).max(Duration::from_nanos(1));
        let config = Config::default()
            .with_election_timeout(self.timeout_min, self.timeout_max)
            .with_heartbeat_interval(heartbeat)
            .with_pre_vote(false)
            .with_check_quorum(false);
        let seed = splitmix64(self.seed ^ splitmix64(index.wrapping_add(0x5b17)));
        let mut sim = SimOptions::new(seed)
            .nodes(self.servers)
            .config(config)
            .delay(Delay::Fixed(self.latency))
            .persist_latency(Delay::ZERO)
            .build();
        let servers = self.servers as u64;
        for id in servers - self.down.min(self.servers) as u64 + 1..=servers {
            sim.crash(id);
        }
        // Term 1 is over once it has a leader, or once anyone has moved on to term 2
        // (a term-1 candidate's timer fired again). Ten maximum timeouts is ample.
        let live = 1..=servers - self.down.min(self.servers) as u64;
        let term1_decided = |s: &super::super::Simulation| {
            live.clone().any(|id| {
                s.node(id)
                    .is_some_and(|n| n.term() > Term(1) || n.role() == Role::Leader)
            })
        };
        sim.run_until(term1_decided, self.timeout_max.saturating_mul(10));
        sim.leader_history()
            .any(|e| e.state().is_some_and(|s| s.term == Term(1)))
    }

    /// Runs trials `0..trials`.
    pub fn run(&self, trials: usize) -> SplitVoteOutcome {
        let with_leader = (0..trials as u64).filter(|&i| self.trial(i)).count();
        SplitVoteOutcome {
            trials,
            no_leader: trials - with_leader,
        }
    }
}

/// `C(n, k)` as a float (exact for the small cluster sizes used here).
fn binomial(n: usize, k: usize) -> f64 {
    if k > n {
        return 0.0;
    }
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// `x^e` by repeated multiplication (`core` has no `powi` without `std`).
fn powi(x: f64, e: usize) -> f64 {
    (0..e).fold(1.0, |acc, _| acc * x)
}

/// How many trials ended term 1 without a leader.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct SplitVoteOutcome {
    /// Trials run.
    pub trials: usize,
    /// Trials whose term 1 had no leader.
    pub no_leader: usize,
}

impl SplitVoteOutcome {
    /// The fraction of trials whose term 1 had no leader (0 for no trials).
    pub fn fraction(&self) -> f64 {
        if self.trials == 0 {
            0.0
        } else {
            self.no_leader as f64 / self.trials as f64
        }
    }

    /// The variance of [`SplitVoteOutcome::fraction`] if the true probability is
    /// `p`: `p (1 - p) / trials` (a binomial proportion; its square root is the
    /// standard error σ).
    pub fn variance_if(&self, p: f64) -> f64 {
        if self.trials == 0 {
            f64::INFINITY
        } else {
            p * (1.0 - p) / self.trials as f64
        }
    }
}
