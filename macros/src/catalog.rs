#![allow(clippy::upper_case_acronyms)] // the kinds are spelled as PyTorch spells them
//! The built-in layer kinds: their hyperparameters (names, types, defaults, valid ranges, as
//! PyTorch's constructors have them) and the runtime type each becomes.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Linear,
    ReLU,
    LeakyReLU,
    Sigmoid,
    Tanh,
    GELU,
    Softmax,
    LogSoftmax,
    Dropout,
    BatchNorm1d,
    BatchNorm2d,
    LayerNorm,
    Flatten,
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    AdaptiveAvgPool2d,
    Embedding,
}

pub const ALL: [Kind; 18] = [
    Kind::Linear,
    Kind::ReLU,
    Kind::LeakyReLU,
    Kind::Sigmoid,
    Kind::Tanh,
    Kind::GELU,
    Kind::Softmax,
    Kind::LogSoftmax,
    Kind::Dropout,
    Kind::BatchNorm1d,
    Kind::BatchNorm2d,
    Kind::LayerNorm,
    Kind::Flatten,
    Kind::Conv2d,
    Kind::MaxPool2d,
    Kind::AvgPool2d,
    Kind::AdaptiveAvgPool2d,
    Kind::Embedding,
];

#[derive(Clone, Copy, Debug)]
pub enum ParamType {
    /// A positive width.
    Width,
    /// A float in a range; `open_max` excludes the upper bound.
    Float {
        min: f64,
        max: f64,
        open_min: bool,
    },
    Bool,
    Choice(&'static [&'static str]),
    /// An integer or an `(h, w)` pair, positive unless `zero_ok`.
    Pair {
        zero_ok: bool,
    },
}

#[derive(Clone, Copy, Debug)]
pub enum Fallback {
    Required,
    /// Inferred from the shapes when not given; checked against them when given.
    Inferred,
    Float(f64),
    Bool(bool),
    Str(&'static str),
    /// The same value for height and width.
    Pair(usize),
}

#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub ty: ParamType,
    pub default: Fallback,
}

const PROBABILITY: ParamType = ParamType::Float {
    min: 0.0,
    max: 1.0,
    open_min: false,
};
const POSITIVE: ParamType = ParamType::Float {
    min: 0.0,
    max: f64::INFINITY,
    open_min: true,
};
const PAIR: ParamType = ParamType::Pair { zero_ok: false };
const PAIR_OR_ZERO: ParamType = ParamType::Pair { zero_ok: true };
const ANY_FLOAT: ParamType = ParamType::Float {
    min: f64::NEG_INFINITY,
    max: f64::INFINITY,
    open_min: false,
};

