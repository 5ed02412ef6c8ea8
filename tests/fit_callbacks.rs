//! Monitors and Keras's callback semantics: a typo'd key fails before training and lists the
//! keys; EarlyStopping stops where Keras stops on scripted sequences; `best/` and
//! EarlyStopping's count survive a resume.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use staticnn::checkpoint::Checkpoint;
use staticnn::data::TargetSlice;
use staticnn::data::synthetic;
use staticnn::prelude::*;
use staticnn::train::{EpochRecord, FitError, ModelRef, RunKeys, WidthError, evaluate_with};

model! {
    pub struct Net: [2] -> [1] {
        fc1: Linear(4),
        ReLU,
        out: Linear(1),
    }
}

/// Batches of 16; the validation set (32 rows) in one batch, so that a scripted validation
/// loss is read once per epoch.
fn quiet(epochs: usize) -> FitOptions {
    FitOptions::new(epochs, 16)
        .validation_batch_size(32)
        .progress(Progress::Quiet)
}

/// BCEWithLogits for training; its validation value is read from a script, one per epoch, so
/// a test decides exactly what `val_loss` every epoch reports.
struct ScriptedValidation {
    inner: BCEWithLogitsLoss,
    script: Rc<RefCell<VecDeque<f32>>>,
}

impl ScriptedValidation {
    fn new(values: &[f32]) -> Self {
        ScriptedValidation {
            inner: BCEWithLogitsLoss::new(),
            script: Rc::new(RefCell::new(values.iter().copied().collect())),
        }
    }
}

impl Loss<1> for ScriptedValidation {
    type Target = BatchSlice<1>;
    fn elementwise(&self, x: &BatchSlice<1>, y: &BatchSlice<1>) -> Result<Vec<f32>, LossError> {
        self.inner.elementwise(x, y)
    }
    /// Validation (fit validates through `value`, in one batch with `quiet`'s options).
    fn value(&self, _: &BatchSlice<1>, _: &BatchSlice<1>) -> Result<f32, LossError> {
        Ok(self
            .script
            .borrow_mut()
            .pop_front()
            .expect("a scripted value"))
    }
    fn value_and_grad(
        &mut self,
        x: &BatchSlice<1>,
        y: &BatchSlice<1>,
    ) -> Result<(f32, &BatchSlice<1>), LossError> {
        self.inner.value_and_grad(x, y)
    }
}

fn data() -> (Dataset<2, Batch<1>>, Dataset<2, Batch<1>>) {
    let mut rng = seeded_rng(0);
    (
        synthetic::moons(64, 0.1, &mut rng),
        synthetic::moons(32, 0.1, &mut rng),
    )
}

/// `fit` with BCE, SGD(0.1) and no validation set.
fn fit_plain(
    model: &mut Net,
    data: &Dataset<2, Batch<1>>,
    options: &mut FitOptions,
) -> Result<History, FitError> {
    let mut optimizer = SGD::new(0.1).unwrap();
    fit(
        model,
        &mut BCEWithLogitsLoss::new(),
        &mut optimizer,
        data,
        None,
        options,
    )
}

fn run(
    val_losses: &[f32],
    options: &mut FitOptions,
    model: &mut Net,
    optimizer: &mut SGD,
) -> Result<History, FitError> {
    let (train, val) = data();
    fit(
        model,
        &mut ScriptedValidation::new(val_losses),
        optimizer,
        &train,
        Some(&val),
        options,
    )
}

