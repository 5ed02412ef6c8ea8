//! Pooling over NCHW images: `MaxPool2d` (the gradient goes to each window's maximum),
//! `AvgPool2d` (spread evenly over the window) and `AdaptiveAvgPool2d` to 1×1. Windows follow
//! PyTorch: implicit padding, dilation (max only), floor or ceil mode.

use super::geometry::{GeometryError, PoolGeometry, Window};
use crate::module::{Forward, Module, Shaped, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// The input positions along one axis that output position `o` reads, padding skipped.
type Taps = std::iter::StepBy<std::ops::Range<usize>>;

#[inline(always)]
fn taps(w: Window, size: usize, o: usize) -> Taps {
    // Tap `i` sits at `first + i·dilation` in padded coordinates; those inside the input are
    // one run of `i`, from `lo` to `hi`.
    let (first, d) = (o * w.stride, w.dilation);
    let hi = (w.padding + size)
        .saturating_sub(first)
        .div_ceil(d)
        .min(w.kernel);
    let lo = w.padding.saturating_sub(first).div_ceil(d).min(hi);
    (first + lo * d - w.padding..first + hi * d - w.padding).step_by(d)
}

/// Calls `f(output index, plane offset, rows, columns, (oh, ow))` for every window of one
/// image; `rows` and `columns` are the input positions the window covers.
#[inline(always)]
fn windows(g: &PoolGeometry, mut f: impl FnMut(usize, usize, Taps, Taps, (usize, usize))) {
    let (ho, wo) = (g.out_height(), g.out_width());
    let (wh, ww) = g.windows();
    for c in 0..g.channels {
        let plane = c * g.height * g.width;
        for oh in 0..ho {
            for ow in 0..wo {
                let (rows, cols) = (taps(wh, g.height, oh), taps(ww, g.width, ow));
                f((c * ho + oh) * wo + ow, plane, rows, cols, (oh, ow));
            }
        }
    }
}

/// The input indices of one window.
#[inline(always)]
fn cells(width: usize, plane: usize, rows: Taps, cols: Taps) -> impl Iterator<Item = usize> {
    rows.flat_map(move |r| cols.clone().map(move |c| plane + r * width + c))
}

macro_rules! pool_layer {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ty),* }, $node:path, $dilated:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name<const IN: usize, const OUT: usize> {
            pub geometry: PoolGeometry,
            $($(#[$fdoc])* $field: $ty,)*
            output: Vec<f32>,
            grad_input: Vec<f32>,
        }

        impl<const IN: usize, const OUT: usize> $name<IN, OUT> {
            pub fn new(geometry: PoolGeometry) -> Result<Self, GeometryError> {
                geometry.check(IN, OUT)?;
                if !$dilated && geometry.dilation != (1, 1) {
                    let dilation = geometry.dilation;
                    return Err(GeometryError::Dilation { layer: stringify!($name), dilation });
                }
                Ok($name { geometry, $($field: Default::default(),)* output: Vec::new(), grad_input: Vec::new() })
            }
        }

        impl<const IN: usize, const OUT: usize> Shaped for $name<IN, OUT> {
            const IN: usize = IN;
            const OUT: usize = OUT;
        }

        impl<const IN: usize, const OUT: usize> Module for $name<IN, OUT> {
            fn visit(&self, _: &mut dyn Visitor) {}
            fn visit_mut(&mut self, _: &mut dyn VisitorMut) {}
            fn set_training(&mut self, _: bool) {}
            fn describe(&self) -> crate::export::Node<'_> {
                $node(self.geometry)
            }
        }
    };
}

pool_layer!(
    /// PyTorch's `nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode=...)`.
    MaxPool2d {
        /// The input index of each output's maximum.
        argmax: Vec<usize>
    },
    crate::export::Node::MaxPool2d,
    true
);
pool_layer!(
    /// PyTorch's `nn.AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad)`.
    AvgPool2d {},
    crate::export::Node::AvgPool2d,
    // PyTorch's AvgPool2d has no dilation; a dilated window's divisor would match nothing.
    false
);

