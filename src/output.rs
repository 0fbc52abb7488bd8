//! Everything a node asks its caller to do.

use crate::{CommandError, HardState, Message, Role, Term};

/// One action for the caller, returned by [`Election::step`](crate::Election::step)
/// in the order it must be carried out.
///
/// **Order is the durability contract:** a [`Output::Persist`] comes before every
/// output that depends on it, and the caller must make it durable before carrying
/// out any output that follows it in the same batch.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Output<I: crate::NodeId> {
    /// Write this term and vote durably (fsync), as one atomic record, before
    /// acting on any later output of this batch. At most one per step.
    Persist(HardState<I>),
    /// Send `message` to node `to`.
    Send {
        /// The recipient.
        to: I,
        /// The message.
        message: Message,
    },
    /// Send `message` to every other member: every id in
    /// [`Membership::peers_of`](crate::Membership::peers_of) of this node, with the
    /// membership as it is after the step. The fan-out is the caller's, so a
    /// broadcast costs one output however large the cluster.
    Broadcast {
        /// The message.
        message: Message,
    },
    /// This node's role changed during the step (reported once per step, with the
    /// final role).
    RoleChanged {
        /// The new role.
        role: Role,
        /// The term at the end of the step.
        term: Term,
    },
    /// The leader this node knows of changed during the step: a different node,
    /// none, or the same node in a new term. `leader` is `Some(self)` when this
    /// node became leader.
    LeaderChanged {
        /// The known leader, if any.
        leader: Option<I>,
        /// The term the leader leads (the fencing token), or the current term when
        /// `leader` is `None`.
        term: Term,
    },
    /// A command could not be honoured; nothing changed.
    Rejected(CommandError<I>),
}
