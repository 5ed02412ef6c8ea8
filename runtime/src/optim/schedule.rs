//! Learning-rate schedules with PyTorch's formulas. `step` ends an epoch (or a batch, if the
//! caller steps per batch) and writes the next rate into the optimizer, as
//! `scheduler.step()` does in PyTorch.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use super::LearningRate;

/// A schedule's position and memory, saveable in a checkpoint.
pub type SchedulerState = BTreeMap<String, f64>;

/// A state that lacks a value the schedule needs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scheduler state is missing {0}")]
pub struct SchedulerStateError(pub String);

/// A learning-rate schedule over every parameter group of an optimizer.
///
/// Constructing one attaches it: like PyTorch's constructors it records each group's
/// `initial_lr` (once per optimizer, so chained schedules share it) and writes the epoch-0
/// rate into the optimizer, so the first epoch already trains at a warm-up's starting rate.
pub trait Scheduler {
    /// Group 0's rate in effect now.
    fn lr(&self) -> f64;
    /// Advances one step; `metric` is what ReduceLROnPlateau watches (others ignore it).
    fn step_with(&mut self, metric: Option<f64>, optimizer: &mut dyn LearningRate);
    /// Advances one step.
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.step_with(None, optimizer);
    }
    /// Writes the rates of the current position into `optimizer` (after `load_state`).
    fn apply(&self, optimizer: &mut dyn LearningRate);
    /// Starts over at epoch 0 and writes that rate (what `SequentialLR` does at a milestone).
    fn restart(&mut self, optimizer: &mut dyn LearningRate);
    fn state(&self) -> SchedulerState;
    fn load_state(&mut self, state: &SchedulerState) -> Result<(), SchedulerStateError>;
    /// How many more steps the schedule is defined for (OneCycleLR's `total_steps` less those
    /// taken); `None` when it goes on. `fit` refuses a run that would step it further, and a
    /// step past the end panics, where PyTorch raises ("Tried to step N times").
    fn steps_left(&self) -> Option<u64> {
        None
    }
}

fn get(state: &SchedulerState, key: &str) -> Result<f64, SchedulerStateError> {
    state
        .get(key)
        .copied()
        .ok_or_else(|| SchedulerStateError(key.to_string()))
}

/// Every group's `initial_lr`, recorded on first use.
fn initial_lrs(optimizer: &mut dyn LearningRate) -> Vec<f64> {
    (0..optimizer.num_groups())
        .map(|g| optimizer.initial_lr(g))
        .collect()
}

/// A schedule given in closed form as the rate at each epoch, from each group's base rate.
trait ClosedForm {
    fn base_lrs(&self) -> &[f64];
    fn epoch(&self) -> u64;
    fn set_epoch(&mut self, epoch: u64);
    fn lr_at(&self, base_lr: f64, epoch: u64) -> f64;
    /// The last epoch the formula is defined for, if it has one.
    fn last_epoch(&self) -> Option<u64> {
        None
    }
}

impl<T: ClosedForm> Scheduler for T {
    fn lr(&self) -> f64 {
        self.lr_at(self.base_lrs()[0], self.epoch())
    }
    fn step_with(&mut self, _: Option<f64>, optimizer: &mut dyn LearningRate) {
        let epoch = self.epoch() + 1;
        if let Some(last) = self.last_epoch() {
            assert!(
                epoch <= last,
                "Tried to step {epoch} times. The specified number of total steps is {last} \
                 (PyTorch's OneCycleLR error): the rate past the cycle's end is not defined"
            );
        }
        self.set_epoch(epoch);
        self.apply(optimizer);
    }
    fn steps_left(&self) -> Option<u64> {
        self.last_epoch()
            .map(|last| last.saturating_sub(self.epoch()))
    }
    fn apply(&self, optimizer: &mut dyn LearningRate) {
        for (g, &base) in self.base_lrs().iter().enumerate() {
            optimizer.set_group_lr(g, self.lr_at(base, self.epoch()));
        }
    }
    fn restart(&mut self, optimizer: &mut dyn LearningRate) {
        self.set_epoch(0);
        self.apply(optimizer);
    }
    fn state(&self) -> SchedulerState {
        let mut state = SchedulerState::from([("epoch".to_string(), self.epoch() as f64)]);
        for (g, &base) in self.base_lrs().iter().enumerate() {
            state.insert(format!("base_lr.{g}"), base);
        }
        state
    }
    fn load_state(&mut self, state: &SchedulerState) -> Result<(), SchedulerStateError> {
        self.set_epoch(get(state, "epoch")? as u64);
        Ok(())
    }
}

