//! Runtime SIMD dispatch for the elementwise passes (optimizer updates, activations): the
//! closure is compiled for the best instruction set the CPU has (AVX2 + FMA where present),
//! whatever `-C target-cpu` the user built with, so plain loops over slices vectorise wide.

use std::sync::LazyLock;

static ARCH: LazyLock<pulp::Arch> = LazyLock::new(pulp::Arch::new);

/// Runs `f` compiled for the detected instruction set. Keep `f` a short plain loop over
/// slices (or one call of an `#[inline(always)]` function): a large closure has two callers
/// (the AVX2 path and the fallback), and LLVM then keeps it as a function of its own,
/// compiled without AVX (Linear's small-batch product ran as SSE code that way; it is now
/// written with AVX intrinsics in `layers::linear::small_batch`). Where that is not enough,
/// [`vectorize_op`] is certain.
#[inline(always)]
pub fn vectorize<R>(f: impl FnOnce() -> R) -> R {
    ARCH.dispatch(f)
}

/// [`vectorize`] for a body LLVM might keep out of the dispatched copy as a closure: pulp
/// calls `WithSimd::with_simd`, marked `#[inline(always)]`, inside the copy compiled for the
/// CPU, so the body is always compiled with its instruction set. (Linear's bias gradient, a
/// closure around one `#[inline(always)]` call, still ran as SSE code.)
#[inline(always)]
pub fn vectorize_op<Op: pulp::WithSimd>(op: Op) -> Op::Output {
    ARCH.dispatch(op)
}

/// pulp's V3 level (AVX2 + FMA), if that is the level detected. faer dispatches its
/// elementwise and matrix-vector kernels the same way (`pulp::Arch::new`, one set of pulp
/// features for the whole build), so this is also whether faer runs them on V3.
#[cfg(target_arch = "x86_64")]
pub(crate) fn v3() -> Option<pulp::x86::V3> {
    match *ARCH {
        pulp::Arch::V3(simd) => Some(simd),
        _ => None,
    }
}
