//! Checkpoints: exact resume, strict and panic-free loading, crash safety, PyTorch interop.

use staticnn::checkpoint::{
    CheckpointError, TrainingState, from_bytes, load_checkpoint, save_checkpoint, to_bytes,
};
use staticnn::data::synthetic;
use staticnn::prelude::*;
use staticnn::train::History;
use staticnn::{NamedTensor, load_weights, save_weights, state_dict};

model! {
    pub struct Net: [2] -> [1] {
        fc1: Linear(8),
        ReLU,
        drop: Dropout(0.2),
        bn: BatchNorm1d,
        out: Linear(1),
    }
}

model! {
    pub struct Other: [2] -> [1] {
        fc1: Linear(4),
        ReLU,
        head: Linear(1),
    }
}

fn options(epochs: usize) -> FitOptions {
    FitOptions::new(epochs, 16)
        .progress(Progress::Quiet)
        .validation_split(0.25)
        .seed(11)
}

fn resume_is_exact<O: Optimizer>(make_optimizer: impl Fn() -> O, name: &str) {
    staticnn::set_num_threads(1);
    let data = synthetic::moons(200, 0.2, &mut seeded_rng(1));
    let dir = tempfile::tempdir().unwrap();

    // Ten epochs straight.
    let mut model = Net::new(&mut seeded_rng(2));
    let mut opt = make_optimizer();
    let mut o = options(10).scheduler(StepLR::new(&mut opt, 3, 0.5).unwrap(), Every::Epoch);
    let straight = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut opt,
        &data,
        None,
        &mut o,
    )
    .unwrap();
    let expected = state_dict(&model);

    // Five epochs, a checkpoint, then fresh objects that resume for five more.
    let mut model = Net::new(&mut seeded_rng(2));
    let mut opt = make_optimizer();
    let mut o = options(5)
        .scheduler(StepLR::new(&mut opt, 3, 0.5).unwrap(), Every::Epoch)
        .checkpoint_dir(dir.path());
    fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut opt,
        &data,
        None,
        &mut o,
    )
    .unwrap();
    drop((model, opt));

    let mut model = Net::new(&mut seeded_rng(99));
    let mut opt = make_optimizer();
    let mut o = options(10)
        .scheduler(StepLR::new(&mut opt, 3, 0.5).unwrap(), Every::Epoch)
        .resume_from(dir.path().join("last"));
    let resumed = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut opt,
        &data,
        None,
        &mut o,
    )
    .unwrap();
    assert_eq!(
        state_dict(&model),
        expected,
        "{name}: weights after resuming"
    );
    assert_eq!(resumed.epochs.len(), 10, "{name}: the history continues");
    let losses = |h: &History| h.series("loss");
    assert_eq!(
        losses(&resumed),
        losses(&straight),
        "{name}: every epoch's loss"
    );
    assert_eq!(
        opt.lr(),
        0.1 * 0.5f64.powi(3),
        "{name}: the scheduler continued"
    );
}

#[test]
fn resume_with_adam_is_bit_identical() {
    resume_is_exact(|| Adam::new(0.1).unwrap(), "Adam");
}

#[test]
fn resume_with_sgd_momentum_is_bit_identical() {
    resume_is_exact(
        || SGD::new(0.1).unwrap().momentum(0.9).unwrap(),
        "SGD momentum",
    );
}

#[test]
fn weights_round_trip_with_pytorch_keys_and_dtypes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let mut model = Net::new(&mut seeded_rng(3));
    model.bn.num_batches_tracked = 7;
    save_weights(&model, &path).unwrap();
    let tensors = from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    let names: Vec<_> = tensors
        .iter()
        .map(|t| (t.name.as_str(), t.shape.clone(), t.data.dtype()))
        .collect();
    assert!(
        names.contains(&("bn.num_batches_tracked", vec![], "int64")),
        "{names:?}"
    );
    assert!(names.contains(&("fc1.weight", vec![8, 2], "float32")));
    let mut other = Net::new(&mut seeded_rng(4));
    load_weights(&mut other, &path).unwrap();
    assert_eq!(state_dict(&other), state_dict(&model));
}

