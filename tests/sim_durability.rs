//! The storage model: only durable state survives a crash, crashes can land
//! between the outputs of one batch, and the checker catches broken durability.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{MessageKind, SimOptions, Simulation, ViolationKind};
use ballot::{Config, HardState, Input, Output, Term};

const SEC: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

fn no_pre_vote() -> Config {
    Config::default().with_pre_vote(false)
}

fn elected(seed: u64, options: SimOptions) -> (Simulation, u64) {
    let mut sim = options.nodes(3).config(no_pre_vote()).build();
    assert!(
        sim.run_until(|s| s.stable_leader().is_some(), 5 * SEC),
        "seed {seed}"
    );
    let leader = sim.stable_leader().unwrap();
    (sim, leader)
}

/// Cuts the leader's heartbeats to `follower` and runs until the follower's
/// stickiness window is over, so that `Campaign` is accepted (inside the window it is
/// refused: it could void the leader's lease). Probes a copy of the node, so the
/// simulation sees no extra step.
fn wait_out_stickiness(sim: &mut Simulation, leader: u64, follower: u64) {
    sim.cut(leader, follower);
    loop {
        let local = sim.local_time(follower).unwrap();
        let mut probe = sim.node(follower).unwrap().clone();
        let out = probe.step(Input::Campaign, local);
        if !matches!(out.first(), Some(Output::Rejected(_))) {
            return;
        }
        sim.run_for(MS);
    }
}

#[test]
fn a_restarted_node_keeps_its_durable_vote() {
    for seed in 0..10 {
        let (mut sim, leader) = elected(seed, SimOptions::new(seed));
        let term = sim.node(leader).unwrap().term();
        // A follower that voted for the leader (at least one did: the leader needed
        // a majority of 3).
        let voter = (1..=3)
            .find(|&n| n != leader && sim.durable(n).is_some_and(|h| h.voted_for == Some(leader)))
            .expect("a durable vote for the leader");
        assert_eq!(
            sim.durable(voter),
            Some(HardState {
                term,
                voted_for: Some(leader)
            })
        );
        sim.crash(voter);
        assert!(!sim.is_up(voter));
        sim.run_for(SEC);
        sim.restart(voter);
        let node = sim.node(voter).unwrap();
        assert_eq!(
            (node.term(), node.voted_for()),
            (term, Some(leader)),
            "seed {seed}"
        );
        sim.run_for(5 * SEC);
        sim.report().assert_ok();
    }
}

#[test]
fn a_crash_before_the_persist_is_durable_loses_it_and_everything_after_it() {
    let (mut sim, leader) = elected(1, SimOptions::new(1));
    let follower = (1..=3).find(|&n| n != leader).unwrap();
    wait_out_stickiness(&mut sim, leader, follower);
    let before = sim.durable(follower).unwrap();
    let requests = sim.net_stats().delivered(MessageKind::VoteRequest);
    let sent = sim.net_stats().sent;
    let out = sim.command(follower, Input::Campaign);
    let next = HardState {
        term: Term(before.term.get() + 1),
        voted_for: Some(follower),
    };
    assert_eq!(out.first(), Some(&Output::Persist(next)));
    // The write is pending: nothing after it has left yet.
    assert_eq!(sim.net_stats().sent, sent);
    sim.crash(follower);
    assert_eq!(sim.durable(follower), Some(before));
    sim.run_for(50 * MS);
    assert_eq!(
        sim.net_stats().delivered(MessageKind::VoteRequest),
        requests,
        "the requests never left"
    );
    sim.restart(follower);
    let node = sim.node(follower).unwrap();
    assert_eq!(
        (node.term(), node.voted_for()),
        (before.term, before.voted_for)
    );
    sim.report().assert_ok();
}

