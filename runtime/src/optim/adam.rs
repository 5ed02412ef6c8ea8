//! Adam (L2 weight decay, AMSGrad) and AdamW (decoupled weight decay), as `torch.optim`.
//! Scalars are computed in f64 and the tensors updated in f32, the way PyTorch does.

use super::{
    LearningRate, Optimizer, OptimizerStateError, Slots, export_step, for_each_parameter,
    import_step,
};
use crate::module::Module;
use crate::simd;
use crate::state::NamedTensor;

#[derive(Clone, Debug)]
pub struct Adam {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f32,
    pub amsgrad: bool,
    decoupled: bool,
    step: u64,
    exp_avg: Slots,
    exp_avg_sq: Slots,
    max_exp_avg_sq: Slots,
}

/// AdamW is Adam whose weight decay shrinks the weights directly.
#[derive(Clone, Debug)]
pub struct AdamW;

impl AdamW {
    /// PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0.01.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(lr: f64) -> Adam {
        Adam {
            decoupled: true,
            weight_decay: 0.01,
            ..Adam::new(lr)
        }
    }
}

impl Adam {
    /// PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay.
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled: false,
            step: 0,
            exp_avg: Slots::new("exp_avg"),
            exp_avg_sq: Slots::new("exp_avg_sq"),
            max_exp_avg_sq: Slots::new("max_exp_avg_sq"),
        }
    }
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.betas = (beta1, beta2);
        self
    }
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }
    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }
}

impl LearningRate for Adam {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

impl Optimizer for Adam {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) {
        self.step += 1;
        let t = self.step as i32;
        let (b1, b2) = self.betas;
        let c = Constants {
            step_size: (self.lr / (1.0 - b1.powi(t))) as f32,
            bc2_sqrt: (1.0 - b2.powi(t)).sqrt() as f32,
            one_minus_b1: (1.0 - b1) as f32,
            b2: b2 as f32,
            one_minus_b2: (1.0 - b2) as f32,
            eps: self.eps as f32,
            // Coupled (Adam) decay adds wd·p to the gradient; decoupled (AdamW) shrinks p.
            l2: if self.decoupled {
                0.0
            } else {
                self.weight_decay
            },
            shrink: if self.decoupled {
                (1.0 - self.lr * f64::from(self.weight_decay)) as f32
            } else {
                1.0
            },
        };
        let amsgrad = self.amsgrad;
        let (ms, vs, vmaxes) = (
            &mut self.exp_avg,
            &mut self.exp_avg_sq,
            &mut self.max_exp_avg_sq,
        );
        for_each_parameter(model, |i, p| {
            let n = p.len();
            let m = ms.get(i, n, || vec![0.0; n]);
            let v = vs.get(i, n, || vec![0.0; n]);
            if amsgrad {
                let vmax = vmaxes.get(i, n, || vec![0.0; n]);
                simd::vectorize(|| update_amsgrad(&c, &mut p.value, &p.grad, m, v, vmax));
            } else {
                simd::vectorize(|| update(&c, &mut p.value, &p.grad, m, v));
            }
        });
    }

    fn state(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        export_step(self.step, &mut out);
        self.exp_avg.export(&mut out);
        self.exp_avg_sq.export(&mut out);
        self.max_exp_avg_sq.export(&mut out);
        out
    }

    fn load_state(&mut self, state: &[NamedTensor]) -> Result<(), OptimizerStateError> {
        self.step = import_step(state)?;
        self.exp_avg.import(state)?;
        self.exp_avg_sq.import(state)?;
        self.max_exp_avg_sq.import(state)
    }
}

/// The scalars of one step, computed in f64 as PyTorch does and applied in f32.
struct Constants {
    step_size: f32,
    bc2_sqrt: f32,
    one_minus_b1: f32,
    b2: f32,
    one_minus_b2: f32,
    eps: f32,
    l2: f32,
    shrink: f32,
}

/// `m ← m + (1−β₁)(g − m)`, `v ← β₂v + (1−β₂)g²`, `p ← p − step·m / (√v / √(1−β₂ᵗ) + ε)`.
#[inline(always)]
fn update(c: &Constants, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = g + c.l2 * *p;
        *p *= c.shrink;
        *m += (g - *m) * c.one_minus_b1;
        *v = *v * c.b2 + c.one_minus_b2 * g * g;
        *p -= c.step_size * *m / (v.sqrt() / c.bc2_sqrt + c.eps);
    }
}

/// As `update`, with the running maximum of `v` in the denominator.
#[inline(always)]
fn update_amsgrad(
    c: &Constants,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    vmax: &mut [f32],
) {
    for ((((p, &g), m), v), vmax) in p
        .iter_mut()
        .zip(g)
        .zip(m.iter_mut())
        .zip(v.iter_mut())
        .zip(vmax.iter_mut())
    {
        let g = g + c.l2 * *p;
        *p *= c.shrink;
        *m += (g - *m) * c.one_minus_b1;
        *v = *v * c.b2 + c.one_minus_b2 * g * g;
        *vmax = vmax.max(*v);
        *p -= c.step_size * *m / (vmax.sqrt() / c.bc2_sqrt + c.eps);
    }
}
