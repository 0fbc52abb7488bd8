//! Bugs the simulator found, kept as scripted regression scenarios.
//!
//! **Membership changes within one term** (found by the fault-schedule proptest in
//! `tests/sim_proptest.rs`). The membership safety rule says: change one voter at a
//! time, and before the next change let the change settle — a majority of the new
//! voter set *follows* the leader in its term. Following used to be volatile: a
//! node that never voted in a term could still vote in it once it forgot the leader
//! (a restart, or its election timer firing), so a voter that missed the term could
//! win it with a majority sharing no voter with the first winner's — both scenarios
//! below reported `TwoLeaders { term: 1 }`. The core now records following as the
//! node's vote in that term (`HardState::voted_for`), durably. Each scenario runs
//! both ways the docs allow a change to settle (followers only, or a fresh
//! election), and both must now be clean.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{Report, SimOptions, Simulation, ViolationKind};
use ballot::{Config, Input, Role, Term};

const MS: Duration = Duration::from_millis(1);

fn two_leaders(report: &Report) -> bool {
    report.has(|k| matches!(k, ViolationKind::TwoLeaders { .. }))
}

/// What the application does after a voter change. Without `elect`: check that a
/// leader is in contact with a majority of the new voter set (they follow it). With
/// `elect`: also step the leader down and wait for a leader elected in a newer term.
fn after_change(sim: &mut Simulation, elect: bool) {
    let leader = sim
        .leader()
        .expect("settled by the old rule: a majority follows");
    if elect {
        let term = sim.node(leader).unwrap().term();
        let _ = sim.command(leader, Input::StepDown);
        assert!(sim.run_until(
            |s| s.leader().is_some_and(|l| s.node(l).unwrap().term() > term),
            2_000 * MS
        ));
    }
}

/// Voters {1, 2, 3}. Node 1 wins term 1 with node 3's vote; node 2 missed the
/// election and follows node 1 in term 1 (which it now records as its vote). Node 3
/// is removed, node 4 added as a voter. Node 1 crashes; node 2 restarts (forgetting
/// the leader). Node 4, still in term 0, campaigns for term 1.
fn remove_then_add(elect: bool) -> Report {
    let config = Config::default()
        .with_pre_vote(false)
        .with_check_quorum(false);
    let mut sim = SimOptions::new(1).nodes(3).config(config).build();
    sim.isolate(2);
    let _ = sim.command(1, Input::Campaign);
    assert!(sim.run_until(|s| s.role(1) == Some(Role::Leader), 50 * MS));
    sim.heal_all();
    // Following counts once it is durable: the application sees the follower's
    // LeaderChanged only after the Persist before it has been carried out.
    assert!(sim.run_until(
        |s| s.durable(2).is_some_and(|h| h.voted_for == Some(1)),
        200 * MS
    ));
    let n2 = sim.node(2).unwrap();
    assert_eq!(
        (n2.term(), n2.voted_for()),
        (Term(1), Some(1)),
        "did not vote, follows: following is recorded"
    );

    sim.remove_node(3);
    after_change(&mut sim, elect);
    sim.add_voter(4);
    assert_eq!(sim.membership().voters(), &[1, 2, 4]);

    let leader = sim.leader().unwrap();
    sim.crash(leader);
    sim.crash(2);
    sim.restart(2);
    let _ = sim.command(4, Input::Campaign);
    sim.run_for(50 * MS);
    sim.report()
}

#[test]
fn changes_settled_by_following_keep_one_leader_per_term() {
    // {2, 4} is a majority of {1, 2, 4} and shares no voter with {1, 3}: this used to
    // elect node 4 in term 1 too. Node 2's durable record of following node 1 refuses.
    let report = remove_then_add(false);
    assert!(!two_leaders(&report), "{report}");
    report.assert_ok();
}

