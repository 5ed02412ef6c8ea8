// `Cnn` exported by staticnn::export; regenerate, do not edit.
//
// Needs only `core`: `mod model { include!("this_file.rs"); }` in a `#![no_std]` crate.
// No allocation, no `unsafe`, no input panics; NaN propagates as in the runtime.
// Stack: 4880 bytes of activation arrays at most (2048 for the widest layer) and 96 of kernel
// scratch; weights: 1188 bytes.
// The runtime's operations in its order, bit for bit at batches of up to 4, except:
//   `conv1` (Conv2d): faer's order with fused multiply-adds, its bits where faer uses FMA
//   `conv2` (Conv2d): faer's order with fused multiply-adds, its bits where faer uses FMA
//   Softmax: this file's exp is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)

/// Values per input row.
pub const IN: usize = 64;
/// Values per output row.
pub const OUT: usize = 3;

/// One row through the model (eval mode: Dropout is the identity, BatchNorm uses its
/// running statistics).
pub fn forward(x: &[f32; IN]) -> [f32; OUT] {
    let x0: [f32; IN] = *x;
    let x1: [f32; 256] = kernels::conv2d::<64, 256, 9>(&x0, &CONV1_CONV, &CONV1_WEIGHT, Some(&CONV1_BIAS));
    let x2: [f32; 256] = kernels::channel_affine::<256, 64>(x1, &BN1_SCALE, &BN1_SHIFT);
    let x3: [f32; 256] = kernels::map(x2, kernels::relu);
    let x4: [f32; 64] = kernels::max_pool::<256, 64>(&x3, &POOL1_POOL);
    let x5: [f32; 96] = kernels::conv2d::<64, 96, 36>(&x4, &CONV2_CONV, &CONV2_WEIGHT, None);
    let x6: [f32; 96] = kernels::channel_affine::<96, 16>(x5, &BN2_SCALE, &BN2_SHIFT);
    let x7: [f32; 96] = kernels::map(x6, kernels::relu);
    let x8: [f32; 24] = kernels::avg_pool::<96, 24>(&x7, &POOL2_POOL);
    let x9: [f32; 6] = kernels::adaptive_avg_pool::<24, 6, 4>(&x8);
    let x10: [f32; 3] = kernels::linear(&x9, &FC_WEIGHT_T, Some(&FC_BIAS));
    let x11: [f32; 3] = kernels::softmax(x10);
    x11
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

const CONV1_CONV: kernels::Conv = kernels::Conv { in_channels: 1, height: 8, width: 8, out_channels: 4, out_height: 8, out_width: 8, rows: kernels::Window { kernel: 3, stride: 1, padding: 1, dilation: 1 }, cols: kernels::Window { kernel: 3, stride: 1, padding: 1, dilation: 1 } };
static CONV1_WEIGHT: [[f32; 9]; 4] = [
    [
        f(0xbd0bd6d6), f(0xbe9007b0), f(0x3cd7a77c), f(0xbe979e73), f(0xbe8604ad), f(0xbee05e46), f(0xbd50d17c), f(0x3dfd1845),
        f(0xbcda55f3),
    ],
    [
        f(0x3e9668b1), f(0x3e70fa37), f(0x3e4f2f55), f(0x3e9392ca), f(0x3ec2fc47), f(0x3eba30b7), f(0x3dfaa022), f(0xbe6a4fb6),
        f(0xbda29cee),
    ],
    [
        f(0x3e0a01a5), f(0x3ec3aaeb), f(0x3eba6fa9), f(0x3de49056), f(0x3df19a77), f(0xbeb10813), f(0xbddaf943), f(0x3e102371),
        f(0x3e334d64),
    ],
    [
        f(0xbe6db62b), f(0x3d0d0b2e), f(0xbd79d446), f(0x3e1cb3c4), f(0x3e4dc8da), f(0xbc79ae98), f(0x3f02f923), f(0x3d90db87),
        f(0x3e9acf36),
    ],
];
static CONV1_BIAS: [f32; 4] = [f(0xbddf78de), f(0xbe198893), f(0xbe45b29a), f(0x3e3e8c20),];
static BN1_SCALE: [f32; 4] = [f(0x3fa51ab3), f(0x3fb81cb1), f(0x3fb091ef), f(0x3ff5021d),];
static BN1_SHIFT: [f32; 4] = [f(0x3e4e4aae), f(0x3e3fa16f), f(0x3e8eae37), f(0xbe1c5414),];
const POOL1_POOL: kernels::Pool = kernels::Pool { channels: 4, height: 8, width: 8, out_height: 4, out_width: 4, rows: kernels::Window { kernel: 2, stride: 2, padding: 0, dilation: 1 }, cols: kernels::Window { kernel: 2, stride: 2, padding: 0, dilation: 1 }, count_include_pad: true };
const CONV2_CONV: kernels::Conv = kernels::Conv { in_channels: 4, height: 4, width: 4, out_channels: 6, out_height: 4, out_width: 4, rows: kernels::Window { kernel: 3, stride: 1, padding: 1, dilation: 1 }, cols: kernels::Window { kernel: 3, stride: 1, padding: 1, dilation: 1 } };
static CONV2_WEIGHT: [[f32; 36]; 6] = [
    [
        f(0xbe5a1312), f(0xbdee746a), f(0xbe3e3afe), f(0xbddb165a), f(0xbdae542e), f(0xbe0dac18), f(0x3e9d7b97), f(0x3e924563),
        f(0x3f004378), f(0x3e2ad091), f(0x3e2170e8), f(0x3e1b3605), f(0x3e15e398), f(0x3d6ca717), f(0x3e6f01a2), f(0x3d2b286a),
        f(0x3b805a41), f(0xbda49d4c), f(0xbd83dcae), f(0xbda1e2d1), f(0xbd481fef), f(0x3c27bf96), f(0xbdd3b325), f(0xbddf87a0),
        f(0x3d8023e0), f(0xbdbf18a9), f(0xbdcdac2e), f(0xbe86b736), f(0xbe82068d), f(0xbe07f16f), f(0x3d965855), f(0x3e0ecf2f),
        f(0x3ddb401c), f(0xbe2def0b), f(0xbe1a0b35), f(0xbe408d8f),
    ],
    [
        f(0x3e4a7f57), f(0x3e986ec2), f(0x3e469533), f(0x3c99d3c6), f(0x3d989657), f(0xbc9d77da), f(0xbd85740c), f(0x3d0b5e18),
        f(0xbd964272), f(0xbe59199c), f(0xbe3a1740), f(0xbdbcdac2), f(0xbeb15c98), f(0xbddd198d), f(0xbdda16a6), f(0xbd923a12),
        f(0x3d9b958c), f(0xbbfc9f97), f(0xbe3078fd), f(0xbd924f85), f(0xbda1f650), f(0xbe1ab7ae), f(0xbe223dd0), f(0xbe37d3ba),
        f(0xbbb51d2f), f(0xbdb85d0a), f(0x3db6cea3), f(0x3e213075), f(0x3e688566), f(0x3e347a26), f(0x3e099e64), f(0x3e491dac),
        f(0x3e07cc11), f(0x3e995e6e), f(0x3ea7b68c), f(0x3e97a86a),
    ],
    [
        f(0xbda90b30), f(0xbcafe196), f(0xbd039a32), f(0x3c5333d1), f(0x3dc9f5c1), f(0x3de91b52), f(0x3e2a2610), f(0x3dd3af5c),
        f(0x3e842523), f(0x3eaa6bec), f(0x3e50da3a), f(0x3e993311), f(0x3ce3413c), f(0x3cf52af6), f(0x3c56dd29), f(0x3d841db0),
        f(0x3dd36a1d), f(0x3cdf9b52), f(0x3ec17dae), f(0x3ec08e4c), f(0x3e22a077), f(0x3deaece0), f(0xbcd3e55f), f(0xbd1e6a20),
        f(0x3e1993f4), f(0x3e08c545), f(0x3dded33d), f(0xbe47083e), f(0xbdf3f0c3), f(0xbd8aea41), f(0xbe86996a), f(0xbe72df3d),
        f(0xbe39ec5a), f(0xbe0d204f), f(0xbe8da38b), f(0xbea6424f),
    ],
    [
        f(0x3aae6ab0), f(0xbd89babe), f(0xbc362154), f(0x3ccc2448), f(0x3ccdd3e8), f(0x3debcc8c), f(0x3e3eed5e), f(0x3e3c5579),
        f(0x3e872c35), f(0x3ec84850), f(0x3db59a6b), f(0x3ea28a1e), f(0xbc888d1b), f(0x3d06d71a), f(0xbdba87d1), f(0x3d7dbc0a),
        f(0x3e127892), f(0x3c345446), f(0x3e871b79), f(0x3e99d840), f(0x3e03ebdb), f(0x3d94ce10), f(0xbe062c61), f(0xbdd8be00),
        f(0x3dcb7383), f(0x3d95022c), f(0x3d0fdad6), f(0xbe31d12d), f(0xbc53f2fd), f(0xbadc90a8), f(0xbe5394fb), f(0xbe50fd23),
        f(0xbde20499), f(0xbe34bb07), f(0xbe822f49), f(0xbe86c49c),
    ],
    [
        f(0x3e7f116b), f(0x3e86967c), f(0x3e1367a9), f(0x3b2cbb7b), f(0x3e0f4f09), f(0x3cb9ac05), f(0xbdd4d90c), f(0x3d139caf),
        f(0xbe133b18), f(0xbe8a4eea), f(0xbdf44010), f(0xbe1852b8), f(0xbe6cc0f1), f(0xbd7987fb), f(0xbe0643da), f(0xbcdba46a),
        f(0x3d798df4), f(0xbc3e4a22), f(0xbd9a5273), f(0x3c721927), f(0xbc78953c), f(0xbe7581a3), f(0xbe2f20d3), f(0xbd60765f),
        f(0xbe15c412), f(0xbd970cea), f(0xbd3b794f), f(0x3e67b513), f(0x3e7129d4), f(0x3dfd53cc), f(0x3e0e0a39), f(0x3e492ae2),
        f(0x3e0e397f), f(0x3e935c7a), f(0x3ea29fdd), f(0x3e4c9f31),
    ],
    [
        f(0x3e810e64), f(0x3e66d3dc), f(0x3e4dd73d), f(0x3cc9b62d), f(0x3d8b0992), f(0x3d82ae23), f(0xbd8e5691), f(0xbd3e935f),
        f(0xbe4cbea0), f(0xbeb399f2), f(0xbe45c350), f(0xbe7c3546), f(0xbe4685ef), f(0xbdd20dab), f(0xbe02469a), f(0x3c72aec9),
        f(0x3e1bf483), f(0x3e03cdd9), f(0xbdf1320a), f(0xbd1eab50), f(0xbd384e04), f(0xbc0dd1d4), f(0xbda4fe12), f(0x3d280ee0),
        f(0x3e6e3500), f(0x3eab030b), f(0x3eaee0ab), f(0x3db9f49a), f(0x3e1125aa), f(0x3dfaf11c), f(0x3cfbe062), f(0x3c8e4d88),
        f(0xbd356322), f(0x3e834f23), f(0x3e382849), f(0x3de17898),
    ],
];
static BN2_SCALE: [f32; 6] = [f(0x3fe506bd), f(0x3fe1d45a), f(0x40036ca3), f(0x40082795), f(0x4000e6ce), f(0x3ff0e42a),];
static BN2_SHIFT: [f32; 6] = [f(0x3f1a0e49), f(0xbfae9a06), f(0x3ec34c48), f(0x3f192b86), f(0xbfdc2300), f(0xbfa751d9),];
const POOL2_POOL: kernels::Pool = kernels::Pool { channels: 6, height: 4, width: 4, out_height: 2, out_width: 2, rows: kernels::Window { kernel: 2, stride: 2, padding: 0, dilation: 1 }, cols: kernels::Window { kernel: 2, stride: 2, padding: 0, dilation: 1 }, count_include_pad: true };
static FC_WEIGHT_T: [[f32; 3]; 6] = [
    [f(0x3f09b443), f(0xbea9d817), f(0x3ddc7214),],
    [f(0xbf3c67c4), f(0xbdbb0524), f(0x3f2d6c38),],
    [f(0x3f09b254), f(0x3ea28c17), f(0xbf110dd6),],
    [f(0x3f3da407), f(0x3dc74fbf), f(0xbf75672d),],
    [f(0xbf266e76), f(0xbe883282), f(0x3f44be1b),],
    [f(0xbf8719d2), f(0x3e13913f), f(0x3de3c72d),],
];
static FC_BIAS: [f32; 3] = [f(0x3e657639), f(0xbe61c0eb), f(0xbe87ff03),];

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

// The transcendental functions an exported model needs, in plain `core` Rust so that the
// exported file has no dependency. `erf` is the `libm` crate's (FreeBSD's s_erf.c), ported
// line for line, so GELU(approximate="none") gives the runtime's bits; `exp`, `expm1`, `log`
// and `tanh` are FreeBSD's too, where the runtime calls the platform's (glibc): both are
// below one ulp in f64, so after rounding to f32 they differ in rare last bits at most.
// `sqrt` is correctly rounded (an integer square root), as IEEE requires of every `sqrt`.

const LN2_HI: f64 = 0.6931471803691238;
const LN2_LO: f64 = 1.9082149292705877e-10;
const INV_LN2: f64 = core::f64::consts::LOG2_E;

fn high_word(x: f64) -> u32 {
    (x.to_bits() >> 32) as u32
}

/// `x · 2^n`.
fn scalbn(x: f64, mut n: i32) -> f64 {
    let x1p1023 = f64::from_bits(0x7fe0_0000_0000_0000);
    let x1p53 = f64::from_bits(0x4340_0000_0000_0000);
    let x1p_1022 = f64::from_bits(0x0010_0000_0000_0000);
    let mut y = x;
    if n > 1023 {
        y *= x1p1023;
        n -= 1023;
        if n > 1023 {
            y *= x1p1023;
            n -= 1023;
            if n > 1023 {
                n = 1023;
            }
        }
    } else if n < -1022 {
        y *= x1p_1022 * x1p53;
        n += 1022 - 53;
        if n < -1022 {
            y *= x1p_1022 * x1p53;
            n += 1022 - 53;
            if n < -1022 {
                n = -1022;
            }
        }
    }
    y * f64::from_bits(((0x3ff + n) as u64) << 52)
}

/// `e^x` (FreeBSD e_exp.c).
pub fn exp(mut x: f64) -> f64 {
    const P1: f64 = 0.16666666666666602;
    const P2: f64 = -0.0027777777777015593;
    const P3: f64 = 6.613756321437934e-05;
    const P4: f64 = -1.6533902205465252e-06;
    const P5: f64 = 4.1381367970572385e-08;
    let hx = high_word(x) & 0x7fff_ffff;
    let negative = x.to_bits() >> 63 != 0;
    if hx >= 0x4086_232b {
        if x.is_nan() {
            return x;
        }
        if x > 709.782712893384 {
            return x * f64::from_bits(0x7fe0_0000_0000_0000);
        }
        if x < -745.1332191019411 {
            return 0.0;
        }
    }
    let (hi, lo, k);
    if hx > 0x3fd6_2e42 {
        if hx >= 0x3ff0_a2b2 {
            k = (INV_LN2 * x + if negative { -0.5 } else { 0.5 }) as i32;
        } else {
            k = if negative { -1 } else { 1 };
        }
        hi = x - f64::from(k) * LN2_HI;
        lo = f64::from(k) * LN2_LO;
        x = hi - lo;
    } else if hx > 0x3e30_0000 {
        k = 0;
        hi = x;
        lo = 0.0;
    } else {
        return 1.0 + x;
    }
    let xx = x * x;
    let c = x - xx * (P1 + xx * (P2 + xx * (P3 + xx * (P4 + xx * P5))));
    let y = 1.0 + (x * c / (2.0 - c) - lo + hi);
    if k == 0 { y } else { scalbn(y, k) }
}

/// `e^x` in f32, computed in f64 and rounded once.
pub fn expf(x: f32) -> f32 {
    exp(f64::from(x)) as f32
}

/// `e^x − 1` (FreeBSD s_expm1.c).
pub fn expm1(mut x: f64) -> f64 {
    const Q1: f64 = -0.03333333333333313;
    const Q2: f64 = 0.0015873015872548146;
    const Q3: f64 = -7.93650757867488e-05;
    const Q4: f64 = 4.008217827329362e-06;
    const Q5: f64 = -2.0109921818362437e-07;
    let hx = high_word(x) & 0x7fff_ffff;
    let negative = x.to_bits() >> 63 != 0;
    if hx >= 0x4043_687a {
        if x.is_nan() {
            return x;
        }
        if negative {
            return -1.0;
        }
        if x > 709.782712893384 {
            return x * f64::from_bits(0x7fe0_0000_0000_0000);
        }
    }
    let (k, c);
    if hx > 0x3fd6_2e42 {
        let (hi, lo);
        if hx < 0x3ff0_a2b2 {
            if negative {
                hi = x + LN2_HI;
                lo = -LN2_LO;
                k = -1;
            } else {
                hi = x - LN2_HI;
                lo = LN2_LO;
                k = 1;
            }
        } else {
            k = (INV_LN2 * x + if negative { -0.5 } else { 0.5 }) as i32;
            let t = f64::from(k);
            hi = x - t * LN2_HI;
            lo = t * LN2_LO;
        }
        x = hi - lo;
        c = (hi - x) - lo;
    } else if hx < 0x3c90_0000 {
        return x;
    } else {
        c = 0.0;
        k = 0;
    }
    let hfx = 0.5 * x;
    let hxs = x * hfx;
    let r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
    let t = 3.0 - r1 * hfx;
    let mut e = hxs * ((r1 - t) / (6.0 - x * t));
    if k == 0 {
        return x - (x * e - hxs);
    }
    e = x * (e - c) - c;
    e -= hxs;
    if k == -1 {
        return 0.5 * (x - e) - 0.5;
    }
    if k == 1 {
        if x < -0.25 {
            return -2.0 * (e - (x + 0.5));
        }
        return 1.0 + 2.0 * (x - e);
    }
    let twopk = f64::from_bits(((0x3ff + k) as u64) << 52);
    if !(0..=56).contains(&k) {
        let mut y = x - e + 1.0;
        if k == 1024 {
            y = y * 2.0 * f64::from_bits(0x7fe0_0000_0000_0000);
        } else {
            y *= twopk;
        }
        return y - 1.0;
    }
    let uf = f64::from_bits(((0x3ff - k) as u64) << 52);
    if k < 20 {
        (x - e + (1.0 - uf)) * twopk
    } else {
        (x - (e + uf) + 1.0) * twopk
    }
}

/// `tanh x` (FreeBSD s_tanh.c).
pub fn tanh(x: f64) -> f64 {
    let negative = x.to_bits() >> 63 != 0;
    let x = f64::from_bits(x.to_bits() & !(1 << 63));
    let w = high_word(x);
    let t = if w > 0x3fe1_93ea {
        if w > 0x4034_0000 {
            1.0 - 0.0 / x
        } else {
            let t = expm1(2.0 * x);
            1.0 - 2.0 / (t + 2.0)
        }
    } else if w > 0x3fd0_58ae {
        let t = expm1(2.0 * x);
        t / (t + 2.0)
    } else if w >= 0x0010_0000 {
        let t = expm1(-2.0 * x);
        -t / (t + 2.0)
    } else {
        x
    };
    if negative { -t } else { t }
}

/// `ln x` (FreeBSD e_log.c).
pub fn log(mut x: f64) -> f64 {
    const LG1: f64 = 0.6666666666666735;
    const LG2: f64 = 0.3999999999940942;
    const LG3: f64 = 0.2857142874366239;
    const LG4: f64 = 0.22222198432149784;
    const LG5: f64 = 0.1818357216161805;
    const LG6: f64 = 0.15313837699209373;
    const LG7: f64 = 0.14798198605116586;
    let mut ui = x.to_bits();
    let mut hx = (ui >> 32) as u32;
    let mut k: i32 = 0;
    if hx < 0x0010_0000 || hx >> 31 != 0 {
        if ui << 1 == 0 {
            return -1.0 / (x * x);
        }
        if hx >> 31 != 0 {
            return f64::NAN;
        }
        k -= 54;
        x *= f64::from_bits(0x4350_0000_0000_0000);
        ui = x.to_bits();
        hx = (ui >> 32) as u32;
    } else if hx >= 0x7ff0_0000 {
        return x;
    } else if hx == 0x3ff0_0000 && ui << 32 == 0 {
        return 0.0;
    }
    hx += 0x3ff0_0000 - 0x3fe6_a09e;
    k += (hx >> 20) as i32 - 0x3ff;
    hx = (hx & 0x000f_ffff) + 0x3fe6_a09e;
    ui = (u64::from(hx) << 32) | (ui & 0xffff_ffff);
    x = f64::from_bits(ui);
    let f = x - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let dk = f64::from(k);
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// The error function (FreeBSD s_erf.c, as the `libm` crate has it).
pub fn erf(x: f64) -> f64 {
    const ERX: f64 = 0.8450629115104675;
    const EFX8: f64 = 1.0270333367641007;
    const PP: [f64; 5] = [
        0.12837916709551256,
        -0.3250421072470015,
        -0.02848174957559851,
        -0.005770270296489442,
        -2.3763016656650163e-05,
    ];
    const QQ: [f64; 5] = [
        0.39791722395915535,
        0.0650222499887673,
        0.005081306281875766,
        0.00013249473800432164,
        -3.960228278775368e-06,
    ];
    const PA: [f64; 7] = [
        -0.0023621185607526594,
        0.41485611868374833,
        -0.3722078760357013,
        0.31834661990116175,
        -0.11089469428239668,
        0.035478304325618236,
        -0.002166375594868791,
    ];
    const QA: [f64; 6] = [
        0.10642088040084423,
        0.540397917702171,
        0.07182865441419627,
        0.12617121980876164,
        0.01363708391202905,
        0.011984499846799107,
    ];
    const RA: [f64; 8] = [
        -0.009864944034847148,
        -0.6938585727071818,
        -10.558626225323291,
        -62.375332450326006,
        -162.39666946257347,
        -184.60509290671104,
        -81.2874355063066,
        -9.814329344169145,
    ];
    const SA: [f64; 8] = [
        19.651271667439257,
        137.65775414351904,
        434.56587747522923,
        645.3872717332679,
        429.00814002756783,
        108.63500554177944,
        6.570249770319282,
        -0.0604244152148581,
    ];
    const RB: [f64; 7] = [
        -0.0098649429247001,
        -0.799283237680523,
        -17.757954917754752,
        -160.63638485582192,
        -637.5664433683896,
        -1025.0951316110772,
        -483.5191916086514,
    ];
    const SB: [f64; 7] = [
        30.33806074348246,
        325.7925129965739,
        1536.729586084437,
        3199.8582195085955,
        2553.0504064331644,
        474.52854120695537,
        -22.44095244658582,
    ];
    let bits = high_word(x);
    let negative = bits >> 31 != 0;
    let ix = bits & 0x7fff_ffff;
    if ix >= 0x7ff0_0000 {
        return 1.0 - 2.0 * f64::from(u8::from(negative)) + 1.0 / x;
    }
    if ix < 0x3feb_0000 {
        if ix < 0x3e30_0000 {
            return 0.125 * (8.0 * x + EFX8 * x);
        }
        let z = x * x;
        let r = PP[0] + z * (PP[1] + z * (PP[2] + z * (PP[3] + z * PP[4])));
        let s = 1.0 + z * (QQ[0] + z * (QQ[1] + z * (QQ[2] + z * (QQ[3] + z * QQ[4]))));
        return x + x * (r / s);
    }
    let y = if ix < 0x4018_0000 {
        let ax = f64::from_bits(x.to_bits() & !(1 << 63));
        let erfc = if ix < 0x3ff4_0000 {
            let s = ax - 1.0;
            let p = PA[0]
                + s * (PA[1] + s * (PA[2] + s * (PA[3] + s * (PA[4] + s * (PA[5] + s * PA[6])))));
            let q = 1.0
                + s * (QA[0] + s * (QA[1] + s * (QA[2] + s * (QA[3] + s * (QA[4] + s * QA[5])))));
            1.0 - ERX - p / q
        } else {
            let s = 1.0 / (ax * ax);
            let (r, big_s);
            if ix < 0x4006_db6d {
                r = RA[0]
                    + s * (RA[1]
                        + s * (RA[2]
                            + s * (RA[3] + s * (RA[4] + s * (RA[5] + s * (RA[6] + s * RA[7]))))));
                big_s = 1.0
                    + s * (SA[0]
                        + s * (SA[1]
                            + s * (SA[2]
                                + s * (SA[3]
                                    + s * (SA[4] + s * (SA[5] + s * (SA[6] + s * SA[7])))))));
            } else {
                r = RB[0]
                    + s * (RB[1]
                        + s * (RB[2] + s * (RB[3] + s * (RB[4] + s * (RB[5] + s * RB[6])))));
                big_s = 1.0
                    + s * (SB[0]
                        + s * (SB[1]
                            + s * (SB[2] + s * (SB[3] + s * (SB[4] + s * (SB[5] + s * SB[6]))))));
            }
            let z = f64::from_bits(ax.to_bits() & 0xffff_ffff_0000_0000);
            exp(-z * z - 0.5625) * exp((z - ax) * (z + ax) + r / big_s) / ax
        };
        1.0 - erfc
    } else {
        1.0 - f64::from_bits(0x0010_0000_0000_0000)
    };
    if negative { -y } else { y }
}

/// The correctly rounded square root: the integer square root of the significand, scaled
/// so that the root has 62–63 bits, with a sticky bit so the one rounding to 53 bits is right.
pub fn sqrt(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 || x == f64::INFINITY {
        return x;
    }
    let bits = x.to_bits();
    let field = (bits >> 52) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // x = m · 2^e with m a whole number.
    let (mut m, mut e) = if field == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), field - 1075)
    };
    if e & 1 != 0 {
        m <<= 1;
        e -= 1;
    }
    let length = 64 - m.leading_zeros() as i32;
    let s = (126 - length) / 2;
    let n = u128::from(m) << (2 * s);
    let r = n.isqrt();
    let sticky = u128::from(r * r != n);
    let root = ((r << 1) | sticky) as f64;
    // sqrt(x) = sqrt(n) · 2^(e/2 − s) = root · 2^(e/2 − s − 1), a normal number times an
    // exact power of two.
    root * f64::from_bits(((e / 2 - s - 1 + 1023) as u64) << 52)
}

