//! The leader lease and the rules its proof needs, one test per rule: the lease's
//! formula, and the stickiness, restart-quarantine and campaign rules that make it
//! sound. (The simulator checks the lease end to end: `sim_lease.rs`.)

mod common;

use ballot::{CommandError, Config, ConfigError, Election, Input, Instant, Output, Role};
use common::*;
use core::time::Duration;

/// `⌊150 ms / (1 + 10,000 ppm)⌋`: the default lease window.
const WINDOW: Duration = Duration::from_nanos(148_514_851);

/// A leader of term 1 among `ids`, quarantine off (the lease is about followers).
fn leader_of(ids: &[u64]) -> (Election<u64>, Instant) {
    leader(config(), ids)
}

// ---- The formula ---------------------------------------------------------------------

#[test]
fn lease_is_none_unless_leading() {
    let n = node(config(), 1, &[1, 2, 3]);
    assert_eq!(n.lease(), None);
    let (c, _) = candidate(no_pre_vote(), &[1, 2, 3]);
    assert_eq!(c.lease(), None);
}

#[test]
fn a_new_leader_has_no_lease_until_a_quorum_acknowledged_a_heartbeat() {
    // Vote grants are no lease evidence: a voter that granted may vote again in the
    // next term at once.
    let (mut n, elected) = leader_of(&[1, 2, 3]);
    assert_eq!(n.lease(), None);
    let _ = n.step(
        recv(2, heartbeat_response_to(1, elected)),
        elected + Duration::from_millis(2),
    );
    assert_eq!(n.lease(), Some(elected + WINDOW));
}

#[test]
fn lease_runs_from_the_send_time_not_the_arrival() {
    let (mut n, elected) = leader_of(&[1, 2, 3]);
    let sent = elected + Duration::from_millis(50);
    let arrived = sent + Duration::from_millis(40);
    let _ = n.step(recv(2, heartbeat_response_to(1, sent)), arrived);
    assert_eq!(n.lease(), Some(sent + WINDOW));
}

#[test]
fn lease_is_the_quorum_minus_one_th_latest_acknowledged_send() {
    // Five voters, quorum 3: the leader and the two latest acknowledgements.
    let (mut n, elected) = leader_of(&[1, 2, 3, 4, 5]);
    let at = |d: u64| elected + Duration::from_millis(d);
    let now = at(500);
    let _ = n.step(recv(2, heartbeat_response_to(1, at(100))), now);
    assert_eq!(n.lease(), None, "two of five is not a quorum");
    let _ = n.step(recv(3, heartbeat_response_to(1, at(300))), now);
    assert_eq!(n.lease(), Some(at(100) + WINDOW));
    let _ = n.step(recv(4, heartbeat_response_to(1, at(200))), now);
    assert_eq!(n.lease(), Some(at(200) + WINDOW));
    // An older acknowledgement never moves a voter's slot back.
    let _ = n.step(recv(3, heartbeat_response_to(1, at(50))), now);
    assert_eq!(n.lease(), Some(at(200) + WINDOW));
    let _ = n.step(recv(5, heartbeat_response_to(1, at(400))), now);
    assert_eq!(n.lease(), Some(at(300) + WINDOW));
}

#[test]
fn lease_window_shrinks_by_the_drift_bound() {
    for (ppm, window) in [
        (0, 150_000_000),
        (10_000, 148_514_851),
        (50_000, 142_857_142),
    ] {
        let (mut n, elected) = leader(config().with_max_clock_drift(ppm), &[1, 2, 3]);
        let _ = n.step(recv(2, heartbeat_response_to(1, elected)), elected);
        assert_eq!(
            n.lease(),
            Some(elected + Duration::from_nanos(window)),
            "{ppm} ppm"
        );
    }
}

#[test]
fn a_reply_echoing_a_send_time_after_now_does_not_extend_the_lease() {
    let (mut n, elected) = leader_of(&[1, 2, 3]);
    let future = elected + Duration::from_secs(10);
    let _ = n.step(recv(2, heartbeat_response_to(1, future)), elected);
    assert_eq!(n.lease(), None);
    assert_eq!(n.stats().dropped_unexpected, 1);
    assert!(
        n.is_leader(),
        "the reply still counts as contact for CheckQuorum"
    );
}

