//! One training epoch and one validation pass: the two halves of an epoch that can fail and
//! that `fit` rolls back together.

use std::collections::BTreeMap;

use super::resume::RunState;
use super::rollback::EpochStart;
use super::{
    Clip, DynTrain, Every, FitError, FitOptions, Phase, class_weight,
    evaluate::{evaluate_rows, metric_sums},
    group_rate_key,
    progress::Reporter,
};
use crate::data::{DynDataset, DynLoader, Targets};
use crate::history::EpochRecord;
use crate::loss::Loss;
use crate::metrics::AnyTargets;
use crate::module::Module;
use crate::optim::{DynOptimizer, OptimizerError, clip_grad_norm, clip_grad_value, scale_grad};

/// Epoch `run.next_epoch`: training, then validation if there is a validation set. A failure
/// in either puts back what the epoch changed (weights, buffers, optimizer, rates, scheduler,
/// RNGs, step count; [`EpochStart`]) and is returned inside [`FitError::RolledBack`].
#[allow(clippy::too_many_arguments)]
pub(super) fn run_epoch<L, T, const OUT: usize>(
    model: &mut dyn DynTrain<OUT>,
    loss: &mut L,
    optimizer: &mut dyn DynOptimizer,
    loader: &mut DynLoader<'_, T>,
    validation: Option<&DynDataset<'_, T>>,
    options: &mut FitOptions,
    run: &mut RunState,
    reporter: &Reporter,
) -> Result<EpochRecord, FitError>
where
    L: Loss<OUT, Target = T::Slice>,
    T: Targets,
{
    let epoch = run.next_epoch;
    let start = EpochStart::take(
        model.module_mut(),
        optimizer,
        options.scheduler.as_ref().map(|(s, _)| &**s),
        &run.rng,
        run.global_step,
    );
    loader.start_epoch(&mut run.rng);
    reporter.start_epoch();
    let outcome = train_epoch(
        model,
        loss,
        optimizer,
        loader,
        options,
        epoch,
        &mut run.global_step,
        reporter,
    )
    .and_then(|mut record| match validation {
        Some(val) => validate_into(&*model, &*loss, val, options, &mut record).map(|()| record),
        None => Ok(record),
    });
    outcome.map_err(|(phase, source)| {
        let scheduler = options.scheduler.as_mut().map(|(s, _)| &mut **s);
        start.restore(
            model.module_mut(),
            optimizer,
            scheduler,
            &mut run.rng,
            &mut run.global_step,
        );
        reporter.finish();
        FitError::RolledBack {
            epoch,
            phase,
            source: Box::new(source),
        }
    })
}