impl<const IN: usize, const OUT: usize> MaxPool2d<IN, OUT> {
    /// Max of each window; `argmax` (when given) receives the winning input index
    /// (`usize::MAX` for a window wholly in the padding, whose output is `-inf`).
    fn pool(g: &PoolGeometry, image: &[f32], out: &mut [f32], mut argmax: Option<&mut [usize]>) {
        windows(g, |o, plane, rows, cols, _| {
            let (mut best, mut value) = (usize::MAX, f32::NEG_INFINITY);
            for i in cells(g.width, plane, rows, cols) {
                // NaN wins, as in PyTorch, so it is not hidden.
                if image[i] > value || image[i].is_nan() {
                    (best, value) = (i, image[i]);
                }
            }
            out[o] = value;
            if let Some(a) = argmax.as_deref_mut() {
                a[o] = best;
            }
        });
    }
}

impl<const IN: usize, const OUT: usize> Forward<IN, OUT> for MaxPool2d<IN, OUT> {
    fn forward(&self, x: &BatchSlice<IN>) -> Batch<OUT> {
        let mut out = Batch::zeros(x.rows());
        for (image, o) in x
            .as_slice()
            .chunks_exact(IN)
            .zip(out.as_mut_slice().chunks_exact_mut(OUT))
        {
            Self::pool(&self.geometry, image, o, None);
        }
        out
    }

    fn last_output(&self) -> &BatchSlice<OUT> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<IN>) -> &BatchSlice<OUT> {
        resize(&mut self.output, x.rows() * OUT);
        self.argmax.resize(x.rows() * OUT, 0);
        for ((image, o), a) in x
            .as_slice()
            .chunks_exact(IN)
            .zip(self.output.chunks_exact_mut(OUT))
            .zip(self.argmax.chunks_exact_mut(OUT))
        {
            Self::pool(&self.geometry, image, o, Some(a));
        }
        BatchSlice::view(&self.output)
    }

    fn backward_raw(
        &mut self,
        _: &BatchSlice<IN>,
        grad_output: &BatchSlice<OUT>,
        _: &TraceKey,
    ) -> &BatchSlice<IN> {
        resize(&mut self.grad_input, grad_output.rows() * IN);
        self.grad_input.fill(0.0);
        for ((dy, dx), a) in grad_output
            .as_slice()
            .chunks_exact(OUT)
            .zip(self.grad_input.chunks_exact_mut(IN))
            .zip(self.argmax.chunks_exact(OUT))
        {
            for (&g, &i) in dy.iter().zip(a) {
                if let Some(dx) = dx.get_mut(i) {
                    *dx += g;
                }
            }
        }
        BatchSlice::view(&self.grad_input)
    }
}

impl<const IN: usize, const OUT: usize> AvgPool2d<IN, OUT> {
    /// What window `(oh, ow)` divides by: PyTorch's `count_include_pad` rule, where the window
    /// is clipped to the padded input and, without it, to the input.
    fn divisor(g: &PoolGeometry, rows: &Taps, cols: &Taps, (oh, ow): (usize, usize)) -> f32 {
        if !g.count_include_pad {
            return (rows.clone().count() * cols.clone().count()) as f32;
        }
        let (wh, ww) = g.windows();
        let clipped = |w: Window, size: usize, o: usize| {
            let first = o * w.stride;
            (first + w.kernel).min(size + 2 * w.padding) - first
        };
        (clipped(wh, g.height, oh) * clipped(ww, g.width, ow)) as f32
    }

    fn pool(&self, image: &[f32], out: &mut [f32]) {
        let g = &self.geometry;
        windows(g, |o, plane, rows, cols, at| {
            let divisor = Self::divisor(g, &rows, &cols, at);
            out[o] = cells(g.width, plane, rows, cols)
                .map(|i| image[i])
                .sum::<f32>()
                / divisor;
        });
    }
}

