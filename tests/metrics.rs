//! Metrics that mean what their Keras names say: accuracy of a model that outputs
//! probabilities, of one-hot targets and of multi-label rows, and R² of several outputs; and
//! datasets whose counts disagree, which used to be trained on with rows left out.

use staticnn::data::DataLoader;
use staticnn::metrics::MetricSums;
use staticnn::prelude::*;

model! {
    /// `sigmoid(x)` once the weight is 1 and the bias 0.
    struct Probability: [1] -> [1] { fc: Linear(1), Sigmoid }
}

model! {
    /// [`Probability`] with a Dropout after its Sigmoid (the identity in eval mode).
    struct DroppedProbability: [1] -> [1] { fc: Linear(1), Sigmoid, Dropout(0.5) }
}

model! {
    /// `x` once the weight is 1 and the bias 0: a logit.
    struct Logit: [1] -> [1] { fc: Linear(1) }
}

fn unit(fc: &mut Linear<1, 1>) {
    fc.weight.value = vec![1.0];
    fc.bias.as_mut().expect("a bias").value = vec![0.0];
}

/// Inputs on both sides of 0, labels that agree with their sign: every row is right.
fn signs() -> Dataset<1, Batch<1>> {
    let x = Batch::from_rows(&[[-2.0], [-1.0], [0.5], [3.0]]);
    let y = Batch::from_rows(&[[0.0], [0.0], [1.0], [1.0]]);
    Dataset::new(x, y).unwrap()
}

fn accuracy_of<M: Forward<1, 1>, L: Loss<1, Target = BatchSlice<1>>>(model: &M, loss: &L) -> f64 {
    let metrics = [Metric::Accuracy, Metric::BinaryAccuracy];
    let eval = evaluate(model, loss, &signs(), 2, &metrics).unwrap();
    let (a, b) = (eval.metrics["accuracy"], eval.metrics["binary_accuracy"]);
    assert_eq!(a, b, "one output: accuracy is binary accuracy");
    a
}

/// A model ending in Sigmoid outputs probabilities, all above 0: at a threshold of 0 every
/// row was "positive" and accuracy was the share of positive labels (0.5 here).
#[test]
fn accuracy_of_probabilities_decides_at_one_half() {
    let mut model = Probability::new(&mut seeded_rng(0));
    unit(&mut model.fc);
    model.eval();
    assert_eq!(accuracy_of(&model, &BCELoss::new()), 1.0);
    // The model's Sigmoid says so whatever the loss.
    assert_eq!(accuracy_of(&model, &MSELoss::new()), 1.0);
    // So does a Sigmoid followed by layers that pass values through: it was decided at 0,
    // from the last layer alone.
    let mut dropped = DroppedProbability::new(&mut seeded_rng(0));
    unit(&mut dropped.fc);
    dropped.eval();
    assert_eq!(accuracy_of(&dropped, &MSELoss::new()), 1.0);
    // Logits are decided at 0.
    let mut logit = Logit::new(&mut seeded_rng(0));
    unit(&mut logit.fc);
    assert_eq!(accuracy_of(&logit, &BCEWithLogitsLoss::new()), 1.0);
    assert_eq!(accuracy_of(&logit, &MSELoss::new()), 1.0);
}

/// The same through `fit`'s own training and validation metrics.
#[test]
fn fit_reports_the_accuracy_of_probabilities_at_one_half() {
    let mut model = Probability::new(&mut seeded_rng(0));
    unit(&mut model.fc);
    let mut sgd = SGD::new(0.0).unwrap();
    let mut options = FitOptions::new(1, 4)
        .progress(Progress::Quiet)
        .metrics(&[Metric::Accuracy]);
    let data = signs();
    let history = fit(
        &mut model,
        &mut BCELoss::new(),
        &mut sgd,
        &data,
        Some(&data),
        &mut options,
    )
    .unwrap();
    let last = history.epochs.last().unwrap();
    assert_eq!(last.get("accuracy"), Some(1.0));
    assert_eq!(last.get("val_accuracy"), Some(1.0));
}

/// One-hot targets: the argmax against the target's argmax (Keras's categorical accuracy),
/// where the first target value was taken as the class.
#[test]
fn accuracy_of_one_hot_targets_compares_argmaxes() {
    let out = Batch::<3>::from_rows(&[[0.1, 0.7, 0.2], [0.9, 0.05, 0.05], [0.2, 0.3, 0.5]]);
    let y = Batch::<3>::from_rows(&[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]);
    let mut sums = MetricSums::default();
    sums.update(&out, &*y);
    assert_eq!(sums.value(Metric::Accuracy), 2.0 / 3.0);
}

/// Multi-label rows: every output against its own 0/1 label, as Keras's binary accuracy,
/// where only the first column was scored.
#[test]
fn binary_accuracy_of_multi_label_rows_scores_every_output() {
    let out = Batch::<2>::from_rows(&[[2.0, -1.0], [-3.0, 4.0]]);
    let y = Batch::<2>::from_rows(&[[1.0, 1.0], [0.0, 1.0]]);
    let mut sums = MetricSums::default();
    sums.update(&out, &*y);
    assert_eq!(sums.value(Metric::BinaryAccuracy), 0.75);
}

