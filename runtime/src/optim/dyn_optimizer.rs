//! An optimizer as a trait object over a `dyn Module`: what `fit_dyn` and the checkpoint
//! code it calls drive. [`Optimizer`]'s methods are generic over the model, so each caller
//! would compile its own copy of an optimizer's update and bookkeeping; through
//! [`DynOptimizer`] the ones here are compiled once, in this crate, whichever program uses
//! them. Any other optimizer joins through [`OptimizerRef`].

use super::{Adagrad, Adam, AnyOptimizer, LearningRate, Optimizer, OptimizerError, RMSprop, SGD};
use crate::module::Module;
use crate::state::NamedTensor;

/// [`Optimizer`] with the model as a `dyn Module`.
pub trait DynOptimizer: LearningRate {
    /// [`Optimizer::step`].
    fn step_dyn(&mut self, model: &mut dyn Module) -> Result<(), OptimizerError>;
    /// [`Optimizer::state`].
    fn state_dyn(&self) -> Vec<NamedTensor>;
    /// [`Optimizer::load_state`].
    fn load_state_dyn(
        &mut self,
        model: &dyn Module,
        state: &[NamedTensor],
    ) -> Result<(), OptimizerError>;
    /// [`Optimizer::validate`].
    fn validate_dyn(&self) -> Result<(), OptimizerError>;
}

/// Any [`Optimizer`] as a [`DynOptimizer`] (what the typed `fit` hands `fit_dyn`).
pub struct OptimizerRef<'a, O: ?Sized>(pub &'a mut O);

impl<O: Optimizer + ?Sized> LearningRate for OptimizerRef<'_, O> {
    fn num_groups(&self) -> usize {
        self.0.num_groups()
    }
    fn group_lr(&self, group: usize) -> f64 {
        self.0.group_lr(group)
    }
    fn set_group_lr(&mut self, group: usize, lr: f64) {
        self.0.set_group_lr(group, lr)
    }
    fn initial_lr(&mut self, group: usize) -> f64 {
        self.0.initial_lr(group)
    }
    fn lr(&self) -> f64 {
        self.0.lr()
    }
    fn set_lr(&mut self, lr: f64) {
        self.0.set_lr(lr)
    }
}

/// The forwarding, for an optimizer type of this crate.
macro_rules! forward {
    ($($ty:ty),*) => {$(
        impl DynOptimizer for $ty {
            fn step_dyn(&mut self, model: &mut dyn Module) -> Result<(), OptimizerError> {
                Optimizer::step(self, model)
            }
            fn state_dyn(&self) -> Vec<NamedTensor> {
                Optimizer::state(self)
            }
            fn load_state_dyn(
                &mut self,
                model: &dyn Module,
                state: &[NamedTensor],
            ) -> Result<(), OptimizerError> {
                Optimizer::load_state(self, model, state)
            }
            fn validate_dyn(&self) -> Result<(), OptimizerError> {
                Optimizer::validate(self)
            }
        }
    )*};
}

impl<O: Optimizer + ?Sized> DynOptimizer for OptimizerRef<'_, O> {
    fn step_dyn(&mut self, model: &mut dyn Module) -> Result<(), OptimizerError> {
        self.0.step(model)
    }
    fn state_dyn(&self) -> Vec<NamedTensor> {
        self.0.state()
    }
    fn load_state_dyn(
        &mut self,
        model: &dyn Module,
        state: &[NamedTensor],
    ) -> Result<(), OptimizerError> {
        self.0.load_state(model, state)
    }
    fn validate_dyn(&self) -> Result<(), OptimizerError> {
        self.0.validate()
    }
}

// Not generic: compiled here, once.
forward!(SGD, Adam, RMSprop, Adagrad, AnyOptimizer);
