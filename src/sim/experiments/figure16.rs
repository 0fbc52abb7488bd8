//! The Raft paper's Figure 16: time to detect and replace a crashed leader.
//!
//! Ongaro & Ousterhout (USENIX ATC 2014, §9.3; Figure 9.8 of Ongaro's thesis)
//! crashed the leader of a five-server LogCabin cluster 1000 times per
//! election-timeout range and measured how long the cluster went without a
//! leader. This module re-runs that experiment on [`Election`](crate::Election)
//! through the simulator, one trial per simulation:
//!
//! 1. Five servers start; one of them, chosen at random, campaigns at once (the
//!    others' election timeouts are then independent uniform draws, as after a
//!    fresh reset in LogCabin) and leads.
//! 2. The servers' logs differ: every server gets a distinct
//!    [`Freshness`], the leader the highest and the four followers a random
//!    permutation of the rest. A voter only grants a candidate at least as fresh
//!    as itself, so the two stalest survivors can never collect three votes: 2 of
//!    the 4 survivors can never win, as in the paper.
//! 3. The leader sends one heartbeat to every follower at once (its regular
//!    broadcast; the heartbeat interval is half the minimum election timeout),
//!    then crashes at a uniformly random point of its heartbeat interval.
//! 4. The trial measures the time from the crash until **every** surviving
//!    follower has received a heartbeat from the first leader elected after the
//!    crash ([`Trial::all_heard`]; the paper: "until the other servers receive
//!    the new leader's first heartbeat"). The time until the first survivor
//!    hears it and the time the leader was elected are kept too.
//!
//! The network and disks model the paper's 1 GbE LAN ([`LAN_DELAY`],
//! [`LAN_PERSIST`]): a sub-millisecond one-way delay, and a persist (fsync)
//! latency that varies per write, with a floor and a long tail. While a node's write is pending it is blocked,
//! as LogCabin's single lock was. See `docs/figure16.md` for how the parameters
//! were chosen and how the results compare with the paper's.
//!
//! ```
//! use ballot::sim::experiments::figure16::Figure16;
//!
//! let experiment = Figure16::new(150, 300); // election timeouts 150–300 ms
//! let outcome = experiment.run(20);
//! println!("{}", outcome.summary().unwrap());
//! assert_eq!(outcome.completed().count(), 20);
//! ```

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use super::super::options::{Delay, SimOptions, nanos};
use super::super::rng::splitmix64;
use super::super::{Delivery, Simulation};
use super::summary::Summary;
use crate::{Config, Freshness, Input, Instant, Message, Term};

/// The paper's election-timeout ranges, in milliseconds, in the order of the
/// figure (top graph, then bottom graph). `150–150` is left out: a [`Config`]
/// needs `max > min` (and the paper's point about it, that without randomness
/// elections take over 10 s, needs no reproduction).
pub const RANGES: [(u64, u64); 9] = [
    (150, 151),
    (150, 155),
    (150, 175),
    (150, 200),
    (150, 300),
    (12, 24),
    (25, 50),
    (50, 100),
    (100, 200),
];

/// One-way message delay of the model LAN: uniform in `[100 µs, 300 µs)` (a
/// 1 GbE round trip through the kernel and an RPC layer).
pub const LAN_DELAY: Delay = Delay::Uniform {
    min: Duration::from_micros(100),
    max: Duration::from_micros(300),
};

/// Persist (write + fsync) latency of the model disk: 1 ms plus an exponentially
/// distributed extra with a mean of 3 ms (mean 4 ms, median 3.1 ms, p90 7.9 ms,
/// p99 14.8 ms), drawn independently for every write. Real `fsync` latencies are
/// right-skewed with a long tail; the floor and the mean are those of the earlier
/// uniform `[1 ms, 7 ms)` model, only the shape changed. A vote round (the
/// candidate's write, a round trip, a voter's write) takes 8.4 ms on average,
/// 7.4 ms at the median and 14 ms at the 90th percentile: the paper's
/// "broadcast time" of about 15 ms. See `docs/figure16.md`.
pub const LAN_PERSIST: Delay = Delay::Exponential {
    min: Duration::from_millis(1),
    mean: Duration::from_millis(3),
};

