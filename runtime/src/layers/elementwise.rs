//! Activations applied value by value. Each function sits next to its derivative, which is
//! given both the input `x` and the output `y` so it can use whichever is cheaper.

use crate::export::{Activation, Node};
use crate::module::{Forward, Module, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// A scalar function and its derivative.
pub trait ElementwiseFn: Clone + std::fmt::Debug {
    /// False when `derivative` reads only `y`: it is then given `y` for `x` too, so backward
    /// reads one buffer, not two.
    const NEEDS_INPUT: bool = true;
    fn value(&self, x: f32) -> f32;
    /// dy/dx at `x`, where `y = value(x)` (`x` is `y` when `NEEDS_INPUT` is false).
    fn derivative(&self, x: f32, y: f32) -> f32;
    /// Which function this is, for export; `None` (a function of your own) makes export
    /// fail naming the layer.
    fn activation(&self) -> Option<Activation> {
        None
    }
}

/// A layer that applies `F` to every value; any width.
#[derive(Clone, Debug, Default)]
pub struct Elementwise<F> {
    pub function: F,
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

impl<F: ElementwiseFn> Elementwise<F> {
    pub fn with(function: F) -> Self {
        Elementwise {
            function,
            output: Vec::new(),
            grad_input: Vec::new(),
        }
    }
}

impl<F: ElementwiseFn> Module for Elementwise<F> {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn visit_mut(&mut self, _: &mut dyn VisitorMut) {}
    fn set_training(&mut self, _: bool) {}
    fn describe(&self) -> Node<'_> {
        match self.function.activation() {
            Some(a) => Node::Activation(a),
            None => Node::Unsupported {
                type_name: self.type_name(),
            },
        }
    }
}

impl<F: ElementwiseFn, const W: usize> Forward<W, W> for Elementwise<F> {
    fn forward(&self, x: &BatchSlice<W>) -> Batch<W> {
        self.forward_owned(x.to_batch())
    }

    fn forward_owned(&self, mut x: Batch<W>) -> Batch<W> {
        let f = &self.function;
        let values = x.as_mut_slice();
        crate::simd::vectorize_op(InPlace(f, values));
        x
    }

    fn last_output(&self) -> &BatchSlice<W> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<W>) -> &BatchSlice<W> {
        let x = x.as_slice();
        resize(&mut self.output, x.len());
        let (f, output) = (&self.function, &mut self.output);
        crate::simd::vectorize(|| {
            for (y, &x) in output.iter_mut().zip(x) {
                *y = f.value(x);
            }
        });
        BatchSlice::view(&self.output)
    }

    fn backward_raw(
        &mut self,
        input: &BatchSlice<W>,
        grad_output: &BatchSlice<W>,
        _: &TraceKey,
    ) -> &BatchSlice<W> {
        let g = grad_output.as_slice();
        resize(&mut self.grad_input, g.len());
        let input = if F::NEEDS_INPUT {
            input.as_slice()
        } else {
            &self.output
        };
        let (f, output, grad_input) = (&self.function, &self.output, &mut self.grad_input);
        crate::simd::vectorize(|| {
            for (((dx, &g), &x), &y) in grad_input.iter_mut().zip(g).zip(input).zip(output) {
                *dx = g * f.derivative(x, y);
            }
        });
        BatchSlice::view(&self.grad_input)
    }
}

/// `F` applied to values in place, written through a second view of them that the compiler
/// cannot tell is the same memory. Written through one view, a function that returns some
/// inputs unchanged (ReLU's `x > 0`, LeakyReLU's) has LLVM store only the changed lanes, under
/// a mask (`vmaskmovps`), which AMD CPUs run slowly: on a Zen 4 that store was a sixth of I1's
/// time. The same function on the same values in the same order, so the same bits. An
/// operation, not a closure, so that the loop is compiled for the CPU (as a closure it was
/// left out of the dispatched copy, as SSE code).
struct InPlace<'a, F>(&'a F, &'a mut [f32]);

