//! What a kind's rule is given (`Layer`: its arguments, its input shape, who is asking) and
//! what it returns (`Built`: runtime type, constructor, output shape), with the checks the
//! rules share: flat input, image input, a given width against the actual one, sizes that
//! fit. Widths only the compiler knows are checked by generated `const` assertions.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use staticnn_geometry::SizeError;
use syn::Ident;

use crate::args::Values;
use crate::ctxt::Ctxt;
use crate::dims::{Dim, Dims};

/// The errors of one pass and the assertions left for the compiler.
pub struct Checker {
    pub cx: Ctxt,
    /// `assert!(a == b, "..")` for widths the macro cannot evaluate, with the span of the
    /// token at fault (where the compiler reports a failure).
    pub assertions: Vec<(Span, TokenStream)>,
    /// The model's const generic parameters.
    pub generics: Vec<Ident>,
}

impl Checker {
    /// Requires `a == b`: at once when both are numbers, else by a const assertion that
    /// carries the same message.
    pub fn require_equal(&mut self, span: Span, a: &Dim, b: &Dim, message: String) {
        match (a, b) {
            (Dim::Known(x), Dim::Known(y)) => {
                if x != y {
                    self.cx.error_at(span, message);
                }
            }
            _ => {
                let (a, b) = (a.value(), b.value());
                self.assertions.push((
                    span,
                    quote_spanned!(span=> ::core::assert!(#a == #b, #message);),
                ));
            }
        }
    }
}

/// A built-in layer being checked.
pub struct Layer<'a> {
    pub ck: &'a mut Checker,
    /// The kind's token, where errors point.
    pub span: Span,
    pub values: &'a Values,
    pub input: &'a Dims,
    /// This layer and the one that set its input, as messages name them.
    pub this: &'a str,
    pub prev: &'a str,
    /// A derived field's output width, read from its type (`Linear<3, 5>`).
    pub declared_out: Option<Dim>,
    /// A `#[derive(Module)]` field, whose widths are in its type.
    pub derived: bool,
}

/// A built-in layer's runtime type, constructor (given `rng`) and output shape.
pub struct Built {
    pub ty: TokenStream,
    pub init: TokenStream,
    pub output: Dims,
}

impl Layer<'_> {
    pub fn error(&mut self, message: impl std::fmt::Display) {
        self.ck.cx.error_at(self.span, message);
    }

    /// The input width, when the input is flat.
    pub fn flat(&mut self) -> Option<Dim> {
        match &self.input.0[..] {
            [d] => Some(d.clone()),
            _ => {
                let (this, prev, input) = (self.this, self.prev, self.input);
                self.error(format!(
                    "{this} needs a flat input but {prev} produces {input}; put `Flatten` before it"
                ));
                None
            }
        }
    }

    /// `[C, H, W]` in numbers.
    pub fn image(&mut self) -> Option<(usize, usize, usize)> {
        match self.input.numbers().as_deref() {
            Some(&[c, h, w]) => Some((c, h, w)),
            _ => {
                let (this, prev, input) = (self.this, self.prev, self.input);
                self.error(format!(
                    "{this} needs an image input [C, H, W] of integer sizes but {prev} produces {input}"
                ));
                None
            }
        }
    }

    /// A width the user gave (`in_features = 4`) must be the one the input has.
    pub fn given_matches(&mut self, param: &str, actual: &Dim) {
        if let Some(given) = self.values.dim(param) {
            let (this, prev, input) = (self.this, self.prev, self.input);
            let message = format!(
                "{this} expects {param} {given} but {prev} produces {input}, width {actual}"
            );
            self.ck.require_equal(self.span, &given, actual, message);
        }
    }

    /// A shape of numbers whose product fits in `usize`.
    pub fn known(&mut self, dims: &[usize]) -> Option<Dims> {
        match Dims::known(dims) {
            Ok(d) => Some(d),
            Err(_) => {
                let this = self.this;
                self.error(format!(
                    "{this} would produce {dims:?}, whose size overflows usize"
                ));
                None
            }
        }
    }

    /// A window's output size, or the error that says why there is none.
    pub fn size(
        &mut self,
        axis: &str,
        input: usize,
        size: Result<usize, SizeError>,
    ) -> Option<usize> {
        match size {
            Ok(s) => Some(s),
            Err(e) => {
                let (this, prev, shape) = (self.this, self.prev, self.input);
                let why = match e {
                    SizeError::KernelTooLarge { span, padded } => format!(
                        "its window spans {span} {axis}s but {prev} gives it {shape}, {padded} {axis}s with padding"
                    ),
                    SizeError::PaddingTooLarge { padding, kernel } => format!(
                        "its padding {padding} is more than half its kernel {kernel}, which PyTorch refuses"
                    ),
                    SizeError::Overflow => {
                        format!("its sizes over the {input} {axis}s of {shape} overflow usize")
                    }
                    SizeError::Zero => "a kernel, stride or dilation is zero".to_string(),
                };
                self.error(format!("{this} does not fit: {why}"));
                None
            }
        }
    }

    /// A layer that keeps the shape: `ty` built by `init`.
    pub fn same(&self, ty: TokenStream, init: TokenStream) -> Built {
        Built {
            ty,
            init,
            output: self.input.clone(),
        }
    }

    /// A parameter-free activation of any shape: `::staticnn::Name`, built by `Name::new()`.
    pub fn activation(&self, name: &str) -> Built {
        let name = format_ident!("{name}");
        let ty = quote!(::staticnn::#name);
        self.same(ty.clone(), quote!(<#ty>::new()))
    }
}
