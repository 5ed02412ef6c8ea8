//! Adam (L2 weight decay, AMSGrad) and AdamW (decoupled weight decay), as `torch.optim`.
//! Scalars are computed in f64 and the tensors updated in f32, the way PyTorch does.

use super::params::{ParamGroup, ParamSet, Slots, zeros};
use super::powers::Squarings;
use super::{
    Optimizer, OptimizerError, check_beta, check_lr, check_non_negative, learning_rate_from_params,
};
use crate::module::Module;
use crate::parallel::split::elementwise;
use crate::simd;
use crate::state::NamedTensor;

#[derive(Clone, Debug)]
pub struct Adam {
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f32,
    pub amsgrad: bool,
    decoupled: bool,
    params: ParamSet<AdamSlots>,
    /// The squarings of β₁ and β₂ behind `β₁ᵗ` and `β₂ᵗ`, kept from step to step (boxed:
    /// 512 bytes inline would make every `AnyOptimizer` that large).
    squarings: Box<(Squarings, Squarings)>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct AdamSlots {
    exp_avg: Vec<f32>,
    exp_avg_sq: Vec<f32>,
    max_exp_avg_sq: Vec<f32>,
}

impl Slots for AdamSlots {
    const NAMES: &'static [&'static str] = &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
    const HAS_STEP: bool = true;
    fn slot(&self, index: usize) -> &Vec<f32> {
        [&self.exp_avg, &self.exp_avg_sq, &self.max_exp_avg_sq][index]
    }
    fn slot_mut(&mut self, index: usize) -> &mut Vec<f32> {
        match index {
            0 => &mut self.exp_avg,
            1 => &mut self.exp_avg_sq,
            _ => &mut self.max_exp_avg_sq,
        }
    }
}

/// AdamW is Adam whose weight decay shrinks the weights directly.
#[derive(Clone, Debug)]
pub struct AdamW;

impl AdamW {
    /// PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0.01.
    /// Refuses what PyTorch's constructor refuses: a NaN, infinite or negative `lr`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(lr: f64) -> Result<Adam, OptimizerError> {
        check_lr("AdamW", lr)?;
        Ok(Adam {
            decoupled: true,
            weight_decay: 0.01,
            ..Adam::with_lr(lr)
        })
    }
}

impl Adam {
    /// PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. Refuses what
    /// PyTorch's constructor refuses: a NaN, infinite or negative `lr`; each setter below
    /// likewise refuses its value.
    pub fn new(lr: f64) -> Result<Self, OptimizerError> {
        check_lr("Adam", lr)?;
        Ok(Self::with_lr(lr))
    }
    fn with_lr(lr: f64) -> Self {
        Adam {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled: false,
            params: ParamSet::new(lr),
            squarings: Default::default(),
        }
    }
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Result<Self, OptimizerError> {
        check_beta(self.name(), "beta1", beta1)?;
        check_beta(self.name(), "beta2", beta2)?;
        self.betas = (beta1, beta2);
        Ok(self)
    }
    pub fn eps(mut self, eps: f64) -> Result<Self, OptimizerError> {
        check_non_negative(self.name(), "eps", eps)?;
        self.eps = eps;
        Ok(self)
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Result<Self, OptimizerError> {
        check_non_negative(self.name(), "weight_decay", weight_decay.into())?;
        self.weight_decay = weight_decay;
        Ok(self)
    }
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }
    /// A parameter group with its own lr, weight decay or betas (PyTorch's `param_groups`).
    pub fn param_group(mut self, group: ParamGroup) -> Self {
        self.params.add_group(group);
        self
    }
    /// The groups: 0 is this optimizer's own settings, then each `param_group` in order.
    pub fn param_groups(&self) -> &[ParamGroup] {
        self.params.groups()
    }
    fn name(&self) -> &'static str {
        if self.decoupled { "AdamW" } else { "Adam" }
    }
}

learning_rate_from_params!(Adam);

impl Optimizer for Adam {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) -> Result<(), OptimizerError> {
        self.validate()?;
        let Adam {
            betas,
            eps,
            weight_decay,
            amsgrad,
            decoupled,
            params,
            squarings,
        } = self;
        let (amsgrad, decoupled, eps) = (*amsgrad, *decoupled, *eps);
        params.update(model, |group, p, state| {
            state.step += 1;
            let t = state.step as i32;
            let (b1, b2) = group.options.betas.unwrap_or(*betas);
            let wd = group.options.weight_decay.unwrap_or(*weight_decay);
            let lr = group.lr;
            let (b1t, b2t) = (squarings.0.power(b1, t), squarings.1.power(b2, t));
            let c = Constants {
                step_size: (lr / (1.0 - b1t)) as f32,
                bc2_sqrt: (1.0 - b2t).sqrt() as f32,
                one_minus_b1: (1.0 - b1) as f32,
                b2: b2 as f32,
                one_minus_b2: (1.0 - b2) as f32,
                eps: eps as f32,
                // Coupled (Adam) decay adds wd·p to the gradient; decoupled (AdamW) shrinks p.
                l2: if decoupled { 0.0 } else { wd },
                shrink: if decoupled {
                    (1.0 - lr * f64::from(wd)) as f32
                } else {
                    1.0
                },
            };
            let n = p.len();
            let slots = &mut state.slots;
            let m = zeros(&mut slots.exp_avg, n);
            let v = zeros(&mut slots.exp_avg_sq, n);
            // One pass over the values, split over a data-parallel step's threads.
            if amsgrad {
                let vmax = zeros(&mut slots.max_exp_avg_sq, n);
                let slices = (&mut p.value[..], (&p.grad[..], (m, (v, vmax))));
                elementwise(slices, &|(p, (g, (m, (v, vmax))))| {
                    simd::vectorize(|| update_amsgrad(&c, p, g, m, v, vmax))
                });
            } else {
                let slices = (&mut p.value[..], (&p.grad[..], (m, v)));
                elementwise(slices, &|(p, (g, (m, v)))| {
                    simd::vectorize(|| update(&c, p, g, m, v))
                });
            }
        })
    }

    fn state(&self) -> Vec<NamedTensor> {
        self.params.export()
    }

    fn load_state<M: Module + ?Sized>(
        &mut self,
        model: &M,
        state: &[NamedTensor],
    ) -> Result<(), OptimizerError> {
        let amsgrad = self.amsgrad;
        let name = self.name();
        self.params.import(model, state, name, |_, slot| {
            amsgrad || slot != "max_exp_avg_sq"
        })
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        let name = self.name();
        check_non_negative(name, "eps", self.eps)?;
        for (g, group) in self.params.groups().iter().enumerate() {
            check_lr(name, self.params.lr(g))?;
            let (b1, b2) = group.betas.unwrap_or(self.betas);
            check_beta(name, "beta1", b1)?;
            check_beta(name, "beta2", b2)?;
            let wd = group.weight_decay.unwrap_or(self.weight_decay);
            check_non_negative(name, "weight_decay", wd.into())?;
        }
        Ok(())
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
