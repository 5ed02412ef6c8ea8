//! A model with its input width as a value: what `fit`'s driver, `evaluate` and `predict`
//! call, so that their bodies are compiled once per output width, loss, optimizer and target
//! type instead of once per model (and, behind `dispatch_width!`, per input width). The
//! generic entry points wrap the model in [`ModelRef`] or [`ForwardRef`], whose impls below
//! are all that is compiled per model: a few lines that view flat rows as `BatchSlice<IN>`.
//!
//! Each call here is one dynamic call per batch; nothing is per sample.

use super::callbacks::{FitModel, ModelRef};
use crate::export::{Activation, Node};
use crate::module::{Forward, InputError, TraceKey};
use crate::tensor::{Batch, BatchSlice, ShapeError};

/// Inference on rows of a width known at run time ([`Forward`] without `IN`).
pub trait DynForward<const OUT: usize> {
    /// Values per input row.
    fn in_width(&self) -> usize;
    /// [`Forward::validate`] on whole rows, flat.
    fn validate_rows(&self, x: &[f32]) -> Result<(), InputError>;
    /// [`Forward::forward`] on whole rows, flat; an error if `x` is not whole rows.
    fn forward_rows(&self, x: &[f32]) -> Result<Batch<OUT>, ShapeError>;
    /// Whether the model's last layer is a Sigmoid or a Softmax, so that its outputs are
    /// probabilities (for accuracy's decision threshold).
    fn outputs_probabilities(&self) -> bool {
        false
    }
}

/// Training on rows of a width known at run time: the layer protocol of [`Forward`] that
/// `fit` uses, plus the model's state ([`FitModel`]) for the optimizer, checkpoints and
/// callbacks. Backward is reachable through [`DynTrace`], as [`crate::module::Trace`].
pub trait DynTrain<const OUT: usize>: DynForward<OUT> + FitModel {
    /// Layer protocol: [`Forward::forward_train_raw`] on whole rows, flat.
    fn forward_train_raw_rows(&mut self, x: &[f32]) -> Result<&BatchSlice<OUT>, ShapeError>;
    /// Layer protocol: [`Forward::last_output`].
    fn last_output_rows(&self) -> &BatchSlice<OUT>;
    /// Layer protocol: [`Forward::backward_params_raw`], with the key only a trace makes, on
    /// the rows that the last `forward_train_raw_rows` took (so whole rows).
    fn backward_params_raw_rows(
        &mut self,
        input: &[f32],
        grad_output: &BatchSlice<OUT>,
        key: &TraceKey,
    );
}

/// What [`forward_train`](DynTrain::forward_train) returns: reads as the output and is
/// consumed by `backward_params`, as [`crate::module::Trace`].
#[must_use = "a training forward pass is for `backward_params`"]
pub struct DynTrace<'m, const OUT: usize> {
    model: &'m mut dyn DynTrain<OUT>,
    input: &'m [f32],
}

impl<const OUT: usize> dyn DynTrain<OUT> + '_ {
    /// [`Forward::forward_train`] on whole rows, flat.
    pub fn forward_train<'m>(&'m mut self, x: &'m [f32]) -> Result<DynTrace<'m, OUT>, ShapeError> {
        self.forward_train_raw_rows(x)?;
        Ok(DynTrace {
            model: self,
            input: x,
        })
    }
}

impl<const OUT: usize> DynTrace<'_, OUT> {
    /// [`crate::module::Trace::backward_params`].
    ///
    /// # Panics
    /// If `grad_output` has other rows than the forward pass, as `Trace::backward_params`.
    pub fn backward_params(self, grad_output: &BatchSlice<OUT>) {
        let rows = self.model.last_output_rows().rows();
        crate::module::same_row_count(rows, grad_output.rows());
        self.model
            .backward_params_raw_rows(self.input, grad_output, &TraceKey(()))
    }
}

