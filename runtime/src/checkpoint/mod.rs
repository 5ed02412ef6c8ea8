//! Checkpoints PyTorch can load and resumes that continue exactly.
//!
//! A checkpoint is a folder:
//! - `model.safetensors`: the model's `state_dict`, PyTorch's keys, dtypes and layouts;
//! - `optimizer.safetensors`: the optimizer's state as named tensors;
//! - `training_state.json`: format version, model type, epoch, global step, the shuffling RNG,
//!   every Dropout's RNG, the scheduler and the history.
//!
//! A save writes a sibling folder `<name>.partial`, syncs every file, then swaps it into
//! place (the old folder is renamed to `<name>.previous` for the instant of the swap and then
//! removed). A crash at any moment leaves a whole checkpoint under `<name>` or, during the
//! swap itself, under `<name>.previous`, which `load` falls back to.

mod identity;
mod weights;

pub use identity::{ModelIdentity, short_type_name};
pub use weights::{from_bytes, to_bytes};

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::module::Module;
use crate::optim::{LearningRate, Optimizer, OptimizerError};
use crate::seed::SeededRng;
use crate::state::{
    Entry, EntryMut, LoadStateError, load_state_dict, state_dict, visit_named, visit_named_mut,
};
use crate::train::History;

/// The version of the folder layout and `training_state.json`.
pub const FORMAT_VERSION: u32 = 1;

const MODEL_FILE: &str = "model.safetensors";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const STATE_FILE: &str = "training_state.json";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a valid safetensors file: {0}")]
    Format(String),
    #[error("tensor `{name}` has dtype {found}; only float32 and int64 occur in a state dict")]
    DType { name: String, found: String },
    #[error("{0}")]
    Keys(#[from] LoadStateError),
    #[error("{path}: {message}")]
    State { path: PathBuf, message: String },
    #[error(
        "{path}: the checkpoint is of another model than `{expected}`:\n  {}",
        differences.join("\n  ")
    )]
    ModelType {
        path: PathBuf,
        expected: String,
        differences: Vec<String>,
    },
    #[error("optimizer state: {0}")]
    Optimizer(#[from] OptimizerError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    std::fs::read(path).map_err(io(path))
}

/// Writes `bytes` to `path` and syncs it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let mut file = File::create(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

fn sync_dir(path: &Path) -> Result<(), CheckpointError> {
    File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(io(path))
}

/// Writes the model's state dict as one safetensors file that
/// `model.load_state_dict(safetensors.torch.load_file(path), strict=True)` accepts.
pub fn save_weights(
    model: &(impl Module + ?Sized),
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let bytes = to_bytes(&state_dict(model))?;
    let tmp = sibling(path, ".partial");
    write_synced(&tmp, &bytes)?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Loads weights strictly: every key, dtype and shape must match, and the error lists the
/// missing, unexpected and mis-shaped keys. On error the model is unchanged.
pub fn load_weights(
    model: &mut (impl Module + ?Sized),
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    let tensors = from_bytes(&read(path.as_ref())?)?;
    load_state_dict(model, &tensors)?;
    Ok(())
}

/// Everything besides the weights that a resumed `fit` needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    pub format_version: u32,
    /// The model's declared name and architecture, checked on load.
    pub model: ModelIdentity,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub global_step: usize,
    /// Each parameter group's learning rate for the next step (PyTorch keeps them in the
    /// optimizer's `param_groups`).
    pub lrs: Vec<f64>,
    /// The RNG that shuffles the batches.
    pub rng: SeededRng,
    /// Each Dropout's RNG, by key.
    pub module_rngs: BTreeMap<String, SeededRng>,
    pub scheduler: Option<BTreeMap<String, f64>>,
    pub history: History,
}

/// Every parameter group's current learning rate, as `TrainingState::lrs` keeps them.
pub fn group_lrs(optimizer: &(impl LearningRate + ?Sized)) -> Vec<f64> {
    (0..optimizer.num_groups())
        .map(|g| optimizer.group_lr(g))
        .collect()
}

