//! `fit`: the training loop a PyTorch tutorial writes by hand — epochs over a shuffled
//! loader, `zero_grad / forward / loss / backward / step` — plus validation in eval mode,
//! metrics, a scheduler, clipping, gradient accumulation, callbacks, progress and checkpoints.

//!
//! The flow, one function each: `fit` checks the options and the monitored keys
//! ([`RunKeys`]) before anything changes, `resume::resume` loads a checkpoint, then each epoch
//! is `epoch::train_epoch` and `epoch::validate_into` — rolled back together by
//! `rollback::EpochStart` if either fails — then the epoch scheduler, the callbacks and
//! `resume::save`.

mod callbacks;
mod class_weight;
mod csv_logger;
mod dyn_model;
mod epoch;
mod evaluate;
mod keys;
mod progress;
mod resume;
mod rollback;

pub use crate::history::{EpochRecord, History};
pub use callbacks::{
    Callback, CallbackStateError, Control, EarlyStopping, FitModel, ModelRef, WidthError,
};
pub use class_weight::ClassWeightError;
pub use csv_logger::CSVLogger;
pub use dyn_model::{DynForward, DynTrace, DynTrain, ForwardRef};
pub use evaluate::{Evaluation, evaluate, evaluate_dyn, evaluate_with, predict, predict_dyn};
pub use keys::{RunKeys, group_rate_key};
pub use progress::Progress;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use crate::checkpoint::CheckpointError;
use crate::data::{DataError, Dataset, DynDataset, DynLoader, Targets};
use crate::export::Node;
use crate::loss::{Loss, LossError};
use crate::metrics::{CustomMetric, Metric};
use crate::module::{Forward, Module};
use crate::optim::{DynOptimizer, Optimizer, OptimizerError, OptimizerRef, Scheduler};
use crate::seed::seeded_rng;
use crate::tensor::ShapeError;
use resume::{BestCheckpoint, RunState};

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

/// The half of an epoch a failure happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Training,
    Validation,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Training => "training",
            Phase::Validation => "validation",
        })
    }
}

