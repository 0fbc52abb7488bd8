//! The persistence pipeline: outputs wait behind an in-flight write, in order;
//! writes coalesce; a failed write stops everything; losing leadership is reported
//! at once. A property test checks that nothing ever leaves before the writes it
//! follows are durable, whatever the interleaving of steps and completions.

use ballot::pipeline::{MAX_HELD_MESSAGES, Pipeline};
use ballot::{CommandError, HardState, Instant, Message, Output, Role, Term};
use proptest::prelude::*;

fn persist(term: u64) -> Output<u64> {
    Output::Persist(HardState {
        term: Term(term),
        voted_for: Some(1),
    })
}
fn send(tag: u64) -> Output<u64> {
    Output::Send {
        to: tag,
        message: Message::Heartbeat {
            term: Term(1),
            sent: Instant::ZERO,
            hand_over: false,
        },
    }
}
fn role(role: Role, term: u64) -> Output<u64> {
    Output::RoleChanged {
        role,
        term: Term(term),
    }
}
fn leader(leader: Option<u64>, term: u64) -> Output<u64> {
    Output::LeaderChanged {
        leader,
        term: Term(term),
    }
}

#[test]
fn everything_after_a_write_waits_for_it_across_steps_in_order() {
    let mut p = Pipeline::new();
    let mut ready = Vec::new();
    let s1 = p.push([send(1), persist(1), send(2)], &mut ready);
    assert_eq!(ready, [send(1), persist(1)]);
    assert_eq!(p.released_through(), s1 - 1, "step 1 waits for its write");
    ready.clear();
    let s2 = p.push([send(3), role(Role::Candidate, 1)], &mut ready);
    assert!(ready.is_empty(), "a later step waits behind the write too");
    p.durable(&mut ready);
    assert_eq!(ready, [send(2), send(3), role(Role::Candidate, 1)]);
    assert_eq!(p.released_through(), s2);
    assert!(p.is_idle());
}

#[test]
fn a_queued_write_is_replaced_by_a_later_one() {
    let mut p = Pipeline::new();
    let mut ready = Vec::new();
    p.push([persist(1), send(1)], &mut ready);
    p.push([persist(2), send(2)], &mut ready);
    p.push([persist(3), send(3)], &mut ready);
    p.push([role(Role::Follower, 3)], &mut ready);
    assert_eq!(ready, [persist(1)]);
    ready.clear();
    p.durable(&mut ready);
    // Write 2 never starts: write 3 replaces it.
    assert_eq!(ready, [send(1), persist(3)]);
    ready.clear();
    p.durable(&mut ready);
    // send(2) was emitted under write 2's state, which is never written: dropped.
    assert_eq!(ready, [send(3), role(Role::Follower, 3)]);
    assert_eq!(p.stats().writes_coalesced, 1);
    assert_eq!(p.stats().superseded_messages, 1);
    assert_eq!(p.stats().writes_started, 2);
}

#[test]
fn a_failed_write_drops_everything_held_and_halts() {
    let mut p = Pipeline::new();
    let mut ready = Vec::new();
    let s1 = p.push([persist(1), send(1)], &mut ready);
    ready.clear();
    p.failed();
    p.durable(&mut ready); // a late completion changes nothing
    p.push([send(2)], &mut ready);
    assert!(ready.is_empty(), "nothing leaves after a failed write");
    assert!(p.is_halted());
    assert!(p.released_through() < s1);
}

#[test]
fn losing_leadership_is_reported_at_once_with_the_term_it_led() {
    let mut p = Pipeline::new();
    let mut ready = Vec::new();
    p.push(
        [persist(5), role(Role::Leader, 5), leader(Some(1), 5)],
        &mut ready,
    );
    p.durable(&mut ready);
    ready.clear();
    // A higher term arrives: its write stalls, but the step-down may not wait.
    p.push(
        [persist(6), role(Role::Follower, 6), leader(Some(2), 6)],
        &mut ready,
    );
    assert_eq!(
        ready,
        [persist(6), role(Role::Follower, 5), leader(None, 5)],
        "the write starts and the loss of leadership is reported now, in the led term"
    );
    ready.clear();
    p.durable(&mut ready);
    assert_eq!(ready, [role(Role::Follower, 6), leader(Some(2), 6)]);
    assert_eq!(p.stats().early_step_downs, 1);
}

