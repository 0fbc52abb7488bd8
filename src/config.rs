//! Per-node configuration and its validation.

use core::time::Duration;

use crate::ConfigError;
use crate::time::nanos;

/// Election configuration for one node.
///
/// Build it from [`Config::default`] and the `with_*` setters; every node of a
/// cluster should use the same timing settings. The `seed` may be the same on every
/// node: each node derives its own random stream from the seed *and its id*.
///
/// ```
/// use ballot::Config;
/// use core::time::Duration;
/// let config = Config::default()
///     .with_election_timeout(Duration::from_millis(300), Duration::from_millis(600))
///     .with_heartbeat_interval(Duration::from_millis(100))
///     .with_min_voters(3)
///     .with_seed(42);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Lower bound (inclusive) of the randomized election timeout. Also the length
    /// of the leader-stickiness window and of the CheckQuorum period. Default 150 ms.
    pub election_timeout_min: Duration,
    /// Upper bound (exclusive) of the randomized election timeout. Default 300 ms.
    pub election_timeout_max: Duration,
    /// How often a leader sends heartbeats. Must be below `election_timeout_min`.
    /// Default 50 ms.
    pub heartbeat_interval: Duration,
    /// Run a PreVote round before every election (thesis §9.6), so a node that was
    /// cut off cannot disrupt a healthy leader when it comes back. Default on.
    pub pre_vote: bool,
    /// CheckQuorum (thesis §6.2), exact. Default on. A leader keeps each voter's
    /// last contact — the arrival of its latest heartbeat reply in the leader's
    /// term; every voter counts as heard from at the instant the leader won (a voter
    /// added later, at the instant it was added) — and steps down at the first step
    /// with `now >= E`, where `E` is the `quorum - 1`-th most recent contact among
    /// the other voters plus `election_timeout_min`: the instant at which it has not
    /// heard from a quorum (itself included) for `election_timeout_min`.
    /// [`Election::next_deadline`](crate::Election::next_deadline) is never later
    /// than `E` (it may be earlier: an early wake-up after which it moves on), so a
    /// host that ticks at its deadlines steps down exactly at `E`, in its own clock.
    /// A leader that is a quorum alone never steps down.
    ///
    /// Leader stickiness (a node that heard from its leader less than
    /// `election_timeout_min` ago refuses pre-votes and higher-term votes) is on
    /// either way, as in the thesis (§4.2.3). With CheckQuorum off, a leader that can
    /// still *send* heartbeats but no longer *hears* a quorum keeps its followers
    /// sticky, and a cluster split that way may not elect a new leader until the
    /// links heal; keep CheckQuorum on unless you have a reason.
    pub check_quorum: bool,
    /// No node campaigns while the voter set is smaller than this (almost-raft's
    /// `min_node`). Default 1.
    pub min_voters: usize,
    /// Adding a voter beyond this many is rejected (almost-raft's `max_node`).
    /// Default `usize::MAX` (no limit).
    pub max_voters: usize,
    /// Seed for the election-timeout draws. Combined with the node id, so the same
    /// seed on every node still gives every node its own timeouts. Default 0.
    pub seed: u64,
    /// This node's leadership priority (preferred leaders). Default 0.
    ///
    /// A leader that hears, in a heartbeat reply, from a voter with a strictly
    /// higher priority that is at least as fresh as the leader and not a witness
    /// hands leadership over to it with a transfer (see
    /// [`Input::TransferLeadership`](crate::Input::TransferLeadership)) — but only
    /// once it has led for [`Config::PRIORITY_HOLD_OFF`] election timeouts
    /// (`election_timeout_max` each) and at most once per such period: a preferred
    /// node that keeps crashing and coming back does not cause an election each
    /// time. Hand-overs only ever go to a strictly higher priority, so they cannot
    /// ping-pong. Priority changes nothing about who may vote for whom, so an
    /// election never waits for a preferred node.
    pub priority: u8,
    /// A non-leading voter (witness): it votes and counts towards every quorum like
    /// any voter, but never campaigns. Its election timer only makes it forget a
    /// silent leader; [`Input::Campaign`](crate::Input::Campaign) is rejected with
    /// [`CommandError::Witness`](crate::CommandError::Witness), and it ignores a
    /// leader's request to take over (a transfer to it fails as soon as the leader
    /// hears its heartbeat reply, which says it is a witness). Default off.
    ///
    /// Use it for tie-breaker sites: a cluster needs a quorum of voters *that can
    /// lead* to elect a leader, so at least one voter must not be a witness. A
    /// witness holds no data: leave its [`Freshness`](crate::Freshness) at the
    /// default (lowest), or a witness fresher than every live voter that may lead
    /// refuses them all and no election can succeed (the simulator models witnesses
    /// that way).
    pub witness: bool,
    /// The bound on clock drift the [leader lease](crate::Election::lease) assumes,
    /// in parts per million: over any stretch of real time, the time elapsed on one
    /// node's clock is at most `1 + max_clock_drift / 10⁶` times the time elapsed on
    /// any other node's clock (a *rate* bound between any two nodes; offsets do not
    /// matter, each node only measures its own intervals). A lease is shortened by
    /// this factor: the leader holds it for `election_timeout_min / (1 + ρ)` after
    /// the send time of a quorum-acknowledged heartbeat. Default 10,000 ppm (1 %),
    /// far above real clocks (quartz: ±100 ppm; NTP-disciplined: ±10 ppm) yet costing
    /// only 1.5 ms of a 150 ms window. At most [`Config::MAX_CLOCK_DRIFT_LIMIT`].
    /// If clocks drift more than this, a lease can be wrong; nothing else depends
    /// on it.
    pub max_clock_drift: u32,
    /// Restart quarantine (default on): a node resumed from a persisted
    /// [`HardState`](crate::HardState) refuses every vote and pre-vote, and rejects
    /// `Campaign`, for `election_timeout_min` after
    /// [`Election::new`](crate::Election::new), as if it had just heard from a
    /// leader. It may have acknowledged a leader's heartbeat just before it
    /// crashed, and the leader's [lease](crate::Election::lease) counts on it
    /// refusing votes for that long; the quarantine keeps the promise it can no
    /// longer remember. A first start (nothing persisted) is not quarantined: a
    /// node replies to a heartbeat only after the `Persist` of that term, so a node
    /// with an empty disk never acknowledged a leader (a cold cluster elects as
    /// fast as before). Cost: a restarted node helps no election, and cannot be
    /// elected, for one `election_timeout_min` after it restarts — usually free,
    /// since its own election timer (at least `election_timeout_min`) fires no
    /// earlier; it matters when a majority restarts at once (the cluster then
    /// waits `election_timeout_min` before it can elect), or a test campaigns
    /// right after a restart. Turn it off only if you do not use leases.
    pub restart_quarantine: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            election_timeout_min: Duration::from_millis(150),
            election_timeout_max: Duration::from_millis(300),
            heartbeat_interval: Duration::from_millis(50),
            pre_vote: true,
            check_quorum: true,
            min_voters: 1,
            max_voters: usize::MAX,
            seed: 0,
            priority: 0,
            witness: false,
            max_clock_drift: 10_000,
            restart_quarantine: true,
        }
    }
}

