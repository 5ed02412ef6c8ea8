// `BinaryClassifier` exported by staticnn::export; regenerate, do not edit.
//
// Needs only `core`: `mod model { include!("this_file.rs"); }` in a `#![no_std]` crate.
// No allocation, no `unsafe`, no input panics; NaN propagates as in the runtime.
// Stack: 268 bytes of activation arrays at most (128 for the widest layer) and 576 of kernel
// scratch; weights: 568 bytes.
// The runtime's operations in its order, bit for bit at batches of up to 4, except:
//   fc1: int8 weights, each within half its row's scale (`linear_int8`)
//   fc2: int8 weights, each within half its row's scale (`linear_int8`)
//   out: int8 weights, each within half its row's scale (`linear_int8`)

/// Values per input row.
pub const IN: usize = 2;
/// Values per output row.
pub const OUT: usize = 1;

/// One row through the model (eval mode: Dropout is the identity, BatchNorm uses its
/// running statistics).
pub fn forward(x: &[f32; IN]) -> [f32; OUT] {
    let x0: [f32; IN] = *x;
    let x1: [f32; 16] = kernels::linear_int8(&x0, &FC1_WEIGHT_T_INT8, &FC1_WEIGHT_SCALE, Some(&FC1_BIAS));
    let x2: [f32; 16] = kernels::map(x1, kernels::relu);
    let x3: [f32; 16] = kernels::linear_int8(&x2, &FC2_WEIGHT_T_INT8, &FC2_WEIGHT_SCALE, Some(&FC2_BIAS));
    let x4: [f32; 16] = kernels::map(x3, kernels::relu);
    let x5: [f32; 1] = kernels::linear_int8(&x4, &OUT_WEIGHT_T_INT8, &OUT_WEIGHT_SCALE, Some(&OUT_BIAS));
    x5
}

/// Why [`forward_batch`] refused its buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// The input is not a whole number of rows of `IN` values.
    Input { len: usize },
    /// The output holds fewer than `rows · OUT` values.
    Output { rows: usize, len: usize },
}

/// Every row of `x` (`rows · IN` values) through [`forward`], written into the first
/// `rows · OUT` values of `out`; returns `rows`.
pub fn forward_batch(x: &[f32], out: &mut [f32]) -> Result<usize, BatchError> {
    if !x.len().is_multiple_of(IN) {
        return Err(BatchError::Input { len: x.len() });
    }
    let rows = x.len() / IN;
    if rows.checked_mul(OUT).is_none_or(|needed| out.len() < needed) {
        return Err(BatchError::Output { rows, len: out.len() });
    }
    for (row, y) in x.chunks_exact(IN).zip(out.chunks_exact_mut(OUT)) {
        if let Ok(row) = <&[f32; IN]>::try_from(row) {
            for (y, v) in y.iter_mut().zip(forward(row)) {
                *y = v;
            }
        }
    }
    Ok(rows)
}

/// A trained value, by its exact bits.
const fn f(bits: u32) -> f32 {
    f32::from_bits(bits)
}

