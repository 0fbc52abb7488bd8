//! Leader traffic, CheckQuorum (thesis §6.2), leader stickiness (thesis §4.2.3)
//! and StepDown: one test per rule.

mod common;

use ballot::{CommandError, Input, Output, Role};
use common::*;
use core::time::Duration;

fn has_heartbeat(out: &[Output<u64>]) -> bool {
    out.iter().any(|o| {
        matches!(
            o,
            Output::Broadcast {
                message: ballot::Message::Heartbeat { .. }
            }
        )
    })
}

// ---- Heartbeats ---------------------------------------------------------------------

#[test]
fn leader_heartbeats_every_heartbeat_interval() {
    let (mut n, elected) = leader(config(), &[1, 2, 3]);
    assert_eq!(n.next_deadline(), Some(elected + HEARTBEAT));
    let (at, out) = fire(&mut n);
    assert_eq!(
        (at, out),
        (elected + HEARTBEAT, vec![broadcast(heartbeat(1))])
    );
    let _ = n.step(recv(2, heartbeat_response(1)), at);
    let (at, out) = fire(&mut n);
    assert_eq!(
        (at, out),
        (elected + HEARTBEAT * 2, vec![broadcast(heartbeat(1))])
    );
}

#[test]
fn follower_learns_the_leader_from_its_heartbeat_and_answers() {
    let mut n = node(config(), 2, &[1, 2, 3]);
    let out = n.step(recv(1, heartbeat(1)), ms(10));
    // The follower never voted in term 1: following is recorded as its vote.
    assert_eq!(
        out,
        vec![
            persist(1, Some(1)),
            send(1, heartbeat_response(1)),
            leader_changed(Some(1), 1),
        ]
    );
    assert_eq!(n.leader(), Some(1));
}

#[test]
fn heartbeat_reply_in_a_new_term_comes_after_the_persist_of_that_term() {
    let mut n = restarted(config(), 2, &[1, 2, 3], hard(4, Some(3)));
    let out = n.step(recv(1, heartbeat(6)), ms(10));
    let persisted = position(&out, |o| *o == persist(6, Some(1))).expect("persist");
    let answered = position(&out, |o| *o == send(1, heartbeat_response(6))).expect("reply");
    assert!(persisted < answered, "{out:?}");
}

#[test]
fn heartbeats_from_the_leader_keep_a_follower_from_campaigning() {
    let mut n = node(config(), 2, &[1, 2, 3]);
    for i in 0..100 {
        let now = ms(i * 50);
        let _ = n.step(recv(1, heartbeat(1)), now);
        let out = n.step(Input::Tick, now + Duration::from_millis(49));
        assert_eq!(out, vec![]);
    }
    assert_eq!(n.role(), Role::Follower);
    assert_eq!(n.stats().pre_votes_started, 0);
}

#[test]
fn follower_that_stops_hearing_the_leader_campaigns() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let (at, out) = fire(&mut n);
    assert!(at >= ms(150) && at < ms(300));
    assert!(out.contains(&broadcast(pre_vote_request(2))));
}

#[test]
fn heartbeat_of_a_higher_term_makes_a_leader_follower() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    let out = n.step(recv(2, heartbeat(2)), now);
    assert_eq!(
        out,
        vec![
            persist(2, Some(2)),
            send(2, heartbeat_response(2)),
            role_changed(Role::Follower, 2),
            leader_changed(Some(2), 2),
        ]
    );
}

#[test]
fn lower_term_heartbeat_is_answered_with_our_term() {
    let mut n = restarted(config(), 2, &[1, 2, 3], hard(3, None));
    let before = snapshot(&n);
    let out = n.step(recv(1, heartbeat(1)), ms(10));
    assert_eq!(out, vec![send(1, heartbeat_response(3))]);
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().dropped_stale, 1);
}

#[test]
fn stale_leader_converges_on_a_lower_term_heartbeat_reply() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    let out = n.step(recv(2, heartbeat_response(3)), now);
    assert_eq!(
        out,
        vec![
            persist(3, None),
            role_changed(Role::Follower, 3),
            leader_changed(None, 3),
        ]
    );
}

#[test]
fn second_leader_of_the_same_term_is_ignored() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let before = snapshot(&n);
    let out = n.step(recv(3, heartbeat(1)), ms(10));
    assert_eq!(out, vec![]);
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().dropped_unexpected, 1);
}

#[test]
fn following_a_leader_is_as_durable_as_voting_for_it() {
    // A follower that never voted in term 1 learns its leader from a heartbeat; after a
    // restart (which forgets the leader) it must still refuse another candidate of term 1.
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let out = n.step(recv(1, heartbeat(1)), ms(10));
    let durable = persists(&out);
    assert_eq!(durable, vec![hard(1, Some(1))]);
    let mut n = restarted(no_pre_vote(), 2, &[1, 2, 3], durable[0]);
    assert_eq!(n.leader(), None);
    let out = n.step(recv(3, vote_request(1)), ms(500));
    assert_eq!(out, vec![send(3, vote_response(1, false))]);
}

