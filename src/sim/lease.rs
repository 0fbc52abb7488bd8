//! The lease invariant: at no global instant do two nodes hold an unexpired
//! [lease](crate::Election::lease), and no node is elected leader while another
//! node's lease runs.
//!
//! After every step of a node that leads, its `lease()` — an instant in its own
//! clock — is converted to global simulated time through that node's clock (the
//! earliest global time at which its local time reaches the lease: from then on it
//! no longer holds it). A node that stops leading or crashes holds no lease. A
//! violation is recorded when a node acquires a lease, or is elected, while another
//! node's lease has not expired.
//!
//! Cost: `lease()` is 64 passes over the voters, so the check runs only in clusters
//! of at most [`MAX_VOTERS`] voters (the large-cluster runs measure throughput and
//! cold starts, not leases).

use alloc::vec::Vec;

use super::invariants::{Checker, ViolationKind};
use crate::Instant;

/// Leases are checked in clusters of at most this many voters.
pub const MAX_VOTERS: usize = 256;

/// The unexpired leases: (node, global expiry), at most a handful.
#[derive(Debug, Default)]
pub(crate) struct Leases {
    held: Vec<(u64, u64)>,
}

impl Leases {
    /// Whether `node` holds a lease (possibly expired since).
    pub(crate) fn holds(&self, node: u64) -> bool {
        self.held.iter().any(|&(n, _)| n == node)
    }
}

impl Checker {
    /// After a step of `node` at global time `at`: it holds a lease until global
    /// time `expires` (`None`: no lease).
    pub(crate) fn on_lease(&mut self, at: u64, node: u64, expires: Option<u64>) {
        let held = &mut self.leases.held;
        held.retain(|&(n, e)| n != node && e > at);
        let Some(expires) = expires.filter(|&e| e > at) else {
            return;
        };
        let others: Vec<(u64, u64)> = held.clone();
        self.leases.held.push((node, expires));
        for (holder, until) in others {
            self.record(
                at,
                Some(node),
                ViolationKind::LeaseOverlap {
                    holder,
                    expires: Instant::from_nanos(until),
                    other: node,
                    elected: false,
                },
            );
        }
    }

    /// `node` was just elected leader at global time `at`.
    pub(crate) fn check_elected(&mut self, at: u64, node: u64) {
        let running: Vec<(u64, u64)> = self
            .leases
            .held
            .iter()
            .copied()
            .filter(|&(n, e)| n != node && e > at)
            .collect();
        for (holder, until) in running {
            self.record(
                at,
                Some(node),
                ViolationKind::LeaseOverlap {
                    holder,
                    expires: Instant::from_nanos(until),
                    other: node,
                    elected: true,
                },
            );
        }
    }
}
