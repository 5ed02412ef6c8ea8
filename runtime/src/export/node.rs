//! What a module says about itself for export: its kind, hyperparameters and weights,
//! borrowed. Every runtime layer answers [`Module::describe`](crate::Module::describe); a
//! generated model answers with a [`Node::Sequence`] of its layers and their widths, which is
//! where width-generic layers (activations, BatchNorm, ...) learn the widths they run at.

use crate::layers::{Approximate, Conv2dGeometry, PoolGeometry};

/// One module, as the exporter sees it.
#[derive(Clone, Debug)]
pub enum Node<'a> {
    /// `weight` is `[out, in]` row-major.
    Linear {
        in_features: usize,
        out_features: usize,
        weight: &'a [f32],
        bias: Option<&'a [f32]>,
    },
    Activation(Activation),
    Softmax,
    LogSoftmax,
    /// Eval form: the running statistics, not the batch's.
    BatchNorm {
        channels: usize,
        eps: f32,
        weight: &'a [f32],
        bias: &'a [f32],
        running_mean: &'a [f32],
        running_var: &'a [f32],
    },
    LayerNorm {
        normalized: usize,
        eps: f32,
        weight: &'a [f32],
        bias: &'a [f32],
    },
    /// Dropout in eval mode and Flatten: the values pass unchanged.
    Identity,
    /// `weight` is `[C_out, C_in, kh, kw]` row-major.
    Conv2d {
        geometry: Conv2dGeometry,
        weight: &'a [f32],
        bias: Option<&'a [f32]>,
    },
    MaxPool2d(PoolGeometry),
    AvgPool2d(PoolGeometry),
    /// To 1×1: each channel of `IN / OUT` values becomes its mean.
    AdaptiveAvgPool2d,
    /// `weight` is `[num, dim]` row-major.
    Embedding {
        num: usize,
        dim: usize,
        weight: &'a [f32],
    },
    /// A model: its layers in forward order.
    Sequence {
        type_name: &'static str,
        layers: Vec<Child<'a>>,
    },
    /// `x + body(x)`.
    Residual(Box<Node<'a>>),
    /// A module the exporter cannot write: export fails naming it, never writes a wrong file.
    Unsupported {
        type_name: &'static str,
    },
}

/// A layer of a [`Node::Sequence`]: its state-dict key, the widths it runs at, and itself.
#[derive(Clone, Debug)]
pub struct Child<'a> {
    pub key: &'static str,
    pub input: usize,
    pub output: usize,
    pub node: Node<'a>,
}

/// The elementwise functions the exporter knows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    ReLU,
    LeakyReLU { negative_slope: f32 },
    Sigmoid,
    Tanh,
    GELU(Approximate),
    SiLU,
    Hardswish,
}
