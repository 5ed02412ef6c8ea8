//! `Linear`'s three products for a layer with one output (a regression's or a binary
//! classifier's last layer) above the small batch, in faer 0.24's own order of operations.
//!
//! For these shapes faer takes its matrix-vector and rank-one paths (`matvec_rowmajor`,
//! `matvec_colmajor`, `rank_update`), which run on pulp's V3 level (AVX2 + FMA) on every x86
//! CPU that has it, AVX-512 or not, unless pulp's `x86-v4` feature is on in the build. Their
//! per-call cost was most of the work: about 300 ns each at T4's 100 rows × 10 inputs on an
//! Intel Xeon (AVX-512), where the same operations take 110–250 ns here (the weight gradient
//! keeps up to four vectors of running sums in registers instead of reading and writing them
//! through memory row after row). Each function below performs faer's operations on each
//! value in faer's order, so the bits are faer's; the tests compare them with faer itself.
//! Where faer's dispatch picks another level (or off x86-64), the caller keeps calling faer.

#[cfg(target_arch = "x86_64")]
pub(super) use v3::{Kernels, kernels};

/// Never available off x86-64: the caller calls faer.
#[cfg(not(target_arch = "x86_64"))]
pub(super) fn kernels() -> Option<Kernels> {
    None
}

#[cfg(not(target_arch = "x86_64"))]
#[derive(Clone, Copy)]
pub(super) enum Kernels {}

#[cfg(not(target_arch = "x86_64"))]
impl Kernels {
    pub(super) fn affine(self, _: &[f32], _: &mut [f32], _: &[f32], _: Option<f32>, _: usize) {
        match self {}
    }
    pub(super) fn weight_grad(self, _: &[f32], _: &[f32], _: &mut [f32], _: usize) {
        match self {}
    }
    pub(super) fn input_grad(self, _: &[f32], _: &mut [f32], _: &[f32], _: usize) {
        match self {}
    }
}

#[cfg(target_arch = "x86_64")]
mod v3 {
    use pulp::bytemuck::cast;
    use pulp::x86::V3;
    use pulp::{MemMask, Simd, WithSimd, f32x8, m32x8};

    /// The lanes of a V3 vector.
    const LANES: usize = 8;

    /// The products of this file, where faer would run them on V3.
    #[derive(Clone, Copy)]
    pub(in crate::layers::linear) struct Kernels(V3);

    /// Where faer's dispatch picks V3 (`simd::v3`). A build where some crate turns on pulp's
    /// `x86-v4` feature (faer's `nightly` does) runs faer on V4 on an AVX-512 CPU, with other
    /// lane widths: then these kernels stand aside.
    pub(in crate::layers::linear) fn kernels() -> Option<Kernels> {
        crate::simd::v3().map(Kernels)
    }

    /// A row of `len` values as faer's `SimdCtx` cuts it: whole vectors, then the rest in
    /// one vector whose lanes past the end a mask leaves out (masked loads read +0.0 there).
    #[derive(Clone, Copy)]
    struct Cut {
        whole: usize,
        rest: usize,
        mask: MemMask<m32x8>,
    }

    impl Cut {
        #[inline(always)]
        fn new(len: usize) -> Self {
            let rest = len % LANES;
            let lanes: m32x8 = cast(std::array::from_fn::<u32, LANES, _>(|lane| {
                if lane < rest { u32::MAX } else { 0 }
            }));
            Cut {
                whole: len / LANES,
                rest,
                mask: MemMask::new(lanes),
            }
        }

        /// Whole vector `v` of `row`.
        #[inline(always)]
        fn vector(&self, row: &[f32], v: usize) -> f32x8 {
            let values: &[f32; LANES] = row[v * LANES..][..LANES].try_into().expect("8 values");
            cast(*values)
        }

        /// The last, partial vector of `row`.
        #[inline(always)]
        fn rest(&self, simd: V3, row: &[f32]) -> f32x8 {
            self.rest_of(simd, &row[self.whole * LANES..])
        }

        /// The partial vector `rest` (what follows a row's whole vectors).
        #[inline(always)]
        fn rest_of(&self, simd: V3, rest: &[f32]) -> f32x8 {
            assert!(rest.len() >= self.rest, "a whole row");
            // SAFETY: the mask enables the first `self.rest` lanes only, and `rest` holds at
            // least that many values: every address read lies inside `rest`.
            unsafe { simd.mask_load_ptr_f32s(self.mask, rest.as_ptr()) }
        }

