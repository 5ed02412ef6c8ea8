//! Callbacks run after each epoch: EarlyStopping and user closures.

use serde::{Deserialize, Serialize};

use super::keys::RunKeys;
use crate::history::EpochRecord;
use crate::module::{Forward, Module};
use crate::state::{LoadStateError, NamedTensor, TensorData, check_state_dict, load_state_dict};
use crate::tensor::{Batch, BatchSlice, ShapeError};

/// Whether training goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// A callback's saved state that does not fit it.
#[derive(Debug, thiserror::Error)]
pub enum CallbackStateError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("saved best weights: {0}")]
    Weights(#[from] LoadStateError),
    #[error("saved best weights: tensor `{0}` is not a whole number of values")]
    Encoding(String),
    #[error(
        "the saved state watches `{saved}` (larger better: {saved_higher}), this callback `{monitor}` (larger better: {higher}); callbacks are matched by their position in FitOptions::callbacks"
    )]
    Monitor {
        saved: String,
        saved_higher: bool,
        monitor: String,
        higher: bool,
    },
}

/// The model being trained, as a callback sees it: its state, and inference on it. A
/// callback is not generic over the model, so inference checks the widths at run time.
pub trait FitModel {
    fn module(&self) -> &dyn Module;
    fn module_mut(&mut self) -> &mut dyn Module;
    /// Values per input row and per output row.
    fn widths(&self) -> (usize, usize);
    /// `forward` (eval semantics, nothing kept for backward) on whole input rows, flat.
    fn forward_flat(&self, input: &[f32]) -> Result<Vec<f32>, ShapeError>;
}

/// A callback asked a model for other widths than its own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the model maps {model_in} to {model_out} values per row; asked for {asked_in} to {asked_out}"
)]
pub struct WidthError {
    pub model_in: usize,
    pub model_out: usize,
    pub asked_in: usize,
    pub asked_out: usize,
}

impl dyn FitModel + '_ {
    /// `model.forward(x)` on the model being trained (PyTorch's `with torch.no_grad():
    /// model(x)` inside a callback).
    pub fn forward<const I: usize, const O: usize>(
        &self,
        x: &BatchSlice<I>,
    ) -> Result<Batch<O>, WidthError> {
        let (model_in, model_out) = self.widths();
        let error = WidthError {
            model_in,
            model_out,
            asked_in: I,
            asked_out: O,
        };
        if (model_in, model_out) != (I, O) {
            return Err(error);
        }
        let out = self.forward_flat(x.as_slice()).map_err(|_| error.clone())?;
        Batch::from_vec(out).map_err(|_| error)
    }
}

/// A typed model as a [`FitModel`]; `fit` hands callbacks one.
pub struct ModelRef<'a, M, const IN: usize, const OUT: usize>(pub &'a mut M);

impl<M: Forward<IN, OUT>, const IN: usize, const OUT: usize> FitModel for ModelRef<'_, M, IN, OUT> {
    fn module(&self) -> &dyn Module {
        &*self.0
    }
    fn module_mut(&mut self) -> &mut dyn Module {
        &mut *self.0
    }
    fn widths(&self) -> (usize, usize) {
        (IN, OUT)
    }
    fn forward_flat(&self, input: &[f32]) -> Result<Vec<f32>, ShapeError> {
        // Through the one copy of `forward_rows` compiled for this model.
        Ok(super::DynForward::forward_rows(self, input)?.into_vec())
    }
}

/// Something `fit` calls after every epoch.
pub trait Callback {
    /// What errors call it: the type's name unless the callback says otherwise.
    fn name(&self) -> &str {
        let full = std::any::type_name::<Self>();
        full.rsplit("::").next().unwrap_or(full)
    }
    /// The history key this callback watches. `fit` checks it against the keys the run
    /// produces before the first epoch, so a typo is an error rather than a callback that
    /// never fires.
    fn monitor(&self) -> Option<&str> {
        None
    }
    /// Called before the first epoch (and before a resume loads this callback's state) with
    /// the run's keys and their directions; Keras resets its callbacks here.
    fn on_train_begin(&mut self, _keys: &RunKeys) {}
    /// After each epoch, with its record and the model (whose `forward` it may run).
    fn on_epoch_end(&mut self, record: &EpochRecord, model: &mut dyn FitModel) -> Control;
    /// Called once when training ends, stopped early or not (not after an error).
    fn on_train_end(&mut self, _model: &mut dyn FitModel) {}
    /// An error the callback met (a file it could not write), which stops `fit` with
    /// [`FitError::Callback`](super::FitError::Callback): asked after `on_train_begin`
    /// (so before the first epoch) and after each `on_epoch_end` (once the epoch is
    /// recorded and saved).
    fn take_error(&mut self) -> Option<String> {
        None
    }
    /// What a checkpoint keeps so that a resumed run continues where this one stopped;
    /// `None` for a callback without state.
    fn state(&self) -> Option<serde_json::Value> {
        None
    }
    /// Puts back what `state` returned. Changes nothing on error.
    fn load_state(
        &mut self,
        _state: &serde_json::Value,
        _model: &dyn Module,
    ) -> Result<(), CallbackStateError> {
        Ok(())
    }
}

