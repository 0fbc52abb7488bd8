//! [`SimOptions`]: everything a simulation run depends on, explicit or expanded from
//! one seed, and the distributions and fault settings it is made of.

use core::fmt;
use core::time::Duration;

use super::rng::{SimRng, splitmix64};
use super::{PPM, Simulation};
use crate::Config;

/// A random duration: a message's one-way delay, a persist's latency, the time
/// between two faults. Drawn with integer arithmetic from the simulation's seed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Delay {
    /// Always the same duration.
    Fixed(Duration),
    /// Uniform in `[min, max)` (exactly `min` if the range is empty).
    Uniform {
        /// Inclusive lower bound.
        min: Duration,
        /// Exclusive upper bound.
        max: Duration,
    },
    /// `min` plus an exponentially distributed extra with the given mean (a long
    /// tail), capped at `min + 32 × mean`.
    Exponential {
        /// The floor (propagation delay).
        min: Duration,
        /// Mean of the extra delay on top of `min`.
        mean: Duration,
    },
}

impl Delay {
    /// No delay at all.
    pub const ZERO: Delay = Delay::Fixed(Duration::ZERO);

    /// Uniform in `[min, max)`.
    pub const fn uniform(min: Duration, max: Duration) -> Self {
        Delay::Uniform { min, max }
    }

    /// The largest value this distribution can produce, in nanoseconds.
    pub fn max_nanos(&self) -> u64 {
        match *self {
            Delay::Fixed(d) => nanos(d),
            Delay::Uniform { min, max } => nanos(max).max(nanos(min)),
            Delay::Exponential { min, mean } => {
                nanos(min).saturating_add(nanos(mean).saturating_mul(32))
            }
        }
    }

    /// One draw, in nanoseconds.
    pub(crate) fn draw(&self, rng: &mut SimRng) -> u64 {
        match *self {
            Delay::Fixed(d) => nanos(d),
            Delay::Uniform { min, max } => rng.range(nanos(min), nanos(max)),
            Delay::Exponential { min, mean } => {
                let mean = nanos(mean);
                let extra = ((u128::from(mean) * u128::from(rng.exp_q16())) >> 16) as u64;
                nanos(min).saturating_add(extra.min(mean.saturating_mul(32)))
            }
        }
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Delay::Fixed(d) => write!(f, "{}", Nanos(nanos(d))),
            Delay::Uniform { min, max } => {
                write!(f, "uniform [{}, {})", Nanos(nanos(min)), Nanos(nanos(max)))
            }
            Delay::Exponential { min, mean } => {
                write!(
                    f,
                    "{} + exp(mean {})",
                    Nanos(nanos(min)),
                    Nanos(nanos(mean))
                )
            }
        }
    }
}

/// What kind of network partition the random fault injector creates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PartitionMode {
    /// Two symmetric groups, split at random.
    Symmetric,
    /// Random **directed** link cuts: asymmetric links and partial partitions (a
    /// node that reaches some peers but not others; A hears B but not the reverse).
    Directed,
    /// One random node cut off from everyone, both ways.
    Isolate,
    /// One of the above, chosen at random each time.
    Mixed,
}

/// Random partitions during the fault phase: every `every`, a partition of kind
/// `mode` appears and lasts `lasting`, then **all** links heal (scripted cuts
/// included).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PartitionFaults {
    /// The kind of partition.
    pub mode: PartitionMode,
    /// Time from one heal to the next partition.
    pub every: Delay,
    /// How long a partition lasts.
    pub lasting: Delay,
}

/// Random crashes during the fault phase: every `every`, a random live node
/// crashes and restarts `down_for` later.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CrashFaults {
    /// Time between two crashes.
    pub every: Delay,
    /// How long a crashed node stays down.
    pub down_for: Delay,
    /// Probability (parts per million) that a crash lands inside the node's next
    /// non-empty output batch instead of right away: before one of its first four
    /// outputs, or while its `Persist` is not yet durable.
    pub mid_batch_ppm: u32,
}

/// Per-node clock error: a constant offset of the node's local origin and a
/// constant rate error.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ClockSkew {
    /// Each node's local clock origin is offset by a uniform draw in `[0, max_offset]`.
    pub max_offset: Duration,
    /// Each node's clock runs fast or slow by a uniform draw in
    /// `[-max_drift_ppm, +max_drift_ppm]` parts per million (capped at ±50 %).
    pub max_drift_ppm: u32,
}