/// A closed-form schedule attached to `optimizer`: its base rates recorded and the epoch-0
/// rate written.
fn attach<T: ClosedForm>(schedule: T, optimizer: &mut dyn LearningRate) -> T {
    schedule.apply(optimizer);
    schedule
}

macro_rules! closed_form {
    ($name:ident, |$s:ident, $base:ident, $e:ident| $lr:expr) => {
        closed_form!($name, |$s, $base, $e| $lr, last_epoch: |_s| None);
    };
    ($name:ident, |$s:ident, $base:ident, $e:ident| $lr:expr, last_epoch: |$l:ident| $last:expr) => {
        impl ClosedForm for $name {
            fn last_epoch(&self) -> Option<u64> {
                let $l = self;
                $last
            }
            fn base_lrs(&self) -> &[f64] {
                &self.base_lrs
            }
            fn epoch(&self) -> u64 {
                self.epoch
            }
            fn set_epoch(&mut self, epoch: u64) {
                self.epoch = epoch;
            }
            fn lr_at(&self, $base: f64, $e: u64) -> f64 {
                let $s = self;
                $lr
            }
        }
    };
}

/// Multiplies the rate by `gamma` every `step_size` epochs.
#[derive(Clone, Debug)]
pub struct StepLR {
    pub step_size: u64,
    pub gamma: f64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl StepLR {
    pub fn new(optimizer: &mut dyn LearningRate, step_size: u64, gamma: f64) -> Self {
        let schedule = StepLR {
            step_size: step_size.max(1),
            gamma,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        attach(schedule, optimizer)
    }
}
closed_form!(StepLR, |s, base, e| base
    * s.gamma.powi((e / s.step_size) as i32));

/// Multiplies the rate by `gamma` at each milestone epoch.
#[derive(Clone, Debug)]
pub struct MultiStepLR {
    pub milestones: Vec<u64>,
    pub gamma: f64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl MultiStepLR {
    pub fn new(optimizer: &mut dyn LearningRate, milestones: Vec<u64>, gamma: f64) -> Self {
        let schedule = MultiStepLR {
            milestones,
            gamma,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        attach(schedule, optimizer)
    }
}
closed_form!(MultiStepLR, |s, base, e| {
    base * s
        .gamma
        .powi(s.milestones.iter().filter(|&&m| m <= e).count() as i32)
});

/// Multiplies the rate by `gamma` every epoch.
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    pub gamma: f64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl ExponentialLR {
    pub fn new(optimizer: &mut dyn LearningRate, gamma: f64) -> Self {
        let schedule = ExponentialLR {
            gamma,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        attach(schedule, optimizer)
    }
}
closed_form!(ExponentialLR, |s, base, e| base * s.gamma.powi(e as i32));

/// Follows a cosine from the base rate down to `eta_min` over `t_max` epochs (and on past it).
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    pub t_max: u64,
    pub eta_min: f64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl CosineAnnealingLR {
    pub fn new(optimizer: &mut dyn LearningRate, t_max: u64, eta_min: f64) -> Self {
        let schedule = CosineAnnealingLR {
            t_max: t_max.max(1),
            eta_min,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        attach(schedule, optimizer)
    }
}
closed_form!(CosineAnnealingLR, |s, base, e| {
    s.eta_min + (base - s.eta_min) * (1.0 + (PI * e as f64 / s.t_max as f64).cos()) / 2.0
});

/// Scales the rate linearly from `start_factor` to `end_factor` over `total_iters` epochs
/// (warm-up when the start is below the end).
#[derive(Clone, Debug)]
pub struct LinearLR {
    pub start_factor: f64,
    pub end_factor: f64,
    pub total_iters: u64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl LinearLR {
    /// PyTorch's defaults are `start_factor = 1/3`, `end_factor = 1`, `total_iters = 5`.
    pub fn new(
        optimizer: &mut dyn LearningRate,
        start_factor: f64,
        end_factor: f64,
        total_iters: u64,
    ) -> Self {
        let schedule = LinearLR {
            start_factor,
            end_factor,
            total_iters,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        attach(schedule, optimizer)
    }
}
closed_form!(LinearLR, |s, base, e| {
    let progress = if s.total_iters == 0 {
        1.0
    } else {
        e.min(s.total_iters) as f64 / s.total_iters as f64
    };
    base * (s.start_factor + (s.end_factor - s.start_factor) * progress)
});

/// The one-cycle policy (two phases, cosine annealing, no momentum cycling). Every group
/// runs the same cycle, from `max_lr / div_factor` (written into the optimizer when attached).
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    pub max_lr: f64,
    pub total_steps: u64,
    pub pct_start: f64,
    pub div_factor: f64,
    pub final_div_factor: f64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl OneCycleLR {
    /// PyTorch's defaults: `pct_start = 0.3`, `div_factor = 25`, `final_div_factor = 1e4`.
    pub fn new(optimizer: &mut dyn LearningRate, max_lr: f64, total_steps: u64) -> Self {
        Self::with_factors(optimizer, max_lr, total_steps, 25.0, 1e4)
    }
    /// PyTorch's `div_factor` (the first rate is `max_lr / div_factor`) and
    /// `final_div_factor` (the last is that over `final_div_factor`). They are constructor
    /// arguments, not builders, because attaching writes the first rate into the optimizer.
    pub fn with_factors(
        optimizer: &mut dyn LearningRate,
        max_lr: f64,
        total_steps: u64,
        div_factor: f64,
        final_div_factor: f64,
    ) -> Self {
        let schedule = OneCycleLR {
            max_lr,
            total_steps: total_steps.max(2),
            pct_start: 0.3,
            div_factor,
            final_div_factor,
            base_lrs: vec![max_lr / div_factor; optimizer.num_groups()],
            epoch: 0,
        };
        attach(schedule, optimizer)
    }
    /// The fraction of the cycle spent warming up (the first rate does not depend on it).
    pub fn pct_start(mut self, pct_start: f64) -> Self {
        self.pct_start = pct_start;
        self
    }
}
fn cos_anneal(start: f64, end: f64, pct: f64) -> f64 {
    end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0)
}
closed_form!(OneCycleLR, |s, _base, e| {
    let initial = s.max_lr / s.div_factor;
    let min_lr = initial / s.final_div_factor;
    let warm_end = s.pct_start * s.total_steps as f64 - 1.0;
    let last = (s.total_steps - 1) as f64;
    let t = e as f64;
    if t <= warm_end {
        cos_anneal(initial, s.max_lr, t / warm_end)
    } else {
        // At `total_steps`, the step PyTorch still allows, the fraction passes 1 as there.
        // With `pct_start = 1` the annealing phase is empty and PyTorch divides by zero at
        // that step (ZeroDivisionError); here it ends at the minimum, not at NaN.
        let span = last - warm_end;
        let pct = if span > 0.0 { (t - warm_end) / span } else { 1.0 };
        cos_anneal(s.max_lr, min_lr, pct)
    }
}, last_epoch: |s| Some(s.total_steps));

/// Whether a smaller or a larger monitored value is better.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlateauMode {
    #[default]
    Min,
    Max,
}

/// Whether `threshold` is relative to the best value or absolute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThresholdMode {
    #[default]
    Rel,
    Abs,
}

/// Whose rule [`ReduceLROnPlateau`] counts bad epochs by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlateauRule {
    /// `torch.optim.lr_scheduler.ReduceLROnPlateau`: cuts when more than `patience` epochs
    /// in a row were not better; a cooldown epoch counts as not bad.
    #[default]
    PyTorch,
    /// Keras's `ReduceLROnPlateau` callback: cuts when `patience` epochs in a row were not
    /// better (`wait >= patience`), counting none during a cooldown, and only while the
    /// rate is above `min_lr` (compared in f32, as Keras's variable holds it).
    Keras,
}

/// Cuts every group's rate by `factor` once the monitored metric has not improved for
/// `patience` epochs (not below `min_lr`), by PyTorch's count ([`ReduceLROnPlateau::new`])
/// or Keras's ([`ReduceLROnPlateau::keras`]).
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    pub rule: PlateauRule,
    pub mode: PlateauMode,
    pub factor: f64,
    pub patience: u64,
    pub threshold: f64,
    pub threshold_mode: ThresholdMode,
    pub cooldown: u64,
    pub min_lr: f64,
    pub eps: f64,
    lrs: Vec<f64>,
    best: f64,
    num_bad_epochs: u64,
    cooldown_counter: u64,
}

impl ReduceLROnPlateau {
    /// PyTorch's defaults: mode min, factor 0.1, patience 10, threshold 1e-4 relative,
    /// cooldown 0, min_lr 0. Attaching changes no rate.
    pub fn new(optimizer: &mut dyn LearningRate) -> Self {
        ReduceLROnPlateau {
            rule: PlateauRule::PyTorch,
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            lrs: (0..optimizer.num_groups())
                .map(|g| optimizer.group_lr(g))
                .collect(),
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        }
    }
    /// Keras's callback and defaults: factor 0.1, patience 10, `min_delta` 1e-4 absolute,
    /// cooldown 0, min_lr 0, counted by [`PlateauRule::Keras`]. Attaching changes no rate.
    pub fn keras(optimizer: &mut dyn LearningRate) -> Self {
        ReduceLROnPlateau {
            rule: PlateauRule::Keras,
            ..Self::new(optimizer).threshold(1e-4, ThresholdMode::Abs)
        }
    }
    /// Keras's `min_delta`: an improvement must beat the best by this much (absolute).
    pub fn min_delta(self, min_delta: f64) -> Self {
        self.threshold(min_delta, ThresholdMode::Abs)
    }
    pub fn mode(mut self, mode: PlateauMode) -> Self {
        self.mode = mode;
        self.best = match mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        self
    }
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }
    pub fn patience(mut self, patience: u64) -> Self {
        self.patience = patience;
        self
    }
    pub fn threshold(mut self, threshold: f64, mode: ThresholdMode) -> Self {
        self.threshold = threshold;
        self.threshold_mode = mode;
        self
    }
    pub fn cooldown(mut self, cooldown: u64) -> Self {
        self.cooldown = cooldown;
        self
    }
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }

    /// Keras's `on_epoch_end`, line for line: the cooldown first, then better or a bad
    /// epoch, and a cut (which restarts the cooldown) only while a rate is above `min_lr`.
    fn keras_step(&mut self, value: f64, optimizer: &mut dyn LearningRate) {
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.is_better(value) {
            self.best = value;
            self.num_bad_epochs = 0;
        } else if self.cooldown_counter == 0 {
            self.num_bad_epochs += 1;
            if self.num_bad_epochs >= self.patience {
                let mut cut = false;
                for (g, lr) in self.lrs.iter_mut().enumerate() {
                    let old = optimizer.group_lr(g);
                    *lr = old;
                    if (old as f32) > self.min_lr as f32 {
                        *lr = (old * self.factor).max(self.min_lr);
                        cut = true;
                    }
                }
                if cut {
                    self.cooldown_counter = self.cooldown;
                    self.num_bad_epochs = 0;
                }
            }
        }
    }

    fn is_better(&self, value: f64) -> bool {
        let t = self.threshold;
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => value < self.best * (1.0 - t),
            (PlateauMode::Min, ThresholdMode::Abs) => value < self.best - t,
            (PlateauMode::Max, ThresholdMode::Rel) => value > self.best * (1.0 + t),
            (PlateauMode::Max, ThresholdMode::Abs) => value > self.best + t,
        }
    }
}