#[test]
fn with_an_election_between_changes_one_voter_changes_keep_one_leader_per_term() {
    // The election in {1, 2} moved node 2 past term 1: it refuses node 4.
    let report = remove_then_add(true);
    assert!(!two_leaders(&report), "{report}");
    report.assert_ok();
}

/// The same hole with PreVote and CheckQuorum on and nobody added: voters {1..5};
/// node 1 wins term 1 with {1, 2, 3} while node 4 is cut off (it stays in term 0)
/// and node 5 only follows. Node 3 is removed, then node 2. Node 1 crashes, node 5
/// restarts, node 4 comes back and campaigns for term 1.
fn two_removals(elect: bool) -> Report {
    let mut sim = SimOptions::new(2).nodes(5).build();
    sim.isolate(4);
    sim.isolate(5);
    let _ = sim.command(1, Input::Campaign);
    assert!(sim.run_until(|s| s.role(1) == Some(Role::Leader), 50 * MS));
    sim.heal_all();
    sim.isolate(4);
    assert!(sim.run_until(
        |s| s.durable(5).is_some_and(|h| h.voted_for == Some(1)),
        200 * MS
    ));
    let n5 = sim.node(5).unwrap();
    assert_eq!((n5.term(), n5.voted_for()), (Term(1), Some(1)));

    sim.remove_node(3);
    after_change(&mut sim, elect);
    sim.remove_node(2);
    after_change(&mut sim, elect);
    assert_eq!(sim.membership().voters(), &[1, 4, 5]);
    assert_eq!(sim.node(4).unwrap().term(), Term(0), "node 4 missed it all");

    let leader = sim.leader().unwrap();
    sim.crash(leader);
    sim.crash(5);
    sim.restart(5);
    sim.heal_all();
    let _ = sim.command(4, Input::Campaign);
    sim.run_for(50 * MS);
    sim.report()
}

#[test]
fn removals_settled_by_following_keep_one_leader_per_term() {
    let report = two_removals(false);
    assert!(!two_leaders(&report), "{report}");
    report.assert_ok();
}

#[test]
fn with_an_election_between_removals_one_leader_per_term_holds() {
    let report = two_removals(true);
    assert!(!two_leaders(&report), "{report}");
    report.assert_ok();
}

/// **Open core defect (found by the release rule-2 property after the issue-6
/// merge; shrunk).** README rule 4 / `Config::check_quorum`: a leader steps down
/// *at the first step* with `now >= E`. The core only checks when its CheckQuorum
/// timer fires (a tick): a command or a message handled at `now >= E` leaves it
/// leading. Here: node 1 leads a one-voter cluster, node 2 joins as a voter (heard
/// from at its addition, 190 ms) and is never heard from again, so
/// `E = 190 + 150 = 340 ms`. At 340 ms exactly a `SetFreshness` command reaches
/// node 1 before its timer wake-up: it is still leader after that step. The
/// simulator's checker reports `340.000ms n1: still leader of term 1 in contact
/// with 0 other voters, needs 1 (CheckQuorum late)`.
#[test]
fn a_leader_steps_down_at_the_first_step_at_or_after_its_quorum_contact_lapses() {
    let config = Config::default()
        .with_pre_vote(false)
        .with_check_quorum(true);
    let mut sim = SimOptions::new(0).nodes(1).config(config).build();
    sim.isolate(1);
    let _ = sim.command(1, Input::Campaign);
    sim.run_for(190 * MS);
    assert_eq!(sim.role(1), Some(Role::Leader));
    sim.add_voter(2);
    // Queued before the node's own wake-up at 340 ms, so it is the first step then.
    sim.at(
        ballot::Instant::from_millis(340),
        ballot::sim::Action::SetFreshness(1, ballot::Freshness::new(0, 1)),
    );
    sim.run_for(150 * MS);
    let report = sim.report();
    assert!(
        !report.has(|k| matches!(k, ViolationKind::CheckQuorumLate { .. })),
        "{report}"
    );
    report.assert_ok();
}
