//! Draws the project's figures as SVG files (into `docs/figures/` by default):
//!
//! ```text
//! cargo run --release --features sim --example figures                  # all figures, docs/figures/
//! cargo run --release --features sim --example figures -- --smoke --out /tmp/f   # tiny trial counts (CI)
//! ```
//!
//! 1. `figure16.svg` — the Raft paper's Figure 16: our time-to-replace-a-crashed-leader
//!    CDFs next to the paper's raw data, every timeout range (two panels, as in the paper).
//! 2. `wan.svg` — the thesis' WAN election-time CDFs (5 servers, 0/1/2 failed, 30–40 ms
//!    one-way latency, 300–600 ms timeouts), with the thesis' quoted means and tails.
//! 3. `split_vote.svg` — the first term's split-vote rate against the thesis' formula,
//!    over a sweep of latency / timeout range.
//! 4. `cold_start.svg` — cold-start election time against cluster size (simulated
//!    time), plus, when `docs/data/compare.csv` exists, the measured cost of a
//!    cold-start election in ballot and in raft-rs.
//! 5. `cost_ratio.svg` — raft-rs ÷ ballot per operation, from `docs/data/compare.csv`
//!    (skipped with a message when the file is absent).
//!
//! Options: `--out DIR`, `--seed S` (default 0), `--fig16-trials N` (1000 per range),
//! `--wan-trials N` (10000 per curve), `--split-trials N` (10000 per point),
//! `--cold-seeds N` (20 per size), `--cold-sizes 3,5,51,...`, `--compare FILE`,
//! `--smoke` (tiny counts for CI). Every figure says the command and seed that made
//! it; the output depends only on the options (no timestamps), so a rerun gives the
//! same bytes. See `docs/figures/README.md`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // reports its own wall time

mod cdf;
mod compare;
mod plot;
mod scale;
mod split;

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant as WallClock;

/// What to draw and how many trials.
#[derive(Clone, Debug)]
pub struct Options {
    pub out: PathBuf,
    pub seed: u64,
    pub fig16_trials: usize,
    pub wan_trials: usize,
    pub split_trials: usize,
    pub cold_seeds: u64,
    pub cold_sizes: Vec<usize>,
    pub compare: PathBuf,
    /// The command line that made the figures, as printed on them (without `--out`).
    pub command: String,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options {
            out: PathBuf::from("docs/figures"),
            seed: 0,
            fig16_trials: 1000,
            wan_trials: 10_000,
            split_trials: 10_000,
            cold_seeds: 20,
            cold_sizes: vec![3, 5, 51, 501, 2001],
            compare: PathBuf::from("docs/data/compare.csv"),
            command: String::from("cargo run --release --features sim --example figures"),
        };
        let mut shown: Vec<String> = Vec::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{arg} needs a value"))
            };
            let bad = |v: &str| format!("bad value {v:?} for {arg}");
            match arg.as_str() {
                "--out" => {
                    o.out = PathBuf::from(value()?);
                    continue; // where the files go does not change them
                }
                "--smoke" => {
                    o.fig16_trials = 40;
                    o.wan_trials = 200;
                    o.split_trials = 200;
                    o.cold_seeds = 2;
                    o.cold_sizes = vec![3, 5, 51];
                    shown.push(arg.clone());
                    continue;
                }
                "--seed" => {
                    let v = value()?;
                    o.seed = v.parse().map_err(|_| bad(&v))?;
                    shown.extend([arg.clone(), v]);
                }
                "--fig16-trials" | "--wan-trials" | "--split-trials" | "--cold-seeds" => {
                    let v = value()?;
                    let n: usize = v.parse().ok().filter(|&n| n > 0).ok_or_else(|| bad(&v))?;
                    match arg.as_str() {
                        "--fig16-trials" => o.fig16_trials = n,
                        "--wan-trials" => o.wan_trials = n,
                        "--split-trials" => o.split_trials = n,
                        _ => o.cold_seeds = n as u64,
                    }
                    shown.extend([arg.clone(), v]);
                }
                "--cold-sizes" => {
                    let v = value()?;
                    o.cold_sizes = v
                        .split(',')
                        .map(|s| s.trim().parse().ok().filter(|&n: &usize| n >= 1))
                        .collect::<Option<Vec<usize>>>()
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| bad(&v))?;
                    shown.extend([arg.clone(), v]);
                }
                "--compare" => {
                    let v = value()?;
                    o.compare = PathBuf::from(&v);
                    shown.extend([arg.clone(), v]);
                }
                _ => return Err(format!("unknown option {arg:?}")),
            }
        }
        if !shown.is_empty() {
            o.command = format!("{} -- {}", o.command, shown.join(" "));
        }
        Ok(o)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{e}\nusage: figures [--out DIR] [--seed S] [--fig16-trials N] [--wan-trials N] \
                 [--split-trials N] [--cold-seeds N] [--cold-sizes 3,5,51] [--compare FILE] [--smoke]"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&options) {
        eprintln!("figures: {e}");
        std::process::exit(1);
    }
}

fn run(o: &Options) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(&o.out)?;
    let compare = compare::load(&o.compare)?;
    if compare.is_none() {
        println!(
            "{} not found: skipping the raft-rs series of cold_start.svg and cost_ratio.svg \
             (docs/figures/README.md describes the file)",
            o.compare.display()
        );
    }
    let total = WallClock::now();
    let timed = |name: &str, f: &dyn Fn() -> Result<(), Box<dyn Error>>| {
        let t = WallClock::now();
        let r = f();
        println!("{name:<16} {:>7.2} s", t.elapsed().as_secs_f64());
        r
    };
    timed("figure16.svg", &|| cdf::figure16(o))?;
    timed("wan.svg", &|| cdf::wan(o))?;
    timed("split_vote.svg", &|| split::split_vote(o))?;
    timed("cold_start.svg", &|| scale::cold_start(o, compare.as_ref()))?;
    if let Some(rows) = &compare {
        timed("cost_ratio.svg", &|| compare::cost_ratio(o, rows))?;
    }
    println!(
        "wrote {} in {:.1} s",
        o.out.display(),
        total.elapsed().as_secs_f64()
    );
    Ok(())
}