impl Scheduler for ReduceLROnPlateau {
    fn lr(&self) -> f64 {
        self.lrs[0]
    }

    /// Without a metric nothing changes: the plateau is judged on the monitored value only.
    fn step_with(&mut self, metric: Option<f64>, optimizer: &mut dyn LearningRate) {
        let Some(value) = metric else { return };
        if self.rule == PlateauRule::Keras {
            self.keras_step(value, optimizer);
            return self.apply(optimizer);
        }
        if self.is_better(value) {
            self.best = value;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            // Each group from the rate it has now, as PyTorch reads `group["lr"]`.
            for (g, lr) in self.lrs.iter_mut().enumerate() {
                let old = optimizer.group_lr(g);
                let new = (old * self.factor).max(self.min_lr);
                *lr = if old - new > self.eps { new } else { old };
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.apply(optimizer);
    }

    fn apply(&self, optimizer: &mut dyn LearningRate) {
        for (g, &lr) in self.lrs.iter().enumerate() {
            optimizer.set_group_lr(g, lr);
        }
    }

    /// A plateau has no epoch 0 to return to.
    fn restart(&mut self, _: &mut dyn LearningRate) {}

    fn state(&self) -> SchedulerState {
        let mut state = SchedulerState::from([
            ("best".to_string(), self.best),
            ("num_bad_epochs".to_string(), self.num_bad_epochs as f64),
            ("cooldown_counter".to_string(), self.cooldown_counter as f64),
        ]);
        for (g, &lr) in self.lrs.iter().enumerate() {
            state.insert(format!("lr.{g}"), lr);
        }
        state
    }

    fn load_state(&mut self, state: &SchedulerState) -> Result<(), SchedulerStateError> {
        let lrs = (0..self.lrs.len())
            .map(|g| get(state, &format!("lr.{g}")))
            .collect::<Result<Vec<_>, _>>()?;
        let best = get(state, "best")?;
        let num_bad_epochs = get(state, "num_bad_epochs")? as u64;
        let cooldown_counter = get(state, "cooldown_counter")? as u64;
        (
            self.lrs,
            self.best,
            self.num_bad_epochs,
            self.cooldown_counter,
        ) = (lrs, best, num_bad_epochs, cooldown_counter);
        Ok(())
    }
}

/// Runs one schedule after another, switching at each milestone epoch (PyTorch's
/// `SequentialLR`): a warm-up then a decay, each attached to the same optimizer.
///
/// ```
/// # use staticnn_runtime::prelude::*;
/// let mut optimizer = SGD::new(0.1).unwrap();
/// let warmup = LinearLR::new(&mut optimizer, 0.1, 1.0, 5);
/// let decay = CosineAnnealingLR::new(&mut optimizer, 95, 0.0);
/// let schedule =
///     SequentialLR::new(&mut optimizer, vec![Box::new(warmup), Box::new(decay)], vec![5])
///         .unwrap();
/// assert!((optimizer.lr() - 0.01).abs() < 1e-12); // the warm-up's first rate
/// # let _ = schedule;
/// ```
pub struct SequentialLR {
    schedulers: Vec<Box<dyn Scheduler>>,
    milestones: Vec<u64>,
    epoch: u64,
}

/// Schedules and milestones that do not fit together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "SequentialLR takes one milestone fewer than schedulers, in increasing order; got {schedulers} schedulers and milestones {milestones:?}"
)]
pub struct SequentialError {
    pub schedulers: usize,
    pub milestones: Vec<u64>,
}

