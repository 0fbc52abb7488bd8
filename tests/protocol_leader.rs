//! Leader traffic, CheckQuorum (thesis §6.2), leader stickiness (thesis §4.2.3)
//! and StepDown: one test per rule.

mod common;

use ballot::{CommandError, Input, Instant, Output, Role};
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
        (
            elected + HEARTBEAT,
            vec![broadcast(heartbeat_at(1, elected + HEARTBEAT))]
        )
    );
    let _ = n.step(recv(2, heartbeat_response(1)), at);
    let (at, out) = fire(&mut n);
    assert_eq!(
        (at, out),
        (
            elected + HEARTBEAT * 2,
            vec![broadcast(heartbeat_at(1, elected + HEARTBEAT * 2))]
        )
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
    assert_eq!(out, vec![broadcast(heartbeat_at(1, elected + MIN))]);
    assert!(n.is_leader());
}

/// Ticks `n` at each of its deadlines until it stops leading or `until` passes;
/// returns the instant it stepped down.
fn tick_at_deadlines(n: &mut Node, until: Instant) -> Option<Instant> {
    while let Some(at) = n.next_deadline() {
        if at > until {
            return None;
        }
        let _ = n.step(Input::Tick, at);
        if !n.is_leader() {
            return Some(at);
        }
    }
    None
}

#[test]
fn check_quorum_steps_down_exactly_when_the_quorum_contact_lapses() {
    // Issue 6: CheckQuorum ran in fixed windows, so a cut-off leader kept leading for
    // 149–289 ms with 150–200 ms timeouts. Now: 5 voters, quorum 3 (itself + 2).
    // Last contacts: 2 at +10, 3 at +40, 4 at +70 ms. The quorum's contact is the
    // 2nd most recent of the others, +40 ms; it lapses at +40 ms + MIN.
    let (mut n, elected) = leader(config(), &[1, 2, 3, 4, 5]);
    for (voter, at) in [(2, 10), (3, 40), (4, 70)] {
        let _ = n.step(
            recv(voter, heartbeat_response(1)),
            elected + Duration::from_millis(at),
        );
    }
    let lapse = elected + Duration::from_millis(40) + MIN;
    assert!(n.next_deadline().unwrap() <= lapse);
    let _ = n.step(Input::Tick, lapse - Duration::from_nanos(1));
    assert!(
        n.is_leader(),
        "stepped down before the quorum's contact lapsed"
    );
    assert_eq!(tick_at_deadlines(&mut n, lapse), Some(lapse));
    assert_eq!(n.stats().check_quorum_step_downs, 1);
}

#[test]
fn check_quorum_bound_holds_wherever_the_cut_falls() {
    // A leader of 3 hears both followers one round trip (2 ms) after each heartbeat
    // until the cut at `cut`; a host that ticks at next_deadline() sees it step down
    // exactly election_timeout_min after the last contact, for every cut position.
    for cut_ms in (0..400).step_by(7) {
        let (mut n, elected) = leader(config(), &[1, 2, 3]);
        let cut = elected + Duration::from_millis(cut_ms);
        let mut last = elected; // the grants are the first contact
        loop {
            let at = n.next_deadline().unwrap();
            if at >= cut {
                break;
            }
            let out = n.step(Input::Tick, at);
            if has_heartbeat(&out) && at + Duration::from_millis(2) < cut {
                let heard = at + Duration::from_millis(2);
                let _ = n.step(recv(2, heartbeat_response(1)), heard);
                let _ = n.step(recv(3, heartbeat_response(1)), heard);
                last = heard;
            }
            assert!(n.is_leader());
        }
        let down = tick_at_deadlines(&mut n, last + MIN);
        assert_eq!(down, Some(last + MIN), "cut at +{cut_ms} ms");
    }
}

#[test]
fn check_quorum_gives_a_new_leader_one_whole_window_from_its_win() {
    // Grants at +0 (2) and +30 ms (3) in a 5-voter election won at +30 ms: every
    // voter counts as heard from at the win, so with no replies it steps down at
    // +30 ms + MIN, not earlier.
    let (mut n, start) = candidate(no_pre_vote(), &[1, 2, 3, 4, 5]);
    let _ = n.step(recv(2, vote_response(1, true)), start);
    let won = start + Duration::from_millis(30);
    let _ = n.step(recv(3, vote_response(1, true)), won);
    assert!(n.is_leader());
    assert_eq!(tick_at_deadlines(&mut n, won + MIN), Some(won + MIN));
}

#[test]
fn check_quorum_ignores_learners_contact() {
    let members = ballot::Membership::with_learners([1, 2, 3], [4]).unwrap();
    let mut n = ballot::Election::new(no_pre_vote(), 1, members, None, Instant::ZERO).unwrap();
    let (start, _) = fire(&mut n);
    let _ = n.step(recv(2, vote_response(1, true)), start);
    assert!(n.is_leader());
    let _ = n.step(
        recv(4, heartbeat_response(1)),
        start + Duration::from_millis(100),
    );
    assert_eq!(tick_at_deadlines(&mut n, start + MIN), Some(start + MIN));
}

#[test]
fn check_quorum_counts_a_new_voter_as_heard_when_added() {
    // 3 voters, contact with 2 at +0. Adding 4 makes the quorum 3 (itself + 2
    // others): 4 counts as heard at the change (+100), so the quorum's contact is
    // min(+0, +100) = +0 and lapses at +0 + MIN, not at once.
    let (mut n, elected) = leader(config(), &[1, 2, 3]);
    let _ = n.step(Input::AddVoter(4), elected + Duration::from_millis(100));
    assert!(n.is_leader(), "adding a voter did not depose the leader");
    assert_eq!(
        tick_at_deadlines(&mut n, elected + MIN),
        Some(elected + MIN)
    );
}

#[test]
fn check_quorum_rechecks_at_once_when_the_voter_set_changes() {
    // 5 voters won at +0; 2 and 3 answer at +100 ms, so the quorum's contact (2nd
    // most recent of the others) is +100, lapsing at +250. At +200, 3 is removed:
    // among {2, 4, 5} the 2nd most recent contact is the win, +0, which lapsed at
    // +150 — the leader steps down in that very step, not at +250.
    let (mut n, elected) = leader(config(), &[1, 2, 3, 4, 5]);
    let at = |ms: u64| elected + Duration::from_millis(ms);
    let _ = n.step(recv(2, heartbeat_response(1)), at(100));
    let _ = n.step(recv(3, heartbeat_response(1)), at(100));
    assert_eq!(tick_at_deadlines(&mut n, at(199)), None);
    let out = n.step(Input::RemoveNode(3), at(200));
    assert!(!n.is_leader(), "{out:?}");
    assert_eq!(n.stats().check_quorum_step_downs, 1);
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
        let (at, out) = fire(&mut n);
        assert_eq!(out, vec![broadcast(heartbeat_at(1, at))]);
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
    assert_eq!(out, vec![send(3, pre_vote_response(1, false))]);
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