/// One range of the experiment, with its model parameters. [`Figure16::new`]
/// gives the paper's setup on the model LAN; the fields are public so any of it
/// can be varied.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Figure16 {
    /// Lower bound of the election timeout.
    pub timeout_min: Duration,
    /// Upper bound (exclusive) of the election timeout.
    pub timeout_max: Duration,
    /// The leader's heartbeat interval (the paper: half the minimum timeout).
    pub heartbeat_interval: Duration,
    /// Cluster size (the paper: 5).
    pub servers: usize,
    /// One-way message delay.
    pub delay: Delay,
    /// Persist latency, drawn per write.
    pub persist_latency: Delay,
    /// PreVote (the paper's LogCabin had none: off).
    pub pre_vote: bool,
    /// CheckQuorum (irrelevant to the measurement: off).
    pub check_quorum: bool,
    /// Give the servers distinct freshness so that only the two freshest
    /// survivors can win (the paper: on).
    pub distinct_logs: bool,
    /// A trial that has not finished this long after the crash is given up
    /// (reported in [`Outcome::unfinished`]).
    pub limit: Duration,
    /// Seed of the experiment; trial `i` derives its own from it.
    pub seed: u64,
}

impl Figure16 {
    /// The paper's experiment for election timeouts in `[min_ms, max_ms)`
    /// milliseconds: 5 servers, heartbeat interval `min / 2`, distinct logs,
    /// PreVote and CheckQuorum off, the [`LAN_DELAY`] network and the
    /// [`LAN_PERSIST`] disk, a 120 s limit per trial, seed 0.
    pub fn new(min_ms: u64, max_ms: u64) -> Self {
        let min = Duration::from_millis(min_ms);
        Figure16 {
            timeout_min: min,
            timeout_max: Duration::from_millis(max_ms),
            heartbeat_interval: min / 2,
            servers: 5,
            delay: LAN_DELAY,
            persist_latency: LAN_PERSIST,
            pre_vote: false,
            check_quorum: false,
            distinct_logs: true,
            limit: Duration::from_secs(120),
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

    /// Sets the one-way delay and the persist latency.
    #[must_use]
    pub fn with_model(mut self, delay: Delay, persist_latency: Delay) -> Self {
        self.delay = delay;
        self.persist_latency = persist_latency;
        self
    }

    /// `"150-300"`: the range's label, as in the paper's data file.
    pub fn label(&self) -> String {
        alloc::format!(
            "{}-{}",
            self.timeout_min.as_millis(),
            self.timeout_max.as_millis()
        )
    }

    /// The acceptance tolerance for this range's median against the paper's, in
    /// percent: ±10 % for ranges with at least 25 ms of randomness, ±25 % for the
    /// two narrowest (150–151, 150–155, where split votes dominate), none for the
    /// others (12–24 has only 12 ms of randomness: it is reported, not judged).
    pub fn median_tolerance_percent(&self) -> Option<u32> {
        let spread = self.timeout_max.saturating_sub(self.timeout_min);
        if spread >= Duration::from_millis(25) {
            Some(10)
        } else if self.timeout_min == Duration::from_millis(150)
            && spread <= Duration::from_millis(5)
        {
            Some(25)
        } else {
            None
        }
    }

    /// The configuration every server runs.
    pub fn config(&self) -> Config {
        Config::default()
            .with_election_timeout(self.timeout_min, self.timeout_max)
            .with_heartbeat_interval(self.heartbeat_interval)
            .with_pre_vote(self.pre_vote)
            .with_check_quorum(self.check_quorum)
    }

    /// Runs trial `index` (its own simulation, seeded from [`Figure16::seed`] and
    /// `index`).
    ///
    /// # Panics
    ///
    /// If the settings do not make a valid [`Config`], or `servers` is not in
    /// `3..=64`.
    pub fn trial(&self, index: u64) -> Trial {
        assert!(
            (3..=64).contains(&self.servers),
            "Figure16 needs 3 to 64 servers"
        );
        let seed = splitmix64(self.seed ^ splitmix64(index.wrapping_add(0xf16)));
        let mut sim = SimOptions::new(seed)
            .nodes(self.servers)
            .config(self.config())
            .delay(self.delay)
            .persist_latency(self.persist_latency)
            .build();
        let n = self.servers as u64;
        let max = self.timeout_max;

        // 1. A leader, elected before anyone's timer fires.
        let chosen = 1 + sim.random_below(n);
        let _ = sim.command(chosen, Input::Campaign);
        let settled = sim.run_until(|s| s.stable_leader().is_some(), max.saturating_mul(100));
        let leader = match sim.stable_leader() {
            Some(l) if settled => l,
            _ => return Trial::failed(),
        };

        // 2. Distinct logs: the leader freshest, the followers a random order.
        if self.distinct_logs {
            let mut order: Vec<u64> = (1..=n).filter(|&id| id != leader).collect();
            for i in (1..order.len()).rev() {
                let j = sim.random_below(i as u64 + 1) as usize;
                order.swap(i, j);
            }
            sim.set_freshness(leader, Freshness::new(1, n));
            for (rank, &id) in order.iter().enumerate() {
                sim.set_freshness(id, Freshness::new(1, rank as u64 + 1));
            }
        }

        // 3. The synchronised heartbeat: the leader's next broadcast, then a crash
        //    at a uniform point of the heartbeat interval.
        let old_term = sim.node(leader).map_or(Term::ZERO, |e| e.term());
        let Some(beat) = sim.node(leader).and_then(|e| e.next_deadline()) else {
            return Trial::failed();
        };
        sim.run_for(beat - sim.now());
        let offset = sim.random_below(nanos(self.heartbeat_interval));
        sim.run_for(Duration::from_nanos(offset));
        sim.crash(leader);
        let crashed = sim.now();
        let elections_before = elections(&sim); // the survivors' (the leader is down)

        // 4. Watch the new leader's heartbeats arrive.
        let survivors: u64 = (1..=n)
            .filter(|&id| id != leader)
            .fold(0, |m, id| m | 1 << (id - 1));
        let watch = Rc::new(RefCell::new(Watch::new(old_term, survivors)));
        let hook = Rc::clone(&watch);
        sim.on_deliver(alloc::boxed::Box::new(move |d: &Delivery| {
            hook.borrow_mut().on_delivery(d);
        }));
        let sticky_before = sticky(&sim);
        let has_new_leader = |s: &Simulation| {
            s.ids()
                .filter_map(|id| s.node(id))
                .any(|e| e.is_leader() && e.term() > old_term)
        };
        sim.run_until(has_new_leader, self.limit);
        let sticky_until_elected = sticky(&sim).saturating_sub(sticky_before);
        let probe = Rc::clone(&watch);
        let left = self.limit.saturating_sub(sim.now() - crashed);
        sim.run_until(|_| probe.borrow().done.is_some(), left);

        let w = watch.borrow();
        let elected = sim
            .leader_history()
            .find(|e| e.at >= crashed && e.state().is_some_and(|s| s.term > old_term))
            .map(|e| (e.at, e.node, e.state().map_or(0, |s| s.term.get())));
        let since = |t: Instant| t - crashed;
        Trial {
            all_heard: w.done.map(|(t, _, _)| since(t)),
            first_heard: w.done.map(|(_, first, _)| since(first)),
            elected: elected.map(|(t, _, _)| since(t)),
            new_leader: elected.map(|(_, id, _)| id),
            terms: elected.map_or(0, |(_, _, term)| term - old_term.get()),
            elections: elections(&sim).saturating_sub(elections_before),
            sticky_rejections: sticky_until_elected,
            violations: sim.violations().len(),
        }
    }

    /// Runs trials `0..trials`.
    pub fn run(&self, trials: usize) -> Outcome {
        Outcome {
            experiment: *self,
            trials: (0..trials as u64).map(|i| self.trial(i)).collect(),
        }
    }
}

/// Elections started so far by the live nodes.
fn elections(sim: &Simulation) -> u64 {
    sim.ids()
        .filter_map(|id| sim.node(id))
        .map(|e| e.stats().elections_started)
        .sum()
}

/// Vote requests refused for leader stickiness so far by the live nodes.
fn sticky(sim: &Simulation) -> u64 {
    sim.ids()
        .filter_map(|id| sim.node(id))
        .map(|e| e.stats().sticky_rejections)
        .sum()
}

/// Tracks, per (term, sender) of new-term heartbeats, which survivors have
/// received one, until some sender has reached all the others.
struct Watch {
    old_term: Term,
    survivors: u64,
    /// `(term, leader, heard mask, first receipt)`.
    seen: Vec<(Term, u64, u64, Instant)>,
    /// `(all heard, first heard, leader)` once done.
    done: Option<(Instant, Instant, u64)>,
}

impl Watch {
    fn new(old_term: Term, survivors: u64) -> Self {
        Watch {
            old_term,
            survivors,
            seen: Vec::new(),
            done: None,
        }
    }

    fn on_delivery(&mut self, d: &Delivery) {
        let Message::Heartbeat { term, .. } = d.message else {
            return;
        };
        if term <= self.old_term || self.done.is_some() || d.to == 0 || d.to > 64 {
            return;
        }
        let bit = 1u64 << (d.to - 1);
        let entry = match self
            .seen
            .iter_mut()
            .find(|(t, from, _, _)| *t == term && *from == d.from)
        {
            Some(entry) => entry,
            None => {
                self.seen.push((term, d.from, 0, d.at));
                let last = self.seen.len() - 1;
                &mut self.seen[last]
            }
        };
        entry.2 |= bit;
        let others = self.survivors & !(1u64 << (d.from.clamp(1, 64) - 1));
        if entry.2 & others == others {
            self.done = Some((d.at, entry.3, d.from));
        }
    }
}

/// What one trial measured, as durations since the crash.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Trial {
    /// Until every surviving follower had received a heartbeat from the first
    /// leader elected after the crash: **the metric**. `None` if the trial hit
    /// its limit.
    pub all_heard: Option<Duration>,
    /// Until the first survivor received one.
    pub first_heard: Option<Duration>,
    /// Until the new leader was elected.
    pub elected: Option<Duration>,
    /// The new leader.
    pub new_leader: Option<u64>,
    /// Terms it took (new leader's term minus the crashed leader's).
    pub terms: u64,
    /// Elections started by the survivors after the crash.
    pub elections: u64,
    /// Vote requests the survivors refused because of leader stickiness between
    /// the crash and the new leader's election (refusals after it, of late
    /// candidates, are stickiness doing its job and do not delay anything).
    pub sticky_rejections: u64,
    /// Safety violations the simulator found (always 0 unless there is a bug).
    pub violations: usize,
}

impl Trial {
    fn failed() -> Self {
        Trial {
            all_heard: None,
            first_heard: None,
            elected: None,
            new_leader: None,
            terms: 0,
            elections: 0,
            sticky_rejections: 0,
            violations: 0,
        }
    }
}

/// The trials of one range.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// The experiment that was run.
    pub experiment: Figure16,
    /// One entry per trial, in order.
    pub trials: Vec<Trial>,
}

