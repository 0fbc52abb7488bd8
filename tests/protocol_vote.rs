//! Real elections (Raft §5.2), one test per rule, with PreVote off so the rules
//! of the real vote stand alone (PreVote has its own file).

mod common;

use ballot::{Freshness, Input, Role};
use common::*;

// ---- Starting an election -------------------------------------------------------

#[test]
fn election_timeout_makes_follower_candidate_of_next_term_voting_for_itself() {
    let mut n = node(no_pre_vote(), 1, &[1, 2, 3]);
    let (_, out) = fire(&mut n);
    assert_eq!(
        out,
        vec![
            persist(1, Some(1)),
            broadcast(vote_request(1)),
            role_changed(Role::Candidate, 1),
        ]
    );
    assert_eq!(
        (n.role(), n.term(), n.voted_for()),
        (Role::Candidate, t(1), Some(1))
    );
    assert_eq!(n.stats().elections_started, 1);
}

#[test]
fn vote_request_comes_after_the_persist_of_the_new_term_and_self_vote() {
    let mut n = node(no_pre_vote(), 1, &[1, 2, 3]);
    let (_, out) = fire(&mut n);
    let persisted = position(&out, |o| *o == persist(1, Some(1))).expect("persist");
    let requested = position(&out, |o| *o == broadcast(vote_request(1))).expect("request");
    assert!(persisted < requested, "{out:?}");
}

#[test]
fn vote_request_carries_the_candidates_freshness() {
    let mut n = node(no_pre_vote(), 1, &[1, 2, 3]);
    let _ = n.step(Input::SetFreshness(Freshness::new(4, 17)), ms(1));
    let (_, out) = fire(&mut n);
    assert!(out.contains(&broadcast(vote_request_with(
        1,
        false,
        Freshness::new(4, 17)
    ))));
}

#[test]
fn candidate_starts_a_new_election_when_its_timer_fires() {
    let (mut n, _) = candidate(no_pre_vote(), &[1, 2, 3]);
    let (_, out) = fire(&mut n);
    assert_eq!(out, vec![persist(2, Some(1)), broadcast(vote_request(2))]);
    assert_eq!((n.role(), n.term()), (Role::Candidate, t(2)));
}

#[test]
fn node_at_the_last_term_never_campaigns() {
    let mut n = restarted(no_pre_vote(), 1, &[1, 2, 3], hard(u64::MAX, None));
    let (_, out) = fire(&mut n);
    assert_eq!(out, vec![]);
    assert_eq!((n.role(), n.term()), (Role::Follower, t(u64::MAX)));
}

// ---- Counting votes --------------------------------------------------------------

#[test]
fn candidate_with_a_majority_becomes_leader_and_heartbeats_at_once() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let out = n.step(recv(3, vote_response(1, true)), now);
    assert_eq!(
        out,
        vec![
            broadcast(heartbeat_at(1, now)),
            role_changed(Role::Leader, 1),
            leader_changed(Some(1), 1),
        ]
    );
    assert_eq!((n.role(), n.leader()), (Role::Leader, Some(1)));
    assert_eq!(n.stats().elections_won, 1);
}

#[test]
fn candidate_without_a_majority_stays_candidate() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3, 4, 5]);
    let out = n.step(recv(2, vote_response(1, true)), now);
    assert_eq!(out, vec![]);
    assert_eq!(n.role(), Role::Candidate);
    let out = n.step(recv(4, vote_response(1, true)), now);
    assert_eq!(n.role(), Role::Leader, "{out:?}");
}

#[test]
fn duplicated_grant_counts_once() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3, 4, 5]);
    let _ = n.step(recv(2, vote_response(1, true)), now);
    let out = n.step(recv(2, vote_response(1, true)), now);
    assert_eq!(out, vec![]);
    assert_eq!(n.role(), Role::Candidate, "a duplicate made a majority");
    assert_eq!(n.stats().dropped_duplicate, 1);
}