impl SequentialLR {
    pub fn new(
        optimizer: &mut dyn LearningRate,
        mut schedulers: Vec<Box<dyn Scheduler>>,
        milestones: Vec<u64>,
    ) -> Result<Self, SequentialError> {
        if schedulers.is_empty()
            || milestones.len() + 1 != schedulers.len()
            || milestones.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(SequentialError {
                schedulers: schedulers.len(),
                milestones,
            });
        }
        schedulers[0].restart(optimizer);
        Ok(SequentialLR {
            schedulers,
            milestones,
            epoch: 0,
        })
    }

    fn current(&self) -> usize {
        self.milestones.partition_point(|&m| m <= self.epoch)
    }
}

impl Scheduler for SequentialLR {
    fn lr(&self) -> f64 {
        self.schedulers[self.current()].lr()
    }
    fn step_with(&mut self, metric: Option<f64>, optimizer: &mut dyn LearningRate) {
        self.epoch += 1;
        let i = self.current();
        if i > 0 && self.milestones[i - 1] == self.epoch {
            self.schedulers[i].restart(optimizer);
        } else {
            self.schedulers[i].step_with(metric, optimizer);
        }
    }
    fn apply(&self, optimizer: &mut dyn LearningRate) {
        self.schedulers[self.current()].apply(optimizer);
    }
    fn restart(&mut self, optimizer: &mut dyn LearningRate) {
        self.epoch = 0;
        self.schedulers[0].restart(optimizer);
    }
    fn state(&self) -> SchedulerState {
        let mut state = SchedulerState::from([("epoch".to_string(), self.epoch as f64)]);
        for (i, s) in self.schedulers.iter().enumerate() {
            for (k, v) in s.state() {
                state.insert(format!("{i}.{k}"), v);
            }
        }
        state
    }
    fn load_state(&mut self, state: &SchedulerState) -> Result<(), SchedulerStateError> {
        let epoch = get(state, "epoch")? as u64;
        for (i, s) in self.schedulers.iter_mut().enumerate() {
            let prefix = format!("{i}.");
            let own: SchedulerState = state
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), *v)))
                .collect();
            s.load_state(&own)?;
        }
        self.epoch = epoch;
        Ok(())
    }
}
