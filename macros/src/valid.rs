//! Checks a [`Network`] and works out every layer's shapes, type and constructor. Every error
//! found is recorded in one pass, each at the token at fault.

use std::collections::BTreeMap;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit};

use crate::ast::{Args, LayerSource, Network, ShapeDecl};
use crate::catalog::{self, Kind, Param, ParamType};
use crate::ctxt::Ctxt;

/// Names the generated code defines on the model; a layer may not take them.
const RESERVED: &[&str] = &[
    "new",
    "init",
    "forward",
    "forward_train",
    "backward",
    "zero_grad",
    "train",
    "eval",
    "set_training",
    "num_params",
    "summary",
    "visit",
    "visit_mut",
];

/// The shape of one sample.
#[derive(Clone, Debug)]
pub enum Dims {
    Known(Vec<usize>),
    /// The flat width of a nested module, known only to the compiler.
    Opaque(TokenStream),
}

impl Dims {
    /// The row width as a const-generic argument.
    pub fn width(&self) -> TokenStream {
        match self {
            Dims::Known(d) => {
                let w = unsuffixed(d.iter().product::<usize>());
                quote!(#w)
            }
            Dims::Opaque(expr) => quote!({ #expr }),
        }
    }

    /// `[1, 28, 28]` as text, or tokens that format it at run time.
    pub fn display(&self) -> TokenStream {
        match self {
            Dims::Known(_) => {
                let s = self.to_string();
                quote!(::std::string::String::from(#s))
            }
            Dims::Opaque(expr) => quote!(::std::format!("[{}]", #expr)),
        }
    }
}

impl std::fmt::Display for Dims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dims::Known(d) => {
                let parts: Vec<String> = d.iter().map(usize::to_string).collect();
                write!(f, "[{}]", parts.join(", "))
            }
            Dims::Opaque(expr) => write!(f, "[{}]", expr),
        }
    }
}

/// `16` rather than `16usize`, so the expansion reads as a person would write it.
pub fn unsuffixed(n: usize) -> proc_macro2::Literal {
    proc_macro2::Literal::usize_unsuffixed(n)
}

/// One layer, ready to expand.
pub struct Planned {
    pub field: Ident,
    /// The layer's tokens, where errors about it point.
    pub span: Span,
    pub key: String,
    pub display: String,
    pub ty: TokenStream,
    pub init: TokenStream,
    pub input: Dims,
    pub output: Dims,
}

/// A checked network.
pub struct Plan<'a> {
    pub net: &'a Network,
    pub input: Dims,
    pub output: Dims,
    pub layers: Vec<Planned>,
    /// `const` assertions for widths only the compiler knows (nested modules).
    pub assertions: Vec<TokenStream>,
}

/// A resolved hyperparameter.
#[derive(Clone, Debug)]
enum Value {
    Int(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    Pair(usize, usize),
}

impl Value {
    fn float(&self) -> f32 {
        match self {
            Value::Int(v) => *v as f32,
            Value::Float(v) => *v as f32,
            _ => 0.0,
        }
    }
}

/// How a layer is called in messages: `` `fc1` `` or `` layer 2 (`ReLU`) ``.
fn label(name: &Option<Ident>, index: usize, what: &str) -> String {
    match name {
        Some(n) => format!("`{n}`"),
        None => format!("layer {index} (`{what}`)"),
    }
}

fn span_of(source: &LayerSource) -> Span {
    match source {
        LayerSource::Call { path, .. } => path.span(),
        LayerSource::Field { ty, .. } => ty.span(),
    }
}

fn parse_shape(cx: &mut Ctxt, shape: &ShapeDecl) -> Option<Vec<usize>> {
    if shape.dims.is_empty() {
        cx.error_at(
            shape.span,
            "a shape needs at least one dimension, like `[2]`",
        );
        return None;
    }
    let mut dims = Vec::new();
    for d in &shape.dims {
        match d.base10_parse::<usize>() {
            Ok(0) | Err(_) => cx.error_spanned(d, "a dimension must be a positive integer"),
            Ok(v) => dims.push(v),
        }
    }
    (dims.len() == shape.dims.len()).then_some(dims)
}

/// Reads a literal, allowing a leading minus.
fn literal(expr: &Expr) -> Option<Value> {
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse::<u64>().ok().map(Value::Int),
            Lit::Float(f) => f.base10_parse::<f64>().ok().map(Value::Float),
            Lit::Bool(b) => Some(Value::Bool(b.value)),
            Lit::Str(s) => Some(Value::Str(s.value())),
            _ => None,
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => match literal(&u.expr)? {
            Value::Int(v) => Some(Value::Float(-(v as f64))),
            Value::Float(v) => Some(Value::Float(-v)),
            _ => None,
        },
        Expr::Group(g) => literal(&g.expr),
        Expr::Paren(p) => literal(&p.expr),
        Expr::Tuple(t) if t.elems.len() == 2 => {
            match (literal(&t.elems[0])?, literal(&t.elems[1])?) {
                (Value::Int(a), Value::Int(b)) => Some(Value::Pair(a as usize, b as usize)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn check_value(cx: &mut Ctxt, kind: Kind, p: &Param, expr: &Expr) -> Option<Value> {
    let Some(value) = literal(expr) else {
        cx.error_spanned(
            expr,
            format!("`{}` of `{}` must be a literal", p.name, kind.name()),
        );
        return None;
    };
    let ok = match (&p.ty, &value) {
        (ParamType::Width, Value::Int(v)) => *v > 0,
        (ParamType::Float { min, max, open_min }, Value::Int(_) | Value::Float(_)) => {
            let v = match value {
                Value::Int(i) => i as f64,
                Value::Float(f) => f,
                _ => unreachable!(),
            };
            v <= *max && if *open_min { v > *min } else { v >= *min }
        }
        (ParamType::Bool, Value::Bool(_)) => true,
        (ParamType::Choice(options), Value::Str(s)) => options.contains(&s.as_str()),
        (ParamType::Pair { zero_ok }, Value::Int(v)) => {
            if *v > 0 || *zero_ok {
                return Some(Value::Pair(*v as usize, *v as usize));
            }
            false
        }
        (ParamType::Pair { zero_ok }, Value::Pair(a, b)) => (*a > 0 && *b > 0) || *zero_ok,
        _ => false,
    };
    if ok {
        return Some(value);
    }
    let expected = match p.ty {
        ParamType::Width => "a positive integer".to_string(),
        ParamType::Float {
            min,
            max,
            open_min: false,
        } if min.is_finite() && max.is_finite() => format!("a number in [{min}, {max}]"),
        ParamType::Float { min, .. } if min.is_finite() => format!("a number greater than {min}"),
        ParamType::Float { .. } => "a number".to_string(),
        ParamType::Bool => "`true` or `false`".to_string(),
        ParamType::Choice(options) => format!("one of {options:?}"),
        ParamType::Pair { zero_ok: false } => {
            "a positive integer or a pair `(h, w)` of them".to_string()
        }
        ParamType::Pair { zero_ok: true } => "an integer or a pair `(h, w)` of them".to_string(),
    };
    cx.error_spanned(
        expr,
        format!("`{}` of `{}` must be {expected}", p.name, kind.name()),
    );
    None
}

/// Matches written arguments to a kind's parameters. `shapes_allowed` is false for derive,
/// where the field's type carries the widths.
fn resolve_args(
    cx: &mut Ctxt,
    kind: Kind,
    kind_span: Span,
    args: Option<&Args>,
    shapes_allowed: bool,
) -> BTreeMap<&'static str, Value> {
    let params: Vec<&Param> = kind
        .params()
        .iter()
        .filter(|p| shapes_allowed || !p.is_shape())
        .collect();
    let mut values = BTreeMap::new();
    let mut given = std::collections::BTreeSet::new();
    let items = args.map_or(&[][..], |a| &a.items[..]);
    let positional: Vec<_> = items.iter().filter(|a| a.key.is_none()).collect();
    // `Linear(16)` is the output width and `Linear(2, 16)` PyTorch's (in, out); likewise
    // `Conv2d(8, 3)` and `Conv2d(1, 8, 3)`: the leading inferred width is skipped when the
    // positional arguments are only the required ones.
    let keywords: Vec<String> = items
        .iter()
        .filter_map(|a| {
            a.key
                .as_ref()
                .map(|k| catalog::alias(&k.to_string()).to_string())
        })
        .collect();
    let required_left = params
        .iter()
        .filter(|p| {
            matches!(p.default, catalog::Fallback::Required)
                && !keywords.iter().any(|k| k == p.name)
        })
        .count();
    let leading_inferred = params
        .first()
        .is_some_and(|p| matches!(p.default, catalog::Fallback::Inferred) && p.is_shape());
    let skip = usize::from(
        shapes_allowed
            && leading_inferred
            && !positional.is_empty()
            && positional.len() <= required_left,
    );
    let mut seen_keyword = false;
    let mut position = skip;
    for arg in items {
        let param = match &arg.key {
            Some(key) => {
                seen_keyword = true;
                match params
                    .iter()
                    .find(|p| catalog::alias(&key.to_string()) == p.name)
                {
                    Some(p) => *p,
                    None => {
                        let names: Vec<_> = params.iter().map(|p| p.name).collect();
                        cx.error_spanned(
                            key,
                            format!(
                                "`{}` has no parameter `{key}`; its parameters are {names:?}",
                                kind.name()
                            ),
                        );
                        continue;
                    }
                }
            }
            None => {
                if seen_keyword {
                    cx.error_spanned(
                        &arg.value,
                        "positional arguments go before keyword arguments",
                    );
                    continue;
                }
                let Some(p) = params.get(position) else {
                    let most = match params.len() {
                        0 => "no arguments".to_string(),
                        1 => "one argument".to_string(),
                        n => format!("at most {n} arguments"),
                    };
                    cx.error_spanned(&arg.value, format!("`{}` takes {most}", kind.name()));
                    position += 1;
                    continue;
                };
                position += 1;
                *p
            }
        };
        if !given.insert(param.name) {
            cx.error_spanned(&arg.value, format!("`{}` is given twice", param.name));
            continue;
        }
        if let Some(v) = check_value(cx, kind, param, &arg.value) {
            values.insert(param.name, v);
        }
    }
    for p in &params {
        if matches!(p.default, catalog::Fallback::Required) && !given.contains(p.name) {
            let example = match kind {
                Kind::Linear => " (for example `Linear(16)`)",
                _ => "",
            };
            let span = args.map_or(kind_span, |a| a.span);
            cx.error_at(
                span,
                format!("`{}` needs `{}`{example}", kind.name(), p.name),
            );
        }
    }
    values
}

/// The value given for `name`, or the kind's default.
fn arg(values: &BTreeMap<&str, Value>, kind: Kind, name: &str) -> Option<Value> {
    if let Some(v) = values.get(name) {
        return Some(v.clone());
    }
    match kind.params().iter().find(|p| p.name == name)?.default {
        catalog::Fallback::Float(v) => Some(Value::Float(v)),
        catalog::Fallback::Bool(v) => Some(Value::Bool(v)),
        catalog::Fallback::Str(v) => Some(Value::Str(v.to_string())),
        catalog::Fallback::Pair(v) => Some(Value::Pair(v, v)),
        catalog::Fallback::Required | catalog::Fallback::Inferred => None,
    }
}

fn float_arg(values: &BTreeMap<&str, Value>, kind: Kind, name: &str) -> f32 {
    arg(values, kind, name).map_or(0.0, |v| v.float())
}

fn int_arg(values: &BTreeMap<&str, Value>, name: &str) -> Option<usize> {
    match values.get(name) {
        Some(Value::Int(v)) => Some(*v as usize),
        _ => None,
    }
}

/// The text of a call as the user wrote it, for the summary.
fn call_text(kind: &str, args: Option<&Args>) -> String {
    match args {
        None => kind.to_string(),
        Some(a) => {
            let parts: Vec<String> = a
                .items
                .iter()
                .map(|arg| {
                    let v = arg.value.to_token_stream().to_string().replace(' ', "");
                    match &arg.key {
                        Some(k) => format!("{k} = {v}"),
                        None => v,
                    }
                })
                .collect();
            format!("{kind}({})", parts.join(", "))
        }
    }
}

/// Everything about a built-in layer but its field type.
struct Built {
    ty: TokenStream,
    init: TokenStream,
    output: Dims,
}

/// Works out a built-in layer's output and runtime type from its input.
#[allow(clippy::too_many_arguments)]
fn build(
    cx: &mut Ctxt,
    kind: Kind,
    span: Span,
    values: &BTreeMap<&'static str, Value>,
    input: &Dims,
    this: &str,
    prev: &str,
    declared_out: Option<usize>,
) -> Option<Built> {
    let krate = quote!(::staticnn);
    let needs_flat = |cx: &mut Ctxt| -> Option<usize> {
        match input {
            Dims::Known(d) if d.len() == 1 => Some(d[0]),
            Dims::Known(_) => {
                cx.error_at(
                    span,
                    format!(
                        "{this} needs a flat input but {prev} produces {input}; put `Flatten` before it"
                    ),
                );
                None
            }
            Dims::Opaque(_) => Some(0),
        }
    };
    let check_width = |cx: &mut Ctxt, param: &str, given: Option<usize>, actual: Option<usize>| {
        if let (Some(g), Some(a)) = (given, actual)
            && g != a
        {
            cx.error_at(
                span,
                format!("{this} expects {param} {g} but {prev} produces {input}, width {a}"),
            );
        }
    };
    let width = input.width();
    let built = match kind {
        Kind::Linear => {
            needs_flat(cx)?;
            let known_in = match input {
                Dims::Known(d) => Some(d[0]),
                Dims::Opaque(_) => None,
            };
            check_width(cx, "in_features", int_arg(values, "in_features"), known_in);
            let out_width = declared_out.or_else(|| int_arg(values, "out_features"))?;
            let out = unsuffixed(out_width);
            let bias = matches!(arg(values, kind, "bias"), Some(Value::Bool(true)));
            let ty = quote!(#krate::Linear<#width, #out>);
            let init = if bias {
                quote!(<#ty>::new(rng))
            } else {
                quote!(<#ty>::without_bias(rng))
            };
            Built {
                ty,
                init,
                output: Dims::Known(vec![out_width]),
            }
        }
        Kind::ReLU | Kind::Sigmoid | Kind::Tanh => {
            let name = format_ident!("{}", kind.name());
            let ty = quote!(#krate::#name);
            Built {
                init: quote!(<#ty>::new()),
                ty,
                output: input.clone(),
            }
        }
        Kind::Softmax | Kind::LogSoftmax => {
            needs_flat(cx)?;
            let name = format_ident!("{}", kind.name());
            let ty = quote!(#krate::#name);
            Built {
                init: quote!(<#ty>::new()),
                ty,
                output: input.clone(),
            }
        }
        Kind::LeakyReLU => {
            let slope = float_arg(values, kind, "negative_slope");
            let ty = quote!(#krate::LeakyReLU);
            Built {
                init: quote!(<#ty>::new(#slope)),
                ty,
                output: input.clone(),
            }
        }
        Kind::GELU => {
            let tanh =
                matches!(arg(values, kind, "approximate"), Some(Value::Str(s)) if s == "tanh");
            let approx = if tanh { quote!(Tanh) } else { quote!(None) };
            let ty = quote!(#krate::GELU);
            Built {
                init: quote!(<#ty>::new(#krate::Approximate::#approx)),
                ty,
                output: input.clone(),
            }
        }
        Kind::Dropout => {
            let p = float_arg(values, kind, "p");
            let ty = quote!(#krate::Dropout);
            Built {
                init: quote!(<#ty>::new(#p, rng)),
                ty,
                output: input.clone(),
            }
        }
        Kind::BatchNorm1d | Kind::BatchNorm2d => {
            let (channels, ok) = match (kind, input) {
                (Kind::BatchNorm1d, Dims::Known(d)) => (Some(d[0]), d.len() <= 2),
                (Kind::BatchNorm2d, Dims::Known(d)) => (Some(d[0]), d.len() == 3),
                (Kind::BatchNorm1d, Dims::Opaque(_)) => (None, true),
                _ => (None, false),
            };
            if !ok {
                let wants = if kind == Kind::BatchNorm1d {
                    "[C] or [C, L]"
                } else {
                    "[C, H, W]"
                };
                cx.error_at(
                    span,
                    format!("{this} needs an input of shape {wants} but {prev} produces {input}"),
                );
                return None;
            }
            check_width(
                cx,
                "num_features",
                int_arg(values, "num_features"),
                channels,
            );
            let c = match channels {
                Some(c) => unsuffixed(c).into_token_stream(),
                None => width.clone(),
            };
            let eps = float_arg(values, kind, "eps");
            let momentum = float_arg(values, kind, "momentum");
            let ty = quote!(#krate::BatchNorm<#c>);
            Built {
                init: quote!(<#ty>::new(#eps, #momentum)),
                ty,
                output: input.clone(),
            }
        }
        Kind::LayerNorm => {
            let last = match input {
                Dims::Known(d) => Some(*d.last().expect("shapes are non-empty")),
                Dims::Opaque(_) => None,
            };
            check_width(
                cx,
                "normalized_shape",
                int_arg(values, "normalized_shape"),
                last,
            );
            let d = match last {
                Some(d) => unsuffixed(d).into_token_stream(),
                None => width.clone(),
            };
            let eps = float_arg(values, kind, "eps");
            let ty = quote!(#krate::LayerNorm<#d>);
            Built {
                init: quote!(<#ty>::new(#eps)),
                ty,
                output: input.clone(),
            }
        }
        Kind::Conv2d | Kind::MaxPool2d | Kind::AvgPool2d | Kind::AdaptiveAvgPool2d => {
            let Dims::Known(d) = input else {
                cx.error_at(
                    span,
                    format!("{this} needs an image input [C, H, W] but {prev} produces {input}"),
                );
                return None;
            };
            let &[c, h, w] = &d[..] else {
                cx.error_at(
                    span,
                    format!("{this} needs an image input [C, H, W] but {prev} produces {input}"),
                );
                return None;
            };
            let pair = |name: &str| match arg(values, kind, name) {
                Some(Value::Pair(a, b)) => Some((a, b)),
                _ => None,
            };
            match kind {
                Kind::Conv2d => {
                    check_width(cx, "in_channels", int_arg(values, "in_channels"), Some(c));
                    let out_channels = int_arg(values, "out_channels")?;
                    let out_c = out_channels;
                    let (k, st, pad, dil) = (
                        pair("kernel_size")?,
                        pair("stride")?,
                        pair("padding")?,
                        pair("dilation")?,
                    );
                    let span_h = dil.0 * (k.0 - 1) + 1;
                    let span_w = dil.1 * (k.1 - 1) + 1;
                    if span_h > h + 2 * pad.0 || span_w > w + 2 * pad.1 {
                        cx.error_at(span, format!(
                            "{this} has a {}×{} kernel (spanning {span_h}×{span_w}) but {prev} gives it {input}, {}×{} with padding",
                            k.0, k.1, h + 2 * pad.0, w + 2 * pad.1
                        ));
                        return None;
                    }
                    let ho = (h + 2 * pad.0 - span_h) / st.0 + 1;
                    let wo = (w + 2 * pad.1 - span_w) / st.1 + 1;
                    let bias = matches!(arg(values, kind, "bias"), Some(Value::Bool(true)));
                    let (iw, ow) = (unsuffixed(c * h * w), unsuffixed(out_c * ho * wo));
                    let [c, h, w, out_c] = [c, h, w, out_c].map(unsuffixed);
                    let [k0, k1, s0, s1, p0, p1, d0, d1] =
                        [k.0, k.1, st.0, st.1, pad.0, pad.1, dil.0, dil.1].map(unsuffixed);
                    let ty = quote!(#krate::Conv2d<#iw, #ow>);
                    let init = quote!(<#ty>::new(
                        #krate::Conv2dGeometry {
                            in_channels: #c, height: #h, width: #w, out_channels: #out_c,
                            kernel: (#k0, #k1), stride: (#s0, #s1), padding: (#p0, #p1), dilation: (#d0, #d1),
                        },
                        #bias,
                        rng,
                    ).expect("model! computed this geometry"));
                    Built {
                        ty,
                        init,
                        output: Dims::Known(vec![out_channels, ho, wo]),
                    }
                }
                Kind::AdaptiveAvgPool2d => {
                    if int_arg(values, "output_size") != Some(1) {
                        cx.error_at(span, format!("{this}: only `output_size = 1` (global average pooling) is supported"));
                        return None;
                    }
                    let ty = quote!(#krate::AdaptiveAvgPool2d);
                    Built {
                        init: quote!(<#ty>::new()),
                        ty,
                        output: Dims::Known(vec![c, 1, 1]),
                    }
                }
                _ => {
                    let k = pair("kernel_size")?;
                    let st = pair("stride").unwrap_or(k);
                    if k.0 > h || k.1 > w {
                        cx.error_at(
                            span,
                            format!(
                                "{this} has a {}×{} window but {prev} gives it only {input}",
                                k.0, k.1
                            ),
                        );
                        return None;
                    }
                    let (left_h, left_w) = ((h - k.0) % st.0, (w - k.1) % st.1);
                    if left_h != 0 || left_w != 0 {
                        cx.error_at(span, format!(
                            "{this} does not divide the {input} that {prev} gives it: a {}×{} window with stride {}×{} leaves {left_h} row(s) and {left_w} column(s) unused; pad, crop or pick another window",
                            k.0, k.1, st.0, st.1
                        ));
                        return None;
                    }
                    let (ho, wo) = ((h - k.0) / st.0 + 1, (w - k.1) / st.1 + 1);
                    let (iw, ow) = (unsuffixed(c * h * w), unsuffixed(c * ho * wo));
                    let name = format_ident!("{}", kind.name());
                    let ty = quote!(#krate::#name<#iw, #ow>);
                    let [cc, hh, ww, k0, k1, s0, s1] =
                        [c, h, w, k.0, k.1, st.0, st.1].map(unsuffixed);
                    let init = quote!(<#ty>::new(#krate::PoolGeometry {
                        channels: #cc, height: #hh, width: #ww, kernel: (#k0, #k1), stride: (#s0, #s1),
                    }).expect("model! computed this geometry"));
                    Built {
                        ty,
                        init,
                        output: Dims::Known(vec![c, ho, wo]),
                    }
                }
            }
        }
        Kind::Embedding => {
            let Dims::Known(d) = input else {
                cx.error_at(
                    span,
                    format!(
                        "{this} needs a known input [L] of indices but {prev} produces {input}"
                    ),
                );
                return None;
            };
            if d.len() != 1 {
                cx.error_at(
                    span,
                    format!("{this} needs a flat input [L] of indices but {prev} produces {input}"),
                );
                return None;
            }
            let num = int_arg(values, "num_embeddings")?;
            let dim = int_arg(values, "embedding_dim")?;
            let ty = {
                let (num, dim) = (unsuffixed(num), unsuffixed(dim));
                quote!(#krate::Embedding<#num, #dim>)
            };
            Built {
                init: quote!(<#ty>::new(rng)),
                ty,
                output: Dims::Known(vec![d[0], dim]),
            }
        }
        Kind::Flatten => {
            let output = match input {
                Dims::Known(d) => Dims::Known(vec![d.iter().product()]),
                Dims::Opaque(e) => Dims::Opaque(e.clone()),
            };
            let ty = quote!(#krate::Flatten);
            Built {
                init: quote!(<#ty>::new()),
                ty,
                output,
            }
        }
    };
    Some(built)
}

/// Reads a derived field's type: a built-in kind with its const arguments, or a module.
enum FieldKind {
    Builtin { kind: Kind, generics: Vec<Expr> },
    Module,
}

fn classify_field(ty: &syn::Type) -> FieldKind {
    let syn::Type::Path(tp) = ty else {
        return FieldKind::Module;
    };
    let Some(last) = tp.path.segments.last() else {
        return FieldKind::Module;
    };
    let Some(kind) = Kind::from_name(&last.ident.to_string()) else {
        return FieldKind::Module;
    };
    let generics = match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                syn::GenericArgument::Const(e) => Some(e.clone()),
                syn::GenericArgument::Type(syn::Type::Path(p)) => Some(Expr::Path(syn::ExprPath {
                    attrs: Vec::new(),
                    qself: None,
                    path: p.path.clone(),
                })),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    FieldKind::Builtin { kind, generics }
}

fn const_usize(e: &Expr) -> Option<usize> {
    match literal(e)? {
        Value::Int(v) => Some(v as usize),
        _ => None,
    }
}

/// Checks the whole network, returning the plan or every error found.
pub fn check(net: &Network) -> syn::Result<Plan<'_>> {
    let mut cx = Ctxt::default();
    let krate = quote!(::staticnn);
    if net.layers.is_empty() {
        cx.error_at(net.body_span, format!("model `{}` has no layers", net.name));
    }

    // Names: unique, not reserved, not a generated field name.
    let mut fields: BTreeMap<String, Span> = BTreeMap::new();
    for (i, layer) in net.layers.iter().enumerate() {
        let field = match &layer.name {
            Some(n) => n.clone(),
            None => format_ident!("layer_{i}"),
        };
        if let Some(n) = &layer.name
            && net.emits_struct
            && RESERVED.contains(&n.to_string().as_str())
        {
            cx.error_spanned(
                n,
                format!("`{n}` is a method of every model; name this layer differently"),
            );
        }
        let span = layer
            .name
            .as_ref()
            .map_or_else(|| span_of(&layer.source), Ident::span);
        if fields.insert(field.to_string(), span).is_some() {
            cx.error_at(span, format!("the name `{field}` is used by two layers"));
        }
    }

    // The input shape.
    let input = match &net.input {
        Some(shape) => parse_shape(&mut cx, shape).map(Dims::Known),
        None if net.emits_struct => {
            cx.error_at(
                net.name.span(),
                format!(
                    "model `{}` needs an input shape: `struct {}: [width] {{ .. }}`",
                    net.name, net.name
                ),
            );
            None
        }
        None => match net.layers.first().map(|l| &l.source) {
            Some(LayerSource::Field { ty, .. }) => match classify_field(ty) {
                FieldKind::Builtin {
                    kind: Kind::Linear,
                    generics,
                } if generics.len() == 2 => Some(match const_usize(&generics[0]) {
                    Some(w) => Dims::Known(vec![w]),
                    None => {
                        let e = &generics[0];
                        Dims::Opaque(quote!(#e))
                    }
                }),
                FieldKind::Module => Some(Dims::Opaque(quote!(<#ty as #krate::Shaped>::IN))),
                _ => {
                    cx.error_at(
                        ty.span(),
                        "the first field does not fix the input width; add `#[module(input = [width])]` to the struct",
                    );
                    None
                }
            },
            _ => None,
        },
    };

    let mut layers = Vec::new();
    let mut assertions = Vec::new();
    let mut current = input.clone();
    let mut prev_label = "the input".to_string();
    for (i, layer) in net.layers.iter().enumerate() {
        let field = match &layer.name {
            Some(n) => n.clone(),
            None => format_ident!("layer_{i}"),
        };
        let key = match &layer.name {
            Some(n) => n.to_string(),
            None => i.to_string(),
        };
        let Some(input_dims) = current.clone() else {
            // Keep checking names and arguments after an error upstream.
            if let LayerSource::Call { path, args } = &layer.source
                && let Some(kind) = path
                    .get_ident()
                    .and_then(|k| Kind::from_name(&k.to_string()))
            {
                resolve_args(&mut cx, kind, path.span(), args.as_ref(), true);
            }
            continue;
        };
        let planned = match &layer.source {
            LayerSource::Call { path, args } => {
                let ident = path.get_ident().map(Ident::to_string);
                match ident.as_deref().and_then(Kind::from_name) {
                    Some(kind) => {
                        let this = label(&layer.name, i, &call_text(kind.name(), args.as_ref()));
                        let values = resolve_args(&mut cx, kind, path.span(), args.as_ref(), true);
                        build(
                            &mut cx,
                            kind,
                            path.span(),
                            &values,
                            &input_dims,
                            &this,
                            &prev_label,
                            None,
                        )
                        .map(|b| (b, call_text(kind.name(), args.as_ref()), this))
                    }
                    None => {
                        let written = path.to_token_stream().to_string().replace(' ', "");
                        if let Some(near) = ident.as_deref().and_then(Kind::near) {
                            cx.error_spanned(
                                path,
                                format!(
                                    "unknown layer `{written}`; did you mean `{}`?",
                                    near.name()
                                ),
                            );
                            None
                        } else if args.is_some() {
                            let known: Vec<_> = catalog::ALL.iter().map(|k| k.name()).collect();
                            cx.error_spanned(
                                path,
                                format!("unknown layer `{written}`; the built-in layers are {}, and a model type stands without arguments", known.join(", ")),
                            );
                            None
                        } else {
                            let this = label(&layer.name, i, &written);
                            Some(nested(
                                &krate,
                                path.to_token_stream(),
                                &input_dims,
                                &this,
                                &prev_label,
                                &mut assertions,
                                &net.name,
                            ))
                            .map(|b| (b, written, this))
                        }
                    }
                }
            }
            LayerSource::Field { ty, args } => match classify_field(ty) {
                FieldKind::Builtin { kind, .. } if kind.needs_model_macro() => {
                    cx.error_spanned(
                        ty,
                        format!(
                            "a `{}` field needs its geometry, which `model!` computes; declare the image part with `model!` and nest it here",
                            kind.name()
                        ),
                    );
                    None
                }
                FieldKind::Builtin { kind, generics } => {
                    let written = ty.to_token_stream().to_string().replace(' ', "");
                    let this = label(&layer.name, i, &written);
                    let mut values = resolve_args(&mut cx, kind, ty.span(), args.as_ref(), false);
                    let mut declared_out = None;
                    // Widths written in the type: checked like arguments.
                    let shape_params: Vec<_> =
                        kind.params().iter().filter(|p| p.is_shape()).collect();
                    let mut opaque_in = None;
                    for (p, g) in shape_params.iter().zip(&generics) {
                        match const_usize(g) {
                            Some(v) if p.name == "out_features" => declared_out = Some(v),
                            Some(v) => {
                                values.insert(p.name, Value::Int(v as u64));
                            }
                            None if p.name == "in_features" => opaque_in = Some(g.clone()),
                            None => {}
                        }
                    }
                    if let Some(e) = opaque_in {
                        let w = input_dims.width();
                        let msg =
                            format!("{this} does not take the width that {prev_label} produces");
                        assertions.push(quote!(
                            const _: () = ::core::assert!((#e) == #w, #msg);
                        ));
                    }
                    if kind == Kind::Linear
                        && declared_out.is_none()
                        && let Some(g) = generics.get(1)
                    {
                        cx.error_spanned(
                            g,
                            "write the output width of a `Linear` field as an integer literal",
                        );
                    }
                    let values = values;
                    build(
                        &mut cx,
                        kind,
                        ty.span(),
                        &values,
                        &input_dims,
                        &this,
                        &prev_label,
                        declared_out,
                    )
                    .map(|b| {
                        (
                            Built {
                                ty: ty.to_token_stream(),
                                ..b
                            },
                            written,
                            this,
                        )
                    })
                }
                FieldKind::Module => {
                    let written = ty.to_token_stream().to_string().replace(' ', "");
                    let this = label(&layer.name, i, &written);
                    Some(nested(
                        &krate,
                        ty.to_token_stream(),
                        &input_dims,
                        &this,
                        &prev_label,
                        &mut assertions,
                        &net.name,
                    ))
                    .map(|b| {
                        (
                            Built {
                                ty: ty.to_token_stream(),
                                ..b
                            },
                            written,
                            this,
                        )
                    })
                }
            },
        };
        match planned {
            Some((built, display, this)) => {
                // Name the layer that set the width, not the activations that pass it on.
                let reshapes = match (&input_dims, &built.output) {
                    (Dims::Known(a), Dims::Known(b)) => a != b,
                    _ => true,
                };
                if reshapes || kind_sets_width(&layer.source) {
                    prev_label = this;
                }
                current = Some(built.output.clone());
                layers.push(Planned {
                    span: span_of(&layer.source),
                    field,
                    key,
                    display,
                    ty: built.ty,
                    init: built.init,
                    input: input_dims,
                    output: built.output,
                });
            }
            None => current = None,
        }
    }

    // The declared output is a contract.
    if let (Some(declared), Some(produced)) = (&net.output, &current)
        && let Some(dims) = parse_shape(&mut cx, declared)
    {
        match produced {
            Dims::Known(p) if *p != dims => cx.error_at(
                declared.span,
                format!(
                    "model `{}` declares output {} but its layers produce {} (from {prev_label})",
                    net.name,
                    Dims::Known(dims.clone()),
                    produced
                ),
            ),
            Dims::Opaque(e) => {
                let w = unsuffixed(dims.iter().product());
                let msg = format!(
                    "model `{}` declares output width {w} but {prev_label} produces another",
                    net.name
                );
                assertions.push(quote!(
                    const _: () = ::core::assert!((#e) == #w, #msg);
                ));
            }
            Dims::Known(_) => {}
        }
    }

    cx.check()?;
    let input = input.expect("no errors means an input shape");
    let output = current.expect("no errors means every layer planned");
    Ok(Plan {
        net,
        input,
        output,
        layers,
        assertions,
    })
}

/// Layers whose output width is their own choice even when it equals their input's.
fn kind_sets_width(source: &LayerSource) -> bool {
    match source {
        LayerSource::Call { path, .. } => path
            .get_ident()
            .and_then(|i| Kind::from_name(&i.to_string()))
            .is_none_or(|k| k == Kind::Linear),
        LayerSource::Field { ty, .. } => {
            !matches!(classify_field(ty), FieldKind::Builtin { kind, .. } if kind != Kind::Linear)
        }
    }
}

/// A module type standing as a layer: its widths come from `Shaped`.
fn nested(
    krate: &TokenStream,
    ty: TokenStream,
    input: &Dims,
    this: &str,
    prev: &str,
    assertions: &mut Vec<TokenStream>,
    model: &Ident,
) -> Built {
    let w = input.width();
    let msg =
        format!("model `{model}`: {this} does not take the width {input} that {prev} produces");
    assertions.push(quote!(
        const _: () = ::core::assert!(<#ty as #krate::Shaped>::IN == #w, #msg);
    ));
    Built {
        init: quote!(<#ty as #krate::Init>::init(rng)),
        output: Dims::Opaque(quote!(<#ty as #krate::Shaped>::OUT)),
        ty,
    }
}
