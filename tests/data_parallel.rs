//! `DataParallel`: the batch split over threads gives one thread's step within float
//! reassociation, the same bits from run to run, exactly the plain step on one thread, and
//! refuses what it cannot split.

use staticnn::parallel::{DataParallel, DataParallelError};
use staticnn::prelude::*;
use staticnn::{Parameter, Visitor};

model! {
    /// Large enough that a 64-row step splits (rows × parameters ≥ 2²⁰).
    pub struct Net: [100] -> [10] { fc1: Linear(128), ReLU, fc2: Linear(64), ReLU, out: Linear(10) }
}

model! {
    pub struct Normed: [100] -> [10] { fc1: Linear(128), bn: BatchNorm1d, ReLU, out: Linear(10) }
}

fn data(rows: usize) -> (Batch<100>, Vec<usize>) {
    let x = (0..rows * 100)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    (
        Batch::from_vec(x).unwrap(),
        (0..rows).map(|i| i * 7 % 10).collect(),
    )
}

fn values(model: &impl Module) -> Vec<f32> {
    struct All(Vec<f32>);
    impl Visitor for All {
        fn parameter(&mut self, _: &str, p: &Parameter) {
            self.0.extend_from_slice(&p.value);
        }
    }
    let mut all = All(Vec::new());
    model.visit(&mut all);
    all.0
}

/// Five Adam steps of 64 rows on `threads` threads (0: the hand-written loop); the losses
/// and the final weights.
fn train(threads: usize) -> (Vec<f32>, Vec<f32>) {
    let mut model = Net::new(&mut seeded_rng(3));
    let (mut loss, mut optimizer) = (CrossEntropyLoss::new(), Adam::new(1e-2).unwrap());
    let (x, y) = data(64 * 5);
    let mut parallel = (threads > 0).then(|| DataParallel::new(&model, threads).unwrap());
    let mut losses = Vec::new();
    for step in 0..5 {
        let (lo, hi) = (step * 64, step * 64 + 64);
        let (x, y) = (x.slice_rows(lo, hi), &y[lo..hi]);
        let value = match &mut parallel {
            Some(p) => p.step(&mut model, &mut loss, &mut optimizer, x, y).unwrap(),
            None => {
                model.zero_grad();
                let out = model.forward_train(x);
                let (value, grad) = loss.value_and_grad(&out, y).unwrap();
                out.backward_params(grad);
                optimizer.step(&mut model).unwrap();
                value
            }
        };
        losses.push(value);
    }
    (losses, values(&model))
}

#[test]
fn two_threads_give_one_threads_step_within_reassociation() {
    let (one_losses, one) = train(0);
    let (two_losses, two) = train(2);
    for (a, b) in one_losses.iter().zip(&two_losses) {
        assert!(
            (a - b).abs() <= 1e-5 * a.abs(),
            "loss {a} on one thread, {b} on two"
        );
    }
    // The weights moved (the test can fail) and moved the same way.
    let start = values(&Net::new(&mut seeded_rng(3)));
    assert!(one.iter().zip(&start).any(|(a, b)| a != b));
    let worst = one
        .iter()
        .zip(&two)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-5, "weights differ by up to {worst}");
    // Adam's first steps move every weight by about the rate, so a part left out of the
    // gradient sum would show as differences of 1e-2, far above this bound.
}

#[test]
fn a_thread_count_gives_the_same_bits_every_run() {
    let (a_losses, a) = train(2);
    let (b_losses, b) = train(2);
    assert_eq!(a_losses, b_losses);
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn one_thread_is_the_hand_written_step_bit_for_bit() {
    let (plain_losses, plain) = train(0);
    let (one_losses, one) = train(1);
    assert_eq!(plain_losses, one_losses);
    assert!(
        plain
            .iter()
            .zip(&one)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
}

#[test]
fn frozen_layers_stay_frozen_on_every_thread() {
    let mut model = Net::new(&mut seeded_rng(3));
    let before = model.fc1.weight.value.clone();
    model.freeze("fc1.").unwrap();
    let (mut loss, mut optimizer) = (CrossEntropyLoss::new(), SGD::new(0.1).unwrap());
    let mut parallel = DataParallel::new(&model, 2).unwrap();
    let (x, y) = data(64);
    for _ in 0..3 {
        parallel
            .step(&mut model, &mut loss, &mut optimizer, &x, &y)
            .unwrap();
    }
    assert_eq!(model.fc1.weight.value, before);
    assert!(model.fc1.weight.grad.iter().all(|&g| g == 0.0));
    assert!(model.fc2.weight.grad.iter().any(|&g| g != 0.0));
}

#[test]
fn batch_statistics_are_refused_naming_the_buffer() {
    let model = Normed::new(&mut seeded_rng(0));
    let err = DataParallel::new(&model, 2).err().expect("refused");
    assert!(matches!(err, DataParallelError::BatchStatistics { .. }));
    let text = err.to_string();
    assert!(text.contains("`bn.running_mean`"), "{text}");
    assert!(matches!(
        DataParallel::new(&Net::new(&mut seeded_rng(0)), 0),
        Err(DataParallelError::NoThreads)
    ));
}

#[test]
fn a_target_that_does_not_fit_is_an_error_and_changes_no_weight() {
    let mut model = Net::new(&mut seeded_rng(3));
    let before = values(&model);
    let (mut loss, mut optimizer) = (CrossEntropyLoss::new(), SGD::new(0.1).unwrap());
    let mut parallel = DataParallel::new(&model, 2).unwrap();
    let (x, mut y) = data(64);
    y[40] = 10;
    let err = parallel
        .step(&mut model, &mut loss, &mut optimizer, &x, &y)
        .unwrap_err();
    assert!(err.to_string().contains("10"), "{err}");
    assert_eq!(values(&model), before);
}
