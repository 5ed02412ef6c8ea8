//! Models exported by `staticnn::export`, included as a firmware crate would include them:
//! `#![no_std]`, no dependencies, no `unsafe`. The files in `generated/` are written by
//! `tests/export.rs` and `tests/export_int8.rs` of the `staticnn` package from the weights in
//! `weights/`; those tests fail (and rewrite them) when one is stale, and check every output
//! against the runtime's `model.forward` (int8: the fake-quantized model's).

#![no_std]
#![forbid(unsafe_code)]

/// The README's binary classifier, 2 → 16 → 16 → 1, trained on two moons.
pub mod binary_classifier {
    include!("generated/binary_classifier.rs");
}

/// The binary classifier with int8 weights (`staticnn::export::Weights::Int8`).
pub mod binary_classifier_int8 {
    include!("generated/binary_classifier_int8.rs");
}

/// The MLP below with int8 Linear weights.
pub mod mlp_int8 {
    include!("generated/mlp_int8.rs");
}

/// An MLP with every row-wise layer: GELU (both forms), SiLU, Tanh, Sigmoid, LeakyReLU,
/// Hardswish, LayerNorm, BatchNorm1d, Dropout, a residual block, a nested model, LogSoftmax.
pub mod mlp {
    include!("generated/mlp.rs");
}

/// A CNN: Conv2d (padding, stride, no bias), BatchNorm2d, max, average and adaptive
/// pooling, Flatten, Linear, Softmax.
pub mod cnn {
    include!("generated/cnn.rs");
}

/// Conv2d with per-axis stride, padding and dilation; max pooling in ceil mode; average
/// pooling with and without the padding counted.
pub mod windows {
    include!("generated/windows.rs");
}

/// Embedding → Flatten → Linear → GELU → Linear.
pub mod embedding {
    include!("generated/embedding.rs");
}