        /// Stores the first `self.rest` lanes of `value` as the last, partial vector of `row`.
        #[inline(always)]
        fn store_rest(&self, simd: V3, row: &mut [f32], value: f32x8) {
            let rest = &mut row[self.whole * LANES..];
            assert!(rest.len() >= self.rest, "a whole row");
            // SAFETY: as in `rest`: only the first `self.rest` lanes are written, all inside
            // `rest`, which this function borrows mutably.
            unsafe { simd.mask_store_ptr_f32s(self.mask, rest.as_mut_ptr(), value) }
        }
    }

    // Each product below is its own `WithSimd` struct on purpose. pulp calls its
    // `#[inline(always)]` `with_simd` inside the copy compiled for V3; a closure, or one
    // generic runner handed a function, let LLVM compile the bodies apart without AVX, the
    // intrinsics as calls (T4's quick run: 11.8M -> 20.0M instructions).
    impl Kernels {
        /// `out[r] = bias + x_r · w` (or `x_r · w` without a bias) for rows of `inw` values:
        /// faer's `matvec_rowmajor` with `Accum::Add` on the bias prefilled (`Replace`
        /// without one).
        pub(in crate::layers::linear) fn affine(
            self,
            x: &[f32],
            out: &mut [f32],
            w: &[f32],
            bias: Option<f32>,
            inw: usize,
        ) {
            assert_eq!(w.len(), inw, "one weight row");
            assert_eq!(x.len(), out.len() * inw, "an input row per output");
            struct Op<'a> {
                simd: V3,
                x: &'a [f32],
                out: &'a mut [f32],
                w: &'a [f32],
                bias: Option<f32>,
                inw: usize,
            }
            impl WithSimd for Op<'_> {
                type Output = ();
                #[inline(always)]
                fn with_simd<S: Simd>(self, _: S) {
                    let Op {
                        simd,
                        x,
                        out,
                        w,
                        bias,
                        inw,
                    } = self;
                    let cut = Cut::new(inw);
                    for (o, xr) in out.iter_mut().zip(x.chunks_exact(inw)) {
                        let dot = dot(simd, &cut, xr, w);
                        *o = match bias {
                            Some(b) => b + dot,
                            None => dot,
                        };
                    }
                }
            }
            let simd = self.0;
            Simd::vectorize(
                simd,
                Op {
                    simd,
                    x,
                    out,
                    w,
                    bias,
                    inw,
                },
            );
        }

        /// `dw += gᵀ · x` for one output (`g` a value per row): faer's `matvec_colmajor`,
        /// one fused multiply-add per row into each weight, row after row.
        pub(in crate::layers::linear) fn weight_grad(
            self,
            g: &[f32],
            x: &[f32],
            dw: &mut [f32],
            inw: usize,
        ) {
            assert_eq!(dw.len(), inw, "one weight row");
            assert_eq!(x.len(), g.len() * inw, "an input row per gradient");
            struct Op<'a> {
                simd: V3,
                g: &'a [f32],
                x: &'a [f32],
                dw: &'a mut [f32],
                inw: usize,
            }
            impl WithSimd for Op<'_> {
                type Output = ();
                #[inline(always)]
                fn with_simd<S: Simd>(self, _: S) {
                    let Op {
                        simd,
                        g,
                        x,
                        dw,
                        inw,
                    } = self;
                    let cut = Cut::new(inw);
                    // Four whole vectors of weights at a time, four independent chains of
                    // adds kept in registers; then the rest with the partial vector.
                    let mut first = 0;
                    while cut.whole - first >= 4 {
                        columns::<4>(simd, &cut, g, x, dw, first, false);
                        first += 4;
                    }
                    let partial = cut.rest > 0;
                    match cut.whole - first + usize::from(partial) {
                        0 => {}
                        1 => columns::<1>(simd, &cut, g, x, dw, first, partial),
                        2 => columns::<2>(simd, &cut, g, x, dw, first, partial),
                        3 => columns::<3>(simd, &cut, g, x, dw, first, partial),
                        _ => columns::<4>(simd, &cut, g, x, dw, first, partial),
                    }
                }
            }
            let simd = self.0;
            Simd::vectorize(
                simd,
                Op {
                    simd,
                    g,
                    x,
                    dw,
                    inw,
                },
            );
        }

        /// `dx = g · w` for one output: faer's `rank_update`, `w[c] · g[r]` for each value.
        pub(in crate::layers::linear) fn input_grad(
            self,
            g: &[f32],
            dx: &mut [f32],
            w: &[f32],
            inw: usize,
        ) {
            assert_eq!(w.len(), inw, "one weight row");
            assert_eq!(dx.len(), g.len() * inw, "an input row per gradient");
            struct Op<'a> {
                simd: V3,
                g: &'a [f32],
                dx: &'a mut [f32],
                w: &'a [f32],
                inw: usize,
            }
            impl WithSimd for Op<'_> {
                type Output = ();
                #[inline(always)]
                fn with_simd<S: Simd>(self, _: S) {
                    let Op {
                        simd,
                        g,
                        dx,
                        w,
                        inw,
                    } = self;
                    let cut = Cut::new(inw);
                    let w_rest = &w[cut.whole * LANES..];
                    for (dr, &g) in dx.chunks_exact_mut(inw).zip(g) {
                        let gr = simd.splat_f32s(g);
                        let (whole, rest) = dr.split_at_mut(cut.whole * LANES);
                        for (v, out) in whole.chunks_exact_mut(LANES).enumerate() {
                            let value = simd.mul_f32s(cut.vector(w, v), gr);
                            let out: &mut [f32; LANES] = out.try_into().expect("8 values");
                            *out = cast(value);
                        }
                        // The partial vector's lanes one by one: the same single-rounding
                        // product each, and AMD's masked store (Zen 4) cost more than all of
                        // the row's other work (13 % of T4's samples, one store per row).
                        for (d, &wc) in rest.iter_mut().zip(w_rest) {
                            *d = wc * g;
                        }
                    }
                }
            }
            let simd = self.0;
            Simd::vectorize(
                simd,
                Op {
                    simd,
                    g,
                    dx,
                    w,
                    inw,
                },
            );
        }
    }

    /// faer's `inner_prod_no_conj_simd` on V3: four vector accumulators from +0.0, whole
    /// vectors in turn into accumulators 0, 1, 2, 3, 0, …, the partial one into the next,
    /// then `(a0 + a1) + (a2 + a3)` and pulp's horizontal sum. The accumulators are named
    /// rather than indexed so that they stay in registers.
    #[inline(always)]
    fn dot(simd: V3, cut: &Cut, a: &[f32], b: &[f32]) -> f32 {
        // Cut by slices rather than indexed, so that no load needs a bounds check.
        let (a_whole, a_rest) = a.split_at(cut.whole * LANES);
        let (b_whole, b_rest) = b.split_at(cut.whole * LANES);
        let vector = |v: &[f32]| -> f32x8 { cast(*<&[f32; LANES]>::try_from(v).expect("8")) };
        let fma = |a: &[f32], b: &[f32], acc| simd.mul_add_f32s(vector(a), vector(b), acc);
        let zero = simd.splat_f32s(0.0);
        let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
        let (mut a_batches, mut b_batches) = (
            a_whole.chunks_exact(4 * LANES),
            b_whole.chunks_exact(4 * LANES),
        );
        for (a, b) in (&mut a_batches).zip(&mut b_batches) {
            let (a, b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
            let mut pairs = a.zip(b);
            for acc in [&mut a0, &mut a1, &mut a2, &mut a3] {
                let (a, b) = pairs.next().expect("four vectors");
                *acc = fma(a, b, *acc);
            }
        }
        let (a_left, b_left) = (a_batches.remainder(), b_batches.remainder());
        let left = a_left.len() / LANES;
        let mut pairs = a_left.chunks_exact(LANES).zip(b_left.chunks_exact(LANES));
        for acc in [&mut a0, &mut a1, &mut a2] {
            if let Some((a, b)) = pairs.next() {
                *acc = fma(a, b, *acc);
            }
        }
        if cut.rest > 0 {
            let (ra, rb) = (cut.rest_of(simd, a_rest), cut.rest_of(simd, b_rest));
            match left {
                0 => a0 = simd.mul_add_f32s(ra, rb, a0),
                1 => a1 = simd.mul_add_f32s(ra, rb, a1),
                2 => a2 = simd.mul_add_f32s(ra, rb, a2),
                _ => a3 = simd.mul_add_f32s(ra, rb, a3),
            }
        }
        let low = simd.add_f32s(a0, a1);
        let high = simd.add_f32s(a2, a3);
        simd.reduce_sum_f32s(simd.add_f32s(low, high))
    }

    /// `dw[c] += Σ_r g[r] · x[r][c]` for the `N` vectors of columns from whole vector
    /// `first`, the last of them the partial one if `partial`: one fused multiply-add per row
    /// and weight, rows in order, the `N` running sums kept in registers.
    #[inline(always)]
    fn columns<const N: usize>(
        simd: V3,
        cut: &Cut,
        g: &[f32],
        x: &[f32],
        dw: &mut [f32],
        first: usize,
        partial: bool,
    ) {
        let inw = dw.len();
        let whole = N - usize::from(partial);
        let load = |row: &[f32], v: usize| {
            if v < whole {
                cut.vector(row, first + v)
            } else {
                cut.rest(simd, row)
            }
        };
        let mut acc = [simd.splat_f32s(0.0); N];
        for (v, acc) in acc.iter_mut().enumerate() {
            *acc = load(dw, v);
        }
        for (&gr, xr) in g.iter().zip(x.chunks_exact(inw)) {
            let gr = simd.splat_f32s(gr);
            for (v, acc) in acc.iter_mut().enumerate() {
                *acc = simd.mul_add_f32s(load(xr, v), gr, *acc);
            }
        }
        for (v, acc) in acc.into_iter().enumerate() {
            if v < whole {
                let out: &mut [f32; LANES] = (&mut dw[(first + v) * LANES..][..LANES])
                    .try_into()
                    .expect("8 values");
                *out = cast(acc);
            } else {
                cut.store_rest(simd, dw, acc);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use faer::{Accum, MatRef};

    use super::kernels;
    use crate::layers::linear::tests::faer_product as faer;

    /// The same bits, a NaN matching any NaN (Rust leaves a NaN's sign and payload open).
    fn assert_same(ours: &[f32], theirs: &[f32], what: &str) {
        for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{what}: value {i} is {a:e} ({:#x}), faer gives {b:e} ({:#x})",
                a.to_bits(),
                b.to_bits(),
            );
        }
        assert_eq!(ours.len(), theirs.len());
    }

    /// Mixed signs and magnitudes with exact zeros of both signs; products small enough to
    /// round to zero (a fused multiply-add keeps their sign, a masked lane's +0.0 does not);
    /// the same with one sign per seed's parity (every product of `x` and `w` rounds to -0.0,
    /// the one way a sum of faer's order is -0.0); and infinities, NaN and overflowing
    /// magnitudes.
    fn values(kind: usize, n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let r = state % 1000;
                let v = (state % 2001) as f32 / 1000.0 - 1.0;
                match kind {
                    0 if r < 40 => 0.0,
                    0 if r < 80 => -0.0,
                    0 => v * 10f32.powi((state % 7) as i32 - 3),
                    1 if r < 500 => -1e-30 * v.abs().max(0.5),
                    1 => 1e-30 * v,
                    2 if seed.is_multiple_of(2) => -1e-30 * v.abs().max(0.5),
                    2 => 1e-30 * v.abs().max(0.5),
                    _ if r < 10 => f32::INFINITY,
                    _ if r < 20 => f32::NEG_INFINITY,
                    _ if r < 30 => f32::NAN,
                    _ => v * 1e20,
                }
            })
            .collect()
    }

    #[test]
    fn every_product_gives_faers_bits() {
        let Some(k) = kernels() else {
            // faer's matrix-vector paths run on another level: nothing here runs. Not where
            // they run on V3: there this test must not pass untested.
            #[cfg(target_arch = "x86_64")]
            assert!(
                crate::simd::v3().is_none(),
                "faer runs on V3 and the kernels are off"
            );
            return;
        };
        let widths = (2..=41).chain([48, 63, 64, 100, 129, 784]);
        for inw in widths {
            for rows in [5, 6, 7, 8, 9, 13, 32, 100, 257] {
                for kind in 0..4 {
                    let seed = (inw * 1000 + rows * 10 + kind) as u32;
                    let x = values(kind, rows * inw, seed);
                    let w = values(kind, inw, seed + 1);
                    let g = values(kind, rows, seed + 2);
                    let xm = MatRef::from_row_major_slice(&x, rows, inw);
                    let wm = MatRef::from_row_major_slice(&w, 1, inw);
                    let gm = MatRef::from_row_major_slice(&g, rows, 1);
                    let what = format!("{rows} rows x {inw} inputs, values {kind}");

                    for bias in [None, Some(0.25), Some(-0.0), Some(values(kind, 1, seed)[0])] {
                        let (mut ours, mut theirs) = (vec![7.0; rows], vec![7.0; rows]);
                        k.affine(&x, &mut ours, &w, bias, inw);
                        let accum = match bias {
                            Some(b) => {
                                theirs.fill(b);
                                Accum::Add
                            }
                            None => Accum::Replace,
                        };
                        faer(&mut theirs, (rows, 1), accum, xm, wm.transpose());
                        assert_same(&ours, &theirs, &format!("affine, {what}, bias {bias:?}"));
                    }

                    let start = values(0, inw, seed + 3);
                    let (mut ours, mut theirs) = (start.clone(), start);
                    k.weight_grad(&g, &x, &mut ours, inw);
                    faer(&mut theirs, (1, inw), Accum::Add, gm.transpose(), xm);
                    assert_same(&ours, &theirs, &format!("weight gradient, {what}"));

                    let (mut ours, mut theirs) = (vec![7.0; rows * inw], vec![7.0; rows * inw]);
                    k.input_grad(&g, &mut ours, &w, inw);
                    faer(&mut theirs, (rows, inw), Accum::Replace, gm, wm);
                    assert_same(&ours, &theirs, &format!("input gradient, {what}"));
                }
            }
        }
    }
}
