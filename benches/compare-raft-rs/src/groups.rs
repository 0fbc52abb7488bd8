//! Many groups in one process: 100,000 independent 3-node ballot groups (the
//! one-election-per-shard use), and 10,000 raft-rs groups for the per-node
//! comparison (raft-rs at 100,000 groups would need several GB here).
//!
//! Both sides run the same loop. Time advances in 50 ms steps (ballot's heartbeat
//! interval; raft-rs: one tick = 50 ms, `heartbeat_tick = 1`, `election_tick = 3`,
//! timeouts `[3, 6)` ticks = `[150, 300)` ms like ballot's). At each step every node
//! is visited (ballot: stepped with `Tick` only if its `next_deadline()` has come;
//! raft-rs: `tick()`, as its API requires), and the messages of its group are
//! delivered at once (zero latency) until none is left. Three simulated seconds of
//! warm-up elects every group's leader; then `MEASURE_SECS` simulated seconds of
//! steady state are timed. Every node has its own membership (as it would on its own
//! machine), so nothing is shared between nodes.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::Instant as WallClock;

use ballot::{Election, Input, Instant, Output};

use crate::{alloc, ballot_side, raft_side};

const STEP_MS: u64 = 50;
const WARMUP_MS: u64 = 3_000;
const MEASURE_SECS: u64 = 2;

struct Measured {
    groups: usize,
    bytes_per_group: f64,
    allocs_per_group: f64,
    ns_per_group_second: f64,
    allocs_per_group_second: f64,
    leaders: usize,
    messages_per_group_second: f64,
}

fn ballot_groups(groups: usize) -> Measured {
    let (live, allocs) = (alloc::live_bytes(), alloc::allocs());
    let mut nodes: Vec<Election> = Vec::with_capacity(3 * groups);
    for g in 0..groups {
        for id in 1..=3 {
            // A seed per group, so that groups draw different timeouts.
            let config = ballot_side::config(true).with_seed(g as u64);
            let members = ballot::Membership::new(1..=3).unwrap();
            nodes.push(Election::new(config, id, members, None, Instant::ZERO).unwrap());
        }
    }
    let mut out: Vec<Output<u64>> = Vec::with_capacity(8);
    let mut host = ballot_side::Host::default();
    let mut inbox = Vec::with_capacity(8);
    let mut messages = 0u64;
    let mut run = |nodes: &mut Vec<Election>, from_ms: u64, to_ms: u64, messages: &mut u64| {
        let mut ms = from_ms;
        while ms < to_ms {
            ms += STEP_MS;
            let now = Instant::from_millis(ms);
            for group in nodes.chunks_mut(3) {
                for node in group.iter_mut() {
                    if node.next_deadline().is_some_and(|d| d <= now) {
                        node.step_into(Input::Tick, now, &mut out);
                        host.handle(node, &mut out);
                    }
                }
                while !host.outbox.is_empty() {
                    std::mem::swap(&mut inbox, &mut host.outbox);
                    for (from, to, message) in inbox.drain(..) {
                        *messages += 1;
                        let node = &mut group[to as usize - 1];
                        node.step_into(Input::Receive { from, message }, now, &mut out);
                        host.handle(node, &mut out);
                    }
                }
            }
        }
    };
    run(&mut nodes, 0, WARMUP_MS, &mut messages);
    // Live heap includes the node array itself (size_of each node) and the host's buffers.
    let bytes = (alloc::live_bytes() - live) as usize;
    let build_allocs = alloc::allocs() - allocs;
    let leaders = nodes.iter().filter(|n| n.is_leader()).count();
    messages = 0;
    let allocs = alloc::allocs();
    let start = WallClock::now();
    run(
        &mut nodes,
        WARMUP_MS,
        WARMUP_MS + MEASURE_SECS * 1_000,
        &mut messages,
    );
    let wall = start.elapsed();
    let per = (groups as u64 * MEASURE_SECS) as f64;
    Measured {
        groups,
        bytes_per_group: bytes as f64 / groups as f64,
        allocs_per_group: build_allocs as f64 / groups as f64,
        ns_per_group_second: wall.as_nanos() as f64 / per,
        allocs_per_group_second: (alloc::allocs() - allocs) as f64 / per,
        leaders,
        messages_per_group_second: messages as f64 / per,
    }
}

