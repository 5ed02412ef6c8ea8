//! Int8 weights for export: symmetric, one scale per output channel (a row of a Linear
//! weight), as PyTorch's `torch.per_channel_symmetric` with `quant_min=-127, quant_max=127`
//! (its default qint8 range is -128..127, scale `max|w| / 127.5`): `scale = max|w| / 127`,
//! `q = round(w / scale)` with ties to even, as `torch.round`. A weight's error is at most
//! `scale / 2` (a row whose largest weight is below about 1e-43 has scale 0 and stores 0s,
//! each off by that tiny weight).

use super::error::ExportError;
use super::node::{Child, Node};
use crate::state::{Entry, EntryMut, visit_named, visit_named_mut};

/// How an exported file stores its Linear weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Weights {
    /// Exact f32 bit patterns: the runtime's numbers (and, where the order is the same, its
    /// bits).
    #[default]
    F32,
    /// Int8 per output channel, with an f32 scale per channel: a quarter of the bytes. Biases,
    /// activations and the other layers stay f32; compute is f32.
    Int8,
}

/// A `[rows, cols]` weight in int8, row `r` standing for `scale[r] · q[r]`.
pub(crate) struct Int8 {
    pub q: Vec<i8>,
    pub scale: Vec<f32>,
}

impl Int8 {
    /// Quantizes each row of `weight`; a non-finite weight is an error naming it (no scale
    /// can stand for it).
    pub fn per_row(weight: &[f32], cols: usize) -> Result<Self, String> {
        let cols = cols.max(1);
        if let Some(i) = weight.iter().position(|w| !w.is_finite()) {
            let (r, c) = (i / cols, i % cols);
            return Err(format!(
                "has the weight {} at [{r}, {c}], which int8 cannot hold",
                weight[i]
            ));
        }
        let mut q = Vec::with_capacity(weight.len());
        let mut scale = Vec::with_capacity(weight.len() / cols);
        for row in weight.chunks_exact(cols) {
            let max = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
            // An all-zero row keeps scale 0 and q 0: the product is 0, as the f32 row gives.
            let s = max / 127.0;
            scale.push(s);
            q.extend(row.iter().map(|&w| {
                if s == 0.0 {
                    0
                } else {
                    // |w / s| ≤ 127 up to rounding; the clamp keeps the cast exact.
                    (w / s).round_ties_even().clamp(-127.0, 127.0) as i8
                }
            }));
        }
        Ok(Int8 { q, scale })
    }

    /// [`per_row`](Self::per_row) for the Linear layer at `path`, its error naming the layer.
    pub fn of_layer(weight: &[f32], cols: usize, path: &str) -> Result<Self, ExportError> {
        Self::per_row(weight, cols).map_err(|problem| ExportError::Quantization {
            path: super::emit::display(path),
            problem,
        })
    }

    /// The f32 weights these int8 values stand for, row-major.
    pub fn dequantized(&self) -> Vec<f32> {
        let cols = self.q.len().checked_div(self.scale.len()).unwrap_or(0);
        self.q
            .chunks_exact(cols.max(1))
            .zip(&self.scale)
            .flat_map(|(row, &s)| row.iter().map(move |&q| s * f32::from(q)))
            .collect()
    }
}

/// Replaces every Linear weight of `model` by what an [`Weights::Int8`] export stores for it
/// (`scale · q`), so `evaluate` on the model shows the int8 file's accuracy before it is
/// deployed (PyTorch's fake quantization). Returns the keys it changed. A failure changes
/// nothing.
pub fn fake_quantize_int8<M, const IN: usize, const OUT: usize>(
    model: &mut M,
) -> Result<Vec<String>, ExportError>
where
    M: crate::module::Forward<IN, OUT> + ?Sized,
{
    let mut quantized: Vec<(String, Vec<f32>)> = Vec::new();
    linear_weights(&model.describe(), "", &mut |key, weight, cols| {
        let int8 = Int8::of_layer(weight, cols, key)?;
        quantized.push((super::emit::join(key, "weight"), int8.dequantized()));
        Ok(())
    })?;
    // Every key must name a parameter of that length before anything changes: a module
    // whose `describe` disagreed with its state would otherwise keep f32 weights unseen.
    let mut found = vec![false; quantized.len()];
    visit_named(model, |key, entry| {
        if let Entry::Parameter(p) = entry
            && let Some(i) = quantized.iter().position(|(k, _)| k == key)
        {
            found[i] = quantized[i].1.len() == p.value.len();
        }
    });
    if let Some(i) = found.iter().position(|f| !f) {
        return Err(ExportError::Quantization {
            path: quantized[i].0.clone(),
            problem: "is described as a Linear weight but is not a parameter of its size"
                .to_string(),
        });
    }
    visit_named_mut(model, |key, entry| {
        if let EntryMut::Parameter(p) = entry
            && let Some((_, v)) = quantized.iter().find(|(k, _)| k == key)
        {
            p.value.copy_from_slice(v);
        }
    });
    Ok(quantized.into_iter().map(|(key, _)| key).collect())
}

/// Every Linear layer under `node` at `path`: `f(path, weight, in_features)`.
fn linear_weights(
    node: &Node<'_>,
    path: &str,
    f: &mut impl FnMut(&str, &[f32], usize) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    match node {
        Node::Linear {
            in_features,
            weight,
            ..
        } => f(path, weight, *in_features),
        Node::Sequence { layers, .. } => {
            layers.iter().try_for_each(|Child { key, node, .. }| {
                linear_weights(node, &super::emit::join(path, key), f)
            })
        }
        Node::Residual(body) => linear_weights(body, path, f),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::Int8;

    #[test]
    fn each_row_has_its_scale_and_rounds_ties_to_even() {
        // Row 0: max 127, scale 1, so q is w rounded, ties to even; row 1: all zero.
        let w = [127.0, -2.5, 3.5, 0.2, 0.0, 0.0, 0.0, 0.0];
        let q = Int8::per_row(&w, 4).unwrap();
        assert_eq!(q.scale, vec![1.0, 0.0]);
        assert_eq!(q.q, vec![127, -2, 4, 0, 0, 0, 0, 0]);
        assert_eq!(
            q.dequantized(),
            vec![127.0, -2.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
        // Row 0 of scale 1/127: each weight within half a step.
        let w: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin()).collect();
        let q = Int8::per_row(&w, 8).unwrap();
        for (r, (a, b)) in q.dequantized().iter().zip(&w).enumerate() {
            let s = q.scale[r / 8];
            assert!((a - b).abs() <= s / 2.0 * (1.0 + 1e-5), "{a} {b} scale {s}");
        }
    }

    #[test]
    fn a_non_finite_weight_is_an_error_naming_its_place() {
        let err = Int8::per_row(&[0.1, 0.2, f32::NAN, 0.3], 2).err().unwrap();
        assert!(err.contains("[1, 0]"), "{err}");
    }
}
