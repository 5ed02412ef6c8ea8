//! The built-in layer kinds, each in one entry: its PyTorch name, its hyperparameters (names,
//! types, defaults, valid ranges, as PyTorch's constructors have them) and its rule, which
//! turns an input shape into the runtime type, the constructor and the output shape. Adding a
//! kind is adding an entry to [`KINDS`].

use quote::quote;
use staticnn_geometry::{Window, volume};

use crate::dims::{Dim, Dims, unsuffixed};
use crate::layer::{Built, Layer};

pub struct Kind {
    pub name: &'static str,
    /// Parameters in positional order. Widths with `Inferred` or `Required` defaults are the
    /// shape parameters, which `#[derive(Module)]` reads from the field's type instead.
    pub params: &'static [Param],
    /// The shape rule: type, constructor and output from the input (`None` after an error).
    pub build: fn(&mut Layer<'_>) -> Option<Built>,
    /// Image layers hold a geometry only `model!` computes; a derive cannot hold them.
    pub derivable: bool,
    /// Appended to "`Kind` needs `param`" when a required argument is missing.
    pub example: &'static str,
}

#[derive(Clone, Copy, Debug)]
pub enum ParamType {
    /// A positive width: an integer literal or a const expression (`H`, `2 * H`).
    Width,
    /// A positive integer literal (an image size the macro computes with).
    Size,
    /// A float in a range; `open_min` excludes the lower bound.
    Float {
        min: f64,
        max: f64,
        open_min: bool,
    },
    Bool,
    Choice(&'static [&'static str]),
    /// The dimension of a `[N, C]` batch a softmax runs over: `1` or `-1`, PyTorch's `dim`
    /// for the features (staticnn's Softmax runs over each row's values).
    FeatureDim,
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
    /// Given by keyword only, because PyTorch's constructor has another parameter at this
    /// position (named here), which staticnn does not take: read by position, the value
    /// would silently mean something else than in the PyTorch line it was ported from.
    pub pytorch_at_position: Option<&'static str>,
}

impl Param {
    /// Widths that the shapes decide (and a derive reads from the field's type).
    pub fn is_shape(&self) -> bool {
        matches!(self.ty, ParamType::Width | ParamType::Size)
            && matches!(self.default, Fallback::Inferred)
            || self.name == "out_features"
    }
}

/// Other spellings users write for a parameter (DESIGN.md writes `kernel = 3`).
pub fn alias(name: &str) -> &str {
    match name {
        "kernel" => "kernel_size",
        other => other,
    }
}

const fn param(name: &'static str, ty: ParamType, default: Fallback) -> Param {
    Param {
        name,
        ty,
        default,
        pytorch_at_position: None,
    }
}

/// A parameter given by keyword only: PyTorch's constructor has `pytorch` at its position.
const fn keyword_only(
    name: &'static str,
    ty: ParamType,
    default: Fallback,
    pytorch: &'static str,
) -> Param {
    Param {
        pytorch_at_position: Some(pytorch),
        ..param(name, ty, default)
    }
}

/// Layers of `torch.nn` that staticnn has no kind for, named as unsupported rather than
/// answered with the nearest kind's name (`ELU` is not `GELU`, nor `ReLU6` `ReLU`).
pub const PYTORCH_ONLY: &[&str] = &[
    "ELU",
    "SELU",
    "CELU",
    "PReLU",
    "RReLU",
    "ReLU6",
    "Softplus",
    "Softsign",
    "Softshrink",
    "Hardshrink",
    "Tanhshrink",
    "Hardtanh",
    "Hardsigmoid",
    "Mish",
    "LogSigmoid",
    "Threshold",
    "GLU",
    "Softmin",
    "Softmax2d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "GroupNorm",
    "LocalResponseNorm",
    "RMSNorm",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "Conv1d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "MaxPool1d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool3d",
    "LPPool2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "Upsample",
    "Unflatten",
    "Bilinear",
    "EmbeddingBag",
    "RNN",
    "LSTM",
    "GRU",
    "Transformer",
    "MultiheadAttention",
    "ZeroPad2d",
    "ConstantPad2d",
    "ReflectionPad2d",
    "ReplicationPad2d",
];

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
const ANY_FLOAT: ParamType = ParamType::Float {
    min: f64::NEG_INFINITY,
    max: f64::INFINITY,
    open_min: false,
};
const PAIR: ParamType = ParamType::Pair { zero_ok: false };
const PAIR_OR_ZERO: ParamType = ParamType::Pair { zero_ok: true };
use Fallback::{Inferred, Required};
use ParamType::{Bool, Choice, Size, Width};

