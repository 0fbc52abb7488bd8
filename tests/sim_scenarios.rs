//! Scripted scenarios: elections, partial partitions, membership, commands.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{Action, Change, SimOptions, Simulation};
use ballot::{Freshness, Input, Instant, Output, Role};

const SEC: Duration = Duration::from_secs(1);

fn elected(nodes: usize, seed: u64) -> (Simulation, u64) {
    let mut sim = SimOptions::new(seed).nodes(nodes).build();
    assert!(sim.run_until(|s| s.stable_leader().is_some(), 5 * SEC));
    let leader = sim.stable_leader().unwrap();
    (sim, leader)
}

#[test]
fn five_nodes_elect_exactly_one_leader_that_everyone_follows() {
    for seed in 0..10 {
        let (mut sim, leader) = elected(5, seed);
        let term = sim.node(leader).unwrap().term();
        sim.run_for(10 * SEC);
        assert_eq!(sim.leaders(), vec![leader], "seed {seed}");
        for id in 1..=5 {
            let node = sim.node(id).unwrap();
            assert_eq!(
                (node.leader(), node.term()),
                (Some(leader), term),
                "seed {seed} n{id}"
            );
        }
        assert_eq!(
            sim.leader_history().count(),
            1,
            "seed {seed}: one election only"
        );
        sim.report().assert_ok();
    }
}

#[test]
fn a_bridge_node_does_not_cause_term_churn() {
    // {1, 2} and {4, 5} cannot talk; 3 talks to everyone. Whoever leads keeps a
    // majority, and PreVote + stickiness stop the cut-off pair from disrupting it.
    let (mut sim, leader) = elected(5, 11);
    let term = sim.node(leader).unwrap().term();
    for (a, b) in [(1, 4), (1, 5), (2, 4), (2, 5)] {
        sim.cut_both(a, b);
    }
    sim.run_for(20 * SEC);
    assert_eq!(sim.leader(), Some(leader));
    assert_eq!(sim.node(leader).unwrap().term(), term);
    assert!((1..=5).all(|n| sim.node(n).unwrap().term() == term));
    sim.report().assert_ok();
}

#[test]
fn a_leader_that_can_send_but_not_hear_is_replaced() {
    // A bug-report style scenario, scheduled up front: at 1 s the leader stops
    // hearing from everyone but one ally; at 6 s the network heals.
    let (mut sim, old) = elected(5, 3);
    let ally = if old == 1 { 2 } else { 1 };
    for n in (1..=5).filter(|&n| n != old && n != ally) {
        sim.at(Instant::from_secs(1), Action::Cut { from: n, to: old });
    }
    sim.at(Instant::from_secs(6), Action::HealAll);
    sim.run_for(5 * SEC);
    let new = sim.leader().expect("a new leader in contact with a quorum");
    assert_ne!(new, old);
    assert_ne!(
        sim.role(old),
        Some(Role::Leader),
        "CheckQuorum deposed the old leader"
    );
    sim.run_for(5 * SEC);
    assert!(
        sim.stable_leader().is_some(),
        "after healing everyone agrees"
    );
    sim.report().assert_ok();
}

#[test]
fn a_minority_partition_elects_nobody_and_the_majority_carries_on() {
    let (mut sim, old) = elected(5, 5);
    let minority: Vec<u64> = vec![old, if old == 1 { 2 } else { 1 }];
    let majority: Vec<u64> = (1..=5).filter(|n| !minority.contains(n)).collect();
    sim.partition(&[&minority, &majority]);
    sim.run_for(5 * SEC);
    let new = sim.leader().unwrap();
    assert!(majority.contains(&new));
    assert!(minority.iter().all(|&n| sim.role(n) != Some(Role::Leader)));
    sim.heal_all();
    assert!(sim.run_until(|s| s.stable_leader().is_some(), 5 * SEC));
    sim.report().assert_ok();
}

