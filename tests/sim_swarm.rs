//! The seed swarm: many random simulations, each expanded from one seed into random
//! options (1–9 voters, timeouts, delays, loss, duplication, partitions of every
//! kind, crashes — some between two outputs of a batch — and clock drift). Each run
//! injects faults with the invariants checked after every event, then heals and
//! demands a stable leader. Every seed must finish with no violation.
//!
//! * `cargo test --all-features --test sim_swarm` runs the default swarm
//!   ([`DEFAULT_SEEDS`] seeds starting at 0).
//! * `SIM_SEEDS=<n>` runs `n` seeds instead; `SIM_SEED_START=<s>` starts at `s`.
//! * `SIM_SEED=<n>` replays exactly seed `n` with the trace on, and prints its
//!   options, its timeline and its report.
//!
//! A failure prints each failing seed's report, which ends with
//! `reproduce with SIM_SEED=<n>`.
#![cfg(feature = "sim")]

use std::collections::BTreeSet;

use ballot::sim::{Report, SimOptions, Simulation};

/// Seeds the default swarm runs (about a minute in the test profile on one core).
const DEFAULT_SEEDS: u64 = 1_000;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={value:?} is not a number"),
    }
}

/// Replays one seed with the trace on and prints everything.
fn replay(seed: u64) -> Report {
    let options = SimOptions::from_seed(seed).trace(true);
    println!("{options}\n");
    let mut sim = Simulation::new(options);
    let report = sim.run();
    for line in sim.trace() {
        println!("{line}");
    }
    println!("\n{report}");
    report
}

#[test]
fn every_random_seed_is_safe_and_elects_a_leader_after_healing() {
    if let Some(seed) = env_u64("SIM_SEED") {
        replay(seed).assert_ok();
        return;
    }
    let start = env_u64("SIM_SEED_START").unwrap_or(0);
    let count = env_u64("SIM_SEEDS").unwrap_or(DEFAULT_SEEDS);

    let mut failed = Vec::new();
    let mut sizes = BTreeSet::new();
    let (mut crashes, mut partitioned, mut lossy, mut duplicating, mut drifting) = (0, 0, 0, 0, 0);
    let (mut events, mut elections) = (0, 0);
    for seed in start..start + count {
        let report = Simulation::new(SimOptions::from_seed(seed)).run();
        let o = &report.options;
        sizes.insert(o.nodes);
        crashes += u64::from(report.crashes > 0);
        partitioned += u64::from(report.net.dropped_link > 0);
        lossy += u64::from(report.net.dropped_loss > 0);
        duplicating += u64::from(report.net.duplicated > 0);
        drifting += u64::from(o.clocks.max_drift_ppm > 0);
        events += report.events;
        elections += report.leader_changes;
        if !report.is_ok() || report.liveness.is_none() {
            eprintln!("---- seed {seed} FAILED\n{report}\n");
            failed.push(seed);
        }
    }
    println!(
        "{count} seeds from {start}: {events} events, {elections} elections; \
         runs with crashes {crashes}, link faults {partitioned}, loss {lossy}, \
         duplicates {duplicating}, clock drift {drifting}; cluster sizes {sizes:?}"
    );
    assert!(
        failed.is_empty(),
        "{} of {count} seeds failed: {failed:?} (replay one with SIM_SEED=<n>)",
        failed.len()
    );
    // The swarm must really exercise the faults it claims to (not vacuous).
    if count >= 200 {
        assert_eq!(sizes, (1..=9).collect(), "every cluster size from 1 to 9");
        for (what, runs) in [
            ("crashes", crashes),
            ("link faults", partitioned),
            ("loss", lossy),
            ("duplicates", duplicating),
            ("clock drift", drifting),
        ] {
            assert!(runs * 4 >= count, "only {runs} of {count} runs had {what}");
        }
    }
}
