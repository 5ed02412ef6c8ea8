//! The exported `forward` and `forward_batch` allocate nothing: a counting global allocator
//! sees no allocation on this thread across calls of every exported model.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use staticnn_export_check::{binary_classifier, cnn, embedding, mlp, windows};

struct Counting;

thread_local! {
    /// Allocations made by this thread: tests run in parallel and count only their own.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: a thread being torn down has no counter left, and needs none.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
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

#[test]
fn exported_forward_allocates_nothing() {
    // Buffers made before counting starts: the caller owns them.
    let mut out = [0.0f32; 440];
    let inputs = [0.25f32; 440];
    let before = allocations();
    let mut sink = 0.0f32;
    for i in 0..100 {
        let v = i as f32 * 0.1 - 5.0;
        sink += binary_classifier::forward(&[v, -v])[0];
        sink += mlp::forward(&[v; 8])[0];
        sink += cnn::forward(&[v; 64])[0];
        sink += windows::forward(&[v; 220])[0];
        sink += embedding::forward(&[(i % 20) as f32, 1.0, 2.0, 3.0, f32::NAN])[0];
        binary_classifier::forward_batch(&inputs[..8], &mut out).unwrap();
        mlp::forward_batch(&inputs[..32], &mut out).unwrap();
        cnn::forward_batch(&inputs[..128], &mut out).unwrap();
        embedding::forward_batch(&inputs[..10], &mut out).unwrap();
        windows::forward_batch(&inputs[..440], &mut out).unwrap();
        sink += out[0];
    }
    let made = allocations() - before;
    std::hint::black_box(sink);
    assert_eq!(made, 0, "the exported forward allocated {made} times");
}