impl Config {
    /// How many election timeouts (`election_timeout_max` each) a leader waits
    /// after winning, and after a hand-over attempt that did not complete, before it
    /// hands over to a voter of higher [`Config::priority`]: the rate limit of
    /// priority hand-overs.
    pub const PRIORITY_HOLD_OFF: u32 = 10;
    /// The largest accepted [`Config::max_clock_drift`]: 50,000 ppm (5 %).
    pub const MAX_CLOCK_DRIFT_LIMIT: u32 = 50_000;

    /// Sets the clock-drift bound of the lease, in parts per million.
    #[must_use]
    pub fn with_max_clock_drift(mut self, ppm: u32) -> Self {
        self.max_clock_drift = ppm;
        self
    }

    /// Turns the restart quarantine on or off.
    #[must_use]
    pub fn with_restart_quarantine(mut self, on: bool) -> Self {
        self.restart_quarantine = on;
        self
    }

    /// Sets the election-timeout range `[min, max)`.
    #[must_use]
    pub fn with_election_timeout(mut self, min: Duration, max: Duration) -> Self {
        self.election_timeout_min = min;
        self.election_timeout_max = max;
        self
    }

    /// Sets the heartbeat interval.
    #[must_use]
    pub fn with_heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// Turns PreVote on or off.
    #[must_use]
    pub fn with_pre_vote(mut self, on: bool) -> Self {
        self.pre_vote = on;
        self
    }

