//! Reproduces Figure 16 of the Raft paper: the time to replace a crashed leader,
//! per election-timeout range, next to the paper's own measurements.
//!
//! ```text
//! cargo run --release --features sim --example figure16
//! cargo run --release --features sim --example figure16 -- --trials 200 --pre-vote
//! cargo run --release --features sim --example figure16 -- --range 150-155 --persist 1000,7000
//! cargo run --release --features sim --example figure16 -- --persist exp:500,3500
//! ```
//!
//! Options: `--trials N` (default 1000), `--seed S`, `--pre-vote`, `--range MIN-MAX`
//! (repeatable; default all nine), `--persist` and `--delay` (microseconds: `LO,HI`
//! for uniform in `[LO, HI)`, `exp:MIN,MEAN` for `MIN` plus an exponential extra
//! of mean `MEAN`; defaults `LAN_PERSIST` and `LAN_DELAY`), `--limit SECS` (per
//! trial; default 120). The experiment itself is
//! `ballot::sim::experiments::figure16`; docs/figure16.md discusses the result.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // reports its own wall time

use std::time::Duration;

use ballot::sim::Delay;
use ballot::sim::experiments::figure16::{self, Figure16, Outcome, RANGES, Reference};
use ballot::sim::experiments::{Summary, ks_critical_squared, ks_distance};

/// The paper's raw data (MIT, © 2014 Heidi Howard; see tests/data/README.md).
const PAPER_CSV: &str = include_str!("../tests/data/ongaro2014_fig16_lan_raw.csv");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut trials = 1000usize;
    let mut seed = 0u64;
    let mut pre_vote = false;
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let mut persist = figure16::LAN_PERSIST;
    let mut delay = figure16::LAN_DELAY;
    let mut limit: Option<u64> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage(arg)).clone();
        match arg.as_str() {
            "--trials" => trials = value().parse().unwrap_or_else(|_| usage(arg)),
            "--seed" => seed = value().parse().unwrap_or_else(|_| usage(arg)),
            "--pre-vote" => pre_vote = true,
            "--range" => ranges.push(pair(&value(), '-').unwrap_or_else(|| usage(arg))),
            "--persist" => persist = micros(&value()).unwrap_or_else(|| usage(arg)),
            "--delay" => delay = micros(&value()).unwrap_or_else(|| usage(arg)),
            "--limit" => limit = Some(value().parse().unwrap_or_else(|_| usage(arg))),
            _ => usage(arg),
        }
    }
    if ranges.is_empty() {
        ranges = RANGES.to_vec();
    }
    let paper = figure16::parse_reference(PAPER_CSV);

    println!(
        "Figure 16: {trials} trials per range, 5 servers, one-way delay {delay}, persist {persist}, \
         PreVote {}, seed {seed}",
        if pre_vote { "on" } else { "off" },
    );
    println!(
        "metric: crash -> every survivor has received the new leader's first heartbeat (ms)\n"
    );
    println!(
        "{:<8} {:>15} {:>8} {:>15} {:>15} {:>17} {:>17} {:>7}  median rule",
        "range", "median", "Δ", "mean", "p90", "p99", "max", "KS D"
    );
    println!(
        "{:<8} {:>15} {:>8} {:>15} {:>15} {:>17} {:>17} {:>7}",
        "", "ours / paper", "", "ours / paper", "ours / paper", "ours / paper", "ours / paper", ""
    );
    let mut outcomes = Vec::new();
    let mut failures = 0;
    for &(min, max) in &ranges {
        let mut experiment = Figure16::new(min, max)
            .with_seed(seed)
            .with_pre_vote(pre_vote)
            .with_model(delay, persist);
        if let Some(secs) = limit {
            experiment.limit = Duration::from_secs(secs);
        }
        let wall = std::time::Instant::now();
        let outcome = experiment.run(trials);
        let elapsed = wall.elapsed();
        let reference = paper.iter().find(|r| r.label == experiment.label());
        if !print_row(&experiment, &outcome, reference) {
            failures += 1;
        }
        outcomes.push((outcome, elapsed));
    }

    println!(
        "\nper range: medians of the time to the first survivor hearing the new leader and to its \
         election; mean terms (finished trials); trials where stickiness refused a vote before the \
         election; wall time"
    );
    for (outcome, elapsed) in &outcomes {
        let limit = outcome.experiment.limit;
        let median = |pick: fn(&figure16::Trial) -> Option<Duration>| {
            let v: Vec<Duration> = outcome
                .trials
                .iter()
                .map(|t| pick(t).unwrap_or(limit))
                .collect();
            Summary::of(&v).map(|s| ms(s.median))
        };
        let first = median(|t| t.first_heard);
        let elected = median(|t| t.elected);
        println!(
            "{:<8} first heard {:>8.1}  elected {:>8.1}  mean terms {:.2}  sticky {:>4}  unfinished {:>3}  violations {}  ({:.2} s)",
            outcome.experiment.label(),
            first.unwrap_or(f64::NAN),
            elected.unwrap_or(f64::NAN),
            outcome.mean_terms(),
            outcome.sticky_trials(),
            outcome.unfinished(),
            outcome.violations(),
            elapsed.as_secs_f64(),
        );
    }
    if failures > 0 {
        println!("\n{failures} range(s) outside the median tolerance");
    }
}

