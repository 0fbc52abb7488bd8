//! Preferred leaders (priority), non-leading voters (witnesses) and `ForgetLeader`:
//! one test per rule.

mod common;

use ballot::{CommandError, Config, Freshness, Input, Instant, Output, Role, TransferFailure};
use common::*;
use core::time::Duration;

/// The priority hold-off at the default timeouts: 10 × 300 ms.
fn hold_off() -> Duration {
    MAX * Config::PRIORITY_HOLD_OFF
}

fn standing(priority: u8, freshness: Freshness, witness: bool) -> ballot::Message {
    heartbeat_response_with(1, Instant::ZERO, freshness, priority, witness)
}

fn transfer_started(out: &[Output<u64>]) -> Option<u64> {
    out.iter().find_map(|o| match o {
        Output::TransferStarted { to, .. } => Some(*to),
        _ => None,
    })
}

/// A leader of 1..=3 with CheckQuorum off (the tests jump seconds ahead without
/// delivering every heartbeat reply).
fn leader3() -> (Node, Instant) {
    leader(config().with_check_quorum(false), &[1, 2, 3])
}

// ---- Priority --------------------------------------------------------------------------

#[test]
fn a_stable_leader_hands_over_to_a_higher_priority_voter_after_the_hold_off() {
    let (mut n, won) = leader3();
    let out = n.step(
        recv(3, standing(5, Freshness::default(), false)),
        won + hold_off(),
    );
    assert_eq!(transfer_started(&out), Some(3), "{out:?}");
    assert!(out.contains(&send(3, timeout_now(1))), "{out:?}");
}

#[test]
fn a_new_leader_does_not_hand_over_for_priority_before_the_hold_off() {
    let (mut n, won) = leader3();
    let just_before = won + hold_off() - Duration::from_nanos(1);
    let out = n.step(
        recv(3, standing(5, Freshness::default(), false)),
        just_before,
    );
    assert_eq!(transfer_started(&out), None, "{out:?}");
}

#[test]
fn no_priority_hand_over_to_a_voter_that_is_less_fresh_or_a_witness() {
    let (mut n, won) = leader3();
    let at = won + hold_off();
    let _ = n.step(Input::SetFreshness(Freshness::new(2, 2)), at);
    let out = n.step(recv(3, standing(5, Freshness::new(2, 1), false)), at);
    assert_eq!(transfer_started(&out), None, "{out:?}");
    let out = n.step(recv(2, standing(5, Freshness::new(2, 2), true)), at);
    assert_eq!(transfer_started(&out), None, "{out:?}");
}

#[test]
fn equal_or_lower_priority_never_triggers_a_hand_over() {
    let (mut n, won) = leader(
        config().with_check_quorum(false).with_priority(3),
        &[1, 2, 3],
    );
    let at = won + hold_off();
    let out = n.step(recv(2, standing(3, Freshness::default(), false)), at);
    assert_eq!(transfer_started(&out), None, "{out:?}");
    let out = n.step(recv(3, standing(1, Freshness::default(), false)), at);
    assert_eq!(transfer_started(&out), None, "{out:?}");
}

#[test]
fn after_a_failed_priority_hand_over_the_next_waits_a_whole_hold_off() {
    let (mut n, won) = leader3();
    let first = won + hold_off();
    let _ = n.step(recv(3, standing(5, Freshness::default(), false)), first);
    // The target never wins: the transfer times out.
    let mut out = Vec::new();
    let mut gave_up = first;
    for _ in 0..100 {
        if out
            .iter()
            .any(|o| matches!(o, Output::TransferFailed { .. }))
        {
            break;
        }
        (gave_up, out) = fire(&mut n);
    }
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::TransferFailed { .. })),
        "the transfer was never abandoned"
    );
    assert!(n.is_leader());
    let soon = gave_up + hold_off() - Duration::from_nanos(1);
    let out = n.step(recv(3, standing(5, Freshness::default(), false)), soon);
    assert_eq!(transfer_started(&out), None, "{out:?}");
    let out = n.step(
        recv(3, standing(5, Freshness::default(), false)),
        gave_up + hold_off(),
    );
    assert_eq!(transfer_started(&out), Some(3), "{out:?}");
}

