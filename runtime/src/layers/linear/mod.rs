//! `Linear`: `y = x · Wᵀ + b`, with `W` stored `[out, in]` as in PyTorch.
//!
//! Small products (the tiny networks users train most) run as plain loops, vectorised at run
//! time; faer's call overhead would cost more than their arithmetic. Larger ones go to faer,
//! except a one-output layer's, which `one_output` computes in faer's own order of operations
//! (the same bits) without that overhead, and, on AVX-512, the small products `chains`
//! computes in private-gemm's order.
//! The typed layer hands its widths to the kernels below as values, so they are compiled
//! once, not once per width; only the forward's dispatch and its small-batch kernel take them
//! as constants (the latency of a batch-1 call is mostly loop bookkeeping, which constant
//! widths fold away).

use faer::{Accum, MatMut, MatRef, Par};
use rand::Rng;

use crate::export::Node;
use crate::init;
use crate::linalg::{matmul, par_for};
use crate::module::{Forward, Module, Parameter, Shaped, TraceKey, Visitor, VisitorMut};
use crate::simd::{vectorize, vectorize_op};
use crate::tensor::{Batch, BatchSlice};

mod chains;
mod one_output;
mod small_batch;

use small_batch::{Fixed, LayerWidths};

/// Rows up to which `small_batch`'s loops beat faer (measured when they were introduced, on an
/// AVX2 CPU: at batch 1 they took I1 from 200 to 90 ns; from batch 32 up faer's kernels win
/// even on 2→16 layers).
pub const SMALL_BATCH: usize = 4;

/// The widest output row `forward_owned` makes on the stack (4 KiB); wider layers allocate.
pub const IN_PLACE_WIDTH: usize = 1024;

/// PyTorch's `nn.Linear(IN, OUT)`.
#[derive(Clone, Debug)]
pub struct Linear<const IN: usize, const OUT: usize> {
    pub weight: Parameter,
    pub bias: Option<Parameter>,
    output: Batch<OUT>,
    grad_input: Batch<IN>,
    /// The weight transposed, `[IN, OUT]`, where a training forward's product runs in
    /// `chains` (which reads its right operand a row at a time); remade every forward.
    transposed_weight: Vec<f32>,
}

/// `y += a·x`.
#[inline(always)]
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

impl<const IN: usize, const OUT: usize> Linear<IN, OUT> {
    /// With a bias, initialised as PyTorch does: weight and bias from U(-1/√IN, 1/√IN).
    pub fn new(rng: &mut impl Rng) -> Self {
        let bound = init::default_bound(IN);
        let weight = init::uniform(rng, OUT * IN, bound);
        let bias = init::uniform(rng, OUT, bound);
        Self::from_parts(weight, Some(bias))
    }

    /// Without a bias (`bias=False`).
    pub fn without_bias(rng: &mut impl Rng) -> Self {
        let weight = init::uniform(rng, OUT * IN, init::default_bound(IN));
        Self::from_parts(weight, None)
    }

    /// From given values: `weight` row-major `[OUT, IN]`, `bias` `[OUT]`.
    ///
    /// # Panics
    /// If a length is wrong.
    pub fn from_parts(weight: Vec<f32>, bias: Option<Vec<f32>>) -> Self {
        let (weight, bias) = parameters(weight, bias, IN, OUT);
        Linear {
            weight,
            bias,
            output: Batch::new(),
            grad_input: Batch::new(),
            transposed_weight: Vec::new(),
        }
    }

    /// `out = x · Wᵀ + b` over rows of `IN` values in `x` and of `OUT` in `out`; with
    /// room for the transposed weight, the product may run in `chains`.
    fn affine(&self, x: &[f32], out: &mut [f32], transposed: Option<&mut Vec<f32>>) {
        let bias = self.bias.as_ref().map(|b| &b.value[..]);
        affine(
            x,
            out,
            &self.weight.value,
            bias,
            Fixed::<IN, OUT>,
            transposed,
        );
    }

