//! The traits every layer and every generated model implements.
//!
//! [`Module`] is what optimizers, checkpoints and `fit` see: named parameters and buffers,
//! train/eval mode, `zero_grad`. [`Forward`] is the computation at a given pair of widths.
//! [`Shaped`] tells the macros the widths of a layer whose widths are fixed by its type, so a
//! model can stand inside another.

use crate::tensor::{Batch, BatchSlice};

/// A learnable tensor and its accumulated gradient, in PyTorch's layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The values, row-major in `shape`.
    pub value: Vec<f32>,
    /// d loss / d value, summed over every `backward` since the last `zero_grad`.
    pub grad: Vec<f32>,
    shape: Vec<usize>,
}

impl Parameter {
    /// A parameter of `shape` holding `value`.
    ///
    /// # Panics
    /// If `value.len()` is not the product of `shape`: layers build their parameters, users do not.
    pub fn new(value: Vec<f32>, shape: &[usize]) -> Self {
        assert_eq!(
            value.len(),
            shape.iter().product::<usize>(),
            "parameter shape"
        );
        Parameter {
            grad: vec![0.0; value.len()],
            value,
            shape: shape.to_vec(),
        }
    }

    /// PyTorch's shape of this tensor (`Linear.weight` is `[out, in]`).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// True for a parameter with no values.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// A non-learnable tensor that belongs to the state dict (BatchNorm's running statistics).
#[derive(Debug)]
pub enum Buffer<'a> {
    F32 {
        data: &'a [f32],
        shape: &'a [usize],
    },
    /// A scalar counter saved as int64 with shape `[]`, like `num_batches_tracked`.
    I64(&'a i64),
}

/// A mutable view of a [`Buffer`].
#[derive(Debug)]
pub enum BufferMut<'a> {
    F32 {
        data: &'a mut [f32],
        shape: &'a [usize],
    },
    I64(&'a mut i64),
}

/// Walks a module's parameters and buffers in state-dict order.
///
/// `enter` and `leave` bracket a sub-module, so a visitor that wants full keys (`fc1.weight`)
/// keeps the path itself and one that does not (an optimizer) pays nothing for names.
pub trait Visitor {
    fn enter(&mut self, _name: &str) {}
    fn leave(&mut self) {}
    fn parameter(&mut self, name: &str, parameter: &Parameter);
    fn buffer(&mut self, _name: &str, _buffer: Buffer<'_>) {}
    /// A random stream the module draws from (Dropout's), which checkpoints save so a resumed
    /// run draws what an uninterrupted one would. Not part of the state dict.
    fn rng(&mut self, _name: &str, _rng: &crate::seed::SeededRng) {}
}

/// Walks a module's parameters and buffers mutably, in state-dict order.
pub trait VisitorMut {
    fn enter(&mut self, _name: &str) {}
    fn leave(&mut self) {}
    fn parameter(&mut self, name: &str, parameter: &mut Parameter);
    fn buffer(&mut self, _name: &str, _buffer: BufferMut<'_>) {}
    /// See [`Visitor::rng`].
    fn rng(&mut self, _name: &str, _rng: &mut crate::seed::SeededRng) {}
}

/// A layer or a model: parameters, buffers and mode, whatever its widths.
pub trait Module {
    /// Visits every parameter and buffer in state-dict order.
    fn visit(&self, visitor: &mut dyn Visitor);
    /// Visits every parameter and buffer mutably in state-dict order.
    fn visit_mut(&mut self, visitor: &mut dyn VisitorMut);
    /// Train mode (`true`: Dropout drops, BatchNorm uses batch statistics) or eval mode.
    fn set_training(&mut self, training: bool);

    /// PyTorch's `model.train()`.
    fn train(&mut self) {
        self.set_training(true);
    }
    /// PyTorch's `model.eval()`.
    fn eval(&mut self) {
        self.set_training(false);
    }
    /// Sets every parameter gradient to zero.
    fn zero_grad(&mut self) {
        struct ZeroGrad;
        impl VisitorMut for ZeroGrad {
            fn parameter(&mut self, _: &str, p: &mut Parameter) {
                p.grad.fill(0.0);
            }
        }
        self.visit_mut(&mut ZeroGrad);
    }
    /// The number of learnable values.
    fn num_params(&self) -> usize {
        struct Count(usize);
        impl Visitor for Count {
            fn parameter(&mut self, _: &str, p: &Parameter) {
                self.0 += p.len();
            }
        }
        let mut count = Count(0);
        self.visit(&mut count);
        count.0
    }
}

/// The computation of a module that maps rows of width `IN` to rows of width `OUT`.
pub trait Forward<const IN: usize, const OUT: usize>: Module {
    /// Inference: eval-mode semantics whatever the mode, nothing kept for backward.
    fn forward(&self, x: &BatchSlice<IN>) -> Batch<OUT>;
    /// Forward in the current mode, keeping what `backward` needs in buffers the module owns
    /// and reuses from step to step.
    fn forward_train(&mut self, x: &BatchSlice<IN>) -> &BatchSlice<OUT>;
    /// Given d loss / d output of the last `forward_train`, adds the parameter gradients and
    /// returns d loss / d input.
    fn backward(&mut self, grad_output: &BatchSlice<OUT>) -> &BatchSlice<IN>;
    /// `backward` without d loss / d input, for the first layer of a model, whose input never
    /// needs a gradient (PyTorch skips it for inputs that do not require grad).
    fn backward_params(&mut self, grad_output: &BatchSlice<OUT>) {
        self.backward(grad_output);
    }
    /// `forward` taking ownership of its input, so that elementwise layers work in place
    /// and inference allocates once per layer that changes the width.
    fn forward_owned(&self, x: Batch<IN>) -> Batch<OUT> {
        self.forward(&x)
    }
    /// Checks user input that the computation cannot take (an Embedding index out of range).
    /// `fit` calls it on every batch; generated models ask their first layer.
    fn validate(&self, _x: &BatchSlice<IN>) -> Result<(), InputError> {
        Ok(())
    }
}

/// Input a module cannot compute with.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("index {value} in row {row}, column {column} is not a whole number below {num}")]
    Index {
        row: usize,
        column: usize,
        value: f32,
        num: usize,
    },
}

/// The widths of a module whose type fixes them: `Linear<2, 16>` or a generated model.
/// The macros read them to chain a nested model.
pub trait Shaped {
    const IN: usize;
    const OUT: usize;
}

/// Builds a module with PyTorch's default initialisation from a seeded RNG. Generated models
/// implement it, which is how a model stands as a layer inside another.
pub trait Init: Sized {
    fn init<R: rand::Rng>(rng: &mut R) -> Self;
}
