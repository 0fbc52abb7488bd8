//! Configuration and membership validation: every nonsensical setting is a typed
//! error with a message a user understands, from `Config::validate` and from
//! `Election::new` alike.

mod common;

use ballot::{Config, ConfigError, Election, Instant, Membership, MembershipError};
use common::*;
use core::time::Duration;

fn d(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// `validate()` and `new()` agree on the error.
fn rejected(config: Config) -> ConfigError {
    let error = config.validate().expect_err("config should be invalid");
    let from_new = Election::new(config, 1u64, voters(&[1, 2, 3]), None, Instant::ZERO)
        .expect_err("new should reject an invalid config");
    assert_eq!(error, from_new);
    error
}

#[test]
fn default_config_is_valid_with_documented_values() {
    let c = Config::default();
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(c.election_timeout_min, d(150));
    assert_eq!(c.election_timeout_max, d(300));
    assert_eq!(c.heartbeat_interval, d(50));
    assert!(c.pre_vote);
    assert!(c.check_quorum);
    assert_eq!(c.min_voters, 1);
    assert_eq!(c.max_voters, usize::MAX);
    assert_eq!(c.seed, 0);
}

#[test]
fn setters_set_what_they_name() {
    let c = Config::default()
        .with_election_timeout(d(300), d(600))
        .with_heartbeat_interval(d(100))
        .with_pre_vote(false)
        .with_check_quorum(false)
        .with_min_voters(3)
        .with_max_voters(7)
        .with_seed(42);
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(
        (c.election_timeout_min, c.election_timeout_max),
        (d(300), d(600))
    );
    assert_eq!(c.heartbeat_interval, d(100));
    assert!(!c.pre_vote && !c.check_quorum);
    assert_eq!((c.min_voters, c.max_voters, c.seed), (3, 7, 42));
}

#[test]
fn zero_min_election_timeout_is_rejected() {
    let e = rejected(Config::default().with_election_timeout(Duration::ZERO, d(300)));
    assert_eq!(e, ConfigError::ZeroElectionTimeout);
    assert!(e.to_string().contains("minimum election timeout is zero"));
}

#[test]
fn empty_election_timeout_range_is_rejected() {
    let e = rejected(Config::default().with_election_timeout(d(200), d(200)));
    assert_eq!(
        e,
        ConfigError::EmptyElectionTimeoutRange {
            min: d(200),
            max: d(200)
        }
    );
    assert!(e.to_string().contains("[200ms, 200ms)"), "{e}");
}

#[test]
fn inverted_election_timeout_range_is_rejected() {
    let e = rejected(Config::default().with_election_timeout(d(300), d(150)));
    assert_eq!(
        e,
        ConfigError::EmptyElectionTimeoutRange {
            min: d(300),
            max: d(150)
        }
    );
}

#[test]
fn election_timeout_beyond_u64_nanoseconds_is_rejected() {
    let max = Duration::from_secs(u64::MAX);
    let e = rejected(Config::default().with_election_timeout(d(150), max));
    assert_eq!(e, ConfigError::ElectionTimeoutTooLong { max });
    assert!(e.to_string().contains("too long"));
}

#[test]
fn election_timeout_of_exactly_u64_max_nanoseconds_is_accepted() {
    let max = Duration::from_nanos(u64::MAX);
    let c = Config::default().with_election_timeout(d(150), max);
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn zero_heartbeat_interval_is_rejected() {
    let e = rejected(Config::default().with_heartbeat_interval(Duration::ZERO));
    assert_eq!(e, ConfigError::ZeroHeartbeatInterval);
    assert!(e.to_string().contains("heartbeat interval is zero"));
}

#[test]
fn heartbeat_not_below_min_election_timeout_is_rejected() {
    let e = rejected(Config::default().with_heartbeat_interval(d(150)));
    assert_eq!(
        e,
        ConfigError::HeartbeatNotBelowElectionTimeout {
            heartbeat: d(150),
            election_timeout_min: d(150)
        }
    );
    assert!(e.to_string().contains("followers time out"), "{e}");
    // One nanosecond below is fine.
    let ok = Config::default().with_heartbeat_interval(d(150) - Duration::from_nanos(1));
    assert_eq!(ok.validate(), Ok(()));
}

#[test]
fn zero_min_voters_is_rejected() {
    let e = rejected(Config::default().with_min_voters(0));
    assert_eq!(e, ConfigError::ZeroMinVoters);
    assert!(e.to_string().contains("min_voters is zero"));
}

#[test]
fn zero_max_voters_is_rejected() {
    let e = rejected(Config::default().with_max_voters(0));
    assert_eq!(e, ConfigError::ZeroMaxVoters);
    assert!(e.to_string().contains("max_voters is zero"));
}

#[test]
fn min_voters_above_max_voters_is_rejected() {
    let e = rejected(Config::default().with_min_voters(5).with_max_voters(3));
    assert_eq!(
        e,
        ConfigError::MinVotersAboveMax {
            min_voters: 5,
            max_voters: 3
        }
    );
    assert!(
        e.to_string().contains("(5)") && e.to_string().contains("(3)"),
        "{e}"
    );
}

#[test]
fn initial_membership_larger_than_max_voters_is_rejected_by_new() {
    let config = Config::default().with_max_voters(2);
    assert_eq!(config.validate(), Ok(()));
    let e = Election::new(config, 1u64, voters(&[1, 2, 3]), None, Instant::ZERO).unwrap_err();
    assert_eq!(
        e,
        ConfigError::TooManyVoters {
            voters: 3,
            max_voters: 2
        }
    );
    assert!(e.to_string().contains("3 voters"), "{e}");
    // Exactly max_voters is fine.
    assert!(Election::new(config, 1u64, voters(&[1, 2]), None, Instant::ZERO).is_ok());
}

#[test]
fn membership_listing_a_node_twice_is_rejected() {
    assert_eq!(
        Membership::new([1u64, 2, 1]),
        Err(MembershipError::Duplicate(1))
    );
    assert_eq!(
        Membership::with_learners([1u64], [4, 4]),
        Err(MembershipError::Duplicate(4))
    );
    assert!(
        MembershipError::Duplicate(7u64)
            .to_string()
            .contains("7 is listed more than once")
    );
}

#[test]
fn membership_listing_a_node_as_voter_and_learner_is_rejected() {
    let e = Membership::with_learners([1u64, 2, 3], [4, 2]).unwrap_err();
    assert_eq!(e, MembershipError::VoterAndLearner(2));
    assert!(e.to_string().contains("both as a voter and as a learner"));
}

#[test]
fn quorum_is_a_strict_majority_of_voters_only() {
    assert_eq!(voters(&[1]).quorum(), 1);
    assert_eq!(voters(&[1, 2]).quorum(), 2);
    assert_eq!(voters(&[1, 2, 3]).quorum(), 2);
    assert_eq!(voters(&[1, 2, 3, 4]).quorum(), 3);
    assert_eq!(members(&[1, 2, 3], &[4, 5, 6, 7]).quorum(), 2);
}

#[test]
fn broadcast_peers_are_every_other_member_voters_first() {
    let m = members(&[3, 1, 2], &[9, 5]);
    assert_eq!(m.peers_of(2).collect::<Vec<_>>(), vec![1, 3, 5, 9]);
    assert_eq!(m.peers_of(9).collect::<Vec<_>>(), vec![1, 2, 3, 5]);
    // A non-member's broadcast goes to everyone.
    assert_eq!(m.peers_of(8).count(), 5);
}
