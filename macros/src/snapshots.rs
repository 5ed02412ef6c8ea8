//! The expansion of several models, formatted with prettyplease and pinned by insta.

use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as a file");
    prettyplease::unparse(&file)
}

#[test]
fn binary_classifier() {
    insta::assert_snapshot!(pretty(crate::expand_model(quote! {
        /// Scores a 2-D point: positive means class 1.
        pub struct BinaryClassifier: [2] -> [1] {
            fc1: Linear(16),
            ReLU,
            drop: Dropout(0.1),
            fc2: Linear(16),
            ReLU,
            out: Linear(1),
        }
    })));
}

#[test]
fn derive() {
    insta::assert_snapshot!(pretty(crate::expand_derive(quote! {
        pub struct Derived {
            fc1: Linear<3, 5>,
            act: Tanh,
            #[layer(0.25)]
            drop: Dropout,
            fc2: Linear<5, 2>,
        }
    })));
}

#[test]
fn nested() {
    insta::assert_snapshot!(pretty(crate::expand_model(quote! {
        pub struct WithEncoder: [4] -> [2] {
            enc: nets::Encoder,
            ReLU,
            head: Linear(2),
        }
    })));
}

#[test]
fn every_layer_kind() {
    insta::assert_snapshot!(pretty(crate::expand_model(quote! {
        struct EveryLayer: [3, 4] -> [5] {
            bn_cl: BatchNorm1d(3),
            ln: LayerNorm(eps = 1e-5),
            Flatten,
            fc: Linear(12, 10),
            LeakyReLU(0.2),
            bn: BatchNorm1d(momentum = 0.2),
            Sigmoid,
            Linear(8, bias = false),
            Tanh,
            GELU,
            GELU(approximate = "tanh"),
            ReLU,
            drop: Dropout(p = 0.3),
            head: Linear(5),
            Softmax,
            LogSoftmax,
        }
    })));
}

#[test]
fn small_cnn() {
    insta::assert_snapshot!(pretty(crate::expand_model(quote! {
        pub struct SmallCnn: [1, 28, 28] -> [10] {
            conv: Conv2d(8, kernel = 3, padding = 1),
            ReLU,
            pool: MaxPool2d(2),
            Flatten,
            fc: Linear(10),
        }
    })));
}

#[test]
fn generic_width() {
    insta::assert_snapshot!(pretty(crate::expand_model(quote! {
        /// Any number of features, chosen where the model is used.
        pub struct Scorer<const IN: usize>: [IN] -> [1] {
            fc1: Linear(HIDDEN),
            SiLU,
            out: Linear(1),
        }
    })));
}

#[test]
fn residual() {
    insta::assert_snapshot!(pretty(crate::expand_model(quote! {
        pub struct ResMlp: [8] -> [2] {
            fc: Linear(16),
            block: Residual { Linear(16), ReLU, Linear(16) },
            Residual { Hardswish, fc: Linear(16) },
            head: Linear(2),
        }
    })));
}

#[test]
fn errors_are_compile_errors_not_panics() {
    let out = crate::expand_model(quote! {
        struct Broken: [2] { fc: Linaer(3), drop: Dropout(1.5), fc: Linear(0) }
    })
    .to_string();
    assert_eq!(out.matches("compile_error").count(), 4, "{out}");
}
