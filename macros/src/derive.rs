//! What a `#[derive(Module)]` field's type says: a built-in kind with its widths as const
//! arguments (`Linear<3, 5>`, `BatchNorm1d<16>`), or any other module.

use syn::{Expr, Type};

use crate::catalog::Kind;

pub enum FieldKind {
    Builtin {
        kind: &'static Kind,
        /// The const arguments, in the kind's shape-parameter order.
        generics: Vec<Expr>,
    },
    Module,
}

pub fn classify_field(ty: &Type) -> FieldKind {
    let Type::Path(tp) = ty else {
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
                // `Linear<N, 8>`: a bare `N` parses as a type.
                syn::GenericArgument::Type(Type::Path(p)) => Some(Expr::Path(syn::ExprPath {
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
