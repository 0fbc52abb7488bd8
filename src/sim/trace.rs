//! The compact trace and the running trace hash.
//!
//! The hash folds in **every** event the simulation processes (its time, kind and
//! payload) and every output carried out, whether tracing is on or off, with an
//! FNV-1a-style step over 64-bit words. Two runs with the same hash took the same
//! path; the hash is what determinism tests compare.
//!
//! The trace is one line per interesting event (role, term and leader changes,
//! crashes, restarts, partitions, commands, violations), formatted only when
//! tracing is on: `time node role term what`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use super::options::Nanos;
use crate::Election;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A receiver for trace lines, instead of keeping them in memory.
pub type TraceSink = Box<dyn FnMut(&str)>;

/// The trace lines and the running hash.
pub(crate) struct Tracer {
    pub(crate) on: bool,
    pub(crate) lines: Vec<String>,
    pub(crate) sink: Option<TraceSink>,
    pub(crate) hash: u64,
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer")
            .field("on", &self.on)
            .field("lines", &self.lines.len())
            .field("hash", &self.hash)
            .finish()
    }
}

impl Tracer {
    pub(crate) fn new(on: bool) -> Self {
        Tracer {
            on,
            lines: Vec::new(),
            sink: None,
            hash: FNV_OFFSET,
        }
    }

    /// Folds one word into the hash.
    #[inline]
    pub(crate) fn mix(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(FNV_PRIME);
    }

    /// Writes one line: `time node role term what`. `node` is `None` for events of
    /// the whole simulation (partitions, heals, ...). Cheap when tracing is off.
    pub(crate) fn line(
        &mut self,
        at: u64,
        node: Option<(u64, Option<&Election<u64>>)>,
        what: fmt::Arguments<'_>,
    ) {
        if !self.on {
            return;
        }
        let mut s = String::new();
        let _ = write!(s, "{:>12} ", Nanos(at));
        match node {
            Some((id, Some(e))) => {
                let _ = write!(
                    s,
                    "n{id:<4} {:<13} t{:<4} ",
                    e.role().as_str(),
                    e.term().get()
                );
            }
            Some((id, None)) => {
                let _ = write!(s, "n{id:<4} {:<13} {:<5} ", "down", "-");
            }
            None => {
                let _ = write!(s, "{:<6} {:<13} {:<5} ", "--", "", "");
            }
        }
        let _ = s.write_fmt(what);
        match &mut self.sink {
            Some(sink) => sink(&s),
            None => self.lines.push(s),
        }
    }
}

trait RoleName {
    fn as_str(&self) -> &'static str;
}

impl RoleName for crate::Role {
    fn as_str(&self) -> &'static str {
        match self {
            crate::Role::Follower => "follower",
            crate::Role::PreCandidate => "pre-candidate",
            crate::Role::Candidate => "candidate",
            crate::Role::Leader => "leader",
        }
    }
}
