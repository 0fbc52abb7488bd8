//! The `Campaign` command, freshness updates, and messages from strangers: one
//! test per rule.

mod common;

use ballot::{CommandError, Freshness, Input, Output, Role};
use common::*;

// ---- Campaign ------------------------------------------------------------------------

#[test]
fn campaign_starts_a_pre_vote_round_at_once() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let out = n.step(Input::Campaign, ms(10));
    assert_eq!(
        out,
        vec![
            broadcast(pre_vote_request(1)),
            role_changed(Role::PreCandidate, 0),
        ]
    );
}

#[test]
fn campaign_without_pre_vote_starts_the_election_at_once() {
    let mut n = node(no_pre_vote(), 1, &[1, 2, 3]);
    let out = n.step(Input::Campaign, ms(10));
    assert_eq!(
        out,
        vec![
            persist(1, Some(1)),
            broadcast(vote_request(1)),
            role_changed(Role::Candidate, 1),
        ]
    );
}

#[test]
fn campaign_on_a_follower_that_knows_a_leader_campaigns_once_its_window_is_over() {
    // Inside the stickiness window Campaign is refused (it could void the leader's
    // lease; see protocol_lease.rs); after it, the follower campaigns.
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let out = n.step(Input::Campaign, ms(10));
    assert_eq!(
        out,
        vec![Output::Rejected(CommandError::Sticky { until: ms(150) })]
    );
    let out = n.step(Input::Campaign, ms(150));
    assert!(out.contains(&broadcast(pre_vote_request(2))), "{out:?}");
    assert_eq!(n.leader(), None);
}

#[test]
fn campaign_in_a_single_voter_cluster_wins_at_once() {
    let mut n = node(config(), 1, &[1]);
    let out = n.step(Input::Campaign, ms(10));
    assert_eq!(out[0], persist(1, Some(1)));
    assert!(n.is_leader());
}

#[test]
fn campaign_is_a_no_op_on_the_leader() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    let before = snapshot(&n);
    assert_eq!(n.step(Input::Campaign, now), vec![]);
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().commands_rejected, 0);
}

#[test]
fn campaign_is_a_no_op_while_already_campaigning() {
    // A pre-candidate keeps its round (and its timer).
    let mut n = node(config(), 1, &[1, 2, 3]);
    let (now, _) = fire(&mut n);
    let before = snapshot(&n);
    assert_eq!(n.step(Input::Campaign, now), vec![]);
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().pre_votes_started, 1);
    // A candidate does not start another term.
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let before = snapshot(&n);
    assert_eq!(n.step(Input::Campaign, now), vec![]);
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().elections_started, 1);
}

#[test]
fn campaign_is_rejected_on_a_learner() {
    let mut n = ballot::Election::new(config(), 4, members(&[1, 2, 3], &[4]), None, ms(0)).unwrap();
    let before = snapshot(&n);
    let out = n.step(Input::Campaign, ms(1));
    assert_eq!(out, vec![Output::Rejected(CommandError::NotAVoter)]);
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().commands_rejected, 1);
}

#[test]
fn campaign_is_rejected_on_a_non_member() {
    let mut n = node(config(), 9, &[1, 2, 3]);
    let out = n.step(Input::Campaign, ms(1));
    assert_eq!(out, vec![Output::Rejected(CommandError::NotAVoter)]);
}

#[test]
fn campaign_is_rejected_below_min_voters() {
    let mut n = node(config().with_min_voters(5), 1, &[1, 2, 3]);
    let before = snapshot(&n);
    let out = n.step(Input::Campaign, ms(1));
    assert_eq!(
        out,
        vec![Output::Rejected(CommandError::NotEnoughVoters {
            voters: 3,
            min_voters: 5
        })]
    );
    assert_eq!(snapshot(&n), before);
    let message = CommandError::<u64>::NotEnoughVoters {
        voters: 3,
        min_voters: 5,
    }
    .to_string();
    assert!(
        message.contains("3 voters") && message.contains("min_voters is 5"),
        "{message}"
    );
}