static FC1_WEIGHT_T_INT8: [[i8; 16]; 2] = [
    [-22, 2, -127, -36, 100, 127, 127, -127, -13, 127, -110, -9, -71, -127, 127, 127,],
    [127, 127, 44, 127, 127, -8, 127, 27, 127, -60, -127, 127, -127, -3, -66, 126,],
];
static FC1_WEIGHT_SCALE: [f32; 16] = [
    f(0x3bebc68f), f(0x3aeba46c), f(0x3c43782e), f(0x3c0bb804), f(0x3aa4c774), f(0x3c40c56e), f(0x3bdd854c), f(0x3c572f7c),
    f(0x3c097c35), f(0x3bc9b387), f(0x3bc60b16), f(0x3b421ffb), f(0x3a7d9050), f(0x3c6f37eb), f(0x3a9f0325), f(0x3bd47e6b),
];
static FC1_BIAS: [f32; 16] = [
    f(0x3ebd3e49), f(0xbec8edc6), f(0xbef67b8c), f(0x3f157f3a), f(0xbf333985), f(0xbf0ed1d3), f(0xbef29b8e), f(0xbefabefe),
    f(0xbf0ac609), f(0xbf54c6d1), f(0x3f26e9a0), f(0xbf17a6c3), f(0xbe6c7462), f(0xbea2fb10), f(0xbf0bdedb), f(0xbed11ff9),
];
static FC2_WEIGHT_T_INT8: [[i8; 16]; 16] = [
    [44, 72, 49, 64, 14, -8, -70, -34, -52, 14, -31, -29, 22, 41, -25, -70,],
    [16, 34, 4, 2, -20, 86, -10, -23, -9, 3, 8, -22, 7, -24, -20, -37,],
    [127, 120, 114, 127, -119, 14, -115, -1, -111, 1, -127, -127, -97, -112, -123, -127,],
    [-48, 22, 50, 28, 2, -97, -24, -41, -48, 31, -29, 3, 10, 16, -3, 6,],
    [-17, 27, 13, 5, 17, 66, -27, -8, 30, 9, -21, -5, -2, -11, -5, 38,],
    [-21, 12, -3, 17, 33, -77, 60, 68, -17, 5, 27, -4, -52, -105, 12, -61,],
    [5, 39, 31, 22, -19, -94, -33, 79, 127, 44, -34, -51, 40, -127, -41, 40,],
    [127, 127, 127, 107, -127, 4, -127, -27, -72, 2, -117, -106, -71, -98, -127, 81,],
    [66, 62, 80, 74, -14, -66, -66, -16, -14, 55, -16, -98, -22, -27, -35, -60,],
    [-111, -52, -30, -54, 74, -11, 83, 127, 120, -87, 53, 33, 127, -9, 38, 63,],
    [43, -37, -35, -12, 54, -127, 53, -64, 72, -127, 75, 18, 45, 102, 43, -78,],
    [-23, 1, 23, 5, 10, -17, 10, 5, 33, -3, -18, -8, -3, -4, -11, -16,],
    [-4, 25, 9, -2, 3, 41, -12, -15, -26, -15, -1, 14, 4, -12, 24, 64,],
    [111, 60, 67, 83, -82, 46, -47, -1, -70, -37, -77, -70, -93, -89, -78, -12,],
    [-11, -17, -1, 14, 3, 54, 15, -20, 4, -1, -8, -11, 5, 0, -2, -76,],
    [43, 74, 25, 37, -58, -10, -46, 84, 39, 7, -33, -66, 41, -115, -62, -121,],
];
static FC2_WEIGHT_SCALE: [f32; 16] = [
    f(0x3c207de3), f(0x3bfc7a2d), f(0x3c25b4b4), f(0x3c212918), f(0x3c21afea), f(0x3b27a11f), f(0x3bf8eb23), f(0x3c3e2da2),
    f(0x3be48ad1), f(0x3c826fc4), f(0x3c2e7def), f(0x3c478ab4), f(0x3c82d786), f(0x3c0e4355), f(0x3c291aa8), f(0x3afe6338),
];
static FC2_BIAS: [f32; 16] = [
    f(0x3d93d9f3), f(0x3e7e40a2), f(0x3eb54cf5), f(0x3e38d8c2), f(0x3e59152d), f(0xbda3cb75), f(0x3e2d26ea), f(0xbf996c1d),
    f(0xbe91553d), f(0x3e19109c), f(0x3f02a20e), f(0x3f7b39dd), f(0xbecb3978), f(0x3f9e58a7), f(0x3f167492), f(0xbe83a7af),
];
static OUT_WEIGHT_T_INT8: [[i8; 1]; 16] = [
    [-34,],
    [-17,],
    [-25,],
    [-29,],
    [29,],
    [-2,],
    [25,],
    [127,],
    [62,],
    [-64,],
    [35,],
    [50,],
    [56,],
    [93,],
    [23,],
    [2,],
];
static OUT_WEIGHT_SCALE: [f32; 1] = [f(0x3cbb1f39),];
static OUT_BIAS: [f32; 1] = [f(0xbd9e1665),];

