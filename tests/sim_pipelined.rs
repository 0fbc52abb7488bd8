//! The drivers' pipelined storage model in the simulator: the same seeds, run once
//! with nodes that block while they write and once with nodes that keep stepping
//! (the drivers' `Pipeline`), are both safe and live — and really behave
//! differently. The seed swarm (tests/sim_swarm.rs) draws the model per seed.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{Delay, SimOptions, Simulation, StorageModel};

#[test]
fn both_storage_models_are_safe_and_live_on_the_same_seeds() {
    const SEEDS: u64 = 60;
    let mut differ = 0;
    for seed in 0..SEEDS {
        // Slow disks (up to a third of the minimum election timeout) make the
        // difference between the models show.
        let base = SimOptions::from_seed(seed);
        let slow = base.config.election_timeout_min / 3;
        let base = base.persist_latency(Delay::uniform(Duration::ZERO, slow));
        let blocking = Simulation::new(base.storage(StorageModel::Blocking)).run();
        let pipelined = Simulation::new(base.storage(StorageModel::Pipelined)).run();
        for report in [&blocking, &pipelined] {
            report.assert_ok();
            assert!(
                report.liveness.is_some(),
                "seed {seed}: no leader after healing"
            );
        }
        if blocking.trace_hash != pipelined.trace_hash {
            differ += 1;
        }
    }
    assert!(
        differ * 2 >= SEEDS,
        "the models differed on only {differ} of {SEEDS} seeds"
    );
}

#[test]
fn the_swarm_draws_both_models() {
    let pipelined = (0..1000)
        .filter(|s| SimOptions::from_seed(*s).storage == StorageModel::Pipelined)
        .count();
    assert!((350..=650).contains(&pipelined), "{pipelined} of 1000");
    assert!(
        SimOptions::from_seed(1).to_string().contains("storage"),
        "the printed options name the model"
    );
}
