//! Replays byte strings through the fuzz entry points on stable Rust: a fixed set of
//! pseudo-random inputs (a poor man's fuzzer that runs in CI) plus every file under
//! `fuzz/regressions/<target>/` (crashes the real fuzzer found, kept as tests).
//! `FUZZ_REPLAY_CASES=<n>` runs more random inputs.
#![cfg(feature = "sim")]

use ballot::Instant;
use ballot::sim::fuzz;

fn cases(default: u64) -> u64 {
    std::env::var("FUZZ_REPLAY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic pseudo-random bytes (SplitMix64), `len` of them from `seed`.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

fn regressions(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("readable regression file"))
        .collect()
}

#[test]
fn single_node_survives_random_and_recorded_inputs() {
    for seed in 0..cases(3000) {
        let len = 16 + (seed as usize * 7) % 600;
        fuzz::single_node(&bytes(seed, len));
    }
    for data in regressions("single_node") {
        fuzz::single_node(&data);
    }
}

#[test]
fn cluster_survives_random_and_recorded_fault_schedules() {
    for seed in 0..cases(60) {
        let len = 12 + (seed as usize * 13) % 120;
        fuzz::cluster(&bytes(seed, len));
    }
    for data in regressions("cluster") {
        fuzz::cluster(&data);
    }
}

#[test]
fn empty_and_tiny_inputs_are_fine() {
    for len in 0..16 {
        fuzz::single_node(&vec![0xff; len]);
        fuzz::cluster(&vec![0; len]);
    }
}

/// Valid frames (every message kind, tagged and untagged, both id widths), each
/// byte of them flipped, and every truncation, plus random bytes behind a valid
/// header — so the replay reaches past the magic check, where random bytes stop.
#[test]
fn frame_decoding_survives_mutations_and_random_bytes() {
    use ballot::frame::{Frame, TAG_LEN};
    use ballot::{Freshness, Message, Term};
    let messages = [
        Message::VoteRequest {
            term: Term(5),
            pre_vote: true,
            transfer: false,
            freshness: Freshness::new(4, 9),
        },
        Message::VoteResponse {
            term: Term(u64::MAX),
            pre_vote: false,
            granted: true,
        },
        Message::Heartbeat {
            term: Term(1),
            sent: Instant::ZERO,
            hand_over: false,
        },
        Message::HeartbeatResponse {
            term: Term(0),
            sent: Instant::ZERO,
            freshness: ballot::Freshness::default(),
            priority: 0,
            witness: false,
        },
    ];
    let mut valid: Vec<Vec<u8>> = Vec::new();
    for (k, &message) in messages.iter().enumerate() {
        let mut buf = Vec::new();
        let f64 = Frame {
            cluster: k as u64,
            from: 1u64,
            to: 2u64,
            message,
        };
        f64.encode(&mut buf);
        valid.push(buf.clone());
        f64.encode_tagged(&mut buf, |_| [k as u8; TAG_LEN]);
        valid.push(buf.clone());
        let uuid = Frame {
            cluster: 9,
            from: [1u8; 16],
            to: [2u8; 16],
            message,
        };
        uuid.encode_tagged(&mut buf, |_| [3; TAG_LEN]);
        valid.push(buf.clone());
    }
    let mut decoded = 0;
    for frame in &valid {
        decoded += usize::from(Frame::<u64>::decode(frame).is_ok());
        fuzz::frame(frame);
        for len in 0..frame.len() {
            fuzz::frame(&frame[..len]);
        }
        for at in 0..frame.len() {
            for bit in 0..8 {
                let mut bad = frame.clone();
                bad[at] ^= 1 << bit;
                fuzz::frame(&bad);
            }
        }
    }
    assert_eq!(decoded, 8, "the u64 frames decode"); // the replay reaches the message decoder
    for seed in 0..cases(3000) {
        let mut data = valid[seed as usize % valid.len()][..13].to_vec();
        data.extend(bytes(seed, (seed as usize * 11) % 90));
        fuzz::frame(&data);
        fuzz::frame(&bytes(seed, (seed as usize * 7) % 120));
    }
    for data in regressions("frame") {
        fuzz::frame(&data);
    }
}

/// README rule 5 in the fuzz entry point, deterministically: a cluster-sized node
/// runs a few elections, then takes one step at an out-of-range `now` — the first
/// out-of-range instant, `Instant::MAX`, or one in between — with a tick, a message
/// or a command, and carries on at usable times. `fuzz::single_node` asserts that
/// the step changed nothing and that the node still works afterwards.
///
/// Old core (before issue 6): fails at the first case, `an out-of-range step
/// changed the node: Tick at 18446744073409.551ms` (the first out-of-range instant
/// with the default 300 ms maximum timeout): the candidate started term 4 and armed
/// its timer at the end of time. The random replays failed too: `Receive { ..
/// VoteRequest { term: t2, .. } } at 18446744073709.551ms` adopted the term and voted.
#[test]
fn single_out_of_range_steps_change_nothing_and_the_node_keeps_working() {
    // One op each: advance 150 ms and tick; tick at the deadline (three times).
    let warm_up: [&[u8]; 4] = [&[0, 150], &[2], &[2], &[2]];
    let after: [&[u8]; 4] = [&[2], &[2], &[0, 100], &[2]];
    let inputs: [&[u8]; 5] = [
        &[0],                   // a tick
        &[1, 1, 5, 0, 0, 2, 2], // a vote request from node 1 for term + 1
        &[1, 2, 5, 3],          // a heartbeat from node 2 for term + 1
        &[2, 2, 0],             // Campaign
        &[2, 9, 2],             // AddVoter(9)
    ];
    let mut runs = 0;
    for flags in [0x00u8, 0x01, 0x03, 0x83, 0x0b] {
        for when in [&[0u8, 0][..], &[1, 0], &[2, 0x80, 0, 0, 0, 0, 0, 0, 7]] {
            for input in inputs {
                let mut data = vec![flags, 2, 1, 0]; // 3 voters, 1 learner, start at 0
                warm_up.iter().for_each(|op| data.extend_from_slice(op));
                data.push(7);
                data.extend_from_slice(when);
                data.extend_from_slice(input);
                after.iter().for_each(|op| data.extend_from_slice(op));
                fuzz::single_node(&data);
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 75);
}
