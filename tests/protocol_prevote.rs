//! PreVote (Ongaro's thesis §9.6), one test per rule: a timed-out follower asks for
//! pre-votes for term + 1 without changing its persistent state, granting a
//! pre-vote changes nothing, a pre-candidate forgets its leader, a quorum of
//! pre-votes starts the real campaign.

mod common;

use ballot::{Freshness, Input, Instant, Role};
use common::*;

/// Node 1 of `ids` after its election timeout: a pre-candidate of term 0.
fn pre_candidate(ids: &[u64]) -> (Node, ballot::Instant) {
    let mut n = node(config(), 1, ids);
    let (now, _) = fire(&mut n);
    assert_eq!(n.role(), Role::PreCandidate);
    (n, now)
}

// ---- The pre-candidate -------------------------------------------------------------

#[test]
fn election_timeout_starts_a_pre_vote_round_without_changing_term_or_vote() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let (_, out) = fire(&mut n);
    assert_eq!(
        out,
        vec![
            broadcast(pre_vote_request(1)),
            role_changed(Role::PreCandidate, 0),
        ]
    );
    assert_eq!((n.term(), n.voted_for()), (t(0), None));
    assert_eq!(n.stats().pre_votes_started, 1);
    assert_eq!(n.stats().elections_started, 0);
}

#[test]
fn pre_vote_request_asks_for_the_next_term_with_our_freshness() {
    let mut n = restarted(config(), 1, &[1, 2, 3], hard(6, Some(2)));
    let _ = n.step(Input::SetFreshness(Freshness::new(6, 40)), ms(0));
    let (_, out) = fire(&mut n);
    assert_eq!(
        out[0],
        broadcast(vote_request_with(7, true, Freshness::new(6, 40)))
    );
    assert_eq!((n.term(), n.voted_for()), (t(6), Some(2)));
}

