//! `evaluate` and `predict`: inference in batches through `forward` (eval semantics, nothing
//! kept for a backward pass: PyTorch's `model.eval()` with `torch.no_grad()`).

use std::collections::BTreeMap;

use super::{DynForward, FitError, ForwardRef, check_width};
use crate::data::{DataError, Dataset, DynDataset, DynLoader, Targets};
use crate::loss::{Loss, LossError};
use crate::metrics::{AnyTargets, CustomMetric, Metric, MetricSums};
use crate::module::Forward;
use crate::tensor::{Batch, BatchSlice, ShapeError, whole_rows};

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
    let data = data.as_dyn();
    // A dataset written as a struct literal may have other counts (`Dataset::check_rows`).
    if let Err(DataError::Rows { features, targets }) = data.check_rows() {
        let (input, target) = (features, targets);
        return Err(LossError::Rows { input, target });
    }
    let model = ForwardRef::<M, I, O>(model);
    // The types make the widths equal.
    evaluate_rows(&model, loss, &data, batch_size, metrics, custom)
}

/// [`evaluate_with`] for a model and data whose input width is a value (see
/// [`fit_dyn`](super::fit_dyn)). Data of another width than the model's input is an error
/// naming both (the typed `evaluate` rules it out at compile time).
pub fn evaluate_dyn<L, T, const O: usize>(
    model: &dyn DynForward<O>,
    loss: &L,
    data: &DynDataset<'_, T>,
    batch_size: usize,
    metrics: &[Metric],
    custom: &mut [Box<dyn CustomMetric>],
) -> Result<Evaluation, FitError>
where
    T: Targets,
    L: Loss<O, Target = T::Slice>,
{
    check_width(model.in_width(), data)?;
    data.check_rows()?;
    Ok(evaluate_rows(
        model, loss, data, batch_size, metrics, custom,
    )?)
}

/// Metric sums deciding binary outputs as probabilities when the loss takes them or the
/// model ends in Sigmoid or Softmax (`fit`'s epochs and every evaluation).
pub(super) fn metric_sums<L: Loss<O>, const O: usize>(
    loss: &L,
    model: &dyn DynForward<O>,
) -> MetricSums {
    MetricSums::new(loss.takes_probabilities() || model.outputs_probabilities())
}

/// [`evaluate_dyn`] once the widths are known to be equal.
pub(super) fn evaluate_rows<L, T, const O: usize>(
    model: &dyn DynForward<O>,
    loss: &L,
    data: &DynDataset<'_, T>,
    batch_size: usize,
    metrics: &[Metric],
    custom: &mut [Box<dyn CustomMetric>],
) -> Result<Evaluation, LossError>
where
    T: Targets,
    L: Loss<O, Target = T::Slice>,
{
    let mut loader = DynLoader::new(data, batch_size.max(1)).expect("a batch size of at least 1");
    loader.rewind();
    let mut sums = metric_sums(loss, model);
    custom.iter_mut().for_each(|m| m.reset());
    let (mut total, mut rows) = (0.0f64, 0usize);
    while let Some((x, y)) = loader.next_batch() {
        let out = model
            .forward_rows(x)
            .expect("whole rows of the model's width");
        total += f64::from(loss.value(&out, y)?) * out.rows() as f64;
        rows += out.rows();
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
        // No rows: a mean over nothing, NaN as PyTorch's losses give it (not 0, a perfect
        // score).
        loss: if rows == 0 {
            f64::NAN
        } else {
            total / rows as f64
        },
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
    predict_dyn(&ForwardRef::<M, I, O>(model), x.as_slice(), batch_size)
        .expect("whole rows of the model's width")
}

/// [`predict`] on whole rows of the model's input width, flat; an error if `x` is not.
pub fn predict_dyn<const O: usize>(
    model: &dyn DynForward<O>,
    x: &[f32],
    batch_size: usize,
) -> Result<Batch<O>, ShapeError> {
    let width = model.in_width();
    whole_rows(x.len(), width)?;
    let mut out = Batch::new();
    // `max(1)`: a width of 0 has only the empty buffer, which has no chunk.
    for rows in x.chunks(batch_size.max(1).saturating_mul(width).max(1)) {
        let y = model.forward_rows(rows)?;
        for row in y.iter_rows() {
            out.push_row(row);
        }
    }
    Ok(out)
}
