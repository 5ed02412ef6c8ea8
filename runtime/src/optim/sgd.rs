//! SGD with momentum, dampening, Nesterov and weight decay, as `torch.optim.SGD`.

use super::params::{ParamGroup, ParamSet, Slots, zeros};
use super::{
    Optimizer, OptimizerError, check, check_lr, check_non_negative, learning_rate_from_params,
};
use crate::module::Module;
use crate::parallel::split::elementwise;
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
                    for (w, &g) in value.iter_mut().zip(grad) {
                        let g = g + wd * *w;
                        *w -= lr * g;
                    }
                });
                return;
            }
            let first = state.slots.momentum_buffer.is_empty();
            let buf = zeros(&mut state.slots.momentum_buffer, p.len());
            let slices = (&mut p.value[..], (&p.grad[..], buf));
            elementwise(slices, &|(value, (grad, buf)): (
                &mut [f32],
                (&[f32], &mut [f32]),
            )| {
                for ((w, &g), b) in value.iter_mut().zip(grad).zip(buf.iter_mut()) {
                    let g = g + wd * *w;
                    // The first step takes the gradient as the buffer, undamped.
                    *b = if first {
                        g
                    } else {
                        momentum * *b + one_minus_dampening * g
                    };
                    let d = if nesterov { g + momentum * *b } else { *b };
                    *w -= lr * d;
                }
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