/// The layer code, as the runtime computes it.
#[allow(dead_code)]
mod kernels {
// The layer computations of an exported model, each written as the runtime computes it
// (runtime/src/layers/*), in the same order of operations wherever the runtime's is a plain
// loop, so that those layers give the runtime's bits. Only `core`; no allocation (every
// activation is a fixed-size array on the stack); no `unsafe`; every index is bounded by
// constants of the model, so no input can make one go out of range.

/// `y = W·x + b` as the runtime's `Linear` computes each output at batches up to 4: eight
/// partial sums over chunks of 8 inputs, added in order, plus the sum of the remaining
/// inputs, plus the bias (`0.0` without one). Every output keeps that order exactly; the
/// loops run over outputs innermost, so the compiler computes several outputs per SIMD
/// instruction from `Wᵀ`, stored so at export (the runtime keeps PyTorch's `[out, in]` and
/// transposes eight partial-sum registers instead). `wt` is `Wᵀ`, `[in][out]`.
///
/// `W` is `f32`, or `i8` for [`linear_int8`]'s quantized weights.
#[inline(always)]
pub fn linear<const I: usize, const O: usize, W: Weight>(
    x: &[f32; I],
    wt: &[[W; O]; I],
    b: Option<&[f32; O]>,
) -> [f32; O] {
    // The neutral element of `f32: Sum`, which starts the runtime's sums (-0.0 today).
    let zero: f32 = core::iter::empty::<f32>().sum();
    // lanes[k][o]: partial sum k of output o, started, as the runtime's are, at the neutral
    // element, which the compiler then drops: the first product is the partial sum exactly.
    let mut lanes = [[zero; O]; 8];
    let (xc, wc) = (x.chunks_exact(8), wt.chunks_exact(8));
    let (xr, wr) = (xc.remainder(), wc.remainder());
    for (xs, ws) in xc.zip(wc) {
        for ((lane, &xv), row) in lanes.iter_mut().zip(xs).zip(ws) {
            for (l, w) in lane.iter_mut().zip(W::widen(row)) {
                *l += xv * w;
            }
        }
    }
    let mut sum = [zero; O];
    for lane in &lanes {
        for (s, l) in sum.iter_mut().zip(lane) {
            *s += l;
        }
    }
    let mut tail = [zero; O];
    for (&xv, row) in xr.iter().zip(wr) {
        for (t, w) in tail.iter_mut().zip(W::widen(row)) {
            *t += xv * w;
        }
    }
    let mut y = [0.0f32; O];
    for (i, y) in y.iter_mut().enumerate() {
        let bias = match b {
            Some(b) => b[i],
            None => 0.0,
        };
        *y = bias + (sum[i] + tail[i]);
    }
    y
}

/// A stored weight: `f32`, or `i8` of [`linear_int8`].
pub trait Weight: Copy {
    /// A row of weights as f32 (for `i8`, the integers themselves, exactly).
    fn widen<const O: usize>(row: &[Self; O]) -> [f32; O];
}

impl Weight for f32 {
    #[inline(always)]
    fn widen<const O: usize>(row: &[f32; O]) -> [f32; O] {
        *row
    }
}

impl Weight for i8 {
    /// The whole row at once: built with AVX2 or AVX-512 the conversion vectorises, and the
    /// int8 file runs about as fast as the f32 one. (SSE2 has no byte-widening instruction;
    /// there LLVM builds each value from a byte load and an insert, several times slower.)
    #[inline(always)]
    fn widen<const O: usize>(row: &[i8; O]) -> [f32; O] {
        row.map(f32::from)
    }
}

/// `Linear` with int8 weights: `qt[i][o]` stands for the weight `scale[o] · qt[i][o]`, so
/// `y[o] = b[o] + scale[o] · Σᵢ qt[i][o]·x[i]`, the sum in `linear`'s order. Not the
/// runtime's bits: each weight is off by at most `scale[o] / 2`, so each output by at most
/// `scale[o] / 2 · Σ|x|` (plus f32 rounding). The sum of `q·x`, with `|q|` up to 127, can
/// overflow to infinity for inputs above about 1e36 where the f32 layer's does not.
#[inline(always)]
pub fn linear_int8<const I: usize, const O: usize>(
    x: &[f32; I],
    qt: &[[i8; O]; I],
    scale: &[f32; O],
    b: Option<&[f32; O]>,
) -> [f32; O] {
    let mut y = linear(x, qt, None);
    for (i, y) in y.iter_mut().enumerate() {
        let bias = match b {
            Some(b) => b[i],
            None => 0.0,
        };
        *y = bias + scale[i] * *y;
    }
    y
}

/// Applies `f` to every value, in place.
#[inline(always)]
pub fn map<const N: usize>(mut x: [f32; N], f: impl Fn(f32) -> f32) -> [f32; N] {
    for v in x.iter_mut() {
        *v = f(*v);
    }
    x
}

/// `max(0, x)`; NaN passes through.
#[inline(always)]
pub fn relu(x: f32) -> f32 {
    if x <= 0.0 { 0.0 } else { x }
}

#[inline(always)]
pub fn leaky_relu(x: f32, negative_slope: f32) -> f32 {
    if x <= 0.0 { negative_slope * x } else { x }
}

#[inline(always)]
pub fn hardswish(x: f32) -> f32 {
    x * (x + 3.0).clamp(0.0, 6.0) / 6.0
}

/// `x + body(x)`, the body's output first as in the runtime.
#[inline(always)]
pub fn add<const N: usize>(mut y: [f32; N], x: &[f32; N]) -> [f32; N] {
    for (y, x) in y.iter_mut().zip(x) {
        *y += x;
    }
    y
}

/// BatchNorm in eval form: `x·scale + shift` per channel of `L` values, where the exporter
/// computed `scale` and `shift` from the running statistics exactly as the runtime does.
#[inline(always)]
pub fn channel_affine<const N: usize, const L: usize>(
    mut x: [f32; N],
    scale: &[f32],
    shift: &[f32],
) -> [f32; N] {
    for ((plane, &scale), &shift) in x.chunks_exact_mut(L).zip(scale).zip(shift) {
        for v in plane.iter_mut() {
            *v = *v * scale + shift;
        }
    }
    x
}

/// The runtime's rule for an index: a whole number below `num`; anything else (negative,
/// fractional, NaN, too large) gives a row of NaN.
#[inline(always)]
fn index(v: f32, num: usize) -> Option<usize> {
    let i = v as usize;
    (v >= 0.0 && i as f32 == v && i < num).then_some(i)
}

/// Each of the `L` input values looks up a row of `D` values in `table` (`[num][D]`).
#[inline(always)]
pub fn embedding<const L: usize, const O: usize, const D: usize>(
    x: &[f32; L],
    table: &[[f32; D]],
) -> [f32; O] {
    let mut y = [0.0f32; O];
    for (&v, out) in x.iter().zip(y.chunks_exact_mut(D)) {
        match index(v, table.len()).and_then(|i| table.get(i)) {
            Some(row) => out.copy_from_slice(row),
            None => out.fill(f32::NAN),
        }
    }
    y
}

/// A pooling or convolution window along one axis.
#[derive(Clone, Copy)]
pub struct Window {
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
}

/// The input positions along one axis that output `o` reads, padding skipped (the
/// runtime's `taps`).
#[inline(always)]
fn taps(w: Window, size: usize, o: usize) -> core::iter::StepBy<core::ops::Range<usize>> {
    let (first, d) = (o * w.stride, w.dilation);
    let hi = (w.padding + size)
        .saturating_sub(first)
        .div_ceil(d)
        .min(w.kernel);
    let lo = w.padding.saturating_sub(first).div_ceil(d).min(hi);
    (first + lo * d - w.padding..first + hi * d - w.padding).step_by(d)
}

/// The sizes of a pooling layer.
#[derive(Clone, Copy)]
pub struct Pool {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub out_height: usize,
    pub out_width: usize,
    pub rows: Window,
    pub cols: Window,
    pub count_include_pad: bool,
}

/// Max of each window; NaN wins so it is not hidden; a window wholly in the padding is -inf.
#[inline(always)]
pub fn max_pool<const I: usize, const O: usize>(x: &[f32; I], g: &Pool) -> [f32; O] {
    let mut y = [0.0f32; O];
    let mut outputs = y.iter_mut();
    for c in 0..g.channels {
        let plane = c * g.height * g.width;
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                let mut value = f32::NEG_INFINITY;
                for r in taps(g.rows, g.height, oh) {
                    for q in taps(g.cols, g.width, ow) {
                        let v = x[plane + r * g.width + q];
                        if v > value || v.is_nan() {
                            value = v;
                        }
                    }
                }
                if let Some(out) = outputs.next() {
                    *out = value;
                }
            }
        }
    }
    y
}