#[test]
fn grant_from_a_learner_never_counts() {
    // Candidate 3 (not the first voter, so a learner's answer cannot hide behind the
    // candidate's own mark).
    let config = no_pre_vote();
    let mut n =
        ballot::Election::new(config, 3, members(&[1, 2, 3], &[4, 5]), None, ms(0)).unwrap();
    let (now, _) = fire(&mut n);
    assert_eq!(n.role(), Role::Candidate);
    let _ = n.step(recv(4, vote_response(1, true)), now);
    let _ = n.step(recv(5, vote_response(1, true)), now);
    assert_eq!(
        n.role(),
        Role::Candidate,
        "learners' grants made a majority"
    );
    // Learners get the broadcast request too, so their answers are normal, not anomalies.
    assert_eq!(n.stats().dropped_unexpected, 0);
    let _ = n.step(recv(1, vote_response(1, true)), now);
    assert!(n.is_leader(), "a voter's grant still counts");
}

#[test]
fn grant_from_a_non_member_never_counts() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let out = n.step(recv(9, vote_response(1, true)), now);
    assert_eq!(out, vec![]);
    assert_eq!(n.role(), Role::Candidate);
    assert_eq!(n.stats().dropped_unknown_sender, 1);
}

#[test]
fn candidates_own_vote_echoed_back_never_counts_twice() {
    // A message "from" this node itself is dropped, so it cannot add a second self-vote.
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let _ = n.step(recv(1, vote_response(1, true)), now);
    assert_eq!(n.role(), Role::Candidate);
    assert_eq!(n.stats().dropped_unknown_sender, 1);
}

#[test]
fn grant_for_an_earlier_term_never_counts() {
    let (mut n, _) = candidate(no_pre_vote(), &[1, 2, 3]);
    let (now, _) = fire(&mut n); // now candidate of term 2
    assert_eq!(n.term(), t(2));
    let out = n.step(recv(2, vote_response(1, true)), now);
    assert_eq!(out, vec![]);
    assert_eq!(n.role(), Role::Candidate);
    assert_eq!(n.stats().dropped_stale, 1);
}

#[test]
fn pre_vote_grant_never_counts_as_a_real_vote() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    // A pre-vote grant for "term 1" (asked at term 0) is stale for a candidate of term 1.
    let _ = n.step(recv(2, pre_vote_response(1, true)), now);
    assert_eq!(n.role(), Role::Candidate);
}

#[test]
fn candidate_returns_to_follower_on_a_quorum_of_rejections() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    assert_eq!(n.step(recv(2, vote_response(1, false)), now), vec![]);
    let out = n.step(recv(3, vote_response(1, false)), now);
    assert_eq!(out, vec![role_changed(Role::Follower, 1)]);
    // Same term, and the self-vote stands: it cannot vote for anyone else in term 1.
    assert_eq!((n.term(), n.voted_for()), (t(1), Some(1)));
}

#[test]
fn losing_candidate_keeps_the_election_timer_of_its_round() {
    // Re-arming at the moment the refusals arrive would restart every losing candidate's
    // timer together and keep split votes in lock-step (docs/figure16.md, 150-151 ms).
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let deadline = n.next_deadline();
    let later = now + core::time::Duration::from_millis(40);
    let _ = n.step(recv(2, vote_response(1, false)), later);
    let _ = n.step(recv(3, vote_response(1, false)), later);
    assert_eq!(n.role(), Role::Follower);
    assert_eq!(n.next_deadline(), deadline);
}

#[test]
fn losing_pre_candidate_keeps_the_election_timer_of_its_round() {
    let mut n = node(config(), 1, &[1, 2, 3]);
    let (now, _) = fire(&mut n);
    assert_eq!(n.role(), Role::PreCandidate);
    let deadline = n.next_deadline();
    let later = now + core::time::Duration::from_millis(40);
    let _ = n.step(recv(2, pre_vote_response(1, false)), later);
    let _ = n.step(recv(3, pre_vote_response(1, false)), later);
    assert_eq!(n.role(), Role::Follower);
    assert_eq!(n.next_deadline(), deadline);
}

