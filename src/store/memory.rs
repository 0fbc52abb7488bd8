//! [`MemoryStore`]: a store in memory, for tests and simulations.

use std::sync::{Arc, Mutex, PoisonError};

use super::{Store, StoreError};
use crate::HardState;

/// A [`Store`] that keeps the record in memory. Clones share the record, so a test
/// can keep one clone to inspect what was saved, or to restart a node from it.
/// Not durable across process restarts, of course.
///
/// ```
/// use ballot::store::{MemoryStore, Store};
/// use ballot::{HardState, Term};
/// let mut store = MemoryStore::new();
/// let inspect = store.clone();
/// store.save(&HardState { term: Term(2), voted_for: Some(7u64) }).unwrap();
/// assert_eq!(inspect.get().unwrap().term, Term(2));
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore<I> {
    record: Arc<Mutex<Option<HardState<I>>>>,
}

impl<I: Copy> MemoryStore<I> {
    /// An empty store (a node that never ran).
    pub fn new() -> Self {
        MemoryStore {
            record: Arc::new(Mutex::new(None)),
        }
    }

    /// A store holding `record`.
    pub fn with(record: HardState<I>) -> Self {
        MemoryStore {
            record: Arc::new(Mutex::new(Some(record))),
        }
    }

    /// The record saved last.
    pub fn get(&self) -> Option<HardState<I>> {
        *self.record.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<I: Copy + Send + 'static> Store<I> for MemoryStore<I> {
    fn load(&mut self) -> Result<Option<HardState<I>>, StoreError> {
        Ok(self.get())
    }

    fn save(&mut self, hard_state: &HardState<I>) -> Result<(), StoreError> {
        *self.record.lock().unwrap_or_else(PoisonError::into_inner) = Some(*hard_state);
        Ok(())
    }
}
