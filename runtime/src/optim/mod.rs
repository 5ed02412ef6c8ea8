//! Optimizers with PyTorch's update rules and defaults, one file each, plus learning-rate
//! schedules and gradient clipping.
//!
//! An optimizer walks the model's parameters in state-dict order and keeps its per-parameter
//! state in that order, created on the first step; `state` and `load_state` turn it into named
//! tensors (`"{index}.exp_avg"`, ...) for checkpoints.

mod adagrad;
mod adam;
mod any;
mod clip;
mod rmsprop;
pub mod schedule;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use any::{AnyOptimizer, UnknownOptimizer};
pub use clip::{clip_grad_norm, clip_grad_value, scale_grad};
pub use rmsprop::RMSprop;
pub use schedule::{
    CosineAnnealingLR, ExponentialLR, LinearLR, MultiStepLR, OneCycleLR, PlateauMode,
    ReduceLROnPlateau, Scheduler, StepLR, ThresholdMode,
};
pub use sgd::SGD;

use crate::module::{Module, Parameter, VisitorMut};
use crate::state::{NamedTensor, TensorData};

/// The learning rate, which schedulers read and write.
pub trait LearningRate {
    fn lr(&self) -> f64;
    fn set_lr(&mut self, lr: f64);
}

/// An optimizer over a model's parameters.
pub trait Optimizer: LearningRate {
    /// One update from the accumulated gradients.
    fn step<M: Module + ?Sized>(&mut self, model: &mut M);
    /// The per-parameter state as named tensors, in a stable order.
    fn state(&self) -> Vec<NamedTensor>;
    /// Restores what `state` returned.
    fn load_state(&mut self, state: &[NamedTensor]) -> Result<(), OptimizerStateError>;
}

/// Optimizer state that does not fit the optimizer.
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
    #[error("optimizer state {0} is not float32")]
    DType(String),
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

/// Per-parameter buffers of one kind (`exp_avg`, `momentum_buffer`, ...), created lazily.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Slots {
    pub name: &'static str,
    pub values: Vec<Vec<f32>>,
}

impl Slots {
    pub fn new(name: &'static str) -> Self {
        Slots {
            name,
            values: Vec::new(),
        }
    }

    /// The slot of parameter `index`, created from `init` on first use.
    pub fn get(&mut self, index: usize, len: usize, init: impl FnOnce() -> Vec<f32>) -> &mut [f32] {
        if self.values.len() <= index {
            debug_assert_eq!(self.values.len(), index, "parameters are visited in order");
            self.values.push(init());
        }
        debug_assert_eq!(self.values[index].len(), len);
        &mut self.values[index]
    }

    pub fn export(&self, out: &mut Vec<NamedTensor>) {
        for (i, v) in self.values.iter().enumerate() {
            out.push(NamedTensor {
                name: format!("{i}.{}", self.name),
                shape: vec![v.len()],
                data: TensorData::F32(v.clone()),
                learnable: false,
            });
        }
    }

    pub fn import(&mut self, state: &[NamedTensor]) -> Result<(), OptimizerStateError> {
        self.values.clear();
        let suffix = format!(".{}", self.name);
        let mut found: Vec<(usize, &NamedTensor)> = state
            .iter()
            .filter_map(|t| {
                let index = t.name.strip_suffix(&suffix)?.parse().ok()?;
                Some((index, t))
            })
            .collect();
        found.sort_by_key(|(i, _)| *i);
        for (expected, (i, t)) in found.into_iter().enumerate() {
            if i != expected {
                return Err(OptimizerStateError::Missing(format!("{expected}{suffix}")));
            }
            match &t.data {
                TensorData::F32(v) => self.values.push(v.clone()),
                TensorData::I64(_) => return Err(OptimizerStateError::DType(t.name.clone())),
            }
        }
        Ok(())
    }
}

/// The step count (PyTorch keeps one per parameter; they are always equal here).
pub(crate) fn export_step(step: u64, out: &mut Vec<NamedTensor>) {
    out.push(NamedTensor {
        name: "step".into(),
        shape: Vec::new(),
        data: TensorData::I64(vec![step as i64]),
        learnable: false,
    });
}

pub(crate) fn import_step(state: &[NamedTensor]) -> Result<u64, OptimizerStateError> {
    match state.iter().find(|t| t.name == "step").map(|t| &t.data) {
        Some(TensorData::I64(v)) if v.len() == 1 => Ok(v[0].max(0) as u64),
        Some(_) => Err(OptimizerStateError::DType("step".into())),
        None => Err(OptimizerStateError::Missing("step".into())),
    }
}