impl<F: ElementwiseFn> pulp::WithSimd for InPlace<'_, F> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        const CHUNK: usize = 8;
        let InPlace(f, values) = self;
        let read = std::cell::Cell::from_mut(values).as_slice_of_cells();
        // The same cells, behind a pointer the optimiser must treat as unknown.
        let write = std::hint::black_box(read);
        let (mut reads, mut writes) = (read.chunks_exact(CHUNK), write.chunks_exact(CHUNK));
        for (r, w) in (&mut reads).zip(&mut writes) {
            let x: [f32; CHUNK] = std::array::from_fn(|i| r[i].get());
            for (w, y) in w.iter().zip(x.map(|v| f.value(v))) {
                w.set(y);
            }
        }
        for (r, w) in reads.remainder().iter().zip(writes.remainder()) {
            w.set(f.value(r.get()));
        }
    }
}

/// `max(0, x)`; the gradient at 0 is 0 and NaN passes through, as in PyTorch.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReLUFn;
impl ElementwiseFn for ReLUFn {
    fn activation(&self) -> Option<Activation> {
        Some(Activation::ReLU)
    }
    const NEEDS_INPUT: bool = false;
    fn value(&self, x: f32) -> f32 {
        if x <= 0.0 { 0.0 } else { x }
    }
    /// `y > 0` exactly when `x > 0`.
    fn derivative(&self, _: f32, y: f32) -> f32 {
        if y > 0.0 { 1.0 } else { 0.0 }
    }
}

/// `x` for `x > 0`, else `slope · x`; the gradient at 0 is `slope`, as in PyTorch.
#[derive(Clone, Copy, Debug)]
pub struct LeakyReLUFn {
    pub negative_slope: f32,
}
impl ElementwiseFn for LeakyReLUFn {
    fn activation(&self) -> Option<Activation> {
        Some(Activation::LeakyReLU {
            negative_slope: self.negative_slope,
        })
    }
    fn value(&self, x: f32) -> f32 {
        if x <= 0.0 { self.negative_slope * x } else { x }
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        if x > 0.0 { 1.0 } else { self.negative_slope }
    }
}

/// `1 / (1 + e^-x)`, whose derivative is `y (1 - y)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SigmoidFn;
impl ElementwiseFn for SigmoidFn {
    fn activation(&self) -> Option<Activation> {
        Some(Activation::Sigmoid)
    }
    const NEEDS_INPUT: bool = false;
    fn value(&self, x: f32) -> f32 {
        // Split by sign so that `exp` never overflows.
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            let e = x.exp();
            e / (1.0 + e)
        }
    }
    fn derivative(&self, _: f32, y: f32) -> f32 {
        y * (1.0 - y)
    }
}

/// `tanh x`, whose derivative is `1 - y²`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TanhFn;
impl ElementwiseFn for TanhFn {
    fn activation(&self) -> Option<Activation> {
        Some(Activation::Tanh)
    }
    const NEEDS_INPUT: bool = false;
    fn value(&self, x: f32) -> f32 {
        x.tanh()
    }
    fn derivative(&self, _: f32, y: f32) -> f32 {
        1.0 - y * y
    }
}

/// Which formula `GELU` uses, as PyTorch's `approximate` argument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Approximate {
    /// `x Φ(x)` with the exact normal CDF (`approximate="none"`).
    #[default]
    None,
    /// `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))` (`approximate="tanh"`).
    Tanh,
}

/// Gaussian error linear unit.
#[derive(Clone, Copy, Debug, Default)]
pub struct GELUFn {
    pub approximate: Approximate,
}

const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_CUBIC: f64 = 0.044_715;

