//! What a driver adds per message, next to the core's own step cost.
//!
//! Run with `cargo bench --features tokio --bench driver`. A follower receives a
//! stream of heartbeats from its leader through its driver handle
//! (`Handle::deliver`) and answers each through the transport; the time per
//! message from the first delivery until the last reply has left, minus the cost of
//! the same `step_into` called directly, is the driver's overhead: the queue hop
//! between threads or tasks, the clock read, the pipeline, `dispatch` and the
//! transport call. Medians of 11 samples of 200,000 messages; compare within one
//! run (the machine is shared and noisy).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // a benchmark reads the wall clock

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant as WallClock;

use ballot::driver::{thread, tokio as tokio_driver};
use ballot::store::MemoryStore;
use ballot::transport::{SendError, Transport};
use ballot::{Config, Election, Input, Instant, Membership, Message, Output, Term};

const SAMPLES: usize = 11;
const MESSAGES: u64 = 200_000;
/// Delivered before waiting for the replies to catch up (below the inbox capacity).
const CHUNK: u64 = 1_000;

/// A transport that only counts what it is asked to send.
#[derive(Clone)]
struct Counting(Arc<AtomicU64>);

impl Transport<u64> for Counting {
    fn send(&mut self, _to: u64, message: Message) -> Result<(), SendError> {
        black_box(message);
        self.0.fetch_add(1, Ordering::Release);
        Ok(())
    }
}

fn follower() -> Election {
    let members = Membership::new([1u64, 2, 3]).unwrap();
    Election::new(Config::default(), 2, members, None, Instant::ZERO).unwrap()
}

const HEARTBEAT: Message = Message::Heartbeat {
    term: Term(1),
    sent: ballot::Instant::ZERO,
    hand_over: false,
};

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The core alone: a follower's `step_into` on a heartbeat (reused buffer).
fn core_step() -> f64 {
    let mut node = follower();
    let mut out: Vec<Output<u64>> = Vec::with_capacity(8);
    let mut i = 0u64;
    median(
        (0..SAMPLES)
            .map(|_| {
                let start = WallClock::now();
                for _ in 0..MESSAGES {
                    i += 1;
                    out.clear();
                    let input = Input::Receive {
                        from: 1,
                        message: HEARTBEAT,
                    };
                    node.step_into(input, Instant::from_nanos(i * 1_000), &mut out);
                    black_box(&out);
                }
                start.elapsed().as_nanos() as f64 / MESSAGES as f64
            })
            .collect(),
    )
}

/// Waits (spinning, then yielding) until `sent` reaches `target`.
fn wait_for(sent: &AtomicU64, target: u64) {
    while sent.load(Ordering::Acquire) < target {
        std::thread::yield_now();
    }
}

fn thread_driver() -> f64 {
    let sent = Arc::new(AtomicU64::new(0));
    let node = thread::spawn(follower(), MemoryStore::new(), Counting(sent.clone())).unwrap();
    let handle = node.handle();
    let mut total = 0;
    let samples = (0..SAMPLES)
        .map(|_| {
            let start = WallClock::now();
            for _ in 0..MESSAGES / CHUNK {
                for _ in 0..CHUNK {
                    handle.deliver(1, HEARTBEAT).unwrap();
                }
                total += CHUNK;
                wait_for(&sent, total);
            }
            start.elapsed().as_nanos() as f64 / MESSAGES as f64
        })
        .collect();
    let halted = node.shutdown();
    assert!(halted.stats.steps >= total, "every heartbeat was a step");
    median(samples)
}

fn tokio_driver() -> f64 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sent = Arc::new(AtomicU64::new(0));
        let node = tokio_driver::spawn(
            follower(),
            tokio_driver::Blocking::new(MemoryStore::new()),
            Counting(sent.clone()),
        );
        let handle = node.handle();
        // The producer runs on its own OS thread, like a UDP receive loop would.
        let producer = std::thread::spawn(move || {
            let mut total = 0;
            (0..SAMPLES)
                .map(|_| {
                    let start = WallClock::now();
                    for _ in 0..MESSAGES / CHUNK {
                        for _ in 0..CHUNK {
                            handle.deliver(1, HEARTBEAT).unwrap();
                        }
                        total += CHUNK;
                        wait_for(&sent, total);
                    }
                    start.elapsed().as_nanos() as f64 / MESSAGES as f64
                })
                .collect::<Vec<_>>()
        });
        let samples = tokio::task::spawn_blocking(move || producer.join().unwrap())
            .await
            .unwrap();
        node.shutdown().await;
        median(samples)
    })
}

fn main() {
    let step = core_step();
    let thread = thread_driver();
    let tokio = tokio_driver();
    println!("follower heartbeat, per message (median of {SAMPLES} x {MESSAGES}):");
    println!("  core step_into alone        {step:8.1} ns");
    println!(
        "  thread driver, end to end   {thread:8.1} ns  (driver adds {:.1} ns)",
        thread - step
    );
    println!(
        "  tokio driver, end to end    {tokio:8.1} ns  (driver adds {:.1} ns)",
        tokio - step
    );
}