impl<const OUT: usize> std::ops::Deref for DynTrace<'_, OUT> {
    type Target = BatchSlice<OUT>;
    fn deref(&self) -> &BatchSlice<OUT> {
        self.model.last_output_rows()
    }
}

/// A shared reference to a typed model as a [`DynForward`]; `evaluate` and `predict` make
/// one.
pub struct ForwardRef<'a, M: ?Sized, const IN: usize, const OUT: usize>(pub &'a M);

fn forward_rows<M, const IN: usize, const OUT: usize>(
    model: &M,
    x: &[f32],
) -> Result<Batch<OUT>, ShapeError>
where
    M: Forward<IN, OUT> + ?Sized,
{
    Ok(model.forward(BatchSlice::try_from_slice(x)?))
}

fn validate_rows<M, const IN: usize, const OUT: usize>(
    model: &M,
    x: &[f32],
) -> Result<(), InputError>
where
    M: Forward<IN, OUT> + ?Sized,
{
    // Only whole rows reach here (the loaders build them); a partial row has nothing to check.
    match BatchSlice::try_from_slice(x) {
        Ok(x) => model.validate(x),
        Err(_) => Ok(()),
    }
}

impl<M, const IN: usize, const OUT: usize> DynForward<OUT> for ForwardRef<'_, M, IN, OUT>
where
    M: Forward<IN, OUT> + ?Sized,
{
    fn in_width(&self) -> usize {
        IN
    }
    fn validate_rows(&self, x: &[f32]) -> Result<(), InputError> {
        validate_rows(self.0, x)
    }
    fn forward_rows(&self, x: &[f32]) -> Result<Batch<OUT>, ShapeError> {
        forward_rows(self.0, x)
    }
    fn outputs_probabilities(&self) -> bool {
        outputs_probabilities(&self.0.describe())
    }
}

impl<M: Forward<IN, OUT>, const IN: usize, const OUT: usize> DynForward<OUT>
    for ModelRef<'_, M, IN, OUT>
{
    fn in_width(&self) -> usize {
        IN
    }
    fn validate_rows(&self, x: &[f32]) -> Result<(), InputError> {
        validate_rows(&*self.0, x)
    }
    fn forward_rows(&self, x: &[f32]) -> Result<Batch<OUT>, ShapeError> {
        forward_rows(&*self.0, x)
    }
    fn outputs_probabilities(&self) -> bool {
        outputs_probabilities(&self.0.describe())
    }
}

/// Whether `node`'s last layer, into nested models and past the layers that pass values
/// through (Dropout, Flatten), is a Sigmoid or a Softmax. (Read at the last layer alone, a
/// Sigmoid then a Dropout was decided at 0 and every row counted positive.)
fn outputs_probabilities(node: &Node<'_>) -> bool {
    match node {
        Node::Activation(Activation::Sigmoid) | Node::Softmax => true,
        Node::Sequence { layers, .. } => layers
            .iter()
            .rev()
            .find(|l| !matches!(l.node, Node::Identity))
            .is_some_and(|l| outputs_probabilities(&l.node)),
        _ => false,
    }
}

impl<M: Forward<IN, OUT>, const IN: usize, const OUT: usize> DynTrain<OUT>
    for ModelRef<'_, M, IN, OUT>
{
    fn forward_train_raw_rows(&mut self, x: &[f32]) -> Result<&BatchSlice<OUT>, ShapeError> {
        Ok(self.0.forward_train_raw(BatchSlice::try_from_slice(x)?))
    }
    fn last_output_rows(&self) -> &BatchSlice<OUT> {
        self.0.last_output()
    }
    fn backward_params_raw_rows(
        &mut self,
        input: &[f32],
        grad_output: &BatchSlice<OUT>,
        key: &TraceKey,
    ) {
        // Whole rows: `forward_train_raw_rows` took them.
        self.0
            .backward_params_raw(BatchSlice::view(input), grad_output, key)
    }
}
