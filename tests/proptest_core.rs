//! Property tests of the core contract: random inputs and random `now` values
//! (backwards, far future, `u64::MAX`-ish) to one node, and random schedules for a
//! small in-memory cluster (delivery in any order, drops, duplicates, crashes,
//! restarts from the last `Persist`, crashes in the middle of a batch).
//!
//! Checked after every step: no panic; terms never decrease, across restarts; at
//! most one granted vote per (node, term), across restarts; `Persist` precedes every
//! output that depends on it; at most one `Persist` per step, first, equal to the
//! node's hard state; events at the end and consistent with the state; at most one
//! leader per term, and every leader was granted a majority of its term's votes.
//!
//! `PROPTEST_CASES=5000 cargo test --release --test proptest_core` runs more cases.

use ballot::{
    CommandError, Config, ConfigError, Election, Freshness, HardState, Input, Instant, Membership,
    Message, Output, Role, Term,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

// ---- The model: what a correct caller observes -------------------------------------

/// What one node has durably done, across all its lives.
#[derive(Default)]
struct History {
    /// The last `Persist` carried out (what a restart resumes from).
    disk: HardState<u64>,
    /// The candidate this node sent a granted vote to, per term.
    grants: BTreeMap<Term, u64>,
}

/// Votes sent, per (term, candidate), by distinct voters: to check that every
/// leader was granted a majority.
type Ballots = BTreeMap<(Term, u64), BTreeSet<u64>>;

/// Checks the shape of one step's outputs: at most one `Persist`, first; events
/// last; and, when `after` is the node after the step, that the `Persist` and the
/// events say exactly what changed.
fn check_batch(
    outputs: &[Output<u64>],
    before: &(Role, HardState<u64>, Option<u64>),
    node: &Election<u64>,
) -> Result<(), TestCaseError> {
    let persists: Vec<usize> = (0..outputs.len())
        .filter(|&i| matches!(outputs[i], Output::Persist(_)))
        .collect();
    prop_assert!(persists.len() <= 1, "two Persists in one step: {outputs:?}");
    if let Some(&at) = persists.first() {
        prop_assert_eq!(at, 0, "Persist is not first: {:?}", outputs);
    }
    let is_event =
        |o: &Output<u64>| matches!(o, Output::RoleChanged { .. } | Output::LeaderChanged { .. });
    if let Some(first_event) = outputs.iter().position(is_event) {
        prop_assert!(
            outputs[first_event..].iter().all(is_event),
            "an action after an event: {outputs:?}"
        );
    }
    let (role, hard, leader) = *before;
    let persisted = outputs.iter().find_map(|o| match o {
        Output::Persist(h) => Some(*h),
        _ => None,
    });
    if node.hard_state() != hard {
        prop_assert_eq!(
            persisted,
            Some(node.hard_state()),
            "hard state changed unpersisted"
        );
    } else {
        prop_assert_eq!(persisted, None, "Persist without a change");
    }
    let roles: Vec<_> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::RoleChanged { role, term } => Some((*role, *term)),
            _ => None,
        })
        .collect();
    if node.role() != role {
        prop_assert_eq!(roles, vec![(node.role(), node.term())]);
    } else {
        prop_assert_eq!(roles, vec![]);
    }
    let leaders: Vec<_> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::LeaderChanged { leader, term } => Some((*leader, *term)),
            _ => None,
        })
        .collect();
    if node.leader() != leader || (node.leader().is_some() && node.term() != hard.term) {
        prop_assert_eq!(leaders, vec![(node.leader(), node.term())]);
    } else {
        prop_assert_eq!(leaders, vec![]);
    }
    Ok(())
}

