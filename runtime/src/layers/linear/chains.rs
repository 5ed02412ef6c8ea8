//! `Linear`'s small products on AVX-512, in faer 0.24's own order of operations.
//!
//! faer 0.24 sends a product with every dimension past 1 and more than 16³ multiply-adds to
//! private-gemm-x86 (smaller ones to nano-gemm, whose chains start otherwise: from −0.0 up
//! to an inner dimension of 16, measured). Below its inner block of 512, private-gemm
//! computes every value as one chain of fused multiply-adds over the inner dimension, first
//! to last, from +0.0, then stores it (`Accum::Replace`) or adds it to the destination
//! (`Accum::Add`). The kernel here does exactly that, so it gives faer's bits; its tests
//! compare it with faer itself on every shape class, and with a scalar chain.
//!
//! What it saves is faer's cost around the arithmetic, which is most of a small product:
//! the dispatch, the packing of both operands, and microkernels that keep four chains in
//! flight where an FMA's latency needs eight. Measured on an Intel Xeon (AVX-512): faer's
//! microkernels were 45 % of T4's step; T4's weight gradient (10 × 20 values, chains of
//! 100) ran five microkernels one after the other, each waiting on its chains' latency.
//! Here every tile keeps 12 to 16 vectors of chains in AVX-512's 32 registers.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, __mmask16, _mm512_add_ps, _mm512_fmadd_ps, _mm512_mask_storeu_ps,
    _mm512_maskz_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
};

use faer::Par;

use crate::linalg::par_for;

/// The inner dimensions faer sums as one chain (its `kc`, a constant in private-gemm-x86).
const MAX_CHAIN: usize = 512;

/// faer's `NANO_GEMM_THRESHOLD`: products of up to this many multiply-adds go to nano-gemm.
const NANO_GEMM_MAX: usize = 16 * 16 * 16;

/// Multiply-adds above which faer's packing GEMM (cache blocking, packed panels) is as fast
/// as this kernel's plain tiles or faster. Measured on an Intel Xeon (AVX-512), one product
/// at a time: 32×16×16 132 ns here against faer's 387, T4's 100×20×10 and 10×100×20 about
/// 1.2× and 1.5× faster, T2's 64×128×10 1.37×; T2's 64×256×128 (2.1M) 8 % slower here.
const MAX_WORK: usize = 1 << 20;

/// How a product's chains end.
#[derive(Clone, Copy)]
pub(super) enum Finish<'a> {
    /// `dst = chain` (`Accum::Replace`).
    Replace,
    /// `dst = dst + chain` (`Accum::Add`).
    Add,
    /// `dst = bias[j] + chain`: `Accum::Add` onto rows prefilled with the bias, in one pass.
    Bias(&'a [f32]),
}

/// A left operand `m × k`: value `(i, p)` at `data[i * row_stride + p * col_stride]`.
#[derive(Clone, Copy)]
pub(super) struct Lhs<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

/// Proof that the CPU has AVX-512F and that a product's shape is one whose every value faer
/// computes as a single chain.
#[derive(Clone, Copy)]
pub(super) struct Chains(());

/// The kernel for an `m × k` by `k × n` product (run with `linalg::par_for`'s split), if faer would send it to
/// private-gemm and compute it there as chains (every dimension past 1, past nano-gemm's
/// size, the inner dimension within a block, no parallel split), it is small enough to win,
/// and the CPU has AVX-512F.
pub(super) fn for_shape(m: usize, n: usize, k: usize) -> Option<Chains> {
    accepts(m, n, k, par_for(m, n, k)).then_some(Chains(()))
}

/// [`for_shape`]'s rule, for a product run with `par`.
fn accepts(m: usize, n: usize, k: usize, par: Par) -> bool {
    let work = m.saturating_mul(n).saturating_mul(k);
    let shape = m >= 2 && n >= 2 && (2..=MAX_CHAIN).contains(&k) && matches!(par, Par::Seq);
    shape && work > NANO_GEMM_MAX && work <= MAX_WORK && available()
}

#[cfg(target_arch = "x86_64")]
fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn available() -> bool {
    false
}

