//! The runtime of staticnn: the batch type, layers with hand-derived backward passes,
//! losses, optimizers, schedulers, and the helpers generated models call into.

pub mod checkpoint;
pub mod data;
pub mod export;
pub mod gradcheck;
pub mod history;
pub mod init;
pub(crate) mod json_float;
pub mod layers;
pub mod linalg;
pub mod loss;
pub mod metrics;
pub mod module;
pub mod optim;
pub mod parallel;
pub mod plot;
pub mod seed;
pub mod simd;
pub mod state;
pub mod summary;
pub mod tensor;
#[cfg(feature = "tensorboard")]
pub mod tensorboard;
pub mod train;

pub use checkpoint::{load_weights, save_weights};
pub use gradcheck::{GradCheck, GradCheckError, GradCheckReport};
pub use layers::*;
pub use linalg::{num_threads, set_num_threads};
pub use loss::{Loss, LossError, Reduction};
pub use module::{
    BackwardNeedsTrace, Buffer, BufferMut, Forward, Init, InputError, Module, Parameter,
    ParameterId, SelectError, Shaped, Trace, TraceKey, Visitor, VisitorMut,
};
pub use optim::{LearningRate, Optimizer};
pub use seed::{SeededRng, seeded_rng};
pub use state::{
    LoadStateError, NamedTensor, TensorData, check_state_dict, load_state_dict, state_dict,
};
pub use summary::{Summary, SummaryRow};
pub use tensor::{Batch, BatchSlice, ShapeError};

/// What generated code names; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use rand::Rng;
}

/// The names a training script needs: `use staticnn::prelude::*;`.
pub mod prelude {
    pub use crate::data::{DataLoader, Dataset};
    pub use crate::layers::*;
    pub use crate::loss::*;
    pub use crate::metrics::{CustomMetric, Metric};
    pub use crate::module::{Forward, Init, Module, Shaped, Trace};
    pub use crate::optim::*;
    pub use crate::seed::{SeededRng, seeded_rng};
    pub use crate::tensor::{Batch, BatchSlice};
    pub use crate::train::{
        CSVLogger, Callback, Clip, Control, EarlyStopping, Every, FitModel, FitOptions, History,
        Progress, evaluate, fit, predict,
    };
}
