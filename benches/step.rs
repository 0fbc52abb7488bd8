//! Cost of single `step_into` calls on the hot paths, and memory per node.
//!
//! Run with `cargo bench --bench step`. Prints the median of 21 samples per case
//! (each sample times a few hundred thousand steps), so a noisy machine moves the
//! numbers little; compare ratios within one run.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // a benchmark reads the wall clock

use std::hint::black_box;
use std::time::{Duration, Instant as WallClock};

use ballot::{Config, Election, Input, Instant, Membership, Message, Output, Term};

const SAMPLES: usize = 21;

/// Median nanoseconds per iteration of `f` over `SAMPLES` samples of `iters` calls.
fn median_ns(iters: u64, mut f: impl FnMut(u64)) -> f64 {
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|s| {
            let start = WallClock::now();
            for i in 0..iters {
                f(s as u64 * iters + i);
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

fn node(id: u64, voters: u64) -> Election {
    let members = Membership::new(1..=voters).unwrap();
    Election::new(Config::default(), id, members, None, Instant::ZERO).unwrap()
}

/// A leader of `voters` voters, elected without PreVote by feeding it grants.
fn leader(voters: u64) -> (Election, Instant) {
    let members = Membership::new(1..=voters).unwrap();
    // CheckQuorum off: the tick loop below advances time without delivering replies.
    let config = Config::default()
        .with_pre_vote(false)
        .with_check_quorum(false);
    let mut n = Election::new(config, 1, members, None, Instant::ZERO).unwrap();
    let mut now = Instant::from_secs(1);
    let _ = n.step(Input::Campaign, now);
    for from in 2..=voters {
        now += Duration::from_micros(1);
        let message = Message::VoteResponse {
            term: n.term(),
            pre_vote: false,
            granted: true,
        };
        let _ = n.step(Input::Receive { from, message }, now);
    }
    assert!(n.is_leader());
    (n, now)
}

fn main() {
    let mut out: Vec<Output<u64>> = Vec::with_capacity(16);

    // 1. A follower handling its leader's heartbeat (reply + timer restart).
    let mut f = node(2, 5);
    let hb = Message::Heartbeat {
        term: Term(1),
        sent: Instant::ZERO,
        hand_over: false,
    };
    let follower_hb = median_ns(500_000, |i| {
        out.clear();
        f.step_into(
            Input::Receive {
                from: 1,
                message: hb,
            },
            Instant::from_nanos(1_000 + i * 1_000),
            &mut out,
        );
        black_box(&out);
    });
    assert!(matches!(out[0], Output::Send { .. }));

    // 2. A follower granting a vote: every request is for a new, higher term, so each
    //    step adopts the term, grants, and emits Persist + the grant.
    let mut f = node(2, 5);
    let vote_grant = median_ns(200_000, |i| {
        out.clear();
        let message = Message::VoteRequest {
            term: Term(i + 1),
            pre_vote: false,
            transfer: false,
            freshness: Default::default(),
        };
        f.step_into(
            Input::Receive { from: 3, message },
            Instant::from_nanos(1_000 + i),
            &mut out,
        );
        black_box(&out);
    });
    assert!(matches!(out[0], Output::Persist(_)));
    assert!(matches!(
        out[1],
        Output::Send {
            message: Message::VoteResponse { granted: true, .. },
            ..
        }
    ));

    // 3. A leader's heartbeat round: the tick that emits one Broadcast, and the
    //    handling of one HeartbeatResponse (CheckQuorum contact), at 5 and 101 voters.
    let mut round = Vec::new();
    for voters in [5u64, 101] {
        let (mut l, start) = leader(voters);
        let interval = l.config().heartbeat_interval;
        let mut now = start;
        let tick = median_ns(200_000, |_| {
            out.clear();
            now += interval;
            l.step_into(Input::Tick, now, &mut out);
            black_box(&out);
        });
        assert!(out.iter().any(|o| matches!(o, Output::Broadcast { .. })));
        let term = l.term();
        let resp = median_ns(500_000, |i| {
            out.clear();
            let from = 2 + i % (voters - 1);
            l.step_into(
                Input::Receive {
                    from,
                    message: Message::HeartbeatResponse {
                        term,
                        sent: now,
                        freshness: Default::default(),
                        priority: 0,
                        witness: false,
                    },
                },
                now,
                &mut out,
            );
            black_box(&out);
        });
        round.push((voters, tick, resp));
    }

    // 4. Memory per node at 5 voters (a follower; and a leader, whose vote tally
    //    becomes its contact table and hand-over state).
    let n = node(2, 5);
    let size = std::mem::size_of::<Election>();
    let heap = n.heap_bytes();
    let leader_heap = leader(5).0.heap_bytes();

    println!("follower heartbeat step (step_into)      {follower_hb:8.1} ns");
    println!("follower vote grant step (new term)      {vote_grant:8.1} ns");
    for (voters, tick, resp) in round {
        println!(
            "leader heartbeat tick, {voters:3} voters        {tick:8.1} ns   (one Broadcast output)"
        );
        println!("leader heartbeat reply, {voters:3} voters       {resp:8.1} ns   (per reply)");
    }
    println!(
        "bytes per Election, 5 voters             {:8} B    (size_of {size} + heap {heap})",
        size + heap
    );
    println!(
        "bytes per leading Election, 5 voters     {:8} B    (size_of {size} + heap {leader_heap})",
        size + leader_heap
    );
}
