use super::{LearningRate, ScheduleError, Scheduler, SchedulerState, SchedulerStateError};
use super::{check, get};

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
    /// Private, as checked by [`ReduceLROnPlateau::factor`]: 1 or more would never cut.
    factor: f64,
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
    /// Refuses a factor of 1 or more, which would never cut (PyTorch's and Keras's
    /// ValueError), and NaN.
    pub fn factor(mut self, factor: f64) -> Result<Self, ScheduleError> {
        check(
            factor < 1.0,
            "ReduceLROnPlateau",
            "factor",
            factor,
            "it must be below 1 (PyTorch's and Keras's ValueError)",
        )?;
        self.factor = factor;
        Ok(self)
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
