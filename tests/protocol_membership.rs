//! Learners, `min_voters`/`max_voters` and run-time membership changes: one test
//! per rule.

mod common;

use ballot::{CommandError, Election, Input, Instant, Membership, Output, Role};
use common::*;

fn with_learners(config: ballot::Config, id: u64, ids: &[u64], learners: &[u64]) -> Node {
    Election::new(config, id, members(ids, learners), None, Instant::ZERO).unwrap()
}

fn rejected(error: CommandError<u64>) -> Vec<Output<u64>> {
    vec![Output::Rejected(error)]
}

// ---- Learners and non-members ---------------------------------------------------------

#[test]
fn learner_never_campaigns() {
    let mut n = with_learners(config(), 4, &[1, 2, 3], &[4]);
    for _ in 0..50 {
        let (_, out) = fire(&mut n);
        assert_eq!(out, vec![]);
    }
    assert_eq!(n.role(), Role::Follower);
    assert_eq!(n.stats().pre_votes_started + n.stats().elections_started, 0);
}

#[test]
fn non_member_never_campaigns() {
    let mut n = node(config(), 9, &[1, 2, 3]);
    for _ in 0..50 {
        let (_, out) = fire(&mut n);
        assert_eq!(out, vec![]);
    }
}

#[test]
fn learner_grants_votes() {
    // The learner-promotion race: the candidate may already count this node as a voter.
    let mut n = with_learners(config(), 4, &[1, 2, 3], &[4]);
    let out = n.step(recv(1, vote_request(1)), ms(1));
    assert_eq!(
        out,
        vec![persist(1, Some(1)), send(1, vote_response(1, true))]
    );
    let out = n.step(recv(2, pre_vote_request(2)), ms(2));
    assert_eq!(out, vec![send(2, pre_vote_response(2, true))]);
}

#[test]
fn learner_follows_the_leader() {
    let mut n = with_learners(config(), 4, &[1, 2, 3], &[4]);
    let out = n.step(recv(1, heartbeat(1)), ms(1));
    assert_eq!(
        out,
        vec![
            persist(1, Some(1)),
            send(1, heartbeat_response(1)),
            leader_changed(Some(1), 1),
        ]
    );
}

#[test]
fn non_campaigner_whose_leader_goes_quiet_forgets_it() {
    let mut n = with_learners(config(), 4, &[1, 2, 3], &[4]);
    let _ = n.step(recv(1, heartbeat(1)), ms(0));
    let (_, out) = fire(&mut n);
    assert_eq!(out, vec![leader_changed(None, 1)]);
}

// ---- min_voters / max_voters -------------------------------------------------------------

#[test]
fn min_voters_blocks_campaigning() {
    let mut n = node(config().with_min_voters(4), 1, &[1, 2, 3]);
    for _ in 0..20 {
        let (_, out) = fire(&mut n);
        assert_eq!(out, vec![]);
    }
    assert_eq!(n.role(), Role::Follower);
}

#[test]
fn node_campaigns_once_voters_reach_min_voters() {
    let mut n = node(config().with_min_voters(4), 1, &[1, 2, 3]);
    let _ = fire(&mut n);
    assert_eq!(n.step(Input::AddVoter(4), ms(400)), vec![]);
    let (_, out) = fire(&mut n);
    assert_eq!(
        out,
        vec![
            broadcast(pre_vote_request(1)),
            role_changed(Role::PreCandidate, 0),
        ]
    );
}

#[test]
fn adding_a_voter_past_max_voters_is_rejected() {
    let mut n = with_learners(config().with_max_voters(3), 1, &[1, 2, 3], &[4]);
    let before = snapshot(&n);
    let error = CommandError::TooManyVoters {
        node: 5,
        max_voters: 3,
    };
    assert_eq!(n.step(Input::AddVoter(5), ms(1)), rejected(error));
    // Promoting a learner is adding a voter too.
    let error = CommandError::TooManyVoters {
        node: 4,
        max_voters: 3,
    };
    assert_eq!(n.step(Input::AddVoter(4), ms(1)), rejected(error));
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().commands_rejected, 2);
    assert!(error.to_string().contains("max_voters (3)"), "{error}");
}