#[test]
fn a_heartbeat_reply_carries_the_followers_priority_freshness_and_witness_flag() {
    let cfg = config().with_priority(7).with_witness(true);
    let mut f = follower_of(cfg, 2, &[1, 2, 3], 1, 1, ms(0));
    let _ = f.step(Input::SetFreshness(Freshness::new(1, 4)), ms(1));
    let out = f.step(recv(1, heartbeat(1)), ms(2));
    assert_eq!(out, vec![send(1, standing(7, Freshness::new(1, 4), true))]);
}

// ---- Witness ---------------------------------------------------------------------------

#[test]
fn a_witness_never_campaigns_when_its_election_timer_fires() {
    let mut w = node(config().with_witness(true), 1, &[1, 2, 3]);
    for _ in 0..5 {
        let (_, out) = fire(&mut w);
        assert_eq!(out, vec![], "a witness campaigned");
    }
    assert_eq!(w.role(), Role::Follower);
    assert_eq!(w.stats().pre_votes_started, 0);
}

#[test]
fn campaign_on_a_witness_is_rejected() {
    let mut w = node(config().with_witness(true), 1, &[1, 2, 3]);
    let out = w.step(Input::Campaign, ms(1));
    assert_eq!(out, vec![Output::Rejected(CommandError::Witness)]);
}

#[test]
fn a_witness_votes_and_its_vote_counts_towards_the_quorum() {
    let mut w = node(config().with_witness(true), 3, &[1, 2, 3]);
    let out = w.step(recv(1, vote_request(1)), ms(1));
    assert_eq!(
        out,
        vec![persist(1, Some(1)), send(1, vote_response(1, true))]
    );
    let (mut c, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let _ = c.step(recv(3, vote_response(1, true)), now);
    assert!(c.is_leader(), "the witness's grant did not count");
}

#[test]
fn a_transfer_to_a_witness_fails_at_once_when_its_reply_arrives() {
    let (mut n, now) = leader3();
    let _ = n.step(Input::TransferLeadership(3), now);
    let out = n.step(recv(3, standing(0, Freshness::default(), true)), now);
    assert_eq!(
        out[0],
        Output::TransferFailed {
            to: 3,
            term: t(1),
            reason: TransferFailure::TargetCannotLead
        }
    );
}

// ---- ForgetLeader ----------------------------------------------------------------------

#[test]
fn forget_leader_lets_a_follower_grant_a_pre_vote_inside_the_stickiness_window() {
    let mut f = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let out = f.step(recv(3, pre_vote_request(2)), ms(10));
    assert_eq!(out, vec![send(3, pre_vote_response(1, false))]);
    let out = f.step(Input::ForgetLeader, ms(11));
    assert_eq!(out, vec![leader_changed(None, 1)]);
    let out = f.step(recv(3, pre_vote_request(2)), ms(12));
    assert_eq!(out, vec![send(3, pre_vote_response(2, true))]);
}

#[test]
fn forget_leader_keeps_the_term_the_vote_and_the_election_timer() {
    let mut f = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let (hard, deadline) = (f.hard_state(), f.next_deadline());
    let _ = f.step(Input::ForgetLeader, ms(11));
    assert_eq!(f.hard_state(), hard);
    assert_eq!(f.next_deadline(), deadline);
    assert_eq!(f.leader(), None);
}

#[test]
fn forget_leader_on_the_leader_is_rejected() {
    let (mut n, now) = leader3();
    let out = n.step(Input::ForgetLeader, now);
    assert_eq!(out, vec![Output::Rejected(CommandError::IsLeader)]);
    assert!(n.is_leader());
}

#[test]
fn forget_leader_on_a_candidate_is_a_no_op() {
    let (mut c, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    assert_eq!(c.step(Input::ForgetLeader, now), vec![]);
    assert_eq!(c.role(), Role::Candidate);
}
