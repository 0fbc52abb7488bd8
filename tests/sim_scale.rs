//! Scale: a 2,000-node cluster elects exactly one leader from a cold start, and
//! exactly one again after that leader crashes, with every invariant checked after
//! every event. (Wall-clock performance is measured in `benches/sim.rs`.)
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{SimOptions, Simulation};

const NODES: u64 = 2_000;

/// Runs until one leader is followed by every live node; returns it.
fn one_leader(sim: &mut Simulation, within: Duration) -> u64 {
    assert!(
        sim.run_until(|s| s.stable_leader().is_some(), within),
        "no stable leader\n{}",
        sim.report()
    );
    let leader = sim.stable_leader().unwrap();
    assert_eq!(sim.leaders(), vec![leader], "exactly one node leads");
    let term = sim.node(leader).unwrap().term();
    for id in (1..=NODES).filter(|&id| sim.is_up(id)) {
        let node = sim.node(id).unwrap();
        assert_eq!((node.term(), node.leader()), (term, Some(leader)), "n{id}");
    }
    leader
}

#[test]
fn two_thousand_nodes_elect_one_leader_cold_and_again_after_it_crashes() {
    let mut sim = SimOptions::new(2_000).nodes(NODES as usize).build();
    let first = one_leader(&mut sim, Duration::from_secs(10));

    sim.crash(first);
    let crashed_at = sim.now();
    let second = one_leader(&mut sim, Duration::from_secs(10));
    assert_ne!(second, first);
    assert!(sim.node(second).unwrap().term() > sim.durable(first).unwrap().term);
    // The new leader came from an election after the crash.
    assert!(
        sim.leader_history()
            .any(|e| e.node == second && e.at > crashed_at)
    );
    let report = sim.report();
    report.assert_ok();
    println!("{report}");
}
