//! The typed description of a network that both macros build: `model!` from its own grammar,
//! `#[derive(Module)]` from a struct. Nothing here knows layer kinds or shapes; `valid` does.
//!
//! ```text
//! model! {
//!     /// docs and #[attributes]
//!     pub struct Name: [2] -> [1] {      // input shape, optional output contract
//!         fc1: Linear(16),              // named layer: its key is `fc1`
//!         ReLU,                         // unnamed layer: its key is its position
//!         drop: Dropout(p = 0.1),       // positional or keyword hyperparameters
//!         enc: path::to::Encoder,       // any Module + Shaped + Init type: nesting
//!         res: Residual { Linear(16), ReLU, Linear(16) },  // y = x + f(x)
//!     }
//! }
//! ```
//!
//! Widths are integer literals or const expressions (`[FEATURES]`, `[2 * H]`); the struct may
//! take const generic parameters (`struct Net<const IN: usize>: [IN] -> [1]`).

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, Generics, Ident, Path, Token, Type, Visibility, bracketed, parenthesized,
};

pub struct Network {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    /// Const generic parameters only (checked by `valid`).
    pub generics: Generics,
    /// `model!` writes the struct; `derive` only implements it.
    pub emits_struct: bool,
    pub input: Option<ShapeDecl>,
    pub output: Option<ShapeDecl>,
    pub layers: Vec<LayerDecl>,
    /// Where to point an error about the whole body (an empty model).
    pub body_span: Span,
}

/// A shape as written, `[1, 28, 28]` or `[FEATURES]`.
pub struct ShapeDecl {
    pub dims: Vec<Expr>,
    pub span: Span,
}

pub struct LayerDecl {
    pub name: Option<Ident>,
    pub source: LayerSource,
}

pub enum LayerSource {
    /// `Kind`, `Kind(args)` or `path::to::Model` in `model!`.
    Call { path: Path, args: Option<Args> },
    /// A field of a derived struct and its `#[layer(args)]`.
    Field { ty: Type, args: Option<Args> },
    /// `Residual { layers }` in `model!`: `x + layers(x)`.
    Residual {
        keyword: Ident,
        body: Vec<LayerDecl>,
    },
}

/// Hyperparameters as written: `(16)`, `(p = 0.1)`, `(8, kernel = 3)`.
pub struct Args {
    pub span: Span,
    pub items: Vec<Arg>,
}

pub struct Arg {
    pub key: Option<Ident>,
    pub value: Expr,
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = if input.peek(Ident) && input.peek2(Token![=]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Some(key)
        } else {
            None
        };
        Ok(Arg {
            key,
            value: input.parse()?,
        })
    }
}

fn parse_args_in_parens(input: ParseStream) -> syn::Result<Args> {
    let content;
    let paren = parenthesized!(content in input);
    let items = Punctuated::<Arg, Token![,]>::parse_terminated(&content)?;
    Ok(Args {
        span: paren.span.join(),
        items: items.into_iter().collect(),
    })
}

impl Parse for ShapeDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        let bracket = bracketed!(content in input);
        let dims = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
        Ok(ShapeDecl {
            dims: dims.into_iter().collect(),
            span: bracket.span.join(),
        })
    }
}

impl Parse for LayerDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name = if input.peek(Ident) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
            let name: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            Some(name)
        } else {
            None
        };
        let path: Path = input.call(Path::parse_mod_style)?;
        if path.is_ident("Residual") && input.peek(syn::token::Brace) {
            let content;
            syn::braced!(content in input);
            let body = Punctuated::<LayerDecl, Token![,]>::parse_terminated(&content)?;
            return Ok(LayerDecl {
                name,
                source: LayerSource::Residual {
                    keyword: path.segments[0].ident.clone(),
                    body: body.into_iter().collect(),
                },
            });
        }
        let args = if input.peek(syn::token::Paren) {
            Some(parse_args_in_parens(input)?)
        } else {
            None
        };
        Ok(LayerDecl {
            name,
            source: LayerSource::Call { path, args },
        })
    }
}

impl Parse for Network {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![struct]>()?;
        let name: Ident = input.parse()?;
        let generics: Generics = input.parse()?;
        let (input_shape, output) = if input.peek(Token![:]) {
            input.parse::<Token![:]>()?;
            let shape: ShapeDecl = input.parse()?;
            let output = if input.peek(Token![->]) {
                input.parse::<Token![->]>()?;
                Some(input.parse()?)
            } else {
                None
            };
            (Some(shape), output)
        } else {
            (None, None)
        };
        let content;
        let brace = syn::braced!(content in input);
        let layers = Punctuated::<LayerDecl, Token![,]>::parse_terminated(&content)?;
        Ok(Network {
            attrs,
            vis,
            name,
            generics,
            emits_struct: true,
            input: input_shape,
            output,
            layers: layers.into_iter().collect(),
            body_span: brace.span.join(),
        })
    }
}

/// `#[module(input = [2], output = [1])]` on a derived struct.
struct ModuleAttr {
    input: Option<ShapeDecl>,
    output: Option<ShapeDecl>,
}

impl Parse for ModuleAttr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut attr = ModuleAttr {
            input: None,
            output: None,
        };
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let shape: ShapeDecl = input.parse()?;
            match key.to_string().as_str() {
                "input" if attr.input.is_none() => attr.input = Some(shape),
                "output" if attr.output.is_none() => attr.output = Some(shape),
                "input" | "output" => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("`{key}` is given twice"),
                    ));
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown `module` option `{key}`; expected `input = [..]` or `output = [..]`"
                        ),
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(attr)
    }
}

impl Network {
    /// The description of a `#[derive(Module)]` struct.
    pub fn from_derive(input: syn::DeriveInput) -> syn::Result<Self> {
        let syn::Data::Struct(data) = &input.data else {
            return Err(syn::Error::new(
                input.ident.span(),
                "`#[derive(Module)]` needs a struct whose fields are layers",
            ));
        };
        let syn::Fields::Named(fields) = &data.fields else {
            return Err(syn::Error::new(
                input.ident.span(),
                "`#[derive(Module)]` needs named fields: their names are the state-dict keys",
            ));
        };
        let mut module_attr = ModuleAttr {
            input: None,
            output: None,
        };
        for attr in &input.attrs {
            if attr.path().is_ident("module") {
                module_attr = attr.parse_args()?;
            }
        }
        let mut layers = Vec::new();
        for field in &fields.named {
            let mut args = None;
            for attr in &field.attrs {
                if attr.path().is_ident("layer") {
                    args = Some(attr.parse_args_with(|input: ParseStream| {
                        let items = Punctuated::<Arg, Token![,]>::parse_terminated(input)?;
                        Ok(Args {
                            span: attr.span(),
                            items: items.into_iter().collect(),
                        })
                    })?);
                }
            }
            layers.push(LayerDecl {
                name: field.ident.clone(),
                source: LayerSource::Field {
                    ty: field.ty.clone(),
                    args,
                },
            });
        }
        Ok(Network {
            attrs: Vec::new(),
            vis: input.vis,
            body_span: fields.brace_token.span.join(),
            name: input.ident,
            generics: input.generics,
            emits_struct: false,
            input: module_attr.input,
            output: module_attr.output,
            layers,
        })
    }
}