impl Chains {
    /// `out = x · wᵀ (+ bias)` for `rows × inw` in `x`, `w` stored `[outw, inw]`, through
    /// `wt`, which takes the weight transposed (the kernel reads its right operand a row at
    /// a time): a buffer the caller keeps, so that it grows once.
    pub(super) fn affine(
        self,
        x: &[f32],
        out: &mut [f32],
        w: &[f32],
        bias: Option<&[f32]>,
        (inw, outw): (usize, usize),
        wt: &mut Vec<f32>,
    ) {
        let rows = x.len() / inw;
        let finish = bias.map_or(Finish::Replace, Finish::Bias);
        // Sized without clearing: every value is written below before it is read.
        wt.resize(inw * outw, 0.0);
        for (p, column) in wt.chunks_exact_mut(outw).enumerate() {
            for (value, &weight) in column.iter_mut().zip(w[p..].iter().step_by(inw)) {
                *value = weight;
            }
        }
        let lhs = Lhs {
            data: x,
            row_stride: inw,
            col_stride: 1,
        };
        self.product(out, (rows, outw, inw), finish, lhs, wt);
    }

    /// `dst (finish)= lhs · rhs` for an `m × k` left operand, `rhs` row-major `k × n` and
    /// `dst` row-major `m × n`.
    ///
    /// # Panics
    /// If an operand is shorter than its shape.
    pub(super) fn product(
        self,
        dst: &mut [f32],
        (m, n, k): (usize, usize, usize),
        finish: Finish<'_>,
        lhs: Lhs<'_>,
        rhs: &[f32],
    ) {
        assert!(dst.len() >= m * n && rhs.len() >= k * n, "whole operands");
        assert!(
            lhs.data.len() > (m - 1) * lhs.row_stride + (k - 1) * lhs.col_stride,
            "a whole left operand"
        );
        if let Finish::Bias(bias) = finish {
            assert!(bias.len() >= n, "a bias per column");
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a `Chains` exists only where `available()` found AVX-512F on this CPU, the
        // one feature `kernel` is compiled for; the asserts above are the bounds it relies on.
        unsafe {
            kernel(dst, (m, n, k), finish, lhs, rhs)
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!(
            "no Chains off x86-64: {:?}",
            (dst.len(), m, n, k, lhs.data.len(), rhs.len())
        )
    }
}

/// The lanes of an AVX-512 vector of `f32`.
const LANES: usize = 16;

/// The product in tiles: column blocks of two vectors (or one, at the last 16 columns or
/// fewer), rows twelve at a time with one vector, eight with two, then the rows left over.
///
/// # Safety
/// AVX-512F must be available, and the operands as long as `Chains::product` asserts.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn kernel(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    finish: Finish<'_>,
    lhs: Lhs<'_>,
    rhs: &[f32],
) {
    let at = Tile {
        dst: dst.as_mut_ptr(),
        lhs: lhs.data.as_ptr(),
        rhs: rhs.as_ptr(),
        row_stride: lhs.row_stride,
        col_stride: lhs.col_stride,
        n,
        k,
        finish,
        row: 0,
        col: 0,
        masks: [0; 2],
    };
    let mut col = 0;
    while col < n {
        let width = (n - col).min(2 * LANES);
        let mut at = Tile {
            col,
            masks: [mask(width.min(LANES)), mask(width.saturating_sub(LANES))],
            ..at
        };
        // SAFETY (every `tile` call): the tile's rows `at.row..at.row + R` lie below `m`, its
        // columns `col..col + width` below `n`, as the loops and matches here bound them;
        // `tile`'s own safety section asks for nothing else.
        macro_rules! rows {
            ($v:literal, $r:literal, $($rest:literal)*) => {{
                while at.row + $r <= m {
                    unsafe { tile::<$r, $v>(at) };
                    at.row += $r;
                }
                match m - at.row {
                    0 => {}
                    $($rest => unsafe { tile::<$rest, $v>(at) },)*
                    _ => unreachable!("fewer rows than a tile"),
                }
            }};
        }
        if width > LANES {
            rows!(2, 8, 1 2 3 4 5 6 7);
        } else {
            rows!(1, 12, 1 2 3 4 5 6 7 8 9 10 11);
        }
        col += width;
    }
}

/// The mask of a vector's first `lanes` lanes (`lanes` ≤ 16).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn mask(lanes: usize) -> __mmask16 {
    ((1u32 << lanes) - 1) as __mmask16
}

/// Where a tile is and what it reads: raw pointers, so that the tiles of one product can be
/// cut from one borrow of each operand.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Tile<'a> {
    dst: *mut f32,
    lhs: *const f32,
    rhs: *const f32,
    row_stride: usize,
    col_stride: usize,
    n: usize,
    k: usize,
    finish: Finish<'a>,
    /// The tile's first row and first column.
    row: usize,
    col: usize,
    /// The lanes of the tile's first and second vector that lie inside the product.
    masks: [__mmask16; 2],
}

