//! A failure inside an epoch, in training or in validation, leaves the weights and buffers,
//! every Dropout's RNG, the optimizer's state and rates, and the scheduler exactly as they were
//! at the epoch's start — compared bit for bit with a run that stopped there.

use std::cell::Cell;

use staticnn::data::synthetic;
use staticnn::prelude::*;
use staticnn::state::{Entry, visit_named};
use staticnn::train::{FitError, Phase};
use staticnn::{NamedTensor, TensorData};

model! {
    pub struct Net: [2] -> [3] {
        fc1: Linear(16),
        bn: BatchNorm1d(16),
        ReLU,
        drop: Dropout(0.2),
        out: Linear(3),
    }
}

/// CrossEntropy that fails on the `train_fail`-th training call or the `val_fail`-th
/// validation call (counted from 1 over the whole run).
struct Failing {
    inner: CrossEntropyLoss,
    train_calls: usize,
    val_calls: Cell<usize>,
    train_fail: usize,
    val_fail: usize,
}

impl Failing {
    fn new(train_fail: usize, val_fail: usize) -> Self {
        Failing {
            inner: CrossEntropyLoss::new(),
            train_calls: 0,
            val_calls: Cell::new(0),
            train_fail,
            val_fail,
        }
    }
}

const INJECTED: LossError = LossError::Rows {
    input: 0,
    target: 0,
};

impl Loss<3> for Failing {
    type Target = [usize];
    fn elementwise(&self, x: &BatchSlice<3>, y: &[usize]) -> Result<Vec<f32>, LossError> {
        self.inner.elementwise(x, y)
    }
    fn value(&self, x: &BatchSlice<3>, y: &[usize]) -> Result<f32, LossError> {
        self.val_calls.set(self.val_calls.get() + 1);
        if self.val_calls.get() == self.val_fail {
            return Err(INJECTED);
        }
        self.inner.value(x, y)
    }
    fn value_and_grad(
        &mut self,
        x: &BatchSlice<3>,
        y: &[usize],
    ) -> Result<(f32, &BatchSlice<3>), LossError> {
        self.train_calls += 1;
        if self.train_calls == self.train_fail {
            return Err(INJECTED);
        }
        self.inner.value_and_grad(x, y)
    }
}

/// Every bit of everything an epoch may change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    weights: Vec<(String, Vec<u64>)>,
    rngs: Vec<(String, SeededRng)>,
    optimizer: Vec<(String, Vec<u64>)>,
    lrs: Vec<u64>,
    scheduler: Vec<(String, u64)>,
}

fn bits(tensors: &[NamedTensor]) -> Vec<(String, Vec<u64>)> {
    tensors
        .iter()
        .map(|t| {
            let bits = match &t.data {
                TensorData::F32(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
                TensorData::I64(v) => v.iter().map(|&x| x as u64).collect(),
            };
            (t.name.clone(), bits)
        })
        .collect()
}

fn snapshot(model: &Net, optimizer: &Adam, options: &FitOptions) -> Snapshot {
    let mut rngs = Vec::new();
    visit_named(model, |name, entry| {
        if let Entry::Rng(rng) = entry {
            rngs.push((name.to_string(), rng.clone()));
        }
    });
    let (scheduler, _) = options.scheduler.as_ref().unwrap();
    Snapshot {
        weights: bits(&staticnn::state_dict(model)),
        rngs,
        optimizer: bits(&optimizer.state()),
        lrs: (0..optimizer.num_groups())
            .map(|g| optimizer.group_lr(g).to_bits())
            .collect(),
        scheduler: scheduler
            .state()
            .into_iter()
            .map(|(k, v)| (k, v.to_bits()))
            .collect(),
    }
}

/// Trains `epochs` epochs (6 batches each) with Adam, a per-batch StepLR and a validation
/// set; returns the error, if any, and the snapshot after it.
fn run(epochs: usize, loss: &mut Failing) -> (Option<FitError>, Snapshot) {
    let mut rng = seeded_rng(11);
    let train = synthetic::spirals(20, 3, 0.1, &mut rng);
    let val = synthetic::spirals(10, 3, 0.1, &mut rng);
    let mut model = Net::new(&mut rng);
    let mut optimizer = Adam::new(0.01)
        .unwrap()
        .param_group(ParamGroup::new("out").lr(0.02));
    let schedule = StepLR::new(&mut optimizer, 2, 0.9).unwrap();
    // The validation set in one batch: one `value` call per epoch.
    let mut options = FitOptions::new(epochs, 10)
        .validation_batch_size(30)
        .progress(Progress::Quiet)
        .metrics(&[Metric::Accuracy])
        .scheduler(schedule, Every::Batch)
        .seed(3);
    let result = fit(
        &mut model,
        loss,
        &mut optimizer,
        &train,
        Some(&val),
        &mut options,
    );
    (result.err(), snapshot(&model, &optimizer, &options))
}

fn at_start_of_epoch_2() -> Snapshot {
    let (err, snap) = run(1, &mut Failing::new(0, 0));
    assert!(err.is_none(), "{err:?}");
    snap
}

#[test]
fn a_failure_in_training_puts_back_the_epochs_start() {
    let expected = at_start_of_epoch_2();
    // Epoch 2, step 3: two Adam steps and two scheduler steps into the epoch.
    let (err, after) = run(3, &mut Failing::new(6 + 3, 0));
    let err = err.expect("the injected failure");
    let message = err.to_string();
    assert!(
        matches!(&err, FitError::RolledBack { epoch: 2, phase: Phase::Training, source }
            if matches!(**source, FitError::Loss(LossError::Rows { .. }))),
        "{message}"
    );
    assert!(
        message.contains("optimizer state") && message.contains("start of epoch 2"),
        "{message}"
    );
    assert_eq!(after, expected);
}

#[test]
fn a_failure_in_validation_puts_back_the_epochs_start() {
    let expected = at_start_of_epoch_2();
    // The second validation pass, after all of epoch 2's steps.
    let (err, after) = run(3, &mut Failing::new(0, 2));
    let err = err.expect("the injected failure");
    assert!(
        matches!(
            &err,
            FitError::RolledBack {
                epoch: 2,
                phase: Phase::Validation,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(after, expected);
}

#[test]
fn a_failure_in_the_first_epoch_returns_to_the_untrained_model() {
    let (_, untrained) = {
        // The snapshot of a run of 0 epochs is the untrained state.
        run(0, &mut Failing::new(0, 0))
    };
    let (err, after) = run(2, &mut Failing::new(4, 0));
    assert!(matches!(err, Some(FitError::RolledBack { epoch: 1, .. })));
    assert_eq!(after, untrained);
}