/// Everything a [`Simulation`] depends on. Expand a seed into random options with
/// [`SimOptions::from_seed`], or start from [`SimOptions::new`] (a calm network, no
/// faults) and set what you need with the builder methods.
///
/// Node ids are `1..=nodes` for the voters and `nodes + 1..=nodes + learners` for
/// the learners. The `Display` form is what a report prints first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct SimOptions {
    /// The seed every random draw derives from (network, storage, clocks, faults,
    /// and each node's [`Config::seed`]).
    pub seed: u64,
    /// Number of voters at the start (ids `1..=nodes`).
    pub nodes: usize,
    /// Number of learners at the start (ids after the voters).
    pub learners: usize,
    /// The configuration every node runs. Its `seed` is replaced per node (and per
    /// restart) by one derived from [`SimOptions::seed`].
    pub config: Config,
    /// One-way message delay. Reordering arises from varied delays.
    pub delay: Delay,
    /// Probability that a message is lost, in parts per million.
    pub loss_ppm: u32,
    /// Probability that a message is delivered twice (with an independent second
    /// delay), in parts per million.
    pub duplicate_ppm: u32,
    /// Time for a `Persist` to become durable.
    pub persist_latency: Delay,
    /// Random partitions during the fault phase, if any.
    pub partitions: Option<PartitionFaults>,
    /// Random crashes during the fault phase, if any.
    pub crashes: Option<CrashFaults>,
    /// Per-node clock offset and drift.
    pub clocks: ClockSkew,
    /// How long [`Simulation::run`] injects random faults before healing.
    pub fault_phase: Duration,
    /// The liveness bound, in multiples of the configuration's maximum election
    /// timeout: after healing, a stable leader must appear within it.
    pub liveness_timeouts: u32,
    /// Keep a human-readable trace (one line per interesting event).
    pub trace: bool,
    /// **Test only — breaks safety on purpose.** A restarted node forgets its durable
    /// `HardState` (restarts from term 0 with no vote), as if the disk lied about
    /// `fsync`. Exists so tests can prove the invariant checker catches double votes
    /// and two leaders in one term. Never enable it for anything else.
    pub break_durability: bool,
    /// **Negative control — may break leases on purpose.** Random clocks draw their
    /// drift from the whole `±clocks.max_drift_ppm` range. By default (off) a node's
    /// random drift is capped at `⌊ρ·10⁶ / (2·10⁶ + ρ)⌋` ppm, `ρ` its
    /// [`Config::max_clock_drift`], so any two nodes' clock rates differ by at most
    /// the factor `1 + ρ/10⁶` the lease assumes. (Scripted clocks are never capped.)
    pub exceed_clock_drift: bool,
    /// **Test only — breaks leases on purpose.** Every heartbeat reply reaches its
    /// leader with its `sent` replaced by the leader's local time of arrival, so
    /// leases are computed from when a heartbeat was *acknowledged* instead of
    /// when it was sent. Exists so a test can show the lease checker catches it.
    #[doc(hidden)]
    pub lease_from_ack_time: bool,
}

impl SimOptions {
    /// Calm defaults: `3` voters, the default [`Config`], one-way delay uniform in
    /// `[1 ms, 3 ms)`, persist latency uniform in `[100 µs, 1 ms)`, no loss, no
    /// duplication, no random faults, no clock skew, a 10 s fault phase, a liveness
    /// bound of 10 maximum election timeouts, tracing off.
    pub fn new(seed: u64) -> Self {
        SimOptions {
            seed,
            nodes: 3,
            learners: 0,
            config: Config::default(),
            delay: Delay::uniform(ms(1), ms(3)),
            loss_ppm: 0,
            duplicate_ppm: 0,
            persist_latency: Delay::uniform(Duration::from_micros(100), ms(1)),
            partitions: None,
            crashes: None,
            clocks: ClockSkew::default(),
            fault_phase: Duration::from_secs(10),
            liveness_timeouts: 10,
            trace: false,
            break_durability: false,
            exceed_clock_drift: false,
            lease_from_ack_time: false,
        }
    }

    /// Random options expanded from `seed`: 1–9 voters (sometimes a learner),
    /// randomized timeouts and PreVote/CheckQuorum, a random delay distribution, loss,
    /// duplication, persist latency, partition mode and rates, crash/restart rates
    /// and clock skew. The same seed always gives the same options.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = SimRng::new(splitmix64(seed ^ 0x6f70_7469_6f6e_7321));
        let r = &mut rng;
        let mut o = SimOptions::new(seed);
        o.nodes = r.range(1, 10) as usize;
        o.learners = usize::from(r.chance(200_000));

