//! Time, randomness and determinism: the election timeout is drawn uniformly in
//! [min, max) from a seeded per-node stream, redrawn on role changes and when the
//! timer fires, kept by heartbeats and vote grants; `now` is clamped; same
//! inputs ⇒ same outputs.

mod common;

use ballot::{
    CommandError, Config, ConfigError, Election, Freshness, Input, Instant, Output, Role,
};
use common::*;
use core::time::Duration;

/// A learner never campaigns, so its election timer just fires and is redrawn:
/// the successive timeouts it draws.
fn drawn_timeouts(config: Config, id: u64, count: usize) -> Vec<Duration> {
    let mut n = Election::new(config, id, members(&[1, 2, 3], &[id]), None, Instant::ZERO).unwrap();
    let mut last = Instant::ZERO;
    let mut drawn = Vec::new();
    for _ in 0..count {
        let deadline = n.next_deadline().unwrap();
        drawn.push(deadline - last);
        let out = n.step(Input::Tick, deadline);
        assert_eq!(out, vec![], "a learner's timeout does nothing visible");
        last = deadline;
    }
    drawn
}

#[test]
fn election_timeout_is_drawn_within_min_max() {
    let drawn = drawn_timeouts(config(), 9, 500);
    for d in &drawn {
        assert!(*d >= MIN && *d < MAX, "{d:?} outside [150ms, 300ms)");
    }
    // Uniform over [150, 300): both halves of the range are hit.
    assert!(drawn.iter().any(|d| *d < Duration::from_millis(225)));
    assert!(drawn.iter().any(|d| *d >= Duration::from_millis(225)));
}

#[test]
fn election_timeout_max_is_exclusive() {
    let min = Duration::from_millis(150);
    let config = Config::default().with_election_timeout(min, min + Duration::from_nanos(1));
    for d in drawn_timeouts(config, 9, 50) {
        assert_eq!(d, min);
    }
}

#[test]
fn election_timeout_is_redrawn_when_the_timer_fires() {
    let drawn = drawn_timeouts(config(), 9, 20);
    let mut distinct = drawn.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 15, "timeouts are not redrawn: {drawn:?}");
}

#[test]
fn election_timeout_differs_per_node_with_the_same_seed() {
    let first: Vec<Instant> = (1..=5)
        .map(|id| {
            node(config(), id, &[1, 2, 3, 4, 5])
                .next_deadline()
                .unwrap()
        })
        .collect();
    let mut distinct = first.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "same seed, same timeouts: {first:?}");
}

#[test]
fn election_timeout_differs_per_seed() {
    let a = drawn_timeouts(config().with_seed(1), 9, 5);
    let b = drawn_timeouts(config().with_seed(2), 9, 5);
    assert_ne!(a, b);
}

#[test]
fn election_timeout_is_reproducible_from_seed_and_id() {
    assert_eq!(
        drawn_timeouts(config().with_seed(7), 9, 30),
        drawn_timeouts(config().with_seed(7), 9, 30)
    );
}

#[test]
fn role_change_redraws_the_election_timeout() {
    let mut n = node(no_pre_vote(), 1, &[1, 2, 3]);
    let first = n.next_deadline().unwrap() - Instant::ZERO;
    let (now, _) = fire(&mut n);
    assert_eq!(n.role(), Role::Candidate);
    let second = n.next_deadline().unwrap() - now;
    assert!(second >= MIN && second < MAX);
    assert_ne!(first, second, "the candidate kept the follower's timeout");
}

#[test]
fn candidate_meeting_a_newer_term_keeps_the_timer_of_its_round() {
    // The requester is staler than us, so no vote restarts the countdown: only the rule
    // under test decides the deadline.
    let mut n = node(no_pre_vote(), 1, &[1, 2, 3]);
    let _ = n.step(Input::SetFreshness(Freshness::new(1, 9)), ms(0));
    let (now, _) = fire(&mut n);
    assert_eq!(n.role(), Role::Candidate);
    let deadline = n.next_deadline();
    let request = vote_request_with(5, false, Freshness::new(1, 1));
    let _ = n.step(recv(2, request), now + Duration::from_millis(30));
    assert_eq!((n.role(), n.term()), (Role::Follower, t(5)));
    assert_eq!(n.next_deadline(), deadline);
}

