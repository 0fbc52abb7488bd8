//! A counting global allocator: allocation calls and live bytes, for both sides alike.
//!
//! The counters are thread-local `Cell`s (the benchmark is single-threaded), so
//! counting adds a few plain instructions per call rather than atomic
//! read-modify-writes, which would inflate the cost of every allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn count(calls: u64, bytes: i64) {
    // `try_with`: a thread being torn down may still free memory.
    let _ = ALLOCS.try_with(|a| a.set(a.get() + calls));
    let _ = LIVE.try_with(|l| l.set(l.get() + bytes));
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as i64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as i64);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(1, new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocation calls (alloc, alloc_zeroed, realloc) so far on this thread.
pub fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// Bytes currently allocated by this thread (requested sizes, not the allocator's
/// rounding).
pub fn live_bytes() -> i64 {
    LIVE.with(Cell::get)
}
