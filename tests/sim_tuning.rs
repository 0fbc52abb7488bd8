//! The per-node and per-link settings of the simulator: configurations that take
//! effect at the next (re)start, scripted clocks, and one link's delay or loss.
#![cfg(feature = "sim")]

use std::time::Duration;

use ballot::sim::{Action, Delay, SimOptions};
use ballot::{Config, Instant};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

#[test]
fn a_node_config_applies_from_the_next_restart_and_can_be_cleared() {
    let mut sim = SimOptions::new(1).nodes(3).build();
    let plain = sim.node(2).unwrap().config();
    let custom = Config::default().with_pre_vote(false);
    assert!(
        sim.set_config(2, Config::default().with_min_voters(0))
            .is_err()
    );
    sim.set_config(2, custom).unwrap();
    assert_eq!(sim.config_of(2), custom);
    assert_eq!(sim.node(2).unwrap().config(), plain, "not before a restart");
    sim.crash(2);
    sim.restart(2);
    assert!(!sim.node(2).unwrap().config().pre_vote);
    sim.clear_config(2);
    sim.crash(2);
    sim.restart(2);
    assert!(sim.node(2).unwrap().config().pre_vote);
    assert!(sim.run_until_stable_leader(5 * SEC).is_some());
    sim.report().assert_ok();
}

#[test]
fn a_scripted_clock_sets_local_time_now_and_for_new_nodes() {
    let mut sim = SimOptions::new(2).nodes(2).build_with(|s| {
        s.set_clock(3, 7 * SEC, 0); // not started yet
    });
    sim.run_for(SEC);
    assert_eq!(sim.local_time(1), Some(Instant::from_secs(1)));
    sim.set_clock(1, 10 * SEC, 100_000); // 10 % fast, from a 10 s origin
    assert_eq!(sim.local_time(1), Some(Instant::from_millis(11_100)));
    sim.at(Instant::from_secs(2), Action::AddVoter(3));
    sim.run_for(SEC);
    assert_eq!(sim.local_time(3), Some(Instant::from_secs(9)));
    assert_eq!(sim.local_time(4), None);
    assert!(sim.run_until_stable_leader(5 * SEC).is_some());
    sim.report().assert_ok();
}

/// For each heartbeat `peer` received in `[from, from + 500 ms)`, how far the
/// nearest arrival of a heartbeat at `third` was: the least and the most.
fn lag(seen: &[(Instant, u64)], from: Instant, peer: u64, third: u64) -> (Duration, Duration) {
    let window = from.as_nanos()..from.as_nanos() + 500_000_000;
    let at = |n| {
        seen.iter()
            .filter(move |(_, to)| *to == n)
            .map(|(t, _)| t.as_nanos())
    };
    let nearest = |p: u64| at(third).map(|t| p.abs_diff(t)).min().unwrap();
    let gaps: Vec<u64> = at(peer)
        .filter(|p| window.contains(p))
        .map(nearest)
        .collect();
    let (min, max) = (gaps.iter().min().unwrap(), gaps.iter().max().unwrap());
    (Duration::from_nanos(*min), Duration::from_nanos(*max))
}

#[test]
fn one_link_can_be_slow_or_lossy_and_go_back_to_normal() {
    use std::{cell::RefCell, rc::Rc};
    let mut sim = SimOptions::new(3).nodes(3).build();
    let leader = sim.run_until_stable_leader(5 * SEC).unwrap();
    let term = sim.term(leader);
    let peer = if leader == 1 { 2 } else { 1 };
    let third = 6 - leader - peer;
    let seen: Rc<RefCell<Vec<(Instant, u64)>>> = Rc::default();
    let sink = Rc::clone(&seen);
    sim.on_deliver(Box::new(move |d| {
        if matches!(d.message, ballot::Message::Heartbeat { .. }) {
            sink.borrow_mut().push((d.at, d.to));
        }
    }));
    // Every message from the leader to `peer` lost: `peer` times out, but the third
    // node hears the leader and refuses its pre-votes.
    sim.set_link_loss(leader, peer, Some(1_000_000));
    sim.run_for(2 * SEC);
    assert!(sim.node(peer).unwrap().stats().pre_votes_started > 0);
    // Loss back to normal; a fixed 25 ms one way instead: slow, inside the timeouts
    // (heartbeats every 50 ms reach `peer` half-way between two at `third`).
    sim.set_link_loss(leader, peer, None);
    sim.set_link_delay(leader, peer, Delay::Fixed(25 * MS));
    let slow = sim.now() + 100 * MS;
    sim.run_for(SEC);
    sim.clear_link_delay(leader, peer);
    let fast = sim.now() + 100 * MS;
    sim.run_for(SEC);
    assert!(lag(&seen.borrow(), slow, peer, third).0 > 15 * MS);
    assert!(lag(&seen.borrow(), fast, peer, third).1 < 3 * MS);
    assert_eq!(
        (sim.stable_leader(), sim.term(leader)),
        (Some(leader), term)
    );
    sim.report().assert_ok();
}
