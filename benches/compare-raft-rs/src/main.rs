//! ballot against tikv/raft-rs 0.7, side by side, in one process.
//!
//! Run: `cargo run --release --manifest-path benches/compare-raft-rs/Cargo.toml`
//! (`-- quick` for fewer repetitions, `-- --csv docs/data/compare.csv` to write the
//! rows the figures draw). Every case runs both libraries through the
//! same scenario with the same host work per operation; the two sides alternate
//! (ballot first in even repetitions, raft-rs first in odd ones) and the table shows
//! medians over the repetitions. What each row does and does not make equivalent is
//! written next to its definition below and in BENCHMARKS.md.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // a benchmark reads the wall clock

mod alloc;
mod ballot_side;
mod cold_start;
mod groups;
mod raft_side;

use std::hint::black_box;
use std::time::Instant as WallClock;

use ballot::{Input, Instant, Membership, Message, Term};
use raft::eraftpb::MessageType;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// One timed sample: (nanoseconds per op, allocations per op). Never inlined, so
/// that callgrind can count instructions inside it alone (`icount.sh`).
#[inline(never)]
fn sample(iters: u64, f: &mut dyn FnMut()) -> (f64, f64) {
    let allocs = alloc::allocs();
    let start = WallClock::now();
    for _ in 0..iters {
        f();
    }
    let ns = start.elapsed().as_nanos() as f64 / iters as f64;
    (ns, (alloc::allocs() - allocs) as f64 / iters as f64)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Case {
    name: String,
    iters: u64,
    ballot: Box<dyn FnMut()>,
    raft: Box<dyn FnMut()>,
    samples: [Vec<(f64, f64)>; 2],
}

fn case(
    name: &str,
    iters: u64,
    ballot: impl FnMut() + 'static,
    raft: impl FnMut() + 'static,
) -> Case {
    Case {
        name: name.into(),
        iters,
        ballot: Box::new(ballot),
        raft: Box::new(raft),
        samples: [Vec::new(), Vec::new()],
    }
}

fn fmt_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e4 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn fmt_allocs(a: f64) -> String {
    if a == a.round() {
        format!("{a:.0}")
    } else {
        format!("{a:.2}")
    }
}

/// The rows for `--csv` (`docs/figures/README.md` defines the format).
static CSV: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// The CSV row name of a table row (`None`: not written, e.g. the harness floor).
fn csv_key(name: &str) -> Option<String> {
    let voters = || {
        name.split(", ")
            .find_map(|p| p.strip_suffix(" voters")?.parse::<u64>().ok())
    };
    let form = if name.contains("(`step`)") {
        "step"
    } else {
        "step_into"
    };
    Some(match name.get(..3)? {
        "[a]" => format!("follower_heartbeat_{form}"),
        "[b]" => format!("follower_heartbeat_outputs_{form}"),
        "[c]" => "vote_grant_persist".into(),
        "[d]" => "tick_nothing_due".into(),
        "[e]" => format!("leader_round_{}", voters()?),
        "[f]" => format!("construction_{}", voters()?),
        "[g]" => "bytes_per_node_5".into(),
        "[h]" => format!(
            "cold_start_{}_{}",
            voters()?,
            if name.contains("PreVote on") {
                "prevote"
            } else {
                "noprevote"
            }
        ),
        _ => return None,
    })
}

/// Records a row for `--csv`; `b` and `r` in `unit`.
fn csv_row(name: &str, b: f64, r: f64, unit: &str) {
    if let Some(key) = csv_key(name) {
        CSV.lock()
            .unwrap()
            .push(format!("{key},{b:.1},{r:.1},{unit}"));
    }
}

fn row(name: &str, b: f64, r: f64, ba: f64, ra: f64) {
    csv_row(name, b, r, "ns");
    println!(
        "| {name} | {} | {} | **{:.1}×** | {} | {} |",
        fmt_time(b),
        fmt_time(r),
        r / b,
        fmt_allocs(ba),
        fmt_allocs(ra)
    );
}

fn per_op_cases() -> Vec<Case> {
    let log = raft_side::logger();
    let mut cases = Vec::new();
    let hb = |i: u64| Instant::from_nanos(2_000_000 + i);
    let raft_hb = || raft_side::msg(MessageType::MsgHeartbeat, 1, 2, 1);

    // [z] The harness alone: an empty operation through the same closure call and
    //     loop (what every per-op row includes on both sides).
    cases.push(case(
        "[z] empty op (harness floor)",
        500_000,
        || {
            black_box(());
        },
        || {
            black_box(());
        },
    ));
    // [a] Follower heartbeat, step only: the outputs are discarded on both sides
    //     (ballot: `out.clear()`; raft-rs: `raft.msgs.clear()`, no Ready).
    {
        let (mut b, mut r) = (ballot_side::follower(5), raft_side::follower(5, &log));
        let (mut out, mut i) = (Vec::with_capacity(4), 0u64);
        cases.push(case(
            "[a] follower heartbeat, step only (`step_into`)",
            200_000,
            move || {
                i += 1;
                out.clear();
                let message = Message::Heartbeat {
                    term: Term(1),
                    sent: hb(i),
                    hand_over: false,
                };
                b.step_into(Input::Receive { from: 1, message }, hb(i), &mut out);
                black_box(&out);
            },
            move || {
                r.step(raft_hb()).unwrap();
                black_box(&r.raft.msgs);
                r.raft.msgs.clear();
            },
        ));
    }
    {
        let (mut b, mut r) = (ballot_side::follower(5), raft_side::follower(5, &log));
        let mut i = 0u64;
        cases.push(case(
            "[a] follower heartbeat, step only (`step`)",
            200_000,
            move || {
                i += 1;
                let message = Message::Heartbeat {
                    term: Term(1),
                    sent: hb(i),
                    hand_over: false,
                };
                black_box(b.step(Input::Receive { from: 1, message }, hb(i)));
            },
            move || {
                r.step(raft_hb()).unwrap();
                black_box(&r.raft.msgs);
                r.raft.msgs.clear();
            },
        ));
    }
    // [b] Follower heartbeat + output handling: ballot's outputs / raft-rs's Ready
    //     (has_ready, ready, advance, advance_apply) handled by the hosts in
    //     `ballot_side::Host` / `raft_side::Host`: the reply moved to an outbox.
    for use_step in [false, true] {
        let (mut b, mut r) = (ballot_side::follower(5), raft_side::follower(5, &log));
        let (mut bh, mut rh) = (ballot_side::Host::default(), raft_side::Host::default());
        let (mut out, mut i) = (Vec::with_capacity(4), 0u64);
        cases.push(case(
            if use_step {
                "[b] follower heartbeat + outputs (`step`)"
            } else {
                "[b] follower heartbeat + outputs (`step_into`)"
            },
            200_000,
            move || {
                i += 1;
                let message = Message::Heartbeat {
                    term: Term(1),
                    sent: hb(i),
                    hand_over: false,
                };
                let input = Input::Receive { from: 1, message };
                if use_step {
                    let mut v = b.step(input, hb(i));
                    bh.handle(&b, &mut v);
                } else {
                    b.step_into(input, hb(i), &mut out);
                    bh.handle(&b, &mut out);
                }
                black_box(&bh.outbox);
                bh.outbox.clear();
            },
            move || {
                r.step(raft_hb()).unwrap();
                rh.handle_ready(&mut r);
                black_box(&rh.outbox);
                rh.outbox.clear();
            },
        ));
    }
    // [c] Vote grant: every request is for a new, higher term (empty logs on raft-rs),
    //     so each step adopts the term, grants, persists the hard state to the host's
    //     in-memory buffer, and moves the grant to the outbox.
    {
        let (mut b, mut r) = (
            ballot_side::node(2, 5, true),
            raft_side::node(2, 5, true, raft_side::OP_TICKS, &log),
        );
        let (mut bh, mut rh) = (ballot_side::Host::default(), raft_side::Host::default());
        let (mut out, mut i) = (Vec::with_capacity(4), 0u64);
        let mut j = 0u64;
        cases.push(case(
            "[c] vote grant + persist (`step_into`)",
            100_000,
            move || {
                i += 1;
                let message = Message::VoteRequest {
                    term: Term(i),
                    pre_vote: false,
                    transfer: false,
                    freshness: Default::default(),
                };
                b.step_into(Input::Receive { from: 3, message }, hb(i), &mut out);
                bh.handle(&b, &mut out);
                debug_assert_eq!(bh.outbox.len(), 1);
                black_box(&bh.outbox);
                bh.outbox.clear();
            },
            move || {
                j += 1;
                r.step(raft_side::msg(MessageType::MsgRequestVote, 3, 2, j))
                    .unwrap();
                rh.handle_ready(&mut r);
                debug_assert_eq!(rh.outbox.len(), 1);
                black_box(&rh.outbox);
                rh.outbox.clear();
            },
        ));
    }
    // [d] Tick with nothing due: a follower of a live leader. ballot: `step_into(Tick)`
    //     before the deadline; raft-rs: `tick()` (its return value says whether a Ready
    //     may be pending) with the election far away.
    {
        let mut b = ballot_side::follower(5);
        let ticks = raft_side::Ticks {
            election: 1_000_000,
            max: 1_000_001,
            heartbeat: 1,
        };
        let mut r = raft_side::node(2, 5, true, ticks, &log);
        r.step(raft_hb()).unwrap();
        raft_side::Host::default().handle_ready(&mut r);
        let (mut out, mut i, mut j) = (Vec::with_capacity(4), 0u64, 0u64);
        cases.push(case(
            "[d] tick, nothing due",
            500_000,
            move || {
                i += 1;
                b.step_into(Input::Tick, hb(i), &mut out);
                black_box(&out);
            },
            move || {
                j += 1;
                if j % 500_000 == 0 {
                    r.raft.election_elapsed = 0; // keep the election far away
                }
                black_box(r.tick());
            },
        ));
    }
    // [e] Leader heartbeat round with fan-out: the leader's heartbeat timer fires
    //     (ballot: one Tick at the heartbeat deadline, whose Broadcast the host fans
    //     out to every peer; raft-rs: one tick with heartbeat_tick = 1, whose Ready
    //     carries one MsgHeartbeat per peer), then the leader handles one reply from
    //     every peer (with its Ready). CheckQuorum on, checked every third round on
    //     both sides.
    for voters in [5u64, 101] {
        let (mut b, start) = ballot_side::leader(voters);
        let mut r = raft_side::leader(voters, &log);
        let (mut bh, mut rh) = (ballot_side::Host::default(), raft_side::Host::default());
        raft_side::Host::default().handle_ready(&mut r);
        let mut out = Vec::with_capacity(4);
        let mut now = start;
        let interval = b.config().heartbeat_interval;
        let mut replies = Vec::new();
        let mut sent = Vec::new();
        cases.push(case(
            &format!("[e] leader heartbeat round, {voters} voters"),
            if voters > 10 { 2_000 } else { 50_000 },
            move || {
                now += interval;
                b.step_into(Input::Tick, now, &mut out);
                bh.handle(&b, &mut out);
                debug_assert_eq!(bh.outbox.len() as u64, voters - 1);
                let term = b.term();
                sent.extend(bh.outbox.drain(..).map(|(_, to, _)| to));
                for from in sent.drain(..) {
                    let message = Message::HeartbeatResponse {
                        term,
                        sent: now,
                        freshness: ballot::Freshness::default(),
                        priority: 0,
                        witness: false,
                    };
                    b.step_into(Input::Receive { from, message }, now, &mut out);
                    bh.handle(&b, &mut out);
                }
                assert!(bh.outbox.is_empty());
                assert!(b.is_leader());
            },
            move || {
                r.tick();
                rh.handle_ready(&mut r);
                debug_assert_eq!(rh.outbox.len() as u64, voters - 1);
                let term = r.raft.term;
                let commit = r.raft.raft_log.committed;
                replies.extend(rh.outbox.drain(..).map(|m| {
                    let mut reply =
                        raft_side::msg(MessageType::MsgHeartbeatResponse, m.to, 1, term);
                    reply.commit = commit;
                    reply
                }));
                for reply in replies.drain(..) {
                    r.step(reply).unwrap();
                    rh.handle_ready(&mut r);
                }
                assert!(rh.outbox.is_empty());
                assert_eq!(r.raft.state, raft::StateRole::Leader);
            },
        ));
    }
    // [f] Node construction: the membership / ConfState built from the id list, the
    //     node created at time zero; then dropped (inside the timing, both sides).
    for voters in [3u64, 501] {
        let log2 = log.clone();
        cases.push(case(
            &format!("[f] node construction + drop, {voters} voters"),
            if voters > 10 { 200 } else { 20_000 },
            move || {
                let members = Membership::new(1..=voters).unwrap();
                let n = ballot::Election::new(
                    ballot_side::config(true),
                    1,
                    members,
                    None,
                    Instant::ZERO,
                );
                black_box(n.unwrap());
            },
            move || {
                black_box(raft_side::node(1, voters, true, raft_side::OP_TICKS, &log2));
            },
        ));
    }
    cases
}

/// [g] Bytes and allocations per node: a fresh node of 5 voters (follower, term 0).
fn memory() {
    let log = raft_side::logger();
    let (live, allocs) = (alloc::live_bytes(), alloc::allocs());
    let b = ballot_side::node(2, 5, true);
    let (b_live, b_allocs) = (alloc::live_bytes() - live, alloc::allocs() - allocs);
    let b_size = std::mem::size_of_val(&b);
    let (live, allocs) = (alloc::live_bytes(), alloc::allocs());
    let r = raft_side::node(2, 5, true, raft_side::OP_TICKS, &log);
    let (r_live, r_allocs) = (alloc::live_bytes() - live, alloc::allocs() - allocs);
    let r_size = std::mem::size_of_val(&r);
    csv_row(
        "[g]",
        (b_size as i64 + b_live) as f64,
        (r_size as i64 + r_live) as f64,
        "B",
    );
    println!(
        "| [g] bytes per node, 5 voters (`size_of` + live heap) | {} B ({b_size} + {b_live}) | {} B ({r_size} + {r_live}) | **{:.1}×** | {b_allocs} | {r_allocs} |",
        b_size as i64 + b_live,
        r_size as i64 + r_live,
        (r_size as i64 + r_live) as f64 / (b_size as i64 + b_live) as f64,
    );
    assert_eq!(
        b_size + b.heap_bytes(),
        b_size + b_live as usize,
        "heap_bytes() agrees with the allocator"
    );
}

fn cold_starts(reps: usize) {
    let log = raft_side::logger();
    let mut traces = Vec::new();
    for pre_vote in [false, true] {
        for n in [3u64, 5, 51, 501] {
            let (mut bw, mut rw, mut ba, mut ra) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut pair = None;
            let mut all_match = true;
            for rep in 0..reps {
                let b = cold_start::ballot_cluster(n, pre_vote);
                let timeouts = cold_start::first_timeouts(&b);
                let r = cold_start::raft_cluster(n, pre_vote, &timeouts, &log);
                let (bt, rt) = if rep % 2 == 0 {
                    let bt = cold_start::run_ballot(b);
                    (bt, cold_start::run_raft(r))
                } else {
                    let rt = cold_start::run_raft(r);
                    (cold_start::run_ballot(b), rt)
                };
                all_match &= bt.trace == rt.trace;
                bw.push(bt.wall.as_nanos() as f64);
                rw.push(rt.wall.as_nanos() as f64);
                ba.push(bt.allocs as f64);
                ra.push(rt.allocs as f64);
                pair = Some((bt.trace, rt.trace));
            }
            let name = format!(
                "[h] cold-start election, {n} voters, PreVote {} — traces {}",
                if pre_vote { "on" } else { "off" },
                if all_match { "match" } else { "DIFFER" }
            );
            row(
                &name,
                median(&mut bw),
                median(&mut rw),
                median(&mut ba),
                median(&mut ra),
            );
            traces.push((n, pre_vote, pair.unwrap()));
        }
    }
    println!();
    println!(
        "Cold-start traces (ballot / raft-rs; msgs = delivered until every node knows the leader; pre-vote and vote: requests/grants+refusals; leader: heartbeats or appends / their replies):"
    );
    for (n, pre_vote, (b, r)) in traces {
        println!(
            "- {n} voters, PreVote {}: ballot: {b}",
            if pre_vote { "on" } else { "off" }
        );
        println!(
            "  {:>w$}raft-rs: {r}",
            "",
            w = if n >= 100 {
                18
            } else if n >= 10 {
                17
            } else {
                16
            }
        );
    }
}

/// `icount <case substring> <ballot|raft> [iters]`: runs one side of the matching
/// cases once, for instruction counts under
/// `valgrind --tool=callgrind --toggle-collect='compare_raft_rs::sample*'`.
fn icount(args: &[String]) {
    let side = usize::from(args.get(1).is_some_and(|s| s == "raft"));
    let iters: Option<u64> = args.get(2).and_then(|s| s.parse().ok());
    for mut c in per_op_cases() {
        if c.name.contains(args[0].as_str()) {
            let iters = iters.unwrap_or(c.iters / 10).max(1);
            let f: &mut dyn FnMut() = if side == 0 {
                &mut *c.ballot
            } else {
                &mut *c.raft
            };
            let (ns, allocs) = sample(iters, f);
            println!(
                "{}: {iters} iterations, {ns:.1} ns/op, {allocs} allocs/op",
                c.name
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "icount") {
        return icount(&args[1..]);
    }
    // `quick`: fewer repetitions; `no-groups`: skip the many-groups report;
    // `--csv PATH`: also write the rows to PATH for the figures (`docs/data/compare.csv`).
    let quick = args.iter().any(|a| a == "quick");
    let reps = if quick { 3 } else { 31 };
    let mut cases = per_op_cases();
    for c in &mut cases {
        // Many short samples: on a shared machine a median of many interleaved short
        // samples moves less than one of a few long ones.
        c.iters = (c.iters / 3).max(1);
    }
    for rep in 0..reps {
        for c in &mut cases {
            let order: [usize; 2] = if rep % 2 == 0 { [0, 1] } else { [1, 0] };
            for side in order {
                let f: &mut dyn FnMut() = if side == 0 {
                    &mut *c.ballot
                } else {
                    &mut *c.raft
                };
                let s = sample(c.iters, f);
                c.samples[side].push(s);
            }
        }
    }
    println!(
        "Medians of {reps} interleaved repetitions (allocations per op are exact counts of a counting global allocator)."
    );
    println!();
    println!(
        "| case | ballot | raft-rs 0.7 | raft-rs ÷ ballot | allocs/op ballot | allocs/op raft-rs |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for c in &mut cases {
        let mut t: [Vec<f64>; 2] = [0, 1].map(|s| c.samples[s].iter().map(|x| x.0).collect());
        let mut a: [Vec<f64>; 2] = [0, 1].map(|s| c.samples[s].iter().map(|x| x.1).collect());
        let [bt, rt] = &mut t;
        let [ba, ra] = &mut a;
        row(&c.name, median(bt), median(rt), median(ba), median(ra));
    }
    memory();
    cold_starts(if quick { 3 } else { 5 });
    if !std::env::args().any(|a| a == "no-groups") {
        println!();
        groups::report(quick);
    }
    if let Some(path) = args
        .iter()
        .position(|a| a == "--csv")
        .and_then(|i| args.get(i + 1))
    {
        let mut text = String::from("row,ballot,raft_rs,unit\n");
        text.push_str(&format!(
            "# cargo run --release --manifest-path benches/compare-raft-rs/Cargo.toml -- {}\n",
            args.join(" ")
        ));
        for line in CSV.lock().unwrap().iter() {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {path}: {e}"));
        println!("\nwrote {path}");
    }
}
