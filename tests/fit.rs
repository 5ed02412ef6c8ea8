//! `fit` end to end: moons, noisy regression at the noise floor, early stopping with restored
//! weights, reproducibility, and the non-finite-loss stop.

use staticnn::data::{DataError, synthetic};
use staticnn::prelude::*;
use staticnn::train::{FitError, Phase};

#[path = "support/panics.rs"]
mod panics;
use panics::panic_message;

model! {
    pub struct MoonNet: [2] -> [1] {
        fc1: Linear(16),
        ReLU,
        fc2: Linear(16),
        ReLU,
        out: Linear(1),
    }
}

model! {
    pub struct LinearModel: [5] -> [1] {
        fc: Linear(1),
    }
}

fn quiet(epochs: usize, batch: usize) -> FitOptions {
    FitOptions::new(epochs, batch).progress(Progress::Quiet)
}

#[test]
fn moons_reach_97_percent_validation_accuracy() {
    let mut rng = seeded_rng(1);
    let data = synthetic::moons(1000, 0.15, &mut rng);
    let mut model = MoonNet::new(&mut rng);
    let mut options = quiet(60, 32)
        .validation_split(0.2)
        .metrics(&[Metric::BinaryAccuracy])
        .seed(1);
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut Adam::new(0.01).unwrap(),
        &data,
        None,
        &mut options,
    )
    .unwrap();
    let last = history.last().unwrap();
    let acc = last.get("val_binary_accuracy").unwrap();
    assert!(
        acc >= 0.97,
        "validation accuracy {acc}\n{}",
        history.to_csv()
    );
    assert!(last.loss < history.epochs[0].loss);
}

#[test]
fn noisy_regression_reaches_the_noise_floor() {
    let mut rng = seeded_rng(2);
    let noise = 0.5f32;
    let (data, _, _) = synthetic::linear_regression::<5>(10_000, noise, &mut rng);
    let mut model = LinearModel::new(&mut rng);
    let mut options = quiet(30, 64)
        .validation_split(0.2)
        .metrics(&[Metric::MSE, Metric::R2])
        .seed(2);
    let history = fit(
        &mut model,
        &mut MSELoss::new(),
        &mut SGD::new(0.05).unwrap(),
        &data,
        None,
        &mut options,
    )
    .unwrap();
    let floor = f64::from(noise * noise);
    let val_mse = history.last().unwrap().get("val_mse").unwrap();
    assert!(
        (val_mse - floor).abs() <= 0.1 * floor,
        "val MSE {val_mse}, noise variance {floor}"
    );
    assert!(history.last().unwrap().get("val_r2").unwrap() > 0.9);
}

#[test]
fn early_stopping_stops_and_restores_the_best_weights() {
    let mut rng = seeded_rng(3);
    // A tiny, noisy training set and a large learning rate: validation loss turns upward.
    let train = synthetic::moons(24, 0.45, &mut rng);
    let val = synthetic::moons(400, 0.45, &mut rng);
    let mut model = MoonNet::new(&mut rng);
    let mut options = quiet(300, 8)
        .callback(
            EarlyStopping::new("val_loss")
                .patience(5)
                .restore_best_weights(true),
        )
        .seed(3);
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut Adam::new(0.05).unwrap(),
        &train,
        Some(&val),
        &mut options,
    )
    .unwrap();
    assert!(history.epochs.len() < 300, "did not stop");
    let losses = history.series("val_loss");
    let (best_epoch, best) =
        losses.iter().enumerate().fold(
            (0, f64::INFINITY),
            |acc, (i, &l)| if l < acc.1 { (i, l) } else { acc },
        );
    // Keras counts the best epoch's successors: the 5th without improvement stops.
    assert_eq!(
        losses.len() - 1 - best_epoch,
        5,
        "stops `patience` epochs after the best"
    );
    // Validated in batches of the training batch size, as `fit` does.
    let now = evaluate(&model, &BCEWithLogitsLoss::new(), &val, 8, &[])
        .unwrap()
        .loss;
    assert_eq!(now, best, "the best epoch's weights are restored");
}

