//! Counting distinct voters: election tallies and CheckQuorum contact.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::{Membership, NodeId};

/// What one voter said in the current round.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mark {
    Unknown,
    Yes,
    No,
}

/// The result of recording one answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Recorded {
    /// Counted.
    Counted,
    /// The node is not a voter; not counted.
    NotAVoter,
    /// This voter was already counted in this round; not counted again.
    Duplicate,
}

/// One mark per voter (indexed like `Membership::voters`), with running counts, so
/// recording an answer is a binary search and counting is free. A duplicated
/// answer is recognised and counted once.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    marks: Box<[Mark]>,
    yes: u32,
    no: u32,
}

impl Tally {
    /// Clears the tally for a new round over `members`' voters.
    pub(crate) fn reset<I: NodeId>(&mut self, members: &Membership<I>) {
        let voters = members.voters().len();
        if self.marks.len() == voters {
            self.marks.fill(Mark::Unknown);
        } else {
            self.marks = alloc::vec![Mark::Unknown; voters].into_boxed_slice();
        }
        self.yes = 0;
        self.no = 0;
    }

    /// Records `id`'s answer.
    pub(crate) fn record<I: NodeId>(
        &mut self,
        members: &Membership<I>,
        id: I,
        yes: bool,
    ) -> Recorded {
        let Some(at) = members.voter_index(id) else {
            return Recorded::NotAVoter;
        };
        let Some(mark) = self.marks.get_mut(at) else {
            return Recorded::NotAVoter;
        };
        if *mark != Mark::Unknown {
            return Recorded::Duplicate;
        }
        if yes {
            *mark = Mark::Yes;
            self.yes += 1;
        } else {
            *mark = Mark::No;
            self.no += 1;
        }
        Recorded::Counted
    }

    /// Distinct voters that said yes.
    pub(crate) fn yes(&self) -> usize {
        self.yes as usize
    }

    /// Distinct voters that said no.
    pub(crate) fn no(&self) -> usize {
        self.no as usize
    }

    /// Carries the marks over to a changed voter set: voters that remain keep their
    /// answer, removed voters' answers are dropped, new voters start unknown.
    pub(crate) fn remap<I: NodeId>(&mut self, old: &Membership<I>, new: &Membership<I>) {
        let mut marks = Vec::with_capacity(new.voters().len());
        let (mut yes, mut no) = (0, 0);
        for id in new.voters() {
            let mark = old
                .voter_index(*id)
                .and_then(|i| self.marks.get(i).copied())
                .unwrap_or(Mark::Unknown);
            match mark {
                Mark::Yes => yes += 1,
                Mark::No => no += 1,
                Mark::Unknown => {}
            }
            marks.push(mark);
        }
        *self = Tally {
            marks: marks.into_boxed_slice(),
            yes,
            no,
        };
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.marks.len()
    }
}
