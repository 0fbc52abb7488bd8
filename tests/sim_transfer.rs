//! Leadership transfer, hand-overs and preferred leaders in the simulator: how long
//! a transfer takes with stickiness on, what loss does to it, and that priority
//! hand-overs converge without ping-pong.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{Delay, SimOptions, Simulation};
use ballot::{Config, Input, Output, Role};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

/// One-way delay and persist latency of the timing test: fixed, so the bound is exact.
const DELAY: Duration = Duration::from_millis(2);
const PERSIST: Duration = Duration::from_millis(1);

fn fixed(nodes: usize, seed: u64) -> Simulation {
    SimOptions::new(seed)
        .nodes(nodes)
        .delay(Delay::Fixed(DELAY))
        .persist_latency(Delay::Fixed(PERSIST))
        .build()
}

fn some_other(sim: &Simulation, not: u64) -> u64 {
    sim.ids().find(|&id| id != not).unwrap()
}

/// With stickiness on (every follower heard the leader a moment ago), a transfer
/// completes in one one-way delay (TimeoutNow) + one round trip (vote request and
/// grant) + two persists (the target's new term and self-vote; the voters' votes):
/// 3 × 2 ms + 2 × 1 ms = 8 ms, against at least 150 ms (a stickiness window) for a
/// leader change without the transfer mark.
#[test]
fn a_transfer_completes_within_a_round_trip_and_a_half_plus_two_persists() {
    for nodes in [3, 5] {
        let mut sim = fixed(nodes, 11);
        let old = sim.run_until_stable_leader(5 * SEC).unwrap();
        sim.run_for(100 * MS); // heartbeats: every follower is sticky
        let target = some_other(&sim, old);
        let term = sim.node(old).unwrap().term();
        let start = sim.now();
        let out = sim.command(old, Input::TransferLeadership(target));
        assert!(
            out.iter()
                .any(|o| matches!(o, Output::TransferStarted { to, .. } if *to == target)),
            "{out:?}"
        );
        let bound = 3 * DELAY + 2 * PERSIST;
        let won = sim.run_until(|s| s.role(target) == Some(Role::Leader), bound);
        assert!(won, "{nodes} nodes: no transfer within {bound:?}");
        let took = sim.now() - start;
        assert_eq!(took, bound, "{nodes} nodes");
        assert_eq!(sim.node(target).unwrap().term(), term.next());
        assert!(sim.run_until(|s| s.stable_leader() == Some(target), 50 * MS));
        assert_eq!(sim.node(old).unwrap().leader(), Some(target));
        sim.report().assert_ok();
    }
}

/// `StepDown` hands over: the cluster has a new leader within milliseconds instead
/// of an election timeout.
#[test]
fn step_down_hands_over_without_waiting_for_an_election_timeout() {
    let mut sim = fixed(5, 12);
    let old = sim.run_until_stable_leader(5 * SEC).unwrap();
    sim.run_for(100 * MS);
    let _ = sim.command(old, Input::StepDown);
    let bound = 3 * DELAY + 2 * PERSIST;
    assert!(sim.run_until(|s| s.leaders().iter().any(|&l| l != old), bound));
    sim.report().assert_ok();
}

/// A leader removed from the voter set hands over (openraft#2091).
#[test]
fn a_removed_leader_hands_over_without_waiting_for_an_election_timeout() {
    let mut sim = fixed(5, 13);
    let old = sim.run_until_stable_leader(5 * SEC).unwrap();
    sim.run_for(100 * MS);
    sim.remove_node(old);
    let bound = 3 * DELAY + 2 * PERSIST;
    assert!(sim.run_until(|s| s.leaders().iter().any(|&l| l != old), bound));
    sim.report().assert_ok();
}

/// Under loss, duplication and jitter, repeated transfers to random voters either
/// complete or are abandoned: the invariants (one leader per term, ...) hold after
/// every event, and a stable leader follows every attempt within the liveness bound.
#[test]
fn under_loss_a_transfer_completes_or_is_abandoned_and_never_stalls_the_cluster() {
    let (mut completed, mut abandoned) = (0, 0);
    for seed in 0..40u64 {
        let mut sim = SimOptions::new(seed)
            .nodes(3 + (seed % 3) as usize * 2)
            .delay(Delay::uniform(MS, 10 * MS))
            .loss_ppm(100_000 + (seed % 4) as u32 * 50_000)
            .duplicate_ppm(20_000)
            .build();
        let bound = sim.options().liveness_bound();
        for _ in 0..5 {
            let Some(old) = sim.run_until_stable_leader(bound) else {
                panic!("seed {seed}: no stable leader within {bound:?}");
            };
            let n = sim.ids().count() as u64;
            let target = 1 + (old + sim.random_below(n - 1)) % n;
            let out = sim.command(old, Input::TransferLeadership(target));
            assert!(
                out.iter()
                    .any(|o| matches!(o, Output::TransferStarted { .. }))
            );
            // Within one election timeout (+ slack for the last messages) the
            // transfer is decided one way or the other.
            sim.run_for(Config::default().election_timeout_max + 50 * MS);
            let still_pending = sim.node(old).is_some_and(|e| e.status().transfer.is_some());
            assert!(!still_pending, "seed {seed}: transfer still pending");
            if sim.leader() == Some(target) {
                completed += 1;
            } else {
                abandoned += 1;
            }
        }
        assert!(
            sim.run_until_stable_leader(bound).is_some(),
            "seed {seed}: stalled"
        );
        sim.report().assert_ok();
    }
    println!("transfers under loss: {completed} completed, {abandoned} not");
    assert!(
        completed > abandoned,
        "{completed} completed, {abandoned} not"
    );
}