#[test]
fn a_typo_in_a_monitor_fails_before_training_and_lists_the_keys() {
    let mut model = Net::new(&mut seeded_rng(1));
    let before = staticnn::state_dict(&model);
    let mut options = quiet(3)
        .metrics(&[Metric::BinaryAccuracy])
        .callback(EarlyStopping::new("val_los"));
    let err = run(&[], &mut options, &mut model, &mut SGD::new(0.1).unwrap()).unwrap_err();
    match &err {
        FitError::UnknownMonitor { key, keys, by } => {
            assert_eq!(key, "val_los");
            assert_eq!(
                keys,
                "loss, val_loss, binary_accuracy, val_binary_accuracy, lr"
            );
            assert!(by.contains("EarlyStopping"), "{by}");
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string().contains("val_loss, binary_accuracy"),
        "{err}"
    );
    assert_eq!(staticnn::state_dict(&model), before, "no epoch ran");

    // The best checkpoint's and ReduceLROnPlateau's monitor too, and `val_` keys without
    // validation data.
    let mut options = quiet(3).monitor("val_accuracy");
    let err = run(&[], &mut options, &mut model, &mut SGD::new(0.1).unwrap()).unwrap_err();
    assert!(
        matches!(&err, FitError::UnknownMonitor { key, keys, .. } if key == "val_accuracy" && keys == "loss, val_loss, lr"),
        "{err}"
    );
    let (train, _) = data();
    let mut options = quiet(3).callback(EarlyStopping::new("val_loss"));
    let err = fit_plain(&mut model, &train, &mut options).unwrap_err();
    assert!(
        matches!(&err, FitError::UnknownMonitor { keys, .. } if keys == "loss, lr"),
        "{err}"
    );
}

/// Printed names, History keys and CSV columns are one vocabulary.
#[test]
fn printed_keys_are_history_keys() {
    let mut model = Net::new(&mut seeded_rng(2));
    let mut options = quiet(2).metrics(&[Metric::BinaryAccuracy]);
    let history = run(
        &[0.5, 0.4],
        &mut options,
        &mut model,
        &mut SGD::new(0.1).unwrap(),
    )
    .unwrap();
    let last = history.last().unwrap();
    let csv = history.to_csv();
    let columns: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for part in last.summary().split(' ') {
        let key = part.split('=').next().unwrap();
        assert!(
            columns.contains(&key),
            "`{key}` printed but not a CSV column"
        );
        if key != "epoch" {
            assert!(
                last.get(key).is_some(),
                "`{key}` printed but not a History key"
            );
            assert_eq!(history.series(key).len(), 2, "{key}");
        }
    }
    assert!(last.summary().contains(" loss="), "{}", last.summary());
}

fn record(epoch: usize, value: f64) -> EpochRecord {
    EpochRecord {
        epoch,
        loss: value,
        val_loss: Some(value),
        metrics: Default::default(),
        lr: 0.1,
        seconds: 0.0,
    }
}

/// Feeds `values` (epochs 1, 2, ...) to `stop`, with the model's first weight set to the
/// epoch number, and returns the 1-based epoch it stopped at (None: it never did) and the
/// first weight after `on_train_end`.
fn drive(mut stop: EarlyStopping, values: &[f64]) -> (Option<usize>, f32) {
    let keys = RunKeys::new([], true);
    let mut model = Net::new(&mut seeded_rng(3));
    stop.on_train_begin(&keys);
    let mut stopped = None;
    for (i, &v) in values.iter().enumerate() {
        model.fc1.weight.value[0] = (i + 1) as f32;
        let mut fitted = ModelRef::<Net, 2, 1>(&mut model);
        if stop.on_epoch_end(&record(i + 1, v), &mut fitted) == Control::Stop {
            stopped = Some(i + 1);
            break;
        }
    }
    stop.on_train_end(&mut ModelRef::<Net, 2, 1>(&mut model));
    (stopped, model.fc1.weight.value[0])
}

/// Expectations written from Keras's documentation of `keras.callbacks.EarlyStopping`:
/// - patience: "Number of epochs with no improvement after which training will be stopped."
/// - min_delta: "an absolute change of less than min_delta, will count as no improvement."
/// - baseline: "training will stop if the model doesn't show improvement over the baseline",
///   and "If no epoch improves on baseline, training will run for `patience` epochs and
///   restore weights from the best epoch in that set."
/// - restore_best_weights: "Whether to restore model weights from the epoch with the best
///   value of the monitored quantity."
#[test]
fn early_stopping_stops_at_the_epoch_keras_stops_at() {
    let seq = [1.0, 0.9, 0.95, 0.93, 0.8, 0.7];
    // Best at epoch 2; epochs 3 and 4 are the 2 epochs with no improvement: stop at 4.
    assert_eq!(
        drive(EarlyStopping::new("val_loss").patience(2), &seq).0,
        Some(4)
    );
    // Patience 0: the first epoch without improvement (3) stops.
    assert_eq!(drive(EarlyStopping::new("val_loss"), &seq).0, Some(3));
    // Patience 3: epochs 3, 4 do not improve, 5 does (0.8 < 0.9), then 6 too: no stop.
    assert_eq!(
        drive(EarlyStopping::new("val_loss").patience(3), &seq).0,
        None
    );

    // min_delta 0.05: 0.96 and 0.98 are changes of less than 0.05 from 1.0, so no
    // improvement; with patience 2 the second of them (epoch 3) stops.
    let small = [1.0, 0.96, 0.98, 0.9];
    let stop = EarlyStopping::new("val_loss").patience(2).min_delta(0.05);
    assert_eq!(drive(stop, &small).0, Some(3));
    // ... while 0.94 is an improvement of 0.06: the count restarts at epoch 2.
    let stop = EarlyStopping::new("val_loss").patience(2).min_delta(0.05);
    assert_eq!(drive(stop, &[1.0, 0.94, 0.98, 0.97, 0.96]).0, Some(4));

    // Baseline 0.5 never beaten: training runs for `patience` (3) epochs, and the weights
    // of the best epoch in that set (epoch 1, value 0.9) are restored.
    let stop = EarlyStopping::new("val_loss")
        .patience(3)
        .baseline(0.5)
        .restore_best_weights(true);
    assert_eq!(drive(stop, &[0.9, 0.95, 0.97, 0.99, 1.0]), (Some(3), 1.0));
    // A baseline beaten at epoch 2 counts like any improvement afterwards.
    let stop = EarlyStopping::new("val_loss").patience(2).baseline(0.95);
    assert_eq!(drive(stop, &[1.0, 0.9, 0.92, 0.93, 0.94]).0, Some(4));

    // restore_best_weights: the weights of epoch 2, the best, after stopping at epoch 4.
    let stop = EarlyStopping::new("val_loss")
        .patience(2)
        .restore_best_weights(true);
    assert_eq!(drive(stop, &seq), (Some(4), 2.0));
    // ... and also when training ends without stopping early (epoch 6 is the best).
    let stop = EarlyStopping::new("val_loss")
        .patience(3)
        .restore_best_weights(true);
    assert_eq!(drive(stop, &seq), (None, 6.0));

    // Max mode (the default for accuracies): larger is better.
    let acc = [0.5, 0.7, 0.6, 0.65, 0.9];
    let stop = EarlyStopping::new("val_accuracy").patience(2);
    let keyed = |v: &[f64]| {
        let keys = RunKeys::new([("accuracy", true)], true);
        let mut model = Net::new(&mut seeded_rng(3));
        let mut stop = stop.clone();
        stop.on_train_begin(&keys);
        v.iter()
            .enumerate()
            .position(|(i, &a)| {
                let mut r = record(i + 1, 0.0);
                r.metrics.insert("val_accuracy".into(), a);
                stop.on_epoch_end(&r, &mut ModelRef::<Net, 2, 1>(&mut model)) == Control::Stop
            })
            .map(|i| i + 1)
    };
    assert_eq!(keyed(&acc), Some(4));
}

#[test]
fn fit_stops_where_keras_stops_on_a_scripted_validation_loss() {
    let mut model = Net::new(&mut seeded_rng(4));
    let mut options = quiet(20).callback(EarlyStopping::new("val_loss").patience(2));
    let history = run(
        &[1.0, 0.9, 0.95, 0.93, 0.8, 0.7],
        &mut options,
        &mut model,
        &mut SGD::new(0.1).unwrap(),
    )
    .unwrap();
    let f32s = [1.0f32, 0.9, 0.95, 0.93].map(f64::from);
    assert_eq!(history.series("val_loss"), f32s);
}

#[test]
fn best_is_not_overwritten_by_a_worse_epoch_after_resume() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("ckpt");
    let mut model = Net::new(&mut seeded_rng(5));
    let mut optimizer = SGD::new(0.1).unwrap();
    let mut options = quiet(2).checkpoint_dir(&ckpt);
    run(&[0.5, 0.278], &mut options, &mut model, &mut optimizer).unwrap();
    let best_epoch = || Checkpoint::read(ckpt.join("best")).unwrap().state.epoch;
    assert_eq!(best_epoch(), 2);

    // Resumed: epoch 3 is worse than epoch 2 and must not replace best/; epoch 4 is better.
    let mut model = Net::new(&mut seeded_rng(6));
    let mut optimizer = SGD::new(0.1).unwrap();
    let mut options = quiet(3)
        .checkpoint_dir(&ckpt)
        .resume_from(ckpt.join("last"));
    run(&[0.72], &mut options, &mut model, &mut optimizer).unwrap();
    assert_eq!(
        best_epoch(),
        2,
        "a worse epoch after the resume replaced best/"
    );
    let mut options = quiet(4)
        .checkpoint_dir(&ckpt)
        .resume_from(ckpt.join("last"));
    run(&[0.1], &mut options, &mut model, &mut optimizer).unwrap();
    assert_eq!(best_epoch(), 4);
}