/// A closure `|record| Control::Continue` is a callback.
impl<F: FnMut(&EpochRecord) -> Control> Callback for F {
    fn on_epoch_end(&mut self, record: &EpochRecord, _: &mut dyn FitModel) -> Control {
        self(record)
    }
}

/// Keras's `EarlyStopping`, to the letter of its documentation and code: stops when the
/// monitored value has not improved by more than `min_delta` for `patience` epochs — the
/// number of epochs since the last improvement reaching `patience` stops, so patience 2 after
/// a best epoch 1 stops at epoch 3 (Keras's `wait >= patience`). With a `baseline`, an epoch
/// must also beat the baseline to reset the count. With `restore_best_weights`, the model
/// ends with the best epoch's weights (buffers included, as Keras's `get_weights`), whether
/// or not training stopped early.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    pub monitor: String,
    /// Resolved before the first epoch from the run's keys unless [`EarlyStopping::mode`]
    /// set it (Keras's `mode="auto"`).
    pub higher_is_better: bool,
    mode_set: bool,
    pub patience: usize,
    pub min_delta: f64,
    pub baseline: Option<f64>,
    /// Epochs (counted from 0, as Keras counts) to train before watching at all.
    pub start_from_epoch: usize,
    pub restore_best_weights: bool,
    state: StoppingState,
}

/// What EarlyStopping carries from epoch to epoch: Keras's `wait`, `best`, `best_epoch`,
/// `best_weights` and `stopped_epoch`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoppingState {
    /// What was watched, and in which direction: a state is only loaded into the same.
    monitor: String,
    higher_is_better: bool,
    #[serde(with = "crate::json_float::option")]
    best: Option<f64>,
    best_epoch: usize,
    wait: usize,
    stopped_epoch: Option<usize>,
    best_weights: Option<Vec<SavedTensor>>,
}

/// One tensor of the best weights, its bytes as hex: exact, NaN included, and half the size
/// of decimal JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedTensor {
    name: String,
    shape: Vec<usize>,
    learnable: bool,
    dtype: String,
    hex: String,
}

fn to_hex(bytes: impl Iterator<Item = u8>) -> String {
    bytes.map(|b| format!("{b:02x}")).collect()
}

impl SavedTensor {
    fn of(t: &NamedTensor) -> Self {
        let hex = match &t.data {
            TensorData::F32(v) => to_hex(v.iter().flat_map(|x| x.to_le_bytes())),
            TensorData::I64(v) => to_hex(v.iter().flat_map(|x| x.to_le_bytes())),
        };
        SavedTensor {
            name: t.name.clone(),
            shape: t.shape.clone(),
            learnable: t.learnable,
            dtype: t.data.dtype().to_string(),
            hex,
        }
    }

    fn tensor(&self) -> Result<NamedTensor, CallbackStateError> {
        let bad = || CallbackStateError::Encoding(self.name.clone());
        if !self.hex.is_ascii() || !self.hex.len().is_multiple_of(2) {
            return Err(bad());
        }
        let bytes = self
            .hex
            .as_bytes()
            .chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        let data = match self.dtype.as_str() {
            "float32" if bytes.len().is_multiple_of(4) => TensorData::F32(
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect(),
            ),
            "int64" if bytes.len().is_multiple_of(8) => TensorData::I64(
                bytes
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            ),
            _ => return Err(bad()),
        };
        Ok(NamedTensor {
            name: self.name.clone(),
            shape: self.shape.clone(),
            data,
            learnable: self.learnable,
        })
    }
}

