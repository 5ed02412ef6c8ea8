//! Checkpoints under attack: every truncation and header byte of every file, every bit of
//! every data section, hostile headers, fields no `fit` would write. Each is an error that
//! names the file, and a failed load changes neither the model nor the optimizer.

use std::io::Write;
use std::path::Path;

use staticnn::checkpoint::{
    Checkpoint, CheckpointError, SafetensorsError, StateError, TrainingState, load_checkpoint,
    save_checkpoint, to_bytes,
};
use staticnn::data::synthetic;
use staticnn::prelude::*;
use staticnn::train::EpochRecord;
use staticnn::{NamedTensor, TensorData, load_weights, save_weights, state_dict};

model! {
    pub struct Net: [2] -> [1] {
        fc1: Linear(8),
        ReLU,
        drop: Dropout(0.2),
        bn: BatchNorm1d,
        out: Linear(1),
    }
}

/// Makes `path` hold `bytes` by writing over it in place. A rewrite through `fs::write`
/// truncates to zero first, which ext4 answers with a flush on close (milliseconds each).
fn put(path: &Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .unwrap();
    file.write_all(bytes).unwrap();
    file.set_len(bytes.len() as u64).unwrap();
}

const FILES: [&str; 3] = [
    "model.safetensors",
    "optimizer.safetensors",
    "training_state.json",
];

/// A model and an optimizer trained for `epochs`, saving checkpoints into `dir` if given.
fn trained(seed: u64, epochs: usize, dir: Option<&Path>) -> (Net, Adam) {
    let data = synthetic::moons(64, 0.2, &mut seeded_rng(1));
    let mut model = Net::new(&mut seeded_rng(seed));
    let mut opt = Adam::new(0.05).unwrap();
    let mut options = FitOptions::new(epochs, 16)
        .progress(Progress::Quiet)
        .seed(seed);
    if let Some(dir) = dir {
        options = options.checkpoint_dir(dir);
    }
    fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut opt,
        &data,
        None,
        &mut options,
    )
    .unwrap();
    (model, opt)
}

/// What a load must leave alone: weights, buffers, optimizer state and learning rate.
type Snapshot = (Vec<NamedTensor>, Vec<NamedTensor>, f64);

fn snapshot(model: &Net, opt: &Adam) -> Snapshot {
    (state_dict(model), opt.state(), opt.lr())
}

/// Loads `dir` into `model` and `opt`, expecting an error that names `file`, and checks
/// that neither changed.
fn refused(dir: &Path, file: &str, model: &mut Net, opt: &mut Adam, case: &str) -> CheckpointError {
    let before = snapshot(model, opt);
    let err = match load_checkpoint(dir, model, opt) {
        Ok(_) => panic!("{case}: loaded"),
        Err(e) => e,
    };
    let message = err.to_string();
    assert!(
        message.contains(&dir.join(file).display().to_string()),
        "{case}: `{message}` does not name {file}"
    );
    assert!(
        message.len() < 1000,
        "{case}: {} bytes of error",
        message.len()
    );
    assert!(
        snapshot(model, opt) == before,
        "{case}: the failed load changed something"
    );
    err
}

#[test]
fn every_truncation_and_header_flip_of_every_file_is_a_named_error_that_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    trained(2, 2, Some(dir.path()));
    let last = dir.path().join("last");
    // A model and an optimizer with state of their own, so that a change would show.
    let (mut model, mut opt) = trained(3, 1, None);
    let mut cases = 0;
    for file in FILES {
        let path = last.join(file);
        let good = std::fs::read(&path).unwrap();
        // The whole JSON file is header; a safetensors file's header ends where its data starts.
        let header_end = if file.ends_with(".json") {
            good.len()
        } else {
            8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize
        };
        for cut in 0..good.len() {
            put(&path, &good[..cut]);
            refused(
                &last,
                file,
                &mut model,
                &mut opt,
                &format!("{file} cut at {cut}"),
            );
            cases += 1;
        }
        for i in 0..header_end {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut bad = good.clone();
                bad[i] ^= flip;
                put(&path, &bad);
                let case = format!("{file} byte {i} ^ {flip:#04x}");
                refused(&last, file, &mut model, &mut opt, &case);
                cases += 1;
            }
        }
        put(&path, &good);
    }
    assert!(cases > 3000, "{cases} cases");
    // The untouched files still load.
    load_checkpoint(&last, &mut model, &mut opt).unwrap();
}

