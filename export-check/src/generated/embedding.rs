// `Embedder` exported by staticnn::export; regenerate, do not edit.
//
// Needs only `core`: `mod model { include!("this_file.rs"); }` in a `#![no_std]` crate.
// No allocation, no `unsafe`, no input panics; NaN propagates as in the runtime.
// Stack: 172 bytes of activation arrays at most (112 for the widest layer) and 256 of kernel
// scratch; weights: 1064 bytes.
// Every layer computes the runtime's operations in its order: `forward` gives the
// bits of the runtime's `forward` at batches of up to 4 (where Linear runs plain loops).

/// Values per input row.
pub const IN: usize = 5;
/// Values per output row.
pub const OUT: usize = 2;

/// One row through the model (eval mode: Dropout is the identity, BatchNorm uses its
/// running statistics).
pub fn forward(x: &[f32; IN]) -> [f32; OUT] {
    let x0: [f32; IN] = *x;
    let x1: [f32; 20] = kernels::embedding::<5, 20, 4>(&x0, &EMBED_WEIGHT);
    let x2: [f32; 8] = kernels::linear(&x1, &FC1_WEIGHT_T, Some(&FC1_BIAS));
    let x3: [f32; 8] = kernels::map(x2, kernels::gelu_erf);
    let x4: [f32; 2] = kernels::linear(&x3, &FC2_WEIGHT_T, Some(&FC2_BIAS));
    x4
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

static EMBED_WEIGHT: [[f32; 4]; 20] = [
    [f(0xbfd35393), f(0x3fd07207), f(0x3f9b630a), f(0xbee4898f),],
    [f(0xbeb09315), f(0x3f5d840b), f(0xbeb0c5c7), f(0xbf121ee4),],
    [f(0x3e2d6961), f(0x3ecbe825), f(0xbf0730f7), f(0x3ec0550d),],
    [f(0xbfda1bbf), f(0x3eaab841), f(0x3e2c44dd), f(0xbf6d4045),],
    [f(0xbf4f4168), f(0x3f322f1a), f(0x3f5f25a9), f(0x3f158bdf),],
    [f(0xbe80004d), f(0x3f0320eb), f(0x3ecd964c), f(0x3f56820c),],
    [f(0x3ee1635f), f(0x3f3ef167), f(0xbee66a29), f(0xbfa3f049),],
    [f(0xbf5a98c7), f(0xbe9b5be6), f(0x3f015fdd), f(0x3eb17841),],
    [f(0xbfa35d2e), f(0xbf524927), f(0x3d629763), f(0xbf9743be),],
    [f(0xbee0bded), f(0xbe045f72), f(0x3ea7f65c), f(0xbf46c3e4),],
    [f(0x3eb3e6ea), f(0xbf3829b4), f(0xbf76c1b5), f(0xbfdc6b90),],
    [f(0x3faba6cb), f(0x3f6cece4), f(0x3f23a0d3), f(0xbe3318dd),],
    [f(0xbf2f2262), f(0x3d81fd5c), f(0x3fb7a22c), f(0xbf406031),],
    [f(0xbe76976d), f(0x3f120ad8), f(0x3f93bae7), f(0xbfdb2b59),],
    [f(0x3f60c959), f(0xbe967471), f(0x3f24d66c), f(0x3fdb6a3d),],
    [f(0x3f8a5a79), f(0xbf9c0b67), f(0xbf14a375), f(0xbeda7415),],
    [f(0x3ea9d137), f(0xbe2363c0), f(0x3f39d0ba), f(0xbfcd0679),],
    [f(0xbd9650d1), f(0xbfa800a0), f(0x3d5e3c21), f(0xbff825c5),],
    [f(0x4021e5d7), f(0xbf0d2f57), f(0xbeaf028e), f(0x3e8db39a),],
    [f(0x3f54dc7a), f(0xbf30e77b), f(0x3f8f2b8c), f(0x3f8f9887),],
];
static FC1_WEIGHT_T: [[f32; 8]; 20] = [
    [f(0xbe6e1c9d), f(0x3e0d1816), f(0xbdf1d2c3), f(0x3eda25db), f(0xbd9bb7c6), f(0xbe001481), f(0x3e1b54e5), f(0x3e26d381),],
    [f(0x3e389496), f(0xbef485f2), f(0x3e37aff8), f(0xbe7ad8dc), f(0x3da88575), f(0x3e534dd8), f(0xbed898a0), f(0xbe1649c4),],
    [f(0x3c227267), f(0x3e49367b), f(0xbd68475b), f(0x3f100d2c), f(0x3d660d4a), f(0xbe187167), f(0x3d98e18d), f(0x3ec85884),],
    [f(0xbc87e43b), f(0xba565a9e), f(0x3df9ff06), f(0xbde21b6d), f(0x3b05cadd), f(0xbd37c3fa), f(0x3dc44337), f(0xbea4fc9e),],
    [f(0xbe551b9c), f(0xbccf3a6f), f(0x3e8edfd6), f(0x3dbd6694), f(0xbdfee5ba), f(0x3d5db020), f(0x3e381ae4), f(0xbdaf2af0),],
    [f(0xbd53a000), f(0xbdedf63e), f(0xbd8508ee), f(0xbd444c23), f(0xbccba3dd), f(0xbe351a6a), f(0x3b1c557c), f(0xbc85074a),],
    [f(0xbe0bd38e), f(0xbd1367c4), f(0x3e5dce23), f(0x3d1305e1), f(0xbe1b2e4b), f(0x3e1d4a3e), f(0x3d394aed), f(0x3e402e68),],
    [f(0xbd50b4e3), f(0xbe51ff13), f(0x3e58df2a), f(0xbd4dd811), f(0xbca5b399), f(0xbe06f9ca), f(0x3d3c8f13), f(0x3e0e9ad1),],
    [f(0x3b772638), f(0x3c8fc886), f(0x3e51383c), f(0x3ccc3040), f(0x3c19dc8f), f(0x3ddde276), f(0x3d923ad4), f(0x3de31898),],
    [f(0x3c50543e), f(0x3d98e482), f(0x3de37a26), f(0xbe3b9e1d), f(0x3e0237e7), f(0xbe72e0e4), f(0x3d674c71), f(0xbdf68aac),],
    [f(0x3d3296e2), f(0x3c9b2aef), f(0x3c25afb5), f(0x3dcbc3ae), f(0xbe816ea4), f(0x3e3a8538), f(0x3cc2d721), f(0x3e199659),],
    [f(0x3dd6eb13), f(0x3b4b97fa), f(0xbe8e723d), f(0xbe1f0870), f(0xbd8bac33), f(0x3cb5b77b), f(0xbdccf2b1), f(0x3e1f1dbf),],
    [f(0xbdf4d4a9), f(0x3d7ff680), f(0x3e4f53a8), f(0x3e3db992), f(0x3da675db), f(0x3dcae153), f(0xbd94d649), f(0xbe38d0a9),],
    [f(0x3e190361), f(0x3d8187e9), f(0xbe68c88a), f(0xbe36683f), f(0xbb24a380), f(0xbe0385a9), f(0xbdb88487), f(0x3e0c6cfa),],
    [f(0xbdb54c78), f(0x3d1350cb), f(0x3e7f9214), f(0x3ce03cea), f(0xbdece34b), f(0x3e30ec00), f(0x3c30f5d7), f(0xbcab4088),],
    [f(0x3db4dccf), f(0x3d3a6cea), f(0xbe20aceb), f(0x3e254463), f(0x3dd606d2), f(0xbbcf0488), f(0xbeb0519b), f(0xbd6185d6),],
    [f(0xbda41192), f(0xba462272), f(0xbe31587c), f(0x3cda0186), f(0xbe3aaf8d), f(0x3e3d8484), f(0x3dec67e3), f(0x3d4f0cb8),],
    [f(0xbe32bb64), f(0xbe854bc7), f(0xbc1f8102), f(0x3dfbb9ec), f(0xbcafbaca), f(0xbe3023a1), f(0xbe34eca5), f(0x3c92cdd5),],
    [f(0x3dadf4d0), f(0x3e190321), f(0x3c2ebf1a), f(0xbd1d92e9), f(0xbea86c54), f(0x3e30a7b7), f(0x3e0f01c1), f(0xbd2d374a),],
    [f(0xbe445c17), f(0xbe5ff047), f(0xbe7d6c3f), f(0xbd1d95fc), f(0x3ad99684), f(0xbc71b8d8), f(0x3e6feb9b), f(0x3cfd5c4e),],
];
static FC1_BIAS: [f32; 8] = [f(0x3b3a1a03), f(0x3e4ab48f), f(0x3d90eb12), f(0x3e41146b), f(0xbeb4ab4c), f(0x3eb1e960), f(0x3e085272), f(0x3e04248e),];
static FC2_WEIGHT_T: [[f32; 2]; 8] = [
    [f(0xbdfa5aeb), f(0xbe0fe95c),],
    [f(0x3e613e0a), f(0x3e6fd340),],
    [f(0x3e18da29), f(0xbd804a5b),],
    [f(0x3e2fe6d9), f(0x3e710ac6),],
    [f(0xbecc90f5), f(0xbe36df58),],
    [f(0x3ec7835e), f(0xbe5b76fc),],
    [f(0x3e141402), f(0x3dc50c4b),],
    [f(0x3e067701), f(0x3e7c5e77),],
];
static FC2_BIAS: [f32; 2] = [f(0x3ee4fc44), f(0x3e953496),];

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
