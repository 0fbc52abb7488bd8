//! Property test over explicit fault schedules: a schedule is a small cluster plus a
//! list of `(time, fault)` pairs — crashes (plain, between two outputs of a batch,
//! during a write), restarts, directed cuts, heals, partitions, isolation, campaign
//! and step-down commands — turned into scripted [`Action`]s. After the schedule
//! the network heals and a stable leader must appear; no invariant may break on
//! the way. Because the schedule is explicit data, a failure shrinks to a minimal
//! schedule (fewer faults, earlier times, smaller clusters), printed with the
//! simulation's report.
//!
//! `PROPTEST_CASES=2000 cargo test --release --all-features --test sim_proptest`
//! runs more cases.
//!
//! Membership changes come in two flavours, one property each: settled by an
//! election in a newer term (`Fault::Member`), or by rule 2's cheaper form, a
//! majority of the new voter set durably following the leader
//! (`Fault::MemberByFollowing`). The latter ran clean for 2,000,000 cases in
//! release (174 s on one core), and for 500,000 more with membership changes five
//! times as frequent and schedules up to 40 faults long (44 s).
#![cfg(feature = "sim")]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use ballot::sim::{Action, Delay, SimOptions, Simulation};
use ballot::{Config, Input, Instant};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

/// One fault of a schedule. Node numbers are taken modulo the cluster size (plus
/// one), so every fault names a real node whatever the cluster shrinks to.
#[derive(Clone, Debug)]
enum Fault {
    Crash(u64),
    /// Crash just before output `k` of the node's next non-empty batch.
    CrashMidBatch(u64, usize),
    /// Crash while the node's next write is in flight (the write is lost).
    CrashDuringNextWrite(u64),
    Restart(u64),
    /// Cut the directed link `from → to`.
    Cut(u64, u64),
    HealLink(u64, u64),
    /// Two symmetric groups: the nodes whose bit is set in the mask, and the rest.
    Partition(u16),
    Isolate(u64),
    HealAll,
    Campaign(u64),
    StepDown(u64),
    /// `TransferLeadership(b)` given to node `a` (rejected unless `a` leads and `b`
    /// is another voter).
    Transfer(u64, u64),
    /// `ForgetLeader` on node `a`, when no live node leads (the documented use:
    /// given while a leader lives it voids that leader's lease, by design).
    ForgetLeader(u64),
    /// A one-voter membership change, made as the membership safety rule asks:
    /// only once a leader was elected in a term that began after the previous
    /// change (skipped otherwise); the leader is then told to step down, so the
    /// next election comes at once. `op` 0 adds a voter (or promotes a learner),
    /// 1 adds a learner (or demotes a voter), 2 removes a member. The node may be
    /// one of [`EXTRA`] ids beyond the initial cluster.
    Member(u8, u64),
    /// The same change, settled the cheaper way rule 2 allows: made only once a
    /// majority of the current voter set *durably* follows the leader of the current
    /// term (each one's durable `HardState` is that term with its vote on the
    /// leader, which is how the core records following); no step-down, no election.
    MemberByFollowing(u8, u64),
}

/// Which membership changes a schedule makes, and how each one settles.
#[derive(Clone, Copy, Debug)]
enum Changes {
    None,
    /// [`Fault::Member`]: an election in a newer term between two changes.
    ByElection,
    /// [`Fault::MemberByFollowing`]: a majority durably follows the leader.
    ByFollowing,
}

/// Ids a membership change may add beyond the initial cluster.
const EXTRA: u64 = 3;

/// A cluster and what happens to it.
#[derive(Clone, Debug)]
struct Schedule {
    seed: u64,
    nodes: usize,
    pre_vote: bool,
    check_quorum: bool,
    /// A node (index, like a fault's) with a higher `Config::priority` than the rest.
    preferred: Option<u64>,
    /// A node (index) that is a witness; only in schedules without membership
    /// changes and with at least 3 nodes (a change could leave the witness alone).
    witness: Option<u64>,
    /// Milliseconds from the start, and the fault.
    faults: Vec<(u64, Fault)>,
}

/// How long the schedule runs before healing (faults land in `[0, HORIZON)`).
const HORIZON_MS: u64 = 3_000;

