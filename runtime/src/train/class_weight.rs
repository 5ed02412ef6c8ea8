//! Keras's `class_weight`: each training sample's loss weighted by its class, so that a rare
//! class counts as much as a common one. Training only, as in Keras (validation and
//! `evaluate` stay unweighted); the loss is reduced as Keras does (see
//! [`Loss::value_and_grad_weighted`](crate::loss::Loss::value_and_grad_weighted)).
//!
//! The weights' count and values are checked before the first epoch; targets without a class
//! (values of more than one column) and a loss without sample weights are found at the first
//! batch, inside the epoch, which is then rolled back.

use crate::data::TargetSlice;

/// A class weight that cannot be used, found before the first epoch or at the batch that
/// holds the sample.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ClassWeightError {
    #[error(
        "class_weight has {found} weights, but the model scores {classes} classes (one weight per class, in class-index order; a one-output binary model has classes 0 and 1)"
    )]
    Length { found: usize, classes: usize },
    #[error("class_weight[{class}] is {value}; a class weight must be finite and >= 0")]
    Value { class: usize, value: f32 },
    #[error(
        "row {row} of the batch has no class for class_weight: targets must be class indices, or a single column of 0 and 1"
    )]
    NoClass { row: usize },
    #[error("row {row} of the batch is class {class}, but class_weight has {classes} classes")]
    ClassOutOfRange {
        row: usize,
        class: usize,
        classes: usize,
    },
}

/// Checks `weights` against a model with `outputs` scores: one weight per class, where a
/// one-output (sigmoid) model has two classes, 0 and 1.
pub(super) fn check(weights: &[f32], outputs: usize) -> Result<(), ClassWeightError> {
    let classes = if outputs == 1 { 2 } else { outputs };
    if weights.len() != classes {
        return Err(ClassWeightError::Length {
            found: weights.len(),
            classes,
        });
    }
    match weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
        Some(class) => Err(ClassWeightError::Value {
            class,
            value: weights[class],
        }),
        None => Ok(()),
    }
}

/// Writes each row's weight into `out`, reusing its allocation.
pub(super) fn row_weights<S: TargetSlice + ?Sized>(
    weights: &[f32],
    targets: &S,
    out: &mut Vec<f32>,
) -> Result<(), ClassWeightError> {
    out.clear();
    for row in 0..targets.rows() {
        let class = targets
            .label(row)
            .ok_or(ClassWeightError::NoClass { row })?;
        match weights.get(class) {
            Some(&w) => out.push(w),
            None => {
                return Err(ClassWeightError::ClassOutOfRange {
                    row,
                    class,
                    classes: weights.len(),
                });
            }
        }
    }
    Ok(())
}
