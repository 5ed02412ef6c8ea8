//! `Flatten`: rows are already flat in NCHW order, so flattening only renames the shape; the
//! values are copied through so that the layer owns what it returns.

use crate::module::{Forward, Module, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice};

/// PyTorch's `nn.Flatten()` (`start_dim = 1`).
#[derive(Clone, Debug, Default)]
pub struct Flatten {
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

impl Flatten {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Module for Flatten {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn visit_mut(&mut self, _: &mut dyn VisitorMut) {}
    fn set_training(&mut self, _: bool) {}
    fn describe(&self) -> crate::export::Node<'_> {
        crate::export::Node::Identity
    }
}

impl<const W: usize> Forward<W, W> for Flatten {
    fn forward(&self, x: &BatchSlice<W>) -> Batch<W> {
        x.to_batch()
    }
    fn forward_owned(&self, x: Batch<W>) -> Batch<W> {
        x
    }
    fn last_output(&self) -> &BatchSlice<W> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<W>) -> &BatchSlice<W> {
        self.output.clear();
        self.output.extend_from_slice(x.as_slice());
        BatchSlice::view(&self.output)
    }
    fn backward_raw(
        &mut self,
        _: &BatchSlice<W>,
        grad_output: &BatchSlice<W>,
        _: &TraceKey,
    ) -> &BatchSlice<W> {
        self.grad_input.clear();
        self.grad_input.extend_from_slice(grad_output.as_slice());
        BatchSlice::view(&self.grad_input)
    }
}
