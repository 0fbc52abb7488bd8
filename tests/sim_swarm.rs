//! The seed swarm: many random simulations, each expanded from one seed into random
//! options (1–9 voters, timeouts, delays, loss, duplication, partitions of every
//! kind, crashes — some between two outputs of a batch — clock drift, the
//! blocking or the drivers' pipelined storage model, and varied freshness:
//! per-node log positions, nodes that fall behind and catch up). Each run
//! injects faults with the invariants checked after every event, then heals and
//! demands a stable leader. Every seed must finish with no violation. On top of the
//! options, each seed also draws (see [`simulation`]) a preferred node
//! (`Config::priority`), a witness (with at least 3 voters), and leadership transfers
//! and `ForgetLeader`s at random instants of the fault phase.
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

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;

use ballot::sim::{Action, Report, SimOptions, Simulation, StorageModel};
use ballot::{Input, Instant, Output};

/// Seeds the default swarm runs: about 25 s on two cores in the test profile (debug).
const DEFAULT_SEEDS: u64 = 4_000;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={value:?} is not a number"),
    }
}

/// A deterministic stream of draws from `seed` (splitmix64), independent of the
/// simulation's own random stream.
struct Draws(u64);

impl Draws {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }
}

/// The simulation of one seed: [`SimOptions::from_seed`], plus (drawn from the seed)
/// a preferred node, a witness when there are at least 3 voters, and up to 6
/// leadership transfers (from whoever leads then, to a random node) and 3
/// `ForgetLeader`s at random instants of the fault phase (each only when no live
/// node leads, as the documentation asks). `transfers` counts the
/// transfers a leader started.
fn simulation(options: SimOptions, transfers: &Rc<Cell<u64>>) -> Simulation {
    let mut d = Draws(options.seed ^ 0x7472_616e_7366_6572);
    let nodes = options.nodes as u64;
    let phase = options.fault_phase.as_millis() as u64;
    let preferred = (d.below(2) == 0).then(|| 1 + d.below(nodes));
    let witness = (nodes >= 3 && d.below(3) == 0).then(|| 1 + d.below(nodes));
    let mut sim = options.build_with(|sim| {
        if let Some(p) = preferred {
            let config = sim.config_of(p).with_priority(1 + d.below(255) as u8);
            sim.set_config(p, config).unwrap();
        }
        if let Some(w) = witness {
            let config = sim.config_of(w).with_witness(true);
            sim.set_config(w, config).unwrap();
            // A witness holds no data: the lowest freshness (the simulator never
            // replicates to it). A witness fresher than every live voter that may
            // lead would block elections for good: a configuration error.
            sim.set_freshness(w, ballot::Freshness::default());
        }
    });
    for _ in 0..d.below(7) {
        let (at, to) = (d.below(phase.max(1)), 1 + d.below(nodes));
        let transfers = Rc::clone(transfers);
        let call = move |sim: &mut Simulation| {
            if let Some(leader) = sim.leader() {
                let out = sim.command(leader, Input::TransferLeadership(to));
                let started = out
                    .iter()
                    .filter(|o| matches!(o, Output::TransferStarted { .. }))
                    .count();
                transfers.set(transfers.get() + started as u64);
            }
        };
        sim.at(Instant::from_millis(at), Action::Call(Box::new(call)));
    }
    for _ in 0..d.below(4) {
        let (at, who) = (d.below(phase.max(1)), 1 + d.below(nodes));
        // Used as documented: only when no live node leads (the external signal is
        // right). Given while a leader lives, it voids that leader's lease by design,
        // and the lease invariant would report it.
        let call = move |sim: &mut Simulation| {
            if sim.leaders().is_empty() {
                let _ = sim.command(who, Input::ForgetLeader);
            }
        };
        sim.at(Instant::from_millis(at), Action::Call(Box::new(call)));
    }
    sim
}

/// Replays one seed with the trace on and prints everything.
fn replay(seed: u64) -> Report {
    let options = SimOptions::from_seed(seed).trace(true);
    println!("{options}\n");
    let mut sim = simulation(options, &Rc::new(Cell::new(0)));
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
    transfers: u64,
}

/// Runs one seed; prints its whole report if it failed.
fn run_seed(seed: u64) -> Summary {
    let transfers = Rc::new(Cell::new(0));
    let report = simulation(SimOptions::from_seed(seed), &transfers).run();
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
        transfers: transfers.get(),
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
    let transferring = runs_with(|r| r.transfers > 0);
    println!(
        "{count} seeds from {start}: {events} events, {elections} elections; \
         runs with crashes {crashes}, link faults {partitioned}, loss {lossy}, \
         duplicates {duplicating}, clock drift {drifting}, pipelined storage {pipelined}, \
         varied freshness {fresh}, leadership transfers {transferring}; \
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
            ("leadership transfers", transferring),
        ] {
            assert!(runs * 4 >= count, "only {runs} of {count} runs had {what}");
        }
    }
}