    /// dW += gᵀ·x and db += Σ g, from the forward pass's input `x`; a parameter that
    /// does not require grad costs nothing (a frozen layer skips its weight product).
    fn parameter_grads(&mut self, x: &BatchSlice<IN>, g: &BatchSlice<OUT>) {
        let (x, bias) = (x.as_slice(), self.bias.as_mut());
        parameter_grads(g.as_slice(), x, &mut self.weight, bias, IN, OUT);
    }
}

// The arithmetic, with the widths as values: compiled once for every width a program uses
// (`dispatch_width!` instantiates `Linear<W, _>` at 64 of them), in the same order of
// operations as loops over constant widths would run.

fn small(rows: usize) -> bool {
    rows <= SMALL_BATCH
}

/// `one_output`'s kernels, for a product of a layer with one output where faer would take
/// its matrix-vector or rank-one path on V3.
fn one_output(rows: usize, inw: usize, outw: usize) -> Option<one_output::Kernels> {
    // Every product of such a layer has `rows · inw` multiply-adds, so one `par_for` decides.
    (outw == 1 && one_output_shape(rows, inw, par_for(rows, 1, inw)))
        .then(one_output::kernels)
        .flatten()
}

/// Whether a one-output layer's products at `rows` rows of `inw` inputs take the paths
/// `one_output` copies: more than one input (at one input faer takes its other
/// matrix-vector path, a single `fma(x, w, b)`), rows past the small batch (which has its
/// own kernel), and no parallel split (faer's split weight gradient sums each thread's part
/// apart; its split forward and input gradient would give the same bits, but one rule for
/// the three keeps it simple).
fn one_output_shape(rows: usize, inw: usize, par: Par) -> bool {
    inw > 1 && !small(rows) && matches!(par, Par::Seq)
}

/// The weight `[outw, inw]` and bias `[outw]` parameters.
fn parameters(
    weight: Vec<f32>,
    bias: Option<Vec<f32>>,
    inw: usize,
    outw: usize,
) -> (Parameter, Option<Parameter>) {
    let weight = Parameter::new(weight, &[outw, inw]);
    (weight, bias.map(|b| Parameter::new(b, &[outw])))
}

/// dW += gᵀ·x and db += Σ g, for the parameters that require grad.
fn parameter_grads(
    g: &[f32],
    x: &[f32],
    weight: &mut Parameter,
    bias: Option<&mut Parameter>,
    inw: usize,
    outw: usize,
) {
    if weight.requires_grad {
        weight_grad(g, x, &mut weight.grad, inw, outw);
    }
    if let Some(bias) = bias.filter(|b| b.requires_grad) {
        bias_grad(g, &mut bias.grad, outw);
    }
}

/// `out = x · wᵀ + bias` for rows of `inw` values in `x` and of `outw` in `out`.
///
/// The widths come as a typed layer's constants: the small-batch kernel is then compiled
/// for them (35 % fewer instructions per I1 call, 804 → 520, the same operations in the same
/// order), while the kernels past it take them as values and stay compiled once.
///
/// With `transposed` (a buffer the layer keeps, so that a training step allocates nothing
/// after its first), a product `chains` takes runs there; without, in faer (the same bits).
fn affine(
    x: &[f32],
    out: &mut [f32],
    w: &[f32],
    bias: Option<&[f32]>,
    widths: impl LayerWidths,
    transposed: Option<&mut Vec<f32>>,
) {
    let (inw, outw) = (widths.inw(), widths.outw());
    let rows = x.len() / inw;
    if small(rows) {
        small_batch::affine(x, out, w, bias, widths);
        return;
    }
    if let Some(kernels) = one_output(rows, inw, outw) {
        assert!(bias.is_none_or(|b| b.len() == 1), "a bias per output");
        kernels.affine(x, out, w, bias.map(|b| b[0]), inw);
        return;
    }
    if let Some(transposed) = transposed
        && let Some(chains) = chains::for_shape(rows, outw, inw)
    {
        chains.affine(x, out, w, bias, (inw, outw), transposed);
        return;
    }
    let accum = match bias {
        Some(bias) => {
            broadcast_rows(out, bias);
            Accum::Add
        }
        None => Accum::Replace,
    };
    let w = MatRef::from_row_major_slice(w, outw, inw);
    let x = MatRef::from_row_major_slice(x, rows, inw);
    let out = MatMut::from_row_major_slice_mut(out, rows, outw);
    matmul(out, accum, x, w.transpose());
}

