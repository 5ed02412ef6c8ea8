//! Checks a [`Network`]: names, the input shape, then each layer in order against the shape
//! the one before produces, recording every error at its token in one pass. A layer is a
//! built-in kind (its rule is in `catalog`), a residual block (checked as a chain of its own
//! that must give back its input shape), or a nested module (its widths come from `Shaped`).

use std::collections::BTreeMap;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::spanned::Spanned;
use syn::{Ident, parse_quote};

use crate::args::{self, Value, call_text};
use crate::ast::{LayerDecl, LayerSource, Network, ShapeDecl};
use crate::catalog::{KINDS, Kind, PYTORCH_ONLY};
use crate::ctxt::Ctxt;
use crate::derive::{FieldKind, classify_field};
use crate::dims::{Dim, Dims};
use crate::layer::{Built, Checker, Layer};
use crate::plan::{Plan, Planned};

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

/// Where a chain of layers lives: the model itself or a block inside it.
struct Scope<'a> {
    net: &'a Network,
    /// The struct the chain's layers become fields of.
    struct_name: Ident,
}

/// A checked chain: its layers, its output (`None` after an error) and who set that output.
struct Chain {
    layers: Vec<Planned>,
    output: Option<Dims>,
    last: String,
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
        LayerSource::Residual { keyword, .. } => keyword.span(),
    }
}

fn parse_shape(ck: &mut Checker, shape: &ShapeDecl) -> Option<Dims> {
    if shape.dims.is_empty() {
        ck.cx.error_at(
            shape.span,
            "a shape needs at least one dimension, like `[2]`",
        );
        return None;
    }
    let mut dims = Vec::new();
    for d in &shape.dims {
        let dim = args::width(&mut ck.cx, d, &ck.generics, "a dimension")?;
        if shape.dims.len() > 1
            && let Some(g) = args::mentions(d.to_token_stream(), &ck.generics)
        {
            ck.cx.error_spanned(
                d,
                format!("the generic width `{g}` can only stand alone, as in `[{g}]`: stable Rust cannot multiply it out in a type"),
            );
            return None;
        }
        dims.push(dim);
    }
    let dims = Dims(dims);
    if dims.flat().is_err() {
        ck.cx.error_at(
            shape.span,
            format!("the shape {dims} has more values than usize can count"),
        );
        return None;
    }
    Some(dims)
}

/// Checks the whole network, returning the plan or every error found.
pub fn check(net: &Network) -> syn::Result<Plan> {
    let mut generics = Vec::new();
    let mut cx = Ctxt::default();
    for param in &net.generics.params {
        match param {
            syn::GenericParam::Const(c) => generics.push(c.ident.clone()),
            other => cx.error_spanned(
                other,
                "a model takes const generic parameters only, like `<const IN: usize>`",
            ),
        }
    }
    let mut ck = Checker {
        cx,
        assertions: Vec::new(),
        generics,
    };
    if net.layers.is_empty() {
        ck.cx
            .error_at(net.body_span, format!("model `{}` has no layers", net.name));
    }
    let input = match &net.input {
        Some(shape) => parse_shape(&mut ck, shape),
        None if net.emits_struct => {
            ck.cx.error_at(
                net.name.span(),
                format!(
                    "model `{}` needs an input shape: `struct {}: [width] {{ .. }}`",
                    net.name, net.name
                ),
            );
            None
        }
        None => derived_input(&mut ck, net),
    };
    let scope = Scope {
        net,
        struct_name: net.name.clone(),
    };
    let mut blocks = Vec::new();
    let chain = check_chain(&mut ck, &scope, &net.layers, input.clone(), &mut blocks);

    // The declared output is a contract.
    if let (Some(declared), Some(produced)) = (&net.output, &chain.output)
        && let Some(dims) = parse_shape(&mut ck, declared)
    {
        let message = format!(
            "model `{}` declares output {dims} but its layers produce {produced} (from {})",
            net.name, chain.last
        );
        match (dims.numbers(), produced.numbers()) {
            (Some(d), Some(p)) if d != p => ck.cx.error_at(declared.span, message),
            (Some(_), Some(_)) => {}
            _ => match (dims.flat(), produced.flat()) {
                (Ok(d), Ok(p)) => ck.require_equal(declared.span, &d, &p, message),
                _ => ck.cx.error_at(declared.span, message),
            },
        }
    }

    let (Some(input), Some(output)) = (input, chain.output) else {
        // Every path that loses a shape records why; this keeps the macro panic-free if one
        // ever does not.
        if !ck.cx.has_errors() {
            ck.cx.error_at(
                net.body_span,
                format!("model `{}` could not be checked", net.name),
            );
        }
        return Err(ck.cx.check().expect_err("an error was just recorded"));
    };
    ck.cx.check()?;
    Ok(Plan {
        name: net.name.clone(),
        vis: net.vis.clone(),
        attrs: net.attrs.clone(),
        generics: net.generics.clone(),
        emits_struct: net.emits_struct,
        input,
        output,
        layers: chain.layers,
        assertions: ck.assertions,
        blocks,
    })
}

