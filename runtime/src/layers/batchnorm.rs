//! `BatchNorm1d` / `BatchNorm2d`: per-channel normalisation over the batch (and over `L`, or
//! `H×W`). A row of width `W` holds `C` channels of `W / C` values each in NCHW order, so one
//! implementation serves `[C]`, `[C, L]` and `[C, H, W]` inputs.

use crate::module::{
    Buffer, BufferMut, Forward, InputError, Module, Parameter, TraceKey, Visitor, VisitorMut,
};
use crate::tensor::{Batch, BatchSlice, resize};

/// Whether `values` (a batch's, all channels) leave one per channel of `channels`: what
/// PyTorch refuses in training mode, and `validate`, `forward_train` and `fit` refuse here.
pub(crate) fn one_value_per_channel(values: usize, channels: usize) -> bool {
    values / channels == 1
}

/// PyTorch's `nn.BatchNorm1d(C)` and `nn.BatchNorm2d(C)` (affine, tracking running stats).
#[derive(Clone, Debug)]
pub struct BatchNorm<const C: usize> {
    pub weight: Parameter,
    pub bias: Parameter,
    pub running_mean: Vec<f32>,
    pub running_var: Vec<f32>,
    pub num_batches_tracked: i64,
    pub eps: f32,
    pub momentum: f32,
    training: bool,
    invstd: Vec<f32>,
    xhat: Vec<f32>,
    batch_stats: bool,
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

/// PyTorch's `nn.BatchNorm1d`.
pub type BatchNorm1d<const C: usize> = BatchNorm<C>;
/// PyTorch's `nn.BatchNorm2d`.
pub type BatchNorm2d<const C: usize> = BatchNorm<C>;

impl<const C: usize> Default for BatchNorm<C> {
    fn default() -> Self {
        Self::new(1e-5, 0.1)
    }
}

impl<const C: usize> BatchNorm<C> {
    const SHAPE: [usize; 1] = [C];

    /// Weight 1, bias 0, running mean 0 and variance 1, as PyTorch initialises them.
    pub fn new(eps: f32, momentum: f32) -> Self {
        BatchNorm {
            weight: Parameter::new(vec![1.0; C], &[C]),
            bias: Parameter::new(vec![0.0; C], &[C]),
            running_mean: vec![0.0; C],
            running_var: vec![1.0; C],
            num_batches_tracked: 0,
            eps,
            momentum,
            training: true,
            invstd: vec![0.0; C],
            xhat: Vec::new(),
            batch_stats: false,
            output: Vec::new(),
            grad_input: Vec::new(),
        }
    }

    fn eval_into<const W: usize>(&self, x: &[f32], out: &mut [f32]) {
        let l = W / C;
        for (xr, yr) in x.chunks_exact(W).zip(out.chunks_exact_mut(W)) {
            for (c, (xb, yb)) in xr.chunks_exact(l).zip(yr.chunks_exact_mut(l)).enumerate() {
                let invstd = 1.0 / (self.running_var[c] + self.eps).sqrt();
                let scale = self.weight.value[c] * invstd;
                let shift = self.bias.value[c] - self.running_mean[c] * scale;
                for (y, &x) in yb.iter_mut().zip(xb) {
                    *y = x * scale + shift;
                }
            }
        }
    }
}

impl<const C: usize> Module for BatchNorm<C> {
    fn visit(&self, v: &mut dyn Visitor) {
        v.parameter("weight", &self.weight);
        v.parameter("bias", &self.bias);
        let shape = &Self::SHAPE;
        v.buffer(
            "running_mean",
            Buffer::F32 {
                data: &self.running_mean,
                shape,
            },
        );
        v.buffer(
            "running_var",
            Buffer::F32 {
                data: &self.running_var,
                shape,
            },
        );
        v.buffer(
            "num_batches_tracked",
            Buffer::I64(&self.num_batches_tracked),
        );
    }
    fn visit_mut(&mut self, v: &mut dyn VisitorMut) {
        v.parameter("weight", &mut self.weight);
        v.parameter("bias", &mut self.bias);
        let shape = &Self::SHAPE;
        v.buffer(
            "running_mean",
            BufferMut::F32 {
                data: &mut self.running_mean,
                shape,
            },
        );
        v.buffer(
            "running_var",
            BufferMut::F32 {
                data: &mut self.running_var,
                shape,
            },
        );
        v.buffer(
            "num_batches_tracked",
            BufferMut::I64(&mut self.num_batches_tracked),
        );
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn describe(&self) -> crate::export::Node<'_> {
        crate::export::Node::BatchNorm {
            channels: C,
            eps: self.eps,
            weight: &self.weight.value,
            bias: &self.bias.value,
            running_mean: &self.running_mean,
            running_var: &self.running_var,
        }
    }
}

impl<const C: usize, const W: usize> Forward<W, W> for BatchNorm<C> {
    fn forward(&self, x: &BatchSlice<W>) -> Batch<W> {
        const {
            assert!(
                W.is_multiple_of(C),
                "BatchNorm: the row width must be a multiple of the channels"
            )
        };
        let mut out = Batch::zeros(x.rows());
        self.eval_into::<W>(x.as_slice(), out.as_mut_slice());
        out
    }

