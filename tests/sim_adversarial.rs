//! An adversarial suite: scenarios in the style of real Raft bug reports (etcd,
//! hashicorp/raft, the Raft thesis), each a dozen lines against the public
//! `ballot::sim` API, each asserting a concrete outcome: who leads, that a healthy
//! leader is *not* disrupted, that the cluster recovers within a bound, and that no
//! safety invariant broke. Each runs over a few seeds, so the roles (who leads, who
//! is cut off) vary.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{Action, Delay, SimOptions, Simulation};
use ballot::{Config, Freshness, Input, Instant, Membership, Role, Term};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);
/// The default configuration's maximum election timeout.
const TIMEOUT: Duration = Duration::from_millis(300);

/// `n` voters on a calm network, run until a stable leader: `(sim, leader, term)`.
fn elected(seed: u64, n: usize) -> (Simulation, u64, Term) {
    let mut sim = SimOptions::new(seed).nodes(n).build();
    let leader = sim
        .run_until_stable_leader(5 * SEC)
        .expect("a first leader");
    let term = sim.term(leader).unwrap();
    (sim, leader, term)
}

/// The ids `1..=n` other than those in `not`.
fn others(n: u64, not: &[u64]) -> Vec<u64> {
    (1..=n).filter(|i| !not.contains(i)).collect()
}

/// Asserts that `leader` still leads `term` (in contact with a quorum), no live
/// member is in a newer term, and nobody was elected since the first election.
fn undisturbed(sim: &Simulation, leader: u64, term: Term) {
    assert_eq!(sim.leader(), Some(leader), "{}", sim.report());
    let members = sim
        .membership()
        .voters()
        .iter()
        .chain(sim.membership().learners());
    assert!(
        members
            .filter(|&&i| sim.is_up(i))
            .all(|&i| sim.term(i) <= Some(term))
    );
    assert_eq!(
        sim.leader_history().count(),
        1,
        "no election after the first"
    );
    sim.report().assert_ok();
}

/// etcd #8243 ("node with a smaller term can complete election", the PreVote +
/// CheckQuorum deadlock): a node cut off while the others moved to a newer term
/// comes back just as the new leader is cut off. The two left, one a term behind,
/// must elect one of themselves, and the cut-off node's PreVote round made it
/// forget its old leader.
#[test]
fn a_node_a_term_behind_and_its_peer_still_elect_after_the_leader_vanishes() {
    for seed in 0..4 {
        let (mut sim, first, _) = elected(seed, 3);
        let behind = others(3, &[first])[0];
        sim.isolate(behind);
        let _ = sim.command(first, Input::StepDown); // the rest move to a newer term
        sim.run_for(2 * SEC);
        assert_eq!(
            sim.node(behind).unwrap().leader(),
            None,
            "pre-candidate forgot"
        );
        let second = sim.leader().expect("a leader of the connected pair");
        assert!(sim.term(second) > sim.term(behind));
        sim.heal_all();
        sim.isolate(second);
        let third = sim.run_until(|s| s.leader().is_some_and(|l| l != second), 10 * TIMEOUT);
        assert!(third, "seed {seed}: {}", sim.report());
        sim.report().assert_ok();
    }
}

/// The reason PreVote exists (thesis §9.6): a follower partitioned for a long time
/// rejoins. It never raised its term while alone, so it cannot depose the leader.
#[test]
fn a_rejoining_node_does_not_depose_a_healthy_leader() {
    for seed in 0..4 {
        let (mut sim, leader, term) = elected(seed, 5);
        let loner = others(5, &[leader])[seed as usize % 4];
        sim.isolate(loner);
        sim.run_for(5 * SEC);
        assert_eq!(sim.term(loner), Some(term), "PreVote kept its term");
        sim.heal_all();
        sim.run_for(5 * SEC);
        undisturbed(&sim, leader, term);
    }
}

