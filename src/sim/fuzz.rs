//! Entry points for fuzzers: each turns arbitrary bytes into a run and panics if a
//! rule is broken.
//!
//! The cargo-fuzz targets in `fuzz/` are one-line calls into these functions, and
//! `tests/fuzz_replay.rs` replays byte strings through the same code on stable, so a
//! crash the fuzzer finds becomes a regression test by pasting its bytes.
//!
//! * [`single_node`]: one [`Election`] fed any input sequence — messages from
//!   members, strangers and itself with any term, every command, time going
//!   backwards or jumping to the end of time, restarts from the last `Persist`.
//!   Checks the output contract after every step.
//! * [`wire`]: [`Message::decode`] on any bytes; what decodes re-encodes exactly.
//! * [`frame`]: [`Frame::decode`](crate::frame::Frame::decode) on any bytes, for
//!   integer and 16-byte ids; what decodes re-encodes exactly, tag included.
//! * [`cluster`]: a small simulated cluster under a fault schedule decoded from the
//!   bytes; checks the simulator's safety invariants, then liveness after healing.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::time::Duration;

use crate::sim::SimOptions;
use crate::{
    CommandError, Config, Election, Freshness, HardState, Input, Instant, Membership, Message,
    Output, Role, Term,
};

/// Reads the fuzzer's bytes as a stream of small numbers; zeros when exhausted.
struct Bytes<'a> {
    data: &'a [u8],
}

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: u64) -> u64 {
        u64::from(self.byte()) % n.max(1)
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| (acc << 8) | u64::from(self.byte()))
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Runs one node through the input sequence `data` encodes and checks, after every
/// step, the output contract:
///
/// * at most one `Persist`, first among the step's outputs, equal to the node's new
///   hard state, and present whenever term or vote changed;
/// * the term never decreases, across restarts; at most one vote per term;
/// * a granted vote, a vote request and a heartbeat leave only for a term (and vote)
///   already persisted;
/// * heartbeats come only from a leader; a timer is always armed, and after a tick
///   at any usable `now` (up to the last instant of the usable range) no timer is
///   due any more;
/// * a step at an out-of-range `now` (README rule 5: `now + election_timeout_max`
///   does not fit below `Instant::MAX`) changes nothing — status, membership,
///   freshness, deadline — and emits nothing but `Rejected` for a command; after
///   it the node still works at usable times.
///
/// # Panics
///
/// When a rule is broken (that is the point). Never for any other reason.
pub fn single_node(data: &[u8]) {
    let mut b = Bytes { data };
    let flags = b.byte();
    let voters = 1 + b.below(5);
    let learners = b.below(3);
    let config = Config::default()
        .with_pre_vote(flags & 1 != 0)
        .with_check_quorum(flags & 2 != 0)
        .with_min_voters(1 + (u64::from(flags >> 2) % voters) as usize)
        .with_seed(u64::from(flags))
        .with_witness(flags & 0x40 != 0)
        .with_priority((flags >> 4) & 3);
    let id = if flags & 0x80 != 0 { voters + 1 } else { 1 };
    let membership = Membership::with_learners(1..=voters, voters + 1..=voters + learners)
        .expect("distinct ids");
    let mut now = Instant::from_millis(b.below(1000));
    let persisted = (flags & 0x40 != 0).then(|| HardState {
        term: Term(b.below(4)),
        voted_for: Some(1 + b.below(voters + learners)),
    });
    let mut durable = persisted.unwrap_or_default();
    let mut node =
        Election::new(config, id, membership.clone(), persisted, now).expect("valid config");
    let mut votes: BTreeMap<Term, u64> = BTreeMap::new();
    if let Some(v) = durable.voted_for {
        votes.insert(durable.term, v);
    }
    let mut out: Vec<Output<u64>> = Vec::new();
    let peers = voters + learners + 2; // members, one stranger, and the node itself
    let max_timeout = config.election_timeout_max;
    // Ordinary steps stay in the usable range (a timer due after its last instant
    // never fires: that is the documented end of the range).
    let last = last_usable(max_timeout);
    while !b.is_empty() {
        let input = match b.below(9) {
            0 | 1 => {
                now = now
                    .saturating_add(Duration::from_millis(b.below(400)))
                    .min(last);
                Input::Tick
            }
            2 => {
                now = node.next_deadline().unwrap_or(now).max(now).min(last);
                Input::Tick
            }
            3 | 4 => message(&mut b, &node, peers),
            5 => command(&mut b, &membership, peers),
            6 => {
                // Time goes backwards, or jumps ahead anywhere in the usable range
                // (up to its very last instant).
                let end = last.as_nanos();
                now = match b.below(3) {
                    0 => now - Duration::from_millis(b.below(500)),
                    1 => Instant::from_nanos(end - b.below(3)),
                    _ => Instant::from_nanos(now.as_nanos().max(b.u64() % (end + 1))),
                };
                Input::Tick
            }
            7 => {
                // One step at an out-of-range `now` (README rule 5), anywhere from the
                // first out-of-range instant to `Instant::MAX`; `now` itself stays.
                let first = last.as_nanos() + 1;
                let at = match b.below(3) {
                    0 => first + b.below(3),
                    1 => u64::MAX - b.below(3),
                    _ => first + b.u64() % (u64::MAX - first + 1),
                };
                let input = match b.below(3) {
                    0 => Input::Tick,
                    1 => message(&mut b, &node, peers),
                    _ => command(&mut b, &membership, peers),
                };
                out_of_range_step(&mut node, input, Instant::from_nanos(at), now, last);
                continue;
            }
            _ => {
                // Crash and restart from the last durable state.
                let resumed = node.membership().clone();
                // `now` is always in the usable range here (out-of-range steps do
                // not move it), so the restart is at a working clock.
                node =
                    Election::new(config, id, resumed, Some(durable), now).expect("valid config");
                continue;
            }
        };
        let before = node.hard_state();
        let was_tick = matches!(input, Input::Tick);
        out.clear();
        node.step_into(input, now, &mut out);
        let after = node.hard_state();
        check_step(&out, before, after, id, node.role());
        assert!(
            after.term >= before.term,
            "term went back: {before:?} -> {after:?}"
        );
        if let Some(v) = after.voted_for {
            let first = *votes.entry(after.term).or_insert(v);
            assert_eq!(first, v, "two votes in {:?}", after.term);
        }
        durable = after;
        if was_tick {
            // Over the whole usable range of `now`: a tick never leaves a due timer.
            let next = node.next_deadline().expect("a timer is always armed");
            assert!(
                next > now,
                "a tick left a due timer behind: {next:?} <= {now:?}"
            );
        }
    }
}