    /// Turns CheckQuorum on or off.
    #[must_use]
    pub fn with_check_quorum(mut self, on: bool) -> Self {
        self.check_quorum = on;
        self
    }

    /// Sets the minimum number of voters before anyone campaigns.
    #[must_use]
    pub fn with_min_voters(mut self, min_voters: usize) -> Self {
        self.min_voters = min_voters;
        self
    }

    /// Sets the maximum number of voters.
    #[must_use]
    pub fn with_max_voters(mut self, max_voters: usize) -> Self {
        self.max_voters = max_voters;
        self
    }

    /// Sets the random seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets this node's leadership priority (see [`Config::priority`]).
    #[must_use]
    pub fn with_priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// Makes this node a non-leading voter, or not (see [`Config::witness`]).
    #[must_use]
    pub fn with_witness(mut self, witness: bool) -> Self {
        self.witness = witness;
        self
    }

    /// Checks the settings, returning the first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (min, max) = (self.election_timeout_min, self.election_timeout_max);
        if min.is_zero() {
            return Err(ConfigError::ZeroElectionTimeout);
        }
        if max <= min {
            return Err(ConfigError::EmptyElectionTimeoutRange { min, max });
        }
        if u64::try_from(max.as_nanos()).is_err() {
            return Err(ConfigError::ElectionTimeoutTooLong { max });
        }
        if self.heartbeat_interval.is_zero() {
            return Err(ConfigError::ZeroHeartbeatInterval);
        }
        if self.heartbeat_interval >= min {
            return Err(ConfigError::HeartbeatNotBelowElectionTimeout {
                heartbeat: self.heartbeat_interval,
                election_timeout_min: min,
            });
        }
        if self.min_voters == 0 {
            return Err(ConfigError::ZeroMinVoters);
        }
        if self.max_voters == 0 {
            return Err(ConfigError::ZeroMaxVoters);
        }
        if self.min_voters > self.max_voters {
            return Err(ConfigError::MinVotersAboveMax {
                min_voters: self.min_voters,
                max_voters: self.max_voters,
            });
        }
        if self.max_clock_drift > Self::MAX_CLOCK_DRIFT_LIMIT {
            return Err(ConfigError::ClockDriftTooLarge {
                ppm: self.max_clock_drift,
                limit: Self::MAX_CLOCK_DRIFT_LIMIT,
            });
        }
        Ok(())
    }
}

/// The stored form of a validated [`Config`]: durations as nanoseconds, so a node
/// carries 56 bytes of settings instead of 80.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Settings {
    election_min: u64,
    election_max: u64,
    heartbeat: u64,
    min_voters: u32,
    max_voters: u32,
    pub(crate) seed: u64,
}

impl Settings {
    /// Stores `config`, which must have passed [`Config::validate`].
    pub(crate) fn new(config: &Config) -> Self {
        Settings {
            election_min: nanos(config.election_timeout_min),
            election_max: nanos(config.election_timeout_max),
            heartbeat: nanos(config.heartbeat_interval),
            min_voters: to_u32(config.min_voters),
            max_voters: to_u32(config.max_voters),
            seed: config.seed,
        }
    }

    /// The configuration these settings were made from, with the protocol switches
    /// and the drift bound (stored beside the settings, where they pack into spare
    /// bytes).
    pub(crate) fn config(&self, switches: Switches) -> Config {
        Config {
            pre_vote: switches.pre_vote(),
            check_quorum: switches.check_quorum(),
            max_clock_drift: u32::from(switches.max_clock_drift),
            restart_quarantine: switches.restart_quarantine(),
            election_timeout_min: Duration::from_nanos(self.election_min),
            election_timeout_max: Duration::from_nanos(self.election_max),
            heartbeat_interval: Duration::from_nanos(self.heartbeat),
            min_voters: self.min_voters(),
            max_voters: self.max_voters(),
            seed: self.seed,
            priority: switches.priority,
            witness: switches.witness(),
        }
    }