/// A mixed-version rollout: node 5 runs without PreVote and inflates its term
/// while partitioned. On rejoining it does depose the leader (its higher term
/// reaches it: the price of not running PreVote everywhere), but the cluster
/// recovers within a few timeouts, in a term above the loner's, with one leader
/// per term.
#[test]
fn a_rejoining_node_without_prevote_disrupts_and_the_cluster_recovers() {
    for seed in 0..4 {
        let mut sim = SimOptions::new(seed).nodes(5).build_with(|s| {
            s.set_config(5, Config::default().with_pre_vote(false))
                .unwrap();
        });
        let _ = sim.command(1 + seed % 4, Input::Campaign);
        let leader = sim.run_until_stable_leader(SEC).unwrap();
        sim.isolate(5);
        sim.run_for(5 * SEC);
        let inflated = sim.term(5).unwrap();
        assert!(inflated.get() > sim.term(leader).unwrap().get() + 5);
        sim.heal_all();
        let back = sim.run_until_stable_leader(10 * TIMEOUT);
        assert!(back.is_some(), "seed {seed}: {}", sim.report());
        assert!(sim.term(back.unwrap()).unwrap() >= inflated);
        assert!(sim.leader_history().count() >= 2, "it was disruptive");
        sim.report().assert_ok();
    }
}

/// Asymmetric partition: the leader still reaches everyone but hears nobody.
/// CheckQuorum makes it step down; the others elect a new leader, and the old one's
/// endless pre-votes (it never hears the answer) do not disturb it.
#[test]
fn a_leader_that_hears_nobody_steps_down_and_cannot_disturb_its_successor() {
    for seed in 0..4 {
        let (mut sim, old, term) = elected(seed, 5);
        others(5, &[old]).into_iter().for_each(|n| sim.cut(n, old));
        let new = sim.run_until(|s| s.leader().is_some_and(|l| l != old), 10 * TIMEOUT);
        assert!(new, "seed {seed}: {}", sim.report());
        let (new, new_term) = (sim.leader().unwrap(), sim.term(sim.leader().unwrap()));
        assert_ne!(sim.role(old), Some(Role::Leader));
        assert!(new_term > Some(term));
        sim.run_for(5 * SEC);
        assert_eq!((sim.leader(), sim.term(new)), (Some(new), new_term));
        sim.report().assert_ok();
    }
}

/// A follower hears the leader but every reply it sends is lost (a one-way link).
/// The leader still hears a quorum: nothing happens, the follower keeps following.
#[test]
fn a_follower_whose_replies_are_lost_changes_nothing() {
    for seed in 0..4 {
        let (mut sim, leader, term) = elected(seed, 5);
        let mute = others(5, &[leader])[0];
        sim.cut(mute, leader);
        sim.run_for(5 * SEC);
        assert_eq!(sim.node(mute).unwrap().leader(), Some(leader));
        undisturbed(&sim, leader, term);
    }
}

/// Flapping links: the leader's links to two of its four followers go down for
/// 300 ms and up for 100 ms, a dozen times. A quorum always hears the leader; the
/// flapping followers time out and ask for pre-votes, which the others refuse.
#[test]
fn flapping_links_to_a_minority_do_not_cause_elections() {
    for seed in 0..4 {
        let (mut sim, leader, term) = elected(seed, 5);
        let t0 = sim.now().as_nanos() / 1_000_000;
        for (i, peer) in others(5, &[leader]).into_iter().take(2).enumerate() {
            for k in 0..12 {
                let at = |ms| Instant::from_millis(t0 + 400 * k + 50 * i as u64 + ms);
                for (from, to) in [(leader, peer), (peer, leader)] {
                    sim.at(at(0), Action::Cut { from, to });
                    sim.at(at(300), Action::HealLink { from, to });
                }
            }
        }
        sim.run_for(6 * SEC);
        let pre_votes = |n| sim.node(n).unwrap().stats().pre_votes_started;
        assert!(others(5, &[leader]).into_iter().map(pre_votes).sum::<u64>() > 0);
        undisturbed(&sim, leader, term);
    }
}

/// A leader cut off in a minority keeps believing it leads when CheckQuorum is off
/// (the documented hazard): two nodes believe they lead, in different terms, and
/// the term is the fencing token that tells them apart. Healing deposes the old one.
#[test]
fn a_stale_leader_in_a_minority_is_fenced_by_the_newer_term() {
    for seed in 0..4 {
        let config = Config::default().with_check_quorum(false);
        let mut sim = SimOptions::new(seed).nodes(5).config(config).build();
        let old = sim.run_until_stable_leader(5 * SEC).unwrap();
        let minority = [old, others(5, &[old])[0]];
        sim.partition(&[&minority]);
        sim.run_for(3 * SEC);
        let new = sim.leader().unwrap();
        assert_eq!(sim.leaders(), {
            let mut l = vec![old, new];
            l.sort();
            l
        });
        assert!(
            sim.term(new) > sim.term(old),
            "the newer leader has the higher token"
        );
        sim.heal_all();
        sim.run_for(SEC);
        assert_eq!((sim.leaders(), sim.stable_leader()), (vec![new], Some(new)));
        sim.report().assert_ok();
    }
}

