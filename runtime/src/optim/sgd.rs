//! SGD with momentum, dampening, Nesterov and weight decay, as `torch.optim.SGD`.

use super::{LearningRate, Optimizer, OptimizerStateError, Slots, for_each_parameter};
use crate::module::Module;
use crate::state::NamedTensor;

#[derive(Clone, Debug)]
pub struct SGD {
    pub lr: f64,
    pub momentum: f32,
    pub dampening: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
    momentum_buffer: Slots,
}

impl SGD {
    /// Plain SGD; set the other hyperparameters with the builder methods.
    pub fn new(lr: f64) -> Self {
        SGD {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            momentum_buffer: Slots::new("momentum_buffer"),
        }
    }
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }
    pub fn dampening(mut self, dampening: f32) -> Self {
        self.dampening = dampening;
        self
    }
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }
}

impl LearningRate for SGD {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

impl Optimizer for SGD {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) {
        let lr = self.lr as f32;
        let (momentum, dampening, nesterov, wd) = (
            self.momentum,
            self.dampening,
            self.nesterov,
            self.weight_decay,
        );
        let buffers = &mut self.momentum_buffer;
        for_each_parameter(model, |i, p| {
            if momentum == 0.0 {
                for (w, &g) in p.value.iter_mut().zip(&p.grad) {
                    let g = g + wd * *w;
                    *w -= lr * g;
                }
                return;
            }
            let mut first = false;
            let buf = buffers.get(i, p.len(), || {
                first = true;
                vec![0.0; p.len()]
            });
            for ((w, &g), b) in p.value.iter_mut().zip(&p.grad).zip(buf.iter_mut()) {
                let g = g + wd * *w;
                // The first step takes the gradient as the buffer, undamped.
                *b = if first {
                    g
                } else {
                    momentum * *b + (1.0 - dampening) * g
                };
                let d = if nesterov { g + momentum * *b } else { *b };
                *w -= lr * d;
            }
        });
    }

    fn state(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        self.momentum_buffer.export(&mut out);
        out
    }

    fn load_state(&mut self, state: &[NamedTensor]) -> Result<(), OptimizerStateError> {
        self.momentum_buffer.import(state)
    }
}
