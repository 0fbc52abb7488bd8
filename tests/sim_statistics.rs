//! Statistics against theory (Ongaro's thesis §9.3): with every election timer
//! started at the same moment, a fixed one-way latency `δ` and instantaneous
//! disks, the first term ends with no leader exactly when a second live server
//! times out within `δ` of the first (see `ballot::sim::experiments::split_vote`).
//! For `k` live servers that happens with probability `1 - (1 - δ/range)^k`:
//! 48.8 % for 5 servers with 2 down at `δ = 0.2 × range`, 41.0 % for 9 servers
//! with 4 down at `δ = 0.1 × range`.
//!
//! Each check runs `SIM_STAT_TRIALS` trials (default 2,000) and accepts the
//! observed fraction within 4 standard errors of the binomial proportion,
//! `σ = sqrt(p (1 - p) / N)` (±4.5 points at the default N): a false alarm has
//! probability 6·10⁻⁵ for an unbiased simulator, while a bias of 5 points (the
//! size of a wrong definition of "term ends", or an off-by-one latency) fails.
#![cfg(feature = "sim")]

use ballot::sim::experiments::split_vote::SplitVote;

fn trials() -> usize {
    std::env::var("SIM_STAT_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

fn check(experiment: SplitVote, thesis: f64) {
    // The closed form gives the thesis' number.
    let model = experiment.predicted();
    assert!(
        (model - thesis).abs() < 0.0005,
        "model {model} vs thesis {thesis}"
    );

    let n = trials();
    let outcome = experiment.run(n);
    let sigma = outcome.variance_if(model).sqrt();
    let observed = outcome.fraction();
    println!(
        "{} servers, {} down, δ = {:?}: no leader in term 1 in {}/{} trials = {:.2} % \
         (model {:.2} %, σ {:.2} points, {:+.1} σ)",
        experiment.servers,
        experiment.down,
        experiment.latency,
        outcome.no_leader,
        n,
        100.0 * observed,
        100.0 * model,
        100.0 * sigma,
        (observed - model) / sigma,
    );
    assert!(
        (observed - model).abs() <= 4.0 * sigma,
        "observed {observed:.4} vs model {model:.4}: more than 4σ ({sigma:.4}) apart"
    );
}

#[test]
fn five_servers_two_down_split_the_first_vote_48_8_percent_of_the_time() {
    check(SplitVote::new(5, 2, 200_000), 0.488);
}

#[test]
fn nine_servers_four_down_split_the_first_vote_41_percent_of_the_time() {
    check(
        SplitVote::new(9, 4, 100_000).with_seed(9),
        1.0 - 0.9f64.powi(5),
    );
}

#[test]
fn with_everyone_up_the_first_term_still_follows_the_model() {
    // Not in the thesis, but the same argument: 5 live servers of 5 (a candidate
    // needs 3 votes). A second timeout within δ no longer dooms the term (the
    // first candidate may still collect 3 of the 4 others), so the fraction
    // without a leader must be *below* the all-needed model 1 - 0.8^5 = 67.2 %.
    let experiment = SplitVote::new(5, 0, 200_000).with_seed(5);
    let outcome = experiment.run(trials() / 2);
    let bound = experiment.predicted();
    assert!(
        outcome.fraction() < bound - 0.05,
        "{} vs the all-votes-needed bound {bound}",
        outcome.fraction()
    );
    assert!(outcome.no_leader > 0, "split votes still happen");
}

/// Like [`check`], against the thesis' general formula
/// ([`SplitVote::thesis_rate`]), for clusters with more live servers than a bare
/// majority.
fn check_general(experiment: SplitVote, thesis: f64) {
    let model = experiment.thesis_rate();
    assert!(
        (model - thesis).abs() < 0.0005,
        "formula {model} vs thesis {thesis}"
    );
    let n = trials();
    let outcome = experiment.run(n);
    let sigma = outcome.variance_if(model).sqrt();
    let observed = outcome.fraction();
    println!(
        "{} servers, {} down, δ = {:?}: no leader in term 1 in {}/{} trials = {:.2} % \
         (thesis formula {:.2} %, σ {:.2} points, {:+.1} σ)",
        experiment.servers,
        experiment.down,
        experiment.latency,
        outcome.no_leader,
        n,
        100.0 * observed,
        100.0 * model,
        100.0 * sigma,
        (observed - model) / sigma,
    );
    assert!(
        (observed - model).abs() <= 4.0 * sigma,
        "observed {observed:.4} vs formula {model:.4}: more than 4σ ({sigma:.4}) apart"
    );
}

#[test]
fn the_general_formula_is_the_bare_majority_formula_for_a_bare_majority() {
    for ppm in [0, 10_000, 100_000, 200_000, 500_000, 1_000_000] {
        for (servers, down) in [(3, 1), (5, 2), (7, 3), (9, 4)] {
            let e = SplitVote::new(servers, down, ppm);
            assert!(
                (e.thesis_rate() - e.predicted()).abs() < 1e-12,
                "{servers}/{down} at {ppm} ppm: {} vs {}",
                e.thesis_rate(),
                e.predicted()
            );
        }
    }
    // The thesis' worked example: s = 4 of n = 5, range 100 ms, δ = 1, 10, 20 ms:
    // "about 0.06 %", "about 5.2 %", "about 18.1 %".
    for (ppm, thesis) in [(10_000, 0.0006), (100_000, 0.052), (200_000, 0.181)] {
        let rate = SplitVote::new(5, 1, ppm).thesis_rate();
        assert!((rate - thesis).abs() < 0.0005, "{ppm}: {rate} vs {thesis}");
    }
    // No majority alive: every term splits; one server: never.
    assert_eq!(SplitVote::new(5, 3, 100_000).thesis_rate(), 1.0);
    assert_eq!(SplitVote::new(1, 0, 100_000).thesis_rate(), 0.0);
}

#[test]
fn five_servers_one_down_follow_the_thesis_general_formula() {
    // s = 4 of 5, δ = 0.2 × range: a split needs the first 3 timeouts within δ,
    // Σ_{k=2}^{4} C(4,k) 0.2^k 0.8^(4-k) = 18.08 %.
    check_general(SplitVote::new(5, 1, 200_000).with_seed(51), 0.1808);
}

#[test]
fn five_servers_all_up_follow_the_thesis_general_formula() {
    // s = 5 of 5, δ = 0.2 × range: the first 4 within δ, 5.79 %.
    check_general(SplitVote::new(5, 0, 200_000).with_seed(50), 0.05792);
}
