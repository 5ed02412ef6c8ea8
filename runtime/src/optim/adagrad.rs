//! Adagrad (lr decay, weight decay, initial accumulator), as `torch.optim.Adagrad`.

use super::{
    LearningRate, Optimizer, OptimizerStateError, Slots, export_step, for_each_parameter,
    import_step,
};
use crate::module::Module;
use crate::state::NamedTensor;

#[derive(Clone, Debug)]
pub struct Adagrad {
    pub lr: f64,
    pub lr_decay: f64,
    pub weight_decay: f32,
    pub initial_accumulator_value: f32,
    pub eps: f32,
    step: u64,
    sum: Slots,
}

impl Adagrad {
    /// PyTorch's defaults: no decay, accumulator starting at 0, eps 1e-10.
    pub fn new(lr: f64) -> Self {
        Adagrad {
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            step: 0,
            sum: Slots::new("sum"),
        }
    }
    pub fn lr_decay(mut self, lr_decay: f64) -> Self {
        self.lr_decay = lr_decay;
        self
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }
    pub fn initial_accumulator_value(mut self, value: f32) -> Self {
        self.initial_accumulator_value = value;
        self
    }
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }
}

impl LearningRate for Adagrad {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

impl Optimizer for Adagrad {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) {
        self.step += 1;
        let clr = (self.lr / (1.0 + (self.step - 1) as f64 * self.lr_decay)) as f32;
        let (wd, eps, init) = (self.weight_decay, self.eps, self.initial_accumulator_value);
        let sums = &mut self.sum;
        for_each_parameter(model, |i, p| {
            let n = p.len();
            let sum = sums.get(i, n, || vec![init; n]);
            for ((w, &g), s) in p.value.iter_mut().zip(&p.grad).zip(sum.iter_mut()) {
                let g = g + wd * *w;
                *s += g * g;
                *w -= clr * g / (s.sqrt() + eps);
            }
        });
    }

    fn state(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        export_step(self.step, &mut out);
        self.sum.export(&mut out);
        out
    }

    fn load_state(&mut self, state: &[NamedTensor]) -> Result<(), OptimizerStateError> {
        self.step = import_step(state)?;
        self.sum.import(state)
    }
}
