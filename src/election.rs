//! [`Election`]: construction, the single `step` entry point, and getters.

use alloc::vec::Vec;
use core::time::Duration;

use crate::config::{Settings, Switches};
use crate::quorum::Tally;
use crate::rng::{TimeoutRng, scale};
use crate::stats::Counters;
use crate::timer::{Timer, Timers};
use crate::{
    Config, ConfigError, Freshness, HardState, Input, Instant, Membership, NodeId, Output, Role,
    Stats, Status, Term,
};

/// One node's Raft leader election, as a pure state machine.
///
/// `Election` never reads a clock, never draws OS randomness, never performs I/O and
/// never panics. The caller feeds it [`Input`]s with the current time and carries
/// out the [`Output`]s it returns, in order:
///
/// 1. Create it with [`Election::new`], passing the last durable [`HardState`] if
///    the node has run before.
/// 2. On every message, command or timer wake-up, call [`Election::step`] (or
///    [`Election::step_into`] with a reused buffer).
/// 3. Carry out the outputs in order. When you meet an [`Output::Persist`], make it
///    durable **before** carrying out anything after it.
/// 4. Re-read [`Election::next_deadline`] and wake up then with [`Input::Tick`].
///
/// See the crate documentation for a complete run loop.
#[derive(Clone, Debug)]
pub struct Election<I: NodeId = u64> {
    pub(crate) config: Settings,
    /// `Config::pre_vote`, `check_quorum`, `restart_quarantine`, `max_clock_drift`.
    pub(crate) switches: Switches,
    /// Leader: this leadership gave up its lease (a transfer was started); cleared
    /// when the node next wins an election.
    pub(crate) lease_forfeited: bool,
    /// Follower: the leader of the current term announced a hand-over (its last
    /// heartbeat carried `hand_over`), so a transfer-marked vote request for the
    /// next term may bypass stickiness. Cleared with the leader.
    pub(crate) hand_over_seen: bool,
    pub(crate) id: I,
    pub(crate) role: Role,
    pub(crate) term: Term,
    pub(crate) voted_for: Option<I>,
    pub(crate) leader: Option<I>,
    /// When this node last heard a heartbeat from a leader — of any term: a newer
    /// term does not end the window — or was (re)started with the restart
    /// quarantine on: it refuses votes and pre-votes, and does not campaign, until
    /// `election_timeout_min` after it (stickiness, the lease's foundation).
    /// [`NEVER`] when there is no such instant (or the node forgot it when its own
    /// round started, which happens only after the window).
    pub(crate) leader_contact: Instant,
    pub(crate) freshness: Freshness,
    pub(crate) membership: Membership<I>,
    /// Votes (candidate, pre-candidate) or contact (leader) in the current round.
    pub(crate) tally: Tally,
    pub(crate) timers: Timers,
    /// The current randomized election timeout, as a fraction (`x / 2^16`) of the
    /// way from the minimum to the maximum.
    pub(crate) timeout_fraction: u16,
    pub(crate) last_now: Instant,
    pub(crate) rng: TimeoutRng,
    pub(crate) stats: Counters,
}

/// The capacity `Election::step` gives the vector it returns (for inputs other
/// than `Tick`).
const STEP_CAPACITY: usize = 4;

/// `leader_contact` when no leader has been heard from in this term.
pub(crate) const NEVER: Instant = Instant::MAX;

/// What the outputs of one step are measured against.
struct Before<I> {
    role: Role,
    term: Term,
    voted_for: Option<I>,
    leader: Option<I>,
    len: usize,
}