/// The batches of one epoch, shuffled by the loader: zero_grad, forward_train, loss,
/// backward, and an optimizer step every `accumulate` batches (and one for the epoch's last,
/// partial accumulation). Returns the epoch's record without validation.
#[allow(clippy::too_many_arguments)]
fn train_epoch<L, T, const OUT: usize>(
    model: &mut dyn DynTrain<OUT>,
    loss: &mut L,
    optimizer: &mut dyn DynOptimizer,
    loader: &mut DynLoader<'_, T>,
    options: &mut FitOptions,
    epoch: usize,
    global_step: &mut usize,
    reporter: &Reporter,
) -> Result<EpochRecord, (Phase, FitError)>
where
    L: Loss<OUT, Target = T::Slice>,
    T: Targets,
{
    let failed = |e: FitError| (Phase::Training, e);
    let mut sums = metric_sums(loss, model);
    let (mut total, mut rows, mut pending, mut step) = (0.0f64, 0usize, 0usize, 0usize);
    options.custom_metrics.iter_mut().for_each(|m| m.reset());
    // Each batch's class weights, in a buffer the epoch reuses.
    let mut row_weights = Vec::new();
    model.module_mut().train();
    model.module_mut().zero_grad();
    while let Some((x, y)) = loader.next_batch() {
        step += 1;
        model
            .validate_rows(x)
            .map_err(|error| failed(FitError::Input { epoch, step, error }))?;
        let out = model
            .forward_train(x)
            .map_err(|e| failed(crate::data::DataError::from(e).into()))?;
        if !options.metrics.is_empty() {
            sums.update(&out, y);
        }
        for m in &mut options.custom_metrics {
            m.update(out.as_slice(), OUT, &AnyTargets(y));
        }
        let (value, grad) = match &options.class_weight {
            Some(weights) => {
                class_weight::row_weights(weights, y, &mut row_weights)
                    .map_err(|e| failed(e.into()))?;
                loss.value_and_grad_weighted(&out, y, &row_weights)
            }
            None => loss.value_and_grad(&out, y),
        }
        .map_err(|e| failed(e.into()))?;
        if !value.is_finite() {
            return Err(failed(FitError::NonFiniteLoss {
                epoch,
                step,
                loss: value,
            }));
        }
        total += f64::from(value) * out.rows() as f64;
        rows += out.rows();
        out.backward_params(grad);
        pending += 1;
        if pending == options.accumulate {
            apply_step(model.module_mut(), optimizer, options).map_err(|e| failed(e.into()))?;
            pending = 0;
            *global_step += 1;
        }
        reporter.batch(f64::from(value));
    }
    // The epoch's last, partial accumulation is a step like the others (scheduler included).
    if pending > 0 {
        apply_step(model.module_mut(), optimizer, options).map_err(|e| failed(e.into()))?;
        *global_step += 1;
    }
    let mut metrics: BTreeMap<String, f64> = options
        .metrics
        .iter()
        .map(|m| (m.name().to_string(), sums.value(*m)))
        .collect();
    metrics.extend(
        options
            .custom_metrics
            .iter()
            .map(|m| (m.name().to_string(), m.result())),
    );
    // Lightning's LearningRateMonitor: every group's rate, group 0's as `lr` below.
    metrics.extend((1..optimizer.num_groups()).map(|g| (group_rate_key(g), optimizer.group_lr(g))));
    Ok(EpochRecord {
        epoch,
        loss: total / rows.max(1) as f64,
        val_loss: None,
        metrics,
        lr: optimizer.lr(),
        seconds: 0.0,
    })
}

/// Validation in eval mode through `forward`, into `record` as `val_loss` and `val_<metric>`.
fn validate_into<L, T, const OUT: usize>(
    model: &dyn DynTrain<OUT>,
    loss: &L,
    data: &DynDataset<'_, T>,
    options: &mut FitOptions,
    record: &mut EpochRecord,
) -> Result<(), (Phase, FitError)>
where
    L: Loss<OUT, Target = T::Slice>,
    T: Targets,
{
    let batch = super::validation_batch_size(options);
    // fit checked the widths before the first epoch.
    let eval = evaluate_rows(
        model,
        loss,
        data,
        batch,
        &options.metrics,
        &mut options.custom_metrics,
    )
    .map_err(|e| (Phase::Validation, e.into()))?;
    record.val_loss = Some(eval.loss);
    for (k, v) in eval.metrics {
        record.metrics.insert(format!("val_{k}"), v);
    }
    Ok(())
}

/// Divides accumulated gradients by `accumulate`, clips, steps the optimizer (and a
/// per-batch scheduler).
fn apply_step(
    model: &mut dyn Module,
    optimizer: &mut dyn DynOptimizer,
    options: &mut FitOptions,
) -> Result<(), OptimizerError> {
    // Lightning divides each loss by `accumulate_grad_batches`, the epoch's last, partial
    // accumulation too: its step is as many batches' worth as it holds.
    if options.accumulate > 1 {
        scale_grad(model, 1.0 / options.accumulate as f32);
    }
    match options.clip {
        Some(Clip::Norm(max)) => {
            clip_grad_norm(model, max);
        }
        Some(Clip::Value(v)) => clip_grad_value(model, v),
        None => {}
    }
    optimizer.step_dyn(model)?;
    model.zero_grad();
    if let Some((s, Every::Batch)) = &mut options.scheduler {
        s.step(optimizer);
    }
    Ok(())
}
