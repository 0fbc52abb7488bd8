//! The role a node plays.

use core::fmt;

/// The role of a node in the election protocol.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Role {
    /// Follows a leader (or waits for one). Every node starts here.
    Follower,
    /// Asking for pre-votes (Raft thesis §9.6) before starting a real election. Its
    /// term and vote are unchanged.
    PreCandidate,
    /// Has started an election in its current term and voted for itself.
    Candidate,
    /// Won the election for its current term.
    Leader,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Follower => "follower",
            Role::PreCandidate => "pre-candidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        })
    }
}
