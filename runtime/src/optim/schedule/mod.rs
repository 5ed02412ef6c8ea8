//! Learning-rate schedules with PyTorch's formulas. `step` ends an epoch (or a batch, if the
//! caller steps per batch) and writes the next rate into the optimizer, as
//! `scheduler.step()` does in PyTorch.
//!
//! A constructor or builder refuses, with a [`ScheduleError`], every argument PyTorch's own
//! refuses, every one its formula divides by zero at (where PyTorch raises
//! `ZeroDivisionError`, at construction or at a later step), and a factor or rate that is not
//! finite (PyTorch trains on the NaN it gives). A `gamma` above 1 can still grow the rate
//! past any bound over enough epochs, as in PyTorch.

use std::collections::BTreeMap;

use super::LearningRate;

mod closed_form;
mod one_cycle;
mod plateau;
mod sequential;

pub use closed_form::{CosineAnnealingLR, ExponentialLR, LinearLR, MultiStepLR, StepLR};
pub use one_cycle::{OneCycleLR, OneCycleOptions};
pub use plateau::{PlateauMode, PlateauRule, ReduceLROnPlateau, ThresholdMode};
pub use sequential::{SequentialError, SequentialLR};

/// A schedule's position and memory, saveable in a checkpoint.
pub type SchedulerState = BTreeMap<String, f64>;

/// A state that lacks a value the schedule needs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scheduler state is missing {0}")]
pub struct SchedulerStateError(pub String);

/// An argument a schedule refuses: the schedule, the argument and its value, and what it
/// must be.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{schedule}: {argument} = {value} is refused; {expected}")]
pub struct ScheduleError {
    pub schedule: &'static str,
    pub argument: &'static str,
    pub value: f64,
    pub expected: &'static str,
}

/// `Ok` when `valid`, else the error naming the argument.
fn check(
    valid: bool,
    schedule: &'static str,
    argument: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<(), ScheduleError> {
    if valid {
        Ok(())
    } else {
        Err(ScheduleError {
            schedule,
            argument,
            value,
            expected,
        })
    }
}

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
    /// How many steps the schedule is defined for from its epoch 0, what [`steps_left`]
    /// is after a `restart` (`SequentialLR` asks it of the schedules it has not reached).
    ///
    /// [`steps_left`]: Scheduler::steps_left
    fn steps_from_start(&self) -> Option<u64> {
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