/// Every row of `out` set to `row`, in as many copies as doublings: a `memcpy` call per row
/// took 7 % of T4's step (100 rows of 10 values and of 1).
fn broadcast_rows(out: &mut [f32], row: &[f32]) {
    if let [value] = row {
        // One value a row (a regression's last layer): one vectorised fill, not seven calls.
        out.fill(*value);
        return;
    }
    let Some(first) = out.get_mut(..row.len()) else {
        return;
    };
    first.copy_from_slice(row);
    let mut done = row.len();
    while done < out.len() {
        let n = done.min(out.len() - done);
        out.copy_within(..n, done);
        done += n;
    }
}

/// `dw += gᵀ · x`.
fn weight_grad(g: &[f32], x: &[f32], dw: &mut [f32], inw: usize, outw: usize) {
    let rows = g.len() / outw;
    if small(rows) {
        vectorize(|| {
            for (gr, xr) in g.chunks_exact(outw).zip(x.chunks_exact(inw)) {
                for (&go, dwr) in gr.iter().zip(dw.chunks_exact_mut(inw)) {
                    axpy(dwr, go, xr);
                }
            }
        });
    } else if let Some(kernels) = one_output(rows, inw, outw) {
        kernels.weight_grad(g, x, dw, inw);
    } else if let Some(chains) = chains::for_shape(outw, inw, rows) {
        // gᵀ: value (o, r) at g[r · outw + o].
        let lhs = chains::Lhs {
            data: g,
            row_stride: 1,
            col_stride: outw,
        };
        chains.product(dw, (outw, inw, rows), chains::Finish::Add, lhs, x);
    } else {
        let dw = MatMut::from_row_major_slice_mut(dw, outw, inw);
        let g = MatRef::from_row_major_slice(g, rows, outw);
        let x = MatRef::from_row_major_slice(x, rows, inw);
        matmul(dw, Accum::Add, g.transpose(), x);
    }
}

/// `db += Σ g` over the rows, row after row for every output.
fn bias_grad(g: &[f32], db: &mut [f32], outw: usize) {
    debug_assert_eq!(g.len() % outw, 0, "whole rows of the gradient");
    if outw < LANES {
        // Rows narrower than a vector: one `axpy` per row never vectorises and pays its loop
        // set-up every row (10 % of T4's step for its one-wide last layer). The same
        // additions in the same order, a column at a time.
        for (o, d) in db.iter_mut().enumerate() {
            *d = g.iter().skip(o).step_by(outw).fold(*d, |sum, v| sum + v);
        }
        return;
    }
    /// `bias_grad_in_registers::<N>` as pulp's operation, so that it is certain to be
    /// compiled for the CPU (as closures, three of the four ran as SSE code).
    struct InRegisters<'a, const N: usize>(&'a [f32], &'a mut [f32]);
    impl<const N: usize> pulp::WithSimd for InRegisters<'_, N> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            bias_grad_in_registers::<N>(self.0, self.1);
        }
    }
    match outw.div_ceil(LANES) {
        1 => vectorize_op(InRegisters::<1>(g, db)),
        2 => vectorize_op(InRegisters::<2>(g, db)),
        3 => vectorize_op(InRegisters::<3>(g, db)),
        4 => vectorize_op(InRegisters::<4>(g, db)),
        _ => vectorize(|| {
            for gr in g.chunks_exact(outw) {
                axpy(db, 1.0, gr);
            }
        }),
    }
}

/// The lanes of the vectors `bias_grad_in_registers` keeps its sums in.
const LANES: usize = 8;