#[test]
fn set_membership_larger_than_max_voters_is_rejected() {
    let mut n = node(config().with_max_voters(3), 1, &[1, 2, 3]);
    let before = snapshot(&n);
    let out = n.step(Input::SetMembership(voters(&[1, 2, 3, 4])), ms(1));
    assert_eq!(
        out,
        rejected(CommandError::MembershipTooLarge {
            voters: 4,
            max_voters: 3
        })
    );
    assert_eq!(snapshot(&n), before);
}

// ---- Membership commands ------------------------------------------------------------------

#[test]
fn add_voter_adds_or_promotes() {
    let mut n = with_learners(config(), 1, &[1, 2, 3], &[4]);
    assert_eq!(n.step(Input::AddVoter(4), ms(1)), vec![]);
    assert_eq!(n.step(Input::AddVoter(5), ms(1)), vec![]);
    assert_eq!(n.membership(), &voters(&[1, 2, 3, 4, 5]));
}

#[test]
fn add_voter_for_an_existing_voter_is_rejected() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let out = n.step(Input::AddVoter(2), ms(1));
    assert_eq!(out, rejected(CommandError::AlreadyVoter(2)));
}

#[test]
fn add_learner_adds_or_demotes() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    assert_eq!(n.step(Input::AddLearner(3), ms(1)), vec![]);
    assert_eq!(n.step(Input::AddLearner(7), ms(1)), vec![]);
    assert_eq!(n.membership(), &members(&[1, 2], &[3, 7]));
}

#[test]
fn add_learner_for_an_existing_learner_is_rejected() {
    let mut n = with_learners(config(), 1, &[1, 2, 3], &[4]);
    let out = n.step(Input::AddLearner(4), ms(1));
    assert_eq!(out, rejected(CommandError::AlreadyLearner(4)));
}

#[test]
fn remove_node_removes_voters_and_learners() {
    let mut n = with_learners(config(), 1, &[1, 2, 3], &[4]);
    assert_eq!(n.step(Input::RemoveNode(4), ms(1)), vec![]);
    assert_eq!(n.step(Input::RemoveNode(3), ms(1)), vec![]);
    assert_eq!(n.membership(), &voters(&[1, 2]));
}

#[test]
fn remove_node_for_a_non_member_is_rejected() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let out = n.step(Input::RemoveNode(9), ms(1));
    assert_eq!(out, rejected(CommandError::NotAMember(9)));
    assert!(
        CommandError::NotAMember(9u64)
            .to_string()
            .contains("9 is not a member")
    );
}

#[test]
fn set_membership_replaces_the_membership() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let next = Membership::with_learners([1u64, 2, 5], [3]).unwrap();
    assert_eq!(n.step(Input::SetMembership(next.clone()), ms(1)), vec![]);
    assert_eq!(n.membership(), &next);
}

// ---- Consequences of a change -----------------------------------------------------------

#[test]
fn removing_self_stops_campaigning() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let (now, _) = fire(&mut n);
    assert_eq!(n.role(), Role::PreCandidate);
    let out = n.step(Input::RemoveNode(1), now);
    assert_eq!(out, vec![role_changed(Role::Follower, 0)]);
    for _ in 0..10 {
        let (_, out) = fire(&mut n);
        assert_eq!(out, vec![]);
    }
}

#[test]
fn removing_self_stops_a_candidate() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let out = n.step(Input::RemoveNode(1), now);
    assert_eq!(out, vec![role_changed(Role::Follower, 1)]);
    // Late grants no longer elect it.
    assert_eq!(n.step(recv(2, vote_response(1, true)), now), vec![]);
    assert!(!n.is_leader());
}

#[test]
fn demoting_self_to_learner_stops_campaigning() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let out = n.step(Input::AddLearner(1), now);
    assert_eq!(out, vec![role_changed(Role::Follower, 1)]);
}

#[test]
fn falling_below_min_voters_stops_a_campaign() {
    let (mut n, now) = candidate(no_pre_vote().with_min_voters(3), &[1, 2, 3]);
    let out = n.step(Input::RemoveNode(3), now);
    assert_eq!(out, vec![role_changed(Role::Follower, 1)]);
}

#[test]
fn removed_leader_steps_down() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    let out = n.step(Input::RemoveNode(1), now);
    assert_eq!(
        out,
        vec![role_changed(Role::Follower, 1), leader_changed(None, 1)]
    );
    let (_, out) = fire(&mut n);
    assert_eq!(out, vec![], "a removed leader kept leading or campaigned");
}

