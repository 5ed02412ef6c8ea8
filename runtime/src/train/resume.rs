//! `fit`'s two uses of checkpoints: resuming from one before the first epoch, and saving
//! `last/` (every epoch) and `best/` (when the monitored value improves) after each.

use std::path::Path;

use super::{FitError, FitOptions};
use crate::checkpoint::{
    Checkpoint, CheckpointError, StateError, TrainingState, group_lrs, save_checkpoint_dyn,
};
use crate::history::History;
use crate::module::Module;
use crate::optim::DynOptimizer;
use crate::seed::SeededRng;

/// What `fit` carries from epoch to epoch besides the model, optimizer and options; what a
/// checkpoint saves of it and a resume restores.
pub(super) struct RunState {
    /// Shuffles the batches.
    pub rng: SeededRng,
    pub history: History,
    /// Optimizer steps taken.
    pub global_step: usize,
    /// The 1-based epoch to run next.
    pub next_epoch: usize,
}

/// Reads the checkpoint in `dir` and puts it into the model, optimizer, scheduler and
/// callbacks, checking everything first: on error nothing the caller passed has changed
/// (callbacks are back in their `on_train_begin` state).
pub(super) fn resume(
    dir: &Path,
    model: &mut dyn Module,
    optimizer: &mut dyn DynOptimizer,
    options: &mut FitOptions,
    keys: &super::RunKeys,
) -> Result<RunState, FitError> {
    let checkpoint = Checkpoint::read(dir)?;
    checkpoint.check(model)?;
    let reset_callbacks = |options: &mut FitOptions| {
        options
            .callbacks
            .iter_mut()
            .for_each(|cb| cb.on_train_begin(keys));
    };
    let saved = &checkpoint.state.callbacks;
    let loaded = options
        .callbacks
        .iter_mut()
        .enumerate()
        .try_for_each(|(index, cb)| match saved.get(&index.to_string()) {
            Some(state) => cb.load_state(state, &*model).map_err(|e| (index, e)),
            None => Ok(()),
        });
    if let Err((index, source)) = loaded {
        reset_callbacks(options);
        return Err(FitError::CallbackState {
            path: checkpoint.state_path(),
            index,
            source,
        });
    }
    // The scheduler next: unlike the optimizer, it can be put back from its own state if
    // what follows fails.
    let mut scheduler_before = None;
    if let (Some((s, _)), Some(saved)) = (&mut options.scheduler, &checkpoint.state.scheduler) {
        let before = s.state();
        if let Err(e) = s.load_state(saved) {
            s.load_state(&before).expect("the scheduler's own state");
            let path = checkpoint.state_path();
            reset_callbacks(options);
            return Err(CheckpointError::State {
                path,
                source: StateError::Scheduler(e),
            }
            .into());
        }
        scheduler_before = Some(before);
    }
    let state = match checkpoint.apply_dyn(model, optimizer) {
        Ok(state) => state,
        Err(e) => {
            if let (Some((s, _)), Some(before)) = (&mut options.scheduler, scheduler_before) {
                s.load_state(&before).expect("the scheduler's own state");
            }
            reset_callbacks(options);
            return Err(e.into());
        }
    };
    if let (Some((s, _)), Some(_)) = (&options.scheduler, &state.scheduler) {
        s.apply(optimizer);
    }
    Ok(RunState {
        rng: state.rng,
        history: state.history,
        global_step: state.global_step,
        next_epoch: state.epoch.saturating_add(1),
    })
}

/// Keras's `ModelCheckpoint(save_best_only=True)`: `best/` is saved when the monitored value
/// is strictly better than every earlier epoch's, starting from ±inf (so NaN never is).
/// A resumed run seeds the best from the loaded history, so a worse epoch after the resume
/// does not overwrite the `best/` saved before it.
pub(super) struct BestCheckpoint {
    monitor: String,
    higher_is_better: bool,
    best: f64,
}

impl BestCheckpoint {
    pub fn new(monitor: &str, higher_is_better: bool, history: &History) -> Self {
        let mut best = BestCheckpoint {
            monitor: monitor.to_string(),
            higher_is_better,
            best: if higher_is_better {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
        };
        for record in &history.epochs {
            best.improves(record.get(monitor));
        }
        best
    }

    /// Whether `value` beats the best so far, which it then becomes.
    fn improves(&mut self, value: Option<f64>) -> bool {
        let Some(v) = value else { return false };
        let better = if self.higher_is_better {
            v > self.best
        } else {
            v < self.best
        };
        if better {
            self.best = v;
        }
        better
    }
}

/// Saves `<dir>/last`, and `<dir>/best` when the epoch just recorded improves on the best.
pub(super) fn save(
    dir: &Path,
    model: &dyn Module,
    optimizer: &dyn DynOptimizer,
    options: &FitOptions,
    run: &RunState,
    best: &mut BestCheckpoint,
) -> Result<(), FitError> {
    let record = run.history.last().expect("saved after an epoch");
    let mut state = TrainingState::new(
        model,
        record.epoch,
        run.global_step,
        group_lrs(optimizer),
        run.rng.clone(),
        run.history.clone(),
    );
    state.scheduler = options.scheduler.as_ref().map(|(s, _)| s.state());
    state.extra = options.checkpoint_extra.clone();
    state.callbacks = options
        .callbacks
        .iter()
        .enumerate()
        .filter_map(|(i, cb)| cb.state().map(|s| (i.to_string(), s)))
        .collect();
    let optimizer_state = optimizer.state_dyn();
    save_checkpoint_dyn(&dir.join("last"), model, &optimizer_state, &state)?;
    if best.improves(record.get(&best.monitor)) {
        save_checkpoint_dyn(&dir.join("best"), model, &optimizer_state, &state)?;
    }
    Ok(())
}