#[test]
fn a_single_voter_leader_holds_an_unbounded_lease() {
    let mut n = node(config(), 1, &[1]);
    let _ = fire(&mut n);
    assert!(n.is_leader());
    assert_eq!(n.lease(), Some(Instant::MAX));
}

#[test]
fn the_lease_ends_when_the_leader_steps_down() {
    let (mut n, elected) = leader_of(&[1, 2, 3]);
    let _ = n.step(recv(2, heartbeat_response_to(1, elected)), elected);
    assert!(n.lease().is_some());
    let _ = n.step(Input::StepDown, elected);
    assert_eq!(n.lease(), None);
}

#[test]
fn the_lease_is_kept_without_check_quorum() {
    let (mut n, elected) = leader(config().with_check_quorum(false), &[1, 2, 3]);
    let _ = n.step(recv(3, heartbeat_response_to(1, elected)), elected);
    assert_eq!(n.lease(), Some(elected + WINDOW));
}

#[test]
fn a_voter_added_to_a_leader_has_acknowledged_nothing() {
    // 3 → 4 voters: the quorum grows to 3, and the new voter's contact (counted as
    // now for CheckQuorum) is no lease evidence.
    let (mut n, elected) = leader_of(&[1, 2, 3]);
    let _ = n.step(recv(2, heartbeat_response_to(1, elected)), elected);
    assert!(n.lease().is_some());
    let _ = n.step(Input::AddVoter(4), elected);
    assert_eq!(n.lease(), None);
    let _ = n.step(recv(4, heartbeat_response_to(1, elected)), elected);
    assert_eq!(n.lease(), Some(elected + WINDOW));
}

#[test]
fn max_clock_drift_above_the_limit_is_a_typed_error() {
    let config = Config::default().with_max_clock_drift(50_001);
    assert_eq!(
        config.validate(),
        Err(ConfigError::ClockDriftTooLarge {
            ppm: 50_001,
            limit: Config::MAX_CLOCK_DRIFT_LIMIT
        })
    );
    assert!(
        Config::default()
            .with_max_clock_drift(50_000)
            .validate()
            .is_ok()
    );
    assert_eq!(Config::default().max_clock_drift, 10_000);
    assert!(Config::default().restart_quarantine);
    let round_trip = Config::default()
        .with_max_clock_drift(123)
        .with_restart_quarantine(false);
    let n = Election::new(round_trip, 1, voters(&[1]), None, Instant::ZERO).unwrap();
    assert_eq!(n.config(), round_trip.with_seed(round_trip.seed));
}

// ---- Stickiness: what the lease rests on ------------------------------------------------

/// Follower 2 heard leader 1 (term 1) at 100 ms, then learned term 2 from a late
/// heartbeat reply (no leader, no vote in term 2).
fn follower_that_learned_a_newer_term() -> Election<u64> {
    let mut n = follower_of(no_pre_vote(), 2, &[1, 2, 3], 1, 1, ms(100));
    let _ = n.step(recv(3, heartbeat_response(2)), ms(110));
    assert_eq!((n.term(), n.leader(), n.voted_for()), (t(2), None, None));
    n
}

#[test]
fn a_newer_term_learned_from_a_reply_does_not_end_the_stickiness_window() {
    let mut n = follower_that_learned_a_newer_term();
    // A vote request of the very term it is now in: without the rule it would be
    // granted (no vote, no leader in term 2).
    let out = n.step(recv(3, vote_request(2)), ms(200));
    assert_eq!(out, vec![send(3, vote_response(2, false))]);
    assert_eq!(n.voted_for(), None);
    assert_eq!(n.stats().sticky_rejections, 1);
    // Once the window (150 ms after hearing the leader) is over, it may vote.
    let out = n.step(recv(3, vote_request(2)), ms(250));
    assert_eq!(
        out,
        vec![persist(2, Some(3)), send(3, vote_response(2, true))]
    );
}

#[test]
fn a_newer_term_does_not_end_the_window_for_pre_votes_either() {
    let mut n = follower_that_learned_a_newer_term();
    let out = n.step(recv(3, pre_vote_request(3)), ms(200));
    assert_eq!(out, vec![send(3, pre_vote_response(2, false))]);
    let out = n.step(recv(3, pre_vote_request(3)), ms(250));
    assert_eq!(out, vec![send(3, pre_vote_response(3, true))]);
}