/// A derived struct without `#[module(input = ..)]` takes its input width from its first field.
fn derived_input(ck: &mut Checker, net: &Network) -> Option<Dims> {
    let Some(LayerSource::Field { ty, .. }) = net.layers.first().map(|l| &l.source) else {
        return None;
    };
    match classify_field(ty) {
        FieldKind::Builtin { kind, generics } if kind.name == "Linear" && generics.len() == 2 => {
            args::width(&mut ck.cx, &generics[0], &ck.generics, "a width").map(Dims::one)
        }
        FieldKind::Module => Some(Dims::one(Dim::symbol(
            quote!(<#ty as ::staticnn::Shaped>::IN),
            false,
        ))),
        _ => {
            ck.cx.error_at(
                ty.span(),
                "the first field does not fix the input width; add `#[module(input = [width])]` to the struct",
            );
            None
        }
    }
}

fn check_chain(
    ck: &mut Checker,
    scope: &Scope<'_>,
    decls: &[LayerDecl],
    input: Option<Dims>,
    blocks: &mut Vec<Plan>,
) -> Chain {
    let net = scope.net;
    // Names: unique, not reserved, not a generated field name.
    let mut fields: BTreeMap<String, Span> = BTreeMap::new();
    for (i, layer) in decls.iter().enumerate() {
        let field = match &layer.name {
            Some(n) => n.clone(),
            None => format_ident!("layer_{i}"),
        };
        if let Some(n) = &layer.name
            && net.emits_struct
            && RESERVED.contains(&n.to_string().as_str())
        {
            ck.cx.error_spanned(
                n,
                format!("`{n}` is a method of every model; name this layer differently"),
            );
        }
        let span = layer
            .name
            .as_ref()
            .map_or_else(|| span_of(&layer.source), Ident::span);
        if fields.insert(field.to_string(), span).is_some() {
            ck.cx
                .error_at(span, format!("the name `{field}` is used by two layers"));
        }
    }

    let mut layers = Vec::new();
    let mut current = input;
    let mut prev = "the input".to_string();
    for (i, layer) in decls.iter().enumerate() {
        let field = match &layer.name {
            Some(n) => n.clone(),
            None => format_ident!("layer_{i}"),
        };
        let key = match &layer.name {
            Some(n) => n.to_string(),
            None => i.to_string(),
        };
        let Some(input) = current.clone() else {
            // Keep checking arguments after an error upstream.
            if let LayerSource::Call { path, args } = &layer.source
                && let Some(kind) = path
                    .get_ident()
                    .and_then(|k| Kind::from_name(&k.to_string()))
            {
                args::resolve(&mut ck.cx, kind, path.span(), args.as_ref(), true, &[]);
            }
            continue;
        };
        let planned = match &layer.source {
            LayerSource::Call { path, args } => {
                let ident = path.get_ident().map(Ident::to_string);
                match ident.as_deref().and_then(Kind::from_name) {
                    Some(kind) => {
                        let display = call_text(kind.name, args.as_ref());
                        let this = label(&layer.name, i, &display);
                        let values = args::resolve(
                            &mut ck.cx,
                            kind,
                            path.span(),
                            args.as_ref(),
                            true,
                            &ck.generics.clone(),
                        );
                        let mut l = Layer {
                            ck: &mut *ck,
                            span: path.span(),
                            values: &values,
                            input: &input,
                            this: &this,
                            prev: &prev,
                            declared_out: None,
                            derived: false,
                        };
                        (kind.build)(&mut l).map(|b| (b, display, this, kind.name == "Linear"))
                    }
                    None => {
                        let written = path.to_token_stream().to_string().replace(' ', "");
                        let near = ident.as_deref().and_then(Kind::nearest);
                        // A name of torch.nn's that staticnn lacks, where the nearest kind
                        // would be offered (`ELU` is not `GELU`) or arguments show it is no
                        // model type of the user's.
                        let pytorch_only = PYTORCH_ONLY.contains(&written.as_str())
                            && (near.is_some() || args.is_some());
                        if pytorch_only {
                            let kinds: Vec<_> = KINDS.iter().map(|k| k.name).collect();
                            ck.cx.error_spanned(
                                path,
                                format!(
                                    "`{written}` is PyTorch's `nn.{written}`, which staticnn has no layer for; its layers are {}",
                                    kinds.join(", ")
                                ),
                            );
                            None
                        } else if let Some(near) = near {
                            ck.cx.error_spanned(
                                path,
                                format!("unknown layer `{written}`; did you mean `{}`?", near.name),
                            );
                            None
                        } else if args.is_some() {
                            ck.cx.error_spanned(
                                path,
                                format!("unknown layer `{written}`: not a built-in kind, and a model type stands without arguments"),
                            );
                            None
                        } else {
                            let this = label(&layer.name, i, &written);
                            let built = nested(
                                ck,
                                path.to_token_stream(),
                                path.span(),
                                &input,
                                &this,
                                &prev,
                                &net.name,
                            );
                            Some((built, written, this, true))
                        }
                    }
                }
            }
            LayerSource::Residual { keyword, body } => {
                let this = label(&layer.name, i, "Residual");
                residual(ck, scope, &field, keyword, body, &input, &this, blocks)
                    .map(|b| (b, "Residual".to_string(), this, true))
            }
            LayerSource::Field { ty, args } => {
                let written = ty.to_token_stream().to_string().replace(' ', "");
                let this = label(&layer.name, i, &written);
                let built = match classify_field(ty) {
                    FieldKind::Builtin { kind, .. } if !kind.derivable => {
                        ck.cx.error_spanned(
                            ty,
                            format!(
                                "a `{}` field needs its geometry, which `model!` computes; declare the image part with `model!` and nest it here",
                                kind.name
                            ),
                        );
                        None
                    }
                    FieldKind::Builtin { kind, generics } => derived_builtin(
                        ck,
                        kind,
                        &generics,
                        ty,
                        args.as_ref(),
                        &input,
                        &this,
                        &prev,
                    ),
                    FieldKind::Module => Some(nested(
                        ck,
                        ty.to_token_stream(),
                        ty.span(),
                        &input,
                        &this,
                        &prev,
                        &net.name,
                    )),
                };
                let sets_width = !matches!(classify_field(ty), FieldKind::Builtin { kind, .. } if kind.name != "Linear");
                built.map(|b| {
                    (
                        Built {
                            ty: ty.to_token_stream(),
                            ..b
                        },
                        written,
                        this,
                        sets_width,
                    )
                })
            }
        };
        match planned {
            Some((built, display, this, sets_width)) => {
                // Name the layer that set the width, not the activations that pass it on.
                let reshapes = input.to_string() != built.output.to_string();
                if reshapes || sets_width {
                    prev = this;
                }
                current = Some(built.output.clone());
                layers.push(Planned {
                    span: span_of(&layer.source),
                    field,
                    key,
                    display,
                    ty: built.ty,
                    init: built.init,
                    input,
                    output: built.output,
                });
            }
            None => current = None,
        }
    }
    let _ = &scope.struct_name;
    Chain {
        layers,
        output: current,
        last: prev,
    }
}

/// A built-in kind as a derived field: its widths come from the type's const arguments.
#[allow(clippy::too_many_arguments)]
fn derived_builtin(
    ck: &mut Checker,
    kind: &'static Kind,
    generics: &[syn::Expr],
    ty: &syn::Type,
    args: Option<&crate::ast::Args>,
    input: &Dims,
    this: &str,
    prev: &str,
) -> Option<Built> {
    let names = ck.generics.clone();
    let mut values = args::resolve(&mut ck.cx, kind, ty.span(), args, false, &names);
    let mut declared_out = None;
    let shape_params = kind.params.iter().filter(|p| p.is_shape());
    for (p, g) in shape_params.zip(generics) {
        let dim = args::width(&mut ck.cx, g, &names, &format!("`{}`", p.name))?;
        if p.name == "out_features" {
            declared_out = Some(dim);
        } else {
            values.set(
                p.name,
                match dim {
                    Dim::Known(v) => Value::Int(v as u64),
                    symbol => Value::Symbol(symbol),
                },
            );
        }
    }
    let mut l = Layer {
        ck: &mut *ck,
        span: ty.span(),
        values: &values,
        input,
        this,
        prev,
        declared_out,
        derived: true,
    };
    (kind.build)(&mut l)
}

/// `Residual { .. }`: its body checked as a chain of its own from the block's input, which it
/// must give back, and planned as a struct of its own (`Net_block`).
#[allow(clippy::too_many_arguments)]
fn residual(
    ck: &mut Checker,
    scope: &Scope<'_>,
    field: &Ident,
    keyword: &Ident,
    body: &[LayerDecl],
    input: &Dims,
    this: &str,
    blocks: &mut Vec<Plan>,
) -> Option<Built> {
    if body.is_empty() {
        ck.cx.error_at(
            keyword.span(),
            format!("the residual block {this} has no layers"),
        );
        return None;
    }
    let struct_name = format_ident!("{}_{}", scope.struct_name, field);
    let inner = Scope {
        net: scope.net,
        struct_name: struct_name.clone(),
    };
    let chain = check_chain(ck, &inner, body, Some(input.clone()), blocks);
    let output = chain.output?;
    let message = format!(
        "the residual block {this} adds its input {input} to what its layers produce, but {} produces {output}",
        chain.last
    );
    match (input.numbers(), output.numbers()) {
        (Some(a), Some(b)) if a != b => {
            ck.cx.error_at(keyword.span(), message);
            return None;
        }
        (Some(_), Some(_)) => {}
        _ => {
            let (Ok(a), Ok(b)) = (input.flat(), output.flat()) else {
                ck.cx.error_at(keyword.span(), message);
                return None;
            };
            ck.require_equal(keyword.span(), &a, &b, message);
        }
    }
    let net = scope.net;
    let (_, type_generics, _) = net.generics.split_for_impl();
    let body_ty = quote!(#struct_name #type_generics);
    blocks.push(Plan {
        name: struct_name,
        vis: net.vis.clone(),
        attrs: vec![
            parse_quote!(#[doc(hidden)]),
            parse_quote!(#[allow(non_camel_case_types)]),
        ],
        generics: net.generics.clone(),
        emits_struct: true,
        input: input.clone(),
        output: input.clone(),
        layers: chain.layers,
        assertions: Vec::new(),
        blocks: Vec::new(),
    });
    Some(Built {
        ty: quote!(::staticnn::Residual<#body_ty>),
        init: quote!(::staticnn::Residual::new(<#body_ty as ::staticnn::Init>::init(rng))),
        output: input.clone(),
    })
}

/// A module type standing as a layer: its widths come from `Shaped`.
fn nested(
    ck: &mut Checker,
    ty: TokenStream,
    span: Span,
    input: &Dims,
    this: &str,
    prev: &str,
    model: &Ident,
) -> Built {
    let message =
        format!("model `{model}`: {this} does not take the width {input} that {prev} produces");
    let takes = Dim::symbol(quote!(<#ty as ::staticnn::Shaped>::IN), false);
    match input.flat() {
        Ok(w) => ck.require_equal(span, &takes, &w, message),
        Err(_) => ck.cx.error_at(span, message),
    }
    Built {
        init: quote!(<#ty as ::staticnn::Init>::init(rng)),
        output: Dims::one(Dim::symbol(quote!(<#ty as ::staticnn::Shaped>::OUT), false)),
        ty,
    }
}