impl<const IN: usize, const OUT: usize> Forward<IN, OUT> for AvgPool2d<IN, OUT> {
    fn forward(&self, x: &BatchSlice<IN>) -> Batch<OUT> {
        let mut out = Batch::zeros(x.rows());
        for (image, o) in x
            .as_slice()
            .chunks_exact(IN)
            .zip(out.as_mut_slice().chunks_exact_mut(OUT))
        {
            self.pool(image, o);
        }
        out
    }

    fn last_output(&self) -> &BatchSlice<OUT> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<IN>) -> &BatchSlice<OUT> {
        let mut output = std::mem::take(&mut self.output);
        resize(&mut output, x.rows() * OUT);
        for (image, o) in x
            .as_slice()
            .chunks_exact(IN)
            .zip(output.chunks_exact_mut(OUT))
        {
            self.pool(image, o);
        }
        self.output = output;
        BatchSlice::view(&self.output)
    }

    fn backward_raw(
        &mut self,
        _: &BatchSlice<IN>,
        grad_output: &BatchSlice<OUT>,
        _: &TraceKey,
    ) -> &BatchSlice<IN> {
        resize(&mut self.grad_input, grad_output.rows() * IN);
        self.grad_input.fill(0.0);
        let g = self.geometry;
        for (dy, dx) in grad_output
            .as_slice()
            .chunks_exact(OUT)
            .zip(self.grad_input.chunks_exact_mut(IN))
        {
            windows(&g, |o, plane, rows, cols, at| {
                let share = dy[o] / Self::divisor(&g, &rows, &cols, at);
                for i in cells(g.width, plane, rows, cols) {
                    dx[i] += share;
                }
            });
        }
        BatchSlice::view(&self.grad_input)
    }
}

/// PyTorch's `nn.AdaptiveAvgPool2d(1)`: each of the `OUT` channels of `IN / OUT` values
/// becomes its mean (`[C, H, W]` → `[C, 1, 1]`).
#[derive(Clone, Debug, Default)]
pub struct AdaptiveAvgPool2d {
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

impl AdaptiveAvgPool2d {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Module for AdaptiveAvgPool2d {
    fn visit(&self, _: &mut dyn Visitor) {}
    fn visit_mut(&mut self, _: &mut dyn VisitorMut) {}
    fn set_training(&mut self, _: bool) {}
    fn describe(&self) -> crate::export::Node<'_> {
        crate::export::Node::AdaptiveAvgPool2d
    }
}

impl<const IN: usize, const OUT: usize> Forward<IN, OUT> for AdaptiveAvgPool2d {
    fn forward(&self, x: &BatchSlice<IN>) -> Batch<OUT> {
        const {
            assert!(
                IN.is_multiple_of(OUT),
                "AdaptiveAvgPool2d: IN must be channels × H × W"
            )
        };
        let plane = IN / OUT;
        let values = x
            .as_slice()
            .chunks_exact(plane)
            .map(|p| p.iter().sum::<f32>() / plane as f32)
            .collect();
        Batch::from_vec(values).expect("one value per channel")
    }

    fn last_output(&self) -> &BatchSlice<OUT> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<IN>) -> &BatchSlice<OUT> {
        const {
            assert!(
                IN.is_multiple_of(OUT),
                "AdaptiveAvgPool2d: IN must be channels × H × W"
            )
        };
        let plane = IN / OUT;
        self.output.clear();
        self.output.extend(
            x.as_slice()
                .chunks_exact(plane)
                .map(|p| p.iter().sum::<f32>() / plane as f32),
        );
        BatchSlice::view(&self.output)
    }

    fn backward_raw(
        &mut self,
        _: &BatchSlice<IN>,
        grad_output: &BatchSlice<OUT>,
        _: &TraceKey,
    ) -> &BatchSlice<IN> {
        let plane = IN / OUT;
        resize(&mut self.grad_input, grad_output.rows() * IN);
        for (dx, &g) in self
            .grad_input
            .chunks_exact_mut(plane)
            .zip(grad_output.as_slice())
        {
            dx.fill(g / plane as f32);
        }
        BatchSlice::view(&self.grad_input)
    }
}
