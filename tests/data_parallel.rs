//! `DataParallel`: the batch split over threads gives one thread's step within float
//! reassociation, the same bits from run to run, exactly the plain step on one thread, and
//! refuses what it cannot split.

use staticnn::parallel::{DataParallel, DataParallelError};
use staticnn::prelude::*;
use staticnn::state::{Entry, visit_named};
use std::time::Duration;

model! {
    /// Large enough that a 64-row step splits (rows × parameters ≥ 2²⁰).
    pub struct Net: [100] -> [10] { fc1: Linear(128), ReLU, fc2: Linear(64), ReLU, out: Linear(10) }
}

model! {
    /// Its first weight (600 × 128) is long enough that the optimizer's pass over it is cut
    /// across two threads.
    pub struct Wide: [600] -> [10] { fc1: Linear(128), ReLU, out: Linear(10) }
}

model! {
    pub struct Dropped: [100] -> [10] { fc1: Linear(128), ReLU, drop: Dropout(0.5), out: Linear(10) }
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

/// Every parameter's values (or, with `grad`, gradients) in state-dict order.
fn flat(model: &impl Module, grad: bool) -> Vec<f32> {
    let mut all = Vec::new();
    visit_named(model, |_, entry| {
        if let Entry::Parameter(p) = entry {
            all.extend_from_slice(if grad { &p.grad } else { &p.value });
        }
    });
    all
}

/// Every value of `a` is `b`'s, bit for bit.
fn assert_same_bits(a: &[f32], b: &[f32]) {
    assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
}

fn values(model: &impl Module) -> Vec<f32> {
    flat(model, false)
}

/// Five Adam steps of 64 rows on `threads` threads (0: the hand-written loop); the losses
/// and the final weights.
fn train(threads: usize) -> (Vec<f32>, Vec<f32>) {
    train_pausing(threads, Duration::ZERO)
}

/// [`train`] with `pause` between the steps.
fn train_pausing(threads: usize, pause: Duration) -> (Vec<f32>, Vec<f32>) {
    let mut model = Net::new(&mut seeded_rng(3));
    let (mut loss, mut optimizer) = (CrossEntropyLoss::new(), Adam::new(1e-2).unwrap());
    let (x, y) = data(64 * 5);
    let mut parallel = (threads > 0).then(|| DataParallel::new(&model, threads).unwrap());
    if let Some(p) = &parallel {
        // Else the comparisons below would compare the plain step with itself.
        assert_eq!(p.splits(64), threads > 1);
    }
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
        std::thread::sleep(pause);
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
    assert_same_bits(&a, &b);
}

/// Between steps the pool's threads spin, and park after a few idle milliseconds; a step
/// after they parked runs (a parked thread is woken, or finds the step on its own look) and
/// computes the same bits.
#[test]
fn steps_after_the_threads_parked_give_the_same_bits() {
    let (a_losses, a) = train(2);
    let (b_losses, b) = train_pausing(2, Duration::from_millis(30));
    assert_eq!(a_losses, b_losses);
    assert_same_bits(&a, &b);
}

#[test]
fn one_thread_is_the_hand_written_step_bit_for_bit() {
    let (plain_losses, plain) = train(0);
    let (one_losses, one) = train(1);
    assert_eq!(plain_losses, one_losses);
    assert_same_bits(&plain, &one);
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

/// The gradients a first SGD step leaves in the model, on `threads` threads (0: by hand), for
/// `rows` rows of `W` inputs.
fn first_gradients<M, const W: usize>(threads: usize, rows: usize) -> Vec<f32>
where
    M: Forward<W, 10> + Init + Send + Sync,
{
    let mut model = M::init(&mut seeded_rng(5));
    let (mut loss, mut optimizer) = (CrossEntropyLoss::new(), SGD::new(0.1).unwrap());
    let x = Batch::<W>::from_vec(
        (0..rows * W)
            .map(|i| ((i * 31 % 97) as f32 / 48.0) - 1.0)
            .collect(),
    )
    .unwrap();
    let y: Vec<usize> = (0..rows).map(|i| i * 3 % 10).collect();
    if threads == 0 {
        model.zero_grad();
        let out = model.forward_train(&x);
        let (_, grad) = loss.value_and_grad(&out, &y).unwrap();
        out.backward_params(grad);
        optimizer.step(&mut model).unwrap();
    } else {
        let mut parallel = DataParallel::new(&model, threads).unwrap();
        assert!(parallel.splits(rows));
        parallel
            .step(&mut model, &mut loss, &mut optimizer, &x, &y)
            .unwrap();
    }
    flat(&model, true)
}

fn assert_close(one: &[f32], many: &[f32]) {
    let scale = one.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    assert!(scale > 0.0);
    for (i, (a, b)) in one.iter().zip(many).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * scale,
            "gradient {i}: {a} on one thread, {b} split"
        );
    }
}

#[test]
fn the_summed_gradient_is_the_whole_batchs_for_odd_rows_and_three_threads() {
    // Gradients, not weights after Adam (which would hide a wrong scale): 61 rows split
    // 20/20/21 over three threads, and 64 over two.
    assert_close(
        &first_gradients::<Net, 100>(0, 61),
        &first_gradients::<Net, 100>(3, 61),
    );
    assert_close(
        &first_gradients::<Net, 100>(0, 64),
        &first_gradients::<Net, 100>(2, 64),
    );
}

#[test]
fn long_optimizer_passes_cut_across_threads_stay_one_threads_step() {
    // Wide's 76,800-value weight is cut in two for SGD's update and the gradient sum; with
    // one thread's gradients copied in, the update must be exactly one thread's.
    assert_close(
        &first_gradients::<Wide, 600>(0, 64),
        &first_gradients::<Wide, 600>(2, 64),
    );
    let mut a = Wide::new(&mut seeded_rng(1));
    let mut b = Wide::new(&mut seeded_rng(1));
    let (mut la, mut lb) = (CrossEntropyLoss::new(), CrossEntropyLoss::new());
    let (mut oa, mut ob) = (Adam::new(1e-2).unwrap(), Adam::new(1e-2).unwrap());
    let x =
        Batch::<600>::from_vec((0..64 * 600).map(|i| (i % 17) as f32 / 17.0).collect()).unwrap();
    let y: Vec<usize> = (0..64).map(|i| i % 10).collect();
    let mut parallel = DataParallel::new(&b, 2).unwrap();
    for _ in 0..3 {
        a.zero_grad();
        let out = a.forward_train(&x);
        let (_, grad) = la.value_and_grad(&out, &y).unwrap();
        out.backward_params(grad);
        oa.step(&mut a).unwrap();
        parallel.step(&mut b, &mut lb, &mut ob, &x, &y).unwrap();
    }
    let (va, vb) = (values(&a), values(&b));
    let worst = va
        .iter()
        .zip(&vb)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-5, "weights differ by up to {worst}");
}

#[test]
fn random_streams_and_changed_settings_are_refused_by_key() {
    let err = DataParallel::new(&Dropped::new(&mut seeded_rng(0)), 2)
        .err()
        .expect("refused");
    assert!(matches!(err, DataParallelError::RandomStream { .. }));
    assert!(err.to_string().contains("`drop."), "{err}");

    let mut model = Net::new(&mut seeded_rng(0));
    model.fc2.bias = None;
    let err = DataParallel::new(&model, 2).err().expect("refused");
    assert!(
        matches!(&err, DataParallelError::Settings { layer } if layer == "fc2"),
        "{err}"
    );
}
