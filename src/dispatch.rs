//! Carrying out a step's outputs, in order: the [`Host`] trait and [`dispatch`].
//!
//! Every run loop does the same thing with the outputs of a step: persist, send,
//! fan broadcasts out to the peers, report events — in order, never acting on an
//! output that follows a [`Output::Persist`] before that write is durable.
//! [`dispatch`] does it once, with an exhaustive `match` inside the crate, so a new
//! kind of output is handled here instead of vanishing into a `_ => {}` arm of
//! every user's loop.
//!
//! # After a failed persist
//!
//! [`dispatch`] stops at the first [`Host::persist`] that fails and returns its
//! error; nothing after it is carried out. **The node must then not act again**:
//! its in-memory state (term, vote) is ahead of what is durable, so any further
//! output could promise something a restart would forget (a second vote in the same
//! term). Drop the [`Election`] and restart it from what the store holds, or stop
//! the process. The drivers (feature `std`) do exactly that: a failed
//! write halts the node.

use crate::{
    CommandError, Election, HardState, Membership, Message, NodeId, Output, Role, Term,
    TransferFailure,
};

/// What a node's outputs need from the world around it: a disk, a network, and
/// someone to tell about events. Implement it once; [`dispatch`] calls it.
///
/// Only [`Host::persist`] and [`Host::send`] are required; the events default to
/// doing nothing and [`Host::broadcast`] to one [`Host::send`] per peer.
pub trait Host<I: NodeId> {
    /// The error a failed write reports.
    type Error;

    /// Makes `hard_state` durable — written and flushed (fsync), term and vote as one
    /// atomic record — before returning `Ok`. On `Err`, [`dispatch`] stops, and the
    /// node must not act again (see [`dispatch`]).
    fn persist(&mut self, hard_state: &HardState<I>) -> Result<(), Self::Error>;

    /// Sends `message` to node `to`, best effort: a lost message is normal in Raft,
    /// so a failure here is the host's to count or log, never the node's problem.
    fn send(&mut self, to: I, message: Message);

    /// Sends `message` to every peer of `from` in `membership` (the node's membership
    /// when [`dispatch`] runs). By default one [`Host::send`] per id of
    /// [`Membership::peers_of`]; override it to batch.
    fn broadcast(&mut self, membership: &Membership<I>, from: I, message: Message) {
        for to in membership.peers_of(from) {
            self.send(to, message);
        }
    }

    /// The node's role changed ([`Output::RoleChanged`]).
    fn role_changed(&mut self, role: Role, term: Term) {
        let _ = (role, term);
    }

    /// The leader the node knows of changed ([`Output::LeaderChanged`]): `Some(id)`
    /// with the term it leads (the fencing token), or `None`.
    fn leader_changed(&mut self, leader: Option<I>, term: Term) {
        let _ = (leader, term);
    }

    /// A command could not be honoured ([`Output::Rejected`]); nothing changed.
    fn rejected(&mut self, error: CommandError<I>) {
        let _ = error;
    }

    /// This leader started a leadership transfer to `to` ([`Output::TransferStarted`]):
    /// pause leader-only work until it ends.
    fn transfer_started(&mut self, to: I, term: Term) {
        let _ = (to, term);
    }

    /// A pending transfer was given up and this node still leads
    /// ([`Output::TransferFailed`]).
    fn transfer_failed(&mut self, to: I, term: Term, reason: TransferFailure) {
        let _ = (to, term, reason);
    }
}

