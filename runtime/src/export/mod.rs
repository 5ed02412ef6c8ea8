//! Export a trained model as one self-contained Rust source file: the weights as `static`
//! arrays of exact f32 bit patterns, `pub fn forward(x: &[f32; IN]) -> [f32; OUT]` and
//! `forward_batch` over slices into a caller's buffer. The file needs only `core` (include it
//! in a `#![no_std]` crate), allocates nothing (activations are fixed-size stack arrays),
//! has no `unsafe` and no input makes it panic. Functions it needs beyond arithmetic (exp,
//! tanh, erf, log, sqrt) are written into it (`math.rs`), never a dependency.
//!
//! ```no_run
//! # use staticnn_runtime as staticnn;
//! # fn run(model: &staticnn::Linear<2, 1>) -> Result<(), staticnn::export::ExportError> {
//! let exported = staticnn::export::rust(model, "model_weights.rs")?;
//! println!("{} bytes on the stack at most", exported.activation_bytes);
//! # Ok(()) }
//! ```
//!
//! To export `fit`'s best checkpoint, load it into the model first (`load_weights` on
//! `<dir>/best/model.safetensors`), then export.
//!
//! Each layer describes itself ([`Module::describe`](crate::Module::describe), a
//! [`Node`]); `emit` turns the descriptions into statements calling `kernels.rs`, which
//! mirrors the runtime's layer code; `writer` writes the arrays. A module that cannot be
//! described is [`ExportError::Unsupported`], never a wrong file.

mod emit;
mod error;
// Compiled here only to be tested; exported files carry their text.
#[cfg(test)]
#[allow(dead_code)]
mod kernels;
#[cfg(test)]
#[allow(dead_code)]
mod math;
mod node;
mod quantize;
mod writer;

use std::fmt::Write;
use std::path::Path;

pub use error::ExportError;
pub use node::{Activation, Child, Node};
pub use quantize::{Weights, fake_quantize_int8};

use crate::module::Forward;

/// The layer code every exported file carries (compiled here too, under test).
const KERNELS: &str = include_str!("kernels.rs");
/// The math only models with exp/tanh/erf/log/sqrt carry.
const MATH: &str = include_str!("math.rs");

/// An exported model: its source and what it costs.
#[derive(Clone, Debug)]
pub struct Exported {
    /// The Rust source.
    pub source: String,
    /// Bytes of all activation arrays `forward` declares, its stack use if the compiler
    /// reuses none of them (it usually reuses, and keeps small ones in registers).
    pub activation_bytes: usize,
    /// Input plus output bytes of the widest layer: what any forward pass holds at once.
    pub widest_layer_bytes: usize,
    /// The largest scratch one kernel holds besides its input and output (Linear keeps
    /// eight partial sums per output); `forward`'s stack is at most `activation_bytes +
    /// scratch_bytes` plus the compiler's own spills.
    pub scratch_bytes: usize,
    /// Bytes of weights in statics.
    pub weight_bytes: usize,
    /// The layers whose last bits can differ from the runtime's `forward`, and why; every
    /// other layer computes the runtime's operations in the runtime's order.
    pub inexact: Vec<String>,
}

/// The source of `model` as a Rust file (what [`rust`] writes).
pub fn to_source<M, const IN: usize, const OUT: usize>(model: &M) -> Result<Exported, ExportError>
where
    M: Forward<IN, OUT> + ?Sized,
{
    to_source_with(model, Weights::F32)
}

