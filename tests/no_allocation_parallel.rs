//! Data-parallel steps of the benchmark's T2 and T3 networks allocate nothing after the
//! first, on any thread: the replicas, the hand-overs between threads and the split optimizer
//! passes reuse what the first step made; so does the plain step with the thread count left
//! at its default. Its own test binary with one test, so the count
//! of every thread's allocations is this test's alone.

#[path = "support/counting_allocator.rs"]
mod counting_allocator;

use counting_allocator::allocations_on_every_thread;
#[path = "support/steps.rs"]
mod steps;
use staticnn::parallel::DataParallel;
use staticnn::prelude::*;
use staticnn::seeded_rng;

model! {
    /// The benchmark's T2 network.
    pub struct T2Net: [784] -> [10] { Linear(256), ReLU, Linear(128), ReLU, Linear(10) }
}

model! {
    /// The benchmark's T3 network.
    pub struct T3Net: [784] -> [10] { Linear(1024), ReLU, Linear(1024), ReLU, Linear(10) }
}

/// Allocations on every thread during 5 steps after a first one.
fn allocations_after_first_step(step: impl FnMut()) -> usize {
    steps::allocations_after_first_step(allocations_on_every_thread, step)
}

#[test]
fn data_parallel_steps_allocate_nothing_after_the_first() {
    let mut rng = seeded_rng(2);

    // The plain step first, with the thread count never set (`tests/no_allocation.rs` sets it
    // to 1): asking the machine's core count once per product used to allocate. Its batch
    // serves the data-parallel T2 step too.
    let mut model = T2Net::new(&mut rng);
    let (mut loss, mut optimizer) = (CrossEntropyLoss::new(), Adam::new(1e-3).unwrap());
    let x =
        Batch::<784>::from_vec((0..64 * 784).map(|i| (i % 13) as f32 / 13.0).collect()).unwrap();
    let y: Vec<usize> = (0..64).map(|i| i % 10).collect();
    let n = allocations_after_first_step(|| {
        steps::plain_step(&mut model, &mut loss, &mut optimizer, &x, &y)
    });
    assert_eq!(
        n, 0,
        "T2 on one thread: allocations in 5 steps after the first"
    );

    // T2 with Adam, and T3 with SGD momentum (inside `scope`, as a loop of steps runs): both
    // split, since rows × parameters ≥ 2²⁰.
    let mut model = T2Net::new(&mut rng);
    let (mut loss, mut optimizer) = (CrossEntropyLoss::new(), Adam::new(1e-3).unwrap());
    let mut parallel = DataParallel::new(&model, 2).unwrap();
    let n = allocations_after_first_step(|| {
        parallel
            .step(&mut model, &mut loss, &mut optimizer, &x, &y)
            .unwrap();
    });
    assert_eq!(
        n, 0,
        "T2 on two threads: allocations in 5 steps after the first"
    );

    let mut model = T3Net::new(&mut rng);
    let (mut loss, mut optimizer) = (
        CrossEntropyLoss::new(),
        SGD::new(0.01).unwrap().momentum(0.9).unwrap(),
    );
    let mut parallel = DataParallel::new(&model, 2).unwrap();
    let x =
        Batch::<784>::from_vec((0..32 * 784).map(|i| (i % 11) as f32 / 11.0).collect()).unwrap();
    let y: Vec<usize> = (0..32).map(|i| i % 10).collect();
    let n = allocations_after_first_step(|| {
        parallel.scope(|parallel| {
            parallel
                .step(&mut model, &mut loss, &mut optimizer, &x, &y)
                .unwrap();
        });
    });
    assert_eq!(
        n, 0,
        "T3 on two threads: allocations in 5 steps after the first"
    );
}
