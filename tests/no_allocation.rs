//! After the first step at a batch size, forward_train + backward of a Linear–ReLU–Linear
//! stack allocates nothing: every buffer is owned by its layer and reused. So do whole steps
//! of the benchmark's four networks (every layer, loss and optimizer T1–T4 use); their
//! data-parallel steps are `tests/no_allocation_parallel.rs`. Inference at small batches
//! allocates only the first layer's output.

#[path = "support/counting_allocator.rs"]
mod counting_allocator;

use counting_allocator::allocations;
#[path = "support/steps.rs"]
mod steps;
use steps::plain_step;

fn allocations_after_first_step(step: impl FnMut()) -> usize {
    steps::allocations_after_first_step(allocations, step)
}
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use staticnn::prelude::*;
use staticnn::seeded_rng;

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
        let h1 = fc1.forward_train(&x);
        let h2 = act.forward_train(&h1);
        let out = fc2.forward_train(&h2);
        let d = out.backward(&g);
        let d = h2.backward(d);
        h1.backward(d);
    };
    step();
    let before = allocations();
    for _ in 0..10 {
        step();
    }
    let after = allocations();
    assert_eq!(after - before, 0, "allocations in 10 steps after the first");
}

model! {
    /// The benchmark's T1 network.
    pub struct T1Net: [2] -> [1] { Linear(16), ReLU, Linear(16), ReLU, Linear(1) }
}

model! {
    /// The benchmark's T2 network.
    pub struct T2Net: [784] -> [10] { Linear(256), ReLU, Linear(128), ReLU, Linear(10) }
}

model! {
    /// The benchmark's T3 network.
    pub struct T3Net: [784] -> [10] { Linear(1024), ReLU, Linear(1024), ReLU, Linear(10) }
}

model! {
    /// The benchmark's T4 network.
    pub struct T4Net: [20] -> [1] { Linear(10), ReLU, Linear(1) }
}

#[test]
fn whole_training_steps_of_the_benchmark_networks_allocate_nothing() {
    staticnn::set_num_threads(1);
    let mut rng = seeded_rng(1);

    let mut model = T1Net::new(&mut rng);
    let (mut loss, mut optimizer) = (BCEWithLogitsLoss::new(), Adam::new(1e-3).unwrap());
    let x = Batch::<2>::from_vec((0..64).map(|i| i as f32 / 64.0).collect()).unwrap();
    let y = Batch::<1>::from_vec((0..32).map(|i| (i % 2) as f32).collect()).unwrap();
    let n =
        allocations_after_first_step(|| plain_step(&mut model, &mut loss, &mut optimizer, &x, &y));
    assert_eq!(n, 0, "T1: allocations in 5 steps after the first");

    let mut model = T2Net::new(&mut rng);
    let (mut loss, mut optimizer) = (CrossEntropyLoss::new(), Adam::new(1e-3).unwrap());
    let x =
        Batch::<784>::from_vec((0..64 * 784).map(|i| (i % 13) as f32 / 13.0).collect()).unwrap();
    let y: Vec<usize> = (0..64).map(|i| i % 10).collect();
    let n = allocations_after_first_step(|| {
        model.zero_grad();
        let out = model.forward_train(&x);
        let (_, grad) = loss.value_and_grad(&out, &y).unwrap();
        out.backward(grad);
        optimizer
            .step(&mut model)
            .expect("the optimizer's own model");
    });
    assert_eq!(n, 0, "T2: allocations in 5 steps after the first");

    let mut model = T3Net::new(&mut rng);
    let (mut loss, mut optimizer) = (
        CrossEntropyLoss::new(),
        SGD::new(0.01).unwrap().momentum(0.9).unwrap(),
    );
    let x =
        Batch::<784>::from_vec((0..32 * 784).map(|i| (i % 11) as f32 / 11.0).collect()).unwrap();
    let y: Vec<usize> = (0..32).map(|i| i % 10).collect();
    let n =
        allocations_after_first_step(|| plain_step(&mut model, &mut loss, &mut optimizer, &x, &y));
    assert_eq!(n, 0, "T3: allocations in 5 steps after the first");

    let mut model = T4Net::new(&mut rng);
    let (mut loss, mut optimizer) = (MSELoss::new(), Adam::new(0.01).unwrap());
    let x = Batch::<20>::from_vec((0..100 * 20).map(|i| (i % 9) as f32 / 9.0).collect()).unwrap();
    let y = Batch::<1>::from_vec((0..100).map(|i| (i % 5) as f32).collect()).unwrap();
    let n =
        allocations_after_first_step(|| plain_step(&mut model, &mut loss, &mut optimizer, &x, &y));
    assert_eq!(n, 0, "T4: allocations in 5 steps after the first");
}

#[test]
fn inference_at_small_batches_allocates_only_the_first_layers_output() {
    let mut model = T1Net::new(&mut seeded_rng(2));
    model.eval();
    for rows in 1..=4 {
        let x = Batch::<2>::randn(rows, &mut seeded_rng(3));
        let before = allocations();
        let y = model.forward(&x);
        let after = allocations();
        assert_eq!(y.rows(), rows);
        // Linear(2→16) copies its borrowed input into a new batch; ReLU and the other two
        // Linear layers write into that one.
        assert_eq!(
            after - before,
            1,
            "allocations of one forward of {rows} rows"
        );
    }
}