#[test]
fn late_grant_after_the_election_is_over_is_dropped() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let _ = n.step(recv(2, vote_response(1, true)), now);
    assert_eq!(n.role(), Role::Leader);
    let out = n.step(recv(3, vote_response(1, true)), now);
    assert_eq!(out, vec![]);
    assert_eq!(n.stats().dropped_unexpected, 1);
}

#[test]
fn candidate_becomes_follower_on_a_heartbeat_of_its_term() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
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

// ---- Stale terms converge ---------------------------------------------------------

#[test]
fn stuck_candidate_converges_on_a_lower_term_vote_reply() {
    // The voter is at term 5 and answers the term-1 request with its own term.
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let out = n.step(recv(2, vote_response(5, false)), now);
    assert_eq!(out, vec![persist(5, None), role_changed(Role::Follower, 5)]);
    assert_eq!(
        (n.role(), n.term(), n.voted_for()),
        (Role::Follower, t(5), None)
    );
}

#[test]
fn lower_term_vote_request_is_answered_with_our_term() {
    let mut n = restarted(no_pre_vote(), 2, &[1, 2, 3], hard(5, None));
    let before = snapshot(&n);
    let out = n.step(recv(1, vote_request(3)), ms(1));
    assert_eq!(out, vec![send(1, vote_response(5, false))]);
    assert_eq!(snapshot(&n), before);
    assert_eq!(n.stats().dropped_stale, 1);
}

// ---- Granting votes -----------------------------------------------------------------

#[test]
fn follower_grants_its_vote_to_the_first_candidate_of_a_term() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let out = n.step(recv(1, vote_request(1)), ms(1));
    assert_eq!(
        out,
        vec![persist(1, Some(1)), send(1, vote_response(1, true))]
    );
    assert_eq!((n.term(), n.voted_for()), (t(1), Some(1)));
    assert_eq!(n.stats().votes_granted, 1);
}

#[test]
fn vote_grant_comes_after_the_persist_of_the_vote() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let out = n.step(recv(3, vote_request(4)), ms(1));
    let persisted = position(&out, |o| *o == persist(4, Some(3))).expect("persist");
    let granted = position(&out, |o| *o == send(3, vote_response(4, true))).expect("grant");
    assert!(persisted < granted, "{out:?}");
}

#[test]
fn follower_rejects_a_second_candidate_of_the_same_term() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let _ = n.step(recv(1, vote_request(1)), ms(1));
    let out = n.step(recv(3, vote_request(1)), ms(2));
    assert_eq!(out, vec![send(3, vote_response(1, false))]);
    assert_eq!(n.voted_for(), Some(1));
}

#[test]
fn follower_grants_again_to_the_candidate_it_voted_for() {
    // A retransmitted request gets the same answer, and nothing new to persist.
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let _ = n.step(recv(1, vote_request(1)), ms(1));
    let out = n.step(recv(1, vote_request(1)), ms(2));
    assert_eq!(out, vec![send(1, vote_response(1, true))]);
}

#[test]
fn higher_term_vote_request_is_adopted_and_clears_the_vote() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let _ = n.step(recv(1, vote_request(1)), ms(1));
    let out = n.step(recv(3, vote_request(2)), ms(2));
    assert_eq!(
        out,
        vec![persist(2, Some(3)), send(3, vote_response(2, true))]
    );
}

#[test]
fn higher_term_vote_request_outside_stickiness_forgets_the_leader() {
    let mut n = follower_of(no_pre_vote(), 2, &[1, 2, 3], 1, 1, ms(0));
    let out = n.step(recv(3, vote_request(2)), ms(200)); // 200ms > 150ms: not sticky
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
fn candidate_of_a_lower_term_steps_down_on_a_higher_term_vote_request() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let out = n.step(recv(2, vote_request(2)), now);
    assert_eq!(
        out,
        vec![
            persist(2, Some(2)),
            send(2, vote_response(2, true)),
            role_changed(Role::Follower, 2),
        ]
    );
}

