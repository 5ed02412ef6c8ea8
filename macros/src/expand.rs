//! Writes the tokens for a checked network: the struct (for `model!`), its constructor,
//! `Shaped`, `Module`, `Forward` with straight-line forward and backward, and `summary`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::plan::{Plan, Planned};

/// The tokens of a plan and of its residual blocks.
pub fn expand(plan: &Plan) -> TokenStream {
    let blocks = plan.blocks.iter().map(expand_one);
    let main = expand_one(plan);
    quote! {
        #main
        #(#blocks)*
    }
}

fn expand_one(plan: &Plan) -> TokenStream {
    let krate = quote!(::staticnn);
    let name = &plan.name;
    let vis = &plan.vis;
    let attrs = &plan.attrs;
    let generics = &plan.generics;
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    let in_w = plan.input.width();
    let out_w = plan.output.width();
    let fields: Vec<_> = plan.layers.iter().map(|l| &l.field).collect();
    let keys: Vec<_> = plan.layers.iter().map(|l| &l.key).collect();
    let inits: Vec<_> = plan.layers.iter().map(|l| &l.init).collect();
    // Widths only the compiler knows are asserted in a `const`: at item level for a plain
    // model (so `cargo check` reports them), in an associated const that `init` evaluates for
    // a generic one (its widths exist only once instantiated).
    let assertions = &plan.assertions;
    let (item_assertions, evaluate_assertions) = if assertions.is_empty() {
        (TokenStream::new(), TokenStream::new())
    } else if generics.params.is_empty() {
        let items = assertions
            .iter()
            .map(|(span, a)| quote_spanned!(*span=> const _: () = { #a };));
        (quote!(#(#items)*), TokenStream::new())
    } else {
        let assertions = assertions.iter().map(|(_, a)| a);
        (
            quote! {
                impl #impl_generics #name #type_generics #where_clause {
                    const __STATICNN_SHAPES: () = { #(#assertions)* };
                }
            },
            quote!(let () = Self::__STATICNN_SHAPES;),
        )
    };

    let definition = if plan.emits_struct {
        let types = plan.layers.iter().map(|l| &l.ty);
        quote! {
            #(#attrs)*
            #vis struct #name #generics #where_clause {
                #( #vis #fields: #types, )*
            }

            impl #impl_generics #name #type_generics #where_clause {
                /// Builds the model with PyTorch's default initialisation drawn from `rng`.
                #vis fn new<R: #krate::__private::Rng>(rng: &mut R) -> Self {
                    <Self as #krate::Init>::init(rng)
                }
            }
        }
    } else {
        TokenStream::new()
    };

    let widths = |l: &Planned| (l.input.width(), l.output.width());
    let forward = plan.layers.iter().enumerate().map(|(i, l)| {
        let field = &l.field;
        let (a, b) = widths(l);
        if i == 0 {
            quote_spanned!(l.span=> let x = #krate::Forward::<#a, #b>::forward(&self.#field, x);)
        } else {
            quote_spanned!(l.span=> let x = #krate::Forward::<#a, #b>::forward_owned(&self.#field, x);)
        }
    });
    let forward_train = plan.layers.iter().map(|l| {
        let field = &l.field;
        let (a, b) = widths(l);
        quote_spanned!(l.span=> let x = #krate::Forward::<#a, #b>::forward_train_raw(&mut self.#field, x);)
    });
    // Each layer's backward is given its input again: the model's for the first layer, the
    // output of the layer before for the others (still as the forward pass left it, since a
    // layer's backward runs before the backward of the layer before it).
    let input_of = |i: usize| match i.checked_sub(1).map(|p| &plan.layers[p]) {
        Some(before) => {
            let field = &before.field;
            let (a, b) = widths(before);
            quote_spanned!(before.span=> #krate::Forward::<#a, #b>::last_output(&self.#field))
        }
        None => quote_spanned!(plan.layers[0].span=> input),
    };
    let backward_call = |i: usize, l: &Planned| {
        let field = &l.field;
        let (a, b) = widths(l);
        let input = input_of(i);
        quote_spanned!(l.span=> let g = #krate::Forward::<#a, #b>::backward_raw(&mut self.#field, #input, g, key);)
    };
    let backward = plan
        .layers
        .iter()
        .enumerate()
        .rev()
        .map(|(i, l)| backward_call(i, l));
    // The same without the first layer's input gradient, which nothing needs.
    let backward_params = plan.layers.iter().enumerate().rev().map(|(i, l)| {
        if i == 0 {
            let field = &l.field;
            let (a, b) = widths(l);
            quote_spanned!(l.span=> #krate::Forward::<#a, #b>::backward_params_raw(&mut self.#field, input, g, key);)
        } else {
            backward_call(i, l)
        }
    });

    // The model's output is its last layer's.
    let last_output = match plan.layers.last() {
        Some(l) => {
            let field = &l.field;
            let (a, b) = widths(l);
            quote!(#krate::Forward::<#a, #b>::last_output(&self.#field))
        }
        None => quote!(::core::unreachable!()),
    };

    // Only the first layer sees the user's input.
    let validate = match plan.layers.first() {
        Some(l) => {
            let field = &l.field;
            let (a, b) = widths(l);
            quote!(#krate::Forward::<#a, #b>::validate(&self.#field, x))
        }
        None => quote!(::core::result::Result::Ok(())),
    };
    // What export walks: each layer with the widths it runs at.
    let children = plan.layers.iter().map(|l| {
        let (field, key) = (&l.field, &l.key);
        let (a, b) = widths(l);
        quote! {
            #krate::export::Child {
                key: #key,
                input: #a,
                output: #b,
                node: #krate::Module::describe(&self.#field),
            }
        }
    });
    let model_name = name.to_string();
    let input_display = plan.input.display();
    let rows = plan.layers.iter().map(|l| {
        let (field, key, display) = (&l.field, &l.key, &l.display);
        let shape = l.output.display();
        quote! {
            #krate::SummaryRow {
                key: ::std::string::String::from(#key),
                layer: ::std::string::String::from(#display),
                output_shape: #shape,
                params: #krate::Module::num_params(&self.#field),
            }
        }
    });

    quote! {
        #definition

        #item_assertions

        impl #impl_generics #name #type_generics #where_clause {
            /// Each layer with its state-dict key, output shape and parameter count.
            #vis fn summary(&self) -> #krate::Summary {
                #krate::Summary {
                    model: ::std::string::String::from(#model_name),
                    input_shape: #input_display,
                    rows: ::std::vec::Vec::from([#(#rows),*]),
                }
            }
        }

        impl #impl_generics #krate::Init for #name #type_generics #where_clause {
            fn init<R: #krate::__private::Rng>(rng: &mut R) -> Self {
                #evaluate_assertions
                Self {
                    #( #fields: #inits, )*
                }
            }
        }

        impl #impl_generics #krate::Shaped for #name #type_generics #where_clause {
            const IN: usize = #in_w;
            const OUT: usize = #out_w;
        }

        impl #impl_generics #krate::Module for #name #type_generics #where_clause {
            fn type_name(&self) -> &'static str {
                #model_name
            }

            fn visit(&self, visitor: &mut dyn #krate::Visitor) {
                #(
                    visitor.enter_module(#keys, #krate::Module::type_name(&self.#fields));
                    #krate::Module::visit(&self.#fields, visitor);
                    visitor.leave();
                )*
            }

            fn visit_mut(&mut self, visitor: &mut dyn #krate::VisitorMut) {
                #(
                    visitor.enter(#keys);
                    #krate::Module::visit_mut(&mut self.#fields, visitor);
                    visitor.leave();
                )*
            }

            fn set_training(&mut self, training: bool) {
                #( #krate::Module::set_training(&mut self.#fields, training); )*
            }

            fn describe(&self) -> #krate::export::Node<'_> {
                #krate::export::Node::Sequence {
                    type_name: #model_name,
                    layers: ::std::vec![#(#children),*],
                }
            }
        }

        impl #impl_generics #krate::Forward<#in_w, #out_w> for #name #type_generics #where_clause {
            fn forward(&self, x: &#krate::BatchSlice<#in_w>) -> #krate::Batch<#out_w> {
                #(#forward)*
                x
            }

            fn forward_train_raw(&mut self, x: &#krate::BatchSlice<#in_w>) -> &#krate::BatchSlice<#out_w> {
                #(#forward_train)*
                x
            }

            fn last_output(&self) -> &#krate::BatchSlice<#out_w> {
                #last_output
            }

            fn backward_raw(&mut self, input: &#krate::BatchSlice<#in_w>, g: &#krate::BatchSlice<#out_w>, key: &#krate::TraceKey) -> &#krate::BatchSlice<#in_w> {
                #(#backward)*
                g
            }

            fn backward_params_raw(&mut self, input: &#krate::BatchSlice<#in_w>, g: &#krate::BatchSlice<#out_w>, key: &#krate::TraceKey) {
                #(#backward_params)*
            }

            fn validate(&self, x: &#krate::BatchSlice<#in_w>) -> ::core::result::Result<(), #krate::InputError> {
                #validate
            }
        }
    }
}
