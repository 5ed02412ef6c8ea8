//! What the no-allocation tests count, written once: a whole training step, and the count
//! over steps after a first one. Included by path, as `counting_allocator.rs` is.

use staticnn::prelude::*;

/// Allocations `count` sees during 5 calls of `step` after a first one.
pub fn allocations_after_first_step(count: fn() -> usize, mut step: impl FnMut()) -> usize {
    step();
    let before = count();
    for _ in 0..5 {
        step();
    }
    count() - before
}

/// PyTorch's five lines, as the benchmark runs them (no d loss / d input for the data).
pub fn plain_step<M, L, O, const I: usize, const OUT: usize>(
    model: &mut M,
    loss: &mut L,
    optimizer: &mut O,
    x: &BatchSlice<I>,
    target: &L::Target,
) where
    M: Forward<I, OUT>,
    L: Loss<OUT>,
    O: Optimizer,
{
    model.zero_grad();
    let out = model.forward_train(x);
    let (_, grad) = loss.value_and_grad(&out, target).expect("targets fit");
    out.backward_params(grad);
    optimizer.step(model).expect("the optimizer's own model");
}
