//! Bugs the simulator found, kept as scripted regression scenarios.
//!
//! **Membership changes within one term** (found by the fault-schedule proptest in
//! `tests/sim_proptest.rs`). The membership safety rule used to say: change one
//! voter at a time, and before the next change wait until a majority of the new
//! voter set *follows* the leader in its term. That is not enough: following is
//! not durable, so a node that never voted in a term can still vote in it once it
//! forgets the leader (a restart, or its election timer firing), and a voter that
//! missed the term can win it with a majority that shares no voter with the first
//! winner's. The rule now asks for an **election in the new voter set before the
//! next change** (`Membership`'s docs). Each scenario below runs both ways: with
//! only the old rule the checker reports two leaders in one term; with the
//! corrected rule it reports nothing.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{Report, SimOptions, Simulation, ViolationKind};
use ballot::{Config, Input, Role, Term};

const MS: Duration = Duration::from_millis(1);

fn two_leaders(report: &Report) -> bool {
    report.has(|k| matches!(k, ViolationKind::TwoLeaders { .. }))
}

/// What the application does after a voter change. With `elect`, rule 2: the
/// leader steps down and the change waits for a leader elected in a newer term.
/// Without it, only the old rule's check: a leader in contact with a majority of
/// the new voter set.
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
/// election and follows node 1 in term 1 without having voted. Node 3 is removed,
/// node 4 added as a voter. Node 1 crashes; node 2 restarts (forgetting the leader,
/// which is not durable). Node 4, still in term 0, campaigns for term 1.
fn remove_then_add(elect: bool) -> Report {
    let config = Config::default()
        .with_pre_vote(false)
        .with_check_quorum(false);
    let mut sim = SimOptions::new(1).nodes(3).config(config).build();
    sim.isolate(2);
    let _ = sim.command(1, Input::Campaign);
    assert!(sim.run_until(|s| s.role(1) == Some(Role::Leader), 50 * MS));
    sim.heal_all();
    assert!(sim.run_until(|s| s.node(2).unwrap().leader() == Some(1), 200 * MS));
    let n2 = sim.node(2).unwrap();
    assert_eq!(
        (n2.term(), n2.voted_for()),
        (Term(1), None),
        "follows, no vote"
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
fn without_an_election_between_changes_a_node_that_missed_the_term_wins_it_again() {
    // {2, 4} is a majority of {1, 2, 4} and shares no voter with {1, 3}.
    let report = remove_then_add(false);
    assert!(
        report.has(|k| *k
            == ViolationKind::TwoLeaders {
                term: Term(1),
                first: 1,
                second: 4
            }),
        "{report}"
    );
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
    assert!(sim.run_until(|s| s.node(5).unwrap().leader() == Some(1), 200 * MS));
    let n5 = sim.node(5).unwrap();
    assert_eq!((n5.term(), n5.voted_for()), (Term(1), None));

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
fn without_an_election_between_removals_a_node_that_missed_the_term_wins_it_again() {
    let report = two_removals(false);
    assert!(
        report.has(|k| *k
            == ViolationKind::TwoLeaders {
                term: Term(1),
                first: 1,
                second: 4
            }),
        "{report}"
    );
}

#[test]
fn with_an_election_between_removals_one_leader_per_term_holds() {
    let report = two_removals(true);
    assert!(!two_leaders(&report), "{report}");
    report.assert_ok();
}