#[test]
fn the_same_seed_gives_the_same_history() {
    let run = || {
        let mut rng = seeded_rng(4);
        let data = synthetic::moons(300, 0.2, &mut rng);
        let mut model = MoonNet::new(&mut rng);
        let mut options = quiet(5, 16)
            .validation_split(0.25)
            .metrics(&[Metric::BinaryAccuracy])
            .seed(9);
        let mut h = fit(
            &mut model,
            &mut BCEWithLogitsLoss::new(),
            &mut Adam::new(0.01).unwrap(),
            &data,
            None,
            &mut options,
        )
        .unwrap();
        h.epochs.iter_mut().for_each(|e| e.seconds = 0.0);
        (h, staticnn::state_dict(&model))
    };
    let (a, wa) = run();
    let (b, wb) = run();
    assert_eq!(a, b);
    assert_eq!(wa, wb);
}

#[test]
fn a_planted_nan_stops_training_with_the_epoch_and_step() {
    let mut rng = seeded_rng(5);
    let mut data = synthetic::moons(64, 0.1, &mut rng);
    data.features.as_mut_slice()[2 * 40] = f32::NAN; // row 40: the third batch of 16
    let mut model = MoonNet::new(&mut rng);
    let before = staticnn::state_dict(&model);
    let mut options = quiet(3, 16).shuffle(false);
    let err = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut Adam::new(0.01).unwrap(),
        &data,
        None,
        &mut options,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("are back as they were at the start of epoch 1"),
        "{err}"
    );
    match err {
        FitError::RolledBack {
            epoch: 1,
            phase: Phase::Training,
            source,
        } => match *source {
            FitError::NonFiniteLoss { epoch, step, loss } => {
                assert_eq!((epoch, step), (1, 3));
                assert!(loss.is_nan());
            }
            other => panic!("{other}"),
        },
        other => panic!("{other}"),
    }
    assert_eq!(
        staticnn::state_dict(&model),
        before,
        "the last good weights are kept"
    );
}

#[test]
fn scheduler_gradient_accumulation_and_clipping_run() {
    let mut rng = seeded_rng(6);
    let data = synthetic::spirals(50, 3, 0.1, &mut rng);
    model! {
        struct SpiralNet: [2] -> [3] { Linear(32), ReLU, Linear(3) }
    }
    let mut model = SpiralNet::new(&mut rng);
    let mut optimizer = SGD::new(0.1).unwrap().momentum(0.9).unwrap();
    let mut options = quiet(6, 10)
        .metrics(&[Metric::Accuracy])
        .scheduler(StepLR::new(&mut optimizer, 2, 0.5).unwrap(), Every::Epoch)
        .accumulate(3)
        .clip(Clip::Norm(1.0));
    let history = fit(
        &mut model,
        &mut CrossEntropyLoss::new(),
        &mut optimizer,
        &data,
        None,
        &mut options,
    )
    .unwrap();
    let lrs = history.series("lr");
    // The rate in effect during each epoch: halved every second epoch.
    assert_eq!(lrs, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
    assert!(
        history
            .series("accuracy")
            .iter()
            .all(|a| (0.0..=1.0).contains(a))
    );
    assert!(
        history
            .to_csv()
            .starts_with("epoch,loss,accuracy,lr,seconds\n")
    );
    let json = history.to_json();
    assert_eq!(History::from_json(&json).unwrap(), history);
}

#[test]
fn early_stopping_in_max_mode_watches_accuracy() {
    let mut rng = seeded_rng(8);
    let data = synthetic::moons(200, 0.1, &mut rng);
    let mut model = MoonNet::new(&mut rng);
    let stop = EarlyStopping::new("val_accuracy")
        .mode(PlateauMode::Max)
        .patience(2)
        .min_delta(0.5);
    let mut options = quiet(50, 16)
        .validation_split(0.25)
        .metrics(&[Metric::Accuracy])
        .callback(stop);
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut Adam::new(0.01).unwrap(),
        &data,
        None,
        &mut options,
    )
    .unwrap();
    // No epoch can beat the first by half a point of accuracy: Keras's wait reaches the
    // patience of 2 at the third epoch, which stops.
    assert_eq!(history.epochs.len(), 3);
}

