//! RMSprop (momentum, centered, weight decay), as `torch.optim.RMSprop`.

use super::{
    LearningRate, Optimizer, OptimizerStateError, Slots, export_step, for_each_parameter,
    import_step,
};
use crate::module::Module;
use crate::state::NamedTensor;

#[derive(Clone, Debug)]
pub struct RMSprop {
    pub lr: f64,
    pub alpha: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub momentum: f32,
    pub centered: bool,
    step: u64,
    square_avg: Slots,
    grad_avg: Slots,
    momentum_buffer: Slots,
}

impl RMSprop {
    /// PyTorch's defaults: alpha 0.99, eps 1e-8, no momentum, not centered.
    pub fn new(lr: f64) -> Self {
        RMSprop {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            step: 0,
            square_avg: Slots::new("square_avg"),
            grad_avg: Slots::new("grad_avg"),
            momentum_buffer: Slots::new("momentum_buffer"),
        }
    }
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }
}

impl LearningRate for RMSprop {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

impl Optimizer for RMSprop {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) {
        self.step += 1;
        let lr = self.lr as f32;
        let (alpha, eps, wd, momentum, centered) = (
            self.alpha,
            self.eps,
            self.weight_decay,
            self.momentum,
            self.centered,
        );
        let (sq, ga, mb) = (
            &mut self.square_avg,
            &mut self.grad_avg,
            &mut self.momentum_buffer,
        );
        for_each_parameter(model, |i, p| {
            let n = p.len();
            let s = sq.get(i, n, || vec![0.0; n]);
            let mut gavg = centered.then(|| ga.get(i, n, || vec![0.0; n]));
            let mut buf = (momentum > 0.0).then(|| mb.get(i, n, || vec![0.0; n]));
            for k in 0..n {
                let g = p.grad[k] + wd * p.value[k];
                s[k] = s[k] * alpha + (1.0 - alpha) * g * g;
                let avg = match gavg.as_deref_mut() {
                    Some(gavg) => {
                        gavg[k] += (g - gavg[k]) * (1.0 - alpha);
                        (s[k] - gavg[k] * gavg[k]).sqrt() + eps
                    }
                    None => s[k].sqrt() + eps,
                };
                match buf.as_deref_mut() {
                    Some(buf) => {
                        buf[k] = buf[k] * momentum + g / avg;
                        p.value[k] -= lr * buf[k];
                    }
                    None => p.value[k] -= lr * g / avg,
                }
            }
        });
    }

    fn state(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        export_step(self.step, &mut out);
        self.square_avg.export(&mut out);
        self.grad_avg.export(&mut out);
        self.momentum_buffer.export(&mut out);
        out
    }

    fn load_state(&mut self, state: &[NamedTensor]) -> Result<(), OptimizerStateError> {
        self.step = import_step(state)?;
        self.square_avg.import(state)?;
        self.grad_avg.import(state)?;
        self.momentum_buffer.import(state)
    }
}
