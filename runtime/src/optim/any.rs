//! An optimizer chosen by name at run time (`--optimizer adam`), as a config file or a
//! command line picks one in PyTorch.

use super::{Adagrad, Adam, AdamW, LearningRate, Optimizer, OptimizerError, RMSprop, SGD};
use crate::module::Module;
use crate::state::NamedTensor;

/// One of the built-in optimizers.
#[derive(Clone, Debug)]
pub enum AnyOptimizer {
    SGD(SGD),
    Adam(Adam),
    RMSprop(RMSprop),
    Adagrad(Adagrad),
}

/// Why [`AnyOptimizer::from_name`] made no optimizer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FromNameError {
    #[error(
        "unknown optimizer `{0}`; expected one of sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad"
    )]
    UnknownOptimizer(String),
    /// The learning rate was refused, as PyTorch's constructor refuses it.
    #[error(transparent)]
    Hyperparameter(#[from] OptimizerError),
}

impl AnyOptimizer {
    /// `sgd`, `momentum` (SGD with 0.9), `nesterov`, `adam`, `adamw`, `rmsprop` or `adagrad`,
    /// with PyTorch's defaults otherwise.
    pub fn from_name(name: &str, lr: f64) -> Result<Self, FromNameError> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "sgd" => AnyOptimizer::SGD(SGD::new(lr)?),
            "momentum" => AnyOptimizer::SGD(SGD::new(lr)?.momentum(0.9)?),
            "nesterov" => AnyOptimizer::SGD(SGD::new(lr)?.momentum(0.9)?.nesterov(true)),
            "adam" => AnyOptimizer::Adam(Adam::new(lr)?),
            "adamw" => AnyOptimizer::Adam(AdamW::new(lr)?),
            "rmsprop" => AnyOptimizer::RMSprop(RMSprop::new(lr)?),
            "adagrad" => AnyOptimizer::Adagrad(Adagrad::new(lr)?),
            _ => return Err(FromNameError::UnknownOptimizer(name.to_string())),
        })
    }
}

macro_rules! each {
    ($self:expr, $o:ident => $body:expr) => {
        match $self {
            AnyOptimizer::SGD($o) => $body,
            AnyOptimizer::Adam($o) => $body,
            AnyOptimizer::RMSprop($o) => $body,
            AnyOptimizer::Adagrad($o) => $body,
        }
    };
}

impl LearningRate for AnyOptimizer {
    fn num_groups(&self) -> usize {
        each!(self, o => o.num_groups())
    }
    fn group_lr(&self, group: usize) -> f64 {
        each!(self, o => o.group_lr(group))
    }
    fn set_group_lr(&mut self, group: usize, lr: f64) {
        each!(self, o => o.set_group_lr(group, lr))
    }
    fn initial_lr(&mut self, group: usize) -> f64 {
        each!(self, o => o.initial_lr(group))
    }
}

impl Optimizer for AnyOptimizer {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) -> Result<(), OptimizerError> {
        each!(self, o => o.step(model))
    }
    fn state(&self) -> Vec<NamedTensor> {
        each!(self, o => o.state())
    }
    fn load_state<M: Module + ?Sized>(
        &mut self,
        model: &M,
        state: &[NamedTensor],
    ) -> Result<(), OptimizerError> {
        each!(self, o => o.load_state(model, state))
    }
    fn validate(&self) -> Result<(), OptimizerError> {
        each!(self, o => o.validate())
    }
}