/// `bias_grad` for rows of `8·(N-1)` to `8·N` values: the running sums stay in `N` vectors
/// for all the rows, where one `axpy` per row read and wrote them through memory, each row
/// waiting on the last (T4's 10-wide layer: 100 rows of one vector and two scalar adds).
/// The last vector starts at `outw - 8` and overlaps the one before it when `outw` is not a
/// multiple of 8: its shared columns get the same additions in the same order from the same
/// starting values, so both store the same bits.
#[inline(always)]
fn bias_grad_in_registers<const N: usize>(g: &[f32], db: &mut [f32]) {
    let outw = db.len();
    let start = |v: usize| (v * LANES).min(outw - LANES);
    let mut sums = [[0.0f32; LANES]; N];
    for (v, sum) in sums.iter_mut().enumerate() {
        sum.copy_from_slice(&db[start(v)..][..LANES]);
    }
    for gr in g.chunks_exact(outw) {
        for (v, sum) in sums.iter_mut().enumerate() {
            let values = &gr[start(v)..][..LANES];
            for (s, x) in sum.iter_mut().zip(values) {
                *s += x;
            }
        }
    }
    for (v, sum) in sums.iter().enumerate() {
        db[start(v)..][..LANES].copy_from_slice(sum);
    }
}

/// `dx = g · w` (`[n, outw] · [outw, inw]`).
fn input_grad(g: &[f32], dx: &mut [f32], w: &[f32], inw: usize, outw: usize) {
    let rows = g.len() / outw;
    if small(rows) {
        vectorize(|| {
            for (gr, dxr) in g.chunks_exact(outw).zip(dx.chunks_exact_mut(inw)) {
                dxr.fill(0.0);
                for (&go, wr) in gr.iter().zip(w.chunks_exact(inw)) {
                    axpy(dxr, go, wr);
                }
            }
        });
    } else if let Some(kernels) = one_output(rows, inw, outw) {
        kernels.input_grad(g, dx, w, inw);
    } else if let Some(chains) = chains::for_shape(rows, inw, outw) {
        let lhs = chains::Lhs {
            data: g,
            row_stride: outw,
            col_stride: 1,
        };
        chains.product(dx, (rows, inw, outw), chains::Finish::Replace, lhs, w);
    } else {
        let w = MatRef::from_row_major_slice(w, outw, inw);
        let g = MatRef::from_row_major_slice(g, rows, outw);
        let dx = MatMut::from_row_major_slice_mut(dx, rows, inw);
        matmul(dx, Accum::Replace, g, w);
    }
}

impl<const IN: usize, const OUT: usize> Shaped for Linear<IN, OUT> {
    const IN: usize = IN;
    const OUT: usize = OUT;
}

impl<const IN: usize, const OUT: usize> Module for Linear<IN, OUT> {
    fn visit(&self, v: &mut dyn Visitor) {
        v.parameter("weight", &self.weight);
        if let Some(bias) = &self.bias {
            v.parameter("bias", bias);
        }
    }
    fn visit_mut(&mut self, v: &mut dyn VisitorMut) {
        v.parameter("weight", &mut self.weight);
        if let Some(bias) = &mut self.bias {
            v.parameter("bias", bias);
        }
    }
    fn set_training(&mut self, _: bool) {}
    fn describe(&self) -> Node<'_> {
        Node::Linear {
            in_features: IN,
            out_features: OUT,
            weight: &self.weight.value,
            bias: self.bias.as_ref().map(|b| &b.value[..]),
        }
    }
}

impl<const IN: usize, const OUT: usize> Forward<IN, OUT> for Linear<IN, OUT> {
    fn forward(&self, x: &BatchSlice<IN>) -> Batch<OUT> {
        let mut out = Batch::zeros(x.rows());
        self.affine(x.as_slice(), out.as_mut_slice(), None);
        out
    }

    /// At small batches the output is written into the input's own allocation (its rows
    /// made one at a time on the stack, up to [`IN_PLACE_WIDTH`] values): a chain of Linear
    /// and elementwise layers allocates only the first layer's output, unless a later layer
    /// is wider than every earlier one (then the buffer grows once).
    fn forward_owned(&self, x: Batch<IN>) -> Batch<OUT> {
        if !small(x.rows()) || OUT > IN_PLACE_WIDTH {
            return self.forward(&x);
        }
        x.map_rows_in_place(|x, out| self.affine(x, out, None))
    }

