//! Callbacks run after each epoch: EarlyStopping and user closures.

use super::history::EpochRecord;
use crate::module::Module;
use crate::state::{NamedTensor, load_state_dict, state_dict};

/// Whether training goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// Something `fit` calls after every epoch.
pub trait Callback {
    fn on_epoch_end(&mut self, record: &EpochRecord, model: &mut dyn Module) -> Control;
    /// Called once when training ends, stopped early or not.
    fn on_train_end(&mut self, _model: &mut dyn Module) {}
}

/// A closure `|record| Control::Continue` is a callback.
impl<F: FnMut(&EpochRecord) -> Control> Callback for F {
    fn on_epoch_end(&mut self, record: &EpochRecord, _: &mut dyn Module) -> Control {
        self(record)
    }
}

/// Stops when `monitor` has not improved by `min_delta` for `patience` epochs (Keras's
/// `EarlyStopping`); with `restore_best_weights`, the model ends with its best epoch's weights.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    pub monitor: String,
    pub higher_is_better: bool,
    pub patience: usize,
    pub min_delta: f64,
    pub restore_best_weights: bool,
    best: Option<f64>,
    best_epoch: usize,
    wait: usize,
    best_weights: Option<Vec<NamedTensor>>,
    /// The epoch training stopped at, if it stopped early.
    pub stopped_epoch: Option<usize>,
}

impl EarlyStopping {
    /// Watches `monitor` (`val_loss`, `val_accuracy`, ...); larger is better for accuracies
    /// and R², smaller for everything else. Patience 0, as in Keras.
    pub fn new(monitor: &str) -> Self {
        EarlyStopping {
            monitor: monitor.to_string(),
            higher_is_better: crate::metrics::higher_is_better(monitor),
            patience: 0,
            min_delta: 0.0,
            restore_best_weights: false,
            best: None,
            best_epoch: 0,
            wait: 0,
            best_weights: None,
            stopped_epoch: None,
        }
    }
    /// Keras's `mode`: `Max` when larger is better, `Min` when smaller is; the default comes
    /// from the monitored name.
    pub fn mode(mut self, mode: crate::optim::PlateauMode) -> Self {
        self.higher_is_better = mode == crate::optim::PlateauMode::Max;
        self
    }
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta.abs();
        self
    }
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }
    /// The 1-based epoch with the best monitored value.
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }

    fn improved(&self, value: f64) -> bool {
        match self.best {
            None => true,
            Some(best) if self.higher_is_better => value > best + self.min_delta,
            Some(best) => value < best - self.min_delta,
        }
    }
}

impl Callback for EarlyStopping {
    fn on_epoch_end(&mut self, record: &EpochRecord, model: &mut dyn Module) -> Control {
        let Some(value) = record.get(&self.monitor) else {
            return Control::Continue;
        };
        if self.improved(value) {
            self.best = Some(value);
            self.best_epoch = record.epoch;
            self.wait = 0;
            if self.restore_best_weights {
                self.best_weights = Some(state_dict(model));
            }
            return Control::Continue;
        }
        self.wait += 1;
        if self.wait > self.patience {
            self.stopped_epoch = Some(record.epoch);
            Control::Stop
        } else {
            Control::Continue
        }
    }

    fn on_train_end(&mut self, model: &mut dyn Module) {
        if let Some(weights) = self.best_weights.take() {
            load_state_dict(model, &weights).expect("the same model's own state");
        }
    }
}