#[test]
fn voters_and_learners_join_at_run_time() {
    let (mut sim, _) = elected(3, 8);
    sim.add_learner(4);
    sim.add_voter(5);
    assert_eq!(sim.membership().voters(), &[1, 2, 3, 5]);
    assert_eq!(sim.membership().learners(), &[4]);
    assert!(sim.run_until(|s| s.stable_leader().is_some() && s.is_up(5), 5 * SEC));
    let leader = sim.stable_leader().unwrap();
    // The newcomers follow the leader; the learner is told about the new voter too.
    assert_eq!(sim.node(4).unwrap().leader(), Some(leader));
    assert_eq!(sim.node(5).unwrap().leader(), Some(leader));
    assert!(sim.node(4).unwrap().membership().is_voter(5));
    // Promote the learner, then remove a voter that is not the leader.
    sim.add_voter(4);
    let gone = (1..=5).find(|&n| n != leader && n != 4).unwrap();
    sim.remove_node(gone);
    sim.crash(gone);
    assert_eq!(sim.membership().voters().len(), 4);
    sim.run_for(5 * SEC);
    assert_eq!(sim.leader(), Some(leader));
    sim.report().assert_ok();
}

#[test]
fn commands_return_their_outputs_and_rejections_are_recorded() {
    let (mut sim, leader) = elected(3, 9);
    let follower = (1..=3).find(|&n| n != leader).unwrap();
    let out = sim.command(follower, Input::StepDown);
    assert!(matches!(out.as_slice(), [Output::Rejected(_)]));
    assert!(
        sim.history()
            .iter()
            .any(|e| e.node == follower && matches!(e.change, Change::Rejected(_)))
    );
    let out = sim.command(leader, Input::StepDown);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::RoleChanged {
            role: Role::Follower,
            ..
        }
    )));
    assert!(sim.run_until(|s| s.stable_leader().is_some(), 5 * SEC));
    sim.report().assert_ok();
}

#[test]
fn a_stale_node_never_wins() {
    // Node 1's log is behind: nobody votes for it, and when a leader crashes the
    // remaining fresh node takes over with node 1's vote.
    for seed in 0..5 {
        let mut sim = SimOptions::new(seed).nodes(3).build();
        sim.set_freshness(1, Freshness::new(1, 1));
        sim.set_freshness(2, Freshness::new(1, 5));
        sim.set_freshness(3, Freshness::new(1, 5));
        assert!(sim.run_until(|s| s.stable_leader().is_some(), 5 * SEC));
        let first = sim.stable_leader().unwrap();
        assert_ne!(first, 1, "seed {seed}");
        sim.crash(first);
        let other = 5 - first; // 2 <-> 3
        assert!(
            sim.run_until(|s| s.leader().is_some(), 5 * SEC),
            "seed {seed}"
        );
        assert_eq!(sim.leader(), Some(other), "seed {seed}");
        sim.report().assert_ok();
    }
}

#[test]
fn deliveries_can_be_observed() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let seen: Rc<RefCell<Vec<(Instant, u64)>>> = Rc::default();
    let mut sim = SimOptions::new(2).nodes(3).build();
    let sink = Rc::clone(&seen);
    sim.on_deliver(Box::new(move |d| {
        if matches!(d.message, ballot::Message::Heartbeat { .. }) {
            sink.borrow_mut().push((d.at, d.to));
        }
    }));
    assert!(sim.run_until(|s| s.stable_leader().is_some(), 5 * SEC));
    let seen = seen.borrow();
    assert!(!seen.is_empty());
    assert_eq!(
        seen.len() as u64,
        sim.net_stats()
            .delivered(ballot::sim::MessageKind::Heartbeat)
    );
}

#[test]
fn an_idle_cluster_costs_few_events() {
    let (mut sim, _) = elected(5, 1);
    let before = sim.events();
    sim.run_for(10 * SEC);
    // Heartbeats every 50 ms to 4 followers and back, plus one wake-up per node per
    // heartbeat round at most: far from one event per millisecond per node.
    let per_second = (sim.events() - before) / 10;
    assert!(per_second < 5 * 20 * 3, "{per_second} events per second");
}