#[test]
fn demoted_leader_steps_down() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    let out = n.step(Input::AddLearner(1), now);
    assert_eq!(
        out,
        vec![role_changed(Role::Follower, 1), leader_changed(None, 1)]
    );
}

#[test]
fn leader_stays_when_another_voter_is_removed() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    assert_eq!(n.step(Input::RemoveNode(3), now), vec![]);
    assert!(n.is_leader());
}

#[test]
fn removing_the_known_leader_forgets_it_but_not_its_stickiness() {
    // The removed leader may still lead (it learns of its removal later) and hold a
    // lease this follower's acknowledgement helped prove: the window stays.
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let out = n.step(Input::RemoveNode(1), ms(10));
    assert_eq!(out, vec![leader_changed(None, 1)]);
    let out = n.step(recv(3, pre_vote_request(2)), ms(20));
    assert_eq!(out, vec![send(3, pre_vote_response(1, false))]);
    let out = n.step(recv(3, pre_vote_request(2)), ms(150));
    assert_eq!(out, vec![send(3, pre_vote_response(2, true))]);
}

// ---- A campaign is only won with grants from the voter set it started under ----------

#[test]
fn voter_change_ends_a_running_campaign_keeping_its_vote_and_timer() {
    // Candidate of 5 with 2 votes (its own and 2's). Removing a voter ends the round:
    // follower in the same term, self-vote kept, the timer of the round kept.
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3, 4, 5]);
    let _ = n.step(recv(2, vote_response(1, true)), now);
    let deadline = n.next_deadline();
    let out = n.step(Input::RemoveNode(5), now);
    assert_eq!(out, vec![role_changed(Role::Follower, 1)]);
    assert_eq!(n.hard_state(), hard(1, Some(1)), "the self-vote stays");
    assert_eq!(n.next_deadline(), deadline, "the round's timer stays");
    // Grants of the old round no longer count: with the remap of old, {1, 2} plus a
    // grant from 3 would have been 3 of 4.
    let _ = n.step(Input::RemoveNode(4), now);
    let _ = n.step(recv(3, vote_response(1, true)), now);
    assert_eq!(n.role(), Role::Follower);
    assert_eq!(n.stats().dropped_unexpected, 1);
    // When the timer fires it campaigns afresh, in the next term, under {1, 2, 3}.
    let (later, out) = fire(&mut n);
    assert_eq!(
        out,
        vec![
            persist(2, Some(1)),
            broadcast(vote_request(2)),
            role_changed(Role::Candidate, 2),
        ]
    );
    let _ = n.step(recv(3, vote_response(2, true)), later);
    assert!(n.is_leader());
}

#[test]
fn voter_change_ends_a_pre_vote_round_keeping_its_timer() {
    // Pre-candidate of 4 with 2 pre-votes; removing a silent voter would have made
    // them 2 of 3. The round ends instead; nothing was persisted, nothing is.
    let mut n = node(config(), 1, &[1, 2, 3, 4]);
    let (now, _) = fire(&mut n);
    let _ = n.step(recv(2, pre_vote_response(1, true)), now);
    assert_eq!(n.role(), Role::PreCandidate);
    let deadline = n.next_deadline();
    let out = n.step(Input::RemoveNode(4), now);
    assert_eq!(out, vec![role_changed(Role::Follower, 0)]);
    assert_eq!(n.hard_state(), hard(0, None));
    assert_eq!(n.next_deadline(), deadline);
}

#[test]
fn voter_change_that_would_lose_a_campaign_also_just_ends_it() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3, 4]);
    let _ = n.step(recv(2, vote_response(1, false)), now);
    let _ = n.step(recv(3, vote_response(1, false)), now);
    assert_eq!(
        n.role(),
        Role::Candidate,
        "2 of 4 is not a quorum of rejections"
    );
    let out = n.step(Input::RemoveNode(4), now);
    assert_eq!(out, vec![role_changed(Role::Follower, 1)]);
}

#[test]
fn learner_only_change_leaves_a_running_campaign_alone() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3, 4, 5]);
    let _ = n.step(recv(2, vote_response(1, true)), now);
    assert_eq!(n.step(Input::AddLearner(9), now), vec![]);
    assert_eq!(n.role(), Role::Candidate);
    let _ = n.step(recv(3, vote_response(1, true)), now);
    assert!(
        n.is_leader(),
        "the grants of the unchanged voter set still count"
    );
}