/// The last usable `now` (README rule 5): `now + election_timeout_max` must stay
/// below `Instant::MAX`.
fn last_usable(max_timeout: Duration) -> Instant {
    let max = u64::try_from(max_timeout.as_nanos()).unwrap_or(u64::MAX);
    Instant::from_nanos(u64::MAX.saturating_sub(max).saturating_sub(1))
}

/// A message from any peer (members, a stranger, the node itself) with any term.
fn message(b: &mut Bytes<'_>, node: &Election<u64>, peers: u64) -> Input<u64> {
    let node_now = node.last_now;
    let from = 1 + b.below(peers);
    let term = match b.below(8) {
        0 => Term(u64::MAX),
        1 => Term(b.u64()),
        d => Term(node.term().get().saturating_add(d).saturating_sub(4)),
    };
    let message = match b.below(7) {
        0 | 1 => {
            // One byte: bit 0 pre-vote, bit 1 the transfer mark.
            let flags = b.byte();
            Message::VoteRequest {
                term,
                pre_vote: flags & 1 != 0,
                transfer: flags & 2 != 0,
                freshness: Freshness::new(b.below(3), b.below(3)),
            }
        }
        2 => Message::VoteResponse {
            term,
            pre_vote: b.byte() & 1 != 0,
            granted: b.byte() & 1 != 0,
        },
        3 | 4 => Message::Heartbeat {
            term,
            sent: fuzz_sent(b, node_now),
            hand_over: b.byte() & 1 != 0,
        },
        5 => Message::HeartbeatResponse {
            term,
            sent: fuzz_sent(b, node_now),
            freshness: Freshness::new(b.below(3), b.below(3)),
            priority: b.below(3) as u8,
            witness: b.byte() & 1 != 0,
        },
        _ => Message::TimeoutNow { term },
    };
    Input::Receive { from, message }
}