#[test]
fn pre_vote_quorum_starts_the_real_campaign() {
    let (mut n, now) = pre_candidate(&[1, 2, 3]);
    let out = n.step(recv(2, pre_vote_response(1, true)), now);
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
fn pre_vote_quorum_of_rejections_returns_to_follower() {
    // Refusals from voters at or behind our term carry our term, 0.
    let (mut n, now) = pre_candidate(&[1, 2, 3]);
    assert_eq!(n.step(recv(2, pre_vote_response(0, false)), now), vec![]);
    let out = n.step(recv(3, pre_vote_response(0, false)), now);
    assert_eq!(out, vec![role_changed(Role::Follower, 0)]);
    assert_eq!((n.term(), n.voted_for()), (t(0), None));
}

#[test]
fn duplicated_pre_vote_grant_counts_once() {
    let (mut n, now) = pre_candidate(&[1, 2, 3, 4, 5]);
    let _ = n.step(recv(2, pre_vote_response(1, true)), now);
    let _ = n.step(recv(2, pre_vote_response(1, true)), now);
    assert_eq!(n.role(), Role::PreCandidate);
    assert_eq!(n.stats().dropped_duplicate, 1);
}

#[test]
fn pre_vote_grant_from_a_learner_never_counts() {
    let mut n = ballot::Election::new(config(), 1, members(&[1, 2, 3], &[4]), None, ms(0)).unwrap();
    let (now, _) = fire(&mut n);
    let _ = n.step(recv(4, pre_vote_response(1, true)), now);
    assert_eq!(n.role(), Role::PreCandidate);
}

#[test]
fn stale_pre_vote_reply_is_dropped() {
    let mut n = restarted(config(), 1, &[1, 2, 3], hard(2, None));
    let (now, _) = fire(&mut n); // asks for term 3
    let out = n.step(recv(2, pre_vote_response(2, true)), now);
    assert_eq!(out, vec![]);
    assert_eq!(n.role(), Role::PreCandidate);
    assert_eq!(n.stats().dropped_stale, 1);
}

#[test]
fn late_pre_vote_grant_after_the_real_campaign_started_is_dropped() {
    let (mut n, now) = pre_candidate(&[1, 2, 3, 4, 5]);
    let _ = n.step(recv(2, pre_vote_response(1, true)), now);
    let _ = n.step(recv(3, pre_vote_response(1, true)), now);
    assert_eq!((n.role(), n.term()), (Role::Candidate, t(1)));
    let out = n.step(recv(4, pre_vote_response(1, true)), now);
    assert_eq!(out, vec![]);
    assert_eq!((n.role(), n.term()), (Role::Candidate, t(1)));
}

#[test]
fn pre_vote_rejection_from_a_node_ahead_makes_the_pre_candidate_follow_its_term() {
    let (mut n, now) = pre_candidate(&[1, 2, 3]);
    // The responder is at term 5: its rejection carries term 5 > the asked term 1.
    let out = n.step(recv(2, pre_vote_response(5, false)), now);
    assert_eq!(out, vec![persist(5, None), role_changed(Role::Follower, 5)]);
}

#[test]
fn pre_candidate_restarts_its_round_when_its_timer_fires() {
    let (mut n, _) = pre_candidate(&[1, 2, 3]);
    let (_, out) = fire(&mut n);
    assert_eq!(out, vec![broadcast(pre_vote_request(1))]);
    assert_eq!((n.role(), n.term()), (Role::PreCandidate, t(0)));
    assert_eq!(n.stats().pre_votes_started, 2);
}

#[test]
fn candidate_whose_election_times_out_goes_back_to_pre_vote() {
    let (mut n, now) = pre_candidate(&[1, 2, 3]);
    let _ = n.step(recv(2, pre_vote_response(1, true)), now);
    assert_eq!(n.role(), Role::Candidate);
    let (_, out) = fire(&mut n);
    assert_eq!(
        out,
        vec![
            broadcast(pre_vote_request(2)),
            role_changed(Role::PreCandidate, 1),
        ]
    );
}

#[test]
fn pre_candidate_becomes_follower_on_a_heartbeat_of_its_term() {
    let mut n = follower_of(config(), 1, &[1, 2, 3], 2, 1, ms(0));
    let (now, _) = fire(&mut n);
    assert_eq!(n.role(), Role::PreCandidate);
    let out = n.step(recv(2, heartbeat(1)), now);
    assert_eq!(
        out,
        vec![
            send(2, heartbeat_response(1)),
            role_changed(Role::Follower, 1),
            leader_changed(Some(2), 1),
        ]
    );
}

#[test]
fn pre_candidate_forgets_the_leader() {
    let mut n = follower_of(config(), 1, &[1, 2, 3], 2, 1, ms(0));
    let (_, out) = fire(&mut n);
    assert_eq!(
        out,
        vec![
            broadcast(pre_vote_request(2)),
            role_changed(Role::PreCandidate, 1),
            leader_changed(None, 1),
        ]
    );
    assert_eq!(n.leader(), None);
}

#[test]
fn pre_candidate_grants_others_pre_votes_even_right_after_hearing_the_leader() {
    // etcd's PreVote + CheckQuorum deadlock fix: once it campaigns, the node no longer
    // vouches for the old leader, so it does not block others' pre-votes.
    // Its round starts when its election timer fires (the stickiness window is over
    // by then: the timer is at least election_timeout_min); a pre-vote that arrives
    // right after is granted although the leader was heard a moment before the
    // window ended.
    let mut n = follower_of(config(), 1, &[1, 2, 3], 2, 1, ms(0));
    let (at, _) = fire(&mut n);
    assert_eq!(n.role(), Role::PreCandidate);
    let out = n.step(recv(3, pre_vote_request(2)), at);
    assert_eq!(out, vec![send(3, pre_vote_response(2, true))]);
}

// ---- Granting pre-votes -----------------------------------------------------------

#[test]
fn pre_vote_grant_changes_no_state() {
    let mut n = restarted(config(), 2, &[1, 2, 3], hard(3, Some(1)));
    let before = snapshot(&n);
    let out = n.step(recv(3, pre_vote_request(4)), ms(100));
    assert_eq!(out, vec![send(3, pre_vote_response(4, true))]);
    // Not the term, not the vote, not the leader, not the timer.
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().votes_granted, 0);
}

#[test]
fn pre_vote_rejection_changes_no_state() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 3, ms(0));
    let before = snapshot(&n);
    let out = n.step(recv(3, pre_vote_request(9)), ms(100)); // sticky
    // The refusal carries the requester's term (8): ours (3) is behind it.
    assert_eq!(out, vec![send(3, pre_vote_response(8, false))]);
    assert_eq!(snapshot(&n), before);
}

#[test]
fn pre_vote_for_a_higher_term_is_granted_even_after_voting() {
    let mut n = restarted(config(), 2, &[1, 2, 3], hard(3, Some(1)));
    let out = n.step(recv(3, pre_vote_request(4)), ms(1));
    assert_eq!(out, vec![send(3, pre_vote_response(4, true))]);
}