#[test]
fn candidate_rejects_a_rival_of_its_own_term() {
    let (mut n, now) = candidate(no_pre_vote(), &[1, 2, 3]);
    let out = n.step(recv(2, vote_request(1)), now);
    assert_eq!(out, vec![send(2, vote_response(1, false))]);
    assert_eq!(n.role(), Role::Candidate);
}

#[test]
fn leader_rejects_a_vote_request_of_its_own_term() {
    let (mut n, now) = leader(no_pre_vote(), &[1, 2, 3]);
    let out = n.step(recv(3, vote_request(1)), now);
    assert_eq!(out, vec![send(3, vote_response(1, false))]);
    assert_eq!(n.role(), Role::Leader);
}

#[test]
fn vote_is_refused_in_a_term_whose_leader_is_known() {
    // Outside the stickiness window, same term: the follower knows leader 1 of term 1
    // and has not voted; a rival candidate of that term gets no vote.
    let mut n = follower_of(no_pre_vote(), 2, &[1, 2, 3], 1, 1, ms(0));
    let out = n.step(recv(3, vote_request(1)), ms(200));
    assert_eq!(out, vec![send(3, vote_response(1, false))]);
    assert_eq!(
        n.voted_for(),
        Some(1),
        "following leader 1 counts as its vote"
    );
}

#[test]
fn vote_is_refused_to_a_less_fresh_candidate() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let _ = n.step(Input::SetFreshness(Freshness::new(2, 5)), ms(0));
    let stale = vote_request_with(1, false, Freshness::new(2, 4));
    let out = n.step(recv(1, stale), ms(1));
    // The term is still adopted (it is higher), but the vote is refused.
    assert_eq!(
        out,
        vec![persist(1, None), send(1, vote_response(1, false))]
    );
    let older_term = vote_request_with(2, false, Freshness::new(1, 99));
    let out = n.step(recv(3, older_term), ms(2));
    assert_eq!(
        out,
        vec![persist(2, None), send(3, vote_response(2, false))]
    );
}

#[test]
fn vote_is_granted_to_an_equally_or_more_fresh_candidate() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let _ = n.step(Input::SetFreshness(Freshness::new(2, 5)), ms(0));
    let equal = vote_request_with(1, false, Freshness::new(2, 5));
    assert!(
        n.step(recv(1, equal), ms(1))
            .contains(&send(1, vote_response(1, true)))
    );
    let newer_term = vote_request_with(2, false, Freshness::new(3, 0));
    assert!(
        n.step(recv(3, newer_term), ms(2))
            .contains(&send(3, vote_response(2, true)))
    );
}

#[test]
fn vote_reply_echoes_the_request_term() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let out = n.step(recv(1, vote_request(7)), ms(1));
    assert!(out.contains(&send(1, vote_response(7, true))));
    let out = n.step(recv(3, vote_request(7)), ms(2));
    assert!(out.contains(&send(3, vote_response(7, false))));
}

#[test]
fn vote_grant_restarts_the_election_countdown_without_redrawing() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let timeout = n.next_deadline().unwrap() - ms(0);
    let _ = n.step(recv(1, vote_request(1)), ms(100));
    assert_eq!(n.next_deadline(), Some(ms(100) + timeout));
}

#[test]
fn vote_rejection_does_not_restart_the_election_countdown() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let _ = n.step(recv(1, vote_request(1)), ms(10));
    let deadline = n.next_deadline();
    let _ = n.step(recv(3, vote_request(1)), ms(100));
    assert_eq!(n.next_deadline(), deadline);
}

// ---- Restart and durability ----------------------------------------------------------