#[test]
fn a_truncated_or_corrupted_file_is_an_error_never_a_panic() {
    let model = Other::new(&mut seeded_rng(5));
    let bytes = to_bytes(&state_dict(&model)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    for cut in 0..bytes.len() {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let mut m = Other::new(&mut seeded_rng(6));
        assert!(
            load_weights(&mut m, &path).is_err(),
            "truncated at {cut} of {}",
            bytes.len()
        );
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    // A file without a digest is PyTorch's and loads, so a flip inside the key `sha256`
    // itself goes unseen here; a checkpoint's recorded digest of the whole file sees it
    // (tests/checkpoint_faults.rs).
    let key = bytes.windows(8).position(|w| w == b"\"sha256\"").unwrap() + 1;
    for i in (0..8 + header_len).filter(|i| !(key..key + 6).contains(i)) {
        for flip in [0x01u8, 0x20, 0x80] {
            let mut corrupt = bytes.clone();
            corrupt[i] ^= flip;
            let mut m = Other::new(&mut seeded_rng(6));
            let before = state_dict(&m);
            let result = from_bytes(&corrupt)
                .map_err(|e| e.to_string())
                .and_then(|t| staticnn::load_state_dict(&mut m, &t).map_err(|e| e.to_string()));
            assert!(result.is_err(), "byte {i} ^ {flip:#x} loaded");
            assert_eq!(state_dict(&m), before, "a failed load changes nothing");
        }
    }
}

#[test]
fn a_wrong_model_names_missing_unexpected_and_misshaped_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    save_weights(&Net::new(&mut seeded_rng(7)), &path).unwrap();
    let mut other = Other::new(&mut seeded_rng(8));
    let err = load_weights(&mut other, &path).unwrap_err();
    let CheckpointError::Keys { source: keys, path } = &err else {
        panic!("{err}")
    };
    assert_eq!(path, &dir.path().join("net.safetensors"));
    assert_eq!(keys.missing, ["head.weight", "head.bias"]);
    assert!(keys.unexpected.contains(&"out.weight".to_string()));
    assert!(keys.unexpected.contains(&"bn.running_mean".to_string()));
    let fc1 = &keys.mismatched[0];
    assert_eq!(
        (fc1.name.as_str(), fc1.expected.as_str(), fc1.found.as_str()),
        ("fc1.weight", "float32 [4, 2]", "float32 [8, 2]")
    );
    let msg = err.to_string();
    for needle in [
        "missing key(s): head.weight, head.bias",
        "unexpected key(s)",
        "size mismatch for fc1.weight: the model has float32 [4, 2], the state has float32 [8, 2]",
    ] {
        assert!(msg.contains(needle), "{needle} not in {msg}");
    }
}

#[test]
fn a_checkpoint_of_another_model_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let model = Net::new(&mut seeded_rng(9));
    let state = TrainingState::new(&model, 1, 10, vec![0.1], seeded_rng(0), History::default());
    save_checkpoint(
        dir.path().join("c"),
        &model,
        &Adam::new(0.1).unwrap(),
        &state,
    )
    .unwrap();
    let mut other = Other::new(&mut seeded_rng(9));
    let before = state_dict(&other);
    let err = load_checkpoint(
        dir.path().join("c"),
        &mut other,
        &mut Adam::new(0.1).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, CheckpointError::ModelType { .. }), "{err}");
    assert!(err.to_string().contains("Net"));
    assert_eq!(state_dict(&other), before);
}

