//! A checked network, ready to expand: every layer with its field, key, runtime type,
//! constructor and shapes, and the residual blocks as networks of their own.

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Generics, Ident, Visibility};

use crate::dims::Dims;

/// One layer, ready to expand.
pub struct Planned {
    pub field: Ident,
    /// The layer's tokens, where errors about it point.
    pub span: Span,
    pub key: String,
    /// The layer as written, for the summary.
    pub display: String,
    pub ty: TokenStream,
    pub init: TokenStream,
    pub input: Dims,
    pub output: Dims,
}

/// A checked network: a model, a derived struct, or a residual block's body.
pub struct Plan {
    pub name: Ident,
    pub vis: Visibility,
    pub attrs: Vec<Attribute>,
    pub generics: Generics,
    /// `model!` and blocks write the struct; a derive only implements it.
    pub emits_struct: bool,
    pub input: Dims,
    pub output: Dims,
    pub layers: Vec<Planned>,
    /// `assert!`s for widths only the compiler knows (nested modules, const expressions).
    pub assertions: Vec<(Span, TokenStream)>,
    /// The bodies of residual blocks, each expanded as a struct of its own.
    pub blocks: Vec<Plan>,
}
