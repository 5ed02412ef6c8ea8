//! The smooth ReLUs of mobile and efficient nets: SiLU (swish) and Hardswish, as PyTorch
//! defines them, value and derivative side by side.

use super::elementwise::{Elementwise, ElementwiseFn};
use crate::export::Activation;

/// `x · σ(x)`, whose derivative is `σ(x) (1 + x (1 − σ(x)))`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SiLUFn;
impl ElementwiseFn for SiLUFn {
    fn activation(&self) -> Option<Activation> {
        Some(Activation::SiLU)
    }
    fn value(&self, x: f32) -> f32 {
        x * sigmoid(x)
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        let s = sigmoid(x);
        s * (1.0 + x * (1.0 - s))
    }
}

fn sigmoid(x: f32) -> f32 {
    // Split by sign so that `exp` never overflows.
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `x · relu6(x + 3) / 6`; the derivative is PyTorch's: 0 up to −3, `x/3 + 1/2` strictly
/// between −3 and 3, 1 from 3 on (at the kinks, the one-sided slope of the flat side).
#[derive(Clone, Copy, Debug, Default)]
pub struct HardswishFn;
impl ElementwiseFn for HardswishFn {
    fn activation(&self) -> Option<Activation> {
        Some(Activation::Hardswish)
    }
    fn value(&self, x: f32) -> f32 {
        x * (x + 3.0).clamp(0.0, 6.0) / 6.0
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        if x <= -3.0 {
            0.0
        } else if x < 3.0 {
            x / 3.0 + 0.5
        } else {
            1.0
        }
    }
}

/// PyTorch's `nn.SiLU()`.
pub type SiLU = Elementwise<SiLUFn>;
/// PyTorch's `nn.Hardswish()`.
pub type Hardswish = Elementwise<HardswishFn>;

impl SiLU {
    pub fn new() -> Self {
        Self::with(SiLUFn)
    }
}
impl Hardswish {
    pub fn new() -> Self {
        Self::with(HardswishFn)
    }
}