#[test]
fn early_stopping_counts_on_across_a_resume() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("ckpt");
    let stop = || {
        EarlyStopping::new("val_loss")
            .patience(2)
            .restore_best_weights(true)
    };
    // Uninterrupted: best at epoch 2, stops at 4, ends with epoch 2's weights.
    let mut model = Net::new(&mut seeded_rng(7));
    let mut options = quiet(10)
        .callback(stop())
        .checkpoint_dir(dir.path().join("whole"));
    let whole = run(
        &[1.0, 0.9, 0.95, 0.96, 0.5],
        &mut options,
        &mut model,
        &mut SGD::new(0.1).unwrap(),
    )
    .unwrap();
    assert_eq!(whole.epochs.len(), 4);
    let best_weights = staticnn::state_dict(&model);
    let epoch2 = Checkpoint::read(dir.path().join("whole/best")).unwrap();
    assert_eq!(epoch2.state.epoch, 2);

    // Interrupted after epoch 3, resumed by a new process (new model, new callback).
    let mut model = Net::new(&mut seeded_rng(7));
    let mut options = quiet(3).callback(stop()).checkpoint_dir(&ckpt);
    run(
        &[1.0, 0.9, 0.95],
        &mut options,
        &mut model,
        &mut SGD::new(0.1).unwrap(),
    )
    .unwrap();
    let mut model = Net::new(&mut seeded_rng(8));
    let mut options = quiet(10)
        .callback(stop())
        .checkpoint_dir(&ckpt)
        .resume_from(ckpt.join("last"));
    let resumed = run(
        &[0.96, 0.5],
        &mut options,
        &mut model,
        &mut SGD::new(0.1).unwrap(),
    )
    .unwrap();
    assert_eq!(resumed.epochs.len(), 4, "the wait of epoch 3 was kept");
    assert_eq!(
        staticnn::state_dict(&model),
        best_weights,
        "epoch 2's weights restored after the resume"
    );
}

