//! `Conv2d`: cross-correlation of NCHW images, lowered per sample to one faer product
//! (im2col): `out_n [C_out, Ho·Wo] = W [C_out, C_in·kh·kw] · col_n [C_in·kh·kw, Ho·Wo]`.
//! Backward is the transposed products and col2im, next to it.

use faer::{Accum, MatMut, MatRef};
use rand::Rng;

use super::geometry::{Conv2dGeometry, GeometryError};
use crate::init;
use crate::linalg::matmul;
use crate::module::{Forward, Module, Parameter, Shaped, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// PyTorch's `nn.Conv2d` on rows of `IN = C_in·H·W` values giving `OUT = C_out·Ho·Wo`.
#[derive(Clone, Debug)]
pub struct Conv2d<const IN: usize, const OUT: usize> {
    pub geometry: Conv2dGeometry,
    /// `[C_out, C_in, kh, kw]`.
    pub weight: Parameter,
    pub bias: Option<Parameter>,
    cols: Vec<f32>,
    dcol: Vec<f32>,
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

impl<const IN: usize, const OUT: usize> Conv2d<IN, OUT> {
    /// PyTorch's default initialisation: weight and bias from U(-1/√fan_in, 1/√fan_in),
    /// `fan_in = C_in·kh·kw`. The geometry must give `IN` and `OUT`.
    pub fn new(
        geometry: Conv2dGeometry,
        bias: bool,
        rng: &mut impl Rng,
    ) -> Result<Self, GeometryError> {
        geometry.check(IN, OUT)?;
        let fan_in = geometry.patch_len();
        let bound = init::default_bound(fan_in);
        let weight = init::uniform(rng, geometry.out_channels * fan_in, bound);
        let bias = bias.then(|| init::uniform(rng, geometry.out_channels, bound));
        Ok(Self::from_parts(geometry, weight, bias))
    }

    /// From given values (`weight` row-major `[C_out, C_in, kh, kw]`).
    ///
    /// # Panics
    /// If the geometry does not give `IN` and `OUT` or a length is wrong.
    pub fn from_parts(geometry: Conv2dGeometry, weight: Vec<f32>, bias: Option<Vec<f32>>) -> Self {
        geometry
            .check(IN, OUT)
            .expect("geometry matches the widths");
        let g = geometry;
        Conv2d {
            weight: Parameter::new(
                weight,
                &[g.out_channels, g.in_channels, g.kernel.0, g.kernel.1],
            ),
            bias: bias.map(|b| Parameter::new(b, &[g.out_channels])),
            geometry,
            cols: Vec::new(),
            dcol: Vec::new(),
            output: Vec::new(),
            grad_input: Vec::new(),
        }
    }

    fn weight_mat(&self) -> MatRef<'_, f32> {
        MatRef::from_row_major_slice(
            &self.weight.value,
            self.geometry.out_channels,
            self.geometry.patch_len(),
        )
    }

    /// The output columns `ow` whose input column `ow·stride + offset − padding` lies inside
    /// the image, and the input column of the first of them.
    fn valid_columns(&self, kj: usize) -> (usize, usize, usize) {
        let g = &self.geometry;
        let offset = kj * g.dilation.1;
        let wo = g.out_width();
        // iw = ow·s + offset − p ≥ 0  ⇔  ow ≥ ceil((p − offset) / s)
        let lo = g
            .padding
            .1
            .saturating_sub(offset)
            .div_ceil(g.stride.1)
            .min(wo);
        // iw < W  ⇔  ow·s < W + p − offset
        let hi = (g.width + g.padding.1)
            .saturating_sub(offset)
            .div_ceil(g.stride.1)
            .min(wo);
        let hi = hi.max(lo);
        (
            lo,
            hi,
            lo * g.stride.1 + offset - g.padding.1.min(lo * g.stride.1 + offset),
        )
    }

    /// The input row of output row `oh` for kernel row `ki`, if inside the image.
    fn input_row(&self, oh: usize, ki: usize) -> Option<usize> {
        let g = &self.geometry;
        (oh * g.stride.0 + ki * g.dilation.0)
            .checked_sub(g.padding.0)
            .filter(|&ih| ih < g.height)
    }

    /// Writes the patches of one image as `[C_in·kh·kw, Ho·Wo]`.
    fn im2col(&self, image: &[f32], col: &mut [f32]) {
        let g = &self.geometry;
        let (ho, wo, sw) = (g.out_height(), g.out_width(), g.stride.1);
        let mut rows = col.chunks_exact_mut(ho * wo);
        for plane in image.chunks_exact(g.height * g.width) {
            for ki in 0..g.kernel.0 {
                for kj in 0..g.kernel.1 {
                    let out = rows.next().expect("one row per (channel, ki, kj)");
                    let (lo, hi, iw0) = self.valid_columns(kj);
                    for (oh, seg) in out.chunks_exact_mut(wo).enumerate() {
                        let Some(ih) = self.input_row(oh, ki) else {
                            seg.fill(0.0);
                            continue;
                        };
                        let src = &plane[ih * g.width..(ih + 1) * g.width];
                        seg[..lo].fill(0.0);
                        seg[hi..].fill(0.0);
                        if sw == 1 && lo < hi {
                            seg[lo..hi].copy_from_slice(&src[iw0..iw0 + hi - lo]);
                        } else if lo < hi {
                            for (o, i) in seg[lo..hi].iter_mut().zip(src[iw0..].iter().step_by(sw))
                            {
                                *o = *i;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds patch gradients `[C_in·kh·kw, Ho·Wo]` back onto one image's gradient.
    fn col2im(&self, col: &[f32], image: &mut [f32]) {
        let g = &self.geometry;
        let (ho, wo, sw) = (g.out_height(), g.out_width(), g.stride.1);
        let mut rows = col.chunks_exact(ho * wo);
        for plane in image.chunks_exact_mut(g.height * g.width) {
            for ki in 0..g.kernel.0 {
                for kj in 0..g.kernel.1 {
                    let src = rows.next().expect("one row per (channel, ki, kj)");
                    let (lo, hi, iw0) = self.valid_columns(kj);
                    for (oh, seg) in src.chunks_exact(wo).enumerate() {
                        if let (Some(ih), true) = (self.input_row(oh, ki), lo < hi) {
                            let dst = &mut plane[ih * g.width..(ih + 1) * g.width];
                            if sw == 1 {
                                for (d, s) in dst[iw0..iw0 + hi - lo].iter_mut().zip(&seg[lo..hi]) {
                                    *d += s;
                                }
                            } else {
                                for (d, s) in dst[iw0..].iter_mut().step_by(sw).zip(&seg[lo..hi]) {
                                    *d += s;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One image's output from its patches.
    fn apply(&self, col: &[f32], out: &mut [f32]) {
        let g = &self.geometry;
        let hw = g.out_height() * g.out_width();
        let accum = match &self.bias {
            Some(bias) => {
                for (plane, &b) in out.chunks_exact_mut(hw).zip(&bias.value) {
                    plane.fill(b);
                }
                Accum::Add
            }
            None => Accum::Replace,
        };
        let cols = MatRef::from_row_major_slice(col, g.patch_len(), hw);
        let dst = MatMut::from_row_major_slice_mut(out, g.out_channels, hw);
        matmul(dst, accum, self.weight_mat(), cols);
    }
}

impl<const IN: usize, const OUT: usize> Conv2d<IN, OUT> {
    /// dW += dY · colᵀ and db += Σ dY, per image, from the patches `forward_train` kept.
    fn parameter_grads(&mut self, grad_output: &BatchSlice<OUT>) {
        let (weight, bias) = (
            self.weight.requires_grad,
            self.bias.as_ref().is_some_and(|b| b.requires_grad),
        );
        if !weight && !bias {
            return;
        }
        let g = self.geometry;
        let hw = g.out_height() * g.out_width();
        let k = g.patch_len();
        for (dy, col) in grad_output
            .as_slice()
            .chunks_exact(OUT)
            .zip(self.cols.chunks_exact(k * hw))
        {
            if weight {
                let dy_mat = MatRef::from_row_major_slice(dy, g.out_channels, hw);
                let dw = MatMut::from_row_major_slice_mut(&mut self.weight.grad, g.out_channels, k);
                matmul(
                    dw,
                    Accum::Add,
                    dy_mat,
                    MatRef::from_row_major_slice(col, k, hw).transpose(),
                );
            }
            if let Some(bias) = self.bias.as_mut().filter(|b| b.requires_grad) {
                for (gb, plane) in bias.grad.iter_mut().zip(dy.chunks_exact(hw)) {
                    *gb += plane.iter().sum::<f32>();
                }
            }
        }
    }
}

impl<const IN: usize, const OUT: usize> Shaped for Conv2d<IN, OUT> {
    const IN: usize = IN;
    const OUT: usize = OUT;
}

impl<const IN: usize, const OUT: usize> Module for Conv2d<IN, OUT> {
    fn visit(&self, v: &mut dyn Visitor) {
        v.parameter("weight", &self.weight);
        if let Some(b) = &self.bias {
            v.parameter("bias", b);
        }
    }
    fn visit_mut(&mut self, v: &mut dyn VisitorMut) {
        v.parameter("weight", &mut self.weight);
        if let Some(b) = &mut self.bias {
            v.parameter("bias", b);
        }
    }
    fn set_training(&mut self, _: bool) {}
    fn describe(&self) -> crate::export::Node<'_> {
        crate::export::Node::Conv2d {
            geometry: self.geometry,
            weight: &self.weight.value,
            bias: self.bias.as_ref().map(|b| &b.value[..]),
        }
    }
}

impl<const IN: usize, const OUT: usize> Forward<IN, OUT> for Conv2d<IN, OUT> {
    fn forward(&self, x: &BatchSlice<IN>) -> Batch<OUT> {
        let mut out = Batch::zeros(x.rows());
        let mut col =
            vec![
                0.0;
                self.geometry.patch_len() * self.geometry.out_height() * self.geometry.out_width()
            ];
        for (image, o) in x
            .as_slice()
            .chunks_exact(IN)
            .zip(out.as_mut_slice().chunks_exact_mut(OUT))
        {
            self.im2col(image, &mut col);
            self.apply(&col, o);
        }
        out
    }

    fn last_output(&self) -> &BatchSlice<OUT> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<IN>) -> &BatchSlice<OUT> {
        let per_image =
            self.geometry.patch_len() * self.geometry.out_height() * self.geometry.out_width();
        let mut cols = std::mem::take(&mut self.cols);
        let mut output = std::mem::take(&mut self.output);
        resize(&mut cols, x.rows() * per_image);
        resize(&mut output, x.rows() * OUT);
        for ((image, col), o) in x
            .as_slice()
            .chunks_exact(IN)
            .zip(cols.chunks_exact_mut(per_image))
            .zip(output.chunks_exact_mut(OUT))
        {
            self.im2col(image, col);
            self.apply(col, o);
        }
        self.cols = cols;
        self.output = output;
        BatchSlice::view(&self.output)
    }

    fn backward_raw(
        &mut self,
        _: &BatchSlice<IN>,
        grad_output: &BatchSlice<OUT>,
        _: &TraceKey,
    ) -> &BatchSlice<IN> {
        self.parameter_grads(grad_output);
        let g = self.geometry;
        let hw = g.out_height() * g.out_width();
        let k = g.patch_len();
        resize(&mut self.dcol, k * hw);
        resize(&mut self.grad_input, grad_output.rows() * IN);
        self.grad_input.fill(0.0);
        let mut dcol = std::mem::take(&mut self.dcol);
        let mut grad_input = std::mem::take(&mut self.grad_input);
        let w = MatRef::from_row_major_slice(&self.weight.value, g.out_channels, k);
        for (dy, dx) in grad_output
            .as_slice()
            .chunks_exact(OUT)
            .zip(grad_input.chunks_exact_mut(IN))
        {
            // dcol = Wᵀ · dY, then back onto the image
            let dy = MatRef::from_row_major_slice(dy, g.out_channels, hw);
            matmul(
                MatMut::from_row_major_slice_mut(&mut dcol, k, hw),
                Accum::Replace,
                w.transpose(),
                dy,
            );
            self.col2im(&dcol, dx);
        }
        self.dcol = dcol;
        self.grad_input = grad_input;
        BatchSlice::view(&self.grad_input)
    }

    fn backward_params_raw(
        &mut self,
        _: &BatchSlice<IN>,
        grad_output: &BatchSlice<OUT>,
        _: &TraceKey,
    ) {
        self.parameter_grads(grad_output);
    }
}