#[test]
fn every_bit_flip_in_a_data_section_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    trained(4, 1, Some(dir.path()));
    let last = dir.path().join("last");
    let (mut model, mut opt) = trained(5, 1, None);
    let mut flips = 0;
    for file in &FILES[..2] {
        let path = last.join(file);
        let good = std::fs::read(&path).unwrap();
        let data_start = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        for i in data_start..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[i] ^= 1 << bit;
                put(&path, &bad);
                let case = format!("{file} byte {i} bit {bit}");
                let err = refused(&last, file, &mut model, &mut opt, &case);
                assert!(
                    matches!(err, CheckpointError::Digest { .. }),
                    "{case}: {err}"
                );
                flips += 1;
            }
        }
        put(&path, &good);
    }

    // A file from `save_weights` alone carries the digest of its data in its metadata.
    let weights = dir.path().join("weights.safetensors");
    save_weights(&model, &weights).unwrap();
    let good = std::fs::read(&weights).unwrap();
    let data_start = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut fresh = Net::new(&mut seeded_rng(6));
    let before = state_dict(&fresh);
    for i in data_start..good.len() {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[i] ^= 1 << bit;
            put(&weights, &bad);
            let err = load_weights(&mut fresh, &weights).unwrap_err();
            assert!(
                matches!(
                    err,
                    CheckpointError::Safetensors {
                        source: SafetensorsError::Digest { .. },
                        ..
                    }
                ),
                "byte {i} bit {bit}: {err}"
            );
            assert!(err.to_string().contains("weights.safetensors"), "{err}");
            flips += 1;
        }
    }
    assert_eq!(state_dict(&fresh), before);
    assert!(flips > 5_000, "{flips} flips");
}

/// Saves `state` as a checkpoint of a fresh model into `dir/name` and returns the error of
/// loading it, after checking that it names the training state and changed nothing.
fn state_refused(dir: &Path, name: &str, state: TrainingState) -> CheckpointError {
    let target = dir.join(name);
    let (model, opt) = trained(7, 1, None);
    save_checkpoint(&target, &model, &opt, &state).unwrap();
    let (mut model, mut opt) = trained(8, 1, None);
    refused(&target, "training_state.json", &mut model, &mut opt, name)
}

fn record(epoch: usize) -> EpochRecord {
    EpochRecord {
        epoch,
        loss: 0.5,
        val_loss: None,
        metrics: Default::default(),
        lr: 0.1,
        seconds: 0.0,
    }
}