impl Kind {
    pub fn from_name(name: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| k.name() == name)
    }

    /// A known kind whose name differs only in case (`Relu` for `ReLU`).
    pub fn near(name: &str) -> Option<Kind> {
        ALL.into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Linear => "Linear",
            Kind::ReLU => "ReLU",
            Kind::LeakyReLU => "LeakyReLU",
            Kind::Sigmoid => "Sigmoid",
            Kind::Tanh => "Tanh",
            Kind::GELU => "GELU",
            Kind::Softmax => "Softmax",
            Kind::LogSoftmax => "LogSoftmax",
            Kind::Dropout => "Dropout",
            Kind::BatchNorm1d => "BatchNorm1d",
            Kind::BatchNorm2d => "BatchNorm2d",
            Kind::LayerNorm => "LayerNorm",
            Kind::Flatten => "Flatten",
            Kind::Conv2d => "Conv2d",
            Kind::MaxPool2d => "MaxPool2d",
            Kind::AvgPool2d => "AvgPool2d",
            Kind::AdaptiveAvgPool2d => "AdaptiveAvgPool2d",
            Kind::Embedding => "Embedding",
        }
    }

    /// Parameters in positional order. Those with `Default::Inferred` or `Required` widths
    /// are the shape parameters, which `#[derive(Module)]` reads from the field's type instead.
    pub fn params(self) -> &'static [Param] {
        use Fallback as D;
        use ParamType as T;
        match self {
            Kind::Linear => &[
                Param {
                    name: "in_features",
                    ty: T::Width,
                    default: D::Inferred,
                },
                Param {
                    name: "out_features",
                    ty: T::Width,
                    default: D::Required,
                },
                Param {
                    name: "bias",
                    ty: T::Bool,
                    default: D::Bool(true),
                },
            ],
            Kind::LeakyReLU => &[Param {
                name: "negative_slope",
                ty: ANY_FLOAT,
                default: D::Float(0.01),
            }],
            Kind::GELU => &[Param {
                name: "approximate",
                ty: T::Choice(&["none", "tanh"]),
                default: D::Str("none"),
            }],
            Kind::Dropout => &[Param {
                name: "p",
                ty: PROBABILITY,
                default: D::Float(0.5),
            }],
            Kind::BatchNorm1d | Kind::BatchNorm2d => &[
                Param {
                    name: "num_features",
                    ty: T::Width,
                    default: D::Inferred,
                },
                Param {
                    name: "eps",
                    ty: POSITIVE,
                    default: D::Float(1e-5),
                },
                Param {
                    name: "momentum",
                    ty: PROBABILITY,
                    default: D::Float(0.1),
                },
            ],
            Kind::LayerNorm => &[
                Param {
                    name: "normalized_shape",
                    ty: T::Width,
                    default: D::Inferred,
                },
                Param {
                    name: "eps",
                    ty: POSITIVE,
                    default: D::Float(1e-5),
                },
            ],
            Kind::Conv2d => &[
                Param {
                    name: "in_channels",
                    ty: T::Width,
                    default: D::Inferred,
                },
                Param {
                    name: "out_channels",
                    ty: T::Width,
                    default: D::Required,
                },
                Param {
                    name: "kernel_size",
                    ty: PAIR,
                    default: D::Required,
                },
                Param {
                    name: "stride",
                    ty: PAIR,
                    default: D::Pair(1),
                },
                Param {
                    name: "padding",
                    ty: PAIR_OR_ZERO,
                    default: D::Pair(0),
                },
                Param {
                    name: "dilation",
                    ty: PAIR,
                    default: D::Pair(1),
                },
                Param {
                    name: "bias",
                    ty: T::Bool,
                    default: D::Bool(true),
                },
            ],
            Kind::MaxPool2d | Kind::AvgPool2d => &[
                Param {
                    name: "kernel_size",
                    ty: PAIR,
                    default: D::Required,
                },
                Param {
                    name: "stride",
                    ty: PAIR,
                    default: D::Inferred,
                },
            ],
            Kind::AdaptiveAvgPool2d => &[Param {
                name: "output_size",
                ty: T::Width,
                default: D::Required,
            }],
            Kind::Embedding => &[
                Param {
                    name: "num_embeddings",
                    ty: T::Width,
                    default: D::Required,
                },
                Param {
                    name: "embedding_dim",
                    ty: T::Width,
                    default: D::Required,
                },
            ],
            Kind::ReLU
            | Kind::Sigmoid
            | Kind::Tanh
            | Kind::Softmax
            | Kind::LogSoftmax
            | Kind::Flatten => &[],
        }
    }
}

impl Param {
    /// Widths that the shapes decide (and a derive reads from the field's type).
    pub fn is_shape(&self) -> bool {
        matches!(self.ty, ParamType::Width) && matches!(self.default, Fallback::Inferred)
            || matches!(self.name, "out_features")
    }
}

/// Other spellings users write for a parameter (DESIGN.md writes `kernel = 3`).
pub fn alias(name: &str) -> &str {
    match name {
        "kernel" => "kernel_size",
        other => other,
    }
}

impl Kind {
    /// Kinds whose geometry only `model!` can compute; a derive cannot hold them.
    pub fn needs_model_macro(self) -> bool {
        matches!(
            self,
            Kind::Conv2d | Kind::MaxPool2d | Kind::AvgPool2d | Kind::Embedding
        )
    }
}
