//! `fit`: the training loop a PyTorch tutorial writes by hand — epochs over a shuffled
//! loader, `zero_grad / forward / loss / backward / step` — plus validation in eval mode,
//! metrics, a scheduler, clipping, gradient accumulation, callbacks, progress and checkpoints.

mod callbacks;
mod evaluate;
mod history;
mod progress;

pub use callbacks::{Callback, Control, EarlyStopping};
pub use evaluate::{Evaluation, evaluate, predict};
pub use history::{EpochRecord, History};
pub use progress::Progress;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use crate::checkpoint::{
    Checkpoint, CheckpointError, StateError, TrainingState, group_lrs, save_checkpoint,
};
use crate::data::{DataError, DataLoader, Dataset, Targets};
use crate::loss::{Loss, LossError};
use crate::metrics::{Metric, MetricSums};
use crate::module::Forward;
use crate::optim::{
    Optimizer, OptimizerError, Scheduler, clip_grad_norm, clip_grad_value, scale_grad,
};
use crate::seed::seeded_rng;
use crate::state::{load_state_dict, state_dict};

/// When the scheduler steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Every {
    #[default]
    Epoch,
    Batch,
}

/// Gradient clipping before each optimizer step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// `clip_grad_norm_(max_norm)`.
    Norm(f32),
    /// `clip_grad_value_(clip)`.
    Value(f32),
}

/// Why training stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error(
        "the loss became {loss} at epoch {epoch}, step {step}; the weights are those at the end of epoch {}",
        epoch - 1
    )]
    NonFiniteLoss {
        epoch: usize,
        step: usize,
        loss: f32,
    },
    #[error(transparent)]
    Loss(#[from] LossError),
    #[error("epoch {epoch}, step {step}: {error}")]
    Input {
        epoch: usize,
        step: usize,
        error: crate::module::InputError,
    },
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("optimizer: {0}")]
    Optimizer(#[from] OptimizerError),
}

/// Everything `fit` can be told; `FitOptions::new(epochs, batch_size)` then builder methods.
pub struct FitOptions {
    pub epochs: usize,
    pub batch_size: usize,
    pub shuffle: bool,
    pub drop_last: bool,
    /// Held out of the training data when no validation set is given (shuffled, stratified
    /// for class targets).
    pub validation_split: Option<f32>,
    pub metrics: Vec<Metric>,
    pub scheduler: Option<(Box<dyn Scheduler>, Every)>,
    /// What ReduceLROnPlateau watches; `val_loss` by default (`loss` without validation).
    pub monitor: Option<String>,
    pub clip: Option<Clip>,
    /// Optimizer step every this many batches, gradients averaged over them (Lightning's
    /// `accumulate_grad_batches`).
    pub accumulate: usize,
    pub callbacks: Vec<Box<dyn Callback>>,
    pub progress: Progress,
    /// Seeds shuffling and the validation split.
    pub seed: u64,
    /// Saves `<dir>/last` after every epoch, and `<dir>/best` whenever the monitored value
    /// improves.
    pub checkpoint_dir: Option<PathBuf>,
    /// Continues from a checkpoint folder saved by `fit`: weights, optimizer, scheduler,
    /// RNGs, epoch and history.
    pub resume_from: Option<PathBuf>,
    /// Saved in every checkpoint (`TrainingState::extra`) in the same atomic swap as the
    /// weights: whatever else the run needs to resume (an input standardizer, ...).
    pub checkpoint_extra: BTreeMap<String, String>,
}

impl FitOptions {
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        FitOptions {
            epochs,
            batch_size,
            shuffle: true,
            drop_last: false,
            validation_split: None,
            metrics: Vec::new(),
            scheduler: None,
            monitor: None,
            clip: None,
            accumulate: 1,
            callbacks: Vec::new(),
            progress: Progress::Auto,
            seed: 0,
            checkpoint_dir: None,
            resume_from: None,
            checkpoint_extra: BTreeMap::new(),
        }
    }
    /// Saves `value` under `key` in every checkpoint (Lightning's `on_save_checkpoint`).
    pub fn checkpoint_extra(mut self, key: &str, value: impl Into<String>) -> Self {
        self.checkpoint_extra.insert(key.to_string(), value.into());
        self
    }
    pub fn checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }
    pub fn resume_from(mut self, dir: impl Into<PathBuf>) -> Self {
        self.resume_from = Some(dir.into());
        self
    }
    pub fn validation_split(mut self, fraction: f32) -> Self {
        self.validation_split = Some(fraction);
        self
    }
    pub fn metrics(mut self, metrics: &[Metric]) -> Self {
        self.metrics = metrics.to_vec();
        self
    }
    pub fn scheduler(mut self, scheduler: impl Scheduler + 'static, every: Every) -> Self {
        self.scheduler = Some((Box::new(scheduler), every));
        self
    }
    pub fn monitor(mut self, key: &str) -> Self {
        self.monitor = Some(key.to_string());
        self
    }
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = Some(clip);
        self
    }
    pub fn accumulate(mut self, batches: usize) -> Self {
        self.accumulate = batches.max(1);
        self
    }
    pub fn callback(mut self, callback: impl Callback + 'static) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }
}

