//! Adagrad (lr decay, weight decay, initial accumulator), as `torch.optim.Adagrad`.

use super::params::{ParamGroup, ParamSet, Slots};
use super::{Optimizer, OptimizerError, check_lr, check_non_negative, learning_rate_from_params};
use crate::module::Module;
use crate::simd;
use crate::state::NamedTensor;

#[derive(Clone, Debug)]
pub struct Adagrad {
    pub lr_decay: f64,
    pub weight_decay: f32,
    pub initial_accumulator_value: f32,
    pub eps: f32,
    params: ParamSet<AdagradSlots>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct AdagradSlots {
    sum: Vec<f32>,
}

impl Slots for AdagradSlots {
    const NAMES: &'static [&'static str] = &["sum"];
    const HAS_STEP: bool = true;
    fn slot(&self, _: usize) -> &Vec<f32> {
        &self.sum
    }
    fn slot_mut(&mut self, _: usize) -> &mut Vec<f32> {
        &mut self.sum
    }
}

impl Adagrad {
    /// PyTorch's defaults: no decay, accumulator starting at 0, eps 1e-10.
    pub fn new(lr: f64) -> Result<Self, OptimizerError> {
        // PyTorch's constructor refuses a NaN, infinite or negative lr; so does this one,
        // and each setter below refuses its value.
        check_lr("Adagrad", lr)?;
        Ok(Adagrad {
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            params: ParamSet::new(lr),
        })
    }
    pub fn lr_decay(mut self, lr_decay: f64) -> Result<Self, OptimizerError> {
        check_non_negative("Adagrad", "lr_decay", lr_decay)?;
        self.lr_decay = lr_decay;
        Ok(self)
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Result<Self, OptimizerError> {
        check_non_negative("Adagrad", "weight_decay", weight_decay.into())?;
        self.weight_decay = weight_decay;
        Ok(self)
    }
    pub fn initial_accumulator_value(mut self, value: f32) -> Result<Self, OptimizerError> {
        check_non_negative("Adagrad", "initial_accumulator_value", value.into())?;
        self.initial_accumulator_value = value;
        Ok(self)
    }
    pub fn eps(mut self, eps: f32) -> Result<Self, OptimizerError> {
        check_non_negative("Adagrad", "eps", eps.into())?;
        self.eps = eps;
        Ok(self)
    }
    /// A parameter group with its own lr or weight decay (PyTorch's `param_groups`).
    pub fn param_group(mut self, group: ParamGroup) -> Self {
        self.params.add_group(group);
        self
    }
    /// The groups: 0 is this optimizer's own settings, then each `param_group` in order.
    pub fn param_groups(&self) -> &[ParamGroup] {
        self.params.groups()
    }
}

learning_rate_from_params!(Adagrad);

/// `s ← s + g²`, `w ← w − clr·g / (√s + ε)` with `g += wd·w`, as a pulp operation so that
/// it runs compiled for the CPU's vector width (each value's operations unchanged: the same
/// bits).
struct Update<'a> {
    value: &'a mut [f32],
    grad: &'a [f32],
    sum: &'a mut [f32],
    clr: f32,
    wd: f32,
    eps: f32,
}

impl pulp::WithSimd for Update<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Update {
            value,
            grad,
            sum,
            clr,
            wd,
            eps,
        } = self;
        for ((w, &g), s) in value.iter_mut().zip(grad).zip(sum.iter_mut()) {
            let g = g + wd * *w;
            *s += g * g;
            *w -= clr * g / (s.sqrt() + eps);
        }
    }
}

impl Optimizer for Adagrad {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) -> Result<(), OptimizerError> {
        self.validate()?;
        let (lr_decay, default_wd, eps, init) = (
            self.lr_decay,
            self.weight_decay,
            self.eps,
            self.initial_accumulator_value,
        );
        self.params.update(model, |group, p, state| {
            state.step += 1;
            let clr = (group.lr / (1.0 + (state.step - 1) as f64 * lr_decay)) as f32;
            let wd = group.options.weight_decay.unwrap_or(default_wd);
            if state.slots.sum.is_empty() {
                state.slots.sum = vec![init; p.len()];
            }
            let sum = &mut state.slots.sum;
            simd::vectorize_op(Update {
                value: &mut p.value,
                grad: &p.grad,
                sum,
                clr,
                wd,
                eps,
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
        self.params.import(model, state, "Adagrad", |_, _| true)
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        let name = "Adagrad";
        check_non_negative(name, "lr_decay", self.lr_decay)?;
        check_non_negative(name, "eps", self.eps.into())?;
        let init = self.initial_accumulator_value;
        check_non_negative(name, "initial_accumulator_value", init.into())?;
        for (g, group) in self.params.groups().iter().enumerate() {
            check_lr(name, self.params.lr(g))?;
            let wd = group.weight_decay.unwrap_or(self.weight_decay);
            check_non_negative(name, "weight_decay", wd.into())?;
        }
        Ok(())
    }
}
