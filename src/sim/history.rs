//! The timestamped history of every node's role, term and leader.

use core::fmt;

use crate::{CommandError, Instant, Role, Term};

/// What a node believes: its role, its term and the leader it knows of.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NodeState {
    /// The node's role.
    pub role: Role,
    /// The node's term.
    pub term: Term,
    /// The leader of `term` as far as the node knows.
    pub leader: Option<u64>,
}

impl NodeState {
    pub(crate) fn of(election: &crate::Election<u64>) -> Self {
        NodeState {
            role: election.role(),
            term: election.term(),
            leader: election.leader(),
        }
    }
}

/// One change recorded in the history.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Change {
    /// The node's role, term or leader changed in a step; this is the new state.
    /// Recorded when the node processed the input, even if the outputs of that step
    /// wait for a persist.
    State(NodeState),
    /// The node crashed.
    Crashed,
    /// The node restarted from its durable state (term shown).
    Restarted {
        /// The term it restarted in.
        term: Term,
    },
    /// The node rejected a command.
    Rejected(CommandError<u64>),
}

/// One timestamped entry of [`Simulation::history`](super::Simulation::history).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HistoryEntry {
    /// Global simulated time.
    pub at: Instant,
    /// The node.
    pub node: u64,
    /// What happened.
    pub change: Change,
}

impl HistoryEntry {
    /// The new state, if this entry is a state change.
    pub fn state(&self) -> Option<NodeState> {
        match self.change {
            Change::State(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this entry is `node` becoming leader.
    pub fn is_new_leader(&self) -> bool {
        matches!(self.change, Change::State(s) if s.role == Role::Leader && s.leader == Some(self.node))
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} t{}", self.role, self.term.get())?;
        match self.leader {
            Some(l) => write!(f, " leader n{l}"),
            None => write!(f, " no leader"),
        }
    }
}

impl fmt::Display for HistoryEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>12} n{:<3} ", self.at, self.node)?;
        match &self.change {
            Change::State(s) => write!(f, "{s}"),
            Change::Crashed => write!(f, "crashed"),
            Change::Restarted { term } => write!(f, "restarted in t{}", term.get()),
            Change::Rejected(e) => write!(f, "rejected a command: {e}"),
        }
    }
}

/// What changed between two states, for the trace: `-> leader`, `term 3 -> 4`,
/// `leader n2`.
pub(crate) struct Delta(pub(crate) NodeState, pub(crate) NodeState);

impl fmt::Display for Delta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Delta(before, after) = self;
        let mut sep = "";
        if before.role != after.role {
            write!(f, "-> {}", after.role)?;
            sep = ", ";
        }
        if before.term != after.term {
            write!(f, "{sep}term {} -> {}", before.term.get(), after.term.get())?;
            sep = ", ";
        }
        if before.leader != after.leader {
            match after.leader {
                Some(l) => write!(f, "{sep}leader n{l}"),
                None => write!(f, "{sep}no leader"),
            }?;
        }
        Ok(())
    }
}
