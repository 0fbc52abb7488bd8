//! The thesis' WAN experiment (`ballot::sim::experiments::wan`): five servers,
//! one-way latency uniform in 30–40 ms, election timeouts in 300–600 ms, 0, 1 or 2
//! servers failed, every timer started at time zero, instantaneous disks.
//!
//! What the model implies and these tests check:
//!
//! * **A hard floor.** No election can finish before a timeout (≥ 300 ms), a vote
//!   request and a grant (≥ 30 ms each): every trial's election time is ≥ 360 ms,
//!   and the last live server hears the leader at least one more latency later.
//! * **The split-vote rate of term 1.** With two of five failed, a candidate needs
//!   every live vote, so term 1 splits exactly when a second live server times out
//!   before the first candidate's request reaches it. With a fixed latency `δ` that
//!   has probability `1 − (1 − δ/300 ms)³`; the latency is drawn per message in
//!   `[30, 40)` ms, so the rate lies between the formula at 30 ms (27.1 %) and at
//!   40 ms (35.0 %). Accepted with 4 binomial standard errors of slack.
//! * **Failures slow elections.** The median with two failed is above the median
//!   with none (fewer timers racing, more split votes).
//!
//! `SIM_WAN_TRIALS` sets the trial count (default 2,000 per curve).
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::experiments::wan::Wan;

fn trials() -> usize {
    std::env::var("SIM_WAN_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

#[test]
fn no_election_beats_a_timeout_and_a_round_trip() {
    for failed in 0..=2 {
        let experiment = Wan::new(failed).with_seed(11);
        let outcome = experiment.run(trials() / 4);
        assert_eq!(outcome.unfinished(), 0, "{failed} failed");
        assert_eq!(outcome.violations(), 0, "{failed} failed");
        let floor = experiment.timeout_min + 2 * Duration::from_millis(30);
        for (i, t) in outcome.trials.iter().enumerate() {
            let elected = t.elected.expect("finished");
            let heard = t.all_heard.expect("finished");
            assert!(
                elected >= floor,
                "{failed} failed, trial {i}: elected at {elected:?} < {floor:?}"
            );
            assert!(
                heard >= elected + Duration::from_millis(30),
                "{failed} failed, trial {i}: all heard at {heard:?}, elected at {elected:?}"
            );
        }
        println!("{failed} failed: {}", outcome.summary().unwrap());
    }
}

#[test]
fn two_failed_split_the_first_term_as_the_thesis_formula_bounds() {
    let experiment = Wan::new(2).with_seed(3);
    let n = trials();
    let outcome = experiment.run(n);
    let at = |latency_ms: f64| 1.0 - (1.0 - latency_ms / 300.0f64).powi(3);
    let (lo, hi) = (at(30.0), at(40.0));
    let observed = outcome.first_term_splits() as f64 / n as f64;
    let sigma = (hi * (1.0 - hi) / n as f64).sqrt();
    println!(
        "2 of 5 failed: term 1 split in {}/{n} trials = {:.2} % (formula {:.1} %..{:.1} %, σ {:.2} points)",
        outcome.first_term_splits(),
        100.0 * observed,
        100.0 * lo,
        100.0 * hi,
        100.0 * sigma
    );
    assert!(
        observed >= lo - 4.0 * sigma && observed <= hi + 4.0 * sigma,
        "observed {observed:.4} outside [{lo:.4}, {hi:.4}] ± 4σ ({sigma:.4})"
    );
    // A trial whose term 1 split cannot have its leader in term 1.
    for t in &outcome.trials {
        assert_eq!(t.first_term_leader, t.term == 1, "{t:?}");
    }
}

#[test]
fn more_failures_mean_slower_elections() {
    let n = trials() / 2;
    let none = Wan::new(0).with_seed(5).run(n).summary().unwrap();
    let two = Wan::new(2).with_seed(5).run(n).summary().unwrap();
    println!("0 failed: {none}\n2 failed: {two}");
    assert!(
        two.median > none.median && two.mean > none.mean && two.p99 > none.p99,
        "0 failed {none} vs 2 failed {two}"
    );
}
