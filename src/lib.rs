#![doc = include_str!("../README.md")]

pub use staticnn_macros::{Module, dispatch_width, model};
pub use staticnn_runtime::*;

/// The names a training script needs: `use staticnn::prelude::*;`.
pub mod prelude {
    pub use staticnn_macros::{Module, model};
    pub use staticnn_runtime::prelude::*;
}