/// Mean of each window, divided as PyTorch's `count_include_pad` says.
#[inline(always)]
pub fn avg_pool<const I: usize, const O: usize>(x: &[f32; I], g: &Pool) -> [f32; O] {
    let mut y = [0.0f32; O];
    let mut outputs = y.iter_mut();
    for c in 0..g.channels {
        let plane = c * g.height * g.width;
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                let (rows, cols) = (taps(g.rows, g.height, oh), taps(g.cols, g.width, ow));
                let divisor = if g.count_include_pad {
                    let clipped = |w: Window, size: usize, o: usize| {
                        let first = o * w.stride;
                        (first + w.kernel).min(size + 2 * w.padding) - first
                    };
                    (clipped(g.rows, g.height, oh) * clipped(g.cols, g.width, ow)) as f32
                } else {
                    (rows.clone().count() * cols.clone().count()) as f32
                };
                let sum = rows
                    .flat_map(|r| cols.clone().map(move |q| plane + r * g.width + q))
                    .map(|i| x[i])
                    .sum::<f32>();
                if let Some(out) = outputs.next() {
                    *out = sum / divisor;
                }
            }
        }
    }
    y
}

/// Each channel of `I / O` values becomes its mean.
#[inline(always)]
pub fn adaptive_avg_pool<const I: usize, const O: usize, const PLANE: usize>(
    x: &[f32; I],
) -> [f32; O] {
    let mut y = [0.0f32; O];
    for (y, p) in y.iter_mut().zip(x.chunks_exact(PLANE)) {
        *y = p.iter().sum::<f32>() / PLANE as f32;
    }
    y
}