/// Carries out `outputs` for node `id` as a correct caller does — `Persist` made
/// durable before anything after it — checking that every output that depends on
/// the durable state comes after its `Persist`. Returns the messages sent.
fn carry_out(
    id: u64,
    outputs: &[Output<u64>],
    peers: &[u64],
    history: &mut History,
    ballots: &mut Ballots,
) -> Result<Vec<(u64, u64, Message)>, TestCaseError> {
    let mut sent = Vec::new();
    for output in outputs {
        let disk = history.disk;
        match *output {
            Output::Persist(hard) => {
                prop_assert!(
                    hard.term >= disk.term,
                    "durable term went back: {disk:?} -> {hard:?}"
                );
                if hard.term == disk.term && disk.voted_for.is_some() {
                    prop_assert_eq!(hard.voted_for, disk.voted_for, "vote changed within a term");
                }
                history.disk = hard;
            }
            Output::Send { to, message } => {
                match message {
                    Message::VoteResponse {
                        term,
                        pre_vote: false,
                        granted: true,
                    } => {
                        let voted = HardState {
                            term,
                            voted_for: Some(to),
                        };
                        prop_assert_eq!(disk, voted, "vote granted before it was persisted");
                        let first = *history.grants.entry(term).or_insert(to);
                        prop_assert_eq!(first, to, "node {} voted twice in {:?}", id, term);
                        ballots.entry((term, to)).or_default().insert(id);
                    }
                    Message::HeartbeatResponse { term, .. } => {
                        prop_assert!(term <= disk.term, "answered in an unpersisted term");
                    }
                    _ => {}
                }
                sent.push((id, to, message));
            }
            Output::Broadcast { message } => {
                match message {
                    Message::VoteRequest {
                        term,
                        pre_vote: false,
                        ..
                    }
                    | Message::Heartbeat { term, .. } => {
                        let own = HardState {
                            term,
                            voted_for: Some(id),
                        };
                        prop_assert_eq!(
                            disk,
                            own,
                            "{:?} before its term and self-vote were persisted",
                            message
                        );
                    }
                    _ => {}
                }
                sent.extend(peers.iter().map(|&to| (id, to, message)));
            }
            _ => {}
        }
    }
    Ok(sent)
}

// ---- One node, any input, any time ------------------------------------------------------

#[derive(Clone, Debug)]
enum When {
    Later(u64),
    Earlier(u64),
    At(u64),
    NearMax(u64),
    Deadline,
}

#[derive(Clone, Debug)]
enum Act {
    Input(Input<u64>),
    Restart,
}

fn term() -> impl Strategy<Value = Term> {
    prop_oneof![
        8 => (0u64..8).prop_map(Term),
        1 => (0u64..3).prop_map(|d| Term(u64::MAX - d)),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let freshness = (0u64..3, 0u64..3).prop_map(|(t, i)| Freshness::new(t, i));
    prop_oneof![
        (term(), any::<bool>(), any::<bool>(), freshness.clone()).prop_map(
            |(term, pre_vote, transfer, freshness)| Message::VoteRequest {
                term,
                pre_vote,
                transfer,
                freshness,
            }
        ),
        (term(), any::<bool>(), any::<bool>()).prop_map(|(term, pre_vote, granted)| {
            Message::VoteResponse {
                term,
                pre_vote,
                granted,
            }
        }),
        (term(), sent(), any::<bool>()).prop_map(|(term, sent, hand_over)| Message::Heartbeat {
            term,
            sent,
            hand_over
        }),
        (term(), sent(), freshness, 0u8..3, any::<bool>()).prop_map(
            |(term, sent, freshness, priority, witness)| {
                Message::HeartbeatResponse {
                    term,
                    sent,
                    freshness,
                    priority,
                    witness,
                }
            }
        ),
        term().prop_map(|term| Message::TimeoutNow { term }),
    ]
}

/// A heartbeat's send instant: the origin, the end of time, or anything between.
fn sent() -> impl Strategy<Value = Instant> {
    prop_oneof![
        Just(Instant::ZERO),
        Just(Instant::MAX),
        (0u64..10_000_000_000).prop_map(Instant::from_nanos),
        any::<u64>().prop_map(Instant::from_nanos),
    ]
}

fn membership() -> impl Strategy<Value = Membership<u64>> {
    (
        prop::collection::btree_set(0u64..7, 0..5),
        prop::collection::btree_set(0u64..7, 0..3),
    )
        .prop_map(|(voters, learners)| {
            let learners: Vec<u64> = learners.difference(&voters).copied().collect();
            Membership::with_learners(voters, learners).unwrap()
        })
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        6 => Just(Act::Input(Input::Tick)),
        12 => (0u64..7, message()).prop_map(|(from, message)| Act::Input(Input::Receive { from, message })),
        1 => Just(Act::Input(Input::Campaign)),
        1 => Just(Act::Input(Input::StepDown)),
        1 => (0u64..7).prop_map(|n| Act::Input(Input::AddVoter(n))),
        1 => (0u64..7).prop_map(|n| Act::Input(Input::AddLearner(n))),
        1 => (0u64..7).prop_map(|n| Act::Input(Input::RemoveNode(n))),
        1 => membership().prop_map(|m| Act::Input(Input::SetMembership(m))),
        1 => (0u64..3, 0u64..3).prop_map(|(t, i)| Act::Input(Input::SetFreshness(Freshness::new(t, i)))),
        1 => Just(Act::Restart),
    ]
}

