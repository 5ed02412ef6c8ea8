//! Losses with PyTorch's formulas, defaults and reductions. Each returns its value and the
//! gradient with respect to its input, in a buffer it owns and reuses.

mod classes;
mod exp;
mod log1p;
mod pointwise;

pub use classes::{CrossEntropyLoss, NLLLoss};
pub use pointwise::{
    BCELoss, BCEWithLogitsLoss, Bce, BceWithLogits, Huber, HuberLoss, L1, L1Loss, MSELoss, Mse,
    Pointwise, PointwiseFn, SmoothL1, SmoothL1Loss,
};

use crate::tensor::BatchSlice;

/// How per-element losses become one number, as PyTorch's `reduction` argument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// Divide by the number of elements (by the batch size, or the summed class weights, for
    /// CrossEntropyLoss and NLLLoss). PyTorch's default.
    #[default]
    Mean,
    Sum,
    /// No reduction: [`Loss::elementwise`] gives the losses; `value_and_grad` then returns
    /// their sum and its gradient, as `loss.sum().backward()` would.
    None,
}

/// A target that does not fit the input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LossError {
    #[error("the input has {input} rows but the target has {target}")]
    Rows { input: usize, target: usize },
    #[error("target class {class} in row {row} is out of range for {classes} classes")]
    ClassOutOfRange {
        row: usize,
        class: usize,
        classes: usize,
    },
    /// A loss is not typed by its width, so, as in PyTorch, a per-class weight's length is
    /// checked against the input it first meets, before anything is computed.
    #[error("`{name}` has {found} values, but the input has {expected} classes (columns)")]
    WeightLength {
        name: &'static str,
        found: usize,
        expected: usize,
    },
    /// A loss without [`Loss::value_and_grad_weighted`] was given sample weights.
    #[error(
        "this loss does not take sample weights (it does not implement `value_and_grad_weighted`)"
    )]
    NoSampleWeights,
    /// Keras's `sample_weight`: one weight per row.
    #[error("{found} sample weights for {rows} rows; a sample weight is one value per row")]
    SampleWeightLength { found: usize, rows: usize },
    #[error("target {value} in row {row}, column {column} is outside [0, 1]")]
    TargetOutOfRange {
        row: usize,
        column: usize,
        value: f32,
    },
    /// A loss setting PyTorch refuses: Huber's `delta` ≤ 0, SmoothL1's `beta` < 0,
    /// CrossEntropy's `label_smoothing` outside [0, 1] (NaN is none of them).
    #[error("`{name}` is {value}, but it must be {expected} (PyTorch refuses it too)")]
    Setting {
        name: &'static str,
        value: f32,
        expected: &'static str,
    },
    /// BCELoss takes probabilities (PyTorch: "all elements of input should be between 0
    /// and 1").
    #[error(
        "input {value} in row {row}, column {column} is outside [0, 1]: BCELoss takes \
         probabilities (end the model in Sigmoid, or give logits to BCEWithLogitsLoss)"
    )]
    InputOutOfRange {
        row: usize,
        column: usize,
        value: f32,
    },
}

/// A loss over rows of width `W`.
pub trait Loss<const W: usize> {
    /// Class indices (`[usize]`) or a batch of the input's shape.
    type Target: ?Sized;

    /// The unreduced losses: one per element, or one per row for class-index losses.
    fn elementwise(
        &self,
        input: &BatchSlice<W>,
        target: &Self::Target,
    ) -> Result<Vec<f32>, LossError>;

    /// The reduced loss.
    fn value(&self, input: &BatchSlice<W>, target: &Self::Target) -> Result<f32, LossError>;

    /// Whether the loss's own settings fit rows of width `W` (a class `weight` or a
    /// `pos_weight` of the wrong length), checked without a batch: `fit` asks before any
    /// epoch, where PyTorch finds out at the first forward.
    fn validate(&self) -> Result<(), LossError> {
        Ok(())
    }

    /// Whether the loss takes probabilities (BCELoss), not logits: then a binary output's
    /// decision threshold for accuracy is 0.5, not 0.
    fn takes_probabilities(&self) -> bool {
        false
    }

    /// The reduced loss and d loss / d input.
    fn value_and_grad(
        &mut self,
        input: &BatchSlice<W>,
        target: &Self::Target,
    ) -> Result<(f32, &BatchSlice<W>), LossError>;

    /// [`value_and_grad`](Loss::value_and_grad) with Keras's `sample_weight`: each value the
    /// loss sums (PyTorch's `reduction='none'` output, which includes a class `weight`) is
    /// multiplied by its row's weight, and `Mean` divides by the number of those values (rows
    /// for class-index losses, elements otherwise) — Keras's `sum_over_batch_size`, never the
    /// weights' sum. With every weight 1 it is the unweighted loss, except that a class
    /// `weight` no longer changes the mean's divisor.
    /// A loss of your own that does not weigh rows says so, as this default does.
    fn value_and_grad_weighted(
        &mut self,
        input: &BatchSlice<W>,
        target: &Self::Target,
        sample_weight: &[f32],
    ) -> Result<(f32, &BatchSlice<W>), LossError> {
        let _ = (input, target, sample_weight);
        Err(LossError::NoSampleWeights)
    }
}

/// `Ok` when `ok(value)`, else the [`LossError::Setting`] naming the setting.
pub(crate) fn check_setting(
    name: &'static str,
    value: f32,
    ok: bool,
    expected: &'static str,
) -> Result<(), LossError> {
    if ok {
        return Ok(());
    }
    Err(LossError::Setting {
        name,
        value,
        expected,
    })
}

/// A sample weight per row, or the error saying how many there are.
pub(crate) fn check_sample_weight(weight: &[f32], rows: usize) -> Result<(), LossError> {
    if weight.len() == rows {
        Ok(())
    } else {
        Err(LossError::SampleWeightLength {
            found: weight.len(),
            rows,
        })
    }
}

pub(crate) fn check_rows(input: usize, target: usize) -> Result<(), LossError> {
    if input == target {
        Ok(())
    } else {
        Err(LossError::Rows { input, target })
    }
}