/// Binary F1 on logits (positive above 0) against 0/1 targets, from running counts.
#[derive(Default)]
struct F1 {
    tp: f64,
    fp: f64,
    fn_: f64,
}

impl CustomMetric for F1 {
    fn name(&self) -> &str {
        "f1"
    }
    fn higher_is_better(&self) -> bool {
        true
    }
    fn reset(&mut self) {
        *self = F1::default();
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: &dyn TargetSlice) {
        for (i, row) in outputs.chunks_exact(width).enumerate() {
            let actual = targets.values(i).is_some_and(|v| v[0] >= 0.5);
            match (row[0] > 0.0, actual) {
                (true, true) => self.tp += 1.0,
                (true, false) => self.fp += 1.0,
                (false, true) => self.fn_ += 1.0,
                (false, false) => {}
            }
        }
    }
    fn result(&self) -> f64 {
        2.0 * self.tp / (2.0 * self.tp + self.fp + self.fn_)
    }
}

#[test]
fn a_custom_f1_drives_early_stopping() {
    let mut rng = seeded_rng(9);
    let train = synthetic::moons(24, 0.45, &mut rng);
    let val = synthetic::moons(300, 0.45, &mut rng);
    let mut model = Net::new(&mut rng);
    let mut options = quiet(300)
        .metric(F1::default())
        .callback(EarlyStopping::new("val_f1").patience(3));
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut Adam::new(0.05).unwrap(),
        &train,
        Some(&val),
        &mut options,
    )
    .unwrap();
    let f1 = history.series("val_f1");
    assert_eq!(f1.len(), history.epochs.len());
    assert_eq!(history.series("f1").len(), history.epochs.len());
    // Keras's rule in max mode (F1 says larger is better): the count since the last strict
    // increase reaches the patience.
    let (mut best, mut wait, mut stop) = (f64::NEG_INFINITY, 0, None);
    for (i, &v) in f1.iter().enumerate() {
        wait += 1;
        if v > best {
            (best, wait) = (v, 0);
        } else if wait >= 3 {
            stop = Some(i + 1);
            break;
        }
    }
    assert!(stop.is_some(), "F1 never plateaued: {f1:?}");
    assert_eq!(Some(history.epochs.len()), stop, "{f1:?}");
    // The reported value is the F1 of the validation outputs.
    let mut again: Vec<Box<dyn CustomMetric>> = vec![Box::new(F1::default())];
    let eval = evaluate_with(
        &model,
        &BCEWithLogitsLoss::new(),
        &val,
        256,
        &[],
        &mut again,
    )
    .unwrap();
    assert_eq!(eval.metrics["f1"], *f1.last().unwrap());
}