/// Chain topology A – B – C (A and C cannot talk). A leads through B; C times out
/// over and over but B, which hears A, refuses its pre-votes: A keeps leading in the
/// same term. C learns that term from B's refusals (a refusal carries the
/// responder's term when the requester is behind) but never moves past it.
#[test]
fn a_chain_keeps_its_leader_at_one_end() {
    for seed in 0..4 {
        let mut sim = SimOptions::new(seed).nodes(3).build();
        sim.cut_both(1, 3);
        let _ = sim.command(1, Input::Campaign);
        assert!(sim.run_until(|s| s.role(1) == Some(Role::Leader), 100 * MS));
        let term = sim.term(1).unwrap();
        sim.run_for(10 * SEC);
        assert_eq!(
            (sim.leader(), sim.term(1), sim.term(3)),
            (Some(1), Some(term), Some(term))
        );
        assert_eq!(sim.node(2).unwrap().leader(), Some(1));
        assert_eq!(sim.leader_history().count(), 1);
        sim.report().assert_ok();
    }
}

/// A removed node that never heard of its removal (it was partitioned) keeps
/// campaigning, without PreVote, with ever higher terms. The members no longer
/// listen to it: the leader and its term are untouched.
#[test]
fn a_removed_node_that_keeps_campaigning_cannot_disrupt() {
    for seed in 0..4 {
        let mut sim = SimOptions::new(seed).nodes(4).build_with(|s| {
            s.set_config(4, Config::default().with_pre_vote(false))
                .unwrap();
        });
        let _ = sim.command(1 + seed % 3, Input::Campaign);
        let leader = sim.run_until_stable_leader(5 * SEC).unwrap();
        let term = sim.term(leader).unwrap();
        let old = sim.membership().clone();
        sim.isolate(4);
        sim.remove_node(4);
        let _ = sim.command(4, Input::SetMembership(old)); // it never heard
        sim.run_for(3 * SEC);
        sim.heal_all();
        sim.run_for(5 * SEC);
        assert!(sim.term(4).unwrap() > term, "it did campaign");
        undisturbed(&sim, leader, term);
    }
}

/// The learner-promotion race: learner 4, the freshest node, is promoted and the
/// leader crashes before node 3 applies the promotion. Freshness leaves node 4 as
/// the only possible winner (2 refuses 3, 4 refuses 2), and it needs node 3's
/// vote: node 3 must grant it although, in its view, node 4 is still a learner.
#[test]
fn a_promoted_learner_wins_with_the_vote_of_a_node_that_missed_the_promotion() {
    for seed in 0..4 {
        let mut sim = SimOptions::new(seed).nodes(3).learners(1).build();
        for (node, index) in [(1, 10), (2, 5), (3, 1), (4, 10)] {
            sim.set_freshness(node, Freshness::new(1, index));
        }
        let _ = sim.command(1, Input::Campaign);
        assert_eq!(sim.run_until_stable_leader(SEC), Some(1));
        [1, 2, 4]
            .into_iter()
            .for_each(|n| drop(sim.command(n, Input::AddVoter(4))));
        sim.crash(1);
        assert!(
            sim.run_until(|s| s.leader() == Some(4), 10 * TIMEOUT),
            "seed {seed}"
        );
        assert!(
            sim.node(3).unwrap().membership().is_learner(4),
            "3 missed it"
        );
        sim.report().assert_ok();
    }
}