/// The sizes of a convolution.
#[derive(Clone, Copy)]
pub struct Conv {
    pub in_channels: usize,
    pub height: usize,
    pub width: usize,
    pub out_channels: usize,
    pub out_height: usize,
    pub out_width: usize,
    pub rows: Window,
    pub cols: Window,
}

/// `a·b + c` rounded once, as a fused multiply-add: the product of two f32 is exact in f64,
/// so only the sum rounds (twice, f64 then f32, which is once but in rare ties).
#[inline(always)]
fn fma(a: f32, b: f32, c: f32) -> f32 {
    (f64::from(a) * f64::from(b) + f64::from(c)) as f32
}

/// Direct cross-correlation; `weight` is `[C_out][C_in·kh·kw]`. Each output sums its taps
/// in im2col's order with fused multiply-adds, as faer's kernels do on CPUs with FMA (the
/// runtime's Conv2d is one faer product per image); elsewhere the last bits can differ.
#[inline(always)]
pub fn conv2d<const I: usize, const O: usize, const K: usize>(
    x: &[f32; I],
    g: &Conv,
    weight: &[[f32; K]],
    bias: Option<&[f32]>,
) -> [f32; O] {
    let mut y = [0.0f32; O];
    let mut outputs = y.iter_mut();
    let (kh, kw) = (g.rows.kernel, g.cols.kernel);
    for (oc, w) in weight.iter().enumerate().take(g.out_channels) {
        // Without a bias the runtime's product replaces the output (no `0.0 +`).
        let b = bias.and_then(|b| b.get(oc)).copied();
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                let mut acc = 0.0f32;
                for ic in 0..g.in_channels {
                    let plane = ic * g.height * g.width;
                    for ki in 0..kh {
                        let Some(ih) = (oh * g.rows.stride + ki * g.rows.dilation)
                            .checked_sub(g.rows.padding)
                            .filter(|&ih| ih < g.height)
                        else {
                            continue;
                        };
                        for kj in 0..kw {
                            let Some(iw) = (ow * g.cols.stride + kj * g.cols.dilation)
                                .checked_sub(g.cols.padding)
                                .filter(|&iw| iw < g.width)
                            else {
                                continue;
                            };
                            acc = fma(
                                w[(ic * kh + ki) * kw + kj],
                                x[plane + ih * g.width + iw],
                                acc,
                            );
                        }
                    }
                }
                if let Some(out) = outputs.next() {
                    *out = match b {
                        Some(b) => b + acc,
                        None => acc,
                    };
                }
            }
        }
    }
    y
}
}