impl<I: NodeId> Election<I> {
    /// Creates node `id` with `membership`, resuming from `persisted` (the last
    /// [`HardState`] made durable, or `None` on first start) at time `now`.
    ///
    /// The node starts as a follower with its election timer armed. When it resumes
    /// from a `persisted` state with [`Config::restart_quarantine`] on (the default),
    /// it refuses every vote and pre-vote, and rejects [`Input::Campaign`], until
    /// `now + election_timeout_min`. (A first start, `persisted: None`, needs no
    /// quarantine: a node acknowledges a leader only after persisting its term.) `id` need not be
    /// a member: a node outside the membership (or a learner) follows and votes but
    /// never campaigns.
    pub fn new(
        config: Config,
        id: I,
        membership: Membership<I>,
        persisted: Option<HardState<I>>,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        if !Settings::new(&config).usable_now(now) {
            return Err(ConfigError::ClockOutOfRange { now });
        }
        if membership.voters().len() > config.max_voters {
            return Err(ConfigError::TooManyVoters {
                voters: membership.voters().len(),
                max_voters: config.max_voters,
            });
        }
        let hard = persisted.unwrap_or_default();
        let mut election = Election {
            rng: TimeoutRng::default(),
            config: Settings::new(&config),
            switches: Switches::new(&config),
            lease_forfeited: false,
            hand_over_seen: false,
            id,
            role: Role::Follower,
            term: hard.term,
            voted_for: hard.voted_for,
            leader: None,
            // The restart quarantine: behave as if a leader had just been heard from.
            // Only a restart needs it: a node acknowledges a heartbeat only after the
            // Persist of that term (and its vote or leader) is durable, so a node
            // with nothing on disk has never acknowledged any leader.
            leader_contact: if config.restart_quarantine && persisted.is_some() {
                now
            } else {
                NEVER
            },
            freshness: Freshness::default(),
            membership,
            tally: Tally::default(),
            timers: Timers::new(),
            timeout_fraction: 0,
            last_now: now,
            stats: Counters::default(),
        };
        election.arm_election_timer(now, true);
        Ok(election)
    }

    /// Handles one input at time `now` and returns what the caller must do, in order.
    ///
    /// Equivalent to [`Election::step_into`] with a fresh vector.
    #[must_use = "the outputs must be carried out (persist, send) for the protocol to work"]
    pub fn step(&mut self, input: Input<I>, now: Instant) -> Vec<Output<I>> {
        // One allocation, of the right size, for a step that has outputs: four fit
        // every common step (a heartbeat reply; Persist + a vote reply; Persist +
        // Broadcast + RoleChanged + LeaderChanged when a round starts). A tick, which
        // usually has none, starts empty and allocates only if it has outputs.
        let mut out = if matches!(input, Input::Tick) {
            Vec::new()
        } else {
            Vec::with_capacity(STEP_CAPACITY)
        };
        self.step_into(input, now, &mut out);
        out
    }

    /// Handles one input at time `now`, appending the outputs to `out` (which is not
    /// cleared). With a buffer reused across calls, the common steps do not allocate.
    ///
    /// A `now` earlier than one seen before is treated as that latest time and
    /// counted in [`Stats::clamped_now`]. A `now` outside the usable clock range (see
    /// [`Instant`]) is ignored: the step changes nothing, is counted in
    /// [`Stats::clock_out_of_range`], and a command in it is answered with
    /// [`Output::Rejected`]`(`[`CommandError::ClockOutOfRange`](crate::CommandError::ClockOutOfRange)`)`.
    #[inline(always)]
    pub fn step_into(&mut self, input: Input<I>, now: Instant, out: &mut Vec<Output<I>>) {
        if now >= self.last_now && self.config.usable_now(now) && self.fast_step(&input, now, out) {
            return;
        }
        self.step_general(input, now, out);
    }

    /// [`Election::step_into`] for every input: the clock-range check, time
    /// clamping, dispatch, and the `Persist` / event bookkeeping of
    /// [`Election::finish`].
    #[inline(never)]
    pub(crate) fn step_general(&mut self, input: Input<I>, now: Instant, out: &mut Vec<Output<I>>) {
        if !self.config.usable_now(now) {
            self.stats.clock_out_of_range.bump();
            if !matches!(input, Input::Tick | Input::Receive { .. }) {
                self.stats.commands_rejected.bump();
                out.push(Output::Rejected(crate::CommandError::ClockOutOfRange {
                    now,
                }));
            }
            return;
        }
        let now = if now < self.last_now {
            self.stats.clamped_now.bump();
            self.last_now
        } else {
            self.last_now = now;
            now
        };
        let before = Before {
            role: self.role,
            term: self.term,
            voted_for: self.voted_for,
            leader: self.leader,
            len: out.len(),
        };
        // CheckQuorum holds at every step, not only at ticks: a leader whose quorum
        // contact has lapsed steps down before it handles anything else (found by the
        // simulator: a reply arriving exactly at the lapse, before the tick).
        if self.role == Role::Leader && self.timers.is_due(Timer::CheckQuorum, now) {
            self.check_quorum(now);
        }
        match input {
            Input::Tick => self.on_tick(now, out),
            Input::Receive { from, message } => self.on_message(from, message, now, out),
            command => self.on_command(command, now, out),
        }
        self.finish(before, out);
    }