impl ElementwiseFn for GELUFn {
    fn activation(&self) -> Option<Activation> {
        Some(Activation::GELU(self.approximate))
    }
    fn value(&self, x: f32) -> f32 {
        let x = f64::from(x);
        let y = match self.approximate {
            Approximate::None => 0.5 * x * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2)),
            Approximate::Tanh => {
                0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)).tanh())
            }
        };
        y as f32
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        let x = f64::from(x);
        let d = match self.approximate {
            Approximate::None => {
                let cdf = 0.5 * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2));
                let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
                cdf + x * pdf
            }
            Approximate::Tanh => {
                let inner = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
                let t = inner.tanh();
                let d_inner = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
                0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner
            }
        };
        d as f32
    }
}

/// PyTorch's `nn.ReLU()`.
pub type ReLU = Elementwise<ReLUFn>;
/// PyTorch's `nn.LeakyReLU(negative_slope)`.
pub type LeakyReLU = Elementwise<LeakyReLUFn>;
/// PyTorch's `nn.Sigmoid()`.
pub type Sigmoid = Elementwise<SigmoidFn>;
/// PyTorch's `nn.Tanh()`.
pub type Tanh = Elementwise<TanhFn>;
/// PyTorch's `nn.GELU(approximate)`.
pub type GELU = Elementwise<GELUFn>;

impl ReLU {
    pub fn new() -> Self {
        Self::with(ReLUFn)
    }
}
impl LeakyReLU {
    /// PyTorch's default slope is 0.01.
    pub fn new(negative_slope: f32) -> Self {
        Self::with(LeakyReLUFn { negative_slope })
    }
}
impl Default for LeakyReLU {
    fn default() -> Self {
        Self::new(0.01)
    }
}
impl Sigmoid {
    pub fn new() -> Self {
        Self::with(SigmoidFn)
    }
}
impl Tanh {
    pub fn new() -> Self {
        Self::with(TanhFn)
    }
}
impl GELU {
    pub fn new(approximate: Approximate) -> Self {
        Self::with(GELUFn { approximate })
    }
}

#[cfg(test)]
mod tests {
    use super::{Approximate, ElementwiseFn, GELUFn, LeakyReLUFn, ReLUFn, SigmoidFn, TanhFn};
    use crate::layers::swish::{HardswishFn, SiLUFn};
    use crate::module::Forward;
    use crate::tensor::Batch;

    /// Values of both signs, both zeros, infinities and NaNs of both signs and two payloads.
    fn values(len: usize) -> Vec<f32> {
        let specials = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7fc0_1234),
            f32::MIN_POSITIVE,
        ];
        (0..len)
            .map(|i| match i % 3 {
                0 => specials[(i / 3) % specials.len()],
                1 => i as f32 * 0.37 - 5.0,
                _ => -(i as f32) * 1.3,
            })
            .collect()
    }

    fn check<F: ElementwiseFn>(function: F) {
        let name = format!("{function:?}");
        let layer = super::Elementwise::with(function.clone());
        for len in 0..=41 {
            let x = values(len);
            let got = Forward::<1, 1>::forward_owned(&layer, Batch::from_vec(x.clone()).unwrap());
            assert_eq!(
                got.as_slice().len(),
                len,
                "{name}: {len} values in, as many out"
            );
            for (i, (&x, &y)) in x.iter().zip(got.as_slice()).enumerate() {
                let want = function.value(x);
                assert_eq!(
                    y.to_bits(),
                    want.to_bits(),
                    "{name}, {len} values, value {i} ({x:?}): in place {y:?}, alone {want:?}"
                );
            }
        }
    }

    #[test]
    fn in_place_forward_gives_each_values_own_bits() {
        check(ReLUFn);
        check(LeakyReLUFn {
            negative_slope: 0.01,
        });
        check(SigmoidFn);
        check(TanhFn);
        check(GELUFn::default());
        check(GELUFn {
            approximate: Approximate::Tanh,
        });
        check(SiLUFn);
        check(HardswishFn);
    }
}
