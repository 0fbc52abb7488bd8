//! Terms, the persistent hard state and the freshness position.

use core::fmt;

/// A Raft term: a logical clock that only ever increases.
///
/// **Raft guarantees at most one leader per term, not one leader at a time.** A
/// deposed leader may still believe it leads (for a while) after a newer leader has
/// been elected in a higher term. Use the term as a *fencing token*: attach it to
/// every write the leader makes to shared resources, and have those resources reject
/// writes carrying a term lower than the highest they have seen.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Term(pub u64);

impl Term {
    /// Term zero: no election has happened yet.
    pub const ZERO: Term = Term(0);
    /// The last term: no election can start from it (see
    /// [`CommandError::TermExhausted`](crate::CommandError::TermExhausted)).
    pub const MAX: Term = Term(u64::MAX);

    /// The term as a plain number (the fencing token).
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The next term (saturating at `u64::MAX`).
    pub const fn next(self) -> Term {
        Term(self.0.saturating_add(1))
    }

    /// The previous term (saturating at zero).
    pub(crate) const fn prev(self) -> Term {
        Term(self.0.saturating_sub(1))
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a node must persist: its current term and whom it voted for in that term.
///
/// Emitted as [`Output::Persist`](crate::Output::Persist). The two fields are one
/// record: write them together, atomically (one small file replaced by rename, one
/// database row, ...), and make the write durable before acting on any output that
/// follows the `Persist` in the same batch. Pass the last durable record to
/// [`Election::new`](crate::Election::new) on restart; that is what stops a
/// restarted node from voting twice in one term.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct HardState<I> {
    /// The latest term this node has seen.
    pub term: Term,
    /// The candidate this node voted for in `term` — or, if it did not vote, the
    /// leader it followed in `term`: a node that knows a term's leader never votes
    /// for anyone else in that term, even after a restart.
    pub voted_for: Option<I>,
}

impl<I> Default for HardState<I> {
    /// Term zero, no vote: the state of a node that has never run.
    fn default() -> Self {
        HardState {
            term: Term::ZERO,
            voted_for: None,
        }
    }
}

/// How up to date a node's data is, as the application defines it.
///
/// A vote is granted only to a candidate whose freshness is at least the voter's.
/// Full Raft uses `(last log term, last log index)`; pure leader election leaves every
/// node at the default (all equal), so any candidate qualifies. Ordered by `term`
/// first, then `index`. Set it with [`Input::SetFreshness`](crate::Input::SetFreshness).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Freshness {
    /// Term of the last entry (or any coarse epoch).
    pub term: u64,
    /// Index of the last entry (or any position within the epoch).
    pub index: u64,
}

impl Freshness {
    /// A freshness position.
    pub const fn new(term: u64, index: u64) -> Self {
        Freshness { term, index }
    }
}
