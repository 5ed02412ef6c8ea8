//! RMSprop (momentum, centered, weight decay), as `torch.optim.RMSprop`.

use super::params::{ParamGroup, ParamSet, Slots, zeros};
use super::{Optimizer, OptimizerError, check_lr, check_non_negative, learning_rate_from_params};
use crate::module::Module;
use crate::simd;
use crate::state::NamedTensor;

#[derive(Clone, Debug)]
pub struct RMSprop {
    /// f64, as PyTorch keeps it: `1 − alpha` is computed in f64 before it meets the f32
    /// tensors (in f32 it is 0.00999999 for 0.99, not 0.01).
    pub alpha: f64,
    pub eps: f32,
    pub weight_decay: f32,
    pub momentum: f32,
    pub centered: bool,
    params: ParamSet<RmspropSlots>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct RmspropSlots {
    square_avg: Vec<f32>,
    momentum_buffer: Vec<f32>,
    grad_avg: Vec<f32>,
}

impl Slots for RmspropSlots {
    const NAMES: &'static [&'static str] = &["square_avg", "momentum_buffer", "grad_avg"];
    const HAS_STEP: bool = true;
    fn slot(&self, index: usize) -> &Vec<f32> {
        [&self.square_avg, &self.momentum_buffer, &self.grad_avg][index]
    }
    fn slot_mut(&mut self, index: usize) -> &mut Vec<f32> {
        match index {
            0 => &mut self.square_avg,
            1 => &mut self.momentum_buffer,
            _ => &mut self.grad_avg,
        }
    }
}

impl RMSprop {
    /// PyTorch's defaults: alpha 0.99, eps 1e-8, no momentum, not centered.
    pub fn new(lr: f64) -> Result<Self, OptimizerError> {
        // PyTorch's constructor refuses a NaN, infinite or negative lr; so does this one,
        // and each setter below refuses its value.
        check_lr("RMSprop", lr)?;
        Ok(RMSprop {
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            params: ParamSet::new(lr),
        })
    }
    pub fn alpha(mut self, alpha: f64) -> Result<Self, OptimizerError> {
        check_non_negative("RMSprop", "alpha", alpha)?;
        self.alpha = alpha;
        Ok(self)
    }
    pub fn eps(mut self, eps: f32) -> Result<Self, OptimizerError> {
        check_non_negative("RMSprop", "eps", eps.into())?;
        self.eps = eps;
        Ok(self)
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Result<Self, OptimizerError> {
        check_non_negative("RMSprop", "weight_decay", weight_decay.into())?;
        self.weight_decay = weight_decay;
        Ok(self)
    }
    pub fn momentum(mut self, momentum: f32) -> Result<Self, OptimizerError> {
        check_non_negative("RMSprop", "momentum", momentum.into())?;
        self.momentum = momentum;
        Ok(self)
    }
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }
    /// A parameter group with its own lr, weight decay or momentum (PyTorch's `param_groups`).
    pub fn param_group(mut self, group: ParamGroup) -> Self {
        self.params.add_group(group);
        self
    }
    /// The groups: 0 is this optimizer's own settings, then each `param_group` in order.
    pub fn param_groups(&self) -> &[ParamGroup] {
        self.params.groups()
    }
}

learning_rate_from_params!(RMSprop);

/// The scalars of one tensor's update.
#[derive(Clone, Copy)]
struct Constants {
    lr: f32,
    wd: f32,
    alpha: f32,
    one_minus_alpha: f32,
    eps: f32,
    momentum: f32,
}

/// [`Update`] for the centered and momentum variant at hand (`gavg` and `buf` are empty
/// where the variant has none).
fn run<const CENTERED: bool, const MOMENTUM: bool>(
    c: Constants,
    value: &mut [f32],
    grad: &[f32],
    s: &mut [f32],
    gavg: &mut [f32],
    buf: &mut [f32],
) {
    simd::vectorize_op(Update::<CENTERED, MOMENTUM> {
        c,
        value,
        grad,
        s,
        gavg,
        buf,
    });
}

