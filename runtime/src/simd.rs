//! Runtime SIMD dispatch for the elementwise passes (optimizer updates, activations): the
//! closure is compiled for the best instruction set the CPU has (AVX2 + FMA where present),
//! whatever `-C target-cpu` the user built with, so plain loops over slices vectorise wide.

use std::sync::LazyLock;

static ARCH: LazyLock<pulp::Arch> = LazyLock::new(pulp::Arch::new);

/// Runs `f` compiled for the detected instruction set. Keep `f` a plain loop over slices.
#[inline(always)]
pub fn vectorize<R>(f: impl FnOnce() -> R) -> R {
    ARCH.dispatch(f)
}