/// Preferred leader: whoever wins first, leadership ends with the voter of the
/// highest priority and stays there (hand-overs only go up, so no ping-pong).
#[test]
fn leadership_settles_on_the_highest_priority_voter_and_stays() {
    for seed in 0..10u64 {
        let mut sim = SimOptions::new(seed).nodes(5).build_with(|s| {
            s.set_config(4, Config::default().with_priority(9)).unwrap();
            s.set_config(2, Config::default().with_priority(3)).unwrap();
        });
        let hold_off = Config::default().election_timeout_max * Config::PRIORITY_HOLD_OFF;
        sim.run_until_stable_leader(5 * SEC).unwrap();
        assert!(sim.run_until(|s| s.stable_leader() == Some(4), hold_off + 2 * SEC));
        let term = sim.node(4).unwrap().term();
        sim.run_for(3 * hold_off);
        assert_eq!(sim.stable_leader(), Some(4), "seed {seed}");
        assert_eq!(
            sim.node(4).unwrap().term(),
            term,
            "seed {seed}: a later election"
        );
        sim.report().assert_ok();
    }
}

/// A preferred node that keeps crashing and coming back costs at most one
/// priority hand-over per hold-off period, not one election per flap.
#[test]
fn a_flapping_preferred_node_does_not_cause_an_election_per_flap() {
    let mut sim = SimOptions::new(5).nodes(5).build_with(|s| {
        s.set_config(5, Config::default().with_priority(9)).unwrap();
    });
    let hold_off = Config::default().election_timeout_max * Config::PRIORITY_HOLD_OFF;
    sim.run_until_stable_leader(5 * SEC).unwrap();
    let first = sim.node(1).unwrap().stats();
    let start = sim.now();
    // Node 5 is up for 400 ms, down for 400 ms, for 20 s: 25 flaps.
    for _ in 0..25 {
        sim.run_for(400 * MS);
        sim.crash(5);
        sim.run_for(400 * MS);
        sim.restart(5);
    }
    let span = sim.now() - start;
    let max_term = sim
        .ids()
        .filter_map(|id| sim.node(id))
        .map(|e| e.term().get())
        .max()
        .unwrap();
    // Every hand-over to 5 is an election, and every crash of 5 while leading is
    // another; at most one hand-over per hold-off period.
    let periods = (span.as_nanos() / hold_off.as_nanos()) as u64 + 1;
    let _ = first;
    assert!(
        max_term <= 2 * periods + 2,
        "{max_term} terms in {span:?} ({periods} hold-off periods)"
    );
    sim.heal_all();
    assert!(sim.run_until_stable_leader(5 * SEC).is_some());
    sim.report().assert_ok();
}

/// A witness votes and counts towards the quorum but never leads: with two of three
/// voters down except the witness, no leader; with one other voter, the other leads.
#[test]
fn a_witness_counts_towards_quorums_but_never_leads() {
    for seed in 0..10u64 {
        let mut sim = SimOptions::new(seed).nodes(3).build_with(|s| {
            s.set_config(3, Config::default().with_witness(true))
                .unwrap();
        });
        let leader = sim.run_until_stable_leader(5 * SEC).unwrap();
        assert_ne!(leader, 3);
        // Crash the leader: the remaining voter and the witness elect the voter.
        sim.crash(leader);
        let other = if leader == 1 { 2 } else { 1 };
        assert!(
            sim.run_until(|s| s.leader() == Some(other), 5 * SEC),
            "seed {seed}"
        );
        // Crash that one too: the witness alone never campaigns.
        sim.crash(other);
        sim.run_for(5 * SEC);
        assert_eq!(sim.node(3).unwrap().stats().pre_votes_started, 0);
        assert_eq!(sim.node(3).unwrap().stats().elections_started, 0);
        sim.report().assert_ok();
    }
}