/// R² of two outputs is the mean of each column's: a perfect column (1) and one predicted at
/// its mean (0) give 0.5. One mean over both columns made it about 1 when the columns' scales
/// differ.
#[test]
fn r2_of_several_outputs_averages_the_columns() {
    let y = Batch::<2>::from_rows(&[[1000.0, -1.0], [1010.0, 1.0], [990.0, 0.0]]);
    let out = Batch::<2>::from_rows(&[[1000.0, 0.0], [1010.0, 0.0], [990.0, 0.0]]);
    let mut sums = MetricSums::default();
    sums.update(&out, &*y);
    assert_eq!(sums.value(Metric::R2), 0.5);
    // One column: 1 − SSE/SST.
    let y1 = Batch::<1>::from_rows(&[[1.0], [2.0], [3.0]]);
    let out1 = Batch::<1>::from_rows(&[[1.0], [2.0], [2.0]]);
    let mut sums = MetricSums::default();
    sums.update(&out1, &*y1);
    assert_eq!(sums.value(Metric::R2), 0.5);
}

/// A dataset written as a struct literal with fewer targets than feature rows: the loader,
/// `fit` and `evaluate` refuse it, naming both counts, where the rows past the targets were
/// left out without a word.
#[test]
fn a_dataset_whose_counts_disagree_is_refused() {
    let data = Dataset {
        features: Batch::<1>::from_rows(&[[1.0], [2.0], [3.0]]),
        targets: Batch::<1>::from_rows(&[[1.0], [0.0]]),
    };
    let expected = "3 feature rows but 2 targets";
    let err = DataLoader::new(&data, 2).err().expect("refused");
    assert_eq!(err.to_string(), expected);
    let mut model = Logit::new(&mut seeded_rng(0));
    let before = model.fc.weight.value.clone();
    let mut sgd = SGD::new(0.1).unwrap();
    let mut options = FitOptions::new(1, 2).progress(Progress::Quiet);
    let err = fit(
        &mut model,
        &mut MSELoss::new(),
        &mut sgd,
        &data,
        None,
        &mut options,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains(expected), "{err}");
    assert_eq!(model.fc.weight.value, before, "nothing trained");
    let err = evaluate(&model, &MSELoss::new(), &data, 2, &[]).unwrap_err();
    assert!(err.to_string().contains("3 rows") && err.to_string().contains('2'));
}

/// Every epoch a loop starts gives the whole dataset again; `rewind` gives it in order.
#[test]
fn every_started_epoch_yields_the_dataset() {
    let data = signs();
    let mut loader = DataLoader::new(&data, 3).unwrap();
    for _ in 0..2 {
        let mut rows = Vec::new();
        let mut batches = loader.rewind();
        while let Some((x, _)) = batches.next_batch() {
            rows.extend_from_slice(x.as_slice());
        }
        assert_eq!(rows, [-2.0, -1.0, 0.5, 3.0]);
    }
}

/// Class-index targets with two or more outputs (CrossEntropy's logits, NLLLoss's
/// log-probabilities): binary accuracy is the argmax against the class, where the first
/// output's sign was read (every log-probability is negative, so every row was "class 0").
#[test]
fn binary_accuracy_of_class_targets_with_several_outputs_is_argmax() {
    let log_probabilities = Batch::<2>::from_rows(&[[-0.1, -2.4], [-1.9, -0.2], [-0.7, -0.7]]);
    let mut sums = MetricSums::default();
    sums.update(&log_probabilities, &[0usize, 1, 1][..]);
    assert_eq!(sums.value(Metric::Accuracy), 2.0 / 3.0);
    assert_eq!(sums.value(Metric::BinaryAccuracy), 2.0 / 3.0);
}

model! {
    /// Softmax probabilities over two classes.
    struct Softmaxed: [2] -> [2] { fc: Linear(2), Softmax }
}

/// A model ending in Softmax outputs probabilities: binary accuracy against one-hot rows
/// decides at 0.5 (at 0 every output was "1", half of them wrong).
#[test]
fn binary_accuracy_of_softmax_outputs_decides_at_one_half() {
    let mut model = Softmaxed::new(&mut seeded_rng(0));
    model.fc.weight.value = vec![1.0, 0.0, 0.0, 1.0];
    model.fc.bias.as_mut().unwrap().value = vec![0.0, 0.0];
    let x = Batch::from_rows(&[[3.0, -3.0], [-2.0, 2.0]]);
    let y = Batch::from_rows(&[[1.0, 0.0], [0.0, 1.0]]);
    let data = Dataset::new(x, y).unwrap();
    let metrics = [Metric::BinaryAccuracy, Metric::Accuracy];
    let eval = evaluate(&model, &MSELoss::new(), &data, 2, &metrics).unwrap();
    assert_eq!(eval.metrics["binary_accuracy"], 1.0);
    assert_eq!(eval.metrics["accuracy"], 1.0);
}
