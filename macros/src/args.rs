//! Hyperparameters: matching what is written (`Linear(16)`, `Dropout(p = 0.1)`) to a kind's
//! parameters, reading literals, checking ranges, and filling in defaults.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Span, TokenTree};
use quote::ToTokens;
use syn::{Expr, Ident, Lit};

use crate::ast::Args;
use crate::catalog::{Fallback, Kind, Param, ParamType, alias};
use crate::ctxt::Ctxt;
use crate::dims::Dim;

/// A resolved hyperparameter.
#[derive(Clone, Debug)]
pub enum Value {
    Int(u64),
    /// A negated integer literal (`-1`), kept apart from a float (`-1.0`) for the parameters
    /// that take integers only (Softmax's `dim`); a float parameter takes it as its value.
    NegInt(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    Pair(usize, usize),
    /// A width the compiler evaluates (`H`, `2 * H`).
    Symbol(Dim),
}

/// Reads a literal, allowing a leading minus.
pub fn literal(expr: &Expr) -> Option<Value> {
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse::<u64>().ok().map(Value::Int),
            Lit::Float(f) => f.base10_parse::<f64>().ok().map(Value::Float),
            Lit::Bool(b) => Some(Value::Bool(b.value)),
            Lit::Str(s) => Some(Value::Str(s.value())),
            _ => None,
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => match literal(&u.expr)? {
            Value::Int(v) => Some(Value::NegInt(v)),
            Value::NegInt(v) => Some(Value::Int(v)),
            Value::Float(v) => Some(Value::Float(-v)),
            _ => None,
        },
        Expr::Group(g) => literal(&g.expr),
        Expr::Paren(p) => literal(&p.expr),
        Expr::Tuple(t) if t.elems.len() == 2 => {
            match (literal(&t.elems[0])?, literal(&t.elems[1])?) {
                (Value::Int(a), Value::Int(b)) => Some(Value::Pair(
                    usize::try_from(a).ok()?,
                    usize::try_from(b).ok()?,
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A width written as a const expression. A generic parameter must stand alone: stable Rust
/// cannot compute with one in a type (`Linear<{ 2 * N }, 8>` needs `generic_const_exprs`).
pub fn symbol(cx: &mut Ctxt, expr: &Expr, generics: &[Ident]) -> Option<Dim> {
    let bare = matches!(expr, Expr::Path(p) if p.qself.is_none());
    if !bare && let Some(g) = mentions(expr.to_token_stream(), generics) {
        cx.error_spanned(
            expr,
            format!(
                "`{}` computes with the generic parameter `{g}`, which stable Rust cannot do in a type; write `{g}` alone or add a parameter for this width",
                expr.to_token_stream()
            ),
        );
        return None;
    }
    Some(Dim::symbol(expr.to_token_stream(), bare))
}

pub fn mentions(tokens: proc_macro2::TokenStream, generics: &[Ident]) -> Option<Ident> {
    tokens.into_iter().find_map(|t| match t {
        TokenTree::Ident(i) if generics.contains(&i) => Some(i),
        TokenTree::Group(g) => mentions(g.stream(), generics),
        _ => None,
    })
}

/// A positive integer literal as a number, a const expression as a symbol.
pub fn width(cx: &mut Ctxt, expr: &Expr, generics: &[Ident], what: &str) -> Option<Dim> {
    match literal(expr) {
        Some(Value::Int(v)) if v > 0 => match usize::try_from(v) {
            Ok(v) => Some(Dim::Known(v)),
            Err(_) => {
                cx.error_spanned(expr, format!("{what} does not fit in usize"));
                None
            }
        },
        Some(_) => {
            cx.error_spanned(expr, format!("{what} must be a positive integer"));
            None
        }
        None => symbol(cx, expr, generics),
    }
}

fn check_value(
    cx: &mut Ctxt,
    kind: &Kind,
    p: &Param,
    expr: &Expr,
    generics: &[Ident],
) -> Option<Value> {
    if matches!(p.ty, ParamType::Width) {
        let what = format!("`{}` of `{}`", p.name, kind.name);
        return width(cx, expr, generics, &what).map(|d| match d {
            Dim::Known(v) => Value::Int(v as u64),
            symbol => Value::Symbol(symbol),
        });
    }
    let Some(value) = literal(expr) else {
        cx.error_spanned(
            expr,
            format!("`{}` of `{}` must be a literal", p.name, kind.name),
        );
        return None;
    };
    let ok = match (&p.ty, &value) {
        (ParamType::Size, Value::Int(v)) => *v > 0 && usize::try_from(*v).is_ok(),
        (
            ParamType::Float { min, max, open_min },
            Value::Int(_) | Value::NegInt(_) | Value::Float(_),
        ) => {
            let v = match value {
                Value::Int(i) => i as f64,
                Value::NegInt(i) => -(i as f64),
                Value::Float(f) => f,
                _ => unreachable!("matched above"),
            };
            v <= *max && if *open_min { v > *min } else { v >= *min }
        }
        (ParamType::Bool, Value::Bool(_)) => true,
        (ParamType::Choice(options), Value::Str(s)) => options.contains(&s.as_str()),
        // Integers only: PyTorch refuses `dim = -1.0` (a TypeError).
        (ParamType::FeatureDim, Value::Int(1) | Value::NegInt(1)) => true,
        (ParamType::Pair { zero_ok }, Value::Int(v)) => match usize::try_from(*v) {
            Ok(v) if v > 0 || *zero_ok => return Some(Value::Pair(v, v)),
            _ => false,
        },
        (ParamType::Pair { zero_ok }, Value::Pair(a, b)) => (*a > 0 && *b > 0) || *zero_ok,
        _ => false,
    };
    if ok {
        return Some(value);
    }
    let expected = match p.ty {
        ParamType::Width | ParamType::Size => "a positive integer".to_string(),
        ParamType::Float {
            min,
            max,
            open_min: false,
        } if min.is_finite() && max.is_finite() => format!("a number in [{min}, {max}]"),
        ParamType::Float { min, .. } if min.is_finite() => format!("a number greater than {min}"),
        ParamType::Float { .. } => "a number".to_string(),
        ParamType::Bool => "`true` or `false`".to_string(),
        ParamType::Choice(options) => format!("one of {options:?}"),
        ParamType::FeatureDim => {
            "`1` or `-1`, the features of a `[N, C]` batch (the only dimension it runs over)"
                .to_string()
        }
        ParamType::Pair { zero_ok: false } => {
            "a positive integer or a pair `(h, w)` of them".to_string()
        }
        ParamType::Pair { zero_ok: true } => "an integer or a pair `(h, w)` of them".to_string(),
    };
    cx.error_spanned(
        expr,
        format!("`{}` of `{}` must be {expected}", p.name, kind.name),
    );
    None
}

/// The arguments of one layer, resolved, with the kind's defaults behind them.
pub struct Values {
    kind: &'static Kind,
    given: BTreeMap<&'static str, Value>,
}

impl Values {
    /// The value given for `name`, or the kind's default.
    pub fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.given.get(name) {
            return Some(v.clone());
        }
        match self.kind.params.iter().find(|p| p.name == name)?.default {
            Fallback::Float(v) => Some(Value::Float(v)),
            Fallback::Bool(v) => Some(Value::Bool(v)),
            Fallback::Str(v) => Some(Value::Str(v.to_string())),
            Fallback::Pair(v) => Some(Value::Pair(v, v)),
            Fallback::Required | Fallback::Inferred => None,
        }
    }

    pub fn float(&self, name: &str) -> f32 {
        match self.get(name) {
            Some(Value::Int(v)) => v as f32,
            Some(Value::NegInt(v)) => -(v as f32),
            Some(Value::Float(v)) => v as f32,
            _ => 0.0,
        }
    }

    pub fn bool(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Bool(true)))
    }

    pub fn string(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A literal integer (a `Size`).
    pub fn int(&self, name: &str) -> Option<usize> {
        match self.given.get(name) {
            Some(Value::Int(v)) => usize::try_from(*v).ok(),
            _ => None,
        }
    }

    /// A width, number or symbol.
    pub fn dim(&self, name: &str) -> Option<Dim> {
        match self.given.get(name) {
            Some(Value::Int(v)) => usize::try_from(*v).ok().map(Dim::Known),
            Some(Value::Symbol(d)) => Some(d.clone()),
            _ => None,
        }
    }

    pub fn pair(&self, name: &str) -> Option<(usize, usize)> {
        match self.get(name) {
            Some(Value::Pair(a, b)) => Some((a, b)),
            _ => None,
        }
    }

    /// Records a width read from a derived field's type.
    pub fn set(&mut self, name: &'static str, value: Value) {
        self.given.insert(name, value);
    }
}

/// Matches written arguments to a kind's parameters. `shapes_allowed` is false for derive,
/// where the field's type carries the widths.
pub fn resolve(
    cx: &mut Ctxt,
    kind: &'static Kind,
    kind_span: Span,
    args: Option<&Args>,
    shapes_allowed: bool,
    generics: &[Ident],
) -> Values {
    let params: Vec<&Param> = kind
        .params
        .iter()
        .filter(|p| shapes_allowed || !p.is_shape())
        .collect();
    let mut values = BTreeMap::new();
    let mut given = BTreeSet::new();
    let items = args.map_or(&[][..], |a| &a.items[..]);
    let positional = items.iter().filter(|a| a.key.is_none()).count();
    // `Linear(16)` is the output width and `Linear(2, 16)` PyTorch's (in, out); likewise
    // `Conv2d(8, 3)` and `Conv2d(1, 8, 3)`: the leading inferred width is skipped when the
    // positional arguments are only the required ones.
    let keywords: Vec<String> = items
        .iter()
        .filter_map(|a| a.key.as_ref().map(|k| alias(&k.to_string()).to_string()))
        .collect();
    let required_left = params
        .iter()
        .filter(|p| {
            matches!(p.default, Fallback::Required) && !keywords.iter().any(|k| k == p.name)
        })
        .count();
    let leading_inferred = params
        .first()
        .is_some_and(|p| matches!(p.default, Fallback::Inferred) && p.is_shape());
    let skip = usize::from(
        shapes_allowed && leading_inferred && positional > 0 && positional <= required_left,
    );
    let mut seen_keyword = false;
    let mut position = skip;
    for arg in items {
        let param = match &arg.key {
            Some(key) => {
                seen_keyword = true;
                match params.iter().find(|p| alias(&key.to_string()) == p.name) {
                    Some(p) => *p,
                    None => {
                        let names: Vec<_> = params.iter().map(|p| p.name).collect();
                        cx.error_spanned(
                            key,
                            format!(
                                "`{}` has no parameter `{key}`; its parameters are {names:?}",
                                kind.name
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
                    cx.error_spanned(&arg.value, format!("`{}` takes {most}", kind.name));
                    position += 1;
                    continue;
                };
                position += 1;
                if let Some(theirs) = p.pytorch_at_position {
                    cx.error_spanned(
                        &arg.value,
                        format!(
                            "`{}` takes `{}` by keyword only (`{} = ..`): PyTorch's argument at \
                             this position is `{theirs}`, which staticnn does not take",
                            kind.name, p.name, p.name
                        ),
                    );
                    continue;
                }
                *p
            }
        };
        if !given.insert(param.name) {
            cx.error_spanned(&arg.value, format!("`{}` is given twice", param.name));
            continue;
        }
        if let Some(v) = check_value(cx, kind, param, &arg.value, generics) {
            values.insert(param.name, v);
        }
    }
    for p in &params {
        if matches!(p.default, Fallback::Required) && !given.contains(p.name) {
            let span = args.map_or(kind_span, |a| a.span);
            cx.error_at(
                span,
                format!("`{}` needs `{}`{}", kind.name, p.name, kind.example),
            );
        }
    }
    Values {
        kind,
        given: values,
    }
}

/// The text of a call as the user wrote it, for the summary.
pub fn call_text(kind: &str, args: Option<&Args>) -> String {
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
