//! Losses with PyTorch's formulas, defaults and reductions. Each returns its value and the
//! gradient with respect to its input, in a buffer it owns and reuses.

mod classes;
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
    #[error("target {value} in row {row}, column {column} is outside [0, 1]")]
    TargetOutOfRange {
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

    /// The reduced loss and d loss / d input.
    fn value_and_grad(
        &mut self,
        input: &BatchSlice<W>,
        target: &Self::Target,
    ) -> Result<(f32, &BatchSlice<W>), LossError>;
}

pub(crate) fn check_rows(input: usize, target: usize) -> Result<(), LossError> {
    if input == target {
        Ok(())
    } else {
        Err(LossError::Rows { input, target })
    }
}