impl Outcome {
    /// The metric ([`Trial::all_heard`]) of every finished trial, in trial order.
    pub fn completed(&self) -> impl Iterator<Item = Duration> + '_ {
        self.trials.iter().filter_map(|t| t.all_heard)
    }

    /// The metric of every trial, sorted ascending, an unfinished trial counted as
    /// [`Figure16::limit`] (so with [`Outcome::unfinished`] above zero, the upper
    /// quantiles are lower bounds).
    pub fn sorted(&self) -> Vec<Duration> {
        let limit = self.experiment.limit;
        let mut v: Vec<Duration> = self
            .trials
            .iter()
            .map(|t| t.all_heard.unwrap_or(limit))
            .collect();
        v.sort_unstable();
        v
    }

    /// Summary of the metric over all trials ([`Outcome::sorted`]).
    pub fn summary(&self) -> Option<Summary> {
        Summary::of_sorted(&self.sorted())
    }

    /// Summary of the time until the **first** survivor heard the new leader, an
    /// unfinished trial counted as [`Figure16::limit`] (as in [`Outcome::sorted`]).
    pub fn summary_first_heard(&self) -> Option<Summary> {
        let limit = self.experiment.limit;
        let v: Vec<Duration> = self
            .trials
            .iter()
            .map(|t| t.first_heard.unwrap_or(limit))
            .collect();
        Summary::of(&v)
    }

    /// Trials that hit [`Figure16::limit`] (or could not elect the first leader).
    pub fn unfinished(&self) -> usize {
        self.trials.iter().filter(|t| t.all_heard.is_none()).count()
    }

    /// Trials in which some survivor refused a vote because of leader stickiness.
    pub fn sticky_trials(&self) -> usize {
        self.trials
            .iter()
            .filter(|t| t.sticky_rejections > 0)
            .count()
    }

    /// Mean number of terms to elect the new leader, over the finished trials.
    pub fn mean_terms(&self) -> f64 {
        let done: Vec<&Trial> = self
            .trials
            .iter()
            .filter(|t| t.all_heard.is_some())
            .collect();
        if done.is_empty() {
            return 0.0;
        }
        done.iter().map(|t| t.terms as f64).sum::<f64>() / done.len() as f64
    }

    /// Safety violations over all trials (always 0 unless there is a bug).
    pub fn violations(&self) -> usize {
        self.trials.iter().map(|t| t.violations).sum()
    }
}

