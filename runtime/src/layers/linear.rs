//! `Linear`: `y = x · Wᵀ + b`, with `W` stored `[out, in]` as in PyTorch.

use faer::{Accum, MatMut, MatRef};
use rand::Rng;

use crate::init;
use crate::linalg::matmul;
use crate::module::{Forward, Module, Parameter, Shaped, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice};

/// PyTorch's `nn.Linear(IN, OUT)`.
#[derive(Clone, Debug)]
pub struct Linear<const IN: usize, const OUT: usize> {
    pub weight: Parameter,
    pub bias: Option<Parameter>,
    input: Batch<IN>,
    output: Batch<OUT>,
    grad_input: Batch<IN>,
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

    fn weight_mat(&self) -> MatRef<'_, f32> {
        MatRef::from_row_major_slice(&self.weight.value, OUT, IN)
    }

    fn affine(&self, x: &BatchSlice<IN>, out: &mut BatchSlice<OUT>) {
        let accum = match &self.bias {
            Some(bias) => {
                for row in out.as_mut_slice().chunks_exact_mut(OUT) {
                    row.copy_from_slice(&bias.value);
                }
                Accum::Add
            }
            None => Accum::Replace,
        };
        matmul(
            out.as_mat_mut(),
            accum,
            x.as_mat(),
            self.weight_mat().transpose(),
        );
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
}

impl<const IN: usize, const OUT: usize> Forward<IN, OUT> for Linear<IN, OUT> {
    fn forward(&self, x: &BatchSlice<IN>) -> Batch<OUT> {
        let mut out = Batch::zeros(x.rows());
        self.affine(x, &mut out);
        out
    }

    fn forward_train(&mut self, x: &BatchSlice<IN>) -> &BatchSlice<OUT> {
        self.input.copy_from(x);
        let mut output = std::mem::take(&mut self.output);
        output.resize_rows(x.rows());
        self.affine(x, &mut output);
        self.output = output;
        &self.output
    }

    fn backward(&mut self, grad_output: &BatchSlice<OUT>) -> &BatchSlice<IN> {
        let g = grad_output.as_mat();
        // dW += gᵀ · x  ([OUT, n] · [n, IN])
        let grad_w = MatMut::from_row_major_slice_mut(&mut self.weight.grad, OUT, IN);
        matmul(grad_w, Accum::Add, g.transpose(), self.input.as_mat());
        if let Some(bias) = &mut self.bias {
            for row in grad_output.as_slice().chunks_exact(OUT) {
                for (gb, gr) in bias.grad.iter_mut().zip(row) {
                    *gb += gr;
                }
            }
        }
        // dx = g · W  ([n, OUT] · [OUT, IN])
        self.grad_input.resize_rows(grad_output.rows());
        let w = MatRef::from_row_major_slice(&self.weight.value, OUT, IN);
        matmul(self.grad_input.as_mat_mut(), Accum::Replace, g, w);
        &self.grad_input
    }
}
