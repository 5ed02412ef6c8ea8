//! Shapes as the macro knows them: each dimension is a number (`28`) or a symbol the compiler
//! evaluates (`FEATURES`, `2 * H`, a generic `IN`, a nested model's `<T as Shaped>::OUT`).
//! Numbers are multiplied with checked arithmetic, so no shape the macro accepts overflows.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

#[derive(Clone, Debug)]
pub enum Dim {
    Known(usize),
    Symbol(Symbol),
}

/// A width only the compiler knows.
#[derive(Clone, Debug)]
pub struct Symbol {
    pub tokens: TokenStream,
    /// As written, for messages: `2 * H`.
    pub text: String,
    /// A bare path (`IN`, `FEATURES`): the only form a generic may take in a type on stable
    /// Rust, and one that needs no braces as a const argument.
    pub bare: bool,
}

impl Dim {
    pub fn symbol(tokens: TokenStream, bare: bool) -> Dim {
        let text = tokens.to_string().replace(" :: ", "::");
        Dim::Symbol(Symbol { tokens, text, bare })
    }

    /// As a const-generic argument: `16`, `IN` or `{ 2 * H }`.
    pub fn tokens(&self) -> TokenStream {
        match self {
            Dim::Known(n) => unsuffixed(*n).into_token_stream(),
            Dim::Symbol(s) if s.bare => s.tokens.clone(),
            Dim::Symbol(s) => {
                let t = &s.tokens;
                quote!({ #t })
            }
        }
    }

    /// As an expression (in a `const` assertion or `format!`).
    pub fn value(&self) -> TokenStream {
        match self {
            Dim::Known(n) => unsuffixed(*n).into_token_stream(),
            Dim::Symbol(s) if s.bare => s.tokens.clone(),
            Dim::Symbol(s) => {
                let t = &s.tokens;
                quote!((#t))
            }
        }
    }

    pub fn known(&self) -> Option<usize> {
        match self {
            Dim::Known(n) => Some(*n),
            Dim::Symbol(_) => None,
        }
    }
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Known(n) => write!(f, "{n}"),
            Dim::Symbol(s) => f.write_str(&s.text),
        }
    }
}

/// The shape of one sample; never empty.
#[derive(Clone, Debug)]
pub struct Dims(pub Vec<Dim>);

/// A product that does not fit in `usize`.
#[derive(Debug)]
pub struct Overflow;

impl Dims {
    pub fn known(dims: &[usize]) -> Result<Dims, Overflow> {
        let dims = Dims(dims.iter().copied().map(Dim::Known).collect());
        dims.flat()?;
        Ok(dims)
    }

    pub fn one(dim: Dim) -> Dims {
        Dims(vec![dim])
    }

    /// Every dimension as a number, when all are.
    pub fn numbers(&self) -> Option<Vec<usize>> {
        self.0.iter().map(Dim::known).collect()
    }

    /// The flat width: the checked product of numbers, or one symbol `{ a * b }`.
    pub fn flat(&self) -> Result<Dim, Overflow> {
        if let [only] = &self.0[..] {
            return Ok(only.clone());
        }
        if let Some(numbers) = self.numbers() {
            return numbers
                .iter()
                .try_fold(1usize, |a, &b| a.checked_mul(b))
                .map(Dim::Known)
                .ok_or(Overflow);
        }
        let factors = self.0.iter().map(Dim::value);
        let text: Vec<String> = self.0.iter().map(Dim::to_string).collect();
        Ok(Dim::Symbol(Symbol {
            tokens: quote!(1 #(* #factors)*),
            text: text.join(" * "),
            bare: false,
        }))
    }

    /// The row width as a const-generic argument. Shapes are checked when built, so the
    /// product fits.
    pub fn width(&self) -> TokenStream {
        self.flat().map_or_else(|_| quote!(0), |d| d.tokens())
    }

    /// Tokens that make the text `[1, 28, 28]` at run time (a symbol's value is printed).
    pub fn display(&self) -> TokenStream {
        if self.numbers().is_some() {
            let s = self.to_string();
            return quote!(::std::string::String::from(#s));
        }
        let holes = vec!["{}"; self.0.len()].join(", ");
        let format = format!("[{holes}]");
        let values = self.0.iter().map(Dim::value);
        quote!(::std::format!(#format, #(#values),*))
    }
}

impl std::fmt::Display for Dims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(Dim::to_string).collect();
        write!(f, "[{}]", parts.join(", "))
    }
}

/// `16` rather than `16usize`, so the expansion reads as a person would write it.
pub fn unsuffixed(n: usize) -> proc_macro2::Literal {
    proc_macro2::Literal::usize_unsuffixed(n)
}
