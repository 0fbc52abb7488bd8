//! The UDP transport on real sockets (127.0.0.1, ephemeral ports): what is
//! accepted, and that every kind of bad datagram is dropped and counted.
#![cfg(feature = "std")]

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::Duration;

use ballot::frame::{Frame, TAG_LEN};
use ballot::transport::{UdpConfig, UdpStats, UdpTransport};
use ballot::{Instant, Message, Term};

const CLUSTER: u64 = 0xc1u64;

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Node 2 listening, with peers 1 and 3 at the addresses of `one` and `three`.
fn receiver(one: &UdpSocket, three: &UdpSocket) -> UdpTransport<u64> {
    let config = UdpConfig::new(2u64, CLUSTER)
        .peer(1, one.local_addr().unwrap())
        .peer(3, three.local_addr().unwrap());
    UdpTransport::from_socket(socket(), config).unwrap()
}

/// A plain heartbeat in `term`, sent at instant zero.
fn heartbeat(term: u64) -> Message {
    Message::Heartbeat {
        term: Term(term),
        sent: Instant::ZERO,
        hand_over: false,
    }
}

fn frame(cluster: u64, from: u64, to: u64, term: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    Frame {
        cluster,
        from,
        to,
        message: heartbeat(term),
    }
    .encode(&mut buf);
    buf
}

/// Sends `bad` from `socket`, then a good frame from node 1, and returns what
/// `recv` delivers: loopback keeps the order, so everything bad was seen first.
fn after(node: &UdpTransport<u64>, one: &UdpSocket, bad: &[(&UdpSocket, Vec<u8>)]) -> UdpStats {
    let to = node.local_addr().unwrap();
    for (socket, bytes) in bad {
        socket.send_to(bytes, to).unwrap();
    }
    one.send_to(&frame(CLUSTER, 1, 2, 77), to).unwrap();
    assert_eq!(node.recv().unwrap(), (1, heartbeat(77)));
    node.stats()
}

#[test]
fn a_peer_frame_is_delivered_with_its_sender() {
    let (one, three) = (socket(), socket());
    let node = receiver(&one, &three);
    let stats = after(&node, &one, &[]);
    assert_eq!((stats.received, stats.dropped()), (1, 0));

    // And through the transport's own send, both ways.
    let sender = UdpTransport::from_socket(
        one,
        UdpConfig::new(1u64, CLUSTER).peer(2, node.local_addr().unwrap()),
    )
    .unwrap();
    let msg = Message::VoteResponse {
        term: Term(4),
        pre_vote: true,
        granted: true,
    };
    sender.send(2, msg).unwrap();
    assert_eq!(node.recv().unwrap(), (1, msg));
    assert_eq!(sender.stats().sent, 1);
    assert!(sender.send(9, msg).is_err(), "no address for node 9");
    assert_eq!(sender.stats().send_errors, 1);
}

#[test]
fn spoofed_sender_unknown_sender_and_wrong_recipient_are_dropped_and_counted() {
    let (one, three, stranger) = (socket(), socket(), socket());
    let node = receiver(&one, &three);
    let stats = after(
        &node,
        &one,
        &[
            (&stranger, frame(CLUSTER, 1, 2, 5)), // claims to be 1, from elsewhere
            (&three, frame(CLUSTER, 1, 2, 5)),    // claims to be 1, from 3's address
            (&stranger, frame(CLUSTER, 9, 2, 5)), // not a peer
            (&one, frame(CLUSTER, 2, 2, 5)),      // claims to be the receiver itself
            (&one, frame(CLUSTER, 1, 3, 5)),      // for node 3
        ],
    );
    assert_eq!(stats.wrong_address, 2);
    assert_eq!(stats.unknown_sender, 2);
    assert_eq!(stats.wrong_recipient, 1);
    assert_eq!((stats.received, stats.dropped()), (1, 5));
}

#[test]
fn wrong_cluster_bad_version_and_garbage_are_dropped_and_counted() {
    let (one, three) = (socket(), socket());
    let node = receiver(&one, &three);
    let good = frame(CLUSTER, 1, 2, 5);
    let mut frame_v2 = good.clone();
    frame_v2[2] = 2;
    let mut message_v2 = good.clone(); // (a message version this build does not speak)
    message_v2[13 + 16] = 0x33; // the message's own version nibble: 3, unknown
    let mut bad_kind = good.clone();
    bad_kind[13 + 16] = 0x29; // version 2, kind 9: no such kind
    let mut u32_ids = Vec::new();
    Frame {
        cluster: CLUSTER,
        from: 1u32,
        to: 2u32,
        message: heartbeat(1),
    }
    .encode(&mut u32_ids);
    let stats = after(
        &node,
        &one,
        &[
            (&one, frame(CLUSTER + 1, 1, 2, 5)),
            (&one, frame_v2),
            (&one, message_v2),
            (&one, Vec::new()),
            (&one, b"GET / HTTP/1.1\r\n\r\n".to_vec()),
            (&one, vec![0xff; 2000]), // longer than any frame
            (&one, good[..good.len() - 1].to_vec()),
            (&one, bad_kind),
            (&one, u32_ids),
        ],
    );
    assert_eq!(stats.wrong_cluster, 1);
    assert_eq!(stats.bad_version, 2);
    assert_eq!(stats.malformed, 6);
    assert_eq!((stats.received, stats.dropped()), (1, 9));
}