/// `s ← α·s + (1 − α)·g²`; centered, `ḡ ← ḡ + (g − ḡ)(1 − α)` and `s − ḡ²` under the root;
/// `w ← w − lr·g / (√… + ε)`, or through the momentum buffer `b ← μ·b + g / (√… + ε)`,
/// `w ← w − lr·b`. One loop per variant, as a pulp operation, so that each runs compiled for
/// the CPU's vector width (each value's operations unchanged: the same bits).
struct Update<'a, const CENTERED: bool, const MOMENTUM: bool> {
    c: Constants,
    value: &'a mut [f32],
    grad: &'a [f32],
    s: &'a mut [f32],
    gavg: &'a mut [f32],
    buf: &'a mut [f32],
}

impl<const CENTERED: bool, const MOMENTUM: bool> pulp::WithSimd for Update<'_, CENTERED, MOMENTUM> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Update {
            c,
            value,
            grad,
            s,
            gavg,
            buf,
        } = self;
        let n = value.len();
        // A variant's absent buffer is empty: one passed where the variant has none would be
        // ignored, never updated.
        debug_assert!(CENTERED || gavg.is_empty(), "grad_avg only when centered");
        debug_assert!(
            MOMENTUM || buf.is_empty(),
            "momentum_buffer only with momentum"
        );
        let (grad, s) = (&grad[..n], &mut s[..n]);
        let gavg = if CENTERED { &mut gavg[..n] } else { gavg };
        let buf = if MOMENTUM { &mut buf[..n] } else { buf };
        for k in 0..n {
            let g = grad[k] + c.wd * value[k];
            s[k] = s[k] * c.alpha + c.one_minus_alpha * g * g;
            let avg = if CENTERED {
                gavg[k] += (g - gavg[k]) * c.one_minus_alpha;
                (s[k] - gavg[k] * gavg[k]).sqrt() + c.eps
            } else {
                s[k].sqrt() + c.eps
            };
            if MOMENTUM {
                buf[k] = buf[k] * c.momentum + g / avg;
                value[k] -= c.lr * buf[k];
            } else {
                value[k] -= c.lr * g / avg;
            }
        }
    }
}

impl Optimizer for RMSprop {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) -> Result<(), OptimizerError> {
        self.validate()?;
        let RMSprop {
            alpha,
            eps,
            weight_decay,
            momentum: default_momentum,
            centered,
            params,
        } = self;
        let (one_minus_alpha, alpha) = ((1.0 - *alpha) as f32, *alpha as f32);
        let (eps, centered) = (*eps, *centered);
        params.update(model, |group, p, state| {
            state.step += 1;
            let lr = group.lr as f32;
            let wd = group.options.weight_decay.unwrap_or(*weight_decay);
            let momentum = group.options.momentum.unwrap_or(*default_momentum);
            let n = p.len();
            let slots = &mut state.slots;
            let s = zeros(&mut slots.square_avg, n);
            let gavg = centered.then(|| zeros(&mut slots.grad_avg, n));
            let buf = (momentum > 0.0).then(|| zeros(&mut slots.momentum_buffer, n));
            let c = Constants {
                lr,
                wd,
                alpha,
                one_minus_alpha,
                eps,
                momentum,
            };
            let (value, grad) = (&mut p.value[..], &p.grad[..]);
            match (gavg, buf) {
                (Some(gavg), Some(buf)) => run::<true, true>(c, value, grad, s, gavg, buf),
                (Some(gavg), None) => run::<true, false>(c, value, grad, s, gavg, &mut []),
                (None, Some(buf)) => run::<false, true>(c, value, grad, s, &mut [], buf),
                (None, None) => run::<false, false>(c, value, grad, s, &mut [], &mut []),
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
        let (default_momentum, centered) = (self.momentum, self.centered);
        self.params
            .import(model, state, "RMSprop", |group, slot| match slot {
                "momentum_buffer" => group.momentum.unwrap_or(default_momentum) > 0.0,
                "grad_avg" => centered,
                _ => true,
            })
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        let name = "RMSprop";
        check_non_negative(name, "alpha", self.alpha)?;
        check_non_negative(name, "eps", self.eps.into())?;
        for (g, group) in self.params.groups().iter().enumerate() {
            check_lr(name, self.params.lr(g))?;
            let m = group.momentum.unwrap_or(self.momentum);
            check_non_negative(name, "momentum", m.into())?;
            let wd = group.weight_decay.unwrap_or(self.weight_decay);
            check_non_negative(name, "weight_decay", wd.into())?;
        }
        Ok(())
    }
}
