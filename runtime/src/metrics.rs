//! Metrics accumulated over batches: accuracy, binary accuracy (on logits or
//! probabilities), MAE, MSE and R² built in, and any other through [`CustomMetric`].

use crate::data::TargetSlice;
use crate::tensor::BatchSlice;

/// A metric `fit` and `evaluate` report, under its Keras name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Fraction of rows classified right: the argmax against a class index, or against the
    /// argmax of a one-hot (or probability) target row; with one output and value targets, a
    /// binary classifier's output on the target's side of the decision threshold (see
    /// [`BinaryAccuracy`](Metric::BinaryAccuracy)).
    Accuracy,
    /// Fraction of outputs on their 0/1 target's side of the decision threshold, over every
    /// output (Keras's, for multi-label rows too): 0 for logits, 0.5 for probabilities, which
    /// `fit` and `evaluate` take a model ending in Sigmoid or Softmax, or a loss on
    /// probabilities (BCELoss), to give. With class-index targets and two or more outputs,
    /// the argmax against the class, as `Accuracy`.
    BinaryAccuracy,
    /// Mean absolute error.
    MAE,
    /// Mean squared error.
    MSE,
    /// Coefficient of determination, 1 − SSE/SST, per output column and then averaged
    /// (scikit-learn's and Keras's `uniform_average`).
    R2,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BinaryAccuracy => "binary_accuracy",
            Metric::MAE => "mae",
            Metric::MSE => "mse",
            Metric::R2 => "r2",
        }
    }

    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Accuracy | Metric::BinaryAccuracy | Metric::R2)
    }
}

const ALL: [Metric; 5] = [
    Metric::Accuracy,
    Metric::BinaryAccuracy,
    Metric::MAE,
    Metric::MSE,
    Metric::R2,
];

/// Whether `name` is a built-in metric's key.
pub(crate) fn is_builtin(name: &str) -> bool {
    ALL.iter().any(|m| m.name() == name)
}

/// Whether larger is better for a history key (`val_accuracy`, `r2`, ...); losses, errors and
/// unknown keys are minimised.
pub fn higher_is_better(key: &str) -> bool {
    let name = key.strip_prefix("val_").unwrap_or(key);
    ALL.iter().any(|m| m.name() == name && m.higher_is_better())
}

/// A metric beyond the built-ins — Keras's `keras.metrics.Metric` (`update_state`, `result`,
/// `reset_state`), torchmetrics' `Metric`: running sums over the batches of an epoch, a name
/// and a direction. `fit` reports it under `name()` for training and `val_` + `name()` for
/// validation, and EarlyStopping, ReduceLROnPlateau's monitor and the best checkpoint can
/// watch it. `update` runs once per training batch: it should not allocate.
pub trait CustomMetric {
    /// The history key (`f1`); must not be a built-in key or start with `val_`.
    fn name(&self) -> &str;
    /// Whether larger values are better (F1: yes; an error: no).
    fn higher_is_better(&self) -> bool;
    /// Forgets every batch; called before each epoch's training and each validation pass.
    fn reset(&mut self);
    /// Adds one batch: `outputs` row-major, `width` values per row, and the batch's targets.
    fn update(&mut self, outputs: &[f32], width: usize, targets: &dyn TargetSlice);
    /// The value over every batch since `reset`.
    fn result(&self) -> f64;
}

/// Lets a target slice of any kind (`[usize]` is unsized) be passed as `&dyn TargetSlice`.
pub(crate) struct AnyTargets<'a, S: ?Sized>(pub &'a S);

impl<S: TargetSlice + ?Sized> TargetSlice for AnyTargets<'_, S> {
    fn rows(&self) -> usize {
        self.0.rows()
    }
    fn class(&self, i: usize) -> Option<usize> {
        self.0.class(i)
    }
    fn values(&self, i: usize) -> Option<&[f32]> {
        self.0.values(i)
    }
}

