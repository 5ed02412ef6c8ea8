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

/// A learning-rate schedule.
pub trait Scheduler {
    /// The learning rate in effect now.
    fn lr(&self) -> f64;
    /// Advances one step; `metric` is what ReduceLROnPlateau watches (others ignore it).
    fn step_with(&mut self, metric: Option<f64>, optimizer: &mut dyn LearningRate);
    /// Advances one step.
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.step_with(None, optimizer);
    }
    fn state(&self) -> SchedulerState;
    fn load_state(&mut self, state: &SchedulerState) -> Result<(), SchedulerStateError>;
}

fn get(state: &SchedulerState, key: &str) -> Result<f64, SchedulerStateError> {
    state
        .get(key)
        .copied()
        .ok_or_else(|| SchedulerStateError(key.to_string()))
}

/// A schedule given in closed form as the rate at each epoch.
trait ClosedForm {
    fn base_lr(&self) -> f64;
    fn epoch(&self) -> u64;
    fn set_epoch(&mut self, epoch: u64);
    fn lr_at(&self, epoch: u64) -> f64;
}

impl<T: ClosedForm> Scheduler for T {
    fn lr(&self) -> f64 {
        self.lr_at(self.epoch())
    }
    fn step_with(&mut self, _: Option<f64>, optimizer: &mut dyn LearningRate) {
        self.set_epoch(self.epoch() + 1);
        optimizer.set_lr(self.lr());
    }
    fn state(&self) -> SchedulerState {
        SchedulerState::from([
            ("epoch".to_string(), self.epoch() as f64),
            ("base_lr".to_string(), self.base_lr()),
        ])
    }
    fn load_state(&mut self, state: &SchedulerState) -> Result<(), SchedulerStateError> {
        self.set_epoch(get(state, "epoch")? as u64);
        Ok(())
    }
}

macro_rules! closed_form {
    ($name:ident, |$s:ident, $e:ident| $lr:expr) => {
        impl ClosedForm for $name {
            fn base_lr(&self) -> f64 {
                self.base_lr
            }
            fn epoch(&self) -> u64 {
                self.epoch
            }
            fn set_epoch(&mut self, epoch: u64) {
                self.epoch = epoch;
            }
            fn lr_at(&self, $e: u64) -> f64 {
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
    base_lr: f64,
    epoch: u64,
}
impl StepLR {
    pub fn new(optimizer: &dyn LearningRate, step_size: u64, gamma: f64) -> Self {
        StepLR {
            step_size: step_size.max(1),
            gamma,
            base_lr: optimizer.lr(),
            epoch: 0,
        }
    }
}
closed_form!(StepLR, |s, e| s.base_lr
    * s.gamma.powi((e / s.step_size) as i32));

/// Multiplies the rate by `gamma` at each milestone epoch.
#[derive(Clone, Debug)]
pub struct MultiStepLR {
    pub milestones: Vec<u64>,
    pub gamma: f64,
    base_lr: f64,
    epoch: u64,
}
impl MultiStepLR {
    pub fn new(optimizer: &dyn LearningRate, milestones: Vec<u64>, gamma: f64) -> Self {
        MultiStepLR {
            milestones,
            gamma,
            base_lr: optimizer.lr(),
            epoch: 0,
        }
    }
}
closed_form!(MultiStepLR, |s, e| {
    s.base_lr
        * s.gamma
            .powi(s.milestones.iter().filter(|&&m| m <= e).count() as i32)
});

/// Multiplies the rate by `gamma` every epoch.
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    pub gamma: f64,
    base_lr: f64,
    epoch: u64,
}
impl ExponentialLR {
    pub fn new(optimizer: &dyn LearningRate, gamma: f64) -> Self {
        ExponentialLR {
            gamma,
            base_lr: optimizer.lr(),
            epoch: 0,
        }
    }
}
closed_form!(ExponentialLR, |s, e| s.base_lr * s.gamma.powi(e as i32));

/// Follows a cosine from the base rate down to `eta_min` over `t_max` epochs (and on past it).
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    pub t_max: u64,
    pub eta_min: f64,
    base_lr: f64,
    epoch: u64,
}
impl CosineAnnealingLR {
    pub fn new(optimizer: &dyn LearningRate, t_max: u64, eta_min: f64) -> Self {
        CosineAnnealingLR {
            t_max: t_max.max(1),
            eta_min,
            base_lr: optimizer.lr(),
            epoch: 0,
        }
    }
}
closed_form!(CosineAnnealingLR, |s, e| {
    s.eta_min + (s.base_lr - s.eta_min) * (1.0 + (PI * e as f64 / s.t_max as f64).cos()) / 2.0
});

/// Scales the rate linearly from `start_factor` to `end_factor` over `total_iters` epochs
/// (warm-up when the start is below the end).
#[derive(Clone, Debug)]
pub struct LinearLR {
    pub start_factor: f64,
    pub end_factor: f64,
    pub total_iters: u64,
    base_lr: f64,
    epoch: u64,
}
impl LinearLR {
    /// PyTorch's defaults are `start_factor = 1/3`, `end_factor = 1`, `total_iters = 5`.
    pub fn new(
        optimizer: &dyn LearningRate,
        start_factor: f64,
        end_factor: f64,
        total_iters: u64,
    ) -> Self {
        LinearLR {
            start_factor,
            end_factor,
            total_iters,
            base_lr: optimizer.lr(),
            epoch: 0,
        }
    }
}
closed_form!(LinearLR, |s, e| {
    let progress = if s.total_iters == 0 {
        1.0
    } else {
        e.min(s.total_iters) as f64 / s.total_iters as f64
    };
    s.base_lr * (s.start_factor + (s.end_factor - s.start_factor) * progress)
});

/// The one-cycle policy (two phases, cosine annealing, no momentum cycling).
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    pub max_lr: f64,
    pub total_steps: u64,
    pub pct_start: f64,
    pub div_factor: f64,
    pub final_div_factor: f64,
    base_lr: f64,
    epoch: u64,
}
impl OneCycleLR {
    /// PyTorch's defaults: `pct_start = 0.3`, `div_factor = 25`, `final_div_factor = 1e4`.
    pub fn new(max_lr: f64, total_steps: u64) -> Self {
        OneCycleLR {
            max_lr,
            total_steps: total_steps.max(2),
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
            base_lr: max_lr / 25.0,
            epoch: 0,
        }
    }
    pub fn pct_start(mut self, pct_start: f64) -> Self {
        self.pct_start = pct_start;
        self
    }
}
fn cos_anneal(start: f64, end: f64, pct: f64) -> f64 {
    end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0)
}
closed_form!(OneCycleLR, |s, e| {
    let initial = s.max_lr / s.div_factor;
    let min_lr = initial / s.final_div_factor;
    let warm_end = s.pct_start * s.total_steps as f64 - 1.0;
    let last = (s.total_steps - 1) as f64;
    let t = e as f64;
    if t <= warm_end {
        cos_anneal(initial, s.max_lr, t / warm_end)
    } else {
        cos_anneal(
            s.max_lr,
            min_lr,
            ((t - warm_end) / (last - warm_end)).min(1.0),
        )
    }
});

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

