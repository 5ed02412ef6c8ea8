//! `Linear`: `y = x · Wᵀ + b`, with `W` stored `[out, in]` as in PyTorch.
//!
//! Small products (the tiny networks users train most) run as plain loops over the
//! compile-time widths, vectorised at run time; faer's call overhead would cost more than
//! their arithmetic. Larger ones go to faer.

use faer::{Accum, MatMut, MatRef};
use rand::Rng;

use crate::export::Node;
use crate::init;
use crate::linalg::matmul;
use crate::module::{Forward, Module, Parameter, Shaped, TraceKey, Visitor, VisitorMut};
use crate::simd::vectorize;
use crate::tensor::{Batch, BatchSlice};

/// Rows up to which the plain loops beat faer (measured: at batch 1 they take I1 from 200 to
/// 90 ns; from batch 32 up faer's kernels win even on 2→16 layers).
pub const SMALL_BATCH: usize = 4;

/// PyTorch's `nn.Linear(IN, OUT)`.
#[derive(Clone, Debug)]
pub struct Linear<const IN: usize, const OUT: usize> {
    pub weight: Parameter,
    pub bias: Option<Parameter>,
    input: Batch<IN>,
    output: Batch<OUT>,
    grad_input: Batch<IN>,
}

/// `Σ a·b` with eight partial sums, so that the loop vectorises.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `y += a·x`.
#[inline(always)]
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

impl<const IN: usize, const OUT: usize> Linear<IN, OUT> {
    /// With a bias, initialised as PyTorch does: weight and bias from U(-1/√IN, 1/√IN).
    pub fn new(rng: &mut impl Rng) -> Self {
        let bound = init::default_bound(IN);
        let weight = init::uniform(rng, OUT * IN, bound);
        let bias = init::uniform(rng, OUT, bound);
        Self::from_parts(weight, Some(bias))
    }

    /// Without a bias (`bias=False`).
    pub fn without_bias(rng: &mut impl Rng) -> Self {
        let weight = init::uniform(rng, OUT * IN, init::default_bound(IN));
        Self::from_parts(weight, None)
    }

    /// From given values: `weight` row-major `[OUT, IN]`, `bias` `[OUT]`.
    ///
    /// # Panics
    /// If a length is wrong.
    pub fn from_parts(weight: Vec<f32>, bias: Option<Vec<f32>>) -> Self {
        Linear {
            weight: Parameter::new(weight, &[OUT, IN]),
            bias: bias.map(|b| Parameter::new(b, &[OUT])),
            input: Batch::new(),
            output: Batch::new(),
            grad_input: Batch::new(),
        }
    }

    fn small(rows: usize) -> bool {
        rows <= SMALL_BATCH
    }

    fn affine(&self, x: &BatchSlice<IN>, out: &mut BatchSlice<OUT>) {
        let w = &self.weight.value;
        let bias = self.bias.as_ref().map(|b| &b.value[..]);
        if Self::small(x.rows()) {
            vectorize(|| {
                for (xr, yr) in x
                    .as_slice()
                    .chunks_exact(IN)
                    .zip(out.as_mut_slice().chunks_exact_mut(OUT))
                {
                    for (o, (y, wr)) in yr.iter_mut().zip(w.chunks_exact(IN)).enumerate() {
                        *y = bias.map_or(0.0, |b| b[o]) + dot(xr, wr);
                    }
                }
            });
            return;
        }
        let accum = match bias {
            Some(bias) => {
                for row in out.as_mut_slice().chunks_exact_mut(OUT) {
                    row.copy_from_slice(bias);
                }
                Accum::Add
            }
            None => Accum::Replace,
        };
        let w = MatRef::from_row_major_slice(w, OUT, IN);
        matmul(out.as_mat_mut(), accum, x.as_mat(), w.transpose());
    }

