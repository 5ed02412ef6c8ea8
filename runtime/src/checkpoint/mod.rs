//! Checkpoints PyTorch can load and resumes that continue exactly.
//!
//! A checkpoint is a folder:
//! - `model.safetensors`: the model's `state_dict`, PyTorch's keys, dtypes and layouts;
//! - `optimizer.safetensors`: the optimizer's state as named tensors;
//! - `training_state.json`: format version, model type, epoch, global step, the shuffling RNG,
//!   every Dropout's RNG, the scheduler, the history and the caller's extra data, with the
//!   size and SHA-256 of the two other files, all sealed by the SHA-256 of itself.
//!
//! A save writes a sibling folder `<name>.partial`, syncs every file, then swaps it into
//! place (the old folder is renamed to `<name>.previous` for the instant of the swap and then
//! removed). A crash at any moment leaves a whole checkpoint under `<name>` or, during the
//! swap itself, under `<name>.previous`, which `load` falls back to.
//!
//! Loading reads and checks everything — sizes before contents, digests before parsing,
//! every field of the state, every key and shape against the model — before it changes
//! anything, and every error names the file (and the key, for a tensor).

mod digest;
mod error;
mod identity;
mod training_state;
mod weights;

pub(crate) use error::capped;
pub use error::{CheckpointError, SafetensorsError, StateError};
pub use identity::{ModelIdentity, short_type_name};
pub use training_state::{FORMAT_VERSION, TrainingState};
pub use weights::{from_bytes, to_bytes};

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::module::{Buffer, Module};
use crate::optim::{DynOptimizer, LearningRate, Optimizer, OptimizerRef};
use crate::seed::SeededRng;
use crate::state::{
    Entry, EntryMut, LoadStateError, NamedTensor, check_state_dict, load_state_dict, state_dict,
    visit_named, visit_named_mut,
};
use training_state::{Contents, FileDigest, seal, unseal};
use weights::{header_end, parse_header, tensors};

const MODEL_FILE: &str = "model.safetensors";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const STATE_FILE: &str = "training_state.json";
/// A history of a million epochs is a few hundred MB; anything larger is not ours.
const MAX_STATE_BYTES: u64 = 1 << 30;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn open(path: &Path) -> Result<(File, u64), CheckpointError> {
    let file = File::open(path).map_err(io(path))?;
    let len = file.metadata().map_err(io(path))?.len();
    Ok((file, len))
}

