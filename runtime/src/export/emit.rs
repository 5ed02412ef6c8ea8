//! The per-layer code of `forward`: one statement per layer, each a call into the file's
//! `kernels` with the layer's widths as array types, so every activation is a fixed-size
//! stack array the compiler sizes. Identity layers (Dropout, Flatten) write nothing.

use std::collections::HashSet;
use std::fmt::Write;

use super::error::ExportError;
use super::node::{Activation, Node};
use super::quantize::{Int8, Weights};
use super::writer;
use crate::layers::Approximate;

/// What the emitted body needs and costs.
#[derive(Default)]
pub(crate) struct Emitter {
    /// `static` weight arrays and `const` geometries.
    pub items: String,
    /// The statements of `forward`.
    pub body: String,
    /// Whether a layer calls into `math` (exp, tanh, erf, log, sqrt).
    pub math: bool,
    /// Bytes of every activation array `forward` declares.
    pub activation_bytes: usize,
    /// The largest input + output of one layer, in bytes: what any forward pass must hold.
    pub widest_layer_bytes: usize,
    /// The largest scratch a kernel holds besides its input and output (Linear's eight
    /// partial sums per output).
    pub scratch_bytes: usize,
    /// Bytes of the weight statics.
    pub weight_bytes: usize,
    /// Layers whose results can differ from the runtime's in the last bits, and why.
    pub inexact: Vec<String>,
    /// How Linear weights are stored.
    pub weights: Weights,
    names: HashSet<String>,
    next: usize,
}

fn f32_literal(v: f32) -> String {
    let mut s = String::new();
    writer::value(&mut s, v);
    s
}

impl Emitter {
    fn unique(&mut self, base: String) -> String {
        let mut name = base.clone();
        let mut i = 1;
        while !self.names.insert(name.clone()) {
            name = format!("{base}_{i}");
            i += 1;
        }
        name
    }

    fn var(&mut self, width: usize) -> String {
        self.next += 1;
        self.activation_bytes += 4 * width;
        format!("x{}", self.next)
    }

    fn vector(&mut self, path: &str, what: &str, values: &[f32]) -> String {
        let name = self.unique(writer::constant_name(&join(path, what)));
        writer::vector(&mut self.items, &name, values);
        self.weight_bytes += 4 * values.len();
        name
    }

    fn matrix<T: writer::Literal>(
        &mut self,
        path: &str,
        what: &str,
        values: &[T],
        cols: usize,
    ) -> String {
        let name = self.unique(writer::constant_name(&join(path, what)));
        writer::matrix(&mut self.items, &name, values, cols);
        self.weight_bytes += std::mem::size_of_val(values);
        name
    }

    /// `Some(&BIAS)` with the bias written as a static, or `None`.
    fn bias(&mut self, path: &str, bias: Option<&[f32]>) -> String {
        match bias {
            Some(b) => format!("Some(&{})", self.vector(path, "bias", b)),
            None => "None".to_string(),
        }
    }

    fn statement(&mut self, var: &str, width: usize, call: String) {
        let _ = writeln!(self.body, "    let {var}: [f32; {width}] = {call};");
    }

