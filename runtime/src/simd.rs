//! Runtime SIMD dispatch for the elementwise passes (optimizer updates, activations): the
//! closure is compiled for the best instruction set the CPU has (AVX2 + FMA where present),
//! whatever `-C target-cpu` the user built with, so plain loops over slices vectorise wide.

use std::sync::LazyLock;

static ARCH: LazyLock<pulp::Arch> = LazyLock::new(pulp::Arch::new);

/// Runs `f` compiled for the detected instruction set. Keep `f` a short plain loop over
/// slices (or one call of an `#[inline(always)]` function); a larger body is a [`Pass`].
#[inline(always)]
pub fn vectorize<R>(f: impl FnOnce() -> R) -> R {
    ARCH.dispatch(f)
}

/// A pass for [`dispatch`]: its body, `run`, is marked `#[inline(always)]`, so it is compiled
/// inside the dispatched function, for the detected instruction set.
///
/// `vectorize` only asks LLVM to inline its closure there. A large closure has two callers
/// (the AVX2 path and the fallback), and LLVM then keeps it as a function of its own, compiled
/// without AVX: the small-batch `Linear` loops ran as SSE code that way, I1 spending 60 % of
/// its time in them.
pub trait Pass {
    type Output;
    fn run(self) -> Self::Output;
}

struct Dispatched<P>(P);

impl<P: Pass> pulp::WithSimd for Dispatched<P> {
    type Output = P::Output;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> P::Output {
        self.0.run()
    }
}

/// Runs `pass` compiled for the detected instruction set.
#[inline(always)]
pub fn dispatch<P: Pass>(pass: P) -> P::Output {
    ARCH.dispatch(Dispatched(pass))
}