#[test]
fn pre_vote_for_the_current_term_is_granted_when_free() {
    let mut n = restarted(config(), 2, &[1, 2, 3], hard(3, None));
    let out = n.step(recv(3, pre_vote_request(3)), ms(1));
    assert_eq!(out, vec![send(3, pre_vote_response(3, true))]);
}

#[test]
fn pre_vote_for_the_current_term_is_refused_after_voting_for_another() {
    let mut n = restarted(config(), 2, &[1, 2, 3], hard(3, Some(1)));
    let out = n.step(recv(3, pre_vote_request(3)), ms(1));
    assert_eq!(out, vec![send(3, pre_vote_response(3, false))]);
    // ... but granted to the candidate it voted for.
    let out = n.step(recv(1, pre_vote_request(3)), ms(2));
    assert_eq!(out, vec![send(1, pre_vote_response(3, true))]);
}

#[test]
fn pre_vote_for_the_current_term_is_refused_when_its_leader_is_known() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 3, ms(0));
    let out = n.step(recv(3, pre_vote_request(3)), ms(200)); // outside stickiness
    assert_eq!(out, vec![send(3, pre_vote_response(3, false))]);
    assert_eq!(n.stats().sticky_rejections, 0);
}

#[test]
fn pre_vote_is_refused_to_a_less_fresh_candidate() {
    let mut n = node(config(), 2, &[1, 2, 3]);
    let _ = n.step(Input::SetFreshness(Freshness::new(1, 10)), ms(0));
    let stale = vote_request_with(1, true, Freshness::new(1, 9));
    assert_eq!(
        n.step(recv(3, stale), ms(1)),
        vec![send(3, pre_vote_response(0, false))]
    );
    let fresh = vote_request_with(1, true, Freshness::new(1, 10));
    assert_eq!(
        n.step(recv(3, fresh), ms(2)),
        vec![send(3, pre_vote_response(1, true))]
    );
}

#[test]
fn pre_vote_is_refused_within_the_stickiness_window() {
    let mut n = follower_of(config(), 2, &[1, 2, 3], 1, 1, ms(0));
    let out = n.step(recv(3, pre_vote_request(2)), ms(149));
    assert_eq!(out, vec![send(3, pre_vote_response(1, false))]);
    assert_eq!(n.stats().sticky_rejections, 1);
    // The window is [contact, contact + election_timeout_min).
    let out = n.step(recv(3, pre_vote_request(2)), ms(150));
    assert_eq!(out, vec![send(3, pre_vote_response(2, true))]);
}

#[test]
fn leader_refuses_pre_votes() {
    let (mut n, now) = leader(config(), &[1, 2, 3]);
    let out = n.step(recv(3, pre_vote_request(2)), now);
    assert_eq!(out, vec![send(3, pre_vote_response(1, false))]);
    assert_eq!(n.stats().sticky_rejections, 1);
}

#[test]
fn pre_vote_reply_echoes_the_request_term() {
    let mut n = restarted(config(), 2, &[1, 2, 3], hard(3, None));
    assert_eq!(
        n.step(recv(3, pre_vote_request(8)), ms(1)),
        vec![send(3, pre_vote_response(8, true))]
    );
}

#[test]
fn lower_term_pre_vote_request_is_answered_with_our_term() {
    let mut n = restarted(config(), 2, &[1, 2, 3], hard(5, None));
    let before = snapshot(&n);
    let out = n.step(recv(3, pre_vote_request(4)), ms(1));
    assert_eq!(out, vec![send(3, pre_vote_response(5, false))]);
    assert_eq!(snapshot(&n), before);
}