    /// Adds the `Persist` in front of this step's outputs if the hard state changed,
    /// and the role/leader events at the end.
    fn finish(&mut self, before: Before<I>, out: &mut Vec<Output<I>>) {
        if self.term != before.term || self.voted_for != before.voted_for {
            // Everything this step emitted may depend on the new term or vote, so the one
            // Persist goes first.
            out.insert(before.len, Output::Persist(self.hard_state()));
        }
        if self.role != before.role {
            out.push(Output::RoleChanged {
                role: self.role,
                term: self.term,
            });
        }
        if self.leader != before.leader || (self.leader.is_some() && self.term != before.term) {
            out.push(Output::LeaderChanged {
                leader: self.leader,
                term: self.term,
            });
        }
    }

    fn on_tick(&mut self, now: Instant, out: &mut Vec<Output<I>>) {
        if self.role == Role::Leader {
            if self.timers.is_due(Timer::CheckQuorum, now) {
                self.check_quorum(now);
                if self.role == Role::Leader {
                    self.check_transfer(now, out);
                }
            }
            // A failed check made this node a follower with a fresh election timer.
            if self.role == Role::Leader && self.timers.is_due(Timer::Heartbeat, now) {
                self.on_heartbeat_timer(now, out);
            }
        } else if self.timers.is_due(Timer::Election, now) {
            self.on_election_timeout(now, out);
        }
    }

    /// (Re)arms the election timer at `now` + the current timeout, drawing a fresh
    /// timeout first when `redraw`.
    #[inline]
    pub(crate) fn arm_election_timer(&mut self, now: Instant, redraw: bool) {
        if redraw {
            self.redraw_timeout();
        }
        let (min, max) = self.config.election_timeout_nanos();
        let span = max.saturating_sub(min);
        self.timers.set(
            Timer::Election,
            now.add_nanos(min.saturating_add(scale(self.timeout_fraction, span))),
        );
    }

    /// Draws a fresh election timeout (kept out of line: it runs once per round).
    #[inline(never)]
    fn redraw_timeout(&mut self) {
        self.timeout_fraction = self.rng.next_fraction(self.config.seed, &self.id);
    }

    /// The leader lease: the instant, in this node's clock, until which no other
    /// node can be elected leader of any term and no other node holds a lease. The
    /// answer to "is it safe to act as the only leader right now?": act only while
    /// `now < lease`, and re-read it before each action (it moves forward with every
    /// acknowledged heartbeat round, and is `None` once this node stops leading).
    /// Use the [term](Election::term) as a fencing token wherever the action reaches
    /// a shared resource that can check it (see the README, "Leases and fencing").
    ///
    /// `None` when this node is not the leader, when no quorum has acknowledged a
    /// heartbeat of this leadership yet, or after it gave up its lease to start a
    /// leadership transfer (for the rest of its term).
    ///
    /// **Formula.** Let `s` be the latest send time such that a quorum of voters —
    /// this node included — acknowledged a heartbeat sent at or after `s`: the
    /// `quorum - 1`-th latest acknowledged send time among the other voters (each
    /// reply echoes its heartbeat's `sent`). Then, with `m = election_timeout_min`
    /// and `ρ = max_clock_drift / 10⁶`,
    ///
    /// ```text
    /// lease = s + ⌊m / (1 + ρ)⌋
    /// ```
    ///
    /// A voter that is a quorum alone (a one-voter cluster) holds `Instant::MAX`.
    ///
    /// **Proof sketch.** Each voter `F` of that quorum received a heartbeat sent at
    /// `s' ≥ s` at some real time `R ≥ S` (`S`: the real time of `s` on this node's
    /// clock). From then on `F` refuses every vote and pre-vote, and does not
    /// campaign, until its own clock has advanced `m` past the receipt (stickiness;
    /// a newer term does not end the window, only its own election timer — which
    /// fires no earlier — or a transfer does; a restart does not either, because a
    /// restarted node is quarantined for `m`). Any leader of another term needs a
    /// quorum of votes, which shares a voter with this quorum (with this node, a
    /// leader, which votes for nobody else), so none can be elected before `F`'s
    /// window ends at real time `R + D`, where `F`'s clock advances `m` during `D`.
    /// By the drift bound this node's clock advances at least `m / (1 + ρ)` during
    /// `D`, hence at least `m / (1 + ρ)` between `S` and `R + D`: when this node's
    /// clock reads `lease`, no `F`'s window has ended yet. The bound needs every
    /// node to run with the same `election_timeout_min` and `max_clock_drift`, the
    /// restart quarantine on, clocks whose rates differ by at most `ρ`, and the
    /// membership rule of the README. Bypasses that void leases:
    /// `ForgetLeader` on a follower, `restart_quarantine` off, and leadership
    /// transfer (the leader gives up its own lease before it starts one).
    ///
    /// Cost: a pass over the voters per bit of an instant (64 × voters slot reads,
    /// no allocation); call it when you need it, not per message.
    pub fn lease(&self) -> Option<Instant> {
        if self.role != Role::Leader || self.lease_forfeited {
            return None;
        }
        let sent = self.tally.quorum_acknowledged(&self.membership, self.id)?;
        if sent == Instant::MAX {
            return Some(Instant::MAX);
        }
        Some(sent + self.lease_window())
    }