    /// Writes `node` applied to the array `input` (`in_w` values, giving `out_w`); returns
    /// the variable holding the result.
    pub fn emit(
        &mut self,
        path: &str,
        node: &Node<'_>,
        input: &str,
        in_w: usize,
        out_w: usize,
    ) -> Result<String, ExportError> {
        let fail = |kind: &'static str, problem: String| ExportError::Inconsistent {
            path: display(path),
            kind,
            problem,
        };
        let same_width = |kind| {
            if in_w == out_w {
                Ok(())
            } else {
                Err(fail(
                    kind,
                    format!("runs at {in_w} → {out_w} values but keeps the width"),
                ))
            }
        };
        let check_len = |kind, what: &str, len: usize, expected: usize| {
            if len == expected {
                Ok(())
            } else {
                Err(fail(
                    kind,
                    format!("has {len} values of {what}, expected {expected}"),
                ))
            }
        };
        if !matches!(
            node,
            Node::Sequence { .. } | Node::Residual(_) | Node::Identity
        ) {
            self.widest_layer_bytes = self.widest_layer_bytes.max(4 * (in_w + out_w));
        }
        match node {
            Node::Linear {
                in_features,
                out_features,
                weight,
                bias,
            } => {
                let kind = "Linear";
                if (*in_features, *out_features) != (in_w, out_w) {
                    return Err(fail(
                        kind,
                        format!("is {in_features} → {out_features} but runs at {in_w} → {out_w}"),
                    ));
                }
                check_len(kind, "weight", weight.len(), in_w * out_w)?;
                if let Some(b) = bias {
                    check_len(kind, "bias", b.len(), out_w)?;
                }
                // Stored transposed, `[in][out]`: the kernel runs over outputs innermost.
                let call = match self.weights {
                    Weights::F32 => {
                        let wt = transposed(weight, in_w, out_w);
                        let w = self.matrix(path, "weight_t", &wt, out_w);
                        let b = self.bias(path, *bias);
                        format!("kernels::linear(&{input}, &{w}, {b})")
                    }
                    Weights::Int8 => {
                        let int8 = Int8::of_layer(weight, in_w, path)?;
                        let qt = transposed(&int8.q, in_w, out_w);
                        let name = self.matrix(path, "weight_t_int8", &qt, out_w);
                        let scale = self.vector(path, "weight_scale", &int8.scale);
                        let b = self.bias(path, *bias);
                        self.inexact.push(format!(
                            "{}: int8 weights, each within half its row's scale (`linear_int8`)",
                            display(path)
                        ));
                        // Each row of int8 weights is widened to f32 on the stack.
                        self.scratch_bytes = self.scratch_bytes.max(4 * 9 * out_w);
                        format!("kernels::linear_int8(&{input}, &{name}, &{scale}, {b})")
                    }
                };
                self.scratch_bytes = self.scratch_bytes.max(4 * 8 * out_w);
                let var = self.var(out_w);
                self.statement(&var, out_w, call);
                Ok(var)
            }
            Node::Activation(a) => {
                same_width("activation")?;
                let function = match a {
                    Activation::ReLU => "kernels::relu".to_string(),
                    Activation::LeakyReLU { negative_slope } => format!(
                        "|v| kernels::leaky_relu(v, {})",
                        f32_literal(*negative_slope)
                    ),
                    Activation::Hardswish => "kernels::hardswish".to_string(),
                    Activation::Sigmoid => self.inexact("Sigmoid", "exp", "kernels::sigmoid"),
                    Activation::SiLU => self.inexact("SiLU", "exp", "kernels::silu"),
                    Activation::Tanh => self.inexact("Tanh", "tanh", "kernels::tanhf"),
                    Activation::GELU(Approximate::Tanh) => {
                        self.inexact("GELU(tanh)", "tanh", "kernels::gelu_tanh")
                    }
                    Activation::GELU(Approximate::None) => {
                        // The runtime's erf is the libm crate's, which `math` ports exactly.
                        self.math = true;
                        "kernels::gelu_erf".to_string()
                    }
                };
                let var = self.var(out_w);
                self.statement(&var, out_w, format!("kernels::map({input}, {function})"));
                Ok(var)
            }
            Node::Softmax | Node::LogSoftmax => {
                same_width("softmax")?;
                let (name, f) = if matches!(node, Node::Softmax) {
                    ("Softmax", "softmax")
                } else {
                    ("LogSoftmax", "log_softmax")
                };
                let f = self.inexact(name, "exp", &format!("kernels::{f}"));
                let var = self.var(out_w);
                self.statement(&var, out_w, format!("{f}({input})"));
                Ok(var)
            }
            Node::BatchNorm {
                channels,
                eps,
                weight,
                bias,
                running_mean,
                running_var,
            } => {
                let kind = "BatchNorm";
                same_width(kind)?;
                let c = *channels;
                if c == 0 || !in_w.is_multiple_of(c) {
                    return Err(fail(kind, format!("has {c} channels for {in_w} values")));
                }
                for (what, v) in [
                    ("weight", weight),
                    ("bias", bias),
                    ("running_mean", running_mean),
                    ("running_var", running_var),
                ] {
                    check_len(kind, what, v.len(), c)?;
                }
                // The eval form folded into one scale and shift per channel, computed as the
                // runtime's `eval_into` computes them, so the values are its bits.
                let mut scale = Vec::with_capacity(c);
                let mut shift = Vec::with_capacity(c);
                for i in 0..c {
                    let invstd = 1.0 / (running_var[i] + eps).sqrt();
                    let s = weight[i] * invstd;
                    scale.push(s);
                    shift.push(bias[i] - running_mean[i] * s);
                }
                let scale = self.vector(path, "scale", &scale);
                let shift = self.vector(path, "shift", &shift);
                let var = self.var(out_w);
                let l = in_w / c;
                self.statement(
                    &var,
                    out_w,
                    format!("kernels::channel_affine::<{in_w}, {l}>({input}, &{scale}, &{shift})"),
                );
                Ok(var)
            }
            Node::LayerNorm {
                normalized,
                eps,
                weight,
                bias,
            } => {
                let kind = "LayerNorm";
                same_width(kind)?;
                let d = *normalized;
                if d == 0 || !in_w.is_multiple_of(d) {
                    return Err(fail(kind, format!("normalises {d} values of {in_w}")));
                }
                check_len(kind, "weight", weight.len(), d)?;
                check_len(kind, "bias", bias.len(), d)?;
                self.math = true;
                let w = self.vector(path, "weight", weight);
                let b = self.vector(path, "bias", bias);
                let var = self.var(out_w);
                self.statement(
                    &var,
                    out_w,
                    format!(
                        "kernels::layer_norm::<{in_w}, {d}>({input}, {}, &{w}, &{b})",
                        f32_literal(*eps)
                    ),
                );
                Ok(var)
            }
            Node::Identity => {
                same_width("identity")?;
                Ok(input.to_string())
            }
            Node::Conv2d {
                geometry: g,
                weight,
                bias,
            } => {
                let kind = "Conv2d";
                g.check(in_w, out_w)
                    .map_err(|e| fail(kind, e.to_string()))?;
                let k = g.patch_len();
                check_len(kind, "weight", weight.len(), g.out_channels * k)?;
                let (rows, cols) = g.windows();
                let conv = self.unique(writer::constant_name(&join(path, "conv")));
                let _ = writeln!(
                    self.items,
                    "const {conv}: kernels::Conv = kernels::Conv {{ in_channels: {}, height: {}, width: {}, out_channels: {}, out_height: {}, out_width: {}, rows: {}, cols: {} }};",
                    g.in_channels,
                    g.height,
                    g.width,
                    g.out_channels,
                    g.out_height(),
                    g.out_width(),
                    window(rows),
                    window(cols),
                );
                let w = self.matrix(path, "weight", weight, k);
                let b = match bias {
                    Some(b) => {
                        check_len(kind, "bias", b.len(), g.out_channels)?;
                        format!("Some(&{})", self.vector(path, "bias", b))
                    }
                    None => "None".to_string(),
                };
                self.inexact.push(format!(
                    "`{}` (Conv2d): faer's order with fused multiply-adds, its bits where faer uses FMA",
                    display(path)
                ));
                let var = self.var(out_w);
                self.statement(
                    &var,
                    out_w,
                    format!(
                        "kernels::conv2d::<{in_w}, {out_w}, {k}>(&{input}, &{conv}, &{w}, {b})"
                    ),
                );
                Ok(var)
            }
            Node::MaxPool2d(g) | Node::AvgPool2d(g) => {
                let (kind, f) = if matches!(node, Node::MaxPool2d(_)) {
                    ("MaxPool2d", "max_pool")
                } else {
                    ("AvgPool2d", "avg_pool")
                };
                g.check(in_w, out_w)
                    .map_err(|e| fail(kind, e.to_string()))?;
                let (rows, cols) = g.windows();
                let pool = self.unique(writer::constant_name(&join(path, "pool")));
                let _ = writeln!(
                    self.items,
                    "const {pool}: kernels::Pool = kernels::Pool {{ channels: {}, height: {}, width: {}, out_height: {}, out_width: {}, rows: {}, cols: {}, count_include_pad: {} }};",
                    g.channels,
                    g.height,
                    g.width,
                    g.out_height(),
                    g.out_width(),
                    window(rows),
                    window(cols),
                    g.count_include_pad,
                );
                let var = self.var(out_w);
                self.statement(
                    &var,
                    out_w,
                    format!("kernels::{f}::<{in_w}, {out_w}>(&{input}, &{pool})"),
                );
                Ok(var)
            }
            Node::AdaptiveAvgPool2d => {
                if out_w == 0 || !in_w.is_multiple_of(out_w) {
                    return Err(fail(
                        "AdaptiveAvgPool2d",
                        format!("cannot pool {in_w} values to {out_w}"),
                    ));
                }
                let var = self.var(out_w);
                self.statement(
                    &var,
                    out_w,
                    format!(
                        "kernels::adaptive_avg_pool::<{in_w}, {out_w}, {}>(&{input})",
                        in_w / out_w
                    ),
                );
                Ok(var)
            }
            Node::Embedding { num, dim, weight } => {
                let kind = "Embedding";
                if in_w.checked_mul(*dim) != Some(out_w) {
                    return Err(fail(
                        kind,
                        format!("looks up {dim} values per index, but runs at {in_w} → {out_w}"),
                    ));
                }
                check_len(kind, "weight", weight.len(), num * dim)?;
                let table = self.matrix(path, "weight", weight, *dim);
                let var = self.var(out_w);
                self.statement(
                    &var,
                    out_w,
                    format!("kernels::embedding::<{in_w}, {out_w}, {dim}>(&{input}, &{table})"),
                );
                Ok(var)
            }
            Node::Sequence { type_name, layers } => {
                let (mut x, mut width) = (input.to_string(), in_w);
                for child in layers {
                    if child.input != width {
                        return Err(fail(
                            type_name,
                            format!(
                                "feeds {width} values to `{}`, which takes {}",
                                child.key, child.input
                            ),
                        ));
                    }
                    x = self.emit(&join(path, child.key), &child.node, &x, width, child.output)?;
                    width = child.output;
                }
                if width != out_w {
                    return Err(fail(
                        type_name,
                        format!("gives {width} values but runs at {in_w} → {out_w}"),
                    ));
                }
                Ok(x)
            }
            Node::Residual(body) => {
                same_width("Residual")?;
                let fx = self.emit(path, body, input, in_w, out_w)?;
                let var = self.var(out_w);
                self.statement(&var, out_w, format!("kernels::add({fx}, &{input})"));
                Ok(var)
            }
            Node::Unsupported { type_name } => Err(ExportError::Unsupported {
                path: display(path),
                type_name,
            }),
        }
    }

    /// A function from `math` whose last bits may differ from the platform's the runtime calls.
    fn inexact(&mut self, layer: &str, function: &str, name: &str) -> String {
        self.math = true;
        let note = format!(
            "{layer}: this file's {function} is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)"
        );
        if !self.inexact.contains(&note) {
            self.inexact.push(note);
        }
        name.to_string()
    }
}

fn window(w: staticnn_geometry::Window) -> String {
    format!(
        "kernels::Window {{ kernel: {}, stride: {}, padding: {}, dilation: {} }}",
        w.kernel, w.stride, w.padding, w.dilation
    )
}

/// Row-major `[out][in]` values as `[in][out]`.
fn transposed<T: Copy>(w: &[T], in_w: usize, out_w: usize) -> Vec<T> {
    (0..in_w)
        .flat_map(|i| (0..out_w).map(move |o| w[o * in_w + i]))
        .collect()
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(super) fn display(path: &str) -> String {
    if path.is_empty() {
        "(the model)".to_string()
    } else {
        path.to_string()
    }
}