#[test]
fn a_follower_that_voted_keeps_its_vote_when_another_node_leads() {
    // Its vote for 3 stands; it follows 1 without pretending to have voted for it.
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let _ = n.step(recv(3, vote_request(1)), ms(10));
    let out = n.step(recv(1, heartbeat(1)), ms(20));
    assert!(persists(&out).is_empty(), "{out:?}");
    assert_eq!((n.voted_for(), n.leader()), (Some(3), Some(1)));
}

#[test]
fn leader_ignores_a_heartbeat_of_its_own_term() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    assert_eq!(n.step(recv(2, heartbeat(1)), now), vec![]);
    assert!(n.is_leader());
}

#[test]
fn leader_changed_reports_the_same_leader_in_a_new_term() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let out = n.step(recv(1, heartbeat(2)), ms(10));
    assert_eq!(
        out,
        vec![
            persist(2, Some(1)),
            send(1, heartbeat_response(2)),
            leader_changed(Some(1), 2),
        ]
    );
}

#[test]
fn heartbeat_reply_to_a_non_leader_is_dropped() {
    let mut n = node(config(), 2, &[1, 2, 3]);
    assert_eq!(n.step(recv(1, heartbeat_response(0)), ms(1)), vec![]);
    assert_eq!(n.stats().dropped_unexpected, 1);
}

// ---- CheckQuorum ----------------------------------------------------------------------

#[test]
fn check_quorum_leader_without_quorum_contact_steps_down() {
    let (mut n, elected) = leader(config(), &[1, 2, 3]);
    let _ = n.step(Input::Tick, elected + HEARTBEAT);
    let _ = n.step(Input::Tick, elected + HEARTBEAT * 2);
    assert!(n.is_leader());
    let out = n.step(Input::Tick, elected + MIN);
    assert_eq!(
        out,
        vec![role_changed(Role::Follower, 1), leader_changed(None, 1)]
    );
    assert_eq!(n.stats().check_quorum_step_downs, 1);
    assert_eq!(n.term(), t(1), "stepping down does not change the term");
}

#[test]
fn check_quorum_leader_with_quorum_contact_stays() {
    let (mut n, elected) = leader(config(), &[1, 2, 3]);
    let _ = n.step(recv(3, heartbeat_response(1)), elected + HEARTBEAT);
    let out = n.step(Input::Tick, elected + MIN);
    assert_eq!(out, vec![broadcast(heartbeat(1))]);
    assert!(n.is_leader());
}

#[test]
fn check_quorum_period_is_the_minimum_election_timeout() {
    let (mut n, elected) = leader(config(), &[1, 2, 3]);
    let _ = n.step(recv(2, heartbeat_response(1)), elected);
    // First period: contact, kept. Second period: silence, steps down at its end exactly.
    let _ = n.step(Input::Tick, elected + MIN);
    assert!(n.is_leader());
    let _ = n.step(Input::Tick, elected + MIN * 2 - Duration::from_nanos(1));
    assert!(n.is_leader(), "stepped down before the period ended");
    let _ = n.step(Input::Tick, elected + MIN * 2);
    assert!(
        !n.is_leader(),
        "contact from an earlier period kept the leader"
    );
}

#[test]
fn check_quorum_counts_distinct_voters_only() {
    let mut n = ballot::Election::new(
        no_pre_vote(),
        1,
        members(&[1, 2, 3, 4, 5], &[6]),
        None,
        ms(0),
    )
    .unwrap();
    let (elected, _) = fire(&mut n);
    let _ = n.step(recv(2, vote_response(1, true)), elected);
    let _ = n.step(recv(3, vote_response(1, true)), elected);
    assert!(n.is_leader());
    // Voter 2 twice and learner 6: two distinct voters with the leader, short of 3.
    let _ = n.step(recv(2, heartbeat_response(1)), elected + HEARTBEAT);
    let _ = n.step(recv(2, heartbeat_response(1)), elected + HEARTBEAT);
    let _ = n.step(recv(6, heartbeat_response(1)), elected + HEARTBEAT);
    let _ = n.step(Input::Tick, elected + MIN);
    assert!(!n.is_leader());
}

#[test]
fn check_quorum_ignores_heartbeat_replies_of_an_older_term() {
    let (mut n, elected) = leader(config(), &[1, 2, 3]);
    let _ = n.step(recv(2, heartbeat_response(0)), elected + HEARTBEAT);
    let _ = n.step(Input::Tick, elected + MIN);
    assert!(!n.is_leader());
}