/// The epoch's last, partial accumulation is an optimizer step, and a per-batch scheduler
/// steps with it: 4 batches accumulated by 3 are 2 steps per epoch.
#[test]
fn a_partial_accumulation_steps_the_per_batch_scheduler() {
    let mut rng = seeded_rng(7);
    let data = synthetic::moons(64, 0.1, &mut rng);
    let mut model = MoonNet::new(&mut rng);
    let mut optimizer = SGD::new(0.1).unwrap();
    let mut options = quiet(2, 16)
        .scheduler(StepLR::new(&mut optimizer, 1, 0.5).unwrap(), Every::Batch)
        .accumulate(3);
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut optimizer,
        &data,
        None,
        &mut options,
    )
    .unwrap();
    // The rate at each epoch's end: halved twice per epoch.
    assert_eq!(history.series("lr"), [0.025, 0.00625]);
}

model! {
    pub struct ThreeClass: [2] -> [3] { fc1: Linear(8), Tanh, out: Linear(3) }
}

/// Keras's `class_weight`: one full-batch epoch of `fit` is the hand-written step whose loss
/// weighs each sample by its class (and means over the rows), bit for bit; the recorded loss
/// is the weighted one. The weighted loss itself is checked against PyTorch's numbers in the
/// parity suite (`losses.json`, `crossentropy_sample_weight_*`).
#[test]
fn class_weights_weigh_each_training_sample_by_its_class() {
    let data = synthetic::spirals(60, 3, 0.1, &mut seeded_rng(4));
    let weights = [1.0, 3.0, 0.5];
    let mut fitted = ThreeClass::new(&mut seeded_rng(5));
    let mut by_hand = ThreeClass::new(&mut seeded_rng(5));
    let mut options = quiet(1, data.len()).shuffle(false).class_weight(&weights);
    let history = fit(
        &mut fitted,
        &mut CrossEntropyLoss::new(),
        &mut SGD::new(0.5).unwrap(),
        &data,
        None,
        &mut options,
    )
    .unwrap();

    let mut loss = CrossEntropyLoss::new();
    let mut sgd = SGD::new(0.5).unwrap();
    let rows: Vec<f32> = data.targets.iter().map(|&c| weights[c]).collect();
    by_hand.train();
    by_hand.zero_grad();
    let out = by_hand.forward_train(&data.features);
    let (value, grad) = loss
        .value_and_grad_weighted(&out, &data.targets, &rows)
        .unwrap();
    let grad = grad.to_owned();
    out.backward_params(&grad);
    sgd.step(&mut by_hand).unwrap();

    assert_eq!(
        staticnn::state_dict(&fitted),
        staticnn::state_dict(&by_hand)
    );
    assert_eq!(history.last().unwrap().loss, f64::from(value));
    let unweighted = CrossEntropyLoss::new()
        .value(
            &ThreeClass::new(&mut seeded_rng(5)).forward(&data.features),
            &data.targets,
        )
        .unwrap();
    assert_ne!(value, unweighted, "the weights changed the loss");
}

/// One weight per class (two for a one-output binary model), each finite and >= 0, checked
/// before the first epoch; binary 0/1 targets are classes.
#[test]
fn class_weights_are_checked_before_training_and_apply_to_binary_targets() {
    let data = synthetic::moons(40, 0.1, &mut seeded_rng(0));
    let mut model = MoonNet::new(&mut seeded_rng(1));
    let before = staticnn::state_dict(&model);
    for (weights, what) in [
        (&[1.0, 2.0, 3.0][..], "3 weights"),
        (&[1.0, -1.0][..], "-1"),
    ] {
        let err = fit(
            &mut model,
            &mut BCEWithLogitsLoss::new(),
            &mut SGD::new(0.1).unwrap(),
            &data,
            None,
            &mut quiet(1, 8).class_weight(weights),
        )
        .unwrap_err();
        assert!(matches!(err, FitError::ClassWeight(_)), "{err}");
        assert!(err.to_string().contains(what), "{err}");
    }
    assert_eq!(staticnn::state_dict(&model), before);
    // A class the weights do not cover is found at its batch and named (before the loss,
    // which would refuse it too).
    let features = Batch::<2>::from_rows(&[[0.0, 1.0], [1.0, 0.0]]);
    let labels = Dataset::new(features, vec![0usize, 3]).unwrap();
    let err = fit(
        &mut ThreeClass::new(&mut seeded_rng(3)),
        &mut CrossEntropyLoss::new(),
        &mut SGD::new(0.1).unwrap(),
        &labels,
        None,
        &mut quiet(1, 2).class_weight(&[1.0, 1.0, 1.0]),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("row 1 of the batch is class 3, but class_weight has 3 classes"),
        "{err}"
    );
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut SGD::new(0.1).unwrap(),
        &data,
        None,
        &mut quiet(2, 8).class_weight(&[1.0, 4.0]),
    )
    .unwrap();
    assert!(history.last().unwrap().loss.is_finite());
}