#[test]
fn every_field_of_the_training_state_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let state = |epoch: usize, records: &[usize]| {
        let history = History {
            epochs: records.iter().map(|&e| record(e)).collect(),
        };
        let model = Net::new(&mut seeded_rng(0));
        TrainingState::new(&model, epoch, 10, vec![0.05], seeded_rng(0), history)
    };
    let expect = |err: CheckpointError, check: fn(&StateError) -> bool| match &err {
        CheckpointError::State { source, .. } if check(source) => {}
        _ => panic!("{err}"),
    };
    expect(state_refused(dir.path(), "epoch0", state(0, &[])), |e| {
        matches!(e, StateError::EpochZero)
    });
    expect(
        state_refused(dir.path(), "long", state(2, &[1, 2, 3])),
        |e| {
            matches!(
                e,
                StateError::HistoryTooLong {
                    records: 3,
                    epoch: 2
                }
            )
        },
    );
    expect(state_refused(dir.path(), "order", state(3, &[1, 1])), |e| {
        matches!(e, StateError::HistoryOrder { index: 1, .. })
    });
    expect(state_refused(dir.path(), "ahead", state(3, &[4])), |e| {
        matches!(e, StateError::HistoryOrder { index: 0, .. })
    });
    for lr in [-1.0, f64::NAN, f64::INFINITY] {
        let mut s = state(1, &[1]);
        s.lrs = vec![lr];
        expect(state_refused(dir.path(), "lr", s), |e| {
            matches!(e, StateError::LearningRate { group: 0, .. })
        });
    }
    let mut s = state(1, &[1]);
    s.format_version += 1;
    expect(state_refused(dir.path(), "version", s), |e| {
        matches!(e, StateError::Version { .. })
    });
    // A version 1 file: the bare state, unsealed.
    let target = dir.path().join("v1");
    let (model, opt) = trained(16, 1, None);
    save_checkpoint(&target, &model, &opt, &state(1, &[1])).unwrap();
    put(
        &target.join("training_state.json"),
        br#"{"format_version": 1, "model_type": "Net", "epoch": 1}"#,
    );
    let (mut model, mut opt) = trained(17, 1, None);
    let err = refused(&target, "training_state.json", &mut model, &mut opt, "v1");
    assert!(
        matches!(
            err,
            CheckpointError::State {
                source: StateError::Version { found: 1, .. },
                ..
            }
        ),
        "{err}"
    );
    // A PCG-64 MCG state of 0 yields zeros forever; serde gives one if the file says so.
    let zero: SeededRng = serde_json::from_str(r#"{"state":0}"#).unwrap();
    let mut s = state(1, &[1]);
    s.rng = zero;
    let err = state_refused(dir.path(), "rng", s);
    assert!(err.to_string().contains("RNG state 0 is even"), "{err}");

    // An epoch count past anything `fit` was asked for trains nothing, without wrapping.
    let target = dir.path().join("huge");
    let (model, opt) = trained(9, 1, None);
    save_checkpoint(&target, &model, &opt, &state(usize::MAX, &[1])).unwrap();
    let (mut model, mut opt) = trained(10, 1, None);
    let before = state_dict(&model);
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut opt,
        &synthetic::moons(32, 0.2, &mut seeded_rng(1)),
        None,
        &mut FitOptions::new(5, 16)
            .progress(Progress::Quiet)
            .resume_from(&target),
    )
    .unwrap();
    assert_eq!(history.epochs.len(), 1, "the saved history, nothing more");
    assert_ne!(
        state_dict(&model),
        before,
        "the checkpoint's weights were loaded"
    );
}