#[test]
fn late_pre_vote_refusal_does_not_move_a_follower_to_the_next_term() {
    // Node 1 follows leader 2 in term 1, times out and asks for pre-votes for term 2.
    // Leader 2's heartbeat arrives first and makes it a follower again. Node 3, which
    // also hears the leader, refuses the pre-vote — with its own term, 1, not the asked
    // term 2 (an echoed 2 would make node 1 adopt term 2, answer the leader's next
    // heartbeat with it and depose a healthy leader — what PreVote exists to prevent).
    let mut n = follower_of(config(), 1, &[1, 2, 3], 2, 1, ms(0));
    let mut three = follower_of(config(), 3, &[1, 2, 3], 2, 1, ms(0));
    let (now, _) = fire(&mut n);
    assert_eq!(n.role(), Role::PreCandidate);
    let _ = n.step(recv(2, heartbeat(1)), now);
    let _ = three.step(recv(2, heartbeat(1)), now);
    assert_eq!((n.role(), n.term()), (Role::Follower, t(1)));
    let refusal = three.step(recv(1, pre_vote_request(2)), now);
    assert_eq!(refusal, vec![send(1, pre_vote_response(1, false))]);
    let out = n.step(recv(3, pre_vote_response(1, false)), now);
    assert_eq!(out, vec![], "a late pre-vote reply changed the follower");
    assert_eq!(n.term(), t(1));
    // The leader stays unharmed: its next heartbeat is answered in term 1.
    let out = n.step(recv(2, heartbeat(1)), now + HEARTBEAT);
    assert_eq!(out, vec![send(2, heartbeat_response(1))]);
}

#[test]
fn pre_vote_refusal_from_a_newer_term_is_adopted() {
    // A refusal carries the responder's term when it is ahead of the requester: the
    // requester adopts it (follower, no vote) instead of counting it in its round.
    let (mut n, now) = pre_candidate(&[1, 2, 3]);
    let out = n.step(recv(2, pre_vote_response(1, false)), now);
    assert_eq!(
        out,
        vec![persist(1, None), role_changed(Role::Follower, 1),]
    );
}

#[test]
fn pre_vote_grant_with_the_asked_term_does_not_move_the_term() {
    let (mut n, now) = pre_candidate(&[1, 2, 3, 4, 5]);
    assert_eq!(n.step(recv(2, pre_vote_response(1, true)), now), vec![]);
    assert_eq!((n.role(), n.term()), (Role::PreCandidate, t(0)));
}

/// Delivers messages between live nodes (by id; others are dead) and ticks them at
/// their deadlines until one leads or `limit` passes. Returns the leader.
fn run_until_leader(nodes: &mut [Node], live: &[u64], limit: Instant) -> Option<u64> {
    use ballot::Output;
    let mut wire: std::collections::VecDeque<(u64, u64, ballot::Message)> = Default::default();
    let mut now = ms(0);
    while now < limit {
        if let Some(l) = nodes
            .iter()
            .find(|n| n.is_leader() && live.contains(&n.id()))
        {
            return Some(l.id());
        }
        let work: Vec<(u64, Input<u64>)> = match wire.pop_front() {
            Some((from, to, message)) => vec![(to, recv(from, message))],
            None => {
                now = live
                    .iter()
                    .filter_map(|&id| nodes[id as usize - 1].next_deadline())
                    .min()?
                    .max(now);
                live.iter().map(|&id| (id, Input::Tick)).collect()
            }
        };
        for (id, input) in work {
            if !live.contains(&id) {
                continue;
            }
            let node = &mut nodes[id as usize - 1];
            for output in node.step(input, now) {
                match output {
                    Output::Send { to, message } => wire.push_back((id, to, message)),
                    Output::Broadcast { message } => {
                        for to in node.membership().peers_of(id) {
                            wire.push_back((id, to, message));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    None
}

#[test]
fn a_fresher_node_one_term_behind_learns_the_newer_term_and_is_elected() {
    // Issue 6, reproduction 2: 3 voters. Node 1 is at term 1 with the freshest
    // position; node 2 is at term 2, durably following node 3, with a shorter one;
    // node 3 is dead for good. Node 1's pre-vote for term 2 is refused by node 2 (it
    // is at term 2); node 2's pre-votes are refused by node 1 (node 2 is less fresh).
    // With the refusal echoing the asked term, node 1 counted it in its own round and
    // never learned term 2: no leader, forever. Now the refusal carries term 2, node 1
    // adopts it, and its next pre-vote (term 3) is granted.
    let ids = [1, 2, 3];
    let mut one = restarted(config(), 1, &ids, hard(1, None));
    let _ = one.step(Input::SetFreshness(Freshness::new(1, 10)), ms(0));
    let mut two = restarted(config(), 2, &ids, hard(2, Some(3)));
    let _ = two.step(Input::SetFreshness(Freshness::new(1, 5)), ms(0));
    let three = node(config(), 3, &ids);
    let mut nodes = vec![one, two, three];
    let leader = run_until_leader(&mut nodes, &[1, 2], ms(10_000));
    assert_eq!(leader, Some(1), "the fresher live node is elected");
    assert!(nodes[0].term() >= t(3));
}
