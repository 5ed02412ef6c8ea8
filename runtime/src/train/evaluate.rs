//! `evaluate` and `predict`: inference in batches through `forward` (eval semantics, nothing
//! kept for a backward pass: PyTorch's `model.eval()` with `torch.no_grad()`).

use std::collections::BTreeMap;

use crate::data::{DataLoader, Dataset, Targets};
use crate::loss::{Loss, LossError};
use crate::metrics::{AnyTargets, CustomMetric, Metric, MetricSums};
use crate::module::Forward;
use crate::tensor::{Batch, BatchSlice};

/// Loss and metrics over a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The mean of the per-batch losses weighted by batch size.
    pub loss: f64,
    pub metrics: BTreeMap<String, f64>,
}

/// Runs `model` over `data` in batches of `batch_size`, in order.
pub fn evaluate<M, L, T, const I: usize, const O: usize>(
    model: &M,
    loss: &L,
    data: &Dataset<I, T>,
    batch_size: usize,
    metrics: &[Metric],
) -> Result<Evaluation, LossError>
where
    M: Forward<I, O> + ?Sized,
    T: Targets,
    L: Loss<O, Target = T::Slice>,
{
    evaluate_with(model, loss, data, batch_size, metrics, &mut [])
}

/// [`evaluate`] with custom metrics too, each reset first and reported under its name.
pub fn evaluate_with<M, L, T, const I: usize, const O: usize>(
    model: &M,
    loss: &L,
    data: &Dataset<I, T>,
    batch_size: usize,
    metrics: &[Metric],
    custom: &mut [Box<dyn CustomMetric>],
) -> Result<Evaluation, LossError>
where
    M: Forward<I, O> + ?Sized,
    T: Targets,
    L: Loss<O, Target = T::Slice>,
{
    let mut loader = DataLoader::new(data, batch_size.max(1))
        .expect("a batch size of at least 1")
        .shuffle(false);
    loader.rewind();
    let mut sums = MetricSums::default();
    custom.iter_mut().for_each(|m| m.reset());
    let (mut total, mut rows) = (0.0f64, 0usize);
    while let Some((x, y)) = loader.next_batch() {
        let out = model.forward(x);
        total += f64::from(loss.value(&out, y)?) * x.rows() as f64;
        rows += x.rows();
        sums.update(&out, y);
        let flat: &[f32] = BatchSlice::as_slice(&out);
        for m in custom.iter_mut() {
            m.update(flat, O, &AnyTargets(y));
        }
    }
    let mut values: BTreeMap<String, f64> = metrics
        .iter()
        .map(|m| (m.name().to_string(), sums.value(*m)))
        .collect();
    values.extend(custom.iter().map(|m| (m.name().to_string(), m.result())));
    Ok(Evaluation {
        loss: total / rows.max(1) as f64,
        metrics: values,
    })
}

/// The model's outputs for every row of `x`, computed `batch_size` rows at a time.
pub fn predict<M, const I: usize, const O: usize>(
    model: &M,
    x: &BatchSlice<I>,
    batch_size: usize,
) -> Batch<O>
where
    M: Forward<I, O> + ?Sized,
{
    let mut out = Batch::new();
    let step = batch_size.max(1);
    for start in (0..x.rows()).step_by(step) {
        let y = model.forward(x.slice_rows(start, (start + step).min(x.rows())));
        for row in y.iter_rows() {
            out.push_row(row);
        }
    }
    out
}