#[test]
fn hostile_headers_are_refused_before_reading_on_with_short_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.safetensors");
    let mut model = Net::new(&mut seeded_rng(11));
    let before = state_dict(&model);
    let mut load = |bytes: Option<&[u8]>| {
        if let Some(bytes) = bytes {
            std::fs::write(&path, bytes).unwrap();
        }
        let err = load_weights(&mut model, &path).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("hostile.safetensors"), "{message}");
        assert!(message.len() < 2000, "{} bytes of error", message.len());
        err
    };
    // 64 GiB of zeros (sparse, so no disk is used): a header length of 0 is refused before
    // the data is read. A loader that read the file first would need 64 GiB, more than these
    // machines have, and abort instead of returning this error.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(64 << 30).unwrap();
    drop(file);
    let err = load(None);
    assert!(
        matches!(
            err,
            CheckpointError::Safetensors {
                source: SafetensorsError::Header(_),
                ..
            }
        ),
        "{err}"
    );
    // A header length past the end of the file, or past safetensors' limit.
    let mut bytes = 1000u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    assert!(matches!(
        load(Some(&bytes)),
        CheckpointError::Safetensors {
            source: SafetensorsError::HeaderLength {
                header: 1000,
                available: 2
            },
            ..
        }
    ));
    assert!(matches!(
        load(Some(&u64::MAX.to_le_bytes())),
        CheckpointError::Safetensors {
            source: SafetensorsError::HeaderTooLarge { .. },
            ..
        }
    ));
    // 20,000 unexpected tensors, one with a 1 MB name: every key is counted, few are quoted.
    let extra = |count: usize| -> Vec<NamedTensor> {
        (0..count)
            .map(|i| NamedTensor {
                name: format!("extra.{i}"),
                shape: vec![1],
                data: TensorData::F32(vec![0.0]),
                learnable: true,
            })
            .collect()
    };
    let mut tensors = extra(20_000);
    tensors[0].name = "x".repeat(1 << 20);
    let err = load(Some(&to_bytes(&tensors).unwrap()));
    let CheckpointError::Keys { source, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(source.unexpected.len(), 20_000);
    assert!(err.to_string().contains("and 19980 more"), "{err}");
    // 100,000 of them make a header longer than any file of this model needs: refused
    // before the header is read.
    let err = load(Some(&to_bytes(&extra(100_000)).unwrap()));
    assert!(
        matches!(
            err,
            CheckpointError::Safetensors {
                source: SafetensorsError::HeaderTooLargeForModel { .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(state_dict(&model), before);
}

#[test]
fn a_failed_optimizer_load_puts_the_model_back_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("c");
    let (model, _) = trained(12, 1, None);
    let state = TrainingState::new(&model, 1, 4, vec![0.05], seeded_rng(0), History::default());
    // SGD with momentum writes `momentum_buffer`s where Adam expects `exp_avg`s.
    let mut sgd = SGD::new(0.1).unwrap().momentum(0.9).unwrap();
    let data = synthetic::moons(32, 0.2, &mut seeded_rng(1));
    let mut trained_sgd_model = Net::new(&mut seeded_rng(12));
    fit(
        &mut trained_sgd_model,
        &mut BCEWithLogitsLoss::new(),
        &mut sgd,
        &data,
        None,
        &mut FitOptions::new(1, 16).progress(Progress::Quiet),
    )
    .unwrap();
    save_checkpoint(&target, &model, &sgd, &state).unwrap();
    let mut fresh = Net::new(&mut seeded_rng(13));
    let before = state_dict(&fresh);
    let err = load_checkpoint(&target, &mut fresh, &mut Adam::new(0.1).unwrap()).unwrap_err();
    assert!(matches!(err, CheckpointError::Optimizer { .. }), "{err}");
    assert!(err.to_string().contains("optimizer.safetensors"), "{err}");
    assert_eq!(state_dict(&fresh), before);
}

#[test]
fn a_checkpoint_read_changes_nothing_and_says_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    trained(14, 2, Some(dir.path()));
    let checkpoint = Checkpoint::read(dir.path().join("last")).unwrap();
    assert_eq!(checkpoint.state.epoch, 2);
    assert_eq!(checkpoint.state.history.epochs.len(), 2);
    let model = Net::new(&mut seeded_rng(15));
    checkpoint.check(&model).unwrap();
}

#[test]
fn a_scheduler_state_that_does_not_fit_fails_the_resume_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let data = synthetic::moons(64, 0.2, &mut seeded_rng(1));
    let mut model = Net::new(&mut seeded_rng(18));
    let mut opt = Adam::new(0.05).unwrap();
    let mut options = FitOptions::new(1, 16)
        .progress(Progress::Quiet)
        .scheduler(StepLR::new(&mut opt, 3, 0.5).unwrap(), Every::Epoch)
        .checkpoint_dir(dir.path());
    let mut loss = BCEWithLogitsLoss::new();
    fit(&mut model, &mut loss, &mut opt, &data, None, &mut options).unwrap();

    // Resumed with a plateau scheduler, which finds none of its keys in StepLR's state.
    let (mut model, mut opt) = trained(19, 1, None);
    let before = snapshot(&model, &opt);
    let plateau = ReduceLROnPlateau::new(&mut opt);
    let mut options = FitOptions::new(3, 16)
        .progress(Progress::Quiet)
        .scheduler(plateau, Every::Epoch)
        .resume_from(dir.path().join("last"));
    let err = fit(&mut model, &mut loss, &mut opt, &data, None, &mut options).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("training_state.json"), "{message}");
    assert!(message.contains("scheduler state"), "{message}");
    assert!(
        snapshot(&model, &opt) == before,
        "the failed resume changed something"
    );
}