        // Timeouts: min in [20, 300) ms, a span of 1/2..2 × min, heartbeats 3..10 × faster.
        let min = r.range(20, 300) * MS;
        let span = r.range(min / 2, min * 2 + 1);
        let heartbeat = min / r.range(3, 11);
        o.config = Config::default()
            .with_election_timeout(Duration::from_nanos(min), Duration::from_nanos(min + span))
            .with_heartbeat_interval(Duration::from_nanos(heartbeat))
            .with_pre_vote(r.chance(800_000))
            .with_check_quorum(r.chance(800_000));

        // One-way delays well below the heartbeat interval on average.
        let top = (heartbeat / 4).max(MS / 10);
        o.delay = match r.below(10) {
            0..=1 => Delay::Fixed(Duration::from_nanos(r.range(top / 20, top))),
            2..=6 => {
                let lo = r.range(0, top / 2);
                Delay::uniform(
                    Duration::from_nanos(lo),
                    Duration::from_nanos(r.range(lo, top) + 1),
                )
            }
            _ => Delay::Exponential {
                min: Duration::from_nanos(r.range(0, top / 4)),
                mean: Duration::from_nanos(r.range(top / 20, top / 4) + 1),
            },
        };
        o.loss_ppm = if r.chance(400_000) {
            0
        } else {
            r.range(0, 100_000) as u32
        };
        o.duplicate_ppm = if r.chance(600_000) {
            0
        } else {
            r.range(0, 50_000) as u32
        };
        let p_lo = r.range(0, MS);
        o.persist_latency = Delay::uniform(
            Duration::from_nanos(p_lo),
            Duration::from_nanos(p_lo + r.range(1, 5 * MS)),
        );

        let timeout = min + span;
        o.partitions = (!r.chance(300_000)).then(|| PartitionFaults {
            mode: match r.below(4) {
                0 => PartitionMode::Symmetric,
                1 => PartitionMode::Directed,
                2 => PartitionMode::Isolate,
                _ => PartitionMode::Mixed,
            },
            every: Delay::uniform(
                Duration::ZERO,
                Duration::from_nanos(r.range(2, 20) * timeout),
            ),
            lasting: Delay::uniform(
                Duration::ZERO,
                Duration::from_nanos(r.range(2, 20) * timeout),
            ),
        });
        o.crashes = (!r.chance(300_000)).then(|| CrashFaults {
            every: Delay::uniform(
                Duration::ZERO,
                Duration::from_nanos(r.range(2, 40) * timeout),
            ),
            down_for: Delay::uniform(
                Duration::ZERO,
                Duration::from_nanos(r.range(1, 10) * timeout),
            ),
            mid_batch_ppm: r.range(0, 500_000) as u32,
        });
        o.clocks = ClockSkew {
            max_offset: Duration::from_nanos(r.range(0, 1_000 * MS)),
            max_drift_ppm: if r.chance(300_000) {
                0
            } else {
                r.range(0, 5_000) as u32
            },
        };
        o.fault_phase = Duration::from_nanos(r.range(20, 100) * timeout);
        o
    }

    /// Builds the simulation.
    pub fn build(self) -> Simulation {
        Simulation::new(self)
    }

    /// Sets the number of voters (ids `1..=nodes`).
    #[must_use]
    pub fn nodes(mut self, nodes: usize) -> Self {
        self.nodes = nodes;
        self
    }

    /// Sets the number of learners (ids after the voters).
    #[must_use]
    pub fn learners(mut self, learners: usize) -> Self {
        self.learners = learners;
        self
    }

    /// Sets the configuration template every node runs (its seed is derived per node).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the one-way message delay.
    #[must_use]
    pub fn delay(mut self, delay: Delay) -> Self {
        self.delay = delay;
        self
    }

    /// Sets the loss probability (parts per million).
    #[must_use]
    pub fn loss_ppm(mut self, ppm: u32) -> Self {
        self.loss_ppm = ppm.min(PPM);
        self
    }

    /// Sets the duplication probability (parts per million).
    #[must_use]
    pub fn duplicate_ppm(mut self, ppm: u32) -> Self {
        self.duplicate_ppm = ppm.min(PPM);
        self
    }

    /// Sets the persist (fsync) latency.
    #[must_use]
    pub fn persist_latency(mut self, latency: Delay) -> Self {
        self.persist_latency = latency;
        self
    }

    /// Turns random partitions on (`Some`) or off during the fault phase.
    #[must_use]
    pub fn partitions(mut self, partitions: Option<PartitionFaults>) -> Self {
        self.partitions = partitions;
        self
    }

    /// Turns random crashes on (`Some`) or off during the fault phase.
    #[must_use]
    pub fn crashes(mut self, crashes: Option<CrashFaults>) -> Self {
        self.crashes = crashes;
        self
    }

    /// Sets the per-node clock skew.
    #[must_use]
    pub fn clocks(mut self, clocks: ClockSkew) -> Self {
        self.clocks = clocks;
        self
    }

    /// Sets the length of the fault phase of [`Simulation::run`].
    #[must_use]
    pub fn fault_phase(mut self, duration: Duration) -> Self {
        self.fault_phase = duration;
        self
    }

    /// Sets the liveness bound in multiples of the maximum election timeout.
    #[must_use]
    pub fn liveness_timeouts(mut self, timeouts: u32) -> Self {
        self.liveness_timeouts = timeouts;
        self
    }

    /// Keeps a human-readable trace.
    #[must_use]
    pub fn trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }

    /// **Test only:** see [`SimOptions::break_durability`].
    #[must_use]
    pub fn break_durability(mut self, on: bool) -> Self {
        self.break_durability = on;
        self
    }

    /// **Negative control:** see [`SimOptions::exceed_clock_drift`].
    #[must_use]
    pub fn exceed_clock_drift(mut self, on: bool) -> Self {
        self.exceed_clock_drift = on;
        self
    }

    /// **Test only:** see [`SimOptions::lease_from_ack_time`].
    #[doc(hidden)]
    #[must_use]
    pub fn lease_from_ack_time(mut self, on: bool) -> Self {
        self.lease_from_ack_time = on;
        self
    }

    /// The liveness bound as a duration.
    pub fn liveness_bound(&self) -> Duration {
        self.config
            .election_timeout_max
            .saturating_mul(self.liveness_timeouts)
    }
}

