use crate::loss::LossError;
use crate::module::InputError;
use crate::optim::OptimizerError;

/// Why [`DataParallel::new`](super::DataParallel::new) refused.
#[derive(Debug, thiserror::Error)]
pub enum DataParallelError {
    #[error("DataParallel needs at least one thread, got 0")]
    NoThreads,
    #[error(
        "DataParallel cannot split a model with buffers: `{key}` holds batch statistics, \
         which would be each thread's rows instead of the batch's; train it on one thread"
    )]
    BatchStatistics { key: String },
    #[error(
        "DataParallel cannot split a model with random streams yet: `{key}` (Dropout) draws \
         its masks from one stream in row order, which rows split over threads would change; \
         train it on one thread"
    )]
    RandomStream { key: String },
    #[error(
        "DataParallel builds its replicas from the model's type, and the settings of `{layer}` \
         differ from the type's (one was changed after construction: an eps, a slope, a bias \
         removed); declare it in the model instead"
    )]
    Settings { layer: String },
    #[error("DataParallel could not start its threads: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
}

/// Why a [`DataParallel::step`](super::DataParallel::step) failed. The model's weights are
/// unchanged unless the optimizer itself failed part-way.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Loss(#[from] LossError),
    #[error(transparent)]
    Optimizer(#[from] OptimizerError),
    #[error(
        "parameter {index} of the model no longer has the length it had when the DataParallel \
         was built; build a new one after changing a layer"
    )]
    Replica { index: usize },
}
