//! Writes the tokens for a checked network: the struct (for `model!`), its constructor,
//! `Shaped`, `Module`, `Forward` with straight-line forward and backward, and `summary`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::valid::Plan;

pub fn expand(plan: &Plan<'_>) -> TokenStream {
    let krate = quote!(::staticnn);
    let net = plan.net;
    let name = &net.name;
    let vis = &net.vis;
    let attrs = &net.attrs;
    let in_w = plan.input.width();
    let out_w = plan.output.width();
    let fields: Vec<_> = plan.layers.iter().map(|l| &l.field).collect();
    let keys: Vec<_> = plan.layers.iter().map(|l| &l.key).collect();
    let inits: Vec<_> = plan.layers.iter().map(|l| &l.init).collect();
    let assertions = &plan.assertions;

    let definition = if net.emits_struct {
        let types = plan.layers.iter().map(|l| &l.ty);
        quote! {
            #(#attrs)*
            #vis struct #name {
                #( #vis #fields: #types, )*
            }

            impl #name {
                /// Builds the model with PyTorch's default initialisation drawn from `rng`.
                #vis fn new<R: #krate::__private::Rng>(rng: &mut R) -> Self {
                    <Self as #krate::Init>::init(rng)
                }
            }
        }
    } else {
        TokenStream::new()
    };

    let widths = |l: &crate::valid::Planned| (l.input.width(), l.output.width());
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
    let backward_call = |l: &crate::valid::Planned| {
        let field = &l.field;
        let (a, b) = widths(l);
        quote_spanned!(l.span=> let g = #krate::Forward::<#a, #b>::backward_raw(&mut self.#field, g);)
    };
    let backward = plan.layers.iter().rev().map(backward_call);
    // The same without the first layer's input gradient, which nothing needs.
    let backward_params = plan.layers.iter().enumerate().rev().map(|(i, l)| {
        if i == 0 {
            let field = &l.field;
            let (a, b) = widths(l);
            quote_spanned!(l.span=> #krate::Forward::<#a, #b>::backward_params_raw(&mut self.#field, g);)
        } else {
            backward_call(l)
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

        #(#assertions)*

        impl #name {
            /// Each layer with its state-dict key, output shape and parameter count.
            #vis fn summary(&self) -> #krate::Summary {
                #krate::Summary {
                    model: ::std::string::String::from(#model_name),
                    input_shape: #input_display,
                    rows: ::std::vec::Vec::from([#(#rows),*]),
                }
            }
        }

        impl #krate::Init for #name {
            fn init<R: #krate::__private::Rng>(rng: &mut R) -> Self {
                Self {
                    #( #fields: #inits, )*
                }
            }
        }

        impl #krate::Shaped for #name {
            const IN: usize = #in_w;
            const OUT: usize = #out_w;
        }

        impl #krate::Module for #name {
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
        }

        impl #krate::Forward<#in_w, #out_w> for #name {
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

            fn backward_raw(&mut self, g: &#krate::BatchSlice<#out_w>) -> &#krate::BatchSlice<#in_w> {
                #(#backward)*
                g
            }

            fn backward_params_raw(&mut self, g: &#krate::BatchSlice<#out_w>) {
                #(#backward_params)*
            }

            fn validate(&self, x: &#krate::BatchSlice<#in_w>) -> ::core::result::Result<(), #krate::InputError> {
                #validate
            }
        }
    }
}