/// Prints one table row; returns whether the median is within its tolerance
/// (or the range has none).
fn print_row(experiment: &Figure16, outcome: &Outcome, reference: Option<&Reference>) -> bool {
    let ours = outcome.sorted();
    let (Some(o), Some(r)) = (
        Summary::of_sorted(&ours),
        reference.and_then(|r| Summary::of_sorted(&r.samples)),
    ) else {
        println!("{:<8} no data", experiment.label());
        return true;
    };
    let samples = reference.map_or(&[][..], |r| &r.samples[..]);
    let d = ks_distance(&ours, samples);
    let critical = ks_critical_squared(1.358, ours.len(), samples.len()).sqrt();
    let delta = (ms(o.median) / ms(r.median) - 1.0) * 100.0;
    let (rule, ok) = match experiment.median_tolerance_percent() {
        Some(tol) => {
            let ok = delta.abs() <= f64::from(tol);
            (format!("±{tol}%: {}", if ok { "ok" } else { "OUT" }), ok)
        }
        None => ("none (report only)".to_string(), true),
    };
    let rule = match outcome.unfinished() {
        0 => rule,
        n => format!(
            "{rule}; {n} unfinished at {} s (counted as {0} s: lower bounds)",
            experiment.limit.as_secs()
        ),
    };
    println!(
        "{:<8} {:>15} {:>+7.1}% {:>15} {:>15} {:>17} {:>17} {:>6.3}{}  {rule}",
        experiment.label(),
        both(o.median, r.median),
        delta,
        both(o.mean, r.mean),
        both(o.p90, r.p90),
        both(o.p99, r.p99),
        both(o.max, r.max),
        d,
        if d > critical { "*" } else { " " },
    );
    ok
}

fn both(ours: Duration, paper: Duration) -> String {
    format!("{:.1} / {:.1}", ms(ours), ms(paper))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn pair(s: &str, sep: char) -> Option<(u64, u64)> {
    let (a, b) = s.split_once(sep)?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

fn micros(s: &str) -> Option<Delay> {
    if let Some(rest) = s.strip_prefix("exp:") {
        let (min, mean) = pair(rest, ',')?;
        return Some(Delay::Exponential {
            min: Duration::from_micros(min),
            mean: Duration::from_micros(mean),
        });
    }
    let (lo, hi) = pair(s, ',')?;
    Some(Delay::uniform(
        Duration::from_micros(lo),
        Duration::from_micros(hi),
    ))
}

fn usage(arg: &str) -> ! {
    eprintln!(
        "bad argument {arg:?}\nusage: figure16 [--trials N] [--seed S] [--pre-vote] [--range MIN-MAX]... \
         [--persist LO,HI|exp:MIN,MEAN] [--delay LO,HI|exp:MIN,MEAN] [--limit SECS]   (microseconds)"
    );
    std::process::exit(2)
}
