//! `LayerNorm`: normalises each group of the last `D` values of a row (biased variance).

use crate::module::{Forward, Module, Parameter, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// PyTorch's `nn.LayerNorm(D)` (elementwise affine).
#[derive(Clone, Debug)]
pub struct LayerNorm<const D: usize> {
    pub weight: Parameter,
    pub bias: Parameter,
    pub eps: f32,
    xhat: Vec<f32>,
    invstd: Vec<f32>,
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

impl<const D: usize> Default for LayerNorm<D> {
    fn default() -> Self {
        Self::new(1e-5)
    }
}

impl<const D: usize> LayerNorm<D> {
    /// Weight 1 and bias 0, as PyTorch initialises them.
    pub fn new(eps: f32) -> Self {
        LayerNorm {
            weight: Parameter::new(vec![1.0; D], &[D]),
            bias: Parameter::new(vec![0.0; D], &[D]),
            eps,
            xhat: Vec::new(),
            invstd: Vec::new(),
            output: Vec::new(),
            grad_input: Vec::new(),
        }
    }

    /// Normalises one group; returns 1/σ.
    fn normalize(&self, x: &[f32], xhat: &mut [f32], y: &mut [f32]) -> f32 {
        let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / D as f64;
        let var = x
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / D as f64;
        let invstd = (1.0 / (var + f64::from(self.eps)).sqrt()) as f32;
        let mean = mean as f32;
        for i in 0..D {
            xhat[i] = (x[i] - mean) * invstd;
            y[i] = xhat[i] * self.weight.value[i] + self.bias.value[i];
        }
        invstd
    }
}

impl<const D: usize> Module for LayerNorm<D> {
    fn visit(&self, v: &mut dyn Visitor) {
        v.parameter("weight", &self.weight);
        v.parameter("bias", &self.bias);
    }
    fn visit_mut(&mut self, v: &mut dyn VisitorMut) {
        v.parameter("weight", &mut self.weight);
        v.parameter("bias", &mut self.bias);
    }
    fn set_training(&mut self, _: bool) {}
    fn describe(&self) -> crate::export::Node<'_> {
        crate::export::Node::LayerNorm {
            normalized: D,
            eps: self.eps,
            weight: &self.weight.value,
            bias: &self.bias.value,
        }
    }
}

impl<const D: usize, const W: usize> Forward<W, W> for LayerNorm<D> {
    fn forward(&self, x: &BatchSlice<W>) -> Batch<W> {
        const {
            assert!(
                W.is_multiple_of(D),
                "LayerNorm: the row width must be a multiple of D"
            )
        };
        let mut out = Batch::zeros(x.rows());
        let mut xhat = [0.0; D];
        for (xg, yg) in x
            .as_slice()
            .chunks_exact(D)
            .zip(out.as_mut_slice().chunks_exact_mut(D))
        {
            self.normalize(xg, &mut xhat, yg);
        }
        out
    }

    fn last_output(&self) -> &BatchSlice<W> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<W>) -> &BatchSlice<W> {
        const {
            assert!(
                W.is_multiple_of(D),
                "LayerNorm: the row width must be a multiple of D"
            )
        };
        let x = x.as_slice();
        let mut xhat = std::mem::take(&mut self.xhat);
        let mut output = std::mem::take(&mut self.output);
        resize(&mut xhat, x.len());
        resize(&mut output, x.len());
        self.invstd.clear();
        for ((xg, hg), yg) in x
            .chunks_exact(D)
            .zip(xhat.chunks_exact_mut(D))
            .zip(output.chunks_exact_mut(D))
        {
            let invstd = self.normalize(xg, hg, yg);
            self.invstd.push(invstd);
        }
        self.xhat = xhat;
        self.output = output;
        BatchSlice::view(&self.output)
    }

    fn backward_raw(
        &mut self,
        _: &BatchSlice<W>,
        grad_output: &BatchSlice<W>,
        _: &TraceKey,
    ) -> &BatchSlice<W> {
        let g = grad_output.as_slice();
        resize(&mut self.grad_input, g.len());
        let n = D as f32;
        for (((gg, hg), dx), &invstd) in g
            .chunks_exact(D)
            .zip(self.xhat.chunks_exact(D))
            .zip(self.grad_input.chunks_exact_mut(D))
            .zip(&self.invstd)
        {
            let mut sum_d = 0.0;
            let mut sum_dh = 0.0;
            for i in 0..D {
                // Frozen parameters keep a zero gradient.
                if self.weight.requires_grad {
                    self.weight.grad[i] += gg[i] * hg[i];
                }
                if self.bias.requires_grad {
                    self.bias.grad[i] += gg[i];
                }
                let d = gg[i] * self.weight.value[i];
                sum_d += d;
                sum_dh += d * hg[i];
            }
            // dx = (1/σ)/D · (D·d − Σd − x̂·Σ(d·x̂)), with d = g ⊙ weight
            for i in 0..D {
                let d = gg[i] * self.weight.value[i];
                dx[i] = invstd / n * (n * d - sum_d - hg[i] * sum_dh);
            }
        }
        BatchSlice::view(&self.grad_input)
    }
}