/// `1 / (1 + e^-x)`, split by sign as the runtime does so that `exp` never overflows.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + expf(-x))
    } else {
        let e = expf(x);
        e / (1.0 + e)
    }
}

pub fn silu(x: f32) -> f32 {
    x * sigmoid(x)
}

pub fn tanhf(x: f32) -> f32 {
    tanh(f64::from(x)) as f32
}

/// GELU with the exact normal CDF, in f64 as the runtime computes it.
pub fn gelu_erf(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + erf(x * core::f64::consts::FRAC_1_SQRT_2))) as f32
}

/// GELU's tanh approximation, in f64 as the runtime computes it.
pub fn gelu_tanh(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044_715 * x * x * x)))) as f32
}

/// Softmax over the whole row, the max subtracted first, the sum in f64 (as the runtime).
pub fn softmax<const N: usize>(x: [f32; N]) -> [f32; N] {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out = [0.0f32; N];
    let mut sum = 0.0f64;
    for (o, &v) in out.iter_mut().zip(&x) {
        let e = expf(v - max);
        *o = e;
        sum += f64::from(e);
    }
    let inv = (1.0 / sum) as f32;
    for o in out.iter_mut() {
        *o *= inv;
    }
    out
}

/// Log-softmax over the whole row (as the runtime).
pub fn log_softmax<const N: usize>(x: [f32; N]) -> [f32; N] {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = x.iter().map(|&v| exp(f64::from(v - max))).sum();
    let log_sum = log(sum) as f32;
    let mut out = [0.0f32; N];
    for (o, &v) in out.iter_mut().zip(&x) {
        *o = (v - max) - log_sum;
    }
    out
}

/// LayerNorm over each group of `D` values: mean and biased variance in f64 (as the runtime).
pub fn layer_norm<const N: usize, const D: usize>(
    x: [f32; N],
    eps: f32,
    weight: &[f32; D],
    bias: &[f32; D],
) -> [f32; N] {
    let mut out = [0.0f32; N];
    for (xg, yg) in x.chunks_exact(D).zip(out.chunks_exact_mut(D)) {
        let mean = xg.iter().map(|&v| f64::from(v)).sum::<f64>() / D as f64;
        let var = xg
            .iter()
            .map(|&v| {
                let d = f64::from(v) - mean;
                d * d
            })
            .sum::<f64>()
            / D as f64;
        let invstd = (1.0 / sqrt(var + f64::from(eps))) as f32;
        let mean = mean as f32;
        for (((y, &x), &w), &b) in yg.iter_mut().zip(xg).zip(weight).zip(bias) {
            *y = (x - mean) * invstd * w + b;
        }
    }
    out
}
}