// ---- Freshness ---------------------------------------------------------------------------

#[test]
fn set_freshness_changes_only_the_freshness() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let out = n.step(Input::SetFreshness(Freshness::new(3, 9)), ms(1));
    assert_eq!(out, vec![]);
    assert_eq!(n.freshness(), Freshness::new(3, 9));
    let (_, out) = fire(&mut n);
    assert!(out.contains(&broadcast(vote_request_with(1, true, Freshness::new(3, 9)))));
}

#[test]
fn freshness_orders_by_term_then_index() {
    assert!(Freshness::new(2, 0) > Freshness::new(1, 100));
    assert!(Freshness::new(2, 5) > Freshness::new(2, 4));
    assert_eq!(Freshness::default(), Freshness::new(0, 0));
}

// ---- Strangers ----------------------------------------------------------------------------

fn every_message() -> Vec<ballot::Message> {
    vec![
        vote_request(5),
        pre_vote_request(5),
        vote_response(1, true),
        pre_vote_response(1, true),
        heartbeat(5),
        heartbeat_response(5),
    ]
}

#[test]
fn messages_from_non_members_are_dropped() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let before = snapshot(&n);
    for message in every_message() {
        assert_eq!(n.step(recv(9, message), now), vec![], "{message:?}");
    }
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().dropped_unknown_sender, 6);
}

#[test]
fn messages_from_self_are_dropped() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let before = snapshot(&n);
    for message in every_message() {
        assert_eq!(n.step(recv(1, message), now), vec![], "{message:?}");
    }
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().dropped_unknown_sender, 6);
}

#[test]
fn campaign_is_rejected_when_no_term_is_left() {
    // A node at term u64::MAX has no next term: campaigning would vote twice in one term.
    let mut n = restarted(no_pre_vote(), 1, &[1, 2, 3], hard(u64::MAX, Some(2)));
    let out = n.step(Input::Campaign, ms(1));
    assert_eq!(out, vec![Output::Rejected(CommandError::TermExhausted)]);
    // Nor does its election timer start a campaign: no vote request, no new vote.
    let deadline = n.next_deadline().unwrap();
    let out = n.step(Input::Tick, deadline);
    assert!(
        !out.iter()
            .any(|o| matches!(o, Output::Persist(_) | Output::Broadcast { .. })),
        "{out:?}"
    );
    assert_eq!(n.voted_for(), Some(2));
}

#[test]
fn campaign_at_the_last_term_is_a_no_op_on_a_leader_or_a_campaigning_node() {
    // Issue 6: `Input::Campaign`'s docs promise a no-op on the leader and on a node
    // already campaigning; at term u64::MAX it used to answer TermExhausted there.
    let last = u64::MAX;
    // A candidate of the last term (it got there by a vote request of that term).
    let mut candidate = restarted(no_pre_vote(), 1, &[1, 2, 3], hard(last - 1, None));
    let _ = candidate.step(Input::Campaign, ms(1));
    assert_eq!(
        (candidate.role(), candidate.term()),
        (Role::Candidate, t(last))
    );
    assert_eq!(candidate.step(Input::Campaign, ms(2)), vec![]);
    // It wins: Campaign on the leader is a no-op too.
    let _ = candidate.step(recv(2, vote_response(last, true)), ms(3));
    assert!(candidate.is_leader());
    assert_eq!(candidate.step(Input::Campaign, ms(4)), vec![]);
    // A pre-candidate: no-op as well.
    let mut pre = restarted(config(), 1, &[1, 2, 3], hard(last, None));
    let (at, _) = fire(&mut pre);
    assert_eq!(
        pre.role(),
        Role::Follower,
        "no next term: no pre-vote round at the last term"
    );
    // ...and a follower at the last term is told why nothing happens.
    assert_eq!(
        pre.step(Input::Campaign, at),
        vec![Output::Rejected(CommandError::TermExhausted)]
    );
    assert_eq!(pre.stats().commands_rejected, 1);
}