/// One range of the paper's measurements.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Reference {
    /// The range's label, e.g. `"150-300"`.
    pub label: String,
    /// Lower bound of the range, milliseconds.
    pub min_ms: u64,
    /// Upper bound of the range, milliseconds.
    pub max_ms: u64,
    /// The measured times, sorted ascending.
    pub samples: Vec<Duration>,
}

/// Parses the paper's raw data in the format of `ongaro2014_fig16_lan_raw.csv`
/// (from `heidihoward/ocaml-raft-data`): a header line, then one line per trial,
/// `range,cumulative fraction,time in ms` (e.g. `150-300,0.000500,92.713`).
/// Lines that do not parse are skipped. Ranges come out in order of first
/// appearance, samples sorted.
pub fn parse_reference(csv: &str) -> Vec<Reference> {
    let mut out: Vec<Reference> = Vec::new();
    for line in csv.lines() {
        let mut fields = line.trim().split(',');
        let (Some(label), Some(_), Some(time)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some((lo, hi)) = label.split_once('-') else {
            continue;
        };
        let (Ok(min_ms), Ok(max_ms)) = (lo.parse::<u64>(), hi.parse::<u64>()) else {
            continue;
        };
        let Some(time) = parse_millis(time) else {
            continue;
        };
        match out.iter_mut().find(|r| r.label == label) {
            Some(r) => r.samples.push(time),
            None => out.push(Reference {
                label: label.into(),
                min_ms,
                max_ms,
                samples: alloc::vec![time],
            }),
        }
    }
    for r in &mut out {
        r.samples.sort_unstable();
    }
    out
}

/// `"15.276909"` (milliseconds, up to nanosecond precision) as a duration.
fn parse_millis(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let whole: u64 = whole.parse().ok()?;
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos_frac = 0u64;
    for b in frac.bytes().chain(core::iter::repeat(b'0')).take(6) {
        nanos_frac = nanos_frac * 10 + u64::from(b - b'0');
    }
    Some(Duration::from_nanos(
        whole.checked_mul(1_000_000)?.checked_add(nanos_frac)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_data_file_format() {
        let csv = "Follower Timeouts, Cumulative Percent, Time to elect Leader\n\
                   12-24,0.000500,15.276909\n12-24,0.001500,15.2\nbad line\n150-300,0.5,92\n";
        let r = parse_reference(csv);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].label.as_str(), r[0].min_ms, r[0].max_ms),
            ("12-24", 12, 24)
        );
        assert_eq!(
            r[0].samples,
            [
                Duration::from_micros(15_200),
                Duration::from_nanos(15_276_909)
            ]
        );
        assert_eq!(r[1].samples, [Duration::from_millis(92)]);
    }

    #[test]
    fn a_trial_measures_a_plausible_downtime() {
        let t = Figure16::new(150, 300).trial(0);
        let all = t.all_heard.unwrap();
        let first = t.first_heard.unwrap();
        let elected = t.elected.unwrap();
        // At least the minimum timeout minus a heartbeat interval, and the order
        // elected <= first heard <= all heard.
        assert!(all >= Duration::from_millis(75), "{t:?}");
        assert!(elected <= first && first <= all, "{t:?}");
        assert!(t.terms >= 1 && t.new_leader.is_some() && t.violations == 0);
    }
}
