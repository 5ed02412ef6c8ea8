//! The macros of staticnn: `model!` declares a network; `#[derive(Module)]` implements one
//! from a struct of layers. Both parse into one description (`ast`), are checked in one pass
//! that reports every error at its token (`valid`, with each kind's rule in `catalog`), and
//! are written out by one expander (`expand`).

mod args;
mod ast;
mod catalog;
mod ctxt;
mod derive;
mod dims;
mod dispatch;
mod expand;
mod layer;
mod plan;
mod valid;

#[cfg(test)]
mod snapshots;

use proc_macro::TokenStream;

/// Declares a network; see the crate documentation of `staticnn` for the grammar.
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    expand_model(input.into()).into()
}

/// Implements `Module`, `Forward`, `Shaped`, `Init` and `summary` for a struct of layers,
/// run in field order.
#[proc_macro_derive(Module, attributes(module, layer))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    expand_derive(input.into()).into()
}

/// Turns a run-time width into a compile-time one:
/// `dispatch_width!(n, 1..=64, W => train::<Net<W>, W>(args))` is `Some(..)` evaluated with
/// `const W: usize = n` when `n` is in the range, `None` otherwise.
#[proc_macro]
pub fn dispatch_width(input: TokenStream) -> TokenStream {
    syn::parse2::<dispatch::Dispatch>(input.into())
        .and_then(|d| dispatch::expand(&d))
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand_model(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    syn::parse2::<ast::Network>(input)
        .and_then(|net| valid::check(&net).map(|plan| expand::expand(&plan)))
        .unwrap_or_else(syn::Error::into_compile_error)
}

fn expand_derive(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    syn::parse2::<syn::DeriveInput>(input)
        .and_then(ast::Network::from_derive)
        .and_then(|net| valid::check(&net).map(|plan| expand::expand(&plan)))
        .unwrap_or_else(syn::Error::into_compile_error)
}
