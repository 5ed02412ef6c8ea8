//! Optimizers with PyTorch's update rules and defaults, one file each, plus learning-rate
//! schedules and gradient clipping.
//!
//! An optimizer belongs to one parameter set (`params.rs`): it binds on its first step to the
//! names, shapes and identities of the parameters it was given, and stepping any other set is
//! an error. Parameter groups (`param_group`) give the parameters a key pattern selects their
//! own hyperparameters; parameters with `requires_grad == false` are skipped and keep no
//! state. `state` and `load_state` turn the per-parameter state into named tensors
//! (`"fc1.weight.exp_avg"`, `"fc1.weight.step"`) for checkpoints.

mod adagrad;
mod adam;
mod any;
mod clip;
mod dyn_optimizer;
mod params;
mod powers;
mod rmsprop;
pub mod schedule;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use any::{AnyOptimizer, FromNameError};
pub use clip::{clip_grad_norm, clip_grad_value, scale_grad};
pub use dyn_optimizer::{DynOptimizer, OptimizerRef};
pub use params::{KeyPattern, ParamGroup};
pub use rmsprop::RMSprop;
pub use schedule::{
    CosineAnnealingLR, ExponentialLR, LinearLR, MultiStepLR, OneCycleLR, OneCycleOptions,
    PlateauMode, PlateauRule, ReduceLROnPlateau, ScheduleError, Scheduler, SequentialError,
    SequentialLR, StepLR, ThresholdMode,
};
pub use sgd::SGD;

use crate::module::{Module, Parameter, VisitorMut};
use crate::state::NamedTensor;

/// The learning rate of each parameter group, which schedulers read and write (PyTorch's
/// `param_groups[g]["lr"]`). Group 0 holds the parameters no `param_group` selects.
pub trait LearningRate {
    fn num_groups(&self) -> usize;
    fn group_lr(&self, group: usize) -> f64;
    fn set_group_lr(&mut self, group: usize, lr: f64);
    /// PyTorch's `group["initial_lr"]`: the group's rate when the first scheduler was attached
    /// (recorded by that call), which every schedule scales from.
    fn initial_lr(&mut self, group: usize) -> f64;
    /// Group 0's rate.
    fn lr(&self) -> f64 {
        self.group_lr(0)
    }
    /// Sets every group's rate.
    fn set_lr(&mut self, lr: f64) {
        for g in 0..self.num_groups() {
            self.set_group_lr(g, lr);
        }
    }
}

/// An optimizer over one model's parameters.
pub trait Optimizer: LearningRate {
    /// One update from the accumulated gradients. The first call binds the optimizer to
    /// `model`'s parameters; a later call with other parameters is an error, as is a
    /// hyperparameter PyTorch would refuse. Nothing is updated on error.
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) -> Result<(), OptimizerError>;
    /// The per-parameter state as named tensors (`fc1.weight.exp_avg`), in state-dict order.
    fn state(&self) -> Vec<NamedTensor>;
    /// Restores what `state` returned, for `model`'s parameters (and binds to them). Every
    /// tensor is checked — parameter name, buffer name, length, dtype, completeness — before
    /// anything changes.
    fn load_state<M: Module + ?Sized>(
        &mut self,
        model: &M,
        state: &[NamedTensor],
    ) -> Result<(), OptimizerError>;
    /// The hyperparameters, checked as PyTorch's constructors check them.
    fn validate(&self) -> Result<(), OptimizerError>;
}

/// Why an optimizer refused to step or to load state.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OptimizerError {
    #[error(
        "this optimizer is bound to the parameters {bound} but was given {given}; first difference: {first}. An optimizer belongs to one parameter set: make one per module, or one over the whole model with `param_group` for per-layer settings"
    )]
    ForeignParameters {
        bound: String,
        given: String,
        first: String,
    },
    #[error("parameter `{key}` is selected by two parameter groups, `{first}` and `{second}`")]
    ParameterInTwoGroups {
        key: String,
        first: String,
        second: String,
    },
    #[error("parameter group `{pattern}` selects no parameter; the parameters are {keys}")]
    GroupSelectsNothing { pattern: String, keys: String },
    #[error("{optimizer}: invalid {name} {value}: {expected}")]
    Hyperparameter {
        optimizer: &'static str,
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error(transparent)]
    State(#[from] OptimizerStateError),
}

/// Optimizer state that does not fit the optimizer or the model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptimizerStateError {
    #[error("optimizer state is missing {0}")]
    Missing(String),
    #[error("optimizer state {name} has {found} values, expected {expected}")]
    Length {
        name: String,
        expected: usize,
        found: usize,
    },
    #[error("optimizer state {0} has the wrong dtype")]
    DType(String),
    #[error(
        "optimizer state {name} names no parameter of this model (state of another model?); the parameters are {parameters}"
    )]
    UnknownParameter { name: String, parameters: String },
    #[error(
        "optimizer state {name} is not a buffer {optimizer} keeps here (state of another optimizer?); it keeps: {slots}"
    )]
    UnknownSlot {
        name: String,
        optimizer: &'static str,
        slots: String,
    },
}

/// Checks one hyperparameter against PyTorch's rule for it.
pub(crate) fn check(
    optimizer: &'static str,
    name: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<(), OptimizerError> {
    if ok {
        Ok(())
    } else {
        Err(OptimizerError::Hyperparameter {
            optimizer,
            name,
            value,
            expected,
        })
    }
}

/// A learning rate: finite and not negative.
pub(crate) fn check_lr(optimizer: &'static str, lr: f64) -> Result<(), OptimizerError> {
    check(
        optimizer,
        "lr",
        lr,
        lr.is_finite() && lr >= 0.0,
        "a learning rate must be finite and >= 0",
    )
}

/// PyTorch's rule for eps, weight decay, momentum, alpha and the like: not negative (and so
/// not NaN).
pub(crate) fn check_non_negative(
    optimizer: &'static str,
    name: &'static str,
    value: f64,
) -> Result<(), OptimizerError> {
    check(optimizer, name, value, value >= 0.0, "it must be >= 0")
}

/// A beta of Adam: in [0, 1).
pub(crate) fn check_beta(
    optimizer: &'static str,
    name: &'static str,
    value: f64,
) -> Result<(), OptimizerError> {
    let ok = (0.0..1.0).contains(&value);
    check(optimizer, name, value, ok, "betas must be in [0, 1)")
}

/// Calls `f(index, parameter)` for every parameter in state-dict order.
pub(crate) fn for_each_parameter<M: Module + ?Sized>(
    model: &mut M,
    f: impl FnMut(usize, &mut Parameter),
) {
    struct Each<F>(usize, F);
    impl<F: FnMut(usize, &mut Parameter)> VisitorMut for Each<F> {
        fn parameter(&mut self, _: &str, p: &mut Parameter) {
            (self.1)(self.0, p);
            self.0 += 1;
        }
    }
    model.visit_mut(&mut Each(0, f));
}

/// `LearningRate` for an optimizer whose groups live in `self.params`.
macro_rules! learning_rate_from_params {
    ($name:ty) => {
        impl $crate::optim::LearningRate for $name {
            fn num_groups(&self) -> usize {
                self.params.num_groups()
            }
            fn group_lr(&self, group: usize) -> f64 {
                self.params.lr(group)
            }
            fn set_group_lr(&mut self, group: usize, lr: f64) {
                self.params.set_lr(group, lr)
            }
            fn initial_lr(&mut self, group: usize) -> f64 {
                self.params.initial_lr(group)
            }
        }
    };
}
pub(crate) use learning_rate_from_params;