#[test]
fn restarted_node_resumes_its_persisted_term_and_vote() {
    let n = restarted(no_pre_vote(), 2, &[1, 2, 3], hard(5, Some(3)));
    assert_eq!(
        (n.role(), n.term(), n.voted_for(), n.leader()),
        (Role::Follower, t(5), Some(3), None)
    );
}

#[test]
fn restarted_node_cannot_vote_twice_in_a_term() {
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let out = n.step(recv(1, vote_request(1)), ms(1));
    let durable = *persists(&out).last().expect("the vote was persisted");
    drop(n); // crash
    let mut n = restarted(no_pre_vote(), 2, &[1, 2, 3], durable);
    let out = n.step(recv(3, vote_request(1)), ms(2));
    assert_eq!(out, vec![send(3, vote_response(1, false))]);
    // The candidate it did vote for still gets the same answer.
    let out = n.step(recv(1, vote_request(1)), ms(3));
    assert_eq!(out, vec![send(1, vote_response(1, true))]);
}

#[test]
fn restarted_candidate_does_not_reuse_its_term() {
    let (n, _) = candidate(no_pre_vote(), &[1, 2, 3]);
    let mut n = restarted(no_pre_vote(), 1, &[1, 2, 3], n.hard_state());
    // Late grants for the term it campaigned in before the crash do not elect it.
    let _ = n.step(recv(2, vote_response(1, true)), ms(1));
    assert_eq!(n.role(), Role::Follower);
    let (_, out) = fire(&mut n);
    assert_eq!(out[0], persist(2, Some(1)));
}

#[test]
fn at_most_one_persist_per_step() {
    // Adopting a term and voting in one step: one Persist carrying both.
    let mut n = node(no_pre_vote(), 2, &[1, 2, 3]);
    let out = n.step(recv(1, vote_request(3)), ms(1));
    assert_eq!(persists(&out), vec![hard(3, Some(1))]);
    // Pre-candidate, candidate and leader in one step: one Persist.
    let mut single = node(config(), 1, &[1]);
    let (_, out) = fire(&mut single);
    assert_eq!(persists(&out), vec![hard(1, Some(1))]);
}

#[test]
fn nothing_is_persisted_when_term_and_vote_are_unchanged() {
    let mut n = follower_of(no_pre_vote(), 2, &[1, 2, 3], 1, 1, ms(0));
    let out = n.step(recv(1, heartbeat(1)), ms(50));
    assert_eq!(persists(&out), vec![]);
}

// ---- Single voter ------------------------------------------------------------------------

#[test]
fn single_voter_cluster_elects_itself_in_one_step() {
    let mut n = node(config(), 1, &[1]);
    let (at, out) = fire(&mut n);
    assert_eq!(
        out,
        vec![
            persist(1, Some(1)),
            broadcast(heartbeat_at(1, at)),
            role_changed(Role::Leader, 1),
            leader_changed(Some(1), 1),
        ]
    );
    assert!(n.is_leader());
}

#[test]
fn new_term_heartbeat_comes_after_the_persist_of_that_term() {
    let mut n = node(no_pre_vote(), 1, &[1]);
    let (at, out) = fire(&mut n);
    let persisted = position(&out, |o| *o == persist(1, Some(1))).expect("persist");
    let heartbeat = position(&out, |o| *o == broadcast(heartbeat_at(1, at))).expect("heartbeat");
    assert!(persisted < heartbeat, "{out:?}");
}

#[test]
fn events_report_the_final_role_once_per_step() {
    // Follower → pre-candidate → candidate → leader in one step: one RoleChanged.
    let mut n = node(config(), 1, &[1]);
    let (_, out) = fire(&mut n);
    let roles: Vec<_> = out
        .iter()
        .filter(|o| matches!(o, ballot::Output::RoleChanged { .. }))
        .collect();
    assert_eq!(roles, vec![&role_changed(Role::Leader, 1)]);
    // Events come last, after everything the caller must do.
    assert!(matches!(
        out.last(),
        Some(ballot::Output::LeaderChanged { .. })
    ));
}