model! {
    struct Normed: [3] -> [1] { fc: Linear(4), bn: BatchNorm1d, ReLU, out: Linear(1) }
}

model! {
    /// BatchNorm2d over 2×2 images: four values per channel in a row.
    struct Pixels: [2, 2, 2] -> [1] { bn: BatchNorm2d, Flatten, out: Linear(1) }
}

/// `fit` with MSE and SGD, without validation data.
fn mse<M: Forward<IN, 1>, const IN: usize>(
    model: &mut M,
    sgd: &mut SGD,
    data: &Dataset<IN, Batch<1>>,
    options: &mut FitOptions,
) -> Result<History, FitError> {
    fit(model, &mut MSELoss::new(), sgd, data, None, options)
}

/// `fit` with BCE on logits and SGD, without validation data.
fn bce<M: Forward<IN, 1>, const IN: usize>(
    model: &mut M,
    sgd: &mut SGD,
    data: &Dataset<IN, Batch<1>>,
    options: &mut FitOptions,
) -> Result<History, FitError> {
    fit(
        model,
        &mut BCEWithLogitsLoss::new(),
        sgd,
        data,
        None,
        options,
    )
}

/// PyTorch's BatchNorm refuses one value per channel in training ("Expected more than 1
/// value per channel when training"), which a last batch of one row gives. Its statistics
/// were that row's values and the running variance shrank 10 % toward 0 before every
/// validation. `fit` refuses it before the first epoch, naming the step; a hand-written
/// loop panics saying the same; `drop_last` or another batch size trains.
#[test]
fn a_batch_of_one_row_through_batchnorm1d_is_refused() {
    let x = Batch::<3>::from_vec((0..15).map(|i| i as f32 / 7.0).collect()).unwrap();
    let y = Batch::<1>::from_vec((0..5).map(|i| i as f32).collect()).unwrap();
    let data = Dataset::new(x, y).unwrap();
    let mut model = Normed::new(&mut seeded_rng(3));
    let before = staticnn::state_dict(&model);
    let mut sgd = SGD::new(0.1).unwrap();
    let err = mse(&mut model, &mut sgd, &data, &mut quiet(2, 2)).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            FitError::Input {
                epoch: 1,
                step: 3,
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("one value per channel") && text.contains("drop_last"),
        "{text}"
    );
    assert_eq!(staticnn::state_dict(&model), before, "nothing trained");
    // Every batch of one row.
    let err = mse(&mut model, &mut sgd, &data, &mut quiet(1, 1));
    assert!(matches!(err, Err(FitError::Input { step: 1, .. })));
    // Without the single row, it trains.
    let mut options = quiet(1, 2).drop_last(true);
    mse(&mut model, &mut sgd, &data, &mut options).unwrap();
    mse(&mut model, &mut sgd, &data, &mut quiet(1, 5)).unwrap();
    // BatchNorm2d has four values per channel in one row: PyTorch takes it, and so does fit.
    let x = Batch::<8>::from_vec((0..40).map(|i| (i % 7) as f32).collect()).unwrap();
    let images = Dataset::new(x, Batch::<1>::from_vec(vec![0.5; 5]).unwrap()).unwrap();
    let mut pixels = Pixels::new(&mut seeded_rng(3));
    let mut sgd = SGD::new(0.1).unwrap();
    mse(&mut pixels, &mut sgd, &images, &mut quiet(1, 2)).unwrap();
    // By hand: a panic saying the same.
    let one = Batch::<3>::from_rows(&[[0.5, -1.0, 2.0]]);
    let text = panic_message(|| {
        model.train();
        let _ = model.forward_train(&one);
    });
    assert!(text.contains("one value per channel"), "{text}");
    // In eval mode one row is inference.
    model.eval();
    assert!(model.forward(&one).as_slice()[0].is_finite());
}