/// The source of `model` with its Linear weights stored as `weights` says (what
/// [`rust_with`] writes).
pub fn to_source_with<M, const IN: usize, const OUT: usize>(
    model: &M,
    weights: Weights,
) -> Result<Exported, ExportError>
where
    M: Forward<IN, OUT> + ?Sized,
{
    let mut emitter = emit::Emitter::default();
    emitter.weights = weights;
    // `forward` copies its input into the first activation array.
    emitter.activation_bytes = 4 * IN;
    let node = model.describe();
    let output = emitter.emit("", &node, "x0", IN, OUT)?;
    let model_name = match &node {
        Node::Sequence { type_name, .. } => type_name,
        _ => model.type_name(),
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        "// `{model_name}` exported by staticnn::export; regenerate, do not edit.\n\
         //\n\
         // Needs only `core`: `mod model {{ include!(\"this_file.rs\"); }}` in a `#![no_std]` crate.\n\
         // No allocation, no `unsafe`, no input panics; NaN propagates as in the runtime.\n\
         // Stack: {} bytes of activation arrays at most ({} for the widest layer) and {} of kernel\n\
         // scratch; weights: {} bytes.",
        emitter.activation_bytes,
        emitter.widest_layer_bytes,
        emitter.scratch_bytes,
        emitter.weight_bytes
    );
    if emitter.inexact.is_empty() {
        s.push_str(
            "// Every layer computes the runtime's operations in its order: `forward` gives the\n\
             // bits of the runtime's `forward` at batches of up to 4 (where Linear runs plain loops).\n",
        );
    } else {
        s.push_str(
            "// The runtime's operations in its order, bit for bit at batches of up to 4, except:\n",
        );
        for note in &emitter.inexact {
            let _ = writeln!(s, "//   {note}");
        }
    }
    let _ = write!(
        s,
        r#"
/// Values per input row.
pub const IN: usize = {IN};
/// Values per output row.
pub const OUT: usize = {OUT};

/// One row through the model (eval mode: Dropout is the identity, BatchNorm uses its
/// running statistics).
pub fn forward(x: &[f32; IN]) -> [f32; OUT] {{
    let x0: [f32; IN] = *x;
{body}    {output}
}}

/// Why [`forward_batch`] refused its buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchError {{
    /// The input is not a whole number of rows of `IN` values.
    Input {{ len: usize }},
    /// The output holds fewer than `rows · OUT` values.
    Output {{ rows: usize, len: usize }},
}}

/// Every row of `x` (`rows · IN` values) through [`forward`], written into the first
/// `rows · OUT` values of `out`; returns `rows`.
pub fn forward_batch(x: &[f32], out: &mut [f32]) -> Result<usize, BatchError> {{
    if !x.len().is_multiple_of(IN) {{
        return Err(BatchError::Input {{ len: x.len() }});
    }}
    let rows = x.len() / IN;
    if rows.checked_mul(OUT).is_none_or(|needed| out.len() < needed) {{
        return Err(BatchError::Output {{ rows, len: out.len() }});
    }}
    for (row, y) in x.chunks_exact(IN).zip(out.chunks_exact_mut(OUT)) {{
        if let Ok(row) = <&[f32; IN]>::try_from(row) {{
            for (y, v) in y.iter_mut().zip(forward(row)) {{
                *y = v;
            }}
        }}
    }}
    Ok(rows)
}}

/// A trained value, by its exact bits.
const fn f(bits: u32) -> f32 {{
    f32::from_bits(bits)
}}

"#,
        body = emitter.body,
    );
    s.push_str(&emitter.items);
    s.push_str(
        "\n/// The layer code, as the runtime computes it.\n#[allow(dead_code)]\nmod kernels {\n",
    );
    s.push_str(KERNELS);
    if emitter.math {
        s.push('\n');
        s.push_str(MATH);
    }
    s.push_str("}\n");
    Ok(Exported {
        source: s,
        activation_bytes: emitter.activation_bytes,
        widest_layer_bytes: emitter.widest_layer_bytes,
        scratch_bytes: emitter.scratch_bytes,
        weight_bytes: emitter.weight_bytes,
        inexact: emitter.inexact,
    })
}

/// Writes `model` as a Rust source file at `path` (see the module documentation).
pub fn rust<M, const IN: usize, const OUT: usize>(
    model: &M,
    path: impl AsRef<Path>,
) -> Result<Exported, ExportError>
where
    M: Forward<IN, OUT> + ?Sized,
{
    rust_with(model, path, Weights::F32)
}

/// [`rust`] with the Linear weights stored as `weights` says: [`Weights::Int8`] writes a
/// quarter of the weight bytes, each weight within half its row's scale.
/// [`fake_quantize_int8`] gives the runtime model those same weights, to measure the
/// accuracy the file will have.
pub fn rust_with<M, const IN: usize, const OUT: usize>(
    model: &M,
    path: impl AsRef<Path>,
    weights: Weights,
) -> Result<Exported, ExportError>
where
    M: Forward<IN, OUT> + ?Sized,
{
    let exported = to_source_with(model, weights)?;
    let path = path.as_ref();
    std::fs::write(path, &exported.source).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(exported)
}

#[cfg(test)]
mod tests {
    use super::{kernels, math};
    use crate::module::{Forward, Module};
    use crate::tensor::Batch;

