//! The checks issue 6 added to the simulator, each with a scenario that broke it on
//! the core before the issue-6 fixes (the negative control: every test here failed
//! on that core, with the output quoted next to it) and that must be clean now.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{Report, SimOptions, Simulation, ViolationKind};
use ballot::{Config, Freshness, Input, Role, Term};

const MS: Duration = Duration::from_millis(1);

fn no_pre_vote_no_check_quorum() -> Config {
    Config::default()
        .with_pre_vote(false)
        .with_check_quorum(false)
}

fn terms_led(sim: &Simulation, node: u64) -> Vec<u64> {
    sim.leader_history()
        .filter(|e| e.node == node)
        .filter_map(|e| e.state().map(|s| s.term.get()))
        .collect()
}

fn kinds(report: &Report) -> Vec<ViolationKind> {
    report.violations.iter().map(|v| v.kind).collect()
}

/// Issue 6 §1, in the simulator: voters {1..5}; 1 and 4 cannot reach each other and
/// campaign in term 1 together; 2 and 3 grant 1, 5 grants 4. Node 1 leads; node 4
/// is still a candidate holding {4, 5}. `RemoveNode(2)` then `RemoveNode(3)` on
/// every node: the old core re-counted {4, 5} against {1, 4, 5} and made 4 a second
/// leader of term 1.
///
/// Old core: `two leaders in term 1: n1 and n4`, `became leader of term 1 with 3
/// voters, campaign started with 5 (a different voter set)`, `became leader of term
/// 1 with 2 votes, quorum 3`.
#[test]
fn a_losing_candidate_does_not_win_on_a_tally_from_another_voter_set() {
    let mut sim = SimOptions::new(6)
        .nodes(5)
        .config(no_pre_vote_no_check_quorum())
        .build();
    sim.cut_both(1, 4);
    sim.cut(1, 5); // 5 only hears 4's request
    sim.cut(4, 2); // 2 and 3 only hear 1's
    sim.cut(4, 3);
    let _ = sim.command(1, Input::Campaign);
    let _ = sim.command(4, Input::Campaign);
    assert!(sim.run_until(|s| s.role(1) == Some(Role::Leader), 30 * MS));
    sim.run_for(10 * MS);
    assert_eq!(sim.role(4), Some(Role::Candidate));
    sim.heal_link(1, 5); // 5 follows 1
    sim.run_for(20 * MS);
    sim.remove_node(2);
    sim.remove_node(3);
    sim.run_for(20 * MS);
    let report = sim.report();
    assert_eq!(terms_led(&sim, 4), Vec::<u64>::new(), "{report}");
    report.assert_ok();
}

/// The same defect where no second leader of the term exists, so only the
/// legitimacy check can see it: node 4 campaigns in {1..5}, only 5 answers; 1 and 2
/// are removed, and {4, 5} is a majority of {3, 4, 5}. Counted against its current
/// voters (the old checker) node 4's win looked fine.
///
/// Old core: `n4: became leader of term 1 with 3 voters, campaign started with 5 (a
/// different voter set)` and `n4: became leader of term 1 with 2 votes, quorum 3`.
#[test]
fn a_leader_is_counted_against_the_voter_set_its_campaign_started_under() {
    let mut sim = SimOptions::new(7)
        .nodes(5)
        .config(no_pre_vote_no_check_quorum())
        .build();
    for n in [1, 2, 3] {
        sim.cut(4, n);
    }
    let _ = sim.command(4, Input::Campaign);
    sim.run_for(20 * MS);
    assert_eq!(sim.role(4), Some(Role::Candidate));
    sim.remove_node(1);
    sim.remove_node(2);
    sim.run_for(20 * MS);
    let report = sim.report();
    assert!(
        !report.has(|k| matches!(
            k,
            ViolationKind::VotersChangedDuringCampaign { .. }
                | ViolationKind::LeaderWithoutMajority { .. }
        )),
        "{:?}\n{report}",
        kinds(&report)
    );
    assert!(!terms_led(&sim, 4).contains(&1), "{report}");
    report.assert_ok();
}

/// Issue 6 §3: a leader cut off from everyone, at twenty different moments of its
/// heartbeat cycle. With exact CheckQuorum it steps down at the first step with
/// `t >= E` (its own clock), and its `next_deadline` never lies past `E`; the
/// simulator checks both after every step of every leader (and that it does not
/// step down before `E`).
///
/// Old core (fixed CheckQuorum windows): `n1: leader of term 1: next deadline
/// 382.632ms after its quorum contact lapses at 381.634ms`, and, cut later in the
/// window, `still leader of term 1 in contact with 0 other voters, needs 1
/// (CheckQuorum late)`.
#[test]
fn a_cut_off_leader_steps_down_when_its_quorum_contact_lapses() {
    for cut in 0..20u64 {
        let mut sim = SimOptions::new(40 + cut).nodes(3).build();
        let leader = sim
            .run_until_stable_leader(2_000 * MS)
            .expect("a first leader");
        sim.run_for(Duration::from_micros(2_500 * cut));
        sim.isolate(leader);
        sim.run_for(600 * MS);
        let report = sim.report();
        assert_ne!(sim.role(leader), Some(Role::Leader), "{report}");
        assert_eq!(
            sim.node(leader).unwrap().stats().check_quorum_step_downs,
            1,
            "{report}"
        );
        report.assert_ok();
    }
}

/// Issue 6 §2 in the simulator: voters {1, 2, 3}, PreVote and CheckQuorum on.
/// Node 1 is isolated while node 3 wins term 1 with node 2's vote; node 1 (term 0)
/// is the freshest, node 2 (term 1, durably following 3) is behind. Node 3 dies for
/// good and node 1 comes back. In Raft node 1 — at least as fresh as a majority —
/// must win; on the old core node 2's pre-vote refusals echoed node 1's request
/// term, node 1 never learned term 1, and each refused the other forever.
///
/// Old core: `no stable leader within 3000.000ms after healing`.
#[test]
fn a_fresher_node_a_term_behind_is_elected_when_the_leader_dies() {
    let mut sim = SimOptions::new(8).nodes(3).build_with(|sim| {
        sim.set_freshness(1, Freshness::new(0, 10));
        sim.set_freshness(2, Freshness::new(0, 5));
        sim.set_freshness(3, Freshness::new(0, 10));
    });
    assert_eq!(sim.node(1).unwrap().freshness(), Freshness::new(0, 10));
    sim.isolate(1);
    let _ = sim.command(3, Input::Campaign);
    assert!(sim.run_until(
        |s| s.role(3) == Some(Role::Leader) && s.durable(2).is_some_and(|h| h.voted_for == Some(3)),
        200 * MS
    ));
    sim.run_for(100 * MS);
    assert_eq!(sim.term(1), Some(Term(0)));
    let live = sim.heal_and_check_liveness_keeping_down(10, &[3]);
    let report = sim.report();
    assert!(live, "{report}");
    assert_eq!(sim.stable_leader(), Some(1), "{report}");
    report.assert_ok();
}