#[test]
fn becoming_leader_waits_for_the_write() {
    let mut p = Pipeline::new();
    let mut ready = Vec::new();
    p.push(
        [persist(1), role(Role::Leader, 1), leader(Some(1), 1)],
        &mut ready,
    );
    assert_eq!(ready, [persist(1)]);
}

#[test]
fn rejections_keep_their_place() {
    let mut p = Pipeline::new();
    let mut ready = Vec::new();
    p.push([persist(1)], &mut ready);
    ready.clear();
    p.push([Output::Rejected(CommandError::NotLeader)], &mut ready);
    assert!(ready.is_empty());
    p.durable(&mut ready);
    assert_eq!(ready, [Output::Rejected(CommandError::NotLeader)]);
}

#[test]
fn held_messages_are_bounded_but_events_are_not_dropped() {
    let mut p = Pipeline::new();
    let mut ready = Vec::new();
    p.push([persist(1)], &mut ready);
    for i in 0..(MAX_HELD_MESSAGES as u64 + 10) {
        p.push([send(i)], &mut ready);
    }
    p.push([role(Role::Candidate, 1)], &mut ready);
    assert_eq!(p.stats().dropped_messages, 10);
    ready.clear();
    p.durable(&mut ready);
    assert_eq!(ready.len(), MAX_HELD_MESSAGES + 1);
    assert_eq!(ready.last(), Some(&role(Role::Candidate, 1)));
}