#[test]
fn a_custom_metric_may_not_shadow_a_key() {
    struct Named(&'static str);
    impl CustomMetric for Named {
        fn name(&self) -> &str {
            self.0
        }
        fn higher_is_better(&self) -> bool {
            true
        }
        fn reset(&mut self) {}
        fn update(&mut self, _: &[f32], _: usize, _: &dyn TargetSlice) {}
        fn result(&self) -> f64 {
            0.0
        }
    }
    for name in ["loss", "val_f1", "accuracy", "lr", ""] {
        let mut model = Net::new(&mut seeded_rng(1));
        let mut options = quiet(1).metric(Named(name));
        let err = run(
            &[0.5],
            &mut options,
            &mut model,
            &mut SGD::new(0.1).unwrap(),
        )
        .unwrap_err();
        assert!(matches!(&err, FitError::MetricName { .. }), "{name}: {err}");
    }
}

/// A callback that predicts on a fixed batch after every epoch (Keras's "log predictions").
struct Probe {
    x: Batch<2>,
    seen: Rc<RefCell<Vec<Batch<1>>>>,
}

impl Callback for Probe {
    fn on_epoch_end(&mut self, _: &EpochRecord, model: &mut dyn FitModel) -> Control {
        self.seen
            .borrow_mut()
            .push(model.forward::<2, 1>(&self.x).unwrap());
        let wrong = model.forward::<2, 3>(&self.x).unwrap_err();
        assert_eq!(
            wrong,
            WidthError {
                model_in: 2,
                model_out: 1,
                asked_in: 2,
                asked_out: 3
            }
        );
        Control::Continue
    }
}

#[test]
fn callbacks_run_inference_on_the_model_being_trained() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let x = Batch::from_rows(&[[0.0, 0.5], [1.0, -0.5], [-1.0, 1.0]]);
    let mut model = Net::new(&mut seeded_rng(10));
    let probe = Probe {
        x: x.clone(),
        seen: seen.clone(),
    };
    let mut options = quiet(3).callback(probe);
    run(
        &[0.5, 0.4, 0.3],
        &mut options,
        &mut model,
        &mut SGD::new(0.5).unwrap(),
    )
    .unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 3);
    assert_ne!(seen[0], seen[2], "the model trains between epochs");
    assert_eq!(seen[2], model.forward(&x), "the last epoch's outputs");
}