    fn last_output(&self) -> &BatchSlice<OUT> {
        &self.output
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<IN>) -> &BatchSlice<OUT> {
        let mut output = std::mem::take(&mut self.output);
        let mut transposed = std::mem::take(&mut self.transposed_weight);
        output.resize_rows(x.rows());
        self.affine(x.as_slice(), output.as_mut_slice(), Some(&mut transposed));
        self.output = output;
        self.transposed_weight = transposed;
        &self.output
    }

    fn backward_raw(
        &mut self,
        input: &BatchSlice<IN>,
        grad_output: &BatchSlice<OUT>,
        _: &TraceKey,
    ) -> &BatchSlice<IN> {
        self.parameter_grads(input, grad_output);
        self.grad_input.resize_rows(grad_output.rows());
        let (g, dx) = (grad_output.as_slice(), self.grad_input.as_mut_slice());
        input_grad(g, dx, &self.weight.value, IN, OUT);
        &self.grad_input
    }

    fn backward_params_raw(
        &mut self,
        input: &BatchSlice<IN>,
        grad_output: &BatchSlice<OUT>,
        _: &TraceKey,
    ) {
        self.parameter_grads(input, grad_output);
    }
}

#[cfg(test)]
mod tests {
    use faer::{Accum, MatMut, MatRef, Par};

    use super::small_batch::Widths;
    use super::{
        SMALL_BATCH, affine, bias_grad, broadcast_rows, input_grad, one_output_shape, weight_grad,
    };

    /// faer's product `dst (accum)= lhs · rhs` on row-major slices, as `Linear` called it for
    /// every shape before its own kernels: what their tests compare with.
    pub(super) fn faer_product(
        dst: &mut [f32],
        (m, n): (usize, usize),
        accum: Accum,
        lhs: MatRef<'_, f32>,
        rhs: MatRef<'_, f32>,
    ) {
        let dst = MatMut::from_row_major_slice_mut(dst, m, n);
        faer::linalg::matmul::matmul(dst, accum, lhs, rhs, 1.0f32, Par::Seq);
    }

    /// Test data: zeros of both signs, small values whose products round near zero, and mixed
    /// magnitudes whose products round.
    pub(super) fn value(i: usize) -> f32 {
        let h = (i as u32 ^ 0x9e37_79b9).wrapping_mul(2_654_435_761);
        match h % 13 {
            0 => 0.0,
            1 => -0.0,
            2 => (h % 97) as f32 * 1e-3,
            _ => (h % 20_001) as f32 / 7_777.0 - 1.3,
        }
    }

