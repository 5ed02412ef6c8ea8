// `BinaryClassifier` exported by staticnn::export; regenerate, do not edit.
//
// Needs only `core`: `mod model { include!("this_file.rs"); }` in a `#![no_std]` crate.
// No allocation, no `unsafe`, no input panics; NaN propagates as in the runtime.
// Stack: 268 bytes of activation arrays at most (128 for the widest layer) and 512 of kernel
// scratch; weights: 1348 bytes.
// Every layer computes the runtime's operations in its order: `forward` gives the
// bits of the runtime's `forward` at batches of up to 4 (where Linear runs plain loops).

/// Values per input row.
pub const IN: usize = 2;
/// Values per output row.
pub const OUT: usize = 1;

/// One row through the model (eval mode: Dropout is the identity, BatchNorm uses its
/// running statistics).
pub fn forward(x: &[f32; IN]) -> [f32; OUT] {
    let x0: [f32; IN] = *x;
    let x1: [f32; 16] = kernels::linear(&x0, &FC1_WEIGHT_T, Some(&FC1_BIAS));
    let x2: [f32; 16] = kernels::map(x1, kernels::relu);
    let x3: [f32; 16] = kernels::linear(&x2, &FC2_WEIGHT_T, Some(&FC2_BIAS));
    let x4: [f32; 16] = kernels::map(x3, kernels::relu);
    let x5: [f32; 1] = kernels::linear(&x4, &OUT_WEIGHT_T, Some(&OUT_BIAS));
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

static FC1_WEIGHT_T: [[f32; 16]; 2] = [
    [
        f(0xbe1f08d3), f(0x3b7f6c46), f(0xbfc1f13e), f(0xbe9de9a0), f(0x3e00f78b), f(0x3fbf43e3), f(0x3f5bca41), f(0xbfd5811d),
        f(0xbde21d97), f(0x3f482020), f(0xbf296fe4), f(0xbce11cb6), f(0xbd8d5636), f(0xbfed597b), f(0x3e1dc51f), f(0x3f52d56e),
    ],
    [
        f(0x3f69ef02), f(0x3e69cd23), f(0x3f054293), f(0x3f8aa094), f(0x3e237de5), f(0xbdcb3df8), f(0x3f5b4b9b), f(0x3eb709fa),
        f(0x3f88693d), f(0xbebc89aa), f(0xbf447f00), f(0x3ec09bbb), f(0xbdfb952f), f(0xbd2cc265), f(0xbda2f566), f(0x3f519e52),
    ],
];
static FC1_BIAS: [f32; 16] = [
    f(0x3ebd3e49), f(0xbec8edc6), f(0xbef67b8c), f(0x3f157f3a), f(0xbf333985), f(0xbf0ed1d3), f(0xbef29b8e), f(0xbefabefe),
    f(0xbf0ac609), f(0xbf54c6d1), f(0x3f26e9a0), f(0xbf17a6c3), f(0xbe6c7462), f(0xbea2fb10), f(0xbf0bdedb), f(0xbed11ff9),
];
static FC2_WEIGHT_T: [[f32; 16]; 16] = [
    [
        f(0x3ede139e), f(0x3f0d4760), f(0x3efdf6eb), f(0x3f21961a), f(0x3e0f5968), f(0xbca571d5), f(0xbf07e3b9), f(0xbec83aca),
        f(0xbebaca6a), f(0x3e682dfc), f(0xbeab12a7), f(0xbeb70c7f), f(0x3eb6db65), f(0x3eb4d322), f(0xbe831f67), f(0xbe0bec4c),
    ],
    [
        f(0x3e1dbb64), f(0x3e8745d9), f(0x3d2412e9), f(0x3cc242c2), f(0xbe49db7a), f(0x3e60e25c), f(0xbd96d718), f(0xbe89cf4c),
        f(0xbd76f510), f(0x3d40dd95), f(0x3db8d25d), f(0xbe8c0fb3), f(0x3ddca118), f(0xbe587ee0), f(0xbe56bff1), f(0xbd931688),
    ],
    [
        f(0x3f9f3ce7), f(0x3f6c2562), f(0x3f93d03d), f(0x3f9fe6c6), f(0xbf95d76d), f(0x3d0def3a), f(0xbf5eda55), f(0xbc8b30b9),
        f(0xbf459b19), f(0x3c1264ec), f(0xbfad20f3), f(0xbfc5fb9f), f(0xbfc568c8), f(0xbf795beb), f(0xbfa1e4ef), f(0xbe7c6672),
    ],
    [
        f(0xbef23113), f(0x3e2cd786), f(0x3f01ac5c), f(0x3e8b3646), f(0x3cbf4486), f(0xbe7d8e3c), f(0xbe3aa04c), f(0xbef652df),
        f(0xbeab7a73), f(0x3efcea52), f(0xbe9e40e2), f(0x3d052535), f(0x3e2980c1), f(0x3e0c5898), f(0xbcfd49c2), f(0x3c4baced),
    ],
    [
        f(0xbe2a40d4), f(0x3e5590b2), f(0x3e01c8aa), f(0x3d507990), f(0x3e26e49a), f(0x3e2c5772), f(0xbe52fc9e), f(0xbdc86b54),
        f(0x3e588818), f(0x3e194b4e), f(0xbe6613ea), f(0xbd88a050), f(0xbce09250), f(0xbdc10130), f(0xbd5da3f8), f(0x3d97b5cc),
    ],
    [
        f(0xbe54e63c), f(0x3dbfaa59), f(0xbcfe0879), f(0x3e294efe), f(0x3ea5f0d2), f(0xbe4a1c1c), f(0x3ee85696), f(0x3f4aae94),
        f(0xbdf165e3), f(0x3d9adf8b), f(0x3e95d469), f(0xbd56d5be), f(0xbf564ca9), f(0xbf695c67), f(0x3df7fe22), f(0xbdf33d88),
    ],
    [
        f(0x3d3f5a5c), f(0x3e986501), f(0x3ea2df5b), f(0x3e5bcfc0), f(0xbe3e4a1e), f(0xbe75620a), f(0xbe813adf), f(0x3f6b0942),
        f(0x3f62c1bb), f(0x3f3494b4), f(0xbeb70346), f(0xbf1d88bc), f(0x3f224df2), f(0xbf8d26ce), f(0xbed72c47), f(0x3da07726),
    ],
    [
        f(0x3f9f0c83), f(0x3f7a8139), f(0x3fa4694b), f(0x3f8699ff), f(0xbfa06c8a), f(0x3c148448), f(0xbf76f94d), f(0xbe9f967e),
        f(0xbf009053), f(0x3d171de0), f(0xbf9febe7), f(0xbfa5377f), f(0xbf90bd08), f(0xbf58c580), f(0xbfa7c873), f(0x3e214ef0),
    ],
    [
        f(0x3f2455b3), f(0x3ef597f4), f(0x3f506c62), f(0x3f39cb76), f(0xbe0e9fb3), f(0xbe2dda5b), f(0xbf00ae94), f(0xbe3fd7db),
        f(0xbdc15c74), f(0x3f5f9ba9), f(0xbe30edac), f(0xbf998492), f(0xbeb7a050), f(0xbe73a695), f(0xbebaa150), f(0xbdee6e6c),
    ],
    [
        f(0xbf8b2f64), f(0xbece6d18), f(0xbe99ed73), f(0xbf0768ae), f(0x3f3b3ef2), f(0xbceb4cb0), f(0x3f20c9c8), f(0x3fbcb147),
        f(0x3f56f39f), f(0xbfb1700a), f(0x3f11a70b), f(0x3ecccf42), f(0x4001d1d7), f(0xbda0017d), f(0x3ecaeca9), f(0x3dfb78fa),
    ],
    [
        f(0x3ed6a4e9), f(0xbe900606), f(0xbeb30468), f(0xbdfad732), f(0x3f0932ca), f(0xbea651dd), f(0x3ecd9274), f(0xbf3e0cf9),
        f(0x3f004ec4), f(0xc0016ae4), f(0x3f4cc9e1), f(0x3e63e6c2), f(0x3f38b39c), f(0x3f63a547), f(0x3ee42f61), f(0xbe1af4e4),
    ],
    [
        f(0xbe6b76fc), f(0x3c3761c8), f(0x3e6f666e), f(0x3d518e12), f(0x3dc71ac2), f(0xbd2fcd18), f(0x3d98d6dd), f(0x3d6ca2ee),
        f(0x3e6ef454), f(0xbd4269a8), f(0xbe3f68c8), f(0xbdcbe0d1), f(0xbd2b8798), f(0xbd0b1978), f(0xbde143b2), f(0xbd002f08),
    ],
    [
        f(0xbd15bde8), f(0x3e418ac2), f(0x3dbf0b78), f(0xbc8ebf70), f(0x3ccfc250), f(0x3dd68620), f(0xbdb74564), f(0xbe374fe0),
        f(0xbe3cc2f2), f(0xbe6ecb8a), f(0xbc597700), f(0x3e291d16), f(0x3d928214), f(0xbdd77c10), f(0x3e7ead06), f(0x3dfd6bd0),
    ],
    [
        f(0x3f8bafc8), f(0x3eecffcf), f(0x3f2cfc81), f(0x3f521eba), f(0xbf500a3c), f(0x3df01a8a), f(0xbeb63691), f(0xbc526b5c),
        f(0xbefbae1d), f(0xbf186dc3), f(0xbf52463b), f(0xbf5a309e), f(0xbfbe9bad), f(0xbf452b57), f(0xbf4d36d3), f(0xbcbb3410),
    ],
    [
        f(0xbdd310d0), f(0xbe08facc), f(0xbc01e680), f(0x3e0de82a), f(0x3cf08f50), f(0x3e0c85e4), f(0x3dea0180), f(0xbe6b01ca),
        f(0x3cd17590), f(0xbc988fa0), f(0xbda5b860), f(0xbe0d53fa), f(0x3db28868), f(0xbb043000), f(0xbcb7bb00), f(0xbe168b9c),
    ],
    [
        f(0x3ed66377), f(0x3f11c9de), f(0x3e802198), f(0x3ebb6106), f(0xbf12d21f), f(0xbcd84882), f(0xbeb14cd8), f(0x3f782c5f),
        f(0x3e8be63d), f(0x3df21ec5), f(0xbeb3e279), f(0xbf4e3344), f(0x3f27ee5c), f(0xbf7fabb8), f(0xbf238359), f(0xbe6f7f4a),
    ],
];
static FC2_BIAS: [f32; 16] = [
    f(0x3d93d9f3), f(0x3e7e40a2), f(0x3eb54cf5), f(0x3e38d8c2), f(0x3e59152d), f(0xbda3cb75), f(0x3e2d26ea), f(0xbf996c1d),
    f(0xbe91553d), f(0x3e19109c), f(0x3f02a20e), f(0x3f7b39dd), f(0xbecb3978), f(0x3f9e58a7), f(0x3f167492), f(0xbe83a7af),
];
static OUT_WEIGHT_T: [[f32; 1]; 16] = [
    [f(0xbf47c44a),],
    [f(0xbec929e4),],
    [f(0xbf13bcd2),],
    [f(0xbf29af58),],
    [f(0x3f274e3f),],
    [f(0xbd123d74),],
    [f(0x3f117c19),],
    [f(0x4039a8fb),],
    [f(0x3fb65337),],
    [f(0xbfbc6d18),],
    [f(0x3f4ae57a),],
    [f(0x3f91cd67),],
    [f(0x3fa356ab),],
    [f(0x400897e1),],
    [f(0x3f04c021),],
    [f(0x3d2e52d4),],
];
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