/// Why training stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// A failure inside an epoch; everything the epoch changed has been put back.
    #[error(
        "epoch {epoch} failed in {phase}: {source}; the weights, optimizer state, learning rates, scheduler and RNGs are back as they were at the start of epoch {epoch}"
    )]
    RolledBack {
        epoch: usize,
        phase: Phase,
        source: Box<FitError>,
    },
    /// A monitor names a key the run does not produce; found before the first epoch.
    #[error("{by} monitors `{key}`, which this run does not produce; its keys are: {keys}")]
    UnknownMonitor {
        by: String,
        key: String,
        keys: String,
    },
    /// A custom metric's name that would shadow another key.
    #[error(
        "custom metric `{name}`: {why}; the built-in keys are loss, val_loss, lr and the built-in metrics"
    )]
    MetricName { name: String, why: &'static str },
    #[error("{}: callback {index}'s saved state: {source}", path.display())]
    CallbackState {
        path: PathBuf,
        index: usize,
        source: CallbackStateError,
    },
    /// Keras's `TerminateOnNaN`, built in: a NaN or infinite batch loss stops training at
    /// that batch, and (inside [`FitError::RolledBack`]) the epoch is put back.
    #[doc(alias = "TerminateOnNaN")]
    #[error("the loss became {loss} at epoch {epoch}, step {step}")]
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
    /// A schedule with an end (OneCycleLR's `total_steps`) that the run would step past.
    #[error(
        "the scheduler is defined for {left} more steps (OneCycleLR's total_steps), but the \
         epochs to run step it {planned} times ({epochs} epochs × {per_epoch} per epoch); \
         PyTorch raises \"Tried to step\" at the step past the end"
    )]
    SchedulerSteps {
        left: u64,
        planned: u64,
        epochs: usize,
        per_epoch: u64,
    },
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("optimizer: {0}")]
    Optimizer(#[from] OptimizerError),
    #[error(transparent)]
    ClassWeight(#[from] ClassWeightError),
    /// What a callback's [`Callback::take_error`] reported.
    #[error("callback {name}: {message}")]
    Callback { name: String, message: String },
}

/// The first error a callback reports, as a [`FitError::Callback`].
fn callback_error(callbacks: &mut [Box<dyn Callback>]) -> Result<(), FitError> {
    for cb in callbacks {
        if let Some(message) = cb.take_error() {
            let name = cb.name().to_string();
            return Err(FitError::Callback { name, message });
        }
    }
    Ok(())
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
    /// Metrics beyond the built-ins, reported under their own names.
    pub custom_metrics: Vec<Box<dyn CustomMetric>>,
    pub scheduler: Option<(Box<dyn Scheduler>, Every)>,
    /// What the epoch scheduler (ReduceLROnPlateau) and the best checkpoint watch; `val_loss`
    /// by default (`loss` without validation). A key the run does not produce is an error
    /// before the first epoch. ReduceLROnPlateau's own `mode` must agree with the key's
    /// direction: the scheduler does not say which it has, so this cannot be checked.
    pub monitor: Option<String>,
    pub clip: Option<Clip>,
    /// Optimizer step every this many batches, the gradients summed and divided by this
    /// count, as Lightning's `accumulate_grad_batches` divides each loss; the epoch's last,
    /// partial accumulation is a step too, divided by the same count.
    pub accumulate: usize,
    /// The batch size of the validation pass; the training batch size when `None`
    /// (Keras's `validation_batch_size`).
    pub validation_batch_size: Option<usize>,
    /// Keras's `class_weight`: the training loss of a sample of class `c` is weighted by
    /// `class_weight[c]`; validation is not weighted.
    pub class_weight: Option<Vec<f32>>,
    /// Called in order after each epoch; a resume gives each the state saved from the
    /// callback at the same position.
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
            custom_metrics: Vec::new(),
            scheduler: None,
            monitor: None,
            clip: None,
            accumulate: 1,
            validation_batch_size: None,
            class_weight: None,
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
    /// Adds a custom metric (Keras's `metrics=[MyMetric()]`).
    pub fn metric(mut self, metric: impl CustomMetric + 'static) -> Self {
        self.custom_metrics.push(Box::new(metric));
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
    /// Keras's `validation_batch_size` (a batch size of 0 is refused by `fit`).
    pub fn validation_batch_size(mut self, batch_size: usize) -> Self {
        self.validation_batch_size = Some(batch_size);
        self
    }
    /// Keras's `class_weight`, one weight per class in class-index order (classes 0 and 1
    /// for a one-output binary model): a sample's training loss is multiplied by its class's
    /// weight and the batch's mean divides by its row count, as Keras does. Checked against
    /// the model's outputs before the first epoch.
    pub fn class_weight(mut self, weights: &[f32]) -> Self {
        self.class_weight = Some(weights.to_vec());
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
/// each epoch in eval mode. Every monitored key is checked before anything changes. A failure
/// inside an epoch puts back the state of that epoch's start and returns
/// [`FitError::RolledBack`].
///
/// The work is [`fit_dyn`]'s: this only views the model and data with their input width as
/// a value, so that the training loop is compiled once per loss, optimizer, target type and
/// output width rather than once per model.
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
    let validation = validation.map(Dataset::as_dyn);
    fit_dyn(
        &mut ModelRef::<M, IN, OUT>(model),
        loss,
        &mut OptimizerRef(optimizer),
        &train.as_dyn(),
        validation.as_ref(),
        options,
    )
}

/// [`fit`] for a model and data whose input width is a value: a model behind
/// `dispatch_width!` trains through here without a copy of
/// the loop per width. Data of another width than the model's is an error before anything
/// changes.
pub fn fit_dyn<L, T, const OUT: usize>(
    model: &mut dyn DynTrain<OUT>,
    loss: &mut L,
    optimizer: &mut dyn DynOptimizer,
    train: &DynDataset<'_, T>,
    validation: Option<&DynDataset<'_, T>>,
    options: &mut FitOptions,
) -> Result<History, FitError>
where
    L: Loss<OUT, Target = T::Slice>,
    T: Targets,
{
    for data in std::iter::once(train).chain(validation) {
        check_width(model.in_width(), data)?;
        // A dataset written as a struct literal may have other counts.
        data.check_rows()?;
    }
    check_settings(loss, optimizer, options)?;
    // The split has its own stream so that a resumed run splits the same way.
    let mut split_rng = seeded_rng(options.seed);
    let split;
    let (train, validation) = match (validation, options.validation_split) {
        (Some(v), _) => (train, Some(v)),
        (None, Some(fraction)) => {
            let stratify = (0..train.len()).all(|i| train.targets().stratum(i).is_some());
            split = train.split(fraction, stratify, &mut split_rng)?;
            (&split.0, Some(&split.1))
        }
        (None, None) => (train, None),
    };
    // A batch size of 0 is an error before anything is loaded or changed.
    let mut loader = DynLoader::new(train, options.batch_size)?;
    loader.shuffle = options.shuffle;
    loader.drop_last = options.drop_last;
    // A fresh run is checked before any callback starts; a resumed one once the checkpoint
    // says where it starts (a failure then leaves the model as the checkpoint has it).
    let batches = loader.num_batches();
    check_some_batches(train.len(), batches, validation, options)?;
    if options.resume_from.is_none() {
        check_epochs_ahead(model.module(), train.len(), batches, options, 1)?;
    }
    check_metric_names(options)?;
    let builtin = options
        .metrics
        .iter()
        .map(|m| (m.name(), m.higher_is_better()));
    let custom = (options.custom_metrics.iter()).map(|m| (m.name(), m.higher_is_better()));
    let groups = optimizer.num_groups();
    let keys = RunKeys::with_groups(builtin.chain(custom), validation.is_some(), groups);
    let (monitor, higher) = check_monitors(options, &keys)?;
    options
        .callbacks
        .iter_mut()
        .for_each(|cb| cb.on_train_begin(&keys));
    callback_error(&mut options.callbacks)?;
    let mut run = match options.resume_from.clone() {
        Some(dir) => resume::resume(&dir, model.module_mut(), optimizer, options, &keys)?,
        None => RunState {
            rng: seeded_rng(options.seed ^ 0x5eed_5eed_5eed_5eed),
            history: History::default(),
            global_step: 0,
            next_epoch: 1,
        },
    };
    if options.resume_from.is_some() {
        check_epochs_ahead(
            model.module(),
            train.len(),
            batches,
            options,
            run.next_epoch,
        )?;
    }
    let mut best = BestCheckpoint::new(&monitor, higher, &run.history);
    let reporter = progress::Reporter::new(options.progress, options.epochs, loader.num_batches());

    while run.next_epoch <= options.epochs {
        let started = Instant::now();
        let mut record = epoch::run_epoch(
            model,
            loss,
            optimizer,
            &mut loader,
            validation,
            options,
            &mut run,
            &reporter,
        )?;
        if let Some((s, Every::Epoch)) = &mut options.scheduler {
            s.step_with(record.get(&monitor), optimizer);
        }
        record.seconds = started.elapsed().as_secs_f64();
        reporter.end_epoch(&record);
        let mut stop = false;
        for cb in &mut options.callbacks {
            stop |= cb.on_epoch_end(&record, &mut *model) == Control::Stop;
        }
        run.history.epochs.push(record);
        run.next_epoch += 1;
        if let Some(dir) = &options.checkpoint_dir {
            resume::save(dir, model.module(), optimizer, options, &run, &mut best)?;
        }
        callback_error(&mut options.callbacks)?;
        if stop {
            break;
        }
    }
    for cb in &mut options.callbacks {
        cb.on_train_end(&mut *model);
    }
    reporter.finish();
    Ok(run.history)
}

/// The optimizer's constructors refuse a bad value as PyTorch's do; what only the whole
/// configuration shows (a group's rate, a loss weight's length, the class weights' count) is
/// refused here, before any epoch.
fn check_settings<L: Loss<OUT>, const OUT: usize>(
    loss: &L,
    optimizer: &dyn DynOptimizer,
    options: &FitOptions,
) -> Result<(), FitError> {
    optimizer.validate_dyn()?;
    loss.validate()?;
    if let Some(weights) = &options.class_weight {
        class_weight::check(weights, OUT)?;
    }
    Ok(())
}

/// A training set whose loader gives no batch (`batches`), or an empty validation set,
/// refused before the first epoch: its loss would be a mean over nothing, reported as 0 (a
/// perfect score to a monitor) where PyTorch's losses give NaN and Keras refuses the epoch.
fn check_some_batches<T: Targets>(
    rows: usize,
    batches: usize,
    validation: Option<&DynDataset<'_, T>>,
    options: &FitOptions,
) -> Result<(), FitError> {
    if batches == 0 {
        return Err(DataError::NoBatches {
            which: "training",
            rows,
            batch_size: options.batch_size,
            drop_last: options.drop_last,
        }
        .into());
    }
    let Some(validation) = validation else {
        return Ok(());
    };
    let batch_size = validation_batch_size(options);
    if batch_size == 0 {
        return Err(DataError::ValidationBatchSize.into());
    }
    // Validation keeps its last, smaller batch: only no rows gives no batch.
    if validation.is_empty() {
        return Err(DataError::NoBatches {
            which: "validation",
            rows: 0,
            batch_size,
            drop_last: false,
        }
        .into());
    }
    Ok(())
}

/// The batch size of the validation pass: Keras's `validation_batch_size`, which defaults to
/// the training batch size (so a loss with `Reduction::Sum` is on the same scale in `loss`
/// and `val_loss`).
pub(super) fn validation_batch_size(options: &FitOptions) -> usize {
    options.validation_batch_size.unwrap_or(options.batch_size)
}

/// What the epochs from `first` on would do wrong, refused before they start: see
/// [`check_single_row_batches`] and [`check_scheduler_steps`].
fn check_epochs_ahead(
    model: &dyn Module,
    samples: usize,
    batches: usize,
    options: &FitOptions,
    first: usize,
) -> Result<(), FitError> {
    let epochs = (options.epochs + 1).saturating_sub(first);
    if epochs == 0 {
        return Ok(());
    }
    check_single_row_batches(model, samples, options, first)?;
    check_scheduler_steps(options, batches, epochs)
}

/// A training batch of one row through a BatchNorm with one value per channel (on flat
/// features) is refused before epoch `first`, at the step that would have it, as PyTorch
/// refuses it at that step ("Expected more than 1 value per channel when training"): the
/// batch's statistics would be its own values and the running variance would shrink.
fn check_single_row_batches(
    model: &dyn Module,
    samples: usize,
    options: &FitOptions,
    first: usize,
) -> Result<(), FitError> {
    let batch = options.batch_size;
    let (whole, rest) = (samples / batch, samples % batch);
    let step = if batch == 1 && whole > 0 {
        1
    } else if rest == 1 && !options.drop_last {
        whole + 1
    } else {
        return Ok(());
    };
    if !one_row_leaves_one_value_per_channel(&model.describe()) {
        return Ok(());
    }
    let error = crate::module::InputError::OneValuePerChannel;
    Err(FitError::Input {
        epoch: first,
        step,
        error,
    })
}

/// A schedule defined for fewer steps than the run takes (OneCycleLR's `total_steps`, often
/// given per epoch when it steps per batch) is refused before the first epoch, where it sat
/// at its last rate for the rest of the run; PyTorch raises at the step past the total.
fn check_scheduler_steps(
    options: &FitOptions,
    batches: usize,
    epochs: usize,
) -> Result<(), FitError> {
    let Some((scheduler, every)) = &options.scheduler else {
        return Ok(());
    };
    let Some(left) = scheduler.steps_left() else {
        return Ok(());
    };
    // The epoch's last, partial accumulation steps too.
    let per_epoch = match every {
        Every::Epoch => 1,
        Every::Batch => batches.div_ceil(options.accumulate.max(1)) as u64,
    };
    let planned = per_epoch.saturating_mul(epochs as u64);
    if planned > left {
        return Err(FitError::SchedulerSteps {
            left,
            planned,
            epochs,
            per_epoch,
        });
    }
    Ok(())
}

/// Whether `node` holds a BatchNorm that a batch of one row gives one value per channel.
fn one_row_leaves_one_value_per_channel(node: &Node<'_>) -> bool {
    match node {
        Node::Sequence { layers, .. } => layers.iter().any(|child| match &child.node {
            Node::BatchNorm { channels, .. } => {
                crate::layers::one_value_per_channel(child.input, *channels)
            }
            other => one_row_leaves_one_value_per_channel(other),
        }),
        Node::Residual(body) => one_row_leaves_one_value_per_channel(body),
        _ => false,
    }
}

/// Data whose rows are as wide as the model's input (and a model with an input at all: a
/// width of 0 would divide by zero counting rows).
fn check_width<T: Targets>(model: usize, data: &DynDataset<'_, T>) -> Result<(), FitError> {
    if data.width() == model && model > 0 {
        return Ok(());
    }
    Err(DataError::Shape(ShapeError::RowWidth {
        row: 0,
        expected: model,
        found: data.width(),
    })
    .into())
}

/// The key the best checkpoint and ReduceLROnPlateau watch (`FitOptions::monitor`, else
/// `val_loss` with validation and `loss` without) and whether larger is better for it;
/// an error if it or any callback's monitor is not among the run's keys.
fn check_monitors(options: &FitOptions, keys: &RunKeys) -> Result<(String, bool), FitError> {
    let monitor = match &options.monitor {
        Some(m) => m.clone(),
        None if keys.higher_is_better("val_loss").is_some() => "val_loss".to_string(),
        None => "loss".to_string(),
    };
    let higher = keys.check(&monitor, "FitOptions::monitor (best checkpoint, scheduler)")?;
    for (i, cb) in options.callbacks.iter().enumerate() {
        if let Some(key) = cb.monitor() {
            keys.check(key, &format!("callback {i} ({})", cb.name()))?;
        }
    }
    Ok((monitor, higher))
}

/// A custom metric must not shadow a key: its record entry would be silently ignored (`loss`)
/// or read as another (`val_f1` for training).
fn check_metric_names(options: &FitOptions) -> Result<(), FitError> {
    let mut seen: Vec<&str> = options.metrics.iter().map(|m| m.name()).collect();
    for m in &options.custom_metrics {
        let name = m.name();
        let why = if name.is_empty() {
            Some("the name is empty")
        } else if name.starts_with("val_") {
            Some("`val_` is the prefix of validation keys")
        } else if name.starts_with("lr_pg") {
            Some("`lr_pg` is the prefix of the parameter groups' rates")
        } else if ["loss", "lr", "epoch", "seconds"].contains(&name)
            || crate::metrics::is_builtin(name)
            || seen.contains(&name)
        {
            Some("another key has that name")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(FitError::MetricName {
                name: name.to_string(),
                why,
            });
        }
        seen.push(name);
    }
    Ok(())
}