fn raft_groups(groups: usize) -> Measured {
    let log = raft_side::logger();
    let ticks = raft_side::Ticks {
        election: 3,
        max: 6,
        heartbeat: 1,
    };
    let (live, allocs) = (alloc::live_bytes(), alloc::allocs());
    let mut nodes: Vec<raft_side::Node> = (0..groups)
        .flat_map(|_| {
            (1..=3)
                .map(|id| raft_side::node(id, 3, true, ticks, &log))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut host = raft_side::Host::default();
    let mut inbox = Vec::with_capacity(8);
    let mut run = |nodes: &mut Vec<raft_side::Node>, steps: u64, messages: &mut u64| {
        for _ in 0..steps {
            for group in nodes.chunks_mut(3) {
                for node in group.iter_mut() {
                    node.tick();
                    host.handle_ready(node);
                }
                while !host.outbox.is_empty() {
                    std::mem::swap(&mut inbox, &mut host.outbox);
                    for message in inbox.drain(..) {
                        *messages += 1;
                        let node = &mut group[message.to as usize - 1];
                        let _ = node.step(message);
                        host.handle_ready(node);
                    }
                }
            }
        }
    };
    let mut messages = 0;
    run(&mut nodes, WARMUP_MS / STEP_MS, &mut messages);
    let bytes = (alloc::live_bytes() - live) as usize;
    let build_allocs = alloc::allocs() - allocs;
    let leaders = nodes
        .iter()
        .filter(|n| n.raft.state == raft::StateRole::Leader)
        .count();
    messages = 0;
    let allocs = alloc::allocs();
    let start = WallClock::now();
    run(&mut nodes, MEASURE_SECS * 1_000 / STEP_MS, &mut messages);
    let wall = start.elapsed();
    let per = (groups as u64 * MEASURE_SECS) as f64;
    Measured {
        groups,
        bytes_per_group: bytes as f64 / groups as f64,
        allocs_per_group: build_allocs as f64 / groups as f64,
        ns_per_group_second: wall.as_nanos() as f64 / per,
        allocs_per_group_second: (alloc::allocs() - allocs) as f64 / per,
        leaders,
        messages_per_group_second: messages as f64 / per,
    }
}

pub fn report(quick: bool) {
    let (b_groups, r_groups) = if quick {
        (10_000, 2_000)
    } else {
        (100_000, 10_000)
    };
    let b = ballot_groups(b_groups);
    let r = raft_groups(r_groups);
    println!(
        "Many groups: 3-node groups in one process, heartbeat 50 ms, election timeout [150, 300) ms, {MEASURE_SECS} s of steady state after {WARMUP_MS} ms of warm-up."
    );
    println!();
    println!(
        "| per group (3 nodes) | ballot ({} groups) | raft-rs 0.7 ({} groups) | raft-rs ÷ ballot |",
        b.groups, r.groups
    );
    println!("| --- | --- | --- | --- |");
    let ratio = |x: f64, y: f64| format!("**{:.1}×**", y / x);
    println!(
        "| memory (live heap incl. the node array) | {:.0} B | {:.0} B | {} |",
        b.bytes_per_group,
        r.bytes_per_group,
        ratio(b.bytes_per_group, r.bytes_per_group)
    );
    println!(
        "| allocations to build and elect | {:.1} | {:.1} | {} |",
        b.allocs_per_group,
        r.allocs_per_group,
        ratio(b.allocs_per_group, r.allocs_per_group)
    );
    println!(
        "| CPU per simulated second (steady state) | {:.2} µs | {:.2} µs | {} |",
        b.ns_per_group_second / 1e3,
        r.ns_per_group_second / 1e3,
        ratio(b.ns_per_group_second, r.ns_per_group_second)
    );
    println!(
        "| allocations per simulated second | {:.1} | {:.1} | — |",
        b.allocs_per_group_second, r.allocs_per_group_second
    );
    println!(
        "| messages per simulated second | {:.0} | {:.0} | — |",
        b.messages_per_group_second, r.messages_per_group_second
    );
    println!(
        "| groups with a leader after warm-up | {} of {} | {} of {} | — |",
        b.leaders, b.groups, r.leaders, r.groups
    );
    println!(
        "| groups one core keeps in steady state | {:.0} | {:.0} | — |",
        1e9 / b.ns_per_group_second,
        1e9 / r.ns_per_group_second
    );
}
