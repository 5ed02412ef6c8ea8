//! Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.

use super::for_each_parameter;
use crate::module::{Module, Parameter, Visitor};

/// Scales all gradients so that their joint L2 norm is at most `max_norm`; returns the norm
/// before clipping, as PyTorch does.
pub fn clip_grad_norm<M: Module + ?Sized>(model: &mut M, max_norm: f32) -> f32 {
    struct SumSquares(f64);
    impl Visitor for SumSquares {
        fn parameter(&mut self, _: &str, p: &Parameter) {
            self.0 += p
                .grad
                .iter()
                .map(|&g| f64::from(g) * f64::from(g))
                .sum::<f64>();
        }
    }
    let mut sum = SumSquares(0.0);
    model.visit(&mut sum);
    let total = sum.0.sqrt() as f32;
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        for_each_parameter(model, |_, p| p.grad.iter_mut().for_each(|g| *g *= coef));
    }
    total
}

/// Clamps every gradient value into `[-clip, clip]`.
pub fn clip_grad_value<M: Module + ?Sized>(model: &mut M, clip: f32) {
    for_each_parameter(model, |_, p| {
        p.grad.iter_mut().for_each(|g| *g = g.clamp(-clip, clip))
    });
}

/// Multiplies every gradient by `factor` (used to average accumulated gradients).
pub fn scale_grad<M: Module + ?Sized>(model: &mut M, factor: f32) {
    for_each_parameter(model, |_, p| p.grad.iter_mut().for_each(|g| *g *= factor));
}
