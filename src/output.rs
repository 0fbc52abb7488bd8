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
    /// This leader started handing leadership to `to` (an
    /// [`Input::TransferLeadership`](crate::Input::TransferLeadership), a priority
    /// hand-over, or the hand-over of [`Input::StepDown`](crate::Input::StepDown) or
    /// of a removal). Pause leader work: the transfer ends when this node stops
    /// leading ([`Output::RoleChanged`]) or with [`Output::TransferFailed`].
    TransferStarted {
        /// The voter told to campaign.
        to: I,
        /// The term of this leader.
        term: Term,
    },
    /// A pending transfer ended without a new leader; this node still leads, in
    /// `term`, and resumes normal leading.
    TransferFailed {
        /// The voter that was told to campaign.
        to: I,
        /// The term this node leads.
        term: Term,
        /// Why the transfer was given up.
        reason: TransferFailure,
    },
}

/// Why a leadership transfer was given up (see [`Output::TransferFailed`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum TransferFailure {
    /// No new leader within one election timeout (`election_timeout_max`).
    TimedOut,
    /// A second `TransferLeadership` replaced it.
    Replaced,
    /// The target is no longer a voter.
    TargetRemoved,
    /// The target answered that it is a witness, which never campaigns.
    TargetCannotLead,
}
