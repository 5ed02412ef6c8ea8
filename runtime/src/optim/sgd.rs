//! SGD with momentum, dampening, Nesterov and weight decay, as `torch.optim.SGD`.

use super::params::{ParamGroup, ParamSet, Slots, zeros};
use super::{
    Optimizer, OptimizerError, check, check_lr, check_non_negative, learning_rate_from_params,
};
use crate::module::Module;
use crate::parallel::split::elementwise;
use crate::simd;
use crate::state::NamedTensor;

#[derive(Clone, Debug)]
pub struct SGD {
    pub momentum: f32,
    /// f64, as PyTorch keeps it: `1 − dampening` is computed in f64, then meets the f32
    /// tensors.
    pub dampening: f64,
    pub nesterov: bool,
    pub weight_decay: f32,
    params: ParamSet<SgdSlots>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct SgdSlots {
    momentum_buffer: Vec<f32>,
}

impl Slots for SgdSlots {
    const NAMES: &'static [&'static str] = &["momentum_buffer"];
    const HAS_STEP: bool = false;
    fn slot(&self, _: usize) -> &Vec<f32> {
        &self.momentum_buffer
    }
    fn slot_mut(&mut self, _: usize) -> &mut Vec<f32> {
        &mut self.momentum_buffer
    }
}

impl SGD {
    /// Plain SGD; set the other hyperparameters with the builder methods.
    pub fn new(lr: f64) -> Result<Self, OptimizerError> {
        // PyTorch's constructor refuses a NaN, infinite or negative lr; so does this one,
        // and each setter below refuses its value.
        check_lr("SGD", lr)?;
        Ok(SGD {
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            params: ParamSet::new(lr),
        })
    }
    pub fn momentum(mut self, momentum: f32) -> Result<Self, OptimizerError> {
        check_non_negative("SGD", "momentum", momentum.into())?;
        self.momentum = momentum;
        Ok(self)
    }
    /// Not checked, as PyTorch does not check it (only Nesterov's need for 0, at the step).
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Result<Self, OptimizerError> {
        check_non_negative("SGD", "weight_decay", weight_decay.into())?;
        self.weight_decay = weight_decay;
        Ok(self)
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
    fn group_momentum(&self, group: &ParamGroup) -> f32 {
        group.momentum.unwrap_or(self.momentum)
    }
}

learning_rate_from_params!(SGD);

// The updates run compiled for the CPU's vector width, as pulp operations (`WithSimd`, so
// that LLVM cannot keep them apart as baseline code, as it did a closure). T3's momentum
// pass over 1.9M values was 8.8 % of its step as SSE2 code, 3.7 % so. Each value's
// operations are the same whatever the width (Rust fuses no multiply-add): the same bits.

/// `w ← w − lr·(g + wd·w)`.
struct Plain<'a> {
    value: &'a mut [f32],
    grad: &'a [f32],
    lr: f32,
    wd: f32,
}

impl pulp::WithSimd for Plain<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Plain {
            value,
            grad,
            lr,
            wd,
        } = self;
        for (w, &g) in value.iter_mut().zip(grad) {
            let g = g + wd * *w;
            *w -= lr * g;
        }
    }
}

/// The scalars of one tensor's momentum update.
#[derive(Clone, Copy)]
struct Momentum {
    lr: f32,
    wd: f32,
    momentum: f32,
    one_minus_dampening: f32,
    nesterov: bool,
    first: bool,
}

/// `b ← momentum·b + (1 − dampening)·g` (`b ← g` at the first step), then `w ← w − lr·b`,
/// or `w ← w − lr·(g + momentum·b)` with Nesterov.
struct WithMomentum<'a> {
    c: Momentum,
    value: &'a mut [f32],
    grad: &'a [f32],
    buf: &'a mut [f32],
}

impl pulp::WithSimd for WithMomentum<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        // One loop per case, so that each vectorises (with the cases tested inside the loop,
        // LLVM kept it scalar).
        match (self.c.first, self.c.nesterov) {
            (true, true) => self.run::<true, true>(),
            (true, false) => self.run::<true, false>(),
            (false, true) => self.run::<false, true>(),
            (false, false) => self.run::<false, false>(),
        }
    }
}

impl WithMomentum<'_> {
    #[inline(always)]
    fn run<const FIRST: bool, const NESTEROV: bool>(self) {
        let WithMomentum {
            c,
            value,
            grad,
            buf,
        } = self;
        let Momentum {
            lr,
            wd,
            momentum,
            one_minus_dampening,
            ..
        } = c;
        for ((w, &g), b) in value.iter_mut().zip(grad).zip(buf.iter_mut()) {
            let g = g + wd * *w;
            *b = if FIRST {
                g
            } else {
                momentum * *b + one_minus_dampening * g
            };
            let d = if NESTEROV { g + momentum * *b } else { *b };
            *w -= lr * d;
        }
    }
}

impl Optimizer for SGD {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) -> Result<(), OptimizerError> {
        self.validate()?;
        let SGD {
            momentum: default_momentum,
            dampening,
            nesterov,
            weight_decay,
            params,
        } = self;
        let (one_minus_dampening, nesterov) = ((1.0 - *dampening) as f32, *nesterov);
        params.update(model, |group, p, state| {
            let lr = group.lr as f32;
            let wd = group.options.weight_decay.unwrap_or(*weight_decay);
            let momentum = group.options.momentum.unwrap_or(*default_momentum);
            // One pass over the values, split over a data-parallel step's threads.
            if momentum == 0.0 {
                let slices = (&mut p.value[..], &p.grad[..]);
                elementwise(slices, &|(value, grad): (&mut [f32], &[f32])| {
                    simd::vectorize_op(Plain {
                        value,
                        grad,
                        lr,
                        wd,
                    })
                });
                return;
            }
            let c = Momentum {
                lr,
                wd,
                momentum,
                one_minus_dampening,
                nesterov,
                // The first step takes the gradient as the buffer, undamped.
                first: state.slots.momentum_buffer.is_empty(),
            };
            let buf = zeros(&mut state.slots.momentum_buffer, p.len());
            let slices = (&mut p.value[..], (&p.grad[..], buf));
            elementwise(slices, &|(value, (grad, buf)): (
                &mut [f32],
                (&[f32], &mut [f32]),
            )| {
                simd::vectorize_op(WithMomentum {
                    c,
                    value,
                    grad,
                    buf,
                })
            });
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
        let default = self.momentum;
        self.params.import(model, state, "SGD", |group, _| {
            group.momentum.unwrap_or(default) != 0.0
        })
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        for (g, group) in self.params.groups().iter().enumerate() {
            check_lr("SGD", self.params.lr(g))?;
            let m = self.group_momentum(group);
            check_non_negative("SGD", "momentum", m.into())?;
            let wd = group.weight_decay.unwrap_or(self.weight_decay);
            check_non_negative("SGD", "weight_decay", wd.into())?;
            check(
                "SGD",
                "nesterov",
                m.into(),
                !self.nesterov || (m > 0.0 && self.dampening == 0.0),
                "Nesterov momentum requires a momentum and zero dampening",
            )?;
        }
        Ok(())
    }
}