impl EarlyStopping {
    /// Watches `monitor` (`val_loss`, `val_accuracy`, a custom metric's key, ...) with Keras's
    /// defaults: patience 0, min_delta 0, no baseline, mode auto (larger is better for the
    /// keys whose metric says so, smaller for losses and errors).
    pub fn new(monitor: &str) -> Self {
        EarlyStopping {
            monitor: monitor.to_string(),
            higher_is_better: crate::metrics::higher_is_better(monitor),
            mode_set: false,
            patience: 0,
            min_delta: 0.0,
            baseline: None,
            start_from_epoch: 0,
            restore_best_weights: false,
            state: StoppingState::default(),
        }
    }
    /// Keras's `mode`: `Max` when larger is better, `Min` when smaller is.
    pub fn mode(mut self, mode: crate::optim::PlateauMode) -> Self {
        self.higher_is_better = mode == crate::optim::PlateauMode::Max;
        self.mode_set = true;
        self
    }
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }
    /// An improvement must exceed this; its sign is ignored, as in Keras.
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta.abs();
        self
    }
    pub fn baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }
    pub fn start_from_epoch(mut self, epochs: usize) -> Self {
        self.start_from_epoch = epochs;
        self
    }
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }
    /// The 1-based epoch with the best monitored value (0 before any).
    pub fn best_epoch(&self) -> usize {
        self.state.best_epoch
    }
    /// The best monitored value so far.
    pub fn best(&self) -> Option<f64> {
        self.state.best
    }
    /// The 1-based epoch training stopped at, if it stopped early.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.state.stopped_epoch
    }

    /// Keras's `_is_improvement`: `monitor_op(value - min_delta, reference)` with min_delta's
    /// sign flipped for mode min. NaN never improves on anything.
    fn is_improvement(&self, value: f64, reference: Option<f64>) -> bool {
        match reference {
            None => true,
            Some(r) if self.higher_is_better => value - self.min_delta > r,
            Some(r) => value + self.min_delta < r,
        }
    }

    fn weights(model: &dyn Module) -> Vec<SavedTensor> {
        crate::state::state_dict(model)
            .iter()
            .map(SavedTensor::of)
            .collect()
    }
}

impl Callback for EarlyStopping {
    fn monitor(&self) -> Option<&str> {
        Some(&self.monitor)
    }

    fn on_train_begin(&mut self, keys: &RunKeys) {
        if !self.mode_set
            && let Some(higher) = keys.higher_is_better(&self.monitor)
        {
            self.higher_is_better = higher;
        }
        self.state = StoppingState {
            monitor: self.monitor.clone(),
            higher_is_better: self.higher_is_better,
            ..StoppingState::default()
        };
    }

    /// Keras's `on_epoch_end`, line for line; Keras's 0-based `epoch` is `record.epoch - 1`.
    fn on_epoch_end(&mut self, record: &EpochRecord, model: &mut dyn FitModel) -> Control {
        let model = model.module();
        let Some(current) = record.get(&self.monitor) else {
            return Control::Continue;
        };
        let epoch = record.epoch.saturating_sub(1);
        if epoch < self.start_from_epoch {
            return Control::Continue;
        }
        if self.restore_best_weights && self.state.best_weights.is_none() {
            // Never improved yet: the current weights are the best there are.
            self.state.best_weights = Some(Self::weights(model));
            self.state.best_epoch = record.epoch;
        }
        self.state.wait += 1;
        if self.is_improvement(current, self.state.best) {
            self.state.best = Some(current);
            self.state.best_epoch = record.epoch;
            if self.restore_best_weights {
                self.state.best_weights = Some(Self::weights(model));
            }
            // Only restart the count on beating both the baseline and the previous best.
            if self.baseline.is_none() || self.is_improvement(current, self.baseline) {
                self.state.wait = 0;
            }
            return Control::Continue;
        }
        if self.state.wait >= self.patience && epoch > 0 {
            self.state.stopped_epoch = Some(record.epoch);
            return Control::Stop;
        }
        Control::Continue
    }

    fn on_train_end(&mut self, model: &mut dyn FitModel) {
        if !self.restore_best_weights {
            return;
        }
        if let Some(saved) = &self.state.best_weights {
            let weights: Vec<NamedTensor> = saved
                .iter()
                .map(|t| {
                    t.tensor()
                        .expect("encoded by SavedTensor::of or checked on load")
                })
                .collect();
            load_state_dict(model.module_mut(), &weights).expect("checked against this model");
        }
    }

    fn state(&self) -> Option<serde_json::Value> {
        Some(serde_json::to_value(&self.state).expect("numbers and strings serialise"))
    }

    fn load_state(
        &mut self,
        state: &serde_json::Value,
        model: &dyn Module,
    ) -> Result<(), CallbackStateError> {
        let loaded = StoppingState::deserialize(state)?;
        // Callbacks are matched by position: a reordered list must not cross-load states.
        if (loaded.monitor.as_str(), loaded.higher_is_better)
            != (self.monitor.as_str(), self.higher_is_better)
        {
            return Err(CallbackStateError::Monitor {
                saved: loaded.monitor,
                saved_higher: loaded.higher_is_better,
                monitor: self.monitor.clone(),
                higher: self.higher_is_better,
            });
        }
        if let Some(saved) = &loaded.best_weights {
            let weights = saved
                .iter()
                .map(SavedTensor::tensor)
                .collect::<Result<Vec<_>, _>>()?;
            check_state_dict(model, &weights)?;
        }
        self.state = loaded;
        Ok(())
    }
}