/// One thing that happens to a pipeline in the property test.
#[derive(Clone, Debug)]
enum Op {
    /// A step's outputs, as kinds: 0 persist, 1 send, 2 become leader, 3 become
    /// follower, 4 leader changed, 5 rejected.
    Push(Vec<u8>),
    /// The write in flight finished.
    Durable,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        3 => prop::collection::vec(0u8..6, 0..5).prop_map(Op::Push),
        2 => Just(Op::Durable),
    ];
    prop::collection::vec(op, 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Every output is tagged with its position in the stream the node emitted
    /// (terms and ids carry it). Whatever the interleaving:
    /// * a message leaves only once the last write emitted before it is durable —
    ///   that very write, not a later one that replaced it;
    /// * an event leaves only once every write before it is durable (or covered by
    ///   a later durable write);
    /// * at most one write is in flight; outputs leave in emission order, once;
    /// * early step-down reports are the only exception, carry the term last
    ///   reported, and come only while leading;
    /// * once the disk catches up, every event and every message whose write was
    ///   made durable has left, and the last write is durable.
    #[test]
    fn nothing_leaves_before_the_write_it_follows_is_durable(ops in ops()) {
        let mut p = Pipeline::<u64>::new();
        let mut ready = Vec::new();
        let mut pos = 0u64; // position of the next emitted output (1-based)
        let mut persists: Vec<u64> = Vec::new(); // positions of emitted persists
        let mut emitted_plain: Vec<(u64, bool)> = Vec::new(); // (tag, is a message)
        let mut written: std::collections::BTreeSet<u64> = Default::default();
        let mut released_plain: Vec<u64> = Vec::new();
        let mut in_flight: Option<u64> = None;
        let mut durable = 0u64; // position of the latest durable write
        let mut last_released = 0u64;
        let mut leading = false;
        let mut reported_term = 0u64;

        let mut check = |ready: &mut Vec<Output<u64>>,
                         in_flight: &mut Option<u64>,
                         durable: u64,
                         persists: &[u64],
                         written: &std::collections::BTreeSet<u64>,
                         released_plain: &mut Vec<u64>|
         -> Result<(), TestCaseError> {
            for out in ready.drain(..) {
                let (tag, early) = match out {
                    Output::Persist(hs) => (hs.term.get(), false),
                    Output::Send { to, .. } => (to, false),
                    Output::RoleChanged { term, .. } => (term.get(), term.get() <= last_released),
                    Output::LeaderChanged { leader, term } => (term.get(), leader.is_none()),
                    Output::Rejected(CommandError::AlreadyVoter(tag)) => (tag, false),
                    other => return Err(TestCaseError::fail(format!("unexpected {other:?}"))),
                };
                if early {
                    prop_assert_eq!(tag, reported_term, "early report carries the reported term");
                    if let Output::RoleChanged { role, .. } = out {
                        prop_assert!(leading, "early step-down only while leading");
                        prop_assert_ne!(role, Role::Leader);
                        leading = false;
                    }
                    continue;
                }
                let needed = persists.iter().copied().filter(|&q| q < tag).max().unwrap_or(0);
                if let Output::Persist(_) = out {
                    // One write at a time; the one it replaces (coalesced) never starts.
                    prop_assert!(in_flight.is_none(), "write {} started while another is in flight", tag);
                    *in_flight = Some(tag);
                    continue;
                }
                prop_assert!(durable >= needed,
                    "output {} left before write {} was durable (durable: {})", tag, needed, durable);
                if let Output::Send { .. } = out {
                    prop_assert!(needed == 0 || written.contains(&needed),
                        "message {} left, but the write {} it was emitted under was never written", tag, needed);
                }
                // Writes may move up (a coalesced write takes the replaced one's place);
                // everything else leaves in emission order.
                prop_assert!(tag > last_released, "order: {} after {}", tag, last_released);
                last_released = tag;
                if let Output::RoleChanged { role, term } = out {
                    leading = role == Role::Leader;
                    reported_term = term.get();
                }
                if let Output::LeaderChanged { term, .. } = out {
                    reported_term = term.get();
                }
                released_plain.push(tag);
            }
            Ok(())
        };

        for op in ops.into_iter().chain(core::iter::repeat_n(Op::Durable, 200)) {
            match op {
                Op::Push(kinds) => {
                    let batch: Vec<Output<u64>> = kinds
                        .into_iter()
                        .map(|k| {
                            pos += 1;
                            match k {
                                0 => {
                                    persists.push(pos);
                                    Output::Persist(HardState { term: Term(pos), voted_for: None })
                                }
                                1 => send(pos),
                                2 => role(Role::Leader, pos),
                                3 => role(Role::Follower, pos),
                                4 => leader(Some(1), pos),
                                _ => Output::Rejected(CommandError::AlreadyVoter(pos)),
                            }
                        })
                        .inspect(|o| if !matches!(o, Output::Persist(_)) {
                            if let Output::Send { to, .. } = o { emitted_plain.push((*to, true)) }
                            else if let Output::RoleChanged { term, .. } | Output::LeaderChanged { term, .. } = o { emitted_plain.push((term.get(), false)) }
                            else if let Output::Rejected(CommandError::AlreadyVoter(t)) = o { emitted_plain.push((*t, false)) }
                        })
                        .collect();
                    p.push(batch, &mut ready);
                }
                Op::Durable => {
                    if let Some(w) = in_flight.take() {
                        durable = w;
                        written.insert(w);
                    }
                    p.durable(&mut ready);
                }
            }
            check(&mut ready, &mut in_flight, durable, &persists, &written, &mut released_plain)?;
        }
        prop_assert!(p.is_idle());
        let expected: Vec<u64> = emitted_plain
            .iter()
            .filter(|(tag, message)| {
                let needed = persists.iter().copied().filter(|q| q < tag).max().unwrap_or(0);
                !message || needed == 0 || written.contains(&needed)
            })
            .map(|(tag, _)| *tag)
            .collect();
        prop_assert_eq!(&released_plain, &expected, "everything left, once, in order");
        let superseded = (emitted_plain.len() - expected.len()) as u64;
        prop_assert_eq!(p.stats().superseded_messages, superseded);
        if let Some(&last) = persists.last() {
            prop_assert_eq!(durable, last, "the last write is durable");
        }
    }
}