#[test]
fn a_crash_between_the_persist_and_the_requests_keeps_the_vote_but_sends_nothing() {
    let (mut sim, leader) = elected(2, SimOptions::new(2));
    let follower = (1..=3).find(|&n| n != leader).unwrap();
    wait_out_stickiness(&mut sim, leader, follower);
    let before = sim.durable(follower).unwrap();
    let votes_delivered = sim.net_stats().delivered(MessageKind::VoteRequest);
    // Crash just before output #1 of the next batch: after the Persist (#0) is
    // durable, before the vote requests go out.
    sim.crash_mid_batch(follower, 1);
    let _ = sim.command(follower, Input::Campaign);
    sim.run_for(20 * MS);
    assert!(!sim.is_up(follower));
    let after = sim.durable(follower).unwrap();
    assert_eq!(
        after,
        HardState {
            term: Term(before.term.get() + 1),
            voted_for: Some(follower)
        }
    );
    assert_eq!(
        sim.net_stats().delivered(MessageKind::VoteRequest),
        votes_delivered,
        "no vote request left the crashed node"
    );
    sim.restart(follower);
    assert_eq!(sim.node(follower).unwrap().term(), after.term);
    sim.heal_all();
    sim.run_for(5 * SEC);
    assert!(sim.stable_leader().is_some());
    sim.report().assert_ok();
}

#[test]
fn a_vote_whose_write_is_lost_was_never_cast() {
    // A cold cluster: node 1 campaigns at once; 2 and 3 crash the moment they issue
    // the Persist of their grant, so no grant ever leaves.
    let mut sim = SimOptions::new(3).nodes(3).config(no_pre_vote()).build();
    sim.crash_during_next_write(2);
    sim.crash_during_next_write(3);
    let _ = sim.command(1, Input::Campaign);
    sim.run_for(20 * MS);
    assert!(!sim.is_up(2) && !sim.is_up(3));
    assert_eq!((sim.durable(2), sim.durable(3)), (None, None));
    assert_eq!(sim.net_stats().delivered(MessageKind::VoteResponse), 0);
    assert_ne!(sim.role(1), Some(ballot::Role::Leader));
    sim.restart(2);
    sim.restart(3);
    let node = sim.node(2).unwrap();
    assert_eq!((node.term(), node.voted_for()), (Term(0), None));
    assert!(sim.run_until(|s| s.stable_leader().is_some(), 5 * SEC));
    sim.report().assert_ok();
}

/// Node 1 wins term 1 with node 2's vote; node 2 restarts; then node 3, which never
/// heard of term 1, asks node 2 for its vote in term 1.
fn double_vote_scenario(options: SimOptions) -> Simulation {
    let mut sim = options.nodes(3).config(no_pre_vote()).build();
    sim.isolate(3);
    let _ = sim.command(1, Input::Campaign);
    assert!(sim.run_until(|s| s.role(1) == Some(ballot::Role::Leader), 100 * MS));
    assert_eq!(
        sim.durable(2),
        Some(HardState {
            term: Term(1),
            voted_for: Some(1)
        })
    );
    sim.crash(2);
    sim.heal_all();
    sim.partition(&[&[1], &[2, 3]]);
    sim.restart(2);
    let _ = sim.command(3, Input::Campaign);
    sim.run_for(100 * MS);
    sim
}

#[test]
fn with_durable_votes_the_second_candidate_of_a_term_loses() {
    let sim = double_vote_scenario(SimOptions::new(5));
    assert_eq!(sim.node(2).unwrap().voted_for(), Some(1));
    assert_ne!(sim.role(3), Some(ballot::Role::Leader));
    sim.report().assert_ok();
}

#[test]
fn the_checker_catches_broken_durability() {
    // Negative control: the restarted node forgets its vote, votes again in term 1,
    // and a second leader of term 1 appears. The checker must say so.
    let sim = double_vote_scenario(SimOptions::new(5).break_durability(true));
    let report = sim.report();
    assert!(!report.is_ok());
    assert!(
        report.has(|k| matches!(
            k,
            ViolationKind::DoubleVote {
                term: Term(1),
                first: 1,
                second: 3
            }
        )),
        "{report}"
    );
    assert!(
        report.has(|k| matches!(
            k,
            ViolationKind::TwoLeaders {
                term: Term(1),
                first: 1,
                second: 3
            }
        )),
        "{report}"
    );
    assert!(report.has(|k| matches!(k, ViolationKind::TermDecreased { .. })));
    assert!(
        report.to_string().ends_with("reproduce with SIM_SEED=5"),
        "{report}"
    );
}
