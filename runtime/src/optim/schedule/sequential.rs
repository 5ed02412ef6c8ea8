use super::{LearningRate, Scheduler, SchedulerState, SchedulerStateError, get};

/// Runs one schedule after another, switching at each milestone epoch (PyTorch's
/// `SequentialLR`): a warm-up then a decay, each attached to the same optimizer.
///
/// ```
/// # use staticnn_runtime::prelude::*;
/// let mut optimizer = SGD::new(0.1).unwrap();
/// let warmup = LinearLR::new(&mut optimizer, 0.1, 1.0, 5).unwrap();
/// let decay = CosineAnnealingLR::new(&mut optimizer, 95, 0.0).unwrap();
/// let schedule =
///     SequentialLR::new(&mut optimizer, vec![Box::new(warmup), Box::new(decay)], vec![5])
///         .unwrap();
/// assert!((optimizer.lr() - 0.01).abs() < 1e-12); // the warm-up's first rate
/// # let _ = schedule;
/// ```
pub struct SequentialLR {
    schedulers: Vec<Box<dyn Scheduler>>,
    milestones: Vec<u64>,
    epoch: u64,
}

/// Schedules and milestones that do not fit together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "SequentialLR takes one milestone fewer than schedulers, in increasing order; got {schedulers} schedulers and milestones {milestones:?}"
)]
pub struct SequentialError {
    pub schedulers: usize,
    pub milestones: Vec<u64>,
}

impl SequentialLR {
    pub fn new(
        optimizer: &mut dyn LearningRate,
        schedulers: Vec<Box<dyn Scheduler>>,
        milestones: Vec<u64>,
    ) -> Result<Self, SequentialError> {
        if schedulers.is_empty()
            || milestones.len() + 1 != schedulers.len()
            || milestones.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(SequentialError {
                schedulers: schedulers.len(),
                milestones,
            });
        }
        let mut sequence = SequentialLR {
            schedulers,
            milestones,
            epoch: 0,
        };
        sequence.restart(optimizer);
        Ok(sequence)
    }

    fn current(&self) -> usize {
        self.milestones.partition_point(|&m| m <= self.epoch)
    }

    /// The last epoch the sequence is defined for: that of the first schedule whose own end
    /// comes before the milestone that would replace it. Schedule `i` runs from epoch
    /// `start` (its milestone) and allows its own epoch up to `T`, so the sequence up to
    /// `start + T`; its last epoch before the next milestone is that milestone less one.
    /// (A schedule already passed cannot have ended earlier: its step would have panicked.)
    fn last_epoch(&self) -> Option<u64> {
        (0..self.schedulers.len()).find_map(|i| {
            let start = if i == 0 { 0 } else { self.milestones[i - 1] };
            let end = start + self.schedulers[i].steps_from_start()?;
            match self.milestones.get(i) {
                Some(&next) if end + 1 >= next => None,
                _ => Some(end),
            }
        })
    }
}

impl Scheduler for SequentialLR {
    fn lr(&self) -> f64 {
        self.schedulers[self.current()].lr()
    }
    fn step_with(&mut self, metric: Option<f64>, optimizer: &mut dyn LearningRate) {
        self.epoch += 1;
        let i = self.current();
        if i > 0 && self.milestones[i - 1] == self.epoch {
            self.schedulers[i].restart(optimizer);
        } else {
            self.schedulers[i].step_with(metric, optimizer);
        }
    }
    fn steps_left(&self) -> Option<u64> {
        self.last_epoch()
            .map(|last| last.saturating_sub(self.epoch))
    }
    fn steps_from_start(&self) -> Option<u64> {
        self.last_epoch()
    }
    fn apply(&self, optimizer: &mut dyn LearningRate) {
        self.schedulers[self.current()].apply(optimizer);
    }
    fn restart(&mut self, optimizer: &mut dyn LearningRate) {
        self.epoch = 0;
        // The schedule in effect at epoch 0: the second already, after a milestone of 0, as
        // in PyTorch (whose first rate is then the second schedule's).
        let first = self.current();
        self.schedulers[first].restart(optimizer);
    }
    fn state(&self) -> SchedulerState {
        let mut state = SchedulerState::from([("epoch".to_string(), self.epoch as f64)]);
        for (i, s) in self.schedulers.iter().enumerate() {
            for (k, v) in s.state() {
                state.insert(format!("{i}.{k}"), v);
            }
        }
        state
    }
    fn load_state(&mut self, state: &SchedulerState) -> Result<(), SchedulerStateError> {
        let epoch = get(state, "epoch")? as u64;
        for (i, s) in self.schedulers.iter_mut().enumerate() {
            let prefix = format!("{i}.");
            let own: SchedulerState = state
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), *v)))
                .collect();
            s.load_state(&own)?;
        }
        self.epoch = epoch;
        Ok(())
    }
}