/// A random fault; one-voter membership changes too unless `changes` is `None`.
fn fault(nodes: u64, changes: Changes) -> BoxedStrategy<Fault> {
    let node = 0..nodes;
    let faults = prop_oneof![
        3 => node.clone().prop_map(Fault::Crash),
        2 => (node.clone(), 0usize..4).prop_map(|(n, k)| Fault::CrashMidBatch(n, k)),
        2 => node.clone().prop_map(Fault::CrashDuringNextWrite),
        4 => node.clone().prop_map(Fault::Restart),
        3 => (node.clone(), node.clone()).prop_map(|(a, b)| Fault::Cut(a, b)),
        1 => (node.clone(), node.clone()).prop_map(|(a, b)| Fault::HealLink(a, b)),
        2 => any::<u16>().prop_map(Fault::Partition),
        2 => node.clone().prop_map(Fault::Isolate),
        2 => Just(Fault::HealAll),
        2 => node.clone().prop_map(Fault::Campaign),
        1 => node.clone().prop_map(Fault::StepDown),
        2 => (node.clone(), node.clone()).prop_map(|(a, b)| Fault::Transfer(a, b)),
        1 => node.prop_map(Fault::ForgetLeader),
    ];
    let change = (0u8..3, 0..nodes + EXTRA);
    match changes {
        Changes::None => faults.boxed(),
        Changes::ByElection => {
            let change = change.prop_map(|(op, n)| Fault::Member(op, n));
            prop_oneof![24 => faults, 3 => change].boxed()
        }
        Changes::ByFollowing => {
            let change = change.prop_map(|(op, n)| Fault::MemberByFollowing(op, n));
            prop_oneof![24 => faults, 3 => change].boxed()
        }
    }
}

fn schedule(changes: Changes) -> impl Strategy<Value = Schedule> {
    (1usize..=7).prop_flat_map(move |nodes| {
        let n = nodes as u64;
        let witness_ok = nodes >= 3 && matches!(changes, Changes::None);
        (
            any::<u64>(),
            Just(nodes),
            (any::<bool>(), any::<bool>()),
            prop::option::of(0..n),
            prop::option::of(0..n).prop_map(move |w| w.filter(|_| witness_ok)),
            prop::collection::vec((0..HORIZON_MS, fault(n, changes)), 0..24),
        )
            .prop_map(
                |(seed, nodes, (pre_vote, check_quorum), preferred, witness, faults)| Schedule {
                    seed,
                    nodes,
                    pre_vote,
                    check_quorum,
                    preferred,
                    witness,
                    faults,
                },
            )
    })
}

impl Schedule {
    /// The fault as a scripted action on a cluster of `self.nodes` (ids from 1).
    ///
    /// `changed` is shared by the schedule's membership changes: the highest term
    /// any node had reached when the last change was made.
    fn action(&self, fault: &Fault, changed: &Rc<Cell<u64>>) -> Action {
        let n = self.nodes as u64;
        let id = |x: u64| x % n + 1;
        match *fault {
            Fault::Crash(a) => Action::Crash(id(a)),
            Fault::CrashMidBatch(a, k) => Action::CrashMidBatch {
                node: id(a),
                before_output: k,
            },
            Fault::CrashDuringNextWrite(a) => Action::CrashDuringNextWrite(id(a)),
            Fault::Restart(a) => Action::Restart(id(a)),
            Fault::Cut(a, b) => Action::Cut {
                from: id(a),
                to: id(b),
            },
            Fault::HealLink(a, b) => Action::HealLink {
                from: id(a),
                to: id(b),
            },
            Fault::Partition(mask) => {
                let group: Vec<u64> = (1..=n).filter(|i| mask >> (i - 1) & 1 == 1).collect();
                Action::Partition(vec![group])
            }
            Fault::Isolate(a) => Action::Isolate(id(a)),
            Fault::HealAll => Action::HealAll,
            Fault::Campaign(a) => Action::Command(id(a), Input::Campaign),
            Fault::StepDown(a) => Action::Command(id(a), Input::StepDown),
            Fault::Transfer(a, b) => Action::Command(id(a), Input::TransferLeadership(id(b))),
            Fault::ForgetLeader(a) => {
                let who = id(a);
                // As documented: only when no live node leads (it voids leases).
                Action::Call(Box::new(move |sim: &mut Simulation| {
                    if sim.leaders().is_empty() {
                        let _ = sim.command(who, Input::ForgetLeader);
                    }
                }))
            }
            Fault::Member(op, a) => {
                let node = a % (n + EXTRA) + 1;
                let changed = Rc::clone(changed);
                Action::Call(Box::new(move |sim: &mut Simulation| {
                    // Rule 2 of the membership safety rule: an election in the
                    // current voter set since the last change, i.e. a leader (in
                    // contact with a quorum) whose term began after that change.
                    let Some(leader) = sim.leader() else { return };
                    let term = sim.node(leader).map_or(0, |l| l.term().get());
                    if term <= changed.get() {
                        return; // not yet: skip this change
                    }
                    let voters = sim.membership().voters().len();
                    match op {
                        0 => sim.add_voter(node),
                        1 if voters > 1 || !sim.membership().is_voter(node) => {
                            sim.add_learner(node);
                        }
                        2 if voters > 1 || !sim.membership().is_voter(node) => {
                            sim.remove_node(node);
                        }
                        _ => return,
                    }
                    changed.set(sim.report().max_term);
                    // Ask for the next election at once, as the documentation suggests.
                    let _ = sim.command(leader, Input::StepDown);
                }))
            }
            Fault::MemberByFollowing(op, a) => {
                let node = a % (n + EXTRA) + 1;
                Action::Call(Box::new(move |sim: &mut Simulation| {
                    if !majority_durably_follows(sim) {
                        return; // not settled yet: skip this change
                    }
                    let voters = sim.membership().voters().len();
                    match op {
                        0 => sim.add_voter(node),
                        1 if voters > 1 || !sim.membership().is_voter(node) => {
                            sim.add_learner(node);
                        }
                        2 if voters > 1 || !sim.membership().is_voter(node) => {
                            sim.remove_node(node);
                        }
                        _ => {}
                    }
                }))
            }
        }
    }