/// Carries out `outputs` of a step of `election`, in order, on `host`.
///
/// Stops at the first failed [`Host::persist`] and returns its error: nothing after
/// that output is carried out. **The node must then not act again**: its in-memory
/// term and vote are ahead of what is durable, so any further output could promise
/// something a restart would forget (a second vote in one term). Drop the
/// [`Election`] and restart it from what the store holds, or stop the process; the
/// drivers halt the node. Broadcasts go to [`Membership::peers_of`] the node, in its
/// membership at the time of the call.
///
/// ```
/// use ballot::{Config, Election, HardState, Input, Instant, Membership, Message, dispatch};
///
/// struct Disk(Option<HardState<u64>>, Vec<(u64, Message)>);
/// impl ballot::Host<u64> for Disk {
///     type Error = std::convert::Infallible;
///     fn persist(&mut self, hs: &HardState<u64>) -> Result<(), Self::Error> {
///         self.0 = Some(*hs); // a real host writes and fsyncs here
///         Ok(())
///     }
///     fn send(&mut self, to: u64, message: Message) {
///         self.1.push((to, message));
///     }
/// }
///
/// let members = Membership::new([1u64, 2, 3]).unwrap();
/// let mut node = Election::new(Config::default(), 1, members, None, Instant::ZERO).unwrap();
/// let mut host = Disk(None, Vec::new());
/// let outputs = node.step(Input::Campaign, Instant::ZERO);
/// dispatch(&node, outputs, &mut host).unwrap();
/// assert_eq!(host.1.len(), 2); // a (pre-)vote request to each peer
/// ```
pub fn dispatch<I, H>(
    election: &Election<I>,
    outputs: impl IntoIterator<Item = Output<I>>,
    host: &mut H,
) -> Result<(), H::Error>
where
    I: NodeId,
    H: Host<I> + ?Sized,
{
    for output in outputs {
        carry_out(election.id(), election.membership(), output, host)?;
    }
    Ok(())
}

/// Carries out one output of node `id` whose membership is `membership`.
pub(crate) fn carry_out<I, H>(
    id: I,
    membership: &Membership<I>,
    output: Output<I>,
    host: &mut H,
) -> Result<(), H::Error>
where
    I: NodeId,
    H: Host<I> + ?Sized,
{
    // Exhaustive on purpose: a new output kind must be handled here.
    match output {
        Output::Persist(hard_state) => host.persist(&hard_state)?,
        Output::Send { to, message } => host.send(to, message),
        Output::Broadcast { message } => host.broadcast(membership, id, message),
        Output::RoleChanged { role, term } => host.role_changed(role, term),
        Output::LeaderChanged { leader, term } => host.leader_changed(leader, term),
        Output::Rejected(error) => host.rejected(error),
        Output::TransferStarted { to, term } => host.transfer_started(to, term),
        Output::TransferFailed { to, term, reason } => host.transfer_failed(to, term, reason),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::Instant;

    #[derive(Default)]
    struct Log {
        fail_persist: bool,
        did: Vec<&'static str>,
        sent_to: Vec<u64>,
    }

    impl Host<u64> for Log {
        type Error = &'static str;
        fn persist(&mut self, _: &HardState<u64>) -> Result<(), &'static str> {
            self.did.push("persist");
            if self.fail_persist {
                Err("disk full")
            } else {
                Ok(())
            }
        }
        fn send(&mut self, to: u64, _: Message) {
            self.did.push("send");
            self.sent_to.push(to);
        }
        fn role_changed(&mut self, _: Role, _: Term) {
            self.did.push("role");
        }
        fn leader_changed(&mut self, _: Option<u64>, _: Term) {
            self.did.push("leader");
        }
        fn rejected(&mut self, _: CommandError<u64>) {
            self.did.push("rejected");
        }
    }

    fn node() -> Election<u64> {
        let m = Membership::with_learners([1, 2, 3], [4]).unwrap();
        Election::new(crate::Config::default(), 1, m, None, Instant::ZERO).unwrap()
    }

    fn batch() -> Vec<Output<u64>> {
        let hb = Message::Heartbeat {
            term: Term(1),
            sent: Instant::ZERO,
            hand_over: false,
        };
        vec![
            Output::Persist(HardState {
                term: Term(1),
                voted_for: Some(1),
            }),
            Output::Broadcast { message: hb },
            Output::Send { to: 2, message: hb },
            Output::RoleChanged {
                role: Role::Leader,
                term: Term(1),
            },
            Output::LeaderChanged {
                leader: Some(1),
                term: Term(1),
            },
            Output::Rejected(CommandError::NotLeader),
        ]
    }

    #[test]
    fn carries_out_every_output_in_order_and_fans_out_broadcasts() {
        let mut host = Log::default();
        dispatch(&node(), batch(), &mut host).unwrap();
        assert_eq!(
            host.did,
            [
                "persist", "send", "send", "send", "send", "role", "leader", "rejected"
            ]
        );
        assert_eq!(host.sent_to, [2, 3, 4, 2]); // peers of 1, learners included, then the Send
    }

    #[test]
    fn stops_at_a_failed_persist() {
        let mut host = Log {
            fail_persist: true,
            ..Log::default()
        };
        assert_eq!(dispatch(&node(), batch(), &mut host), Err("disk full"));
        assert_eq!(host.did, ["persist"]); // nothing after the failed write
    }
}
