//! A skip connection: `y = x + f(x)`, the ResNet block. `model!` writes the block body `f` as
//! a generated module whose layers are keyed `0`, `1`, ... (or by name), so the state dict is
//! the one of PyTorch's `class Residual(nn.Sequential): forward = x + super().forward(x)`.

use crate::module::{Forward, InputError, Module, Shaped, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// `x + body(x)` for a body that keeps the width.
#[derive(Clone, Debug)]
pub struct Residual<F> {
    pub body: F,
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

impl<F> Residual<F> {
    pub fn new(body: F) -> Self {
        Residual {
            body,
            output: Vec::new(),
            grad_input: Vec::new(),
        }
    }
}

impl<F: Module> Module for Residual<F> {
    // The block adds no level to the keys: its body's layers are `block.0`, `block.1`, ...
    fn visit(&self, visitor: &mut dyn Visitor) {
        self.body.visit(visitor);
    }
    fn visit_mut(&mut self, visitor: &mut dyn VisitorMut) {
        self.body.visit_mut(visitor);
    }
    fn set_training(&mut self, training: bool) {
        self.body.set_training(training);
    }
    fn describe(&self) -> crate::export::Node<'_> {
        crate::export::Node::Residual(Box::new(self.body.describe()))
    }
}

impl<F: Shaped> Shaped for Residual<F> {
    const IN: usize = F::IN;
    const OUT: usize = F::IN;
}

/// `out[i] = a[i] + b[i]`.
fn add_into(out: &mut Vec<f32>, a: &[f32], b: &[f32]) {
    resize(out, a.len());
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = a + b;
    }
}

impl<F: Forward<W, W>, const W: usize> Forward<W, W> for Residual<F> {
    fn forward(&self, x: &BatchSlice<W>) -> Batch<W> {
        let mut y = self.body.forward(x);
        for (y, &x) in y.as_mut_slice().iter_mut().zip(x.as_slice()) {
            *y += x;
        }
        y
    }

    fn last_output(&self) -> &BatchSlice<W> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<W>) -> &BatchSlice<W> {
        let fx = self.body.forward_train_raw(x);
        add_into(&mut self.output, x.as_slice(), fx.as_slice());
        BatchSlice::view(&self.output)
    }

    /// d/dx (x + f(x)) = 1 + f'(x): the output gradient plus the body's input gradient.
    fn backward_raw(
        &mut self,
        input: &BatchSlice<W>,
        grad_output: &BatchSlice<W>,
        key: &TraceKey,
    ) -> &BatchSlice<W> {
        let through_body = self.body.backward_raw(input, grad_output, key);
        add_into(
            &mut self.grad_input,
            grad_output.as_slice(),
            through_body.as_slice(),
        );
        BatchSlice::view(&self.grad_input)
    }

    fn backward_params_raw(
        &mut self,
        input: &BatchSlice<W>,
        grad_output: &BatchSlice<W>,
        key: &TraceKey,
    ) {
        self.body.backward_params_raw(input, grad_output, key);
    }

    fn validate(&self, x: &BatchSlice<W>) -> Result<(), InputError> {
        self.body.validate(x)
    }
}
