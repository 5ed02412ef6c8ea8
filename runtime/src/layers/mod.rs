//! One file per layer family; each holds a layer's forward and backward side by side.

mod batchnorm;
mod conv;
mod dropout;
mod elementwise;
mod embedding;
mod flatten;
pub mod geometry;
mod layernorm;
mod linear;
mod pool;
mod residual;
mod softmax;
mod swish;

pub(crate) use batchnorm::one_value_per_channel;
pub use batchnorm::{BatchNorm, BatchNorm1d, BatchNorm2d};
pub use conv::Conv2d;
pub use dropout::Dropout;
pub use elementwise::{
    Approximate, Elementwise, ElementwiseFn, GELU, GELUFn, LeakyReLU, LeakyReLUFn, ReLU, ReLUFn,
    Sigmoid, SigmoidFn, Tanh, TanhFn,
};
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use geometry::{Conv2dGeometry, GeometryError, PoolGeometry, SizeError, Window};
pub use layernorm::LayerNorm;
pub use linear::Linear;
pub use pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
pub use residual::Residual;
pub(crate) use softmax::log_softmax_row;
pub use softmax::{LogSoftmax, Softmax};
pub use swish::{Hardswish, HardswishFn, SiLU, SiLUFn};
