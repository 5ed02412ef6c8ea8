//! `Linear`'s product at batches up to [`SMALL_BATCH`](super::SMALL_BATCH) rows: a plain
//! loop, and AVX intrinsics where the CPU has them, instead of faer, whose call costs more
//! than such a product's arithmetic.
//!
//! Every output is `bias + dot(x, w_row)` in [`dot`]'s order of operations, whichever path
//! runs and whether the widths are run-time values or a typed layer's constants, so every
//! path gives the same bits (`tests` checks it on every shape class).

/// The partial sums of [`dot`], over chunks of as many inputs.
const PARTIAL_SUMS: usize = 8;

/// `Σ a·b` with eight partial sums, so that the loop vectorises.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    // -0.0 is the neutral element of addition (what `Sum` starts from): `-0.0 + p` is `p`
    // for every p, so the compiler drops the first add of each partial sum. (+0.0 would
    // turn a product of -0.0 into +0.0, which only a sum of exact zeros could ever show.)
    let mut acc = [-0.0f32; PARTIAL_SUMS];
    let (a8, b8) = (a.chunks_exact(PARTIAL_SUMS), b.chunks_exact(PARTIAL_SUMS));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for k in 0..PARTIAL_SUMS {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// A layer's widths, as the kernels below take them: a typed layer's constants ([`Fixed`]),
/// which the compiler folds into the loops (at batch 1 the loop bookkeeping and its
/// divisions cost as much as the products), or, for the tests that sweep every shape class,
/// values known only at run time ([`Widths`]). Either way the same operations in the same
/// order.
pub(super) trait LayerWidths: Copy {
    fn inw(self) -> usize;
    fn outw(self) -> usize;
}

/// Widths known at run time: what the tests sweep.
#[cfg(test)]
#[derive(Clone, Copy)]
pub(super) struct Widths {
    pub(super) inw: usize,
    pub(super) outw: usize,
}

#[cfg(test)]
impl LayerWidths for Widths {
    #[inline(always)]
    fn inw(self) -> usize {
        self.inw
    }
    #[inline(always)]
    fn outw(self) -> usize {
        self.outw
    }
}

/// A typed layer's widths.
#[derive(Clone, Copy)]
pub(super) struct Fixed<const IN: usize, const OUT: usize>;

impl<const IN: usize, const OUT: usize> LayerWidths for Fixed<IN, OUT> {
    #[inline(always)]
    fn inw(self) -> usize {
        IN
    }
    #[inline(always)]
    fn outw(self) -> usize {
        OUT
    }
}

/// `out = x · wᵀ + bias` for rows of `inw` values in `x` and of `outw` in `out`.
pub(super) fn affine<L: LayerWidths>(
    x: &[f32],
    out: &mut [f32],
    w: &[f32],
    bias: Option<&[f32]>,
    widths: L,
) {
    let (inw, outw) = (widths.inw(), widths.outw());
    // Checked here for both paths alike: `weight.value` and `bias.value` are public, and a
    // wrong length must be the same panic whichever path runs (faer's path panics too).
    assert_eq!(w.len(), outw * inw, "a weight of the layer's shape");
    assert!(bias.is_none_or(|b| b.len() == outw), "a bias per output");
    assert_eq!(
        x.len() * outw,
        out.len() * inw,
        "an input row per output row"
    );
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: `avx::affine` is compiled for AVX alone, and AVX was detected just above.
        unsafe { avx::affine(x, out, w, bias, widths) };
        return;
    }
    portable(x, out, w, bias, inw, outw);
}

/// One [`dot`] per output.
fn portable(x: &[f32], out: &mut [f32], w: &[f32], bias: Option<&[f32]>, inw: usize, outw: usize) {
    for (xr, yr) in x.chunks_exact(inw).zip(out.chunks_exact_mut(outw)) {
        for (o, (y, wr)) in yr.iter_mut().zip(w.chunks_exact(inw)).enumerate() {
            *y = bias.map_or(0.0, |b| b[o]) + dot(xr, wr);
        }
    }
}