#[test]
fn deposed_leader_draws_a_fresh_election_timeout() {
    let (mut n, now) = leader(no_pre_vote(), &[1, 2, 3]);
    let later = now + Duration::from_millis(10);
    let _ = n.step(recv(2, heartbeat_response(9)), later);
    assert_eq!(n.role(), Role::Follower);
    let wait = n.next_deadline().unwrap() - later;
    assert!(wait >= MIN && wait < MAX, "{wait:?}");
}

#[test]
fn heartbeat_restarts_the_countdown_with_the_same_drawn_timeout() {
    let mut n = node(config(), 2, &[1, 2, 3]);
    let timeout = n.next_deadline().unwrap() - Instant::ZERO;
    let _ = n.step(recv(1, heartbeat(1)), ms(100));
    assert_eq!(n.next_deadline(), Some(ms(100) + timeout));
    let _ = n.step(recv(1, heartbeat(1)), ms(180));
    assert_eq!(n.next_deadline(), Some(ms(180) + timeout));
}

#[test]
fn early_tick_is_a_no_op() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let before = snapshot(&n);
    let deadline = n.next_deadline().unwrap();
    let out = n.step(Input::Tick, deadline - Duration::from_nanos(1));
    assert_eq!(out, vec![]);
    assert_eq!(snapshot(&n), before);
}

#[test]
fn tick_at_the_deadline_fires() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let (_, out) = fire(&mut n);
    assert_eq!(n.role(), Role::PreCandidate);
    assert!(!out.is_empty());
}

#[test]
fn now_earlier_than_before_is_clamped_and_counted() {
    let mut n = node(config(), 2, &[1, 2, 3]);
    let timeout = n.next_deadline().unwrap() - Instant::ZERO;
    let _ = n.step(recv(1, heartbeat(1)), ms(100));
    assert_eq!(n.stats().clamped_now, 0);
    // Time goes backwards: the heartbeat is taken as arriving at 100ms, not 40ms.
    let _ = n.step(recv(1, heartbeat(1)), ms(40));
    assert_eq!(n.stats().clamped_now, 1);
    assert_eq!(n.next_deadline(), Some(ms(100) + timeout));
    // The same time again is not "earlier".
    let _ = n.step(Input::Tick, ms(100));
    assert_eq!(n.stats().clamped_now, 1);
}

#[test]
fn a_now_past_the_usable_range_changes_nothing_and_is_not_remembered() {
    // Issue 6: one `now` near Instant::MAX used to wedge a node for good — deadlines
    // saturated at MAX - 1, below the clamped `now`, so every later tick started
    // another round (a leader failed CheckQuorum on every tick).
    let limit = Instant::from_nanos(u64::MAX - MAX.as_nanos() as u64);
    for late in [limit, Instant::MAX - Duration::from_millis(1), Instant::MAX] {
        let (mut leader, elected) = leader(config(), &[1, 2, 3]);
        let before = snapshot(&leader);
        assert_eq!(leader.step(Input::Tick, late), vec![]);
        assert_eq!(leader.step(recv(2, heartbeat_response(1)), late), vec![]);
        assert_eq!(
            leader.step(Input::StepDown, late),
            vec![Output::Rejected(CommandError::ClockOutOfRange {
                now: late
            })]
        );
        assert_eq!(
            snapshot(&leader),
            before,
            "an unusable `now` changed the node"
        );
        assert_eq!(leader.stats().clock_out_of_range, 3);
        assert_eq!(leader.stats().clamped_now, 0);
        // The node keeps working with sane times afterwards: it heartbeats, and is
        // not clamped to the broken reading.
        let out = leader.step(Input::Tick, elected + HEARTBEAT);
        assert_eq!(out, vec![broadcast(heartbeat_at(1, elected + HEARTBEAT))]);
        assert!(leader.is_leader());
        assert_eq!(leader.stats().clamped_now, 0);
    }
    // The last usable instant works, and its deadlines stay below Instant::MAX.
    let mut n = node(config(), 1, &[1, 2, 3]);
    let last = Instant::from_nanos(u64::MAX - MAX.as_nanos() as u64 - 1);
    let _ = n.step(Input::Tick, last);
    assert_eq!(n.role(), Role::PreCandidate);
    let deadline = n.next_deadline().unwrap();
    assert!(deadline > last && deadline < Instant::MAX);
    // A node cannot be created at an unusable time.
    assert!(matches!(
        Election::new(config(), 1, voters(&[1, 2, 3]), None, limit),
        Err(ConfigError::ClockOutOfRange { .. })
    ));
}

