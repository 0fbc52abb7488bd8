//! One randomized simulation from a seed: prints the options the seed expands to,
//! a timeline, and the report (violations, and `reproduce with SIM_SEED=<n>` if
//! anything broke). Exits with status 1 if an invariant was violated.
//!
//! ```text
//! cargo run --release --features sim --example simulate -- --seed 7
//! cargo run --release --features sim --example simulate -- --seed 7 --nodes 5 --trace
//! ```
//!
//! * `--seed N` — the seed (default 0); the same seed always replays the same run.
//! * `--nodes N` — override the number of voters the seed chose (1–9 by default).
//! * `--trace` — print the full trace (every role, term and leader change of every
//!   node, every partition, cut and heal) instead of the short timeline of
//!   elections, crashes and restarts.

use std::process::ExitCode;

use ballot::sim::{Change, SimOptions, Simulation};

const USAGE: &str = "usage: simulate [--seed N] [--nodes N] [--trace]";

struct Args {
    seed: u64,
    nodes: Option<usize>,
    trace: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seed: 0,
        nodes: None,
        trace: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let value = it.next().ok_or(format!("{name} needs a value"))?;
            value
                .parse()
                .map_err(|_| format!("{name}: {value:?} is not a number"))
        };
        match arg.as_str() {
            "--seed" => args.seed = number("--seed")?,
            "--nodes" => args.nodes = Some(number("--nodes")? as usize),
            "--trace" => args.trace = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut options = SimOptions::from_seed(args.seed);
    if let Some(nodes) = args.nodes {
        options = options.nodes(nodes);
    }
    println!("{options}\n");

    let mut sim = match Simulation::try_new(options) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("invalid options: {e}");
            return ExitCode::from(2);
        }
    };
    if args.trace {
        // Stream the trace as it happens rather than keeping it in memory.
        sim.set_trace_sink(Box::new(|line| println!("{line}")));
        println!("trace (time, node, role, term, what happened):");
    }
    let report = sim.run();

    if !args.trace {
        println!("timeline (global simulated time):");
        for entry in sim.history() {
            let what = match &entry.change {
                _ if entry.is_new_leader() => {
                    let term = entry.state().map_or(0, |s| s.term.get());
                    format!("became leader of term {term}")
                }
                Change::Crashed => "crashed".to_string(),
                Change::Restarted { term } => format!("restarted in term {}", term.get()),
                Change::Rejected(e) => format!("rejected a command: {e}"),
                _ => continue, // followers and candidates: see --trace
            };
            println!("  {:>12}  n{:<4} {what}", entry.at.to_string(), entry.node);
        }
        let healed = ballot::Instant::ZERO.saturating_add(sim.options().fault_phase);
        match report.liveness {
            Some(after) => println!(
                "  {:>12}  healed everything; a stable leader {after:?} later",
                healed.to_string()
            ),
            None => println!(
                "  {:>12}  healed everything; NO stable leader",
                healed.to_string()
            ),
        }
        for v in sim.violations() {
            println!("  VIOLATION {v}");
        }
        let faults = sim.net_stats();
        println!(
            "  (network faults are in --trace: {} messages dropped by cuts and partitions)",
            faults.dropped_link
        );
    }
    println!("\nreport:\n{report}");
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
