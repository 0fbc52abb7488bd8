#![cfg(feature = "sim")]
//! The optional wire encoding: every message round-trips, every malformed input is a
//! typed error.

use ballot::{DecodeError, Freshness, Message, Term};
use proptest::prelude::*;

fn message() -> impl Strategy<Value = Message> {
    let term = any::<u64>().prop_map(Term);
    prop_oneof![
        (
            term.clone(),
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
            any::<u64>()
        )
            .prop_map(|(term, pre_vote, transfer, t, i)| {
                Message::VoteRequest {
                    term,
                    pre_vote,
                    transfer,
                    freshness: Freshness::new(t, i),
                }
            }),
        (term.clone(), any::<bool>(), any::<bool>()).prop_map(|(term, pre_vote, granted)| {
            Message::VoteResponse {
                term,
                pre_vote,
                granted,
            }
        }),
        (term.clone(), any::<bool>())
            .prop_map(|(term, hand_over)| Message::Heartbeat { term, hand_over }),
        (
            term.clone(),
            any::<u64>(),
            any::<u64>(),
            any::<u8>(),
            any::<bool>()
        )
            .prop_map(|(term, t, i, priority, witness)| {
                Message::HeartbeatResponse {
                    term,
                    freshness: Freshness::new(t, i),
                    priority,
                    witness,
                }
            }),
        term.prop_map(|term| Message::TimeoutNow { term }),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(m in message()) {
        let bytes = m.encode();
        prop_assert!(bytes.len() <= Message::MAX_ENCODED_LEN);
        prop_assert_eq!(Message::decode(&bytes), Ok(m));
    }

    #[test]
    fn any_bytes_decode_to_a_message_or_an_error_that_round_trips(data in proptest::collection::vec(any::<u8>(), 0..40)) {
        ballot::sim::fuzz::wire(&data);
    }
}

#[test]
fn sizes_are_fixed_per_kind() {
    let hb = Message::Heartbeat {
        term: Term(1),
        hand_over: false,
    };
    assert_eq!(hb.encode().len(), 10);
    let vr = Message::VoteRequest {
        term: Term(1),
        pre_vote: false,
        transfer: false,
        freshness: Freshness::default(),
    };
    assert_eq!(vr.encode().len(), 26);
}

#[test]
fn malformed_input_is_a_typed_error() {
    let hb = Message::Heartbeat {
        term: Term(3),
        hand_over: false,
    }
    .encode();
    assert_eq!(Message::decode(&[]), Err(DecodeError::Empty));
    assert_eq!(
        Message::decode(&[0x21; 10]),
        Err(DecodeError::UnsupportedVersion(2))
    );
    assert_eq!(
        Message::decode(&[0x19; 10]),
        Err(DecodeError::UnknownKind(9))
    );
    assert_eq!(
        Message::decode(&hb[..9]),
        Err(DecodeError::WrongLength {
            expected: 10,
            got: 9
        })
    );
    let mut long = hb.to_vec();
    long.push(0);
    assert_eq!(
        Message::decode(&long),
        Err(DecodeError::WrongLength {
            expected: 10,
            got: 11
        })
    );
    let mut flagged = hb.to_vec();
    flagged[1] = 1; // pre_vote is not defined for heartbeats
    assert_eq!(Message::decode(&flagged), Err(DecodeError::BadFlags(1)));
    let vote = Message::VoteResponse {
        term: Term(3),
        pre_vote: true,
        granted: true,
    }
    .encode();
    let mut bad = vote.to_vec();
    bad[1] |= 0x80;
    assert_eq!(Message::decode(&bad), Err(DecodeError::BadFlags(0x80)));
    // Errors say what is wrong.
    assert_eq!(
        DecodeError::WrongLength {
            expected: 10,
            got: 9
        }
        .to_string(),
        "a message of this kind is 10 bytes long, got 9"
    );
}