    /// Values across every branch of the functions: tiny, around the branch points, large,
    /// and the non-finite ones.
    fn samples() -> Vec<f64> {
        let mut v: Vec<f64> = (-4000..=4000).map(|i| f64::from(i) * 0.01).collect();
        v.extend((-60..=60).map(|e| 2f64.powi(e)));
        v.extend((-60..=60).map(|e| -(2f64.powi(e))));
        v.extend([
            0.0,
            -0.0,
            1e-300,
            5e-324,
            700.0,
            709.0,
            710.0,
            -745.0,
            -746.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]);
        v
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    fn ulps(a: f64, b: f64) -> u64 {
        if same(a, b) || a == b {
            return 0;
        }
        (a.to_bits() as i64).abs_diff(b.to_bits() as i64)
    }

    #[test]
    fn erf_is_the_runtimes_bit_for_bit() {
        for x in samples() {
            assert!(same(math::erf(x), libm::erf(x)), "erf({x})");
        }
    }

    #[test]
    fn sqrt_is_correctly_rounded() {
        let mut xs = samples();
        xs.extend((1..5000).map(|i| f64::from(i) * 1.234_567e-5));
        xs.extend([f64::MAX, f64::MIN_POSITIVE, 2.5e-310]);
        for x in xs {
            assert!(same(math::sqrt(x), x.sqrt()), "sqrt({x})");
        }
    }

    #[test]
    fn exp_log_tanh_within_one_ulp_of_the_platforms() {
        for x in samples() {
            assert!(ulps(math::exp(x), x.exp()) <= 1, "exp({x})");
            assert!(ulps(math::expm1(x), x.exp_m1()) <= 1, "expm1({x})");
            assert!(ulps(math::tanh(x), x.tanh()) <= 2, "tanh({x})");
            if x > 0.0 {
                assert!(ulps(math::log(x), x.ln()) <= 1, "log({x})");
            }
        }
    }

    #[test]
    fn f32_functions_match_the_runtimes() {
        use crate::layers::{ElementwiseFn, GELUFn, SiLUFn, SigmoidFn, TanhFn};
        let gelu = GELUFn::default();
        let gelu_tanh = GELUFn {
            approximate: crate::layers::Approximate::Tanh,
        };
        let mut worst = 0u64;
        for x in samples() {
            let x = x as f32;
            assert!(
                math::gelu_erf(x).to_bits() == gelu.value(x).to_bits() || x.is_nan(),
                "gelu({x})"
            );
            for (ours, theirs) in [
                (math::sigmoid(x), SigmoidFn.value(x)),
                (math::silu(x), SiLUFn.value(x)),
                (math::tanhf(x), TanhFn.value(x)),
                (math::gelu_tanh(x), gelu_tanh.value(x)),
                (math::expf(x), x.exp()),
            ] {
                if !(ours.is_nan() && theirs.is_nan()) {
                    worst = worst.max(ours.to_bits().abs_diff(theirs.to_bits()).into());
                }
            }
        }
        // One ulp of exp can become two through `x · σ(x)`: 2.4e-7 relative at most.
        assert!(worst <= 2, "{worst} ulps");
    }

    #[test]
    fn linear_kernel_is_the_runtimes_bit_for_bit() {
        let mut rng = crate::seed::seeded_rng(3);
        let layer = crate::layers::Linear::<19, 5>::new(&mut rng);
        let w = &layer.weight.value;
        let wt: [[f32; 5]; 19] = std::array::from_fn(|i| std::array::from_fn(|o| w[o * 19 + i]));
        let b: [f32; 5] = layer.bias.as_ref().unwrap().value[..].try_into().unwrap();
        let x: [f32; 19] = std::array::from_fn(|i| (i as f32 * 0.37).sin());
        let ours = kernels::linear(&x, &wt, Some(&b));
        let theirs = layer.forward(&Batch::<19>::from_vec(x.to_vec()).unwrap());
        assert_eq!(
            ours.map(f32::to_bits),
            theirs
                .as_slice()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()[..]
        );
    }

    /// Each int8 output is within `scale/2 · Σ|x|` of the f32 layer's (the weights' rounding),
    /// and within f32 rounding of the runtime layer given the dequantized weights (what
    /// `fake_quantize_int8` sets), for which the scale is applied to the sum, not per weight.
    #[test]
    fn linear_int8_kernel_stays_within_its_rounding_bound() {
        let mut rng = crate::seed::seeded_rng(11);
        let mut layer = crate::layers::Linear::<19, 5>::new(&mut rng);
        let int8 = super::quantize::Int8::per_row(&layer.weight.value, 19).unwrap();
        let qt: [[i8; 5]; 19] =
            std::array::from_fn(|i| std::array::from_fn(|o| int8.q[o * 19 + i]));
        let scale: [f32; 5] = int8.scale[..].try_into().unwrap();
        let b: [f32; 5] = layer.bias.as_ref().unwrap().value[..].try_into().unwrap();
        let f32_layer = layer.clone();
        layer.weight.value = int8.dequantized();
        for k in 0..1000 {
            let x: [f32; 19] =
                std::array::from_fn(|i| ((i * 31 + k * 7) as f32 * 0.37).sin() * 2.0);
            let batch = Batch::<19>::from_vec(x.to_vec()).unwrap();
            let ours = kernels::linear_int8(&x, &qt, &scale, Some(&b));
            let exact = f32_layer.forward(&batch);
            let dequantized = layer.forward(&batch);
            let abs_x: f32 = x.iter().map(|v| v.abs()).sum();
            for o in 0..5 {
                let magnitude: f32 = b[o].abs()
                    + (0..19)
                        .map(|i| (layer.weight.value[o * 19 + i] * x[i]).abs())
                        .sum::<f32>();
                let rounding = 1e-6 * magnitude;
                let bound = scale[o] / 2.0 * abs_x + rounding;
                let d = (ours[o] - exact.as_slice()[o]).abs();
                assert!(d <= bound, "output {o}: {d} > {bound}");
                let d = (ours[o] - dequantized.as_slice()[o]).abs();
                assert!(d <= rounding, "output {o}: {d} from the dequantized layer");
            }
        }
    }

    #[test]
    fn conv_kernel_sums_as_faer_does() {
        use crate::layers::{Conv2d, Conv2dGeometry};
        let g = Conv2dGeometry {
            kernel: (3, 2),
            ..Conv2dGeometry::new(2, 7, 6, 3, 3)
        }
        .stride(2, 1)
        .padding(1, 1)
        .dilation(1, 2);
        let (ho, wo) = (g.out_height(), g.out_width());
        assert_eq!((ho, wo), (4, 6));
        let layer = Conv2d::<84, 72>::new(g, true, &mut crate::seed::seeded_rng(5)).unwrap();
        let (rows, cols) = g.windows();
        let window = |w: staticnn_geometry::Window| kernels::Window {
            kernel: w.kernel,
            stride: w.stride,
            padding: w.padding,
            dilation: w.dilation,
        };
        let conv = kernels::Conv {
            in_channels: 2,
            height: 7,
            width: 6,
            out_channels: 3,
            out_height: ho,
            out_width: wo,
            rows: window(rows),
            cols: window(cols),
        };
        let w: Vec<[f32; 12]> = layer
            .weight
            .value
            .chunks_exact(12)
            .map(|r| r.try_into().unwrap())
            .collect();
        let bias = &layer.bias.as_ref().unwrap().value;
        let x: [f32; 84] = std::array::from_fn(|i| (i as f32 * 0.61).sin() * 3.0);
        let ours: [f32; 72] = kernels::conv2d::<84, 72, 12>(&x, &conv, &w, Some(bias));
        let theirs = layer.forward(&Batch::<84>::from_vec(x.to_vec()).unwrap());
        let mut worst = 0.0f32;
        let mut exact = true;
        for (&a, &b) in ours.iter().zip(theirs.as_slice()) {
            exact &= a.to_bits() == b.to_bits();
            worst = worst.max((a - b).abs() / b.abs().max(1e-30));
        }
        println!("conv: exact {exact}, worst relative {worst:e}");
        assert!(worst <= 1e-6, "{worst}");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("fma") {
            assert!(exact, "faer sums with FMA here: the same bits");
        }
    }

    #[test]
    fn an_unknown_layer_is_an_error_naming_it() {
        #[derive(Clone, Copy, Debug)]
        struct Cube;
        impl crate::layers::ElementwiseFn for Cube {
            fn value(&self, x: f32) -> f32 {
                x * x * x
            }
            fn derivative(&self, x: f32, _: f32) -> f32 {
                3.0 * x * x
            }
        }
        let layer = crate::layers::Elementwise::with(Cube);
        let err = super::to_source::<_, 3, 3>(&layer).unwrap_err();
        assert!(
            matches!(err, super::ExportError::Unsupported { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("Elementwise"), "{err}");
        assert_eq!(layer.num_params(), 0);
    }

    #[test]
    fn a_layer_exports_alone() {
        let layer = crate::layers::Linear::<2, 3>::new(&mut crate::seed::seeded_rng(0));
        let e = super::to_source(&layer).unwrap();
        assert!(
            e.source
                .contains("pub fn forward(x: &[f32; IN]) -> [f32; OUT]")
        );
        assert!(e.source.contains("static WEIGHT_T: [[f32; 3]; 2]"));
        assert_eq!(e.weight_bytes, 4 * 9);
        assert!(e.inexact.is_empty());
        assert!(!e.source.contains("fn erf"), "no math for a Linear");
    }
}