/// PyTorch's `inplace` flag, taken so that a ported line compiles, and without effect: in
/// place or not the values are the same, and each layer keeps what its backward needs.
const INPLACE: Param = param("inplace", Bool, Fallback::Bool(false));

/// Softmax's and LogSoftmax's `dim`, which ported code writes (PyTorch warns without it):
/// the features, the only dimension they run over here; omitted, the same.
const SOFTMAX_DIM: Param = param("dim", ParamType::FeatureDim, Inferred);

/// A kind without parameters that keeps the shape; `build` names its runtime type.
const fn activation(name: &'static str, build: fn(&mut Layer<'_>) -> Option<Built>) -> Kind {
    Kind {
        name,
        params: &[],
        build,
        derivable: true,
        example: "",
    }
}

/// [`activation`] for a PyTorch activation with an `inplace` flag ([`INPLACE`]).
const fn activation_inplace(
    name: &'static str,
    build: fn(&mut Layer<'_>) -> Option<Built>,
) -> Kind {
    Kind {
        params: &[INPLACE],
        ..activation(name, build)
    }
}

pub static KINDS: &[Kind] = &[
    Kind {
        name: "Linear",
        params: &[
            param("in_features", Width, Inferred),
            param("out_features", Width, Required),
            param("bias", Bool, Fallback::Bool(true)),
        ],
        build: linear,
        derivable: true,
        example: " (for example `Linear(16)`)",
    },
    activation_inplace("ReLU", |l| Some(l.activation("ReLU"))),
    Kind {
        name: "LeakyReLU",
        params: &[
            param("negative_slope", ANY_FLOAT, Fallback::Float(0.01)),
            INPLACE,
        ],
        build: |l| {
            let slope = l.values.float("negative_slope");
            Some(l.same(
                quote!(::staticnn::LeakyReLU),
                quote!(<::staticnn::LeakyReLU>::new(#slope)),
            ))
        },
        derivable: true,
        example: "",
    },
    activation("Sigmoid", |l| Some(l.activation("Sigmoid"))),
    activation("Tanh", |l| Some(l.activation("Tanh"))),
    Kind {
        name: "GELU",
        params: &[param(
            "approximate",
            Choice(&["none", "tanh"]),
            Fallback::Str("none"),
        )],
        build: |l| {
            let approx = match l.values.string("approximate").as_deref() {
                Some("tanh") => quote!(Tanh),
                _ => quote!(None),
            };
            Some(l.same(
                quote!(::staticnn::GELU),
                quote!(<::staticnn::GELU>::new(::staticnn::Approximate::#approx)),
            ))
        },
        derivable: true,
        example: "",
    },
    activation_inplace("SiLU", |l| Some(l.activation("SiLU"))),
    activation_inplace("Hardswish", |l| Some(l.activation("Hardswish"))),
    Kind {
        params: &[SOFTMAX_DIM],
        ..activation("Softmax", |l| {
            l.flat()?;
            Some(l.activation("Softmax"))
        })
    },
    Kind {
        params: &[SOFTMAX_DIM],
        ..activation("LogSoftmax", |l| {
            l.flat()?;
            Some(l.activation("LogSoftmax"))
        })
    },
    Kind {
        name: "Dropout",
        params: &[param("p", PROBABILITY, Fallback::Float(0.5)), INPLACE],
        build: |l| {
            let p = l.values.float("p");
            Some(l.same(
                quote!(::staticnn::Dropout),
                quote!(<::staticnn::Dropout>::new(#p, rng)),
            ))
        },
        derivable: true,
        example: "",
    },
    Kind {
        name: "BatchNorm1d",
        params: BATCH_NORM,
        build: |l| batch_norm(l, "[C] or [C, L]", |n| n <= 2),
        derivable: true,
        example: "",
    },
    Kind {
        name: "BatchNorm2d",
        params: BATCH_NORM,
        build: |l| batch_norm(l, "[C, H, W]", |n| n == 3),
        derivable: true,
        example: "",
    },
    Kind {
        name: "LayerNorm",
        params: &[
            param("normalized_shape", Width, Inferred),
            param("eps", POSITIVE, Fallback::Float(1e-5)),
        ],
        build: |l| {
            let last = l.input.0.last().expect("shapes are never empty").clone();
            l.given_matches("normalized_shape", &last);
            let (d, eps) = (last.tokens(), l.values.float("eps"));
            let ty = quote!(::staticnn::LayerNorm<#d>);
            Some(l.same(ty.clone(), quote!(<#ty>::new(#eps))))
        },
        derivable: true,
        example: "",
    },
    activation("Flatten", |l| {
        let Ok(flat) = l.input.flat() else {
            l.error(format!(
                "{} flattens {}, whose size overflows usize",
                l.this, l.input
            ));
            return None;
        };
        let ty = quote!(::staticnn::Flatten);
        Some(Built {
            init: quote!(<#ty>::new()),
            ty,
            output: Dims::one(flat),
        })
    }),
    Kind {
        name: "Conv2d",
        params: &[
            param("in_channels", Size, Inferred),
            param("out_channels", Size, Required),
            param("kernel_size", PAIR, Required),
            param("stride", PAIR, Fallback::Pair(1)),
            param("padding", PAIR_OR_ZERO, Fallback::Pair(0)),
            param("dilation", PAIR, Fallback::Pair(1)),
            keyword_only("bias", Bool, Fallback::Bool(true), "groups"),
        ],
        build: conv2d,
        derivable: false,
        example: " (for example `Conv2d(8, kernel = 3)`)",
    },
    Kind {
        name: "MaxPool2d",
        params: &[
            param("kernel_size", PAIR, Required),
            param("stride", PAIR, Inferred),
            param("padding", PAIR_OR_ZERO, Fallback::Pair(0)),
            param("dilation", PAIR, Fallback::Pair(1)),
            keyword_only("ceil_mode", Bool, Fallback::Bool(false), "return_indices"),
        ],
        build: |l| pool(l, "MaxPool2d"),
        derivable: false,
        example: "",
    },
    Kind {
        name: "AvgPool2d",
        params: &[
            param("kernel_size", PAIR, Required),
            param("stride", PAIR, Inferred),
            param("padding", PAIR_OR_ZERO, Fallback::Pair(0)),
            param("ceil_mode", Bool, Fallback::Bool(false)),
            param("count_include_pad", Bool, Fallback::Bool(true)),
        ],
        build: |l| pool(l, "AvgPool2d"),
        derivable: false,
        example: "",
    },
    Kind {
        name: "AdaptiveAvgPool2d",
        // `1` or PyTorch's `(1, 1)`.
        params: &[param("output_size", PAIR, Required)],
        build: |l| {
            let (c, _, _) = l.image()?;
            if l.values.pair("output_size") != Some((1, 1)) {
                let this = l.this;
                l.error(format!(
                    "{this}: only `output_size = 1` or `(1, 1)` (global average pooling) is supported"
                ));
                return None;
            }
            let ty = quote!(::staticnn::AdaptiveAvgPool2d);
            Some(Built {
                init: quote!(<#ty>::new()),
                ty,
                output: l.known(&[c, 1, 1])?,
            })
        },
        derivable: false,
        example: "",
    },
    Kind {
        name: "Embedding",
        params: &[
            param("num_embeddings", Size, Required),
            param("embedding_dim", Size, Required),
        ],
        build: |l| {
            let length = match l.input.numbers().as_deref() {
                Some(&[n]) => n,
                _ => {
                    let (this, prev, input) = (l.this, l.prev, l.input);
                    l.error(format!(
                        "{this} needs a flat input [L] of indices, L an integer, but {prev} produces {input}"
                    ));
                    return None;
                }
            };
            let num = l.values.int("num_embeddings")?;
            let dim = l.values.int("embedding_dim")?;
            let output = l.known(&[length, dim])?;
            let (num, dim) = (unsuffixed(num), unsuffixed(dim));
            let ty = quote!(::staticnn::Embedding<#num, #dim>);
            Some(Built {
                init: quote!(<#ty>::new(rng)),
                ty,
                output,
            })
        },
        derivable: false,
        example: "",
    },
];

const BATCH_NORM: &[Param] = &[
    param("num_features", Width, Inferred),
    param("eps", POSITIVE, Fallback::Float(1e-5)),
    param("momentum", PROBABILITY, Fallback::Float(0.1)),
];

impl Kind {
    pub fn from_name(name: &str) -> Option<&'static Kind> {
        KINDS.iter().find(|k| k.name == name)
    }

    /// The known kind nearest to a misspelt name (`Lienar` → `Linear`, `Relu` → `ReLU`), if
    /// one is near enough to be what was meant.
    pub fn nearest(name: &str) -> Option<&'static Kind> {
        let lower = name.to_ascii_lowercase();
        KINDS
            .iter()
            // Optimal string alignment: Levenshtein with a swap of neighbours counting as one edit.
            .map(|k| {
                (
                    strsim::osa_distance(&lower, &k.name.to_ascii_lowercase()),
                    k,
                )
            })
            .filter(|(d, k)| *d <= (k.name.len() / 3).max(1))
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k)
    }
}

fn linear(l: &mut Layer<'_>) -> Option<Built> {
    let input = l.flat()?;
    l.given_matches("in_features", &input);
    let out = match (l.declared_out.clone(), l.derived) {
        (Some(d), _) => d,
        (None, false) => l.values.dim("out_features")?,
        (None, true) => {
            l.error("write a `Linear` field with its widths, `Linear<IN, OUT>`");
            return None;
        }
    };
    let (a, b) = (input.tokens(), out.tokens());
    let ty = quote!(::staticnn::Linear<#a, #b>);
    let init = if l.values.bool("bias") {
        quote!(<#ty>::new(rng))
    } else {
        quote!(<#ty>::without_bias(rng))
    };
    Some(Built {
        ty,
        init,
        output: Dims::one(out),
    })
}

fn batch_norm(l: &mut Layer<'_>, wants: &str, rank_ok: fn(usize) -> bool) -> Option<Built> {
    if !rank_ok(l.input.0.len()) {
        let (this, prev, input) = (l.this, l.prev, l.input);
        l.error(format!(
            "{this} needs an input of shape {wants} but {prev} produces {input}"
        ));
        return None;
    }
    let channels: Dim = l.input.0[0].clone();
    l.given_matches("num_features", &channels);
    let c = channels.tokens();
    let (eps, momentum) = (l.values.float("eps"), l.values.float("momentum"));
    let ty = quote!(::staticnn::BatchNorm<#c>);
    Some(l.same(ty.clone(), quote!(<#ty>::new(#eps, #momentum))))
}

/// `(height, width)` windows of a conv or pool.
fn windows(l: &Layer<'_>, kernel: (usize, usize), ceil_mode: bool) -> Option<(Window, Window)> {
    let stride = l.values.pair("stride").unwrap_or(kernel);
    let padding = l.values.pair("padding")?;
    let dilation = l.values.pair("dilation").unwrap_or((1, 1));
    let axis = |i: fn((usize, usize)) -> usize| Window {
        kernel: i(kernel),
        stride: i(stride),
        padding: i(padding),
        dilation: i(dilation),
        ceil_mode,
    };
    Some((axis(|p| p.0), axis(|p| p.1)))
}

fn pair_tokens(w: (Window, Window), f: fn(&Window) -> usize) -> proc_macro2::TokenStream {
    let (a, b) = (unsuffixed(f(&w.0)), unsuffixed(f(&w.1)));
    quote!((#a, #b))
}

fn conv2d(l: &mut Layer<'_>) -> Option<Built> {
    let (c, h, w) = l.image()?;
    l.given_matches("in_channels", &Dim::Known(c));
    let out_c = l.values.int("out_channels")?;
    let kernel = l.values.pair("kernel_size")?;
    let win = windows(l, kernel, false)?;
    let ho = l.size("row", h, win.0.out_size(h))?;
    let wo = l.size("column", w, win.1.out_size(w))?;
    if volume(c, kernel.0, kernel.1).is_err() {
        let this = l.this;
        l.error(format!(
            "{this} has a patch of {c}×{}×{} values, which overflows usize",
            kernel.0, kernel.1
        ));
        return None;
    }
    let output = l.known(&[out_c, ho, wo])?;
    let (iw, ow) = (l.input.width(), output.width());
    let [c, h, w, out_c] = [c, h, w, out_c].map(unsuffixed);
    let (k, s, p, d) = (
        pair_tokens(win, |w| w.kernel),
        pair_tokens(win, |w| w.stride),
        pair_tokens(win, |w| w.padding),
        pair_tokens(win, |w| w.dilation),
    );
    let bias = l.values.bool("bias");
    let ty = quote!(::staticnn::Conv2d<#iw, #ow>);
    let init = quote!(<#ty>::new(
        ::staticnn::Conv2dGeometry {
            in_channels: #c, height: #h, width: #w, out_channels: #out_c,
            kernel: #k, stride: #s, padding: #p, dilation: #d,
        },
        #bias,
        rng,
    ).expect("model! computed this geometry"));
    Some(Built { ty, init, output })
}

fn pool(l: &mut Layer<'_>, name: &str) -> Option<Built> {
    let (c, h, w) = l.image()?;
    let kernel = l.values.pair("kernel_size")?;
    let ceil_mode = l.values.bool("ceil_mode");
    let win = windows(l, kernel, ceil_mode)?;
    let ho = l.size("row", h, win.0.pool_out_size(h))?;
    let wo = l.size("column", w, win.1.pool_out_size(w))?;
    let output = l.known(&[c, ho, wo])?;
    let (iw, ow) = (l.input.width(), output.width());
    let name = syn::Ident::new(name, proc_macro2::Span::call_site());
    let ty = quote!(::staticnn::#name<#iw, #ow>);
    let [cc, hh, ww] = [c, h, w].map(unsuffixed);
    let (k, s, p, d) = (
        pair_tokens(win, |w| w.kernel),
        pair_tokens(win, |w| w.stride),
        pair_tokens(win, |w| w.padding),
        pair_tokens(win, |w| w.dilation),
    );
    let count_include_pad =
        l.values.get("count_include_pad").is_none() || l.values.bool("count_include_pad");
    let init = quote!(<#ty>::new(::staticnn::PoolGeometry {
        channels: #cc, height: #hh, width: #ww, kernel: #k, stride: #s,
        padding: #p, dilation: #d, ceil_mode: #ceil_mode, count_include_pad: #count_include_pad,
    }).expect("model! computed this geometry"));
    Some(Built { ty, init, output })
}