    /// Through the dispatch of `affine`, `weight_grad` and `input_grad` (whichever kernel
    /// they pick) the bits of faer's product, around the shapes where the one-output kernels
    /// start: rows past the small batch (whose own kernel has its own order), 1, 2 and 9
    /// inputs (faer's other path at one input), 1 and 2 outputs.
    #[test]
    fn the_products_give_faers_bits_around_the_one_output_kernels() {
        for rows in [5, 6, 32, 100] {
            for inw in [1, 2, 9] {
                for outw in [1, 2] {
                    let x: Vec<f32> = (0..rows * inw).map(value).collect();
                    let w: Vec<f32> = (0..outw * inw).map(|i| value(i + 3)).collect();
                    let g: Vec<f32> = (0..rows * outw).map(|i| value(i + 5)).collect();
                    let b: Vec<f32> = (0..outw).map(|i| value(i + 1)).collect();
                    let (xm, wm, gm) = (
                        MatRef::from_row_major_slice(&x, rows, inw),
                        MatRef::from_row_major_slice(&w, outw, inw),
                        MatRef::from_row_major_slice(&g, rows, outw),
                    );
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    let what = format!("{rows} rows, {inw} -> {outw}");
                    for bias in [None, Some(&b[..])] {
                        let mut ours = vec![7.0; rows * outw];
                        let widths = Widths { inw, outw };
                        affine(&x, &mut ours, &w, bias, widths, Some(&mut Vec::new()));
                        let mut theirs = vec![0.0; rows * outw];
                        let accum = match bias {
                            Some(b) => {
                                broadcast_rows(&mut theirs, b);
                                Accum::Add
                            }
                            None => Accum::Replace,
                        };
                        faer_product(&mut theirs, (rows, outw), accum, xm, wm.transpose());
                        assert_eq!(
                            bits(&ours),
                            bits(&theirs),
                            "affine, {what}, bias {}",
                            bias.is_some()
                        );
                    }
                    let start: Vec<f32> = (0..outw * inw).map(|i| value(i + 2)).collect();
                    let (mut ours, mut theirs) = (start.clone(), start);
                    weight_grad(&g, &x, &mut ours, inw, outw);
                    faer_product(&mut theirs, (outw, inw), Accum::Add, gm.transpose(), xm);
                    assert_eq!(bits(&ours), bits(&theirs), "weight gradient, {what}");
                    let mut ours = vec![7.0; rows * inw];
                    input_grad(&g, &mut ours, &w, inw, outw);
                    let mut theirs = vec![7.0; rows * inw];
                    faer_product(&mut theirs, (rows, inw), Accum::Replace, gm, wm);
                    assert_eq!(bits(&ours), bits(&theirs), "input gradient, {what}");
                }
            }
        }
    }

    #[test]
    fn the_one_output_kernels_take_only_faers_sequential_matrix_vector_shapes() {
        assert!(one_output_shape(5, 2, Par::Seq));
        assert!(one_output_shape(100, 10, Par::Seq));
        assert!(
            !one_output_shape(SMALL_BATCH, 10, Par::Seq),
            "the small batch's own kernel"
        );
        assert!(
            !one_output_shape(100, 1, Par::Seq),
            "faer's other path at one input"
        );
        assert!(
            !one_output_shape(1 << 20, 32, Par::rayon(2)),
            "faer's split weight gradient"
        );
    }

    #[test]
    fn bias_grad_adds_rows_in_order_at_every_width() {
        for outw in (1..=41).chain([64, 100]) {
            for rows in [0, 1, 2, 5, 33, 100] {
                // Magnitudes far apart, so that any other order of the additions shows; and
                // zeros of both signs, so that an extra `+ 0.0` anywhere shows.
                let far_apart: Vec<f32> = (0..rows * outw)
                    .map(|i| ((i * 7919 % 23) as f32 - 11.0) * 10f32.powi((i % 9) as i32 - 4))
                    .collect();
                let zeros: Vec<f32> = (0..rows * outw)
                    .map(|i| if i % 5 == 0 { 0.0 } else { -0.0 })
                    .collect();
                for (g, start) in [
                    (
                        far_apart,
                        (0..outw).map(|o| o as f32 * 0.1 - 0.7).collect::<Vec<_>>(),
                    ),
                    (zeros, vec![-0.0; outw]),
                ] {
                    let mut expected = start.clone();
                    for row in g.chunks_exact(outw) {
                        for (e, v) in expected.iter_mut().zip(row) {
                            *e += v;
                        }
                    }
                    let mut db = start.clone();
                    bias_grad(&g, &mut db, outw);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&db), bits(&expected), "width {outw}, {rows} rows");
                }
            }
        }
    }

    #[test]
    fn broadcast_fills_every_row_for_every_row_count_and_width() {
        for width in [1, 2, 3, 10, 17] {
            let row: Vec<f32> = (0..width).map(|i| i as f32 - 0.5).collect();
            for rows in 0..70 {
                let mut out = vec![f32::NAN; rows * width];
                broadcast_rows(&mut out, &row);
                for (r, got) in out.chunks_exact(width).enumerate() {
                    assert_eq!(got, &row[..], "row {r} of {rows}, width {width}");
                }
            }
        }
    }
}