#[test]
fn without_a_key_tagged_frames_are_dropped() {
    let (one, three) = (socket(), socket());
    let node = receiver(&one, &three);
    let mut tagged = Vec::new();
    Frame {
        cluster: CLUSTER,
        from: 1u64,
        to: 2u64,
        message: heartbeat(1),
    }
    .encode_tagged(&mut tagged, |_| [0; TAG_LEN]);
    let stats = after(&node, &one, &[(&one, tagged)]);
    assert_eq!((stats.bad_tag, stats.dropped()), (1, 1));
}

#[test]
fn the_receive_thread_delivers_and_stops() {
    let (one, three) = (socket(), socket());
    let node = receiver(&one, &three);
    let (tx, rx) = mpsc::channel();
    let receiving = node
        .spawn_receiver(move |from, message| tx.send((from, message)).is_ok())
        .unwrap();
    let to: SocketAddr = node.local_addr().unwrap();
    one.send_to(b"junk", to).unwrap();
    one.send_to(&frame(CLUSTER, 1, 2, 8), to).unwrap();
    let got = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(got, (1, heartbeat(8)));
    receiving.stop().unwrap(); // returns: the blocked recv was woken
    assert_eq!(node.stats().malformed, 1);
}

#[cfg(feature = "auth")]
mod authenticated {
    use super::*;
    use ballot::transport::ClusterKey;

    fn key(byte: u8) -> ClusterKey {
        ClusterKey::from_bytes([byte; 32])
    }

    #[test]
    fn frames_with_a_missing_wrong_or_tampered_tag_are_dropped_and_counted() {
        let (one, three) = (socket(), socket());
        let node = UdpTransport::from_socket(
            socket(),
            UdpConfig::new(2u64, CLUSTER)
                .peer(1, one.local_addr().unwrap())
                .peer(3, three.local_addr().unwrap())
                .key(key(7)),
        )
        .unwrap();
        let to = node.local_addr().unwrap();
        let peer = |k: u8, socket: UdpSocket| {
            let config = UdpConfig::new(1u64, CLUSTER).peer(2, to).key(key(k));
            UdpTransport::from_socket(socket, config).unwrap()
        };
        let mut good = Vec::new();
        let honest = peer(7, one.try_clone().unwrap());
        honest.encode(2, heartbeat(3), &mut good);
        let mut tampered = good.clone();
        tampered[13 + 16 + 2] ^= 1; // the term
        let mut other_key = Vec::new();
        peer(8, socket()).encode(2, heartbeat(3), &mut other_key);
        let mut redirected = Vec::new(); // an honest frame for node 3, sent on to 2
        honest.encode(3, heartbeat(3), &mut redirected);
        redirected[13 + 8..13 + 16].copy_from_slice(&2u64.to_le_bytes());
        let stats = after_signed(
            &node,
            &honest,
            &[
                frame(CLUSTER, 1, 2, 5), // untagged
                tampered,
                other_key,
                redirected,
                good[..good.len() - TAG_LEN].to_vec(), // tag cut off, flag still set
            ],
            &one,
        );
        assert_eq!(stats.bad_tag, 4);
        assert_eq!(stats.malformed, 1);
        assert_eq!((stats.received, stats.dropped()), (1, 5));
    }

    fn after_signed(
        node: &UdpTransport<u64>,
        honest: &UdpTransport<u64>,
        bad: &[Vec<u8>],
        from: &UdpSocket,
    ) -> UdpStats {
        let to = node.local_addr().unwrap();
        for bytes in bad {
            from.send_to(bytes, to).unwrap();
        }
        honest.send(2, heartbeat(77)).unwrap();
        assert_eq!(node.recv().unwrap(), (1, heartbeat(77)));
        node.stats()
    }

    #[test]
    fn key_files_are_read_and_bad_ones_named() {
        let tmp = tempfile::tempdir().unwrap(); // removed on drop, also on failure
        let dir = tmp.path();
        let good = dir.join("good.key");
        std::fs::write(&good, format!("{}\n", "0f".repeat(32))).unwrap();
        assert_eq!(ClusterKey::read_file(&good).unwrap(), key(0x0f));
        let bad = dir.join("bad.key");
        std::fs::write(&bad, "zz".repeat(32)).unwrap();
        let err = ClusterKey::read_file(&bad).unwrap_err().to_string();
        assert!(
            err.contains("bad.key") && err.contains("hexadecimal"),
            "{err}"
        );
        let err = ClusterKey::read_file(dir.join("missing.key"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.key"), "{err}");
    }
}