/// Eight outputs side by side. At batch 1 the horizontal sum that ends each output's `dot`
/// (seven dependent adds, each after a shuffle) cost more than its products; here output
/// `j`'s eight partial sums stay in register `j`, and one 8×8 transpose turns the eight
/// in-order sums into seven vector adds for all eight outputs: the same operations on each
/// value as `dot`, in the same order, so the same bits.
#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_permute2f128_ps,
        _mm256_set1_ps, _mm256_setzero_ps, _mm256_shuffle_ps, _mm256_unpackhi_ps,
        _mm256_unpacklo_ps,
    };

    use pulp::bytemuck::cast;

    use super::LayerWidths;

    /// Outputs computed side by side: a `__m256`'s lanes, and, for the 8×8 transpose, as
    /// many as `dot`'s partial sums.
    const LANES: usize = 8;
    const _: () = assert!(LANES == super::PARTIAL_SUMS);

    /// [`super::affine`], compiled for AVX.
    #[target_feature(enable = "avx")]
    pub(super) fn affine<L: LayerWidths>(
        x: &[f32],
        out: &mut [f32],
        w: &[f32],
        bias: Option<&[f32]>,
        widths: L,
    ) {
        let (inw, outw) = (widths.inw(), widths.outw());
        // Rows by index: `chunks_exact` divides by the width, three times a layer.
        let rows = out.len() / outw;
        let blocks = outw / LANES;
        for r in 0..rows {
            let x = &x[r * inw..(r + 1) * inw];
            let y = &mut out[r * outw..(r + 1) * outw];
            for block in 0..blocks {
                let first = block * LANES;
                let bias = bias.map(|b| cast(*b[first..].first_chunk::<LANES>().expect("eight")));
                let w = &w[first * inw..(first + LANES) * inw];
                let outputs: [f32; LANES] = cast(block_of_outputs(x, w, bias, widths));
                y[first..first + LANES].copy_from_slice(&outputs);
            }
            // The last outputs, fewer than eight, one `dot` each.
            for o in blocks * LANES..outw {
                y[o] = bias.map_or(0.0, |b| b[o]) + super::dot(x, &w[o * inw..(o + 1) * inw]);
            }
        }
    }

    /// `bias[j] + dot(x, w_row(j))` in lane `j`, for the eight rows of `x.len()` values in `w`.
    #[target_feature(enable = "avx")]
    fn block_of_outputs<L: LayerWidths>(
        x: &[f32],
        w: &[f32],
        bias: Option<__m256>,
        widths: L,
    ) -> __m256 {
        let inw = widths.inw();
        assert_eq!(x.len(), inw, "a row of the input's width");
        let whole = inw / LANES * LANES;
        assert_eq!(w.len(), LANES * inw, "eight rows of the input's width");
        // Unchecked loads: with a bounds check on each of the nine loads per chunk, the
        // checks took more instructions than the arithmetic.
        let (x, w) = (x.as_ptr(), w.as_ptr());
        let mut partial = [_mm256_set1_ps(-0.0); LANES];
        let mut c = 0;
        while c < whole {
            // SAFETY: `c + 8 <= whole <= inw`, the length of `x` (asserted above).
            let xc = unsafe { _mm256_loadu_ps(x.add(c)) };
            for (j, p) in partial.iter_mut().enumerate() {
                // SAFETY: `j * inw + c + 8 <= (j + 1) * inw <= w.len()` (asserted above).
                let wc = unsafe { _mm256_loadu_ps(w.add(j * inw + c)) };
                *p = _mm256_add_ps(*p, _mm256_mul_ps(xc, wc));
            }
            c += LANES;
        }
        // `dot`'s `acc.iter().sum()`: -0.0, then partial sums 0 to 7 in order, each output
        // in its lane. With no whole chunk every partial sum is -0.0 and so is their sum.
        let mut sum = _mm256_set1_ps(-0.0);
        if whole > 0 {
            for by_output in transpose(partial) {
                sum = _mm256_add_ps(sum, by_output);
            }
        }
        // `dot`'s tail: -0.0, then the remaining products in order.
        let mut tail = _mm256_set1_ps(-0.0);
        for i in whole..inw {
            // SAFETY: `i < inw`, the length of `x`, and `j * inw + i < 8 * inw`, that of `w`
            // (asserted above).
            let (xi, column) = unsafe {
                let at = |j: usize| *w.add(j * inw + i);
                let column = [at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7)];
                (*x.add(i), column)
            };
            let column: __m256 = cast(column);
            tail = _mm256_add_ps(tail, _mm256_mul_ps(_mm256_set1_ps(xi), column));
        }
        let bias = bias.unwrap_or(_mm256_setzero_ps());
        _mm256_add_ps(bias, _mm256_add_ps(sum, tail))
    }

    /// Lane `j` of result `k` is lane `k` of `r[j]`. Inlined: as a call it was 41
    /// instructions of each batch-1 forward (callgrind), its eight vectors through memory.
    #[target_feature(enable = "avx")]
    #[inline]
    fn transpose(r: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, RngExt, SeedableRng};

    /// Values with signed zeros and a wide range of magnitudes, so that a change in the order
    /// of operations shows in the bits.
    fn values(n: usize, rng: &mut impl Rng) -> Vec<f32> {
        (0..n)
            .map(|_| match rng.random_range(0..10) {
                0 => 0.0,
                1 => -0.0,
                _ => rng.random_range(-1.0f32..1.0) * 10f32.powi(rng.random_range(-6..6)),
            })
            .collect()
    }

    /// Only zeros of both signs: the sign of each result then shows which zero every sum
    /// started from (with a bias of -0.0, `-0.0 + d` is `d`'s own bits).
    fn zeros(n: usize, rng: &mut impl Rng) -> Vec<f32> {
        (0..n)
            .map(|_| if rng.random() { 0.0 } else { -0.0 })
            .collect()
    }

    /// Infinities, NaN, and magnitudes whose products overflow or not by the order of the sums.
    fn extremes(n: usize, rng: &mut impl Rng) -> Vec<f32> {
        let pool = [
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1e20,
            -1e20,
            3e19,
            1.0,
            -0.0,
        ];
        (0..n)
            .map(|_| pool[rng.random_range(0..pool.len())])
            .collect()
    }

    /// `bias + dot` for every output of every row: what each path must give.
    fn one_dot_per_output(x: &[f32], w: &[f32], bias: Option<&[f32]>, inw: usize) -> Vec<f32> {
        x.chunks_exact(inw)
            .flat_map(|xr| {
                w.chunks_exact(inw)
                    .enumerate()
                    .map(move |(o, wr)| bias.map_or(0.0, |b| b[o]) + super::dot(xr, wr))
            })
            .collect()
    }

    /// Each path's outputs next to `bias + dot` per output: the same bits, or NaN for both
    /// (Rust leaves a NaN's sign and payload open).
    fn check(x: &[f32], w: &[f32], bias: Option<&[f32]>, inw: usize, outw: usize, what: &str) {
        let expected = one_dot_per_output(x, w, bias, inw);
        let same = |got: &[f32], path: &str| {
            for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                let equal = g.to_bits() == e.to_bits() || (g.is_nan() && e.is_nan());
                assert!(equal, "{path}, {what}, output {i}: {g:e} for {e:e}");
            }
        };
        let rows = x.len() / inw;
        let mut out = vec![f32::NAN; rows * outw];
        super::portable(x, &mut out, w, bias, inw, outw);
        same(&out, "portable");
        #[cfg(target_arch = "x86_64")]
        {
            assert!(
                std::arch::is_x86_feature_detected!("avx"),
                "this test checks the AVX path, which needs an AVX CPU"
            );
            out.fill(f32::NAN);
            // SAFETY: AVX was detected just above.
            unsafe { super::avx::affine(x, &mut out, w, bias, super::Widths { inw, outw }) };
            same(&out, "avx");
        }
        out.fill(f32::NAN);
        super::affine(x, &mut out, w, bias, super::Widths { inw, outw });
        same(&out, "affine");
    }

    /// The kernel compiled for constant widths `IN → OUT`, on `values` and on `zeros` (whose
    /// signs show which zero each sum started from), at every small batch.
    fn check_fixed<const IN: usize, const OUT: usize>(rng: &mut rand_pcg::Pcg64) {
        type Maker = fn(usize, &mut rand_pcg::Pcg64) -> Vec<f32>;
        let kinds: [Maker; 2] = [values, zeros];
        for (rows, make) in (0..=super::super::SMALL_BATCH).flat_map(|r| kinds.map(|k| (r, k))) {
            let (x, w, b) = (make(rows * IN, rng), make(OUT * IN, rng), make(OUT, rng));
            for bias in [None, Some(&b[..])] {
                let expected = one_dot_per_output(&x, &w, bias, IN);
                let mut out = vec![f32::NAN; rows * OUT];
                super::affine(&x, &mut out, &w, bias, super::Fixed::<IN, OUT>);
                for (i, (g, e)) in out.iter().zip(&expected).enumerate() {
                    assert_eq!(g.to_bits(), e.to_bits(), "{rows}×{IN} → {OUT}, output {i}");
                }
            }
        }
    }

    #[test]
    fn constant_widths_give_one_dot_per_output_bit_for_bit() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        // Each class of `IN` (no whole chunk, whole chunks only, both) by each of `OUT`
        // (no block of eight, blocks only, both), and the README's and T1's layers.
        check_fixed::<1, 1>(&mut rng);
        check_fixed::<2, 16>(&mut rng);
        check_fixed::<3, 9>(&mut rng);
        check_fixed::<7, 8>(&mut rng);
        check_fixed::<8, 7>(&mut rng);
        check_fixed::<16, 16>(&mut rng);
        check_fixed::<16, 1>(&mut rng);
        check_fixed::<17, 24>(&mut rng);
        check_fixed::<33, 17>(&mut rng);
        check_fixed::<64, 2>(&mut rng);
    }

    #[test]
    fn every_path_gives_one_dot_per_output_bit_for_bit() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        type Maker = fn(usize, &mut rand_pcg::Pcg64) -> Vec<f32>;
        let kinds: [(&str, Maker); 3] =
            [("values", values), ("zeros", zeros), ("extremes", extremes)];
        for (kind, make) in kinds {
            for inw in 1..=33 {
                for outw in [1, 2, 7, 8, 9, 15, 16, 17, 24, 31] {
                    for rows in 0..=super::super::SMALL_BATCH {
                        let (x, w) = (make(rows * inw, &mut rng), make(outw * inw, &mut rng));
                        let what = format!("{kind}, {rows}×{inw} → {outw}");
                        check(&x, &w, None, inw, outw, &format!("{what}, no bias"));
                        let b = make(outw, &mut rng);
                        check(&x, &w, Some(&b), inw, outw, &format!("{what}, bias"));
                        let minus_zero = vec![-0.0; outw];
                        check(
                            &x,
                            &w,
                            Some(&minus_zero),
                            inw,
                            outw,
                            &format!("{what}, -0.0"),
                        );
                    }
                }
            }
        }
    }
}