/// OneCycleLR's `total_steps` given per epoch while it steps per batch: the rate sat at its
/// last value for most of the run. `fit` refuses the run before the first epoch; stepping it
/// by hand past its total panics with PyTorch's message.
#[test]
fn a_one_cycle_schedule_shorter_than_the_run_is_refused() {
    let data = synthetic::moons(64, 0.1, &mut seeded_rng(3));
    let mut model = MoonNet::new(&mut seeded_rng(3));
    let before = staticnn::state_dict(&model);
    let mut sgd = SGD::new(0.1).unwrap();
    let schedule = OneCycleLR::new(&mut sgd, 0.5, 4).unwrap();
    let mut options = quiet(4, 16).scheduler(schedule, Every::Batch);
    let err = bce(&mut model, &mut sgd, &data, &mut options).unwrap_err();
    assert!(
        matches!(
            err,
            FitError::SchedulerSteps {
                left: 4,
                planned: 16,
                epochs: 4,
                per_epoch: 4
            }
        ),
        "{err}"
    );
    assert_eq!(staticnn::state_dict(&model), before, "nothing trained");
    // A total of every batch of every epoch trains; so does one step per epoch.
    for (total, every) in [(16, Every::Batch), (4, Every::Epoch)] {
        let schedule = OneCycleLR::new(&mut sgd, 0.5, total).unwrap();
        let mut options = quiet(4, 16).scheduler(schedule, every);
        bce(&mut model, &mut sgd, &data, &mut options).unwrap();
    }
    // Inside a SequentialLR, the cycle's end bounds the run as well.
    let warmup = LinearLR::new(&mut sgd, 0.5, 1.0, 2).unwrap();
    let cycle = OneCycleLR::new(&mut sgd, 0.5, 4).unwrap();
    let schedule =
        SequentialLR::new(&mut sgd, vec![Box::new(warmup), Box::new(cycle)], vec![2]).unwrap();
    let mut options = quiet(4, 16).scheduler(schedule, Every::Batch);
    let err = bce(&mut model, &mut sgd, &data, &mut options).unwrap_err();
    assert!(
        matches!(
            err,
            FitError::SchedulerSteps {
                left: 6,
                planned: 16,
                ..
            }
        ),
        "{err}"
    );
    // By hand: `total_steps` steps, as PyTorch allows, then a panic.
    let mut schedule = OneCycleLR::new(&mut sgd, 0.5, 4).unwrap();
    for _ in 0..4 {
        schedule.step(&mut sgd);
    }
    let text = panic_message(|| schedule.step(&mut sgd));
    assert!(text.contains("Tried to step 5 times"), "{text}");
}