/// Running sums from which every metric is computed at the end.
#[derive(Clone, Debug, Default)]
pub struct MetricSums {
    /// Where a binary output separates the classes: 0 for logits, 0.5 for probabilities.
    threshold: f32,
    rows: f64,
    correct: f64,
    binary_correct: f64,
    /// The outputs `binary_correct` counted.
    binary_values: f64,
    values: f64,
    abs_error: f64,
    sq_error: f64,
    /// R²'s sums, per output column.
    columns: Vec<ColumnSums>,
}

/// One output column's sums for R².
#[derive(Clone, Copy, Debug, Default)]
struct ColumnSums {
    values: f64,
    sq_error: f64,
    target_sum: f64,
    target_sq: f64,
}

fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

impl MetricSums {
    /// Sums for outputs that are logits (`probabilities` false: binary decisions at 0) or
    /// probabilities (at 0.5). `default()` is for logits.
    pub fn new(probabilities: bool) -> Self {
        MetricSums {
            threshold: if probabilities { 0.5 } else { 0.0 },
            ..MetricSums::default()
        }
    }

    /// Adds one batch of outputs and their targets.
    pub fn update<const O: usize, S: TargetSlice + ?Sized>(
        &mut self,
        out: &BatchSlice<O>,
        target: &S,
    ) {
        let threshold = self.threshold;
        for (i, row) in out.iter_rows().enumerate() {
            self.rows += 1.0;
            match (target.class(i), target.values(i)) {
                (Some(class), _) => {
                    let hit = argmax(row) == class;
                    self.correct += f64::from(u8::from(hit));
                    // One output decides at the threshold; two or more (CrossEntropy's
                    // logits, NLLLoss's log-probabilities) by their argmax.
                    let binary_hit = match &row[..] {
                        [p] => (*p > threshold) == (class == 1),
                        _ => hit,
                    };
                    self.binary_correct += f64::from(u8::from(binary_hit));
                    self.binary_values += 1.0;
                }
                (None, Some(values)) => {
                    let hit = match values {
                        // One output column with a 0/1 target is a binary classifier.
                        [v] if O == 1 => (row[0] > threshold) == (*v >= 0.5),
                        // A class index stored as a value.
                        [v] => argmax(row) == *v as usize,
                        // One-hot (or probability) rows: Keras's categorical accuracy.
                        _ => argmax(row) == argmax(values),
                    };
                    if !values.is_empty() {
                        self.correct += f64::from(u8::from(hit));
                    }
                    let width = values.len().min(O);
                    if self.columns.len() < width {
                        // Once, at the first batch: the width does not change.
                        self.columns.resize(width, ColumnSums::default());
                    }
                    for ((&p, &y), column) in row.iter().zip(values).zip(&mut self.columns) {
                        let d = f64::from(p) - f64::from(y);
                        self.binary_correct += f64::from(u8::from((p > threshold) == (y >= 0.5)));
                        self.binary_values += 1.0;
                        self.values += 1.0;
                        self.abs_error += d.abs();
                        self.sq_error += d * d;
                        column.values += 1.0;
                        column.sq_error += d * d;
                        column.target_sum += f64::from(y);
                        column.target_sq += f64::from(y) * f64::from(y);
                    }
                }
                (None, None) => {}
            }
        }
    }

    /// The metric over everything added so far (NaN where it does not apply).
    pub fn value(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Accuracy => self.correct / self.rows,
            Metric::BinaryAccuracy => self.binary_correct / self.binary_values,
            Metric::MAE => self.abs_error / self.values,
            Metric::MSE => self.sq_error / self.values,
            Metric::R2 => {
                let r2 = |c: &ColumnSums| {
                    let mean = c.target_sum / c.values;
                    let total = c.target_sq - c.values * mean * mean;
                    // A constant column has no variance: its R² is -inf (NaN if predicted
                    // exactly), as the formula says, and so is the mean; never a number that
                    // looks like a score.
                    1.0 - c.sq_error / total
                };
                let sum: f64 = self.columns.iter().map(r2).sum();
                sum / self.columns.len() as f64
            }
        }
    }
}
