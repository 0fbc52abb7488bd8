//! The simulator's hooks and fine-grained network rules (issue 6 §6): per-link,
//! per-kind loss and delay, a delivery filter that drops or postpones, the send-side
//! output observer, the time of the next event, and per-node settings inside
//! `SimOptions::build_with` applying at time zero.
#![cfg(feature = "sim")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use ballot::sim::{Delay, MessageKind, SimOptions, Simulation, Verdict};
use ballot::{Config, Freshness, Input, Instant, Message, Output, Role, Term};

const MS: Duration = Duration::from_millis(1);

fn calm(seed: u64, config: Config) -> Simulation {
    SimOptions::new(seed)
        .nodes(3)
        .config(config)
        .delay(Delay::Fixed(2 * MS))
        .build()
}

/// The classic disruptive-server set-up: heartbeats from the leader A to B are
/// lost, votes still pass. With PreVote and CheckQuorum B times out again and again
/// but cannot get a pre-vote (the others hear from A), so nobody's term moves and A
/// keeps leading — for ten seconds.
#[test]
fn heartbeats_lost_on_one_link_votes_pass_and_prevote_keeps_the_cluster_stable() {
    let mut sim = calm(1, Config::default());
    let a = sim.run_until_stable_leader(2_000 * MS).expect("a leader");
    let b = if a == 1 { 2 } else { 1 };
    let term = sim.term(a).unwrap();
    sim.drop_kind(a, b, MessageKind::Heartbeat);
    sim.run_for(10_000 * MS);
    let report = sim.report();
    report.assert_ok();
    assert_eq!(sim.role(a), Some(Role::Leader), "{report}");
    for n in 1..=3 {
        if n != b {
            assert_eq!(sim.term(n), Some(term), "n{n} moved on\n{report}");
        }
    }
    // The rule really bit: B timed out and asked for pre-votes, and the answers
    // (votes) passed on the same links.
    assert!(
        sim.node(b).unwrap().stats().pre_votes_started >= 10,
        "{report}"
    );
    assert!(sim.net_stats().delivered(MessageKind::PreVoteResponse) >= 10);
    assert!(
        sim.net_stats().dropped_loss > 0,
        "the heartbeats were lost at random? {report}"
    );
    // Without PreVote the same rule lets B push its term up (leader stickiness
    // still keeps A leading, but the terms move): the rule is what B sees.
    let mut sim = calm(1, Config::default().with_pre_vote(false));
    let a = sim.run_until_stable_leader(2_000 * MS).expect("a leader");
    let b = if a == 1 { 2 } else { 1 };
    let term = sim.term(b).unwrap();
    sim.drop_kind(a, b, MessageKind::Heartbeat);
    sim.run_for(2_000 * MS);
    assert!(sim.term(b).unwrap() > term);
}

/// Per-kind delay and the send-side observer: heartbeats on one link take 40 ms,
/// everything else 2 ms; every heartbeat the observer saw leave arrives exactly
/// then.
#[test]
fn a_per_kind_delay_applies_to_that_kind_only_and_the_output_hook_sees_send_times() {
    let mut sim = calm(2, Config::default());
    let a = sim.run_until_stable_leader(2_000 * MS).expect("a leader");
    let b = if a == 1 { 2 } else { 1 };
    sim.set_link_kind_delay(a, b, MessageKind::Heartbeat, Some(Delay::Fixed(40 * MS)));
    let sent: Rc<RefCell<Vec<(u64, Instant)>>> = Rc::default();
    let arrived: Rc<RefCell<Vec<(u64, MessageKind, Instant)>>> = Rc::default();
    {
        let sent = Rc::clone(&sent);
        sim.on_output(Box::new(move |e| {
            if let Output::Broadcast {
                message: Message::Heartbeat { .. },
            } = e.output
            {
                sent.borrow_mut().push((e.node, e.at));
            }
        }));
        let arrived = Rc::clone(&arrived);
        sim.on_deliver(Box::new(move |d| {
            arrived
                .borrow_mut()
                .push((d.to, MessageKind::of(&d.message), d.at));
        }));
    }
    sim.run_for(500 * MS);
    sim.report().assert_ok();
    let sent = sent.borrow();
    let arrived = arrived.borrow();
    assert!(sent.len() >= 5, "{sent:?}");
    let at = |to: u64, kind: MessageKind| -> Vec<Instant> {
        arrived
            .iter()
            .filter(|x| x.0 == to && x.1 == kind)
            .map(|x| x.2)
            .collect()
    };
    let c = 6 - a - b;
    let to_b = at(b, MessageKind::Heartbeat);
    let to_c = at(c, MessageKind::Heartbeat);
    let from_a: Vec<Instant> = sent.iter().filter(|s| s.0 == a).map(|s| s.1).collect();
    for (i, t) in from_a.iter().enumerate() {
        assert_eq!(to_c.get(i), Some(&(*t + 2 * MS)), "to the other follower");
        if *t + 40 * MS <= sim.now() {
            assert_eq!(to_b.get(i), Some(&(*t + 40 * MS)), "on the slow kind");
        }
    }
    // B's answers travel at the normal speed.
    assert!(!at(a, MessageKind::HeartbeatResponse).is_empty());
    // Removing the rule restores the link's delay.
    sim.set_link_kind_delay(a, b, MessageKind::Heartbeat, None);
    sim.clear_output_hook();
}