    /// The rate limit of priority hand-overs (see [`Config::PRIORITY_HOLD_OFF`]).
    pub(crate) fn priority_hold_off(&self) -> Duration {
        Duration::from_nanos(
            self.election_max
                .saturating_mul(u64::from(Config::PRIORITY_HOLD_OFF)),
        )
    }

    /// How long a leadership transfer may take before the leader abandons it: one
    /// election timeout (`election_timeout_max`, the longest a follower may wait).
    pub(crate) fn transfer_timeout(&self) -> Duration {
        Duration::from_nanos(self.election_max)
    }

    pub(crate) fn min_voters(&self) -> usize {
        from_u32(self.min_voters)
    }

    pub(crate) fn max_voters(&self) -> usize {
        from_u32(self.max_voters)
    }

    /// `election_timeout_min` in nanoseconds.
    pub(crate) fn election_min_nanos(&self) -> u64 {
        self.election_min
    }

    /// `heartbeat_interval` in nanoseconds.
    pub(crate) fn heartbeat_nanos(&self) -> u64 {
        self.heartbeat
    }

    /// `[min, max)` of the election timeout, in nanoseconds.
    pub(crate) fn election_timeout_nanos(&self) -> (u64, u64) {
        (self.election_min, self.election_max)
    }

    /// Whether `now` is in the usable clock range: every deadline the node may arm
    /// from it (at most `now + election_timeout_max`) lies below `Instant::MAX`,
    /// which marks an unarmed timer.
    pub(crate) fn usable_now(&self, now: crate::Instant) -> bool {
        now.as_nanos() < u64::MAX - self.election_max
    }
}

/// The protocol switches, the drift bound and the priority, which `Election`
/// stores loose so that they fill padding next to its other small fields. The four
/// switches share one byte (the whole is 4 bytes), which keeps a node at 240 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Switches {
    /// Bits: [`Switches::PRE_VOTE`], [`Switches::CHECK_QUORUM`],
    /// [`Switches::RESTART_QUARANTINE`], [`Switches::WITNESS`].
    bits: u8,
    /// `Config::priority`.
    pub(crate) priority: u8,
    /// `Config::max_clock_drift` (validated ≤ 50,000, so it fits).
    pub(crate) max_clock_drift: u16,
}

impl Switches {
    const PRE_VOTE: u8 = 1;
    const CHECK_QUORUM: u8 = 2;
    const RESTART_QUARANTINE: u8 = 4;
    const WITNESS: u8 = 8;

    pub(crate) fn new(config: &Config) -> Self {
        let bit = |on: bool, b: u8| if on { b } else { 0 };
        Switches {
            bits: bit(config.pre_vote, Self::PRE_VOTE)
                | bit(config.check_quorum, Self::CHECK_QUORUM)
                | bit(config.restart_quarantine, Self::RESTART_QUARANTINE)
                | bit(config.witness, Self::WITNESS),
            priority: config.priority,
            max_clock_drift: u16::try_from(config.max_clock_drift).unwrap_or(u16::MAX),
        }
    }

    /// `Config::pre_vote`.
    pub(crate) fn pre_vote(self) -> bool {
        self.bits & Self::PRE_VOTE != 0
    }

    /// `Config::check_quorum`.
    pub(crate) fn check_quorum(self) -> bool {
        self.bits & Self::CHECK_QUORUM != 0
    }

    /// `Config::restart_quarantine`.
    pub(crate) fn restart_quarantine(self) -> bool {
        self.bits & Self::RESTART_QUARANTINE != 0
    }

    /// `Config::witness`: votes, never campaigns.
    pub(crate) fn witness(self) -> bool {
        self.bits & Self::WITNESS != 0
    }
}

/// Voter counts are stored as `u32`; anything larger means "no limit".
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn from_u32(n: u32) -> usize {
    if n == u32::MAX {
        usize::MAX
    } else {
        n as usize
    }
}
