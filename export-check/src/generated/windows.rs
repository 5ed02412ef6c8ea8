// `Windows` exported by staticnn::export; regenerate, do not edit.
//
// Needs only `core`: `mod model { include!("this_file.rs"); }` in a `#![no_std]` crate.
// No allocation, no `unsafe`, no input panics; NaN propagates as in the runtime.
// Stack: 3180 bytes of activation arrays at most (1600 for the widest layer) and 64 of kernel
// scratch; weights: 452 bytes.
// The runtime's operations in its order, bit for bit at batches of up to 4, except:
//   `conv` (Conv2d): faer's order with fused multiply-adds, its bits where faer uses FMA

/// Values per input row.
pub const IN: usize = 220;
/// Values per output row.
pub const OUT: usize = 2;

/// One row through the model (eval mode: Dropout is the identity, BatchNorm uses its
/// running statistics).
pub fn forward(x: &[f32; IN]) -> [f32; OUT] {
    let x0: [f32; IN] = *x;
    let x1: [f32; 180] = kernels::conv2d::<220, 180, 12>(&x0, &CONV_CONV, &CONV_WEIGHT, Some(&CONV_BIAS));
    let x2: [f32; 180] = kernels::map(x1, kernels::relu);
    let x3: [f32; 72] = kernels::max_pool::<180, 72>(&x2, &MAX_POOL);
    let x4: [f32; 105] = kernels::avg_pool::<72, 105>(&x3, &AVG_CEIL_POOL);
    let x5: [f32; 36] = kernels::avg_pool::<105, 36>(&x4, &AVG_POOL);
    let x6: [f32; 2] = kernels::linear(&x5, &FC_WEIGHT_T, Some(&FC_BIAS));
    x6
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

const CONV_CONV: kernels::Conv = kernels::Conv { in_channels: 2, height: 11, width: 10, out_channels: 3, out_height: 6, out_width: 10, rows: kernels::Window { kernel: 3, stride: 2, padding: 1, dilation: 1 }, cols: kernels::Window { kernel: 2, stride: 1, padding: 1, dilation: 2 } };
static CONV_WEIGHT: [[f32; 12]; 3] = [
    [
        f(0x3e91bf00), f(0x3dffdf4a), f(0x3e4b34ff), f(0x3eb26faa), f(0x3eacfd78), f(0x3dbf6875), f(0xbe2a3d48), f(0x3aa57eef),
        f(0xbc7f8038), f(0xbd736942), f(0x3e9ce2db), f(0x3c19e0a0),
    ],
    [
        f(0x3db69f83), f(0xbe47719f), f(0x3e7d2d3e), f(0xbde751ca), f(0xbdafa432), f(0xbe1fb438), f(0x3e8d40f9), f(0xbd91c7a8),
        f(0xbdf903cf), f(0x3eaeb6df), f(0xbbcbbd5c), f(0xbe000e0a),
    ],
    [
        f(0xbeb0faf9), f(0xbd246984), f(0xbe94b991), f(0xbe056541), f(0xbd58ec53), f(0xbeabf1df), f(0xbc340608), f(0xbdbfe6a1),
        f(0x3e2a71df), f(0xbd40b7c8), f(0x3dd0964d), f(0x3e600435),
    ],
];
static CONV_BIAS: [f32; 3] = [f(0xbdb83989), f(0xbe980b96), f(0x3e4145e6),];
const MAX_POOL: kernels::Pool = kernels::Pool { channels: 3, height: 6, width: 10, out_height: 4, out_width: 6, rows: kernels::Window { kernel: 3, stride: 2, padding: 1, dilation: 1 }, cols: kernels::Window { kernel: 3, stride: 2, padding: 1, dilation: 1 }, count_include_pad: true };
const AVG_CEIL_POOL: kernels::Pool = kernels::Pool { channels: 3, height: 4, width: 6, out_height: 5, out_width: 7, rows: kernels::Window { kernel: 2, stride: 1, padding: 1, dilation: 1 }, cols: kernels::Window { kernel: 2, stride: 1, padding: 1, dilation: 1 }, count_include_pad: false };
const AVG_POOL: kernels::Pool = kernels::Pool { channels: 3, height: 5, width: 7, out_height: 3, out_width: 4, rows: kernels::Window { kernel: 2, stride: 2, padding: 1, dilation: 1 }, cols: kernels::Window { kernel: 2, stride: 2, padding: 1, dilation: 1 }, count_include_pad: true };
static FC_WEIGHT_T: [[f32; 2]; 36] = [
    [f(0x3e84b9a4), f(0xbc9b36a9),],
    [f(0x3da5a69d), f(0xbb3cb034),],
    [f(0xbbee1f3f), f(0x3d8f039d),],
    [f(0x3e34f2cb), f(0xbe913920),],
    [f(0x3e15248e), f(0xbc43f72a),],
    [f(0x3e794827), f(0x3d2d4253),],
    [f(0x3e1593ad), f(0xbdc8eec1),],
    [f(0x3e37e66b), f(0xbd40a962),],
    [f(0x3e32bef5), f(0x3e037b7f),],
    [f(0x3e53a5d9), f(0xbbf045e6),],
    [f(0x3de6ec26), f(0x3e2e1d4c),],
    [f(0x3d195727), f(0xbe2e6212),],
    [f(0xbdbdd4c8), f(0x3d81efd0),],
    [f(0xbb975bcf), f(0xbd554a2e),],
    [f(0x3c5f089f), f(0xbd4a7215),],
    [f(0x3da24389), f(0xbd68faa2),],
    [f(0xbe969801), f(0xbe1c0288),],
    [f(0xbdf25968), f(0x3dcb5422),],
    [f(0xbde4c822), f(0x3e4859b6),],
    [f(0x3e564b16), f(0x3e743530),],
    [f(0xbd5d31d1), f(0xbd26648e),],
    [f(0x3d24486a), f(0xbdb236f2),],
    [f(0xbd1a8f94), f(0x3d7a5f8c),],
    [f(0x3e8f476a), f(0x3e97388b),],
    [f(0x3e54c7d7), f(0xbd12287a),],
    [f(0xbe14f74e), f(0x3e1b1cb5),],
    [f(0xbe6b08d5), f(0xbdf3a86b),],
    [f(0x3d5f7cd3), f(0xbbe52f8b),],
    [f(0xbe1aba4e), f(0xbe3096d5),],
    [f(0xbe3cd5f9), f(0x3d6d91ec),],
    [f(0x3b638570), f(0x3d7c754c),],
    [f(0xbe6a6ec9), f(0x3e2fa903),],
    [f(0x3d853473), f(0xbe71da6c),],
    [f(0xbe80e475), f(0x3d302f84),],
    [f(0xbe56aa1a), f(0x3beef9fa),],
    [f(0xbd3bbbcf), f(0xbd834edd),],
];
static FC_BIAS: [f32; 2] = [f(0x3dba3962), f(0xbdc6e7cb),];

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
