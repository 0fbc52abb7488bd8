//! One seed is the whole test: the same seed replays the same run, event for event.
#![cfg(feature = "sim")]

use ballot::sim::{SimOptions, Simulation};

fn hash_of(options: SimOptions) -> (u64, String) {
    let report = Simulation::new(options).run();
    (report.trace_hash, report.to_string())
}

#[test]
fn the_same_seed_gives_the_same_trace_hash_and_report() {
    for seed in [0, 1, 7, 42, 0xdead_beef] {
        let a = hash_of(SimOptions::from_seed(seed));
        let b = hash_of(SimOptions::from_seed(seed));
        assert_eq!(a, b, "seed {seed} did not replay");
    }
}

#[test]
fn different_seeds_take_different_paths() {
    let mut hashes: Vec<u64> = (0..16)
        .map(|s| hash_of(SimOptions::from_seed(s)).0)
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), 16, "two seeds produced the same trace hash");
    // The same options with another seed also differ (the seed drives every draw).
    let a = hash_of(SimOptions::new(1).nodes(5)).0;
    let b = hash_of(SimOptions::new(2).nodes(5)).0;
    assert_ne!(a, b);
}

#[test]
fn tracing_does_not_change_the_run() {
    let quiet = Simulation::new(SimOptions::from_seed(3)).run();
    let mut sim = Simulation::new(SimOptions::from_seed(3).trace(true));
    let traced = sim.run();
    assert_eq!(quiet.trace_hash, traced.trace_hash);
    assert!(!sim.trace().is_empty());
}

#[test]
fn a_seed_expands_to_fixed_printed_options() {
    let a = SimOptions::from_seed(99);
    assert_eq!(a, SimOptions::from_seed(99));
    assert!((1..=9).contains(&a.nodes));
    let shown = a.to_string();
    assert!(shown.starts_with("seed 99\n"), "{shown}");
    assert!(shown.contains("election timeout"), "{shown}");
    // Options vary with the seed.
    let distinct: std::collections::BTreeSet<String> = (0..20)
        .map(|s| SimOptions::from_seed(s).to_string()[8..].to_string())
        .collect();
    assert!(distinct.len() > 15);
}

#[test]
fn randomized_runs_are_clean_and_print_their_options_first() {
    for seed in 0..24 {
        let report = Simulation::new(SimOptions::from_seed(seed)).run();
        report.assert_ok();
        assert!(report.liveness.is_some());
        assert!(report.to_string().starts_with(&format!("seed {seed}\n")));
    }
}