fn when() -> impl Strategy<Value = When> {
    prop_oneof![
        8 => (0u64..400_000_000).prop_map(When::Later),
        2 => (0u64..1_000_000_000).prop_map(When::Earlier),
        1 => any::<u64>().prop_map(When::At),
        1 => (0u64..1_000_000_000).prop_map(When::NearMax),
        6 => Just(When::Deadline),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        any::<bool>(),
        any::<bool>(),
        1usize..4,
        3usize..8,
        any::<u64>(),
    )
        .prop_map(|(pre_vote, check_quorum, min_voters, max_voters, seed)| {
            Config::default()
                .with_pre_vote(pre_vote)
                .with_check_quorum(check_quorum)
                .with_min_voters(min_voters)
                .with_max_voters(max_voters)
                .with_seed(seed)
        })
}

fn one_node(config: Config, id: u64, script: Vec<(Act, When)>) -> Result<(), TestCaseError> {
    let start = Membership::with_learners([1u64, 2, 3], [4]).unwrap();
    let mut node = Election::new(config, id, start, None, Instant::ZERO).unwrap();
    let mut history = History::default();
    let mut ballots = Ballots::new();
    let mut last = Instant::ZERO;
    let mut clamped = 0;
    let mut out_of_range = 0;
    // The documented usable clock range: now + election_timeout_max below Instant::MAX.
    let limit = u64::MAX - u64::try_from(config.election_timeout_max.as_nanos()).unwrap();
    let usable = |t: Instant| t.as_nanos() < limit;
    for (act, when) in script {
        let now = match when {
            When::Later(d) => last + Duration::from_nanos(d),
            When::Earlier(d) => last - Duration::from_nanos(d),
            When::At(t) => Instant::from_nanos(t),
            When::NearMax(d) => Instant::from_nanos(u64::MAX - d),
            When::Deadline => node.next_deadline().unwrap_or(last),
        };
        let input = match act {
            Act::Restart => {
                let membership = node.membership().clone();
                if !usable(now) {
                    let refused = Election::new(config, id, membership, Some(history.disk), now);
                    prop_assert!(
                        matches!(refused, Err(ConfigError::ClockOutOfRange { .. })),
                        "a restart at {:?} was not refused",
                        now
                    );
                    continue;
                }
                node = Election::new(config, id, membership, Some(history.disk), now).unwrap();
                prop_assert_eq!(node.hard_state(), history.disk);
                prop_assert_eq!(node.role(), Role::Follower);
                (last, clamped, out_of_range) = (now, 0, 0);
                continue;
            }
            Act::Input(input) => input,
        };
        let is_command = !matches!(input, Input::Tick | Input::Receive { .. });
        let before = (node.role(), node.hard_state(), node.leader());
        if !usable(now) {
            // A broken clock: nothing changes, nothing is remembered, a command is
            // rejected with a typed error.
            let deadline = node.next_deadline();
            let outputs = node.step(input, now);
            out_of_range += 1;
            prop_assert_eq!(node.stats().clock_out_of_range, out_of_range);
            prop_assert_eq!((node.role(), node.hard_state(), node.leader()), before);
            prop_assert_eq!(node.next_deadline(), deadline);
            if is_command {
                prop_assert_eq!(
                    outputs,
                    vec![Output::Rejected(CommandError::ClockOutOfRange { now })]
                );
            } else {
                prop_assert!(
                    outputs.is_empty(),
                    "outputs at an unusable time: {:?}",
                    outputs
                );
            }
            continue;
        }
        let outputs = node.step(input, now);
        if now < last {
            clamped += 1;
        } else {
            last = now;
        }
        prop_assert_eq!(node.stats().clamped_now, clamped);
        prop_assert!(node.term() >= before.1.term, "term went back");
        prop_assert!(node.next_deadline().is_some());
        check_batch(&outputs, &before, &node)?;
        if !is_command {
            prop_assert!(
                !outputs.iter().any(|o| matches!(o, Output::Rejected(_))),
                "a rejection without a command"
            );
        }
        let peers: Vec<u64> = node.membership().peers_of(id).collect();
        carry_out(id, &outputs, &peers, &mut history, &mut ballots)?;
        prop_assert_eq!(history.disk, node.hard_state());
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn one_node_survives_any_inputs_at_any_time(
        config in config(),
        id in prop_oneof![4 => Just(1u64), 1 => Just(4u64), 1 => Just(9u64)],
        script in prop::collection::vec((act(), when()), 0..120),
    ) {
        one_node(config, id, script)?;
    }
}

// ---- A small cluster, any schedule ------------------------------------------------------

#[derive(Clone, Debug)]
enum Event {
    /// Deliver the in-flight message at this index (mod the number in flight).
    Deliver(usize),
    /// Deliver it, but crash the receiver after it carried out this many outputs.
    DeliverAndCrash(usize, usize),
    Duplicate(usize),
    Drop(usize),
    /// Jump to this node's next deadline and tick it.
    Wake(usize),
    /// Let this many milliseconds pass and tick every node.
    Advance(u64),
    /// Crash this node between steps and restart it from its last Persist.
    Crash(usize),
    Campaign(usize),
    StepDown(usize),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        20 => any::<usize>().prop_map(Event::Deliver),
        1 => (any::<usize>(), 0usize..4).prop_map(|(i, cut)| Event::DeliverAndCrash(i, cut)),
        1 => any::<usize>().prop_map(Event::Duplicate),
        2 => any::<usize>().prop_map(Event::Drop),
        5 => any::<usize>().prop_map(Event::Wake),
        2 => (0u64..200).prop_map(Event::Advance),
        1 => any::<usize>().prop_map(Event::Crash),
        1 => any::<usize>().prop_map(Event::Campaign),
        1 => any::<usize>().prop_map(Event::StepDown),
    ]
}