    /// One value per channel in training mode is refused, as PyTorch does.
    fn validate(&self, x: &BatchSlice<W>) -> Result<(), InputError> {
        if self.training && one_value_per_channel(x.as_slice().len(), C) {
            return Err(InputError::OneValuePerChannel);
        }
        Ok(())
    }

    fn last_output(&self) -> &BatchSlice<W> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<W>) -> &BatchSlice<W> {
        const {
            assert!(
                W.is_multiple_of(C),
                "BatchNorm: the row width must be a multiple of the channels"
            )
        };
        let l = W / C;
        let x = x.as_slice();
        let count = x.len() / C;
        // `fit` refuses such batches before its first epoch, `DataParallel` refuses
        // BatchNorm: this is a hand-written loop's.
        assert!(
            !self.training || !one_value_per_channel(x.len(), C),
            "{}",
            InputError::OneValuePerChannel
        );
        self.batch_stats = self.training;
        resize(&mut self.xhat, x.len());
        resize(&mut self.output, x.len());
        for c in 0..C {
            let channel = || x.chunks_exact(W).flat_map(|r| &r[c * l..(c + 1) * l]);
            let (mean, invstd) = if self.training {
                let mean = channel().map(|&v| f64::from(v)).sum::<f64>() / count as f64;
                let sq: f64 = channel().map(|&v| (f64::from(v) - mean).powi(2)).sum();
                let var = sq / count as f64;
                // Never one value per channel (asserted above); none, an empty batch, gives
                // NaN either way.
                let unbiased = if count > 1 {
                    sq / (count - 1) as f64
                } else {
                    var
                };
                let m = f64::from(self.momentum);
                self.running_mean[c] =
                    ((1.0 - m) * f64::from(self.running_mean[c]) + m * mean) as f32;
                self.running_var[c] =
                    ((1.0 - m) * f64::from(self.running_var[c]) + m * unbiased) as f32;
                (
                    mean as f32,
                    (1.0 / (var + f64::from(self.eps)).sqrt()) as f32,
                )
            } else {
                (
                    self.running_mean[c],
                    1.0 / (self.running_var[c] + self.eps).sqrt(),
                )
            };
            self.invstd[c] = invstd;
            let (w, b) = (self.weight.value[c], self.bias.value[c]);
            for r in 0..x.len() / W {
                let range = r * W + c * l..r * W + (c + 1) * l;
                for i in range {
                    let xh = (x[i] - mean) * invstd;
                    self.xhat[i] = xh;
                    self.output[i] = xh * w + b;
                }
            }
        }
        if self.training {
            self.num_batches_tracked += 1;
        }
        BatchSlice::view(&self.output)
    }

    fn backward_raw(
        &mut self,
        _: &BatchSlice<W>,
        grad_output: &BatchSlice<W>,
        _: &TraceKey,
    ) -> &BatchSlice<W> {
        let l = W / C;
        let g = grad_output.as_slice();
        let count = g.len() / C;
        resize(&mut self.grad_input, g.len());
        let rows = g.len() / W;
        for c in 0..C {
            let idx = || (0..rows).flat_map(move |r| r * W + c * l..r * W + (c + 1) * l);
            let sum_g: f32 = idx().map(|i| g[i]).sum();
            let sum_gx: f32 = idx().map(|i| g[i] * self.xhat[i]).sum();
            // Frozen parameters keep a zero gradient.
            if self.weight.requires_grad {
                self.weight.grad[c] += sum_gx;
            }
            if self.bias.requires_grad {
                self.bias.grad[c] += sum_g;
            }
            let scale = self.weight.value[c] * self.invstd[c];
            if self.batch_stats {
                let n = count as f32;
                for i in idx() {
                    self.grad_input[i] = scale / n * (n * g[i] - sum_g - self.xhat[i] * sum_gx);
                }
            } else {
                for i in idx() {
                    self.grad_input[i] = scale * g[i];
                }
            }
        }
        BatchSlice::view(&self.grad_input)
    }
}
