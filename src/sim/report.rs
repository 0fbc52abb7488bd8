//! [`Report`]: the outcome of a run.

use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use super::engine::Simulation;
use super::invariants::{Violation, ViolationKind};
use super::network::{MessageKind, NetStats};
use super::options::{Nanos, SimOptions, nanos};
use crate::Instant;

/// The outcome of a simulation: what was run, what happened, what broke.
///
/// Its `Display` prints the options first, then the numbers, then the violations
/// and, if there are any, `reproduce with SIM_SEED=<seed>`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// The options (which the seed expanded to, or which were given).
    pub options: SimOptions,
    /// The running hash of every event: equal hashes, equal runs.
    pub trace_hash: u64,
    /// Simulated time at the end.
    pub end: Instant,
    /// Events processed.
    pub events: u64,
    /// Times a node became leader.
    pub leader_changes: u64,
    /// The highest term any node reached.
    pub max_term: u64,
    /// Total simulated time without a leader in contact with a quorum (see the
    /// [availability definition](super#availability)).
    pub unavailable: Duration,
    /// The longest such stretch.
    pub longest_unavailable: Duration,
    /// Message counters.
    pub net: NetStats,
    /// Crashes (scripted and random).
    pub crashes: u64,
    /// Restarts.
    pub restarts: u64,
    /// Time from the last heal to a stable leader, if a liveness check succeeded.
    pub liveness: Option<Duration>,
    /// The violations (the first 1,000).
    pub violations: Vec<Violation>,
    /// How many violations there were in all.
    pub violation_count: u64,
}

impl Report {
    /// Whether no invariant was violated (liveness included).
    pub fn is_ok(&self) -> bool {
        self.violation_count == 0
    }

    /// Whether some violation is of a kind `matches` accepts.
    pub fn has(&self, matches: impl Fn(&ViolationKind) -> bool) -> bool {
        self.violations.iter().any(|v| matches(&v.kind))
    }

    /// Panics with the whole report (options, numbers, violations and the seed to
    /// reproduce) unless the run was clean. Meant for tests.
    ///
    /// # Panics
    ///
    /// If any violation was found.
    #[track_caller]
    pub fn assert_ok(&self) {
        assert!(self.is_ok(), "simulation failed\n{self}");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.options)?;
        writeln!(
            f,
            "ran to {} ({} events), trace hash {:016x}",
            self.end, self.events, self.trace_hash
        )?;
        writeln!(
            f,
            "leaders elected {}, max term {}, unavailable {} (longest {})",
            self.leader_changes,
            self.max_term,
            Nanos(nanos(self.unavailable)),
            Nanos(nanos(self.longest_unavailable))
        )?;
        let n = &self.net;
        writeln!(
            f,
            "messages sent {}, delivered {} (heartbeats {}, votes {}, pre-votes {}), duplicated {}, lost {}, cut {}, to down nodes {}",
            n.sent,
            n.delivered,
            n.delivered(MessageKind::Heartbeat),
            n.delivered(MessageKind::VoteRequest),
            n.delivered(MessageKind::PreVoteRequest),
            n.duplicated,
            n.dropped_loss,
            n.dropped_link,
            n.dropped_down
        )?;
        write!(f, "crashes {}, restarts {}", self.crashes, self.restarts)?;
        match self.liveness {
            Some(d) => writeln!(f, ", stable leader {} after healing", Nanos(nanos(d)))?,
            None => writeln!(f)?,
        }
        if self.is_ok() {
            return write!(f, "no violations");
        }
        writeln!(f, "{} VIOLATIONS:", self.violation_count)?;
        for v in &self.violations {
            writeln!(f, "  {v}")?;
        }
        write!(f, "reproduce with SIM_SEED={}", self.seed)
    }
}

impl Simulation {
    /// The report so far.
    pub fn report(&self) -> Report {
        let (unavailable, longest) = self.avail.unavailable(self.now);
        Report {
            seed: self.options.seed,
            options: self.options,
            trace_hash: self.tracer.hash,
            end: Instant::from_nanos(self.now),
            events: self.events,
            leader_changes: self.checker.elections_won,
            max_term: self.checker.max_term,
            unavailable: Duration::from_nanos(unavailable),
            longest_unavailable: Duration::from_nanos(longest),
            net: self.net.stats,
            crashes: self.crashes,
            restarts: self.restarts,
            liveness: self.liveness,
            violations: self.checker.violations.clone(),
            violation_count: self.checker.count,
        }
    }
}