struct Cluster {
    config: Config,
    membership: Membership<u64>,
    nodes: Vec<Election<u64>>,
    histories: Vec<History>,
    ballots: Ballots,
    /// The leader of each term, as soon as any node became leader in it.
    leaders: BTreeMap<Term, u64>,
    wire: Vec<(u64, u64, Message)>,
    now: Instant,
}

impl Cluster {
    fn new(config: Config, voters: u64, learner: bool) -> Self {
        let learners: Vec<u64> = if learner { vec![voters + 1] } else { vec![] };
        let membership = Membership::with_learners(1..=voters, learners).unwrap();
        let ids: Vec<u64> = membership.peers_of(0).collect();
        let nodes = ids
            .iter()
            .map(|&id| Election::new(config, id, membership.clone(), None, Instant::ZERO).unwrap())
            .collect();
        Cluster {
            config,
            histories: ids.iter().map(|_| History::default()).collect(),
            membership,
            nodes,
            ballots: Ballots::new(),
            leaders: BTreeMap::new(),
            wire: Vec::new(),
            now: Instant::ZERO,
        }
    }

    fn restart(&mut self, i: usize) -> Result<(), TestCaseError> {
        let id = self.nodes[i].id();
        let disk = self.histories[i].disk;
        let node = Election::new(
            self.config,
            id,
            self.membership.clone(),
            Some(disk),
            self.now,
        );
        self.nodes[i] = node.unwrap();
        prop_assert_eq!(self.nodes[i].term(), disk.term);
        Ok(())
    }