/// `R` rows × `V` vectors of chains, each over `k` from +0.0, then finished.
///
/// # Safety
/// AVX-512F must be available. Rows `t.row..t.row + R` of the left operand and of `dst`, and
/// columns `t.col..` to the last lane `t.masks` enables, of `rhs`, `dst` and a bias, must lie
/// inside the slices behind the pointers (`Chains::product` asserts the operands' lengths
/// for the whole product, and `kernel` keeps every tile inside it). Masked-off lanes are
/// neither read nor written: AVX-512's masked loads and stores suppress them, faults included.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn tile<const R: usize, const V: usize>(t: Tile<'_>) {
    let mut acc: [[__m512; V]; R] = [[_mm512_setzero_ps(); V]; R];
    for p in 0..t.k {
        // SAFETY: row `p < k` of `rhs` (k × n) from column `t.col`, lanes as masked.
        let b: [__m512; V] = std::array::from_fn(|v| unsafe {
            _mm512_maskz_loadu_ps(t.masks[v], t.rhs.add(p * t.n + t.col + v * LANES))
        });
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: value `(t.row + r, p)` of the left operand, inside it as asserted.
            let a = unsafe {
                _mm512_set1_ps(*t.lhs.add((t.row + r) * t.row_stride + p * t.col_stride))
            };
            for (acc, b) in acc.iter_mut().zip(&b) {
                *acc = _mm512_fmadd_ps(a, *b, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (v, &chain) in acc.iter().enumerate() {
            let (col, mask) = (t.col + v * LANES, t.masks[v]);
            // SAFETY: row `t.row + r`, columns from `col` as masked: inside `dst` (and the
            // bias, which has a value per column).
            unsafe {
                let out = t.dst.add((t.row + r) * t.n + col);
                let value = match t.finish {
                    Finish::Replace => chain,
                    Finish::Add => _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out), chain),
                    Finish::Bias(bias) => {
                        _mm512_add_ps(_mm512_maskz_loadu_ps(mask, bias.as_ptr().add(col)), chain)
                    }
                };
                _mm512_mask_storeu_ps(out, mask, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use faer::{Accum, MatRef, Par};

    use super::super::tests::{faer_product as faer, value};
    use super::{Chains, Finish, Lhs, MAX_CHAIN, MAX_WORK, NANO_GEMM_MAX, accepts, for_shape};

    fn bits(v: &[f32]) -> Vec<u32> {
        // Any NaN matches any NaN: Rust leaves a NaN's sign and payload open.
        v.iter()
            .map(|x| if x.is_nan() { u32::MAX } else { x.to_bits() })
            .collect()
    }

    /// Each value one chain of fused multiply-adds from +0.0 over `p` in order, then
    /// finished: the order this file says private-gemm has.
    fn scalar_chains(
        dst: &mut [f32],
        (m, n, k): (usize, usize, usize),
        finish: Finish<'_>,
        lhs: Lhs<'_>,
        rhs: &[f32],
    ) {
        for i in 0..m {
            for j in 0..n {
                let chain = (0..k).fold(0.0f32, |acc, p| {
                    lhs.data[i * lhs.row_stride + p * lhs.col_stride].mul_add(rhs[p * n + j], acc)
                });
                let d = &mut dst[i * n + j];
                *d = match finish {
                    Finish::Replace => chain,
                    Finish::Add => *d + chain,
                    Finish::Bias(bias) => bias[j] + chain,
                };
            }
        }
    }

    /// Rows and columns around the tiles' edges (8, 12, 16, 32 and past).
    const SIDES: [usize; 12] = [2, 3, 5, 7, 8, 12, 13, 16, 17, 20, 33, 64];
    /// Inner dimensions up to private-gemm's block.
    const DEPTHS: [usize; 9] = [2, 3, 7, 16, 17, 32, 100, 256, MAX_CHAIN];

    /// On a CPU with AVX-512F: for every shape the kernel takes, in the three forms `Linear`
    /// uses (row-major and transposed left operand; replaced, added, biased), the kernel's
    /// bits are faer's and the scalar chains'. Elsewhere the kernel is never chosen.
    #[test]
    fn the_kernel_gives_faers_bits_on_every_shape_it_takes() {
        if for_shape(64, 64, 64).is_none() {
            assert!(!std::arch::is_x86_feature_detected!("avx512f"));
            eprintln!("no AVX-512F here: the kernel is never chosen, faer runs every product");
            return;
        }
        let mut compared = 0;
        for m in SIDES {
            for n in SIDES {
                for k in DEPTHS {
                    let Some(kernel) = for_shape(m, n, k) else {
                        let work = m * n * k;
                        let outside = work <= NANO_GEMM_MAX || work > MAX_WORK;
                        assert!(outside, "{m}×{k}·{k}×{n} refused");
                        continue;
                    };
                    let a: Vec<f32> = (0..m * k).map(value).collect();
                    let b: Vec<f32> = (0..k * n).map(|i| value(i + 7)).collect();
                    let bias: Vec<f32> = (0..n).map(|i| value(i + 3)).collect();
                    let start: Vec<f32> = (0..m * n).map(|i| value(i + 5)).collect();
                    let rhs = MatRef::from_row_major_slice(&b, k, n);
                    for transposed in [false, true] {
                        // The forward's and input gradient's `x` or `g`, or the weight
                        // gradient's `gᵀ` (stored `k × m`).
                        let (lhs, lhs_faer) = if transposed {
                            let lhs = Lhs {
                                data: &a,
                                row_stride: 1,
                                col_stride: m,
                            };
                            (lhs, MatRef::from_row_major_slice(&a, k, m).transpose())
                        } else {
                            let lhs = Lhs {
                                data: &a,
                                row_stride: k,
                                col_stride: 1,
                            };
                            (lhs, MatRef::from_row_major_slice(&a, m, k))
                        };
                        for finish in [Finish::Replace, Finish::Add, Finish::Bias(&bias)] {
                            // faer's destination before the product; ours is NaN wherever
                            // the kernel must not read it.
                            let (accum, theirs, ours) = match finish {
                                Finish::Replace => {
                                    (Accum::Replace, vec![f32::NAN; m * n], vec![f32::NAN; m * n])
                                }
                                Finish::Add => (Accum::Add, start.clone(), start.clone()),
                                Finish::Bias(bias) => {
                                    let rows = bias.iter().cycle().take(m * n).copied().collect();
                                    (Accum::Add, rows, vec![f32::NAN; m * n])
                                }
                            };
                            let (mut theirs, mut ours, mut scalar) = (theirs, ours.clone(), ours);
                            faer(&mut theirs, (m, n), accum, lhs_faer, rhs);
                            kernel.product(&mut ours, (m, n, k), finish, lhs, &b);
                            scalar_chains(&mut scalar, (m, n, k), finish, lhs, &b);
                            let what = format!("{m}×{k} · {k}×{n}, transposed {transposed}");
                            assert_eq!(bits(&ours), bits(&theirs), "the kernel, {what}");
                            assert_eq!(bits(&scalar), bits(&theirs), "the chains, {what}");
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert!(compared > 3000, "{compared} products compared");
    }

    /// The forward through its transposed weight, against faer's `x · wᵀ` on rows prefilled
    /// with the bias, at T1's, T2's and T4's shapes and odd ones.
    #[test]
    fn affine_gives_faers_bits() {
        let shapes = [
            (32, 16, 16),
            (100, 20, 10),
            (64, 256, 32),
            (64, 128, 10),
            (7, 33, 65),
        ];
        for (rows, inw, outw) in shapes {
            let Some(kernel) = for_shape(rows, outw, inw) else {
                assert!(!std::arch::is_x86_feature_detected!("avx512f"));
                continue;
            };
            let x: Vec<f32> = (0..rows * inw).map(value).collect();
            let w: Vec<f32> = (0..outw * inw).map(|i| value(i + 11)).collect();
            let bias: Vec<f32> = (0..outw).map(|i| value(i + 2)).collect();
            let xm = MatRef::from_row_major_slice(&x, rows, inw);
            let wm = MatRef::from_row_major_slice(&w, outw, inw);
            for with_bias in [false, true] {
                let (accum, mut theirs) = if with_bias {
                    let rows = bias.iter().cycle().take(rows * outw).copied().collect();
                    (Accum::Add, rows)
                } else {
                    (Accum::Replace, vec![0.0; rows * outw])
                };
                faer(&mut theirs, (rows, outw), accum, xm, wm.transpose());
                let mut ours = vec![f32::NAN; rows * outw];
                let b = with_bias.then_some(&bias[..]);
                Chains::affine(kernel, &x, &mut ours, &w, b, (inw, outw), &mut Vec::new());
                let what = format!("{rows} rows, {inw} -> {outw}, bias {with_bias}");
                assert_eq!(bits(&ours), bits(&theirs), "{what}");
            }
        }
    }

    #[test]
    fn only_private_gemms_chain_shapes_take_the_kernel() {
        for (m, n, k, par) in [
            (1, 64, 64, Par::Seq),
            (64, 1, 64, Par::Seq),
            (64, 64, 1, Par::Seq),
            (64, 64, MAX_CHAIN + 1, Par::Seq),
            (16, 16, 16, Par::Seq),
            (64, 64, 64, Par::rayon(2)),
        ] {
            assert!(!accepts(m, n, k, par), "{m}×{k}·{k}×{n}");
        }
    }
}