/// A delivery filter can drop and postpone: node 3 never receives a vote request
/// (so it never grants one, and node 2 must lead), and heartbeats to node 1 arrive
/// 10 ms late.
#[test]
fn a_delivery_filter_drops_and_postpones_messages() {
    let mut sim = calm(3, Config::default());
    sim.filter_deliveries(Box::new(|d| match (d.to, d.message) {
        (3, Message::VoteRequest { .. }) => Verdict::Drop,
        (1, Message::VoteRequest { .. }) if d.from == 3 => Verdict::Drop,
        (1, Message::Heartbeat { .. }) => Verdict::Delay(10 * MS),
        _ => Verdict::Deliver,
    }));
    let heard: Rc<RefCell<Vec<Instant>>> = Rc::default();
    let sent: Rc<RefCell<Vec<Instant>>> = Rc::default();
    {
        let heard = Rc::clone(&heard);
        sim.on_deliver(Box::new(move |d| {
            if d.to == 1 && matches!(d.message, Message::Heartbeat { .. }) {
                heard.borrow_mut().push(d.at);
            }
        }));
        let sent = Rc::clone(&sent);
        sim.on_output(Box::new(move |e| {
            if matches!(
                e.output,
                Output::Broadcast {
                    message: Message::Heartbeat { .. }
                }
            ) {
                sent.borrow_mut().push(e.at);
            }
        }));
    }
    let leader = sim.run_until_stable_leader(3_000 * MS).expect("a leader");
    assert_eq!(
        leader, 2,
        "node 3 never heard a vote request, node 1 none from 3"
    );
    sim.run_for(300 * MS);
    sim.report().assert_ok();
    assert_eq!(sim.node(3).unwrap().stats().votes_granted, 0);
    assert!(sim.net_stats().dropped_filter > 0);
    assert!(sim.net_stats().delayed_filter > 0);
    let (heard, sent) = (heard.borrow(), sent.borrow());
    assert!(heard.len() >= 3);
    for t in heard.iter() {
        assert!(
            sent.iter().any(|s| *s + 12 * MS == *t),
            "a heartbeat reached node 1 at {t:?}, not 2 + 10 ms after one left"
        );
    }
    sim.clear_delivery_filter();
}

/// `next_event_time` is the time `step` processes next, so a script can stop
/// exactly at an instant without overshooting it.
#[test]
fn next_event_time_is_the_time_of_the_next_step() {
    let mut sim = calm(4, Config::default());
    for _ in 0..2_000 {
        let next = sim.next_event_time().expect("a cluster always has a timer");
        assert!(next >= sim.now());
        assert!(sim.step());
        assert_eq!(sim.now(), next);
    }
    let stop = sim.now() + 123 * MS;
    while sim.next_event_time().is_some_and(|t| t <= stop) {
        sim.step();
    }
    assert!(sim.now() <= stop);
    assert!(sim.next_event_time().unwrap() > stop);
}

/// Per-node settings and node actions inside `build_with` are never silently
/// ignored: freshness holds from time zero (and across a restart), a crash, an
/// armed mid-batch crash and a command run at time zero.
#[test]
fn per_node_settings_in_build_with_apply_at_time_zero() {
    let mut sim = SimOptions::new(5).nodes(3).trace(true).build_with(|sim| {
        sim.set_freshness(1, Freshness::new(2, 7));
        sim.set_freshness(2, Freshness::new(2, 7)); // or node 1 refuses node 2
        sim.crash(3);
        let _ = sim.command(2, Input::Campaign);
        sim.crash_during_next_write(1);
    });
    assert_eq!(sim.freshness(1), Some(Freshness::new(2, 7)));
    assert_eq!(sim.node(1).unwrap().freshness(), Freshness::new(2, 7));
    // The deferred actions run at time zero, before anything else.
    assert_eq!(sim.next_event_time(), Some(Instant::ZERO));
    sim.run_for(Duration::ZERO);
    assert!(!sim.is_up(3), "crashed at time zero");
    assert_eq!(sim.term(2), Some(Term(0)), "PreVote round first");
    assert_eq!(sim.role(2), Some(Role::PreCandidate));
    sim.run_for(100 * MS);
    // Node 1 crashed writing its vote for node 2 (its first write).
    assert!(
        !sim.is_up(1),
        "the armed crash of node 1 fired\n{}",
        sim.trace().join("\n")
    );
    sim.restart(1);
    sim.restart(3);
    assert_eq!(sim.node(1).unwrap().freshness(), Freshness::new(2, 7));
    assert!(sim.run_until_stable_leader(3_000 * MS).is_some());
    sim.report().assert_ok();
}
