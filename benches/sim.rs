//! Simulator performance: message deliveries per wall-clock second in a steady
//! cluster with a leader, and the wall time of a cold-start election at 3, 51, 501,
//! 2,001 and 10,001 nodes.
//!
//! Run with `cargo bench --features sim --bench sim`; `-- quick` skips the
//! 10,001-node cold starts, and `-- 10001 2001` runs only the cold starts of those
//! sizes. Each number is the median of five samples (seeds 1 to 5 for the cold
//! starts); the machine is shared and noisy, so compare ratios within one run.
//!
//! A cold start's cost is mostly protocol, not simulator: every node whose timer
//! fires before it hears of a new leader broadcasts a pre-vote request to all
//! others, so a 10,001-node cluster with timeouts in `[150, 300) ms` and 1–3 ms
//! delays runs hundreds of overlapping pre-vote rounds (over 10 million
//! deliveries). The wider ranges show the same cluster with fewer collisions.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // a benchmark reads the wall clock

use std::time::{Duration, Instant as WallClock};

use ballot::Config;
use ballot::sim::{Delay, SimOptions};

const MS: Duration = Duration::from_millis(1);

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// A calm network of `nodes` voters with one-way delays in [1, 3) ms.
fn options(seed: u64, nodes: usize, timeout: (u64, u64)) -> SimOptions {
    let config =
        Config::default().with_election_timeout(MS * timeout.0 as u32, MS * timeout.1 as u32);
    SimOptions::new(seed)
        .nodes(nodes)
        .config(config)
        .delay(Delay::uniform(MS, 3 * MS))
}

/// One cold start: build the cluster, run until a leader is in contact with a
/// quorum, then until every node follows it. Returns (build, elect, stable) wall
/// seconds, the simulated election time and the number of deliveries.
fn cold_start(seed: u64, nodes: usize, timeout: (u64, u64)) -> ColdStart {
    let t0 = WallClock::now();
    let mut sim = options(seed, nodes, timeout).build();
    let build = t0.elapsed();
    let t1 = WallClock::now();
    let elected = sim.run_until(|s| s.leader().is_some(), 60 * 1000 * MS);
    let elect = t1.elapsed();
    let simulated = sim.now();
    assert!(elected, "no leader: {}", sim.report());
    let stable = sim.run_until(|s| s.stable_leader().is_some(), 60 * 1000 * MS);
    let all = t1.elapsed();
    assert!(stable, "no stable leader: {}", sim.report());
    let report = sim.report();
    assert!(report.is_ok(), "{report}");
    ColdStart {
        build,
        elect,
        stable: all,
        simulated: Duration::from_nanos(simulated.as_nanos()),
        deliveries: report.net.delivered,
        max_term: report.max_term,
    }
}

struct ColdStart {
    build: Duration,
    elect: Duration,
    stable: Duration,
    simulated: Duration,
    deliveries: u64,
    max_term: u64,
}

/// Deliveries per wall second in a cluster that already has a stable leader: the
/// leader's heartbeats and the followers' replies.
fn throughput(nodes: usize, simulated: Duration) -> (f64, u64) {
    let mut sim = options(1, nodes, (150, 300)).build();
    assert!(sim.run_until(|s| s.stable_leader().is_some(), 10_000 * MS));
    let before = sim.net_stats().delivered;
    let t = WallClock::now();
    sim.run_for(simulated);
    let wall = t.elapsed().as_secs_f64();
    let delivered = sim.net_stats().delivered - before;
    sim.report().assert_ok();
    (delivered as f64 / wall, delivered)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "quick");
    // Numbers on the command line pick the cluster sizes of the cold-start cases
    // (and skip the throughput cases).
    let picked: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();

    println!("steady state with a leader (heartbeats every 50 ms, replies)");
    let steady: &[(usize, u64)] = if picked.is_empty() {
        &[(5, 2_000), (51, 200), (501, 20), (2_001, 5), (10_001, 1)]
    } else {
        &[]
    };
    for &(nodes, secs) in steady {
        let samples: Vec<(f64, u64)> = (0..5)
            .map(|_| throughput(nodes, Duration::from_secs(secs)))
            .collect();
        let per_sec = median(samples.iter().map(|s| s.0).collect());
        println!(
            "  {nodes:>6} nodes: {:>6.2} M deliveries/s ({} deliveries in {secs} s simulated)",
            per_sec / 1e6,
            samples[0].1
        );
    }

    let mut sizes = vec![3usize, 51, 501, 2_001];
    if !quick {
        sizes.push(10_001);
    }
    if !picked.is_empty() {
        sizes = picked;
    }
    for timeout in [(150u64, 300u64), (150, 1_500), (150, 3_000)] {
        println!(
            "cold-start election, timeouts [{}, {}) ms, delay [1, 3) ms (median of seeds 1..=5)",
            timeout.0, timeout.1
        );
        for &nodes in &sizes {
            let runs: Vec<ColdStart> = (1..=5).map(|s| cold_start(s, nodes, timeout)).collect();
            let ms = |f: &dyn Fn(&ColdStart) -> Duration| {
                median(runs.iter().map(|r| f(r).as_secs_f64() * 1e3).collect())
            };
            let worst = runs.iter().map(|r| r.elect).max().unwrap_or_default();
            println!(
                "  {nodes:>6} nodes: build {:>6.1} ms, elect {:>7.1} ms (max {:>7.1}), all follow {:>7.1} ms wall; \
                 simulated {:>6.1} ms, {:>9.0} deliveries, max term {}",
                ms(&|r| r.build),
                ms(&|r| r.elect),
                worst.as_secs_f64() * 1e3,
                ms(&|r| r.stable),
                ms(&|r| r.simulated),
                median(runs.iter().map(|r| r.deliveries as f64).collect()),
                runs.iter().map(|r| r.max_term).max().unwrap_or(0),
            );
        }
    }
}