    /// `⌊election_timeout_min / (1 + max_clock_drift / 10⁶)⌋`: how long after a
    /// quorum-acknowledged send time the lease lasts, in this node's clock.
    pub(crate) fn lease_window(&self) -> Duration {
        let (min, _) = self.config.election_timeout_nanos();
        let ppm = u128::from(self.switches.max_clock_drift);
        let window = u128::from(min) * 1_000_000 / (1_000_000 + ppm);
        Duration::from_nanos(u64::try_from(window).unwrap_or(u64::MAX))
    }

    /// Leader: gives up the lease for the rest of this term. **The hook for a
    /// leadership transfer**: call it before sending the transfer's message, since
    /// a transfer lets the target's voters bypass stickiness (the lease's
    /// foundation). It stays given up even if the transfer is abandoned — a
    /// delayed transfer message may still start the target's campaign — until this
    /// node next wins an election.
    pub(crate) fn forfeit_lease(&mut self) {
        self.lease_forfeited = true;
    }

    /// This node's id.
    pub fn id(&self) -> I {
        self.id
    }

    /// This node's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether this node is the leader of its current term.
    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    /// The current term: the fencing token of the leader of this term.
    pub fn term(&self) -> Term {
        self.term
    }

    /// The leader of the current term as far as this node knows.
    pub fn leader(&self) -> Option<I> {
        self.leader
    }

    /// Whom this node voted for in the current term (or, if it did not vote, the
    /// leader it followed in it; see [`HardState::voted_for`]).
    pub fn voted_for(&self) -> Option<I> {
        self.voted_for
    }

    /// The term and vote as they should be on disk (after the last `Persist`).
    pub fn hard_state(&self) -> HardState<I> {
        HardState {
            term: self.term,
            voted_for: self.voted_for,
        }
    }

    /// The membership as this node sees it.
    pub fn membership(&self) -> &Membership<I> {
        &self.membership
    }

    /// This node's freshness.
    pub fn freshness(&self) -> Freshness {
        self.freshness
    }

    /// The configuration.
    pub fn config(&self) -> Config {
        self.config.config(self.switches)
    }

    /// Counters of what this node has done and dropped.
    pub fn stats(&self) -> Stats {
        self.stats.snapshot()
    }

    /// When this node next needs `step(Input::Tick, t)` with `t >= deadline`.
    /// Re-read it after every step. `None` never happens today (some timer is always
    /// armed) but callers should treat it as "no wake-up needed".
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// A snapshot of the node's state.
    pub fn status(&self) -> Status<I> {
        Status {
            id: self.id,
            role: self.role,
            term: self.term,
            leader: self.leader,
            voted_for: self.voted_for,
            voters: self.membership.voters().len(),
            learners: self.membership.learners().len(),
            next_deadline: self.next_deadline(),
            transfer: self.transfer_target(),
        }
    }

    /// Leader: the voter a pending leadership transfer hands over to; `None` when
    /// no transfer is pending or this node does not lead. (A leader with a pending
    /// transfer has announced that it is leaving: anything that relies on it staying
    /// leader, such as a lease, must not.)
    pub fn transfer_target(&self) -> Option<I> {
        if self.role != Role::Leader {
            return None;
        }
        let index = self.tally.handover_target()?;
        self.membership.voters().get(index).copied()
    }

    /// Leader: whether a leadership transfer is pending (see
    /// [`Election::transfer_target`]).
    pub(crate) fn transfer_pending(&self) -> bool {
        self.role == Role::Leader && self.tally.handover_target().is_some()
    }

    /// Bytes of heap memory this node holds (its membership and tally). Add
    /// `size_of::<Election<I>>()` for its whole footprint.
    pub fn heap_bytes(&self) -> usize {
        self.membership.heap_bytes() + self.tally.heap_bytes()
    }
}