#[test]
fn promoting_a_learner_ends_the_campaign_its_grant_came_in() {
    let mut n = with_learners(no_pre_vote(), 1, &[1, 2, 3], &[4]);
    let (now, _) = fire(&mut n);
    let _ = n.step(recv(4, vote_response(1, true)), now);
    assert_eq!(
        n.role(),
        Role::Candidate,
        "a learner's grant does not count"
    );
    let _ = n.step(Input::AddVoter(4), now);
    assert_eq!(n.role(), Role::Follower);
    let _ = n.step(recv(2, vote_response(1, true)), now);
    assert!(!n.is_leader());
}

#[test]
fn a_losing_candidate_cannot_lead_a_term_that_has_a_leader_after_voter_changes() {
    // Issue 6, reproduction 1 (PreVote off): voters {1..5}; 1 and 4 cannot reach each
    // other and both campaign in term 1. 2 and 3 grant 1 and refuse 4; 5 grants 4 and
    // refuses 1. 1 leads; 4 is still a candidate holding {4, 5}. 1's heartbeats reach
    // 2, 3 and 5. Then RemoveNode(2) and RemoveNode(3) are applied on every node. With
    // the tally remapped onto {1, 4, 5}, 4's {4, 5} became a majority and 4 led term 1
    // too: two leaders in term 1.
    let all = voters(&[1, 2, 3, 4, 5]);
    let mut nodes: Vec<Node> = (1..=5)
        .map(|id| Election::new(no_pre_vote(), id, all.clone(), None, Instant::ZERO).unwrap())
        .collect();
    let now = ms(10);
    let _ = nodes[0].step(Input::Campaign, now);
    let _ = nodes[3].step(Input::Campaign, now);
    for (voter, candidate) in [(2, 1), (3, 1), (5, 4)] {
        let out = nodes[voter - 1].step(recv(candidate, vote_request(1)), now);
        assert!(
            out.contains(&send(candidate, vote_response(1, true))),
            "{out:?}"
        );
        let _ = nodes[candidate as usize - 1].step(recv(voter as u64, vote_response(1, true)), now);
    }
    for (voter, candidate) in [(2, 4), (3, 4), (5, 1)] {
        let out = nodes[voter - 1].step(recv(candidate, vote_request(1)), now);
        assert!(
            out.contains(&send(candidate, vote_response(1, false))),
            "{out:?}"
        );
        let _ =
            nodes[candidate as usize - 1].step(recv(voter as u64, vote_response(1, false)), now);
    }
    assert!(nodes[0].is_leader());
    assert_eq!(nodes[3].role(), Role::Candidate);
    for follower in [2, 3, 5] {
        let out = nodes[follower - 1].step(recv(1, heartbeat(1)), now);
        assert!(out.contains(&leader_changed(Some(1), 1)), "{out:?}");
        let _ = nodes[0].step(recv(follower as u64, heartbeat_response(1)), now);
    }
    for change in [Input::RemoveNode(2), Input::RemoveNode(3)] {
        for n in &mut nodes {
            let _ = n.step(change.clone(), now);
        }
    }
    let leaders: Vec<u64> = nodes
        .iter()
        .filter(|n| n.is_leader() && n.term() == t(1))
        .map(|n| n.id())
        .collect();
    assert_eq!(leaders, vec![1], "one leader in term 1");
    assert_eq!(
        nodes[3].role(),
        Role::Follower,
        "4's campaign ended with the change"
    );
}

// ---- Safety of one-voter-at-a-time changes ----------------------------------------------
//
// `Membership`'s safety rule has two parts: change the voter set by one voter at a
// time, and let each change settle before the next — a majority of the new voter set
// follows the leader in its term (following is durable), or an election is held in the
// new set. The first test shows why the second part is needed; the others show that
// with either way of settling, the same sequence keeps one leader per term.

/// Four nodes that start with voters {1,2,3}; node 1 wins term 1 with node 2's vote
/// alone, and node 4 is voter-to-be.
fn term_one_won_by_node_one() -> (Vec<Node>, Instant) {
    let first = voters(&[1, 2, 3]);
    let mut nodes: Vec<Node> = (1..=4)
        .map(|id| Election::new(no_pre_vote(), id, first.clone(), None, Instant::ZERO).unwrap())
        .collect();
    let now = ms(10);
    let _ = nodes[0].step(Input::Campaign, now);
    let grant = nodes[1].step(recv(1, vote_request(1)), now);
    assert!(grant.contains(&send(1, vote_response(1, true))));
    let _ = nodes[0].step(recv(2, vote_response(1, true)), now);
    assert!(nodes[0].is_leader());
    (nodes, now)
}

