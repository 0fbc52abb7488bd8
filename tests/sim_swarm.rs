//! The seed swarm: many random simulations, each expanded from one seed into random
//! options (1–9 voters, timeouts, delays, loss, duplication, partitions of every
//! kind, crashes — some between two outputs of a batch — clock drift, the
//! blocking or the drivers' pipelined storage model, and varied freshness:
//! per-node log positions, nodes that fall behind and catch up). Each run
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

use ballot::sim::{Report, SimOptions, Simulation, StorageModel};

/// Seeds the default swarm runs: about 25 s on two cores in the test profile (debug).
const DEFAULT_SEEDS: u64 = 4_000;

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

/// What the swarm keeps of one run.
struct Summary {
    seed: u64,
    failed: bool,
    nodes: usize,
    crashes: bool,
    link_faults: bool,
    loss: bool,
    duplicates: bool,
    drift: bool,
    pipelined: bool,
    freshness: bool,
    events: u64,
    elections: u64,
}

/// Runs one seed; prints its whole report if it failed.
fn run_seed(seed: u64) -> Summary {
    let report = Simulation::new(SimOptions::from_seed(seed)).run();
    let failed = !report.is_ok() || report.liveness.is_none();
    if failed && std::env::var_os("SIM_SWARM_QUIET").is_none() {
        eprintln!("---- seed {seed} FAILED\n{report}\n");
    }
    if failed && std::env::var_os("SIM_SWARM_KINDS").is_some() {
        let mut kinds: Vec<String> = report
            .violations
            .iter()
            .map(|v| {
                format!("{:?}", v.kind)
                    .split([' ', '{'])
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        kinds.sort();
        kinds.dedup();
        eprintln!("seed {seed}: {}", kinds.join(","));
    }
    Summary {
        seed,
        failed,
        nodes: report.options.nodes,
        crashes: report.crashes > 0,
        link_faults: report.net.dropped_link > 0,
        loss: report.net.dropped_loss > 0,
        duplicates: report.net.duplicated > 0,
        drift: report.options.clocks.max_drift_ppm > 0,
        pipelined: report.options.storage == StorageModel::Pipelined,
        freshness: report.options.freshness.is_some(),
        events: report.events,
        elections: report.leader_changes,
    }
}

#[test]
fn every_random_seed_is_safe_and_elects_a_leader_after_healing() {
    if let Some(seed) = env_u64("SIM_SEED") {
        replay(seed).assert_ok();
        return;
    }
    let start = env_u64("SIM_SEED_START").unwrap_or(0);
    let count = env_u64("SIM_SEEDS").unwrap_or(DEFAULT_SEEDS);

    // Seeds are independent: spread them over the cores (each run is still
    // single-threaded and deterministic; only the order of the eprintln differs).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8)) as u64;
    let reports: Vec<Summary> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (start + t..start + count)
                        .step_by(threads as usize)
                        .map(run_seed)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a swarm worker panicked"))
            .collect()
    });

    let mut failed: Vec<u64> = reports
        .iter()
        .filter(|r| r.failed)
        .map(|r| r.seed)
        .collect();
    failed.sort_unstable();
    let sizes: BTreeSet<usize> = reports.iter().map(|r| r.nodes).collect();
    let runs_with = |f: fn(&Summary) -> bool| reports.iter().filter(|r| f(r)).count() as u64;
    let crashes = runs_with(|r| r.crashes);
    let partitioned = runs_with(|r| r.link_faults);
    let lossy = runs_with(|r| r.loss);
    let duplicating = runs_with(|r| r.duplicates);
    let drifting = runs_with(|r| r.drift);
    let pipelined = runs_with(|r| r.pipelined);
    let fresh = runs_with(|r| r.freshness);
    let events: u64 = reports.iter().map(|r| r.events).sum();
    let elections: u64 = reports.iter().map(|r| r.elections).sum();
    println!(
        "{count} seeds from {start}: {events} events, {elections} elections; \
         runs with crashes {crashes}, link faults {partitioned}, loss {lossy}, \
         duplicates {duplicating}, clock drift {drifting}, pipelined storage {pipelined}, \
         varied freshness {fresh}; \
         cluster sizes {sizes:?}"
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
            ("pipelined storage (the drivers' model)", pipelined),
            ("varied freshness", fresh),
        ] {
            assert!(runs * 4 >= count, "only {runs} of {count} runs had {what}");
        }
    }
}
