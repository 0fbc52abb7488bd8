//! Ongaro's thesis §9.3 WAN experiment: election times of a five-server cluster
//! spanning a continent, with zero, one or two servers failed.
//!
//! The thesis (§9.3, "Simulated WAN network") ran its AvailSim
//! simulator with these settings, 10,000 elections per curve:
//!
//! * five servers, of which 0, 1 or 2 have failed;
//! * every message takes a one-way latency drawn uniformly from **30–40 ms**;
//! * election timeouts uniform in **300–600 ms** (10–20 × the one-way latency);
//! * every server starts with a fresh election timer (no crash inside a
//!   heartbeat interval), and processing and disk writes take no time;
//! * the election time runs from that start until a candidate has collected a
//!   majority of votes.
//!
//! [`Wan`] runs the same experiment on [`Election`](crate::Election) in the
//! simulator, one simulation per trial: `failed` servers (the highest ids) are
//! down from time zero, the others start their timers at time zero (a cold
//! start), PreVote and CheckQuorum are off (the thesis' basic algorithm), the
//! persist latency is zero. A trial records when the leader that the whole live
//! cluster ends up following was elected ([`WanTrial::elected`], the thesis'
//! metric) and when the last live server learned of it from its first heartbeat
//! ([`WanTrial::all_heard`]).
//!
//! What the model implies, and `tests/sim_wan.rs` checks: no election can finish
//! before `timeout_min + 2 × min latency` (360 ms: a timeout, a vote request, a
//! grant); with two servers failed a candidate needs every live vote, so term 1
//! ends without a leader whenever a second server times out before the first
//! one's request reaches it, which happens in between `1 − (1 − 30/300)³ = 27.1 %`
//! and `1 − (1 − 40/300)³ = 35.0 %` of the trials (the thesis' split-vote formula
//! at the shortest and the longest latency). `docs/figure16.md` compares the
//! result with the thesis' published means and 99.9th percentiles.
//!
//! ```
//! use ballot::sim::experiments::wan::Wan;
//!
//! let outcome = Wan::new(1).run(50); // one of five servers failed, 50 elections
//! assert_eq!(outcome.unfinished(), 0);
//! println!("{}", outcome.summary().unwrap());
//! ```

use alloc::vec::Vec;
use core::time::Duration;

use super::super::Simulation;
use super::super::options::{Delay, SimOptions};
use super::super::rng::splitmix64;
use super::summary::Summary;
use crate::{Config, Instant, Term};

/// The thesis' WAN latency: uniform in `[30 ms, 40 ms)` per message.
pub const WAN_DELAY: Delay = Delay::Uniform {
    min: Duration::from_millis(30),
    max: Duration::from_millis(40),
};

/// One curve of the experiment: the cluster, how many servers have failed, and
/// the model. [`Wan::new`] gives the thesis' setup; the fields are public so any
/// of it can be varied.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Wan {
    /// Cluster size (the thesis: 5).
    pub servers: usize,
    /// Servers down from time zero (the highest ids; the thesis: 0, 1 or 2).
    pub failed: usize,
    /// Lower bound of the election timeout (the thesis: 300 ms).
    pub timeout_min: Duration,
    /// Upper bound (exclusive) of the election timeout (the thesis: 600 ms).
    pub timeout_max: Duration,
    /// One-way message latency (the thesis: uniform 30–40 ms, [`WAN_DELAY`]).
    pub delay: Delay,
    /// Persist latency, drawn per write (the thesis: none).
    pub persist_latency: Delay,
    /// PreVote (the thesis' basic algorithm: off).
    pub pre_vote: bool,
    /// A trial that has not finished this long after the start is given up
    /// (reported in [`WanOutcome::unfinished`]).
    pub limit: Duration,
    /// Seed of the experiment; trial `i` derives its own from it.
    pub seed: u64,
}

impl Wan {
    /// The thesis' experiment with `failed` of five servers down: timeouts in
    /// `[300 ms, 600 ms)`, heartbeats every 150 ms, one-way latency uniform in
    /// `[30 ms, 40 ms)`, instantaneous disks, PreVote and CheckQuorum off, a 60 s
    /// limit per trial, seed 0.
    pub fn new(failed: usize) -> Self {
        Wan {
            servers: 5,
            failed,
            timeout_min: Duration::from_millis(300),
            timeout_max: Duration::from_millis(600),
            delay: WAN_DELAY,
            persist_latency: Delay::ZERO,
            pre_vote: false,
            limit: Duration::from_secs(60),
            seed: 0,
        }
    }

    /// Sets the seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Turns PreVote on or off.
    #[must_use]
    pub fn with_pre_vote(mut self, on: bool) -> Self {
        self.pre_vote = on;
        self
    }

    /// Live servers: `servers - failed`.
    pub fn live(&self) -> usize {
        self.servers.saturating_sub(self.failed)
    }

    /// The configuration every server runs (heartbeat interval half the minimum
    /// timeout; CheckQuorum off).
    pub fn config(&self) -> Config {
        Config::default()
            .with_election_timeout(self.timeout_min, self.timeout_max)
            .with_heartbeat_interval((self.timeout_min / 2).max(Duration::from_nanos(1)))
            .with_pre_vote(self.pre_vote)
            .with_check_quorum(false)
    }