#[test]
fn a_timer_is_always_armed() {
    let (mut leader, now) = leader(config(), &[1, 2, 3]);
    assert!(leader.next_deadline().is_some());
    let _ = leader.step(Input::StepDown, now);
    assert!(leader.next_deadline().is_some());
    let mut follower = node(config(), 2, &[1, 2, 3]);
    assert!(follower.next_deadline().is_some());
    let _ = follower.step(recv(1, heartbeat(1)), ms(1));
    assert!(follower.next_deadline().is_some());
}

/// A fixed script of inputs touching every part of the protocol.
fn script() -> Vec<(Input<u64>, Instant)> {
    vec![
        (Input::Tick, ms(400)),
        (recv(2, pre_vote_response(1, true)), ms(401)),
        (recv(3, vote_response(1, true)), ms(402)),
        (recv(2, heartbeat_response(1)), ms(420)),
        (Input::Tick, ms(460)),
        (Input::AddLearner(4), ms(470)),
        (recv(4, heartbeat_response(1)), ms(471)),
        (Input::Tick, ms(700)),
        (Input::Tick, ms(1_000)),
        (recv(3, pre_vote_request(2)), ms(1_001)),
        (recv(2, vote_request(2)), ms(1_002)),
        (Input::Tick, ms(1_500)),
        (Input::Campaign, ms(1_501)),
        (recv(2, pre_vote_response(3, true)), ms(1_502)),
        (Input::StepDown, ms(1_503)),
        (Input::Tick, ms(3_000)),
    ]
}

fn run(seed: u64) -> (Vec<Out>, Vec<Option<Instant>>, ballot::Stats) {
    let mut n = node(config().with_seed(seed), 1, &[1, 2, 3]);
    let mut outs = Vec::new();
    let mut deadlines = Vec::new();
    for (input, now) in script() {
        outs.push(n.step(input, now));
        deadlines.push(n.next_deadline());
    }
    (outs, deadlines, n.stats())
}

#[test]
fn same_config_seed_and_inputs_give_identical_outputs() {
    let a = run(11);
    let b = run(11);
    assert_eq!(a, b);
    // The script really exercises the node: it was elected and stepped down.
    assert!(a.2.elections_won >= 1, "{:?}", a.2);
    // And the seed matters (the deadlines differ), so the equality above is not vacuous.
    assert_ne!(a.1, run(12).1);
}

#[test]
fn step_into_appends_exactly_what_step_returns() {
    let mut a = node(config(), 1, &[1, 2, 3]);
    let mut b = node(config(), 1, &[1, 2, 3]);
    let mut buffer: Out = vec![Output::Rejected(ballot::CommandError::NotLeader)];
    let mut expected = buffer.clone();
    for (input, now) in script() {
        expected.extend(a.step(input.clone(), now));
        b.step_into(input, now, &mut buffer);
    }
    assert_eq!(buffer, expected);
}
