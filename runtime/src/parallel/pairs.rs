//! A model's parameters side by side with a replica's, and the passes over such pairs that a
//! data-parallel step needs: weights out to the replicas, gradients back in.

use super::StepError;
use super::split::elementwise;
use crate::module::{Module, Parameter, VisitorMut};

/// Calls `each(model_parameter, replica_parameter)` for every parameter of `model` in
/// state-dict order, with the replica's parameter at the same position; the error names the
/// first pair whose lengths differ (a layer changed since the replica was built), which it
/// skips.
///
/// The visitor protocol lends one parameter at a time, so the replica is walked again for
/// each of the model's parameters until the same position: quadratic in the number of
/// tensors (tens), nothing in their lengths, and no allocation.
pub(crate) fn each_pair<M: Module>(
    model: &mut M,
    replica: &mut M,
    each: &mut dyn FnMut(&mut Parameter, &mut Parameter),
) -> Result<(), StepError> {
    struct Outer<'a, M> {
        replica: &'a mut M,
        each: &'a mut dyn FnMut(&mut Parameter, &mut Parameter),
        index: usize,
        mismatch: Option<usize>,
    }
    impl<M: Module> VisitorMut for Outer<'_, M> {
        fn parameter(&mut self, _: &str, p: &mut Parameter) {
            let Outer {
                replica,
                each,
                index,
                mismatch,
            } = self;
            let mut inner = Inner {
                target: *index,
                index: 0,
                first: p,
                each: &mut **each,
                same_length: false,
            };
            replica.visit_mut(&mut inner);
            if !inner.same_length && mismatch.is_none() {
                *mismatch = Some(*index);
            }
            *index += 1;
        }
    }
    struct Inner<'a, 'b> {
        target: usize,
        index: usize,
        first: &'a mut Parameter,
        each: &'b mut dyn FnMut(&mut Parameter, &mut Parameter),
        same_length: bool,
    }
    impl VisitorMut for Inner<'_, '_> {
        fn parameter(&mut self, _: &str, p: &mut Parameter) {
            if self.index == self.target {
                self.same_length = p.value.len() == self.first.value.len()
                    && p.grad.len() == self.first.grad.len();
                if self.same_length {
                    (self.each)(self.first, p);
                }
            }
            self.index += 1;
        }
    }
    let mut outer = Outer {
        replica,
        each,
        index: 0,
        mismatch: None,
    };
    model.visit_mut(&mut outer);
    match outer.mismatch {
        Some(index) => Err(StepError::Replica { index }),
        None => Ok(()),
    }
}

/// The replica takes the model's values and `requires_grad` flags, and drops its gradients.
pub(crate) fn send_weights(model: &mut Parameter, replica: &mut Parameter) {
    replica.requires_grad = model.requires_grad;
    let slices = (
        &mut replica.value[..],
        (&mut replica.grad[..], &model.value[..]),
    );
    elementwise(slices, &|(value, (grad, model)): (
        &mut [f32],
        (&mut [f32], &[f32]),
    )| {
        value.copy_from_slice(model);
        grad.fill(0.0);
    });
}

/// The model's gradient gains the replica's.
pub(crate) fn add_gradient(model: &mut Parameter, replica: &mut Parameter) {
    if model.requires_grad {
        let slices = (&mut model.grad[..], &replica.grad[..]);
        elementwise(slices, &|(sum, part): (&mut [f32], &[f32])| {
            crate::simd::vectorize(|| {
                for (s, p) in sum.iter_mut().zip(part) {
                    *s += p;
                }
            })
        });
    }
}
