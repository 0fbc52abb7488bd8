//! The leader lease in the simulator: scripted scenarios that push a lease to its
//! edge (each run once with the rule the proof needs, which must hold, and once with
//! that rule broken, which the lease invariant must catch), and a seed swarm with
//! crashes, restarts, partitions and clock drift up to the configured bound.
//!
//! The invariant (`ViolationKind::LeaseOverlap`, checked after every event): no node
//! acquires a lease or is elected while another node's lease, converted to global
//! time through its own clock, has not expired.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{ClockSkew, Delay, SimOptions, Simulation, ViolationKind};
use ballot::{Config, Input, Role};

const MS: Duration = Duration::from_millis(1);

/// Random seeds (crashes, restarts, partitions, loss, duplication, clock drift up to
/// the bound): no lease violation, and the run ends with a leader holding a lease.
/// (`sim_swarm.rs` checks the same invariant over its 4,000 seeds.)
#[test]
fn swarm_within_the_drift_bound_keeps_leases_apart() {
    let mut held = 0;
    for seed in 0..200 {
        let mut sim = Simulation::new(SimOptions::from_seed(seed));
        let report = sim.run();
        assert_eq!(lease_violations(&sim), 0, "seed {seed}:\n{report}");
        // The run stops as soon as a stable leader appears; give it a few
        // heartbeat rounds (healed network) to have a quorum acknowledge one.
        sim.run_for(1000 * MS);
        assert_eq!(lease_violations(&sim), 0, "seed {seed}");
        let leader = sim.stable_leader().expect("liveness");
        let local = sim.local_time(leader).unwrap();
        let node = sim.node(leader).unwrap();
        held += usize::from(node.lease().is_some_and(|l| l > local));
    }
    assert!(
        held >= 190,
        "only {held} of 200 runs ended with a lease held"
    );
}

/// Random seeds again, with clocks drawn from ±20 % (far beyond the 1 % bound).
/// Random schedules rarely line up an election with the end of a lease, so this
/// only counts what it catches (8 of the first 4,000 seeds when measured); the
/// scripted scenario below is the negative control that must fail every time.
#[test]
#[ignore = "slow in the debug profile; run with --release --ignored"]
fn swarm_with_drift_beyond_the_bound_is_caught_sometimes() {
    let caught = (0..4_000)
        .filter(|&seed| {
            let options = SimOptions::from_seed(seed)
                .exceed_clock_drift(true)
                .clocks(ClockSkew {
                    max_offset: 100 * MS,
                    max_drift_ppm: 200_000,
                });
            let mut sim = Simulation::new(options);
            let _ = sim.run();
            lease_violations(&sim) > 0
        })
        .count();
    println!("drift beyond the bound, random swarm: {caught}/4000 seeds caught");
    assert!(caught > 0);
}

/// What a scenario changes from the sound setup.
#[derive(Clone, Copy, Default)]
struct Breakage {
    /// The leader's clock drift (ppm; negative is slow) once elected.
    leader_drift_ppm: i32,
    /// Turn the restart quarantine off.
    no_quarantine: bool,
    /// Compute leases from ack arrival times (test-only knob).
    ack_time: bool,
    /// One-way delay of the replies from the acknowledging follower to the leader.
    slow_replies: Option<Duration>,
}

fn lease_violations(sim: &Simulation) -> usize {
    sim.violations()
        .iter()
        .filter(|v| matches!(v.kind, ViolationKind::LeaseOverlap { .. }))
        .count()
}

/// A 3-node cluster with leader `l`, follower `f` that the leader's lease rests on,
/// and `g`, cut off from the leader, which campaigns as often as it can: it is
/// restarted with a 20–21 ms election timeout, so a new round starts within about
/// 20 ms of `f`'s stickiness window ending. (`g` acknowledges nobody, so its own
/// window does not matter to the lease; every other node keeps the default 150 ms.)
fn setup(seed: u64, b: Breakage) -> (Simulation, u64, u64, u64) {
    let config = Config::default().with_restart_quarantine(!b.no_quarantine);
    let mut sim = SimOptions::new(seed)
        .nodes(3)
        .config(config)
        .lease_from_ack_time(b.ack_time)
        .build();
    let l = sim
        .run_until_stable_leader(5 * 1000 * MS)
        .expect("a leader");
    let others: Vec<u64> = sim.ids().filter(|&n| n != l).collect();
    let (f, g) = (others[0], others[1]);
    if b.leader_drift_ppm != 0 {
        // Keep the leader's local time continuous: offset = now × (1 - rate).
        let now = sim.now().as_nanos();
        let rate_shift = now as i128 * i128::from(b.leader_drift_ppm) / 1_000_000;
        let offset = Duration::from_nanos((-rate_shift).max(0) as u64);
        sim.set_clock(l, offset, b.leader_drift_ppm);
    }
    if let Some(delay) = b.slow_replies {
        sim.set_link_delay(f, l, Delay::uniform(delay, delay + MS));
    }
    sim.cut_both(l, g);
    let eager = config
        .with_election_timeout(20 * MS, 21 * MS)
        .with_heartbeat_interval(5 * MS);
    sim.set_config(g, eager).expect("valid");
    sim.crash(g);
    sim.restart(g);
    sim.run_for(1000 * MS);
    assert_eq!(sim.role(l), Some(Role::Leader), "the leader keeps f");
    (sim, l, f, g)
}