    /// Runs trial `index` (its own simulation, seeded from [`Wan::seed`] and
    /// `index`).
    ///
    /// # Panics
    ///
    /// If the settings do not make a valid [`Config`], or `servers` is 0.
    pub fn trial(&self, index: u64) -> WanTrial {
        assert!(self.servers > 0, "Wan needs at least one server");
        let seed = splitmix64(self.seed ^ splitmix64(index.wrapping_add(0x3a4)));
        let mut sim = SimOptions::new(seed)
            .nodes(self.servers)
            .config(self.config())
            .delay(self.delay)
            .persist_latency(self.persist_latency)
            .build();
        let n = self.servers as u64;
        let live = self.live() as u64;
        for id in live + 1..=n {
            sim.crash(id);
        }
        let settled = sim.run_until(|s| followed_leader(s, live).is_some(), self.limit);
        let Some((leader, term)) = followed_leader(&sim, live).filter(|_| settled) else {
            return WanTrial {
                elected: None,
                all_heard: None,
                term: 0,
                first_term_leader: first_term_leader(&sim),
                violations: sim.violations().len(),
            };
        };
        let elected = sim
            .leader_history()
            .find(|e| e.node == leader && e.state().is_some_and(|s| s.term == term))
            .map(|e| e.at - Instant::ZERO);
        WanTrial {
            elected,
            all_heard: Some(sim.now() - Instant::ZERO),
            term: term.get(),
            first_term_leader: first_term_leader(&sim),
            violations: sim.violations().len(),
        }
    }

    /// Runs trials `0..trials`.
    pub fn run(&self, trials: usize) -> WanOutcome {
        WanOutcome {
            experiment: *self,
            trials: (0..trials as u64).map(|i| self.trial(i)).collect(),
        }
    }
}

/// The leader and term that every live server (ids `1..=live`) follows, if any.
fn followed_leader(sim: &Simulation, live: u64) -> Option<(u64, Term)> {
    let leader = (1..=live).find(|&id| sim.node(id).is_some_and(|e| e.is_leader()))?;
    let term = sim.node(leader)?.term();
    (1..=live)
        .all(|id| {
            sim.node(id)
                .is_some_and(|e| e.term() == term && e.leader() == Some(leader))
        })
        .then_some((leader, term))
}

/// Whether some server became leader in term 1.
fn first_term_leader(sim: &Simulation) -> bool {
    sim.leader_history()
        .any(|e| e.state().is_some_and(|s| s.term == Term(1)))
}

/// One WAN election.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct WanTrial {
    /// From the start until the leader that every live server ends up following
    /// was elected (it collected a majority of votes): **the thesis' metric**.
    /// `None` if the trial hit its limit.
    pub elected: Option<Duration>,
    /// From the start until every live server follows that leader (the last one
    /// has received its first heartbeat).
    pub all_heard: Option<Duration>,
    /// The leader's term (1 if the first term elected it).
    pub term: u64,
    /// Whether some server became leader in term 1 (`false`: term 1 ended in a
    /// split vote).
    pub first_term_leader: bool,
    /// Safety violations the simulator found (always 0 unless there is a bug).
    pub violations: usize,
}

/// The trials of one curve.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct WanOutcome {
    /// The experiment that was run.
    pub experiment: Wan,
    /// One entry per trial, in order.
    pub trials: Vec<WanTrial>,
}

impl WanOutcome {
    /// The election time ([`WanTrial::elected`]) of every trial, sorted
    /// ascending, an unfinished trial counted as [`Wan::limit`].
    pub fn sorted(&self) -> Vec<Duration> {
        let limit = self.experiment.limit;
        let mut v: Vec<Duration> = self
            .trials
            .iter()
            .map(|t| t.elected.unwrap_or(limit))
            .collect();
        v.sort_unstable();
        v
    }

    /// Summary of the election time over all trials ([`WanOutcome::sorted`]).
    pub fn summary(&self) -> Option<Summary> {
        Summary::of_sorted(&self.sorted())
    }

    /// Trials that hit [`Wan::limit`].
    pub fn unfinished(&self) -> usize {
        self.trials.iter().filter(|t| t.elected.is_none()).count()
    }

    /// Trials whose first term ended without a leader.
    pub fn first_term_splits(&self) -> usize {
        self.trials.iter().filter(|t| !t.first_term_leader).count()
    }

    /// Safety violations over all trials (always 0 unless there is a bug).
    pub fn violations(&self) -> usize {
        self.trials.iter().map(|t| t.violations).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trial_elects_after_a_timeout_and_a_round_trip() {
        let t = Wan::new(0).trial(0);
        let elected = t.elected.unwrap();
        assert!(elected >= Duration::from_millis(360), "{t:?}");
        assert!(t.all_heard.unwrap() >= elected + Duration::from_millis(30));
        assert!(t.term >= 1 && t.violations == 0);
    }
}
