//! After the first step at a batch size, forward_train + backward of a Linear–ReLU–Linear
//! stack allocates nothing: every buffer is owned by its layer and reused.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use staticnn::prelude::*;

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter has no
// effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `dealloc`; `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn linear_relu_linear_allocates_nothing_after_the_first_step() {
    staticnn::set_num_threads(1);
    let mut rng = Pcg64Mcg::seed_from_u64(0);
    let mut fc1 = Linear::<32, 64>::new(&mut rng);
    let mut act = ReLU::new();
    let mut fc2 = Linear::<64, 10>::new(&mut rng);
    let x = Batch::<32>::from_vec((0..32 * 32).map(|i| (i % 7) as f32 - 3.0).collect()).unwrap();
    let g = Batch::<10>::from_vec(vec![0.1; 32 * 10]).unwrap();

    let mut step = || {
        fc1.zero_grad();
        fc2.zero_grad();
        let h = fc1.forward_train(&x);
        let h = act.forward_train(h);
        fc2.forward_train(h);
        let d = fc2.backward(&g);
        let d = act.backward(d);
        fc1.backward(d);
    };
    step();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..10 {
        step();
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "allocations in 10 steps after the first");
}
