//! A global allocator that counts this thread's allocations, for the tests that prove a
//! hot path allocates nothing (`tests/no_allocation.rs`, `export-check/tests/no_allocation.rs`).
//! Included by path: the export check stays a crate with no dependencies.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

thread_local! {
    /// Allocations made by this thread: tests run in parallel and count only their own.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Allocations made by every thread, for work spread over threads (a data-parallel step);
/// only meaningful in a test binary whose one test is the only thing running.
static ALL_THREADS: AtomicUsize = AtomicUsize::new(0);

fn count() {
    // `try_with`: a thread being torn down has no counter left, and needs none.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    ALL_THREADS.fetch_add(1, Ordering::Relaxed);
}

/// Allocations this thread has made so far.
#[allow(dead_code)] // each including test uses one of the two counts
pub fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations every thread of the process has made so far.
#[allow(dead_code)]
pub fn allocations_on_every_thread() -> usize {
    ALL_THREADS.load(Ordering::Relaxed)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter has no
// effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as for `dealloc`; `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;