/// Trains `model` on `train`, validating on `validation` (or on a split of `train`) after
/// each epoch in eval mode. On a non-finite loss the weights of the last good epoch are put
/// back and the error names the epoch and step.
pub fn fit<M, L, O, T, const IN: usize, const OUT: usize>(
    model: &mut M,
    loss: &mut L,
    optimizer: &mut O,
    train: &Dataset<IN, T>,
    validation: Option<&Dataset<IN, T>>,
    options: &mut FitOptions,
) -> Result<History, FitError>
where
    M: Forward<IN, OUT>,
    L: Loss<OUT, Target = T::Slice>,
    O: Optimizer,
    T: Targets,
{
    // PyTorch refuses a bad hyperparameter when the optimizer is built; here, before any epoch.
    optimizer.validate()?;
    // The split has its own stream so that a resumed run splits the same way.
    let mut split_rng = seeded_rng(options.seed);
    let mut rng = seeded_rng(options.seed ^ 0x5eed_5eed_5eed_5eed);
    let split;
    let (train, validation) = match (validation, options.validation_split) {
        (Some(v), _) => (train, Some(v)),
        (None, Some(fraction)) => {
            let stratify = (0..train.len()).all(|i| train.targets.stratum(i).is_some());
            split = train.split(fraction, stratify, &mut split_rng)?;
            (&split.0, Some(&split.1))
        }
        (None, None) => (train, None),
    };
    // A batch size of 0 is an error before anything is loaded or changed.
    let mut loader = DataLoader::new(train, options.batch_size)?
        .shuffle(options.shuffle)
        .drop_last(options.drop_last);
    let mut history = History::default();
    let mut global_step = 0usize;
    let mut first_epoch = 1;
    if let Some(dir) = &options.resume_from {
        let checkpoint = Checkpoint::read(dir)?;
        checkpoint.check(model)?;
        // The scheduler first: unlike the optimizer, it can be put back from its own state
        // if what follows fails.
        let mut scheduler_before = None;
        if let (Some((s, _)), Some(saved)) = (&mut options.scheduler, &checkpoint.state.scheduler) {
            let before = s.state();
            if let Err(e) = s.load_state(saved) {
                s.load_state(&before).expect("the scheduler's own state");
                return Err(CheckpointError::State {
                    path: checkpoint.state_path(),
                    source: StateError::Scheduler(e),
                }
                .into());
            }
            scheduler_before = Some(before);
        }
        let state = match checkpoint.apply(model, optimizer) {
            Ok(state) => state,
            Err(e) => {
                if let (Some((s, _)), Some(before)) = (&mut options.scheduler, scheduler_before) {
                    s.load_state(&before).expect("the scheduler's own state");
                }
                return Err(e.into());
            }
        };
        if let (Some((s, _)), Some(_)) = (&options.scheduler, &state.scheduler) {
            s.apply(optimizer);
        }
        rng = state.rng;
        history = state.history;
        global_step = state.global_step;
        first_epoch = state.epoch.saturating_add(1);
    }
    let mut best: Option<f64> = None;
    let monitor = options.monitor.clone().unwrap_or_else(|| {
        if validation.is_some() {
            "val_loss"
        } else {
            "loss"
        }
        .to_string()
    });
    let reporter = progress::Reporter::new(options.progress, options.epochs, loader.num_batches());

    for epoch in first_epoch..=options.epochs {
        let started = Instant::now();
        let last_good = state_dict(model);
        model.train();
        loader.start_epoch(&mut rng);
        reporter.start_epoch();
        let mut sums = MetricSums::default();
        let (mut total, mut rows, mut pending) = (0.0f64, 0usize, 0usize);
        model.zero_grad();
        let mut step = 0;
        // Any failure inside the epoch puts back the weights it started with.
        let failure: Option<FitError> = 'batches: {
            while let Some((x, y)) = loader.next_batch() {
                step += 1;
                if let Err(error) = model.validate(x) {
                    break 'batches Some(FitError::Input { epoch, step, error });
                }
                let out = model.forward_train(x);
                if !options.metrics.is_empty() {
                    sums.update(&out, y);
                }
                let (value, grad) = match loss.value_and_grad(&out, y) {
                    Ok(v) => v,
                    Err(e) => break 'batches Some(e.into()),
                };
                if !value.is_finite() {
                    break 'batches Some(FitError::NonFiniteLoss {
                        epoch,
                        step,
                        loss: value,
                    });
                }
                total += f64::from(value) * x.rows() as f64;
                rows += x.rows();
                out.backward_params(grad);
                pending += 1;
                if pending == options.accumulate {
                    if let Err(e) = apply_step(model, optimizer, options, pending) {
                        break 'batches Some(e.into());
                    }
                    pending = 0;
                    global_step += 1;
                }
                reporter.batch(f64::from(value));
            }
            // The epoch's last, partial accumulation is a step like the others.
            if pending > 0 {
                if let Err(e) = apply_step(model, optimizer, options, pending) {
                    break 'batches Some(e.into());
                }
                global_step += 1;
            }
            None
        };
        if let Some(error) = failure {
            load_state_dict(model, &last_good).expect("the model's own state");
            reporter.finish();
            return Err(error);
        }

        let mut record = EpochRecord {
            epoch,
            loss: total / rows.max(1) as f64,
            val_loss: None,
            metrics: BTreeMap::new(),
            lr: optimizer.lr(),
            seconds: 0.0,
        };
        for m in &options.metrics {
            record.metrics.insert(m.name().to_string(), sums.value(*m));
        }
        if let Some(val) = validation {
            let eval = evaluate(
                &*model,
                &*loss,
                val,
                options.batch_size.max(256),
                &options.metrics,
            )?;
            record.val_loss = Some(eval.loss);
            for (k, v) in eval.metrics {
                record.metrics.insert(format!("val_{k}"), v);
            }
        }
        if let Some((s, Every::Epoch)) = &mut options.scheduler {
            s.step_with(record.get(&monitor), optimizer);
        }
        record.seconds = started.elapsed().as_secs_f64();
        reporter.end_epoch(&record);
        let mut stop = false;
        for cb in &mut options.callbacks {
            stop |= cb.on_epoch_end(&record, model) == Control::Stop;
        }
        let value = record.get(&monitor);
        history.epochs.push(record);
        if let Some(dir) = &options.checkpoint_dir {
            let mut state = TrainingState::new(
                &*model,
                epoch,
                global_step,
                group_lrs(optimizer),
                rng.clone(),
                history.clone(),
            );
            state.scheduler = options.scheduler.as_ref().map(|(s, _)| s.state());
            state.extra = options.checkpoint_extra.clone();
            save_checkpoint(dir.join("last"), model, optimizer, &state)?;
            let higher = crate::metrics::higher_is_better(&monitor);
            let improved = match (value, best) {
                (Some(v), Some(b)) => {
                    if higher {
                        v > b
                    } else {
                        v < b
                    }
                }
                (Some(_), None) => true,
                (None, _) => false,
            };
            if improved {
                best = value;
                save_checkpoint(dir.join("best"), model, optimizer, &state)?;
            }
        }
        if stop {
            break;
        }
    }
    for cb in &mut options.callbacks {
        cb.on_train_end(model);
    }
    reporter.finish();
    Ok(history)
}

/// Averages accumulated gradients, clips, steps the optimizer (and a per-batch scheduler).
fn apply_step<M: crate::module::Module, O: Optimizer>(
    model: &mut M,
    optimizer: &mut O,
    options: &mut FitOptions,
    batches: usize,
) -> Result<(), OptimizerError> {
    if batches > 1 {
        scale_grad(model, 1.0 / batches as f32);
    }
    match options.clip {
        Some(Clip::Norm(max)) => {
            clip_grad_norm(model, max);
        }
        Some(Clip::Value(v)) => clip_grad_value(model, v),
        None => {}
    }
    optimizer.step(model)?;
    model.zero_grad();
    if let Some((s, Every::Batch)) = &mut options.scheduler {
        s.step(optimizer);
    }
    Ok(())
}
