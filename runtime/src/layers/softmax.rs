//! `Softmax` and `LogSoftmax` over each row (PyTorch's `dim=1`), with the max subtracted so
//! that logits of ±1000 stay finite.

use crate::module::{Forward, Module, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// Writes `log_softmax(x)` of one row into `out`.
pub(crate) fn log_softmax_row(x: &[f32], out: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = x.iter().map(|&v| f64::from(v - max).exp()).sum();
    let log_sum = sum.ln() as f32;
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - max) - log_sum;
    }
}

/// Writes `softmax(x)` of one row into `out`.
pub(crate) fn softmax_row(x: &[f32], out: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f64;
    for (o, &v) in out.iter_mut().zip(x) {
        let e = (v - max).exp();
        *o = e;
        sum += f64::from(e);
    }
    let inv = (1.0 / sum) as f32;
    for o in out.iter_mut() {
        *o *= inv;
    }
}

macro_rules! row_layer {
    ($(#[$doc:meta])* $name:ident, $row_fn:ident, $grad_row:expr, $node:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default)]
        pub struct $name {
            output: Vec<f32>,
            grad_input: Vec<f32>,
        }

        impl $name {
            pub fn new() -> Self {
                Self::default()
            }
        }

        impl Module for $name {
            fn visit(&self, _: &mut dyn Visitor) {}
            fn visit_mut(&mut self, _: &mut dyn VisitorMut) {}
            fn set_training(&mut self, _: bool) {}
            fn describe(&self) -> crate::export::Node<'_> {
                $node
            }
        }

        impl<const W: usize> Forward<W, W> for $name {
            fn forward(&self, x: &BatchSlice<W>) -> Batch<W> {
                let mut out = Batch::zeros(x.rows());
                for (o, r) in out.as_mut_slice().chunks_exact_mut(W).zip(x.as_slice().chunks_exact(W)) {
                    $row_fn(r, o);
                }
                out
            }

            fn last_output(&self) -> &BatchSlice<W> {
                BatchSlice::view(&self.output)
            }

            fn forward_train_raw(&mut self, x: &BatchSlice<W>) -> &BatchSlice<W> {
                resize(&mut self.output, x.as_slice().len());
                for (o, r) in self.output.chunks_exact_mut(W).zip(x.as_slice().chunks_exact(W)) {
                    $row_fn(r, o);
                }
                BatchSlice::view(&self.output)
            }

            fn backward_raw(&mut self, _: &BatchSlice<W>, grad_output: &BatchSlice<W>, _: &TraceKey) -> &BatchSlice<W> {
                let g = grad_output.as_slice();
                resize(&mut self.grad_input, g.len());
                for ((dx, g), y) in self
                    .grad_input
                    .chunks_exact_mut(W)
                    .zip(g.chunks_exact(W))
                    .zip(self.output.chunks_exact(W))
                {
                    let grad_row: fn(&[f32], &[f32], &mut [f32]) = $grad_row;
                    grad_row(g, y, dx);
                }
                BatchSlice::view(&self.grad_input)
            }
        }
    };
}

row_layer!(
    /// PyTorch's `nn.Softmax(dim=1)`.
    Softmax,
    softmax_row,
    // dx = y ⊙ (g − Σ g·y)
    |g, y, dx| {
        let dot: f32 = g.iter().zip(y).map(|(g, y)| g * y).sum();
        for ((dx, g), y) in dx.iter_mut().zip(g).zip(y) {
            *dx = y * (g - dot);
        }
    },
    crate::export::Node::Softmax
);

row_layer!(
    /// PyTorch's `nn.LogSoftmax(dim=1)`.
    LogSoftmax,
    log_softmax_row,
    // dx = g − softmax · Σ g, and softmax = e^y
    |g, y, dx| {
        let sum: f32 = g.iter().sum();
        for ((dx, g), y) in dx.iter_mut().zip(g).zip(y) {
            *dx = g - y.exp() * sum;
        }
    },
    crate::export::Node::LogSoftmax
);