/// Any command.
fn command(b: &mut Bytes<'_>, membership: &Membership<u64>, peers: u64) -> Input<u64> {
    let who = 1 + b.below(peers);
    match b.below(10) {
        0 => Input::Campaign,
        1 => Input::StepDown,
        2 => Input::AddVoter(who),
        3 => Input::AddLearner(who),
        4 => Input::RemoveNode(who),
        5 => Input::SetMembership(membership.clone()),
        6 => Input::TransferLeadership(who),
        7 => Input::ForgetLeader,
        _ => Input::SetFreshness(Freshness::new(b.below(3), b.below(3))),
    }
}

/// README rule 5: a step at an out-of-range `at` changes nothing (state, timers,
/// membership, freshness), is counted in `Stats::clock_out_of_range`, and emits
/// nothing but, for a command, one `Rejected(ClockOutOfRange)`; the node then still
/// works at usable times: a tick at its deadline (or at the range's last instant)
/// leaves no timer due.
fn out_of_range_step(
    node: &mut Election<u64>,
    input: Input<u64>,
    at: Instant,
    now: Instant,
    last: Instant,
) {
    let command = !matches!(input, Input::Tick | Input::Receive { .. });
    let counted = node.stats().clock_out_of_range;
    let before = (
        node.status(),
        node.membership().clone(),
        node.freshness(),
        node.next_deadline(),
    );
    let described = alloc::format!("{input:?} at {at:?}");
    let out = node.step(input, at);
    let after = (
        node.status(),
        node.membership().clone(),
        node.freshness(),
        node.next_deadline(),
    );
    assert_eq!(
        before, after,
        "an out-of-range step changed the node: {described}"
    );
    assert_eq!(
        node.stats().clock_out_of_range,
        counted + 1,
        "an out-of-range step is counted: {described}"
    );
    if command {
        assert!(
            matches!(
                out[..],
                [Output::Rejected(CommandError::ClockOutOfRange { now: t })] if t == at
            ),
            "an out-of-range command must be rejected, and only that: {described} -> {out:?}"
        );
    } else {
        assert!(
            out.is_empty(),
            "an out-of-range step emitted {out:?}: {described}"
        );
    }
    // Still working afterwards, at usable times (a deadline past the usable range
    // never comes due: tick at the range's last instant then).
    let mut probe = node.clone();
    let tick_at = probe.next_deadline().unwrap_or(now).max(now).min(last);
    let _ = probe.step(Input::Tick, tick_at);
    let next = probe.next_deadline().expect("a timer is always armed");
    assert!(
        next > tick_at,
        "wedged after {described}: a tick at {tick_at:?} left the deadline at {next:?}"
    );
}

/// The output contract of one step.
fn check_step(
    out: &[Output<u64>],
    before: HardState<u64>,
    after: HardState<u64>,
    id: u64,
    role: Role,
) {
    let persists: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, Output::Persist(_)))
        .map(|(i, _)| i)
        .collect();
    if before != after {
        assert_eq!(
            persists,
            [0],
            "hard state changed without exactly one leading Persist: {out:?}"
        );
        assert_eq!(
            out[0],
            Output::Persist(after),
            "Persist does not carry the new state"
        );
    } else {
        assert!(persists.is_empty(), "Persist without a change: {out:?}");
    }
    for o in out {
        match *o {
            Output::Send {
                to,
                message:
                    Message::VoteResponse {
                        term,
                        pre_vote: false,
                        granted: true,
                    },
            } => {
                assert_eq!(
                    (after.term, after.voted_for),
                    (term, Some(to)),
                    "grant not persisted: {out:?}"
                );
            }
            Output::Broadcast {
                message:
                    Message::VoteRequest {
                        term,
                        pre_vote: false,
                        ..
                    },
            } => {
                assert_eq!(
                    (after.term, after.voted_for),
                    (term, Some(id)),
                    "request not persisted: {out:?}"
                );
            }
            Output::Broadcast {
                message:
                    Message::Heartbeat {
                        term, hand_over, ..
                    },
            } => {
                // A leader that stops leading in this step (StepDown, removal) may
                // announce its hand-over in a last heartbeat of the term it led.
                let handing_over = hand_over && after.voted_for == Some(id);
                assert!(
                    role == Role::Leader || handing_over,
                    "heartbeat from a non-leader: {out:?}"
                );
                assert_eq!(term, after.term, "heartbeat for another term: {out:?}");
            }
            _ => {}
        }
    }
}