fn read_exact(file: &mut File, len: u64, path: &Path) -> Result<Vec<u8>, CheckpointError> {
    let mut bytes = Vec::new();
    file.take(len).read_to_end(&mut bytes).map_err(io(path))?;
    Ok(bytes)
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

fn encode(tensors: &[NamedTensor], path: &Path) -> Result<Vec<u8>, CheckpointError> {
    to_bytes(tensors).map_err(|source| CheckpointError::Safetensors {
        path: path.to_path_buf(),
        source,
    })
}

/// Extra metadata a header may carry beyond its tensor table (PyTorch writes none; some
/// tools add a configuration).
const HEADER_METADATA_ALLOWANCE: u64 = 4 << 20;

/// The longest header a file of `model`'s state dict can sensibly have: four times a
/// generous estimate of its tensor table, plus [`HEADER_METADATA_ALLOWANCE`]. A longer one
/// holds tensors the model does not have, and is refused before it is read.
fn header_limit(model: &(impl Module + ?Sized)) -> u64 {
    let mut table = 0u64;
    visit_named(model, |name, entry| {
        let dims = match entry {
            Entry::Parameter(p) => p.shape().len(),
            Entry::Buffer(Buffer::F32 { shape, .. }) => shape.len(),
            Entry::Buffer(Buffer::I64(_)) => 0,
            Entry::Rng(_) => return,
        };
        // `"name":{"dtype":"F32","shape":[..],"data_offsets":[a,b]},`
        table += name.len() as u64 + 64 + 21 * (dims as u64 + 2);
    });
    4 * table + HEADER_METADATA_ALLOWANCE
}

/// Reads a safetensors file header first: the length field is checked against the file's
/// size and `max_header`, and the header's tensors against the rest of it, before the data
/// is read.
fn read_safetensors(path: &Path, max_header: u64) -> Result<Vec<NamedTensor>, CheckpointError> {
    let bad = |source| CheckpointError::Safetensors {
        path: path.to_path_buf(),
        source,
    };
    let (mut file, len) = open(path)?;
    let first8 = read_exact(&mut file, 8, path)?;
    let end = header_end(&first8, len).map_err(bad)?;
    if end - 8 > max_header {
        return Err(bad(SafetensorsError::HeaderTooLargeForModel {
            header: end - 8,
            limit: max_header,
        }));
    }
    let header = read_exact(&mut file, end - 8, path)?;
    let metadata = parse_header(&header, len).map_err(bad)?;
    let data = read_exact(&mut file, len - end, path)?;
    tensors(&metadata, &data).map_err(bad)
}

/// Writes the model's state dict as one safetensors file that
/// `model.load_state_dict(safetensors.torch.load_file(path), strict=True)` accepts.
pub fn save_weights(
    model: &(impl Module + ?Sized),
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let bytes = encode(&state_dict(model), path)?;
    let tmp = sibling(path, ".partial");
    write_synced(&tmp, &bytes)?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Loads weights strictly: every key, dtype and shape must match, and the error lists the
/// missing, unexpected and mis-shaped keys. A digest in the file is checked; a file
/// without one (`safetensors.torch.save_file`'s) loads too. On error the model is unchanged.
pub fn load_weights(
    model: &mut (impl Module + ?Sized),
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let tensors = read_safetensors(path, header_limit(model))?;
    load_state_dict(model, &tensors).map_err(|source| CheckpointError::Keys {
        path: path.to_path_buf(),
        source,
    })
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

/// Every parameter group's current learning rate, as `TrainingState::lrs` keeps them.
pub fn group_lrs(optimizer: &(impl LearningRate + ?Sized)) -> Vec<f64> {
    (0..optimizer.num_groups())
        .map(|g| optimizer.group_lr(g))
        .collect()
}

/// Saves model, optimizer and training state into the folder `dir`, atomically.
pub fn save_checkpoint<M: Module, O: Optimizer>(
    dir: impl AsRef<Path>,
    model: &M,
    optimizer: &O,
    state: &TrainingState,
) -> Result<(), CheckpointError> {
    save_checkpoint_dyn(dir.as_ref(), model, &optimizer.state(), state)
}

/// [`save_checkpoint`] of a `dyn Module` and the optimizer's `state()`: not generic, so
/// compiled once, here, for every caller.
pub fn save_checkpoint_dyn(
    dir: &Path,
    model: &dyn Module,
    optimizer_state: &[NamedTensor],
    state: &TrainingState,
) -> Result<(), CheckpointError> {
    let partial = sibling(dir, ".partial");
    let previous = sibling(dir, ".previous");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
    }
    std::fs::create_dir_all(&partial).map_err(io(&partial))?;
    let mut state = state.clone();
    state.module_rngs = module_rngs(model);
    let model_bytes = encode(&state_dict(model), &partial.join(MODEL_FILE))?;
    let optimizer_bytes = encode(optimizer_state, &partial.join(OPTIMIZER_FILE))?;
    let contents = Contents {
        files: BTreeMap::from([
            (MODEL_FILE.to_string(), FileDigest::of(&model_bytes)),
            (OPTIMIZER_FILE.to_string(), FileDigest::of(&optimizer_bytes)),
        ]),
        state,
    };
    let state_path = partial.join(STATE_FILE);
    let json = seal(&contents).map_err(|source| CheckpointError::State {
        path: state_path.clone(),
        source,
    })?;
    write_synced(&partial.join(MODEL_FILE), &model_bytes)?;
    write_synced(&partial.join(OPTIMIZER_FILE), &optimizer_bytes)?;
    write_synced(&state_path, &json)?;
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

/// A checkpoint read from disk and checked, not yet applied to anything: every file's size
/// and digest, every tensor's format, every field of the training state.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// The folder read (`<dir>.previous` if a crash hit the swap).
    pub dir: PathBuf,
    pub state: TrainingState,
    weights: Vec<NamedTensor>,
    optimizer: Vec<NamedTensor>,
}

impl Checkpoint {
    /// Reads and checks the checkpoint in `dir`, changing nothing.
    pub fn read(dir: impl AsRef<Path>) -> Result<Self, CheckpointError> {
        // Not generic below here, so the reader is compiled in this crate, not in every caller.
        Self::read_at(dir.as_ref())
    }

    fn read_at(dir: &Path) -> Result<Self, CheckpointError> {
        let dir = checkpoint_folder(dir);
        let state_path = dir.join(STATE_FILE);
        let bad_state = |source| CheckpointError::State {
            path: state_path.clone(),
            source,
        };
        let (mut file, len) = open(&state_path)?;
        if len > MAX_STATE_BYTES {
            return Err(bad_state(StateError::TooLarge {
                len,
                max: MAX_STATE_BYTES,
            }));
        }
        let contents = unseal(&read_exact(&mut file, len, &state_path)?).map_err(bad_state)?;
        contents.state.validate().map_err(bad_state)?;
        let read_file = |name: &'static str| {
            let path = dir.join(name);
            let expected = contents
                .files
                .get(name)
                .ok_or_else(|| bad_state(StateError::NoDigest(name)))?;
            let (mut file, len) = open(&path)?;
            if len != expected.bytes {
                return Err(CheckpointError::Length {
                    path,
                    expected: expected.bytes,
                    found: len,
                });
            }
            let bytes = read_exact(&mut file, len, &path)?;
            let found = FileDigest::of(&bytes);
            if found != *expected {
                return Err(CheckpointError::Digest {
                    path,
                    expected: error::capped(&expected.sha256),
                    found: found.sha256,
                });
            }
            from_bytes(&bytes).map_err(|source| CheckpointError::Safetensors { path, source })
        };
        let weights = read_file(MODEL_FILE)?;
        let optimizer = read_file(OPTIMIZER_FILE)?;
        Ok(Checkpoint {
            dir,
            state: contents.state,
            weights,
            optimizer,
        })
    }

    /// Whether the checkpoint fits `model`: its name and architecture, and every key, dtype and shape of
    /// the weights and RNGs. Changes nothing.
    pub fn check<M: Module + ?Sized>(&self, model: &M) -> Result<(), CheckpointError> {
        let expected = ModelIdentity::of(model);
        if self.state.model != expected {
            return Err(CheckpointError::ModelType {
                path: self.dir.join(STATE_FILE),
                expected: expected.name.clone(),
                differences: self
                    .state
                    .model
                    .differences(&expected, 10)
                    .iter()
                    .map(|d| capped(d))
                    .collect(),
            });
        }
        check_state_dict(model, &self.weights).map_err(|source| CheckpointError::Keys {
            path: self.dir.join(MODEL_FILE),
            source,
        })?;
        let rngs = module_rngs(model);
        let saved = &self.state.module_rngs;
        let missing: Vec<String> = rngs
            .keys()
            .filter(|k| !saved.contains_key(*k))
            .cloned()
            .collect();
        let unexpected: Vec<String> = saved
            .keys()
            .filter(|k| !rngs.contains_key(*k))
            .cloned()
            .collect();
        if !(missing.is_empty() && unexpected.is_empty()) {
            return Err(CheckpointError::Keys {
                path: self.dir.join(STATE_FILE),
                source: LoadStateError {
                    missing,
                    unexpected,
                    mismatched: Vec::new(),
                },
            });
        }
        Ok(())
    }

    /// Puts the checkpoint into `model` and `optimizer` and returns the training state.
    /// Everything is checked first; the optimizer is loaded last, and if it refuses its
    /// state the model is put back as it was.
    pub fn apply<M: Module, O: Optimizer>(
        self,
        model: &mut M,
        optimizer: &mut O,
    ) -> Result<TrainingState, CheckpointError> {
        self.apply_dyn(model, &mut OptimizerRef(optimizer))
    }

    /// [`Checkpoint::apply`] to a `dyn Module` and a [`DynOptimizer`]: not generic, so
    /// compiled once, here, for every caller.
    pub fn apply_dyn(
        self,
        model: &mut dyn Module,
        optimizer: &mut dyn DynOptimizer,
    ) -> Result<TrainingState, CheckpointError> {
        self.check(model)?;
        let groups = optimizer.num_groups();
        if self.state.lrs.len() != groups {
            return Err(CheckpointError::State {
                path: self.state_path(),
                source: StateError::LearningRates {
                    found: self.state.lrs.len(),
                    groups,
                },
            });
        }
        let before = state_dict(model);
        load_state_dict(model, &self.weights).expect("checked above");
        if let Err(source) = optimizer.load_state_dyn(&*model, &self.optimizer) {
            load_state_dict(model, &before).expect("the model's own state");
            return Err(CheckpointError::Optimizer {
                path: self.dir.join(OPTIMIZER_FILE),
                source,
            });
        }
        restore_module_rngs(model, &self.state.module_rngs);
        for (g, &lr) in self.state.lrs.iter().enumerate() {
            optimizer.set_group_lr(g, lr);
        }
        Ok(self.state)
    }

    /// The path of the training state, for errors about its fields.
    pub fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }
}

/// Loads a checkpoint into `model` and `optimizer` and returns the training state. Every
/// file is read and checked before anything is changed.
pub fn load_checkpoint<M: Module, O: Optimizer>(
    dir: impl AsRef<Path>,
    model: &mut M,
    optimizer: &mut O,
) -> Result<TrainingState, CheckpointError> {
    Checkpoint::read(dir)?.apply(model, optimizer)
}
