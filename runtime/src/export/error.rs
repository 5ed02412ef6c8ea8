//! Why an export failed. Each error names the layer by its state-dict path.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "`{path}` is a `{type_name}`, which export does not know how to write; implement `Module::describe` for it (or `ElementwiseFn::activation` for an activation of your own)"
    )]
    Unsupported {
        path: String,
        type_name: &'static str,
    },
    /// A layer's description does not fit the widths it runs at: a bug in a `describe`.
    #[error("`{path}` ({kind}) {problem}")]
    Inconsistent {
        path: String,
        kind: &'static str,
        problem: String,
    },
    /// A Linear weight an int8 export cannot hold (NaN or infinite).
    #[error("`{path}` cannot be exported in int8: it {problem}")]
    Quantization { path: String, problem: String },
    #[error("writing {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}