/// Cuts the rate by `factor` once the monitored metric has not improved for `patience` epochs.
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    pub mode: PlateauMode,
    pub factor: f64,
    pub patience: u64,
    pub threshold: f64,
    pub threshold_mode: ThresholdMode,
    pub cooldown: u64,
    pub min_lr: f64,
    pub eps: f64,
    lr: f64,
    best: f64,
    num_bad_epochs: u64,
    cooldown_counter: u64,
}

impl ReduceLROnPlateau {
    /// PyTorch's defaults: mode min, factor 0.1, patience 10, threshold 1e-4 relative,
    /// cooldown 0, min_lr 0.
    pub fn new(optimizer: &dyn LearningRate) -> Self {
        ReduceLROnPlateau {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            lr: optimizer.lr(),
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        }
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
        self.lr
    }

    /// Without a metric nothing changes: the plateau is judged on the monitored value only.
    fn step_with(&mut self, metric: Option<f64>, optimizer: &mut dyn LearningRate) {
        let Some(value) = metric else { return };
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
            let new_lr = (self.lr * self.factor).max(self.min_lr);
            if self.lr - new_lr > self.eps {
                self.lr = new_lr;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        optimizer.set_lr(self.lr);
    }

    fn state(&self) -> SchedulerState {
        SchedulerState::from([
            ("lr".to_string(), self.lr),
            ("best".to_string(), self.best),
            ("num_bad_epochs".to_string(), self.num_bad_epochs as f64),
            ("cooldown_counter".to_string(), self.cooldown_counter as f64),
        ])
    }

    fn load_state(&mut self, state: &SchedulerState) -> Result<(), SchedulerStateError> {
        self.lr = get(state, "lr")?;
        self.best = get(state, "best")?;
        self.num_bad_epochs = get(state, "num_bad_epochs")? as u64;
        self.cooldown_counter = get(state, "cooldown_counter")? as u64;
        Ok(())
    }
}
