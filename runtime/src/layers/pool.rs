//! Pooling over NCHW images: `MaxPool2d` (the gradient goes to each window's maximum),
//! `AvgPool2d` (spread evenly over the window) and `AdaptiveAvgPool2d` to 1×1.

use super::geometry::{GeometryError, PoolGeometry};
use crate::module::{Forward, Module, Shaped, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// Calls `f(output index, window)` for every window of one image, where `window(i, j)` is the
/// input index of the window's row `i`, column `j`.
#[inline(always)]
fn windows(g: &PoolGeometry, mut f: impl FnMut(usize, usize)) {
    let (ho, wo) = (g.out_height(), g.out_width());
    for c in 0..g.channels {
        for oh in 0..ho {
            for ow in 0..wo {
                let first = c * g.height * g.width + oh * g.stride.0 * g.width + ow * g.stride.1;
                f((c * ho + oh) * wo + ow, first);
            }
        }
    }
}

/// The input indices of the window that starts at `first`.
#[inline(always)]
fn cells(g: &PoolGeometry, first: usize) -> impl Iterator<Item = usize> {
    let (kh, kw, width) = (g.kernel.0, g.kernel.1, g.width);
    (0..kh).flat_map(move |i| first + i * width..first + i * width + kw)
}

macro_rules! pool_layer {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ty),* }) => {
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
        }
    };
}

pool_layer!(
    /// PyTorch's `nn.MaxPool2d(kernel_size, stride)`.
    MaxPool2d {
        /// The input index of each output's maximum.
        argmax: Vec<usize>
    }
);
pool_layer!(
    /// PyTorch's `nn.AvgPool2d(kernel_size, stride)`.
    AvgPool2d {}
);

impl<const IN: usize, const OUT: usize> MaxPool2d<IN, OUT> {
    /// Max of each window; `argmax` (when given) receives the winning input index.
    fn pool(g: &PoolGeometry, image: &[f32], out: &mut [f32], mut argmax: Option<&mut [usize]>) {
        windows(g, |o, first| {
            let mut best = first;
            for r in 0..g.kernel.0 {
                let row = first + r * g.width;
                for i in row..row + g.kernel.1 {
                    // NaN wins, as in PyTorch, so it is not hidden.
                    if image[i] > image[best] || image[i].is_nan() {
                        best = i;
                    }
                }
            }
            out[o] = image[best];
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

    fn backward_raw(&mut self, grad_output: &BatchSlice<OUT>) -> &BatchSlice<IN> {
        resize(&mut self.grad_input, grad_output.rows() * IN);
        self.grad_input.fill(0.0);
        for ((dy, dx), a) in grad_output
            .as_slice()
            .chunks_exact(OUT)
            .zip(self.grad_input.chunks_exact_mut(IN))
            .zip(self.argmax.chunks_exact(OUT))
        {
            for (&g, &i) in dy.iter().zip(a) {
                dx[i] += g;
            }
        }
        BatchSlice::view(&self.grad_input)
    }
}

impl<const IN: usize, const OUT: usize> AvgPool2d<IN, OUT> {
    fn area(&self) -> f32 {
        (self.geometry.kernel.0 * self.geometry.kernel.1) as f32
    }
    fn pool(&self, image: &[f32], out: &mut [f32]) {
        let area = self.area();
        let g = &self.geometry;
        windows(g, |o, first| {
            out[o] = cells(g, first).map(|i| image[i]).sum::<f32>() / area
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

    fn backward_raw(&mut self, grad_output: &BatchSlice<OUT>) -> &BatchSlice<IN> {
        let area = self.area();
        resize(&mut self.grad_input, grad_output.rows() * IN);
        self.grad_input.fill(0.0);
        let g = self.geometry;
        for (dy, dx) in grad_output
            .as_slice()
            .chunks_exact(OUT)
            .zip(self.grad_input.chunks_exact_mut(IN))
        {
            windows(&g, |o, first| {
                for i in cells(&g, first) {
                    dx[i] += dy[o] / area;
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

    fn backward_raw(&mut self, grad_output: &BatchSlice<OUT>) -> &BatchSlice<IN> {
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