/// Applies `change` on every node.
fn apply_everywhere(nodes: &mut [Node], change: Input<u64>, now: Instant) {
    for n in nodes {
        assert_eq!(n.step(change.clone(), now), vec![]);
    }
}

/// Node 3 (which never heard of term 1) campaigns for term 1 and asks node 4;
/// returns the leaders of term 1.
fn node_three_campaigns_for_term_one(nodes: &mut [Node], now: Instant) -> Vec<u64> {
    let _ = nodes[2].step(Input::Campaign, now);
    assert_eq!(nodes[2].term(), t(1));
    let answer = nodes[3].step(recv(3, vote_request(1)), now);
    for output in answer {
        if let Output::Send { to: 3, message } = output {
            let _ = nodes[2].step(recv(4, message), now);
        }
    }
    nodes
        .iter()
        .filter(|n| n.is_leader() && n.term() == t(1))
        .map(|n| n.id())
        .collect()
}

#[test]
fn voter_changes_without_an_election_between_them_can_elect_two_leaders_in_one_term() {
    // {1,2,3} → {1,2,3,4} → {1,3,4} within term 1, with no election between the
    // changes: node 1 leads term 1 by {1,2}, node 3 then wins term 1 by {3,4}. Two
    // disjoint majorities: this is the caller's rule being broken, shown here so the
    // documentation's second clause is not taken lightly.
    let (mut nodes, now) = term_one_won_by_node_one();
    apply_everywhere(&mut nodes, Input::AddVoter(4), now);
    apply_everywhere(&mut nodes, Input::RemoveNode(2), now);
    assert_eq!(nodes[2].membership(), &voters(&[1, 3, 4]));
    assert_eq!(
        node_three_campaigns_for_term_one(&mut nodes, now),
        vec![1, 3]
    );
}

#[test]
fn voter_changes_settled_by_following_keep_one_leader_per_term_across_restarts() {
    // After adding node 4, it follows node 1 in term 1 (so {1,2,4}, a majority of the
    // new set, follows) before node 2 goes. Node 4 then restarts, forgetting the
    // leader; its durable record of following still refuses node 3's term-1 bid.
    let (mut nodes, now) = term_one_won_by_node_one();
    apply_everywhere(&mut nodes, Input::AddVoter(4), now);
    let out = nodes[3].step(recv(1, heartbeat(1)), now);
    let durable = persists(&out);
    assert_eq!(durable, vec![hard(1, Some(1))]);
    apply_everywhere(&mut nodes, Input::RemoveNode(2), now);
    nodes[3] = Election::new(no_pre_vote(), 4, voters(&[1, 3, 4]), Some(durable[0]), now).unwrap();
    assert_eq!(node_three_campaigns_for_term_one(&mut nodes, now), vec![1]);
    assert_eq!(
        nodes[2].role(),
        Role::Candidate,
        "node 4 refused: it followed node 1 in term 1"
    );
}

#[test]
fn voter_changes_with_an_election_between_them_keep_one_leader_per_term() {
    // The same changes, but after adding node 4 the leader steps down and node 1 is
    // elected again in term 2 by {1,2,4}, a majority of the new set, before node 2 goes.
    let (mut nodes, now) = term_one_won_by_node_one();
    apply_everywhere(&mut nodes, Input::AddVoter(4), now);
    let _ = nodes[0].step(Input::StepDown, now);
    let _ = nodes[0].step(Input::Campaign, now);
    assert_eq!(nodes[0].term(), t(2));
    for voter in [1, 3] {
        let answer = nodes[voter].step(recv(1, vote_request(2)), now);
        assert!(
            answer.contains(&send(1, vote_response(2, true))),
            "{answer:?}"
        );
        let _ = nodes[0].step(recv(voter as u64 + 1, vote_response(2, true)), now);
    }
    assert!(nodes[0].is_leader());
    apply_everywhere(&mut nodes, Input::RemoveNode(2), now);
    // Node 3, still in term 0, tries term 1: node 4 is in term 2 and refuses.
    assert_eq!(
        node_three_campaigns_for_term_one(&mut nodes, now),
        Vec::<u64>::new()
    );
    assert_eq!(
        nodes[2].term(),
        t(2),
        "node 3 learned the newer term from the refusal"
    );
}