    /// dW += gᵀ·x and db += Σ g, from the input kept by `forward_train`; a parameter that
    /// does not require grad costs nothing (a frozen layer skips its weight product).
    fn parameter_grads(&mut self, g: &BatchSlice<OUT>) {
        let x = &self.input;
        let dw = &mut self.weight.grad;
        if !self.weight.requires_grad {
        } else if Self::small(g.rows()) {
            vectorize(|| {
                for (gr, xr) in g
                    .as_slice()
                    .chunks_exact(OUT)
                    .zip(x.as_slice().chunks_exact(IN))
                {
                    for (&go, dwr) in gr.iter().zip(dw.chunks_exact_mut(IN)) {
                        axpy(dwr, go, xr);
                    }
                }
            });
        } else {
            let dw = MatMut::from_row_major_slice_mut(dw, OUT, IN);
            matmul(dw, Accum::Add, g.as_mat().transpose(), x.as_mat());
        }
        if let Some(bias) = self.bias.as_mut().filter(|b| b.requires_grad) {
            let db = &mut bias.grad;
            vectorize(|| {
                for gr in g.as_slice().chunks_exact(OUT) {
                    axpy(db, 1.0, gr);
                }
            });
        }
    }
}

impl<const IN: usize, const OUT: usize> Shaped for Linear<IN, OUT> {
    const IN: usize = IN;
    const OUT: usize = OUT;
}

impl<const IN: usize, const OUT: usize> Module for Linear<IN, OUT> {
    fn visit(&self, v: &mut dyn Visitor) {
        v.parameter("weight", &self.weight);
        if let Some(bias) = &self.bias {
            v.parameter("bias", bias);
        }
    }
    fn visit_mut(&mut self, v: &mut dyn VisitorMut) {
        v.parameter("weight", &mut self.weight);
        if let Some(bias) = &mut self.bias {
            v.parameter("bias", bias);
        }
    }
    fn set_training(&mut self, _: bool) {}
    fn describe(&self) -> Node<'_> {
        Node::Linear {
            in_features: IN,
            out_features: OUT,
            weight: &self.weight.value,
            bias: self.bias.as_ref().map(|b| &b.value[..]),
        }
    }
}

impl<const IN: usize, const OUT: usize> Forward<IN, OUT> for Linear<IN, OUT> {
    fn forward(&self, x: &BatchSlice<IN>) -> Batch<OUT> {
        let mut out = Batch::zeros(x.rows());
        self.affine(x, &mut out);
        out
    }

    fn last_output(&self) -> &BatchSlice<OUT> {
        &self.output
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<IN>) -> &BatchSlice<OUT> {
        self.input.copy_from(x);
        let mut output = std::mem::take(&mut self.output);
        output.resize_rows(x.rows());
        self.affine(x, &mut output);
        self.output = output;
        &self.output
    }

    fn backward_raw(&mut self, grad_output: &BatchSlice<OUT>, _: &TraceKey) -> &BatchSlice<IN> {
        self.parameter_grads(grad_output);
        // dx = g · W  ([n, OUT] · [OUT, IN])
        self.grad_input.resize_rows(grad_output.rows());
        let w = &self.weight.value;
        if Self::small(grad_output.rows()) {
            let dx = self.grad_input.as_mut_slice();
            vectorize(|| {
                for (gr, dxr) in grad_output
                    .as_slice()
                    .chunks_exact(OUT)
                    .zip(dx.chunks_exact_mut(IN))
                {
                    dxr.fill(0.0);
                    for (&go, wr) in gr.iter().zip(w.chunks_exact(IN)) {
                        axpy(dxr, go, wr);
                    }
                }
            });
        } else {
            let w = MatRef::from_row_major_slice(w, OUT, IN);
            matmul(
                self.grad_input.as_mat_mut(),
                Accum::Replace,
                grad_output.as_mat(),
                w,
            );
        }
        &self.grad_input
    }

    fn backward_params_raw(&mut self, grad_output: &BatchSlice<OUT>, _: &TraceKey) {
        self.parameter_grads(grad_output);
    }
}