#[test]
fn an_interrupted_save_leaves_the_last_checkpoint_whole() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("last");
    let model = Net::new(&mut seeded_rng(10));
    let state = TrainingState::new(&model, 3, 30, vec![0.1], seeded_rng(0), History::default());
    save_checkpoint(&target, &model, &SGD::new(0.1).unwrap(), &state).unwrap();

    // A crash while writing the next one leaves a half-written `.partial` folder beside it.
    let partial = dir.path().join("last.partial");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("model.safetensors"), b"\x10\x00\x00").unwrap();
    let mut fresh = Net::new(&mut seeded_rng(11));
    let loaded = load_checkpoint(&target, &mut fresh, &mut SGD::new(0.1).unwrap()).unwrap();
    assert_eq!(loaded.epoch, 3);
    assert_eq!(state_dict(&fresh), state_dict(&model));

    // A crash in the middle of the swap leaves it as `.previous`, which loading falls back to.
    std::fs::rename(&target, dir.path().join("last.previous")).unwrap();
    let mut fresh = Net::new(&mut seeded_rng(12));
    let loaded = load_checkpoint(&target, &mut fresh, &mut SGD::new(0.1).unwrap()).unwrap();
    assert_eq!(loaded.global_step, 30);
    assert_eq!(state_dict(&fresh), state_dict(&model));

    // The next save cleans up after both.
    save_checkpoint(&target, &model, &SGD::new(0.1).unwrap(), &state).unwrap();
    assert!(!partial.exists() && !dir.path().join("last.previous").exists());
}

