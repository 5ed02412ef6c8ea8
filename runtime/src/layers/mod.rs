//! One file per layer family; each holds a layer's forward and backward side by side.

mod batchnorm;
mod dropout;
mod elementwise;
mod flatten;
mod layernorm;
mod linear;
mod softmax;

pub use batchnorm::{BatchNorm, BatchNorm1d, BatchNorm2d};
pub use dropout::Dropout;
pub use elementwise::{
    Approximate, Elementwise, ElementwiseFn, GELU, GELUFn, LeakyReLU, LeakyReLUFn, ReLU, ReLUFn,
    Sigmoid, SigmoidFn, Tanh, TanhFn,
};
pub use flatten::Flatten;
pub use layernorm::LayerNorm;
pub use linear::Linear;
pub(crate) use softmax::log_softmax_row;
pub use softmax::{LogSoftmax, Softmax};