    /// Steps node `i`; with `crash_after`, the node crashes after carrying out that
    /// many outputs and restarts from what it persisted.
    fn step(
        &mut self,
        i: usize,
        input: Input<u64>,
        crash_after: Option<usize>,
    ) -> Result<(), TestCaseError> {
        let node = &mut self.nodes[i];
        let id = node.id();
        let before = (node.role(), node.hard_state(), node.leader());
        let outputs = node.step(input, self.now);
        prop_assert!(node.term() >= before.1.term, "term went back");
        check_batch(&outputs, &before, node)?;
        let applied = crash_after.map_or(outputs.len(), |cut| cut.min(outputs.len()));
        let peers: Vec<u64> = self.membership.peers_of(id).collect();
        let sent = carry_out(
            id,
            &outputs[..applied],
            &peers,
            &mut self.histories[i],
            &mut self.ballots,
        )?;
        self.wire.extend(sent);
        if crash_after.is_some() {
            return self.restart(i);
        }
        let node = &self.nodes[i];
        prop_assert_eq!(self.histories[i].disk, node.hard_state());
        if node.is_leader() {
            let term = node.term();
            let first = *self.leaders.entry(term).or_insert(id);
            prop_assert_eq!(first, id, "two leaders in {:?}", term);
            let voters = self.ballots.get(&(term, id)).map_or(0, |b| {
                b.iter().filter(|v| self.membership.is_voter(**v)).count()
            });
            prop_assert!(
                voters + 1 >= self.membership.quorum(),
                "leader {} of {:?} was granted only {} votes besides its own",
                id,
                term,
                voters
            );
        }
        Ok(())
    }

    fn index(&self, id: u64) -> Option<usize> {
        self.nodes.iter().position(|n| n.id() == id)
    }

    fn run(&mut self, event: Event) -> Result<(), TestCaseError> {
        let n = self.nodes.len();
        match event {
            Event::Deliver(k) | Event::DeliverAndCrash(k, _) if !self.wire.is_empty() => {
                let (from, to, message) = self.wire.remove(k % self.wire.len());
                let crash = match event {
                    Event::DeliverAndCrash(_, cut) => Some(cut),
                    _ => None,
                };
                if let Some(i) = self.index(to) {
                    self.step(i, Input::Receive { from, message }, crash)?;
                }
            }
            Event::Duplicate(k) if !self.wire.is_empty() => {
                let copy = self.wire[k % self.wire.len()];
                self.wire.push(copy);
            }
            Event::Drop(k) if !self.wire.is_empty() => {
                self.wire.remove(k % self.wire.len());
            }
            Event::Wake(k) => {
                let i = k % n;
                if let Some(deadline) = self.nodes[i].next_deadline() {
                    self.now = self.now.max(deadline);
                }
                self.step(i, Input::Tick, None)?;
            }
            Event::Advance(ms) => {
                self.now += Duration::from_millis(ms);
                for i in 0..n {
                    self.step(i, Input::Tick, None)?;
                }
            }
            Event::Crash(k) => self.restart(k % n)?,
            Event::Campaign(k) => self.step(k % n, Input::Campaign, None)?,
            Event::StepDown(k) => self.step(k % n, Input::StepDown, None)?,
            _ => {}
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn cluster_keeps_election_safety_under_any_schedule(
        pre_vote in any::<bool>(),
        check_quorum in any::<bool>(),
        seed in any::<u64>(),
        voters in 3u64..=5,
        learner in any::<bool>(),
        events in prop::collection::vec(event(), 0..400),
    ) {
        let config = Config::default()
            .with_pre_vote(pre_vote)
            .with_check_quorum(check_quorum)
            .with_seed(seed);
        let mut cluster = Cluster::new(config, voters, learner);
        for event in events {
            cluster.run(event)?;
        }
    }
}

/// The cluster property must not hold vacuously: the schedules it draws do elect
/// leaders, in several terms.
#[test]
fn cluster_schedules_elect_leaders() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut terms_with_leaders = 0;
    for _ in 0..20 {
        let events = prop::collection::vec(event(), 400)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut cluster = Cluster::new(Config::default(), 3, false);
        for event in events {
            cluster.run(event).unwrap();
        }
        terms_with_leaders += cluster.leaders.len();
    }
    assert!(
        terms_with_leaders >= 10,
        "only {terms_with_leaders} leaders in 20 runs"
    );
}