    fn simulation(&self) -> Simulation {
        let config = Config::default()
            .with_pre_vote(self.pre_vote)
            .with_check_quorum(self.check_quorum);
        let options = SimOptions::new(self.seed)
            .nodes(self.nodes)
            .config(config)
            .delay(Delay::uniform(
                Duration::from_millis(1),
                Duration::from_millis(20),
            ))
            .duplicate_ppm(20_000)
            .persist_latency(Delay::uniform(
                Duration::from_micros(100),
                Duration::from_millis(5),
            ));
        let n = self.nodes as u64;
        let (preferred, witness) = (self.preferred, self.witness);
        let mut sim = options.build_with(|sim| {
            if let Some(p) = preferred {
                sim.set_config(p % n + 1, config.with_priority(5)).unwrap();
            }
            if let Some(w) = witness {
                sim.set_config(w % n + 1, config.with_witness(true))
                    .unwrap();
            }
        });
        let changed = Rc::new(Cell::new(0));
        for (at, fault) in &self.faults {
            sim.at(Instant::from_millis(*at), self.action(fault, &changed));
        }
        sim
    }
}

/// Runs a schedule, heals, and demands no violation and a stable leader.
/// Rule 2, the cheaper way: a leader in contact with a quorum, and a majority of the
/// application's current voter set whose durable `HardState` is the leader's term
/// with the vote on the leader.
fn majority_durably_follows(sim: &Simulation) -> bool {
    let Some(leader) = sim.leader() else {
        return false;
    };
    let Some(term) = sim.term(leader) else {
        return false;
    };
    let members = sim.membership();
    let following = members
        .voters()
        .iter()
        .filter(|&&v| {
            sim.durable(v)
                .is_some_and(|h| h.term == term && h.voted_for == Some(leader))
        })
        .count();
    following >= members.quorum()
}

fn check(s: &Schedule) -> Result<(), TestCaseError> {
    let mut sim = s.simulation();
    sim.run_for(Duration::from_millis(HORIZON_MS));
    let live = sim.heal_and_check_liveness(10);
    let report = sim.report();
    prop_assert!(report.is_ok() && live, "schedule {:#?}\n{}", s, report);
    Ok(())
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn any_fault_schedule_is_safe_and_a_leader_follows_healing(s in schedule(Changes::None)) {
        check(&s)?;
    }

    /// The same with one-voter membership changes made by the rule.
    #[test]
    fn membership_changes_by_the_rule_keep_one_leader_per_term(s in schedule(Changes::ByElection)) {
        check(&s)?;
    }

    /// The same, each change settled by a majority durably following the leader
    /// (rule 2's cheaper form) instead of by a new election.
    #[test]
    fn membership_changes_settled_by_durable_following_keep_one_leader_per_term(
        s in schedule(Changes::ByFollowing)
    ) {
        check(&s)?;
    }
}

