use std::f64::consts::PI;

use super::{LearningRate, ScheduleError, Scheduler, SchedulerState, SchedulerStateError};
use super::{check, get, initial_lrs};

/// A schedule given in closed form as the rate at each epoch, from each group's base rate.
pub(super) trait ClosedForm {
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
    fn steps_from_start(&self) -> Option<u64> {
        self.last_epoch()
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
pub(super) fn attach<T: ClosedForm>(schedule: T, optimizer: &mut dyn LearningRate) -> T {
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
pub(super) use closed_form;

/// A count the formula divides by, which PyTorch's first step divides by as well
/// (ZeroDivisionError there): at least 1.
fn divisor_count(
    schedule: &'static str,
    argument: &'static str,
    count: u64,
) -> Result<(), ScheduleError> {
    let expected =
        "it must be at least 1 (PyTorch divides by it: ZeroDivisionError at the first step)";
    check(count >= 1, schedule, argument, count as f64, expected)
}

/// A factor or rate of a schedule's formula: finite, so that every rate it gives is (PyTorch
/// takes a NaN or infinite `gamma` and trains on NaN).
fn finite(schedule: &'static str, argument: &'static str, value: f64) -> Result<(), ScheduleError> {
    check(
        value.is_finite(),
        schedule,
        argument,
        value,
        "it must be finite",
    )
}

/// Multiplies the rate by `gamma` every `step_size` epochs.
#[derive(Clone, Debug)]
pub struct StepLR {
    step_size: u64,
    gamma: f64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl StepLR {
    /// Refuses a `step_size` of 0, which PyTorch divides by at the first step.
    pub fn new(
        optimizer: &mut dyn LearningRate,
        step_size: u64,
        gamma: f64,
    ) -> Result<Self, ScheduleError> {
        divisor_count("StepLR", "step_size", step_size)?;
        finite("StepLR", "gamma", gamma)?;
        let schedule = StepLR {
            step_size,
            gamma,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        Ok(attach(schedule, optimizer))
    }
}
closed_form!(StepLR, |s, base, e| base
    * s.gamma.powi((e / s.step_size) as i32));

/// Multiplies the rate by `gamma` at each milestone epoch (a milestone given twice counts
/// twice, as in PyTorch's `Counter` of milestones).
#[derive(Clone, Debug)]
pub struct MultiStepLR {
    milestones: Vec<u64>,
    gamma: f64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl MultiStepLR {
    pub fn new(
        optimizer: &mut dyn LearningRate,
        milestones: Vec<u64>,
        gamma: f64,
    ) -> Result<Self, ScheduleError> {
        finite("MultiStepLR", "gamma", gamma)?;
        let schedule = MultiStepLR {
            milestones,
            gamma,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        Ok(attach(schedule, optimizer))
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
    gamma: f64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl ExponentialLR {
    pub fn new(optimizer: &mut dyn LearningRate, gamma: f64) -> Result<Self, ScheduleError> {
        finite("ExponentialLR", "gamma", gamma)?;
        let schedule = ExponentialLR {
            gamma,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        Ok(attach(schedule, optimizer))
    }
}
closed_form!(ExponentialLR, |s, base, e| base * s.gamma.powi(e as i32));

/// Follows a cosine from the base rate down to `eta_min` over `t_max` epochs (and on past it).
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    t_max: u64,
    eta_min: f64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl CosineAnnealingLR {
    /// Refuses a `t_max` of 0, which PyTorch divides by at the first step.
    pub fn new(
        optimizer: &mut dyn LearningRate,
        t_max: u64,
        eta_min: f64,
    ) -> Result<Self, ScheduleError> {
        divisor_count("CosineAnnealingLR", "T_max", t_max)?;
        finite("CosineAnnealingLR", "eta_min", eta_min)?;
        let schedule = CosineAnnealingLR {
            t_max,
            eta_min,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        Ok(attach(schedule, optimizer))
    }
}
closed_form!(CosineAnnealingLR, |s, base, e| {
    s.eta_min + (base - s.eta_min) * (1.0 + (PI * e as f64 / s.t_max as f64).cos()) / 2.0
});

/// Scales the rate linearly from `start_factor` to `end_factor` over `total_iters` epochs
/// (warm-up when the start is below the end).
#[derive(Clone, Debug)]
pub struct LinearLR {
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl LinearLR {
    /// PyTorch's defaults are `start_factor = 1/3`, `end_factor = 1`, `total_iters = 5`.
    /// Refuses what PyTorch refuses: a `start_factor` outside (0, 1] or an `end_factor`
    /// outside [0, 1]. With `total_iters = 0` the rate stays at `start_factor`, as
    /// PyTorch's steps keep it.
    pub fn new(
        optimizer: &mut dyn LearningRate,
        start_factor: f64,
        end_factor: f64,
        total_iters: u64,
    ) -> Result<Self, ScheduleError> {
        check(
            start_factor > 0.0 && start_factor <= 1.0,
            "LinearLR",
            "start_factor",
            start_factor,
            "it must be greater than 0 and at most 1 (PyTorch's ValueError)",
        )?;
        check(
            (0.0..=1.0).contains(&end_factor),
            "LinearLR",
            "end_factor",
            end_factor,
            "it must be between 0 and 1 (PyTorch's ValueError)",
        )?;
        let schedule = LinearLR {
            start_factor,
            end_factor,
            total_iters,
            base_lrs: initial_lrs(optimizer),
            epoch: 0,
        };
        Ok(attach(schedule, optimizer))
    }
}
closed_form!(LinearLR, |s, base, e| {
    // PyTorch's step scales the rate only while `0 < epoch <= total_iters`, so with no
    // iterations it never leaves the start.
    let progress = if s.total_iters == 0 {
        0.0
    } else {
        e.min(s.total_iters) as f64 / s.total_iters as f64
    };
    base * (s.start_factor + (s.end_factor - s.start_factor) * progress)
});
