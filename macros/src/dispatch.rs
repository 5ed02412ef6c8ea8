//! `dispatch_width!(n, 1..=64, W => expr)`: turns a run-time width into a compile-time one.
//! It expands to a `match` with one arm per width, each binding `const W: usize` to that
//! width and evaluating `expr`, so `expr` may instantiate a generic model (`Net::<W>`). The
//! value is `Some(expr)` for a width in the range and `None` otherwise.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitInt, Token};

/// More arms than this is a typo, not a dispatch: each arm is a full instantiation.
const MAX_ARMS: usize = 1024;

pub struct Dispatch {
    width: Expr,
    from: LitInt,
    to: LitInt,
    name: Ident,
    body: Expr,
}

impl Parse for Dispatch {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let width = input.parse()?;
        input.parse::<Token![,]>()?;
        let from = input.parse()?;
        input.parse::<Token![..=]>()?;
        let to = input.parse()?;
        input.parse::<Token![,]>()?;
        let name = input.parse()?;
        input.parse::<Token![=>]>()?;
        let body = input.parse()?;
        input.parse::<Option<Token![,]>>()?;
        Ok(Dispatch {
            width,
            from,
            to,
            name,
            body,
        })
    }
}

pub fn expand(d: &Dispatch) -> syn::Result<TokenStream> {
    let from: usize = d.from.base10_parse()?;
    let to: usize = d.to.base10_parse()?;
    if from > to || to - from >= MAX_ARMS {
        return Err(syn::Error::new(
            d.to.span(),
            format!("`{from}..={to}` must be a range of 1 to {MAX_ARMS} widths"),
        ));
    }
    let (width, name, body) = (&d.width, &d.name, &d.body);
    let arms = (from..=to).map(|w| {
        let w = proc_macro2::Literal::usize_unsuffixed(w);
        quote!(#w => {
            const #name: usize = #w;
            ::core::option::Option::Some(#body)
        })
    });
    Ok(quote! {
        match #width {
            #(#arms)*
            _ => ::core::option::Option::None,
        }
    })
}