#[test]
fn leader_without_check_quorum_never_steps_down_on_silence() {
    let (mut n, _) = leader(config().with_check_quorum(false), &[1, 2, 3]);
    for _ in 0..200 {
        let (_, out) = fire(&mut n);
        assert_eq!(out, vec![broadcast(heartbeat(1))]);
    }
    assert!(n.is_leader());
}

#[test]
fn deposed_leader_stops_sending_heartbeats() {
    let (mut n, elected) = leader(config(), &[1, 2, 3]);
    let _ = n.step(Input::Tick, elected + MIN);
    assert_eq!(n.role(), Role::Follower);
    let mut fired = 0;
    while n.role() == Role::Follower {
        let (_, out) = fire(&mut n);
        assert!(
            !has_heartbeat(&out),
            "a deposed leader sent leader traffic: {out:?}"
        );
        fired += 1;
    }
    assert_eq!(fired, 1, "its next wake-up is its election timeout");
}

// ---- Stickiness ---------------------------------------------------------------------------

#[test]
fn sticky_follower_rejects_a_higher_term_vote_request_without_changing_state() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let before = snapshot(&n);
    let out = n.step(recv(3, vote_request(2)), ms(100));
    assert_eq!(out, vec![send(3, vote_response(2, false))]);
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().sticky_rejections, 1);
}

#[test]
fn leader_rejects_a_higher_term_vote_request() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    let out = n.step(recv(3, vote_request(2)), now + MAX * 10);
    assert_eq!(out, vec![send(3, vote_response(2, false))]);
    assert_eq!((n.role(), n.term()), (Role::Leader, t(1)));
    assert_eq!(n.stats().sticky_rejections, 1);
}

#[test]
fn stickiness_ends_after_the_minimum_election_timeout() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let out = n.step(recv(3, vote_request(2)), ms(150));
    assert_eq!(
        out,
        vec![
            persist(2, Some(3)),
            send(3, vote_response(2, true)),
            leader_changed(None, 2),
        ]
    );
}

#[test]
fn heartbeat_from_the_current_leader_refreshes_stickiness() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let _ = n.step(recv(1, heartbeat(1)), ms(100));
    let out = n.step(recv(3, pre_vote_request(2)), ms(200));
    assert_eq!(out, vec![send(3, pre_vote_response(2, false))]);
}

#[test]
fn only_the_current_leader_refreshes_stickiness() {
    // Follower of leader 1 in term 2, heard at 0. A deposed leader of term 1 and a
    // rogue second "leader" of term 2 keep sending heartbeats; neither may keep the
    // follower sticky past 150ms.
    let mut n = follower_of(config(), 2, &[1, 2, 3, 4], 1, 2, ms(0));
    let out = n.step(recv(3, heartbeat(1)), ms(100));
    assert_eq!(out, vec![send(3, heartbeat_response(2))]);
    let out = n.step(recv(4, heartbeat(2)), ms(120));
    assert_eq!(out, vec![]);
    let out = n.step(recv(4, pre_vote_request(3)), ms(160));
    assert_eq!(out, vec![send(4, pre_vote_response(3, true))]);
}

#[test]
fn voter_that_never_heard_a_leader_is_not_sticky() {
    let mut n = node(config(), 2, &[1, 2, 3]);
    let out = n.step(recv(3, pre_vote_request(1)), ms(1));
    assert_eq!(out, vec![send(3, pre_vote_response(1, true))]);
    assert_eq!(n.stats().sticky_rejections, 0);
}

// ---- StepDown ------------------------------------------------------------------------------

#[test]
fn step_down_makes_the_leader_a_follower_in_the_same_term() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    let out = n.step(Input::StepDown, now);
    assert_eq!(
        out,
        vec![role_changed(Role::Follower, 1), leader_changed(None, 1)]
    );
    assert_eq!((n.term(), n.voted_for()), (t(1), Some(1)));
    let timeout = n.next_deadline().unwrap() - now;
    assert!(timeout >= MIN && timeout < MAX);
}

#[test]
fn step_down_is_rejected_when_not_leader() {
    for mut n in [
        node(config(), 1, &[1, 2, 3]),
        candidate(no_pre_vote(), &[1, 2, 3]).0,
    ] {
        let before = snapshot(&n);
        let out = n.step(Input::StepDown, ms(1));
        assert_eq!(out, vec![Output::Rejected(CommandError::NotLeader)]);
        assert_eq!(snapshot(&n), before);
        assert_eq!(n.stats().commands_rejected, 1);
    }
}

#[test]
fn stepped_down_leader_stops_sending_heartbeats() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    let _ = n.step(Input::StepDown, now);
    let (_, out) = fire(&mut n);
    assert!(!has_heartbeat(&out), "{out:?}");
    // Its next wake-up is its election timeout (`leader()` turns PreVote off).
    assert_eq!(n.role(), Role::Candidate);
}