/// `g` asks to campaign every millisecond for `span` (refusals are expected).
fn hammer(sim: &mut Simulation, g: u64, span: Duration) {
    let end = sim.now() + span;
    while sim.now() < end {
        let _ = sim.command(g, Input::Campaign);
        sim.run_for(MS);
    }
}

/// The leader's heartbeats stop reaching `f`; `g` campaigns without pause and wins
/// as soon as `f`'s stickiness lets it. Returns lease violations and
/// whether `g` was elected.
fn isolate_leader(seed: u64, b: Breakage) -> (usize, bool) {
    let (mut sim, l, f, g) = setup(seed, b);
    // Heartbeats stop reaching f; replies already on their way still arrive, so the
    // leader's lease is renewed as late as it can be.
    sim.cut(l, f);
    hammer(&mut sim, g, 400 * MS);
    (lease_violations(&sim), sim.role(g) == Some(Role::Leader))
}

/// The follower the lease rests on crashes and restarts at once; `g` campaigns
/// without pause. Returns lease violations.
fn restart_follower(seed: u64, b: Breakage) -> usize {
    let (mut sim, l, f, g) = setup(seed, b);
    // Wait for a fresh lease, then crash f right away.
    sim.run_until(
        |s| {
            let Some(node) = s.node(l) else { return false };
            let local = s.local_time(l).unwrap();
            node.lease().is_some_and(|lease| lease > local + 100 * MS)
        },
        1000 * MS,
    );
    // The leader's next heartbeats do not reach f: only the forgotten
    // acknowledgement stands between g and f's vote.
    sim.cut(l, f);
    sim.crash(f);
    sim.restart(f);
    hammer(&mut sim, g, 300 * MS);
    lease_violations(&sim)
}

const SEEDS: u64 = 20;

#[test]
fn leases_hold_when_the_leader_is_cut_off_and_a_rival_campaigns_at_once() {
    for seed in 0..SEEDS {
        let (violations, elected) = isolate_leader(seed, Breakage::default());
        assert_eq!(violations, 0, "seed {seed}");
        assert!(
            elected,
            "seed {seed}: the rival is elected once the lease ran out"
        );
    }
}

#[test]
fn leases_hold_with_the_leaders_clock_slow_at_the_drift_bound() {
    // Default bound 10,000 ppm between any two clocks: the leader 0.99 % slow.
    for seed in 0..SEEDS {
        let b = Breakage {
            leader_drift_ppm: -9_900,
            ..Breakage::default()
        };
        let (violations, elected) = isolate_leader(seed, b);
        assert_eq!(violations, 0, "seed {seed}");
        assert!(elected, "seed {seed}");
    }
}

/// Negative control: a leader clock 30 % slow (beyond the 1 % bound) overstays.
#[test]
fn negative_control_drift_beyond_the_bound_breaks_the_lease() {
    let b = Breakage {
        leader_drift_ppm: -300_000,
        ..Breakage::default()
    };
    let caught = (0..SEEDS).filter(|&s| isolate_leader(s, b).0 > 0).count();
    println!("drift beyond the bound: {caught}/{SEEDS} seeds caught");
    assert_eq!(caught as u64, SEEDS, "every seed must be caught");
}

#[test]
fn leases_hold_with_slow_replies() {
    let b = Breakage {
        slow_replies: Some(60 * MS),
        ..Breakage::default()
    };
    for seed in 0..SEEDS {
        assert_eq!(isolate_leader(seed, b).0, 0, "seed {seed}");
    }
}

/// Negative control: leases computed from when acknowledgements *arrive* overstay by
/// the reply delay.
#[test]
fn negative_control_lease_from_ack_time_breaks_the_lease() {
    let b = Breakage {
        slow_replies: Some(60 * MS),
        ack_time: true,
        ..Breakage::default()
    };
    let caught = (0..SEEDS).filter(|&s| isolate_leader(s, b).0 > 0).count();
    println!("lease from ack time: {caught}/{SEEDS} seeds caught");
    assert_eq!(caught as u64, SEEDS, "every seed must be caught");
}

#[test]
fn leases_hold_when_an_acknowledging_follower_restarts_at_once() {
    for seed in 0..SEEDS {
        assert_eq!(
            restart_follower(seed, Breakage::default()),
            0,
            "seed {seed}"
        );
    }
}

/// Negative control: without the restart quarantine, a follower that acknowledged
/// the leader and restarted votes at once, and a rival is elected inside the lease.
#[test]
fn negative_control_no_restart_quarantine_breaks_the_lease() {
    let b = Breakage {
        no_quarantine: true,
        ..Breakage::default()
    };
    let caught = (0..SEEDS).filter(|&s| restart_follower(s, b) > 0).count();
    println!("no restart quarantine: {caught}/{SEEDS} seeds caught");
    assert_eq!(caught as u64, SEEDS, "every seed must be caught");
}