impl TrainingState {
    pub fn new(
        model: &(impl Module + ?Sized),
        epoch: usize,
        global_step: usize,
        lrs: Vec<f64>,
        rng: SeededRng,
        history: History,
    ) -> Self {
        TrainingState {
            format_version: FORMAT_VERSION,
            model: ModelIdentity::of(model),
            epoch,
            global_step,
            lrs,
            rng,
            module_rngs: BTreeMap::new(),
            scheduler: None,
            history,
        }
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

fn module_rngs(model: &(impl Module + ?Sized)) -> BTreeMap<String, SeededRng> {
    let mut rngs = BTreeMap::new();
    visit_named(model, |name, entry| {
        if let Entry::Rng(rng) = entry {
            rngs.insert(name.to_string(), rng.clone());
        }
    });
    rngs
}

fn restore_module_rngs(model: &mut (impl Module + ?Sized), rngs: &BTreeMap<String, SeededRng>) {
    visit_named_mut(model, |name, entry| {
        if let (EntryMut::Rng(rng), Some(saved)) = (entry, rngs.get(name)) {
            *rng = saved.clone();
        }
    });
}

/// Saves model, optimizer and training state into the folder `dir`, atomically.
pub fn save_checkpoint<M: Module, O: Optimizer>(
    dir: impl AsRef<Path>,
    model: &M,
    optimizer: &O,
    state: &TrainingState,
) -> Result<(), CheckpointError> {
    let dir = dir.as_ref();
    let partial = sibling(dir, ".partial");
    let previous = sibling(dir, ".previous");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
    }
    std::fs::create_dir_all(&partial).map_err(io(&partial))?;
    let mut state = state.clone();
    state.module_rngs = module_rngs(model);
    write_synced(&partial.join(MODEL_FILE), &to_bytes(&state_dict(model))?)?;
    write_synced(
        &partial.join(OPTIMIZER_FILE),
        &to_bytes(&optimizer.state())?,
    )?;
    let json = serde_json::to_vec_pretty(&state).map_err(|e| CheckpointError::State {
        path: partial.join(STATE_FILE),
        message: e.to_string(),
    })?;
    write_synced(&partial.join(STATE_FILE), &json)?;
    sync_dir(&partial)?;
    if dir.exists() {
        if previous.exists() {
            std::fs::remove_dir_all(&previous).map_err(io(&previous))?;
        }
        std::fs::rename(dir, &previous).map_err(io(dir))?;
    }
    std::fs::rename(&partial, dir).map_err(io(dir))?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    if previous.exists() {
        std::fs::remove_dir_all(&previous).map_err(io(&previous))?;
    }
    Ok(())
}

/// The folder that holds the last whole checkpoint saved to `dir`.
pub fn checkpoint_folder(dir: impl AsRef<Path>) -> PathBuf {
    let dir = dir.as_ref();
    let previous = sibling(dir, ".previous");
    if !dir.join(STATE_FILE).exists() && previous.join(STATE_FILE).exists() {
        previous
    } else {
        dir.to_path_buf()
    }
}

/// Loads a checkpoint into `model` and `optimizer` and returns the training state. Every
/// file is read and checked before anything is changed.
pub fn load_checkpoint<M: Module, O: Optimizer>(
    dir: impl AsRef<Path>,
    model: &mut M,
    optimizer: &mut O,
) -> Result<TrainingState, CheckpointError> {
    let dir = checkpoint_folder(dir);
    let state_path = dir.join(STATE_FILE);
    let state: TrainingState =
        serde_json::from_slice(&read(&state_path)?).map_err(|e| CheckpointError::State {
            path: state_path.clone(),
            message: e.to_string(),
        })?;
    if state.format_version != FORMAT_VERSION {
        return Err(CheckpointError::State {
            path: state_path,
            message: format!(
                "format version {}, expected {FORMAT_VERSION}",
                state.format_version
            ),
        });
    }
    let expected = ModelIdentity::of(model);
    if state.model != expected {
        return Err(CheckpointError::ModelType {
            path: state_path,
            expected: expected.name.clone(),
            differences: state.model.differences(&expected, 10),
        });
    }
    let weights = from_bytes(&read(&dir.join(MODEL_FILE))?)?;
    let optimizer_state = from_bytes(&read(&dir.join(OPTIMIZER_FILE))?)?;
    // Keep the current weights, so that a bad optimizer file leaves the model as it was.
    let before = state_dict(model);
    load_state_dict(model, &weights)?;
    if state.lrs.len() != optimizer.num_groups() {
        return Err(CheckpointError::State {
            path: state_path,
            message: format!(
                "{} learning rates for an optimizer with {} parameter groups",
                state.lrs.len(),
                optimizer.num_groups()
            ),
        });
    }
    if let Err(e) = optimizer.load_state(&*model, &optimizer_state) {
        load_state_dict(model, &before).expect("the model's own state");
        return Err(e.into());
    }
    restore_module_rngs(model, &state.module_rngs);
    for (g, &lr) in state.lrs.iter().enumerate() {
        optimizer.set_group_lr(g, lr);
    }
    Ok(state)
}