/// Decodes `data` as a wire message; whatever decodes must re-encode to exactly
/// the same bytes (the encoding is canonical).
///
/// # Panics
///
/// When a decoded message does not re-encode to `data`.
pub fn wire(data: &[u8]) {
    if let Ok(message) = Message::decode(data) {
        assert_eq!(&*message.encode(), data, "{message:?} does not round-trip");
    }
}

/// Decodes `data` as a transport frame with `u64` and with `[u8; 16]` ids; a frame
/// that decodes must re-encode to exactly `data` (tag included), and its tag must
/// cover every byte before it.
///
/// # Panics
///
/// When a frame does not round-trip (decoding itself never panics).
pub fn frame(data: &[u8]) {
    frame_round_trip::<u64>(data);
    frame_round_trip::<[u8; 16]>(data);
}

fn frame_round_trip<I: crate::IdBytes>(data: &[u8]) {
    use crate::frame::{Frame, TAG_LEN};
    let Ok(got) = Frame::<I>::decode(data) else {
        return;
    };
    let mut out = Vec::new();
    match got.tag {
        Some(tag) => {
            assert_eq!(got.covered, &data[..data.len() - TAG_LEN], "tag coverage");
            got.frame.encode_tagged(&mut out, |_| *tag);
        }
        None => got.frame.encode(&mut out),
    }
    assert_eq!(out, data, "{:?} does not round-trip", got.frame);
}

/// A heartbeat's `sent` for a forged message: the origin, the far future, now, or
/// a little before now (a reply to a recent heartbeat).
fn fuzz_sent(b: &mut Bytes<'_>, now: Instant) -> Instant {
    match b.below(4) {
        0 => Instant::ZERO,
        1 => Instant::MAX,
        2 => now,
        _ => now - Duration::from_millis(b.below(400)),
    }
}

/// Runs a 3–5 node simulation under the fault schedule `data` encodes (crashes,
/// restarts, crashes between outputs, directed link cuts, isolation, heals,
/// membership changes), then heals everything and demands a stable leader.
///
/// # Panics
///
/// With the simulator's report (seed, options, violations) when a safety invariant
/// or liveness fails.
pub fn cluster(data: &[u8]) {
    let mut b = Bytes { data };
    let seed = b.u64();
    let nodes = 3 + b.below(3);
    let flags = b.byte();
    let config = Config::default()
        .with_pre_vote(flags & 1 == 0)
        .with_check_quorum(flags & 2 == 0);
    let mut sim = SimOptions::new(seed)
        .nodes(nodes as usize)
        .config(config)
        .build();
    let mut steps = 0;
    while !b.is_empty() && steps < 64 {
        steps += 1;
        let a = 1 + b.below(nodes);
        let c = 1 + b.below(nodes);
        match b.below(10) {
            0 => sim.crash(a),
            1 => sim.restart(a),
            2 => sim.crash_mid_batch(a, b.below(4) as usize),
            3 => sim.crash_during_next_write(a),
            4 | 5 => sim.cut(a, c),
            6 => sim.heal_link(a, c),
            7 => sim.isolate(a),
            8 => sim.heal_all(),
            _ => {
                let _ = sim.command(a, Input::Campaign);
            }
        }
        sim.run_for(Duration::from_millis(b.below(200)));
    }
    let live = sim.heal_and_check_liveness(sim.options().liveness_timeouts);
    let report = sim.report();
    assert!(live && report.is_ok(), "{report}");
}
