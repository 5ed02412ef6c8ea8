//! Activations applied value by value. Each function sits next to its derivative, which is
//! given both the input `x` and the output `y` so it can use whichever is cheaper.

use crate::export::{Activation, Node};
use crate::module::{Forward, Module, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// A scalar function and its derivative.
pub trait ElementwiseFn: Clone + std::fmt::Debug {
    /// False when `derivative` reads only `y`: the layer then keeps no copy of its input.
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
    input: Vec<f32>,
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

impl<F: ElementwiseFn> Elementwise<F> {
    pub fn with(function: F) -> Self {
        Elementwise {
            function,
            input: Vec::new(),
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
        crate::simd::vectorize(|| {
            for v in values {
                *v = f.value(*v);
            }
        });
        x
    }

    fn last_output(&self) -> &BatchSlice<W> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<W>) -> &BatchSlice<W> {
        let x = x.as_slice();
        self.input.clear();
        if F::NEEDS_INPUT {
            self.input.extend_from_slice(x);
        }
        resize(&mut self.output, x.len());
        let (f, output) = (&self.function, &mut self.output);
        crate::simd::vectorize(|| {
            for (y, &x) in output.iter_mut().zip(x) {
                *y = f.value(x);
            }
        });
        BatchSlice::view(&self.output)
    }

    fn backward_raw(&mut self, grad_output: &BatchSlice<W>, _: &TraceKey) -> &BatchSlice<W> {
        let g = grad_output.as_slice();
        resize(&mut self.grad_input, g.len());
        let input = if F::NEEDS_INPUT {
            &self.input
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