/// Trains on constant targets, so that R² is −inf every epoch (its denominator is 0) and a
/// ReduceLROnPlateau watching it in `max` mode keeps `best = −inf`: a state full of numbers
/// JSON has no words for. `resume_after` splits the run at that epoch.
/// A metric whose value is always `value` (NaN, +inf), so the saved history holds it.
struct Constant(&'static str, f64);
impl CustomMetric for Constant {
    fn name(&self) -> &str {
        self.0
    }
    fn higher_is_better(&self) -> bool {
        true
    }
    fn reset(&mut self) {}
    fn update(&mut self, _: &[f32], _: usize, _: &dyn staticnn::data::TargetSlice) {}
    fn result(&self) -> f64 {
        self.1
    }
}

fn constant_target_run(epochs: usize, resume_after: Option<usize>) -> (History, Vec<NamedTensor>) {
    staticnn::set_num_threads(1);
    let moons = synthetic::moons(96, 0.2, &mut seeded_rng(21));
    let data = Dataset::new(moons.features, Batch::<1>::from_vec(vec![0.5; 96]).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |model: &mut Net, opt: &mut Adam, epochs: usize, resume: bool| {
        let plateau = ReduceLROnPlateau::new(&mut *opt)
            .mode(PlateauMode::Max)
            .patience(1);
        let mut o = options(epochs)
            .metrics(&[Metric::R2])
            .metric(Constant("nan_metric", f64::NAN))
            .metric(Constant("inf_metric", f64::INFINITY))
            .monitor("val_r2")
            .scheduler(plateau, Every::Epoch)
            .checkpoint_dir(dir.path());
        if resume {
            o = o.resume_from(dir.path().join("last"));
        }
        fit(model, &mut MSELoss::new(), opt, &data, None, &mut o).unwrap()
    };
    let mut model = Net::new(&mut seeded_rng(22));
    let mut opt = Adam::new(0.05).unwrap();
    let history = match resume_after {
        None => run(&mut model, &mut opt, epochs, false),
        Some(first) => {
            run(&mut model, &mut opt, first, false);
            let saved =
                std::fs::read_to_string(dir.path().join("last/training_state.json")).unwrap();
            for value in ["\"-Infinity\"", "\"Infinity\"", "\"NaN\""] {
                assert!(saved.contains(value), "the state holds {value}: {saved}");
            }
            let mut model = Net::new(&mut seeded_rng(99));
            let mut opt = Adam::new(0.05).unwrap();
            let history = run(&mut model, &mut opt, epochs, true);
            return (history, state_dict(&model));
        }
    };
    (history, state_dict(&model))
}

#[test]
fn a_state_holding_nan_and_infinities_resumes_to_the_uninterrupted_result() {
    let (straight, weights) = constant_target_run(6, None);
    let r2 = straight.series("val_r2");
    assert!(r2.iter().all(|&v| v == f64::NEG_INFINITY), "{r2:?}");
    assert!(
        straight.last().unwrap().lr < straight.epochs[0].lr,
        "the plateau scheduler acted"
    );
    let (resumed, resumed_weights) = constant_target_run(6, Some(3));
    assert_eq!(resumed_weights, weights);
    assert_eq!(resumed.series("loss"), straight.series("loss"));
    assert_eq!(resumed.series("lr"), straight.series("lr"));
    assert_eq!(resumed.series("val_r2"), r2);
    let bits = |h: &History, key: &str| -> Vec<u64> {
        h.series(key).iter().map(|v| v.to_bits()).collect()
    };
    for key in [
        "nan_metric",
        "val_nan_metric",
        "inf_metric",
        "val_inf_metric",
    ] {
        assert_eq!(bits(&resumed, key), bits(&straight, key), "{key}");
        assert_eq!(straight.series(key).len(), 6, "{key}");
    }
    assert!(straight.series("val_nan_metric").iter().all(|v| v.is_nan()));
    assert!(
        straight
            .series("val_inf_metric")
            .iter()
            .all(|&v| v == f64::INFINITY)
    );
}

#[test]
fn nan_and_infinities_round_trip_through_the_training_state() {
    let dir = tempfile::tempdir().unwrap();
    let values = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        1e-300,
        0.1,
    ];
    let mut history = History::default();
    for (i, &v) in values.iter().enumerate() {
        history.epochs.push(staticnn::train::EpochRecord {
            epoch: i + 1,
            loss: v,
            val_loss: Some(v),
            metrics: [("accuracy".to_string(), v)].into(),
            lr: 0.1,
            seconds: v,
        });
    }
    let model = Net::new(&mut seeded_rng(23));
    let mut state = TrainingState::new(&model, values.len(), 12, vec![0.1], seeded_rng(0), history);
    state.scheduler = Some(
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| (format!("k{i}"), v))
            .collect(),
    );
    save_checkpoint(
        dir.path().join("c"),
        &model,
        &Adam::new(0.1).unwrap(),
        &state,
    )
    .unwrap();
    let mut fresh = Net::new(&mut seeded_rng(24));
    let loaded = load_checkpoint(
        dir.path().join("c"),
        &mut fresh,
        &mut Adam::new(0.1).unwrap(),
    )
    .unwrap();
    let bits = |s: &TrainingState| {
        let mut out: Vec<u64> = s
            .scheduler
            .as_ref()
            .unwrap()
            .values()
            .map(|v| v.to_bits())
            .collect();
        for e in &s.history.epochs {
            out.extend(
                [
                    e.loss,
                    e.val_loss.unwrap(),
                    e.metrics["accuracy"],
                    e.seconds,
                ]
                .map(f64::to_bits),
            );
        }
        out
    };
    assert_eq!(bits(&loaded), bits(&state));
}

/// `safetensors.torch.save_file(model.state_dict(), path)` writes no metadata; such a file
/// loads, and the model then gives PyTorch's outputs. Written by
/// tests/fixtures/generate_pytorch_weights.py.
#[test]
fn a_file_saved_by_pytorch_without_metadata_loads_and_gives_its_outputs() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    let path = format!("{fixtures}pytorch_weights.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    assert!(!header.contains("__metadata__"), "{header}");
    let mut model = Net::new(&mut seeded_rng(25));
    load_weights(&mut model, &path).unwrap();
    assert_eq!(model.bn.num_batches_tracked, 3);

    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{fixtures}pytorch_weights.json")).unwrap(),
    )
    .unwrap();
    let rows: Vec<[f32; 2]> = expected["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| [r[0].as_f64().unwrap() as f32, r[1].as_f64().unwrap() as f32])
        .collect();
    let out = predict(&model, &Batch::from_rows(&rows), 256);
    for (got, want) in out.iter_rows().zip(expected["outputs"].as_array().unwrap()) {
        let want = want[0].as_f64().unwrap();
        assert!(
            (f64::from(got[0]) - want).abs() <= 1e-5 * (1.0 + want.abs()),
            "{} vs PyTorch's {want}",
            got[0]
        );
    }
}
