//! Replays byte strings through the fuzz entry points on stable Rust: a fixed set of
//! pseudo-random inputs (a poor man's fuzzer that runs in CI) plus every file under
//! `fuzz/regressions/<target>/` (crashes the real fuzzer found, kept as tests).
//! `FUZZ_REPLAY_CASES=<n>` runs more random inputs.
#![cfg(feature = "sim")]

use ballot::sim::fuzz;

fn cases(default: u64) -> u64 {
    std::env::var("FUZZ_REPLAY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic pseudo-random bytes (SplitMix64), `len` of them from `seed`.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

fn regressions(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("readable regression file"))
        .collect()
}

#[test]
fn single_node_survives_random_and_recorded_inputs() {
    for seed in 0..cases(3000) {
        let len = 16 + (seed as usize * 7) % 600;
        fuzz::single_node(&bytes(seed, len));
    }
    for data in regressions("single_node") {
        fuzz::single_node(&data);
    }
}

#[test]
fn cluster_survives_random_and_recorded_fault_schedules() {
    for seed in 0..cases(60) {
        let len = 12 + (seed as usize * 13) % 120;
        fuzz::cluster(&bytes(seed, len));
    }
    for data in regressions("cluster") {
        fuzz::cluster(&data);
    }
}

#[test]
fn empty_and_tiny_inputs_are_fine() {
    for len in 0..16 {
        fuzz::single_node(&vec![0xff; len]);
        fuzz::cluster(&vec![0; len]);
    }
}