#[test]
fn a_resumed_callback_must_watch_what_the_saved_one_watched() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("ckpt");
    let mut model = Net::new(&mut seeded_rng(12));
    let mut options = quiet(2)
        .callback(EarlyStopping::new("val_loss").patience(5))
        .checkpoint_dir(&ckpt);
    run(
        &[0.5, 0.4],
        &mut options,
        &mut model,
        &mut SGD::new(0.1).unwrap(),
    )
    .unwrap();
    let before = staticnn::state_dict(&model);
    let mut options = quiet(4)
        .callback(EarlyStopping::new("loss").patience(5))
        .resume_from(ckpt.join("last"));
    let err = run(
        &[0.3],
        &mut options,
        &mut model,
        &mut SGD::new(0.1).unwrap(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, FitError::CallbackState { index: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("`val_loss`"), "{err}");
    assert_eq!(staticnn::state_dict(&model), before, "nothing loaded");
}

/// Keras's CSVLogger: a header and one flushed row per epoch with History's numbers; with
/// `append` a resumed run adds its rows under the same header; a path that cannot be written
/// stops `fit` before the first epoch and is named.
#[test]
fn csv_logger_writes_each_epoch_and_appends_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("log.csv");
    let save = dir.path().join("run");
    let data = synthetic::moons(64, 0.1, &mut seeded_rng(0));
    let train = |epochs: usize, resume: bool, append: bool| {
        let mut model = Net::new(&mut seeded_rng(1));
        let mut options = quiet(epochs)
            .validation_split(0.25)
            .metrics(&[Metric::BinaryAccuracy])
            .checkpoint_dir(&save)
            .callback(CSVLogger::new(&csv).append(append));
        if resume {
            options = options.resume_from(save.join("last"));
        }
        fit_plain(&mut model, &data, &mut options).unwrap()
    };
    let history = train(2, false, false);
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header[0], "epoch");
    assert_eq!(header.last(), Some(&"seconds"));
    for key in [
        "loss",
        "val_loss",
        "binary_accuracy",
        "val_binary_accuracy",
        "lr",
    ] {
        let column = header.iter().position(|h| *h == key).expect(key);
        let values: Vec<f64> = lines[1..]
            .iter()
            .map(|l| l.split(',').nth(column).unwrap().parse().unwrap())
            .collect();
        assert_eq!(values, history.series(key), "{key}");
    }

    let resumed = train(4, true, true);
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "one header, four epochs: {text}");
    let epochs: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(epochs, ["1", "2", "3", "4"]);
    assert_eq!(resumed.epochs.len(), 4);

    let blocked = dir.path().join("a_file");
    std::fs::write(&blocked, "").unwrap();
    let bad = blocked.join("log.csv");
    let mut model = Net::new(&mut seeded_rng(1));
    let before = staticnn::state_dict(&model);
    let err = fit_plain(
        &mut model,
        &data,
        &mut quiet(3).callback(CSVLogger::new(&bad)),
    )
    .unwrap_err();
    assert!(matches!(err, FitError::Callback { .. }), "{err}");
    assert!(err.to_string().contains(bad.to_str().unwrap()), "{err}");
    assert_eq!(staticnn::state_dict(&model), before);
}

/// A run that fails before its first epoch (here a resume from a folder that is not there)
/// leaves the CSV log it would rewrite as it was.
#[test]
fn csv_logger_rewrites_only_at_the_first_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("log.csv");
    std::fs::write(&csv, "epoch,loss\n1,0.5\n").unwrap();
    let data = synthetic::moons(32, 0.1, &mut seeded_rng(0));
    let mut model = Net::new(&mut seeded_rng(1));
    let err = fit_plain(
        &mut model,
        &data,
        &mut quiet(2)
            .resume_from(dir.path().join("no_such_run"))
            .callback(CSVLogger::new(&csv)),
    );
    assert!(err.is_err());
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "epoch,loss\n1,0.5\n"
    );
    fit_plain(
        &mut model,
        &data,
        &mut quiet(2).callback(CSVLogger::new(&csv)),
    )
    .unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("epoch,loss,lr,seconds\n"), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
}

/// Lightning's LearningRateMonitor, built in: with parameter groups, every group's rate is in
/// the history (`lr` for group 0, `lr_pg1`, ...) as the scheduler set it, a key a monitor may
/// name and a CSV column.
#[test]
fn every_parameter_groups_rate_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("log.csv");
    let data = synthetic::moons(32, 0.1, &mut seeded_rng(0));
    let mut model = Net::new(&mut seeded_rng(1));
    let mut optimizer = SGD::new(0.1)
        .unwrap()
        .param_group(ParamGroup::new("out").lr(0.01));
    let schedule = StepLR::new(&mut optimizer, 1, 0.5).unwrap();
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut optimizer,
        &data,
        None,
        &mut quiet(3)
            .scheduler(schedule, Every::Epoch)
            .callback(EarlyStopping::new("lr_pg1").patience(10))
            .callback(CSVLogger::new(&csv)),
    )
    .unwrap();
    // Each record holds the rates the epoch trained at.
    assert_eq!(history.series("lr"), [0.1, 0.05, 0.025]);
    assert_eq!(history.series("lr_pg1"), [0.01, 0.005, 0.0025]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.lines().next().unwrap().contains("lr_pg1"), "{text}");
}