/// The schedule this property shrank to when rule 2 of the membership safety rule
/// only asked for "a majority of the new voter set follows the leader" (found in a
/// 1,000,000-case run; the simulation's seed is 8002829110499914253): node 3 was
/// removed, node 4 added as a voter while node 1 led term 1, node 1 crashed, and
/// node 2 — partitioned, its timer fired, so it forgot the leader — gave node 4 its
/// vote in term 1: two leaders in term 1. Under the corrected rule node 1 steps down
/// after the first change and is elected again in term 2 by {1, 2} before node 4
/// joins, so node 2 refuses node 4's request for term 1, and the run is clean.
#[test]
fn the_schedule_that_found_the_membership_hole_is_clean_under_the_rule() {
    let s = Schedule {
        seed: 8_002_829_110_499_914_253,
        nodes: 3,
        pre_vote: true,
        check_quorum: false,
        preferred: None,
        witness: None,
        faults: vec![
            (0, Fault::Partition(46_306)), // {2} | {1, 3}
            (224, Fault::HealAll),
            (304, Fault::Member(2, 2)),        // remove node 3
            (1_565, Fault::Partition(36_214)), // {2, 3} | {1, 4}
            (1_654, Fault::Member(0, 3)),      // add node 4 as a voter
            (1_654, Fault::Crash(0)),          // node 1
        ],
    };
    let mut sim = s.simulation();
    sim.run_for(Duration::from_millis(HORIZON_MS));
    // Both changes were made, with an election (node 1 again, term 2) between them.
    assert_eq!(sim.membership().voters(), &[1, 2, 4]);
    let terms: Vec<u64> = sim
        .leader_history()
        .filter_map(|e| e.state().map(|s| s.term.get()))
        .collect();
    assert_eq!(terms, [1, 2]);
    check(&s).unwrap();
}

/// The mapping itself: every kind of fault lands on a real node and runs.
#[test]
fn a_hand_written_schedule_runs_clean() {
    let s = Schedule {
        seed: 1,
        nodes: 5,
        pre_vote: true,
        check_quorum: true,
        preferred: None,
        witness: None,
        faults: vec![
            (400, Fault::Partition(0b00011)),
            (900, Fault::Crash(2)),
            (1_000, Fault::CrashMidBatch(3, 1)),
            (1_000, Fault::Campaign(3)),
            (1_200, Fault::CrashDuringNextWrite(1)),
            (1_200, Fault::HealAll),
            (1_300, Fault::Restart(2)),
            (1_300, Fault::Restart(3)),
            (1_500, Fault::Campaign(0)),
            (1_700, Fault::Restart(1)),
            (2_000, Fault::Cut(1, 0)),
            (2_000, Fault::Isolate(4)),
            (2_100, Fault::StepDown(7)),
            (2_500, Fault::HealLink(1, 0)),
            (2_600, Fault::Member(0, 5)),
            (2_950, Fault::Member(1, 6)),
        ],
    };
    let mut sim = s.simulation();
    sim.run_for(Duration::from_millis(HORIZON_MS));
    assert!(sim.heal_and_check_liveness(10));
    sim.report().assert_ok();
    // Node 3 crashed, node 4 mid-batch and node 2 while writing its vote in the
    // election after the heal: all three came back.
    let report = sim.report();
    assert_eq!((report.crashes, report.restarts), (3, 3), "{report}");
    // Node 6 joined as a voter, node 7 as a learner, each once a leader was settled.
    assert_eq!(sim.membership().voters(), &[1, 2, 3, 4, 5, 6]);
    assert_eq!(sim.membership().learners(), &[7]);
}

/// The cheaper settle rule in action: each addition waits only until a majority of
/// the new voter set durably follows the leader, so three changes go through within
/// the first term, without a single election after the first.
#[test]
fn changes_settled_by_durable_following_need_no_election() {
    let s = Schedule {
        seed: 1,
        nodes: 3,
        pre_vote: true,
        check_quorum: true,
        preferred: None,
        witness: None,
        faults: vec![
            (500, Fault::MemberByFollowing(0, 3)), // add node 4 as a voter
            (600, Fault::MemberByFollowing(1, 4)), // add node 5 as a learner
            (1_000, Fault::MemberByFollowing(0, 4)), // promote node 5
        ],
    };
    let mut sim = s.simulation();
    sim.run_for(Duration::from_millis(HORIZON_MS));
    assert_eq!(sim.membership().voters(), &[1, 2, 3, 4, 5]);
    assert_eq!(sim.leader_history().count(), 1);
    assert!(majority_durably_follows(&sim));
    check(&s).unwrap();
}