/// An epoch without a batch (`drop_last` on fewer rows than a batch, an empty validation
/// set) is refused before anything trains: its loss, a mean over nothing, came out as 0,
/// a perfect score to EarlyStopping and the best checkpoint. `evaluate` on no rows gives
/// NaN, as PyTorch's losses do.
#[test]
fn an_epoch_without_a_batch_is_refused() {
    let data = synthetic::moons(10, 0.1, &mut seeded_rng(1));
    let mut model = MoonNet::new(&mut seeded_rng(1));
    let before = staticnn::state_dict(&model);
    let mut options = quiet(2, 16).drop_last(true);
    let err = bce(&mut model, &mut SGD::new(0.1).unwrap(), &data, &mut options).unwrap_err();
    assert!(
        matches!(
            err,
            FitError::Data(DataError::NoBatches {
                which: "training",
                rows: 10,
                batch_size: 16,
                drop_last: true
            })
        ),
        "{err}"
    );
    let empty = Dataset::new(Batch::<2>::new(), Batch::<1>::new()).unwrap();
    let err = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut SGD::new(0.1).unwrap(),
        &data,
        Some(&empty),
        &mut quiet(2, 4),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            FitError::Data(DataError::NoBatches {
                which: "validation",
                rows: 0,
                ..
            })
        ),
        "{err}"
    );
    let err = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut SGD::new(0.1).unwrap(),
        &data,
        Some(&data),
        &mut quiet(2, 4).validation_batch_size(0),
    )
    .unwrap_err();
    assert!(
        matches!(err, FitError::Data(DataError::ValidationBatchSize)),
        "{err}"
    );
    assert_eq!(staticnn::state_dict(&model), before, "nothing trained");
    let eval = evaluate(&model, &BCEWithLogitsLoss::new(), &empty, 4, &[]).unwrap();
    assert!(eval.loss.is_nan(), "{}", eval.loss);
}

/// The epoch's last, partial accumulation is divided by `accumulate` as the others are
/// (Lightning divides every loss by `accumulate_grad_batches`), not by the batches it holds:
/// `fit` gives the hand-written loop's weights bit for bit.
#[test]
fn a_partial_accumulation_is_divided_by_the_accumulation_count() {
    let data = synthetic::moons(40, 0.1, &mut seeded_rng(5));
    let (accumulate, batch) = (4, 4); // 10 batches: steps after 4, 8 and the last 2
    let mut by_fit = MoonNet::new(&mut seeded_rng(6));
    let mut by_hand = MoonNet::new(&mut seeded_rng(6));
    let mut options = quiet(1, batch).shuffle(false).accumulate(accumulate);
    bce(
        &mut by_fit,
        &mut SGD::new(0.5).unwrap(),
        &data,
        &mut options,
    )
    .unwrap();

    let (mut loss, mut sgd) = (BCEWithLogitsLoss::new(), SGD::new(0.5).unwrap());
    let step = |model: &mut MoonNet, sgd: &mut SGD| {
        staticnn::optim::scale_grad(model, 1.0 / accumulate as f32);
        sgd.step(model).unwrap();
        model.zero_grad();
    };
    by_hand.train();
    by_hand.zero_grad();
    let rows = data.len();
    for (i, start) in (0..rows).step_by(batch).enumerate() {
        let end = (start + batch).min(rows);
        let out = by_hand.forward_train(data.features.slice_rows(start, end));
        let (_, grad) = loss
            .value_and_grad(&out, data.targets.slice_rows(start, end))
            .unwrap();
        out.backward_params(grad);
        if (i + 1) % accumulate == 0 {
            step(&mut by_hand, &mut sgd);
        }
    }
    step(&mut by_hand, &mut sgd);
    assert_eq!(
        staticnn::state_dict(&by_fit),
        staticnn::state_dict(&by_hand)
    );
}

/// Validation runs in batches of the training batch size (Keras's `validation_batch_size`
/// default), so a summed loss is on one scale in `loss` and `val_loss`; it ran in batches of
/// at least 256.
#[test]
fn validation_uses_the_training_batch_size() {
    let data = synthetic::moons(300, 0.1, &mut seeded_rng(7));
    let (train, val) = data.split(0.5, false, &mut seeded_rng(8)).unwrap();
    let mut model = MoonNet::new(&mut seeded_rng(9));
    let mut loss = BCEWithLogitsLoss::new().reduction(Reduction::Sum);
    // The default, then Keras's option; the second run does not train (rate 0).
    for (validation_batch, lr, mut options) in [
        (32, 0.001, quiet(1, 32)),
        (150, 0.0, quiet(1, 32).validation_batch_size(150)),
    ] {
        let mut sgd = SGD::new(lr).unwrap();
        let history = fit(
            &mut model,
            &mut loss,
            &mut sgd,
            &train,
            Some(&val),
            &mut options,
        );
        let expected = evaluate(&model, &loss, &val, validation_batch, &[])
            .unwrap()
            .loss;
        assert_eq!(history.unwrap().epochs[0].val_loss, Some(expected));
    }
}