/// A crash while a vote is being written: the write is lost, so the vote was never
/// sent, and the node may vote afresh after restarting. A crash just *after* the
/// write but before the grant leaves: the vote survives the restart. Either way no
/// node votes twice in a term, and the cluster elects a leader.
#[test]
fn a_crash_around_a_vote_write_never_yields_a_double_vote() {
    for seed in 0..6 {
        let (mut sim, leader, term) = elected(seed, 3);
        let voter = others(3, &[leader])[0];
        sim.crash(leader);
        // The voter is writing a newer term (its own candidacy or a grant).
        let writing = |s: &Simulation| s.term(voter) > s.durable(voter).map(|h| h.term);
        assert!(sim.run_until(writing, 2 * SEC));
        if seed % 2 == 0 {
            sim.crash(voter); // the write in flight is lost
        } else {
            sim.crash_mid_batch(voter, 1); // once durable, before anything leaves
        }
        assert!(sim.run_until(|s| !s.is_up(voter), SEC));
        let durable = sim.durable(voter).unwrap().term;
        assert_eq!(durable > term, seed % 2 == 1, "lost, or kept, the write");
        sim.after(50 * MS, Action::Restart(voter));
        sim.after(50 * MS, Action::Restart(leader));
        assert!(
            sim.run_until_stable_leader(10 * TIMEOUT).is_some(),
            "seed {seed}"
        );
        sim.report().assert_ok();
    }
}

/// Clocks within bounds: the leader's clock runs 20 % slow (heartbeats every 60 ms
/// of real time), every follower's 20 % fast (timeouts from 125 ms) and offset by
/// up to a second. Heartbeats still beat the timeouts: no election in 20 s.
#[test]
fn clock_drift_within_bounds_causes_no_elections() {
    for seed in 0..4 {
        let mut sim = SimOptions::new(seed).nodes(5).build_with(|s| {
            s.set_clock(1, Duration::ZERO, -200_000);
            (2..=5).for_each(|n| s.set_clock(n, (n as u32) * 250 * MS, 200_000));
        });
        let _ = sim.command(1, Input::Campaign);
        assert_eq!(sim.run_until_stable_leader(SEC), Some(1));
        let term = sim.term(1).unwrap();
        sim.run_for(20 * SEC);
        assert!(sim.local_time(1).unwrap() < sim.local_time(2).unwrap());
        undisturbed(&sim, 1, term);
    }
}

/// A duplication storm: half of all messages arrive twice, with independent delays
/// (so out of order), and 5 % are lost. Duplicated grants count once, so one leader
/// per term; the cluster elects and keeps a leader.
#[test]
fn a_duplication_storm_elects_one_leader_per_term() {
    for seed in 0..4 {
        let mut sim = SimOptions::new(seed)
            .nodes(5)
            .duplicate_ppm(500_000)
            .loss_ppm(50_000)
            .delay(Delay::uniform(MS, 30 * MS))
            .build();
        assert!(
            sim.run_until_stable_leader(10 * TIMEOUT).is_some(),
            "seed {seed}"
        );
        sim.run_for(10 * SEC);
        let net = sim.net_stats();
        assert!(net.duplicated * 3 > net.sent, "{net:?}");
        assert!(sim.heal_and_check_liveness(10));
        sim.report().assert_ok();
    }
}

/// almost-raft's `min_node`: with `min_voters = 3`, one voter and then two wait
/// (nobody campaigns, terms stay 0); the third voter's arrival starts an election.
#[test]
fn min_voters_waits_then_elects_when_enough_nodes_join() {
    let config = Config::default().with_min_voters(3);
    let mut sim = SimOptions::new(5).nodes(1).config(config).build();
    sim.run_for(2 * SEC);
    sim.add_voter(2);
    sim.run_for(2 * SEC);
    assert_eq!((sim.leaders(), sim.report().max_term), (vec![], 0));
    sim.add_voter(3);
    let leader = sim.run_until_stable_leader(10 * TIMEOUT);
    assert!(leader.is_some(), "{}", sim.report());
    assert_eq!(sim.membership(), &Membership::new([1, 2, 3]).unwrap());
    sim.report().assert_ok();
}

/// A slow, jittery link: the leader's messages to one follower take anywhere from
/// 0 to 3 s (ten times the maximum timeout). That follower times out now and then,
/// but its pre-votes are refused: the leader and its term stay.
#[test]
fn a_slow_jittery_link_to_one_follower_does_not_disrupt() {
    for seed in 0..4 {
        let (mut sim, leader, term) = elected(seed, 3);
        let far = others(3, &[leader])[0];
        sim.set_link_delay(leader, far, Delay::uniform(Duration::ZERO, 10 * TIMEOUT));
        sim.run_for(10 * SEC);
        assert!(
            sim.node(far).unwrap().stats().pre_votes_started > 0,
            "it timed out"
        );
        undisturbed(&sim, leader, term);
    }
}
