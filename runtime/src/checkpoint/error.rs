//! What can go wrong reading or writing weights and checkpoints. Every error of a file
//! names the file, and every error of a tensor names its key; text copied from a file is
//! capped, so a hostile file cannot make a megabyte of error message.

use std::path::PathBuf;

use crate::optim::OptimizerError;
use crate::optim::schedule::SchedulerStateError;
use crate::state::LoadStateError;

/// At most this many characters of anything a file says are quoted in an error.
const QUOTE_LIMIT: usize = 200;

/// `text`, or its first [`QUOTE_LIMIT`] characters and how long it was.
pub(crate) fn capped(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => text.to_string(),
        Some((end, _)) => format!("{}... ({} bytes in all)", &text[..end], text.len()),
    }
}

/// A load or save of weights or a checkpoint that failed; the file is always named.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Safetensors {
        path: PathBuf,
        source: SafetensorsError,
    },
    #[error("{}: {source}", path.display())]
    Keys {
        path: PathBuf,
        source: LoadStateError,
    },
    #[error("{}: {source}", path.display())]
    Optimizer {
        path: PathBuf,
        source: OptimizerError,
    },
    #[error("{}: {source}", path.display())]
    State { path: PathBuf, source: StateError },
    #[error(
        "{}: its SHA-256 is {found}, but the checkpoint recorded {expected}; the file is corrupt",
        path.display()
    )]
    Digest {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error(
        "{}: {found} bytes, but the checkpoint recorded {expected} (truncated?)",
        path.display()
    )]
    Length {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error(
        "{}: the checkpoint is of another model than `{expected}`:\n  {}",
        path.display(),
        differences.join("\n  ")
    )]
    ModelType {
        path: PathBuf,
        expected: String,
        differences: Vec<String>,
    },
}

/// What is wrong with the bytes of one safetensors file.
#[derive(Debug, thiserror::Error)]
pub enum SafetensorsError {
    #[error(
        "{len} bytes is too short for a safetensors file, which starts with an 8-byte header length"
    )]
    TooShort { len: u64 },
    #[error(
        "the header length field says {header} bytes, but only {available} follow it (truncated?)"
    )]
    HeaderLength { header: u64, available: u64 },
    #[error("the header length field says {header} bytes, more than safetensors' limit of 100 MB")]
    HeaderTooLarge { header: u64 },
    #[error(
        "the header is {header} bytes, more than the {limit} a file of this model's tensors can need; it holds tensors the model does not have"
    )]
    HeaderTooLargeForModel { header: u64, limit: u64 },
    #[error("the header is not UTF-8")]
    HeaderNotUtf8,
    #[error("invalid header: {}", capped(&.0.to_string()))]
    Header(#[source] serde_json::Error),
    #[error(
        "the header describes {expected} bytes of tensor data, but {found} follow it (truncated?)"
    )]
    DataLength { expected: u64, found: u64 },
    #[error(
        "metadata `format` is \"{0}\", not \"pt\" (nor absent, as `safetensors.torch.save_file` writes)"
    )]
    Format(String),
    #[error("tensor `{name}` has dtype {found}; only float32 and int64 occur in a state dict")]
    DType { name: String, found: String },
    #[error(
        "the tensor data's SHA-256 is {found}, but the header recorded {expected}; the file is corrupt"
    )]
    Digest { expected: String, found: String },
    #[error("tensor `{name}` cannot be written: {source}")]
    Write {
        name: String,
        source: safetensors::SafeTensorError,
    },
}

/// What is wrong with a checkpoint's `training_state.json`.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{len} bytes is more than a training state can be ({max} at most)")]
    TooLarge { len: u64, max: u64 },
    #[error("{}", capped(&.0.to_string()))]
    Json(#[source] serde_json::Error),
    #[error(
        "the contents' SHA-256 is {found}, but the file recorded {expected}; the file is corrupt"
    )]
    Digest { expected: String, found: String },
    #[error("format version {found}, but this build reads version {expected}")]
    Version { found: u32, expected: u32 },
    #[error("the state records no digest of `{0}`")]
    NoDigest(&'static str),
    #[error("`epoch` is 0, but a checkpoint is saved after an epoch completes")]
    EpochZero,
    #[error("the history has {records} epochs, more than `epoch` = {epoch}")]
    HistoryTooLong { records: usize, epoch: usize },
    #[error(
        "history record {index} is epoch {found}; records number epochs 1 to {epoch}, increasing"
    )]
    HistoryOrder {
        index: usize,
        found: usize,
        epoch: usize,
    },
    #[error("`lrs[{group}]` is {lr}; a learning rate is finite and not negative")]
    LearningRate { group: usize, lr: f64 },
    #[error("{found} learning rates for an optimizer with {groups} parameter groups")]
    LearningRates { found: usize, groups: usize },
    #[error("scheduler state: {0}")]
    Scheduler(#[from] SchedulerStateError),
}