impl fmt::Display for SimOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(f, "seed {}", self.seed)?;
        writeln!(
            f,
            "  nodes {} voters + {} learners",
            self.nodes, self.learners
        )?;
        writeln!(
            f,
            "  election timeout [{}, {}), heartbeat {}, pre-vote {}, check-quorum {}, min/max voters {}/{}",
            Nanos(nanos(c.election_timeout_min)),
            Nanos(nanos(c.election_timeout_max)),
            Nanos(nanos(c.heartbeat_interval)),
            on_off(c.pre_vote),
            on_off(c.check_quorum),
            c.min_voters,
            if c.max_voters == usize::MAX {
                0
            } else {
                c.max_voters
            },
        )?;
        writeln!(
            f,
            "  network delay {}, loss {}, duplication {}",
            self.delay,
            Percent(self.loss_ppm),
            Percent(self.duplicate_ppm)
        )?;
        writeln!(f, "  persist latency {}", self.persist_latency)?;
        match &self.partitions {
            Some(p) => writeln!(
                f,
                "  partitions {:?} every {} lasting {}",
                p.mode, p.every, p.lasting
            )?,
            None => writeln!(f, "  partitions off")?,
        }
        match &self.crashes {
            Some(c) => writeln!(
                f,
                "  crashes every {}, down for {}, mid-batch {}",
                c.every,
                c.down_for,
                Percent(c.mid_batch_ppm)
            )?,
            None => writeln!(f, "  crashes off")?,
        }
        writeln!(
            f,
            "  clocks offset <= {}, drift <= ±{} ppm",
            Nanos(nanos(self.clocks.max_offset)),
            self.clocks.max_drift_ppm
        )?;
        write!(
            f,
            "  fault phase {}, liveness bound {} × max election timeout{}",
            Nanos(nanos(self.fault_phase)),
            self.liveness_timeouts,
            if self.break_durability {
                ", DURABILITY BROKEN (test only)"
            } else {
                ""
            }
        )?;
        if self.exceed_clock_drift {
            write!(f, ", clock drift beyond the lease bound (negative control)")?;
        }
        if self.lease_from_ack_time {
            write!(f, ", LEASES FROM ACK TIME (test only)")?;
        }
        Ok(())
    }
}

const MS: u64 = 1_000_000;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// A duration as whole nanoseconds, saturating.
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Displays nanoseconds as milliseconds with microsecond precision.
pub(crate) struct Nanos(pub(crate) u64);

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0 / 1_000;
        if f.width().is_some() {
            f.pad(&alloc::format!(
                "{}.{:03}ms",
                micros / 1_000,
                micros % 1_000
            ))
        } else {
            write!(f, "{}.{:03}ms", micros / 1_000, micros % 1_000)
        }
    }
}

/// Displays parts per million as a percentage.
struct Percent(u32);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:04}%", self.0 / 10_000, self.0 % 10_000)
    }
}