#[test]
fn a_vote_already_given_is_repeated_inside_the_window() {
    // Node 2 voted for 3 in term 1, then heard leader 1 of term 1 (which won without
    // it): repeating the vote for 3 changes nothing and is allowed.
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let _ = n.step(recv(3, vote_request(1)), ms(100));
    let _ = n.step(recv(1, heartbeat(1)), ms(110));
    let out = n.step(recv(3, vote_request(1)), ms(120));
    assert_eq!(out, vec![send(3, vote_response(1, true))]);
}

#[test]
fn forgetting_a_removed_leader_keeps_the_window() {
    let mut n = follower_of(no_pre_vote(), 2, &[1, 2, 3], 1, 1, ms(100));
    let _ = n.step(Input::RemoveNode(1), ms(110));
    assert_eq!(n.leader(), None);
    let out = n.step(recv(3, vote_request(2)), ms(200));
    assert_eq!(out, vec![send(3, vote_response(2, false))]);
}

#[test]
fn the_election_timer_fires_no_earlier_than_the_window_ends() {
    // A pre-candidate forgets its leader when its round starts; that is only safe
    // because the round starts after the window.
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(100));
    assert!(n.next_deadline().unwrap() >= ms(100) + MIN);
    let (at, _) = fire(&mut n);
    assert_eq!(n.role(), Role::PreCandidate);
    assert!(at >= ms(250));
}

#[test]
fn campaign_inside_the_window_is_rejected() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(100));
    let out = n.step(Input::Campaign, ms(200));
    assert_eq!(
        out,
        vec![Output::Rejected(CommandError::Sticky { until: ms(250) })]
    );
    assert_eq!(n.role(), Role::Follower);
    let _ = n.step(Input::Campaign, ms(250));
    assert_eq!(n.role(), Role::PreCandidate);
}

// ---- Restart quarantine ---------------------------------------------------------------

fn quarantined(id: u64) -> Election<u64> {
    let config = Config::default().with_pre_vote(false);
    Election::new(
        config,
        id,
        voters(&[1, 2, 3]),
        Some(hard(1, None)),
        ms(1000),
    )
    .unwrap()
}

#[test]
fn a_restarted_node_refuses_votes_for_one_window() {
    let mut n = quarantined(2);
    let out = n.step(recv(3, vote_request(2)), ms(1149));
    assert_eq!(out, vec![send(3, vote_response(2, false))]);
    assert_eq!(n.term(), t(1), "nor does the request move its term");
    let out = n.step(recv(3, vote_request(2)), ms(1150));
    assert_eq!(
        out,
        vec![persist(2, Some(3)), send(3, vote_response(2, true))]
    );
}

#[test]
fn a_restarted_node_refuses_pre_votes_for_one_window() {
    let mut n = quarantined(2);
    let out = n.step(recv(3, pre_vote_request(2)), ms(1100));
    assert_eq!(out, vec![send(3, pre_vote_response(1, false))]);
    let out = n.step(recv(3, pre_vote_request(2)), ms(1150));
    assert_eq!(out, vec![send(3, pre_vote_response(2, true))]);
}

#[test]
fn a_restarted_node_does_not_campaign_for_one_window() {
    let mut n = quarantined(2);
    assert_eq!(
        n.step(Input::Campaign, ms(1000)),
        vec![Output::Rejected(CommandError::Sticky { until: ms(1150) })]
    );
    assert!(n.next_deadline().unwrap() >= ms(1150));
}

#[test]
fn without_the_restart_quarantine_a_restarted_node_votes_at_once() {
    let config = Config::default()
        .with_pre_vote(false)
        .with_restart_quarantine(false);
    let mut n =
        Election::new(config, 2, voters(&[1, 2, 3]), Some(hard(1, None)), ms(1000)).unwrap();
    let out = n.step(recv(3, vote_request(2)), ms(1000));
    assert_eq!(
        out,
        vec![persist(2, Some(3)), send(3, vote_response(2, true))]
    );
}
