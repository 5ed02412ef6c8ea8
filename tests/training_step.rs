//! The training step that cannot go wrong: an optimizer belongs to one parameter set, its
//! state is checked before it changes anything, parameter groups and frozen layers match
//! PyTorch step by step, and every schedule hands the optimizer PyTorch's rate from the first
//! step (`tests/fixtures/training_step.json`, written by `cases_training_step.py`).

mod common;

use common::{assert_close, f32s, fixture};
use serde_json::Value;
use staticnn::data::synthetic;
use staticnn::prelude::*;
use staticnn::{NamedTensor, TensorData, load_state_dict, state_dict};

model! {
    struct Mlp: [3] -> [2] { Linear(4), ReLU, Linear(4), ReLU, Linear(2) }
}

model! {
    struct Pair: [2] -> [1] { fc1: Linear(4), ReLU, out: Linear(1) }
}

fn tensors(state: &Value) -> Vec<NamedTensor> {
    state
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, t)| NamedTensor {
            name: name.clone(),
            shape: t["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect(),
            data: TensorData::F32(f32s(&t["values"])),
            learnable: true,
        })
        .collect()
}

fn f32_values(t: &NamedTensor) -> &[f32] {
    match &t.data {
        TensorData::F32(v) => v,
        TensorData::I64(_) => panic!("{} is not float32", t.name),
    }
}

/// Group `g` of a fixture config as a `ParamGroup` selecting `pattern`.
fn group(pattern: &str, config: &Value) -> ParamGroup {
    let mut g = ParamGroup::new(pattern);
    if let Some(lr) = config["lr"].as_f64() {
        g = g.lr(lr);
    }
    if let Some(wd) = config["weight_decay"].as_f64() {
        g = g.weight_decay(wd as f32);
    }
    if let Some(m) = config["momentum"].as_f64() {
        g = g.momentum(m as f32);
    }
    if let Some(b) = config["betas"].as_array() {
        g = g.betas(b[0].as_f64().unwrap(), b[1].as_f64().unwrap());
    }
    g
}

fn replay_groups<O: Optimizer>(case: &Value, mut optimizer: O) {
    let name = case["name"].as_str().unwrap();
    let mut model = Mlp::new(&mut seeded_rng(0));
    load_state_dict(&mut model, &tensors(&case["initial_state"])).unwrap();
    for pattern in case["frozen"].as_array().unwrap() {
        model.freeze(pattern.as_str().unwrap()).unwrap();
    }
    let x = Batch::<3>::from_vec(f32s(&case["input"])).unwrap();
    let y = Batch::<2>::from_vec(f32s(&case["target"])).unwrap();
    let mut scheduler = case["config"]["scheduler"].as_object().map(|s| {
        let f = |k: &str| s[k].as_f64().unwrap();
        LinearLR::new(
            &mut optimizer,
            f("start_factor"),
            f("end_factor"),
            f("total_iters") as u64,
        )
    });
    let mut criterion = MSELoss::new();
    for step in 0..case["losses"].as_array().unwrap().len() {
        model.zero_grad();
        let out = model.forward_train(&x);
        let (loss, grad) = criterion.value_and_grad(&out, &y).unwrap();
        out.backward(grad);
        let lrs: Vec<f64> = (0..optimizer.num_groups())
            .map(|g| optimizer.group_lr(g))
            .collect();
        for (g, expected) in case["lrs_per_step"][step]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let expected = expected.as_f64().unwrap();
            assert!(
                (lrs[g] - expected).abs() <= 1e-12 + 1e-9 * expected,
                "{name} step {step} group {g}: lr {} vs PyTorch {expected}",
                lrs[g]
            );
        }
        optimizer.step(&mut model).unwrap();
        if let Some(s) = &mut scheduler {
            s.step(&mut optimizer);
        }
        let expected_loss = case["losses"][step].as_f64().unwrap() as f32;
        assert_close(
            &[loss],
            &[expected_loss],
            &format!("{name} step {step} loss"),
        );
        let expected = tensors(&case["state_after_step"][step]);
        assert_eq!(state_dict(&model).len(), expected.len());
        for ours in state_dict(&model) {
            let theirs = expected.iter().find(|t| t.name == ours.name).unwrap();
            assert_close(
                f32_values(&ours),
                f32_values(theirs),
                &format!("{name} step {step} {}", ours.name),
            );
        }
    }
    // The frozen layer kept no state and no gradient.
    assert!(optimizer.state().iter().all(|t| !t.name.starts_with("0.")));
    assert!(model.layer_0.weight.grad.iter().all(|&g| g == 0.0));
}

#[test]
fn param_groups_and_a_frozen_layer_match_pytorch_step_by_step() {
    let data = fixture("training_step.json");
    let cases = data["param_groups"].as_array().unwrap();
    assert!(cases.len() >= 2);
    for case in cases {
        let config = &case["config"];
        let groups = config["groups"].as_array().unwrap();
        let patterns = case["groups"].as_array().unwrap();
        let lr = config["lr"].as_f64().unwrap();
        match config["optimizer"].as_str().unwrap() {
            "SGD" => {
                let mut o = SGD::new(lr).momentum(config["momentum"].as_f64().unwrap() as f32);
                for (p, g) in patterns.iter().zip(&groups[1..]) {
                    o = o.param_group(group(p.as_str().unwrap(), g));
                }
                replay_groups(case, o);
            }
            "Adam" => {
                let mut o = Adam::new(lr);
                for (p, g) in patterns.iter().zip(&groups[1..]) {
                    o = o.param_group(group(p.as_str().unwrap(), g));
                }
                replay_groups(case, o);
            }
            other => panic!("optimizer {other}"),
        }
    }
}

/// Builds the schedule a fixture case describes, attached to `optimizer`.
fn schedule(config: &Value, optimizer: &mut dyn LearningRate) -> Box<dyn Scheduler> {
    let f = |c: &Value, k: &str| c[k].as_f64().unwrap();
    let linear = |c: &Value, o: &mut dyn LearningRate| {
        LinearLR::new(
            o,
            f(c, "start_factor"),
            f(c, "end_factor"),
            f(c, "total_iters") as u64,
        )
    };
    match config["kind"].as_str().unwrap() {
        "LinearLR" => Box::new(linear(config, optimizer)),
        "OneCycleLR" => Box::new(
            OneCycleLR::new(
                optimizer,
                f(config, "max_lr"),
                f(config, "total_steps") as u64,
            )
            .pct_start(f(config, "pct_start")),
        ),
        "SequentialLR" => {
            let warmup = linear(&config["warmup"], optimizer);
            let c = &config["cosine"];
            let cosine = CosineAnnealingLR::new(optimizer, f(c, "T_max") as u64, f(c, "eta_min"));
            let milestones = config["milestones"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_u64().unwrap())
                .collect();
            Box::new(
                SequentialLR::new(
                    optimizer,
                    vec![Box::new(warmup), Box::new(cosine)],
                    milestones,
                )
                .unwrap(),
            )
        }
        other => panic!("schedule {other}"),
    }
}

fn assert_rate(ours: f64, expected: &Value, what: &str) {
    let expected = expected.as_f64().unwrap();
    assert!(
        (ours - expected).abs() <= 1e-12 + 1e-9 * expected.abs(),
        "{what}: the optimizer used {ours}, PyTorch {expected}"
    );
}

#[test]
fn schedules_hand_the_optimizer_pytorchs_rate_from_the_first_step() {
    for case in fixture("training_step.json")["schedules"]
        .as_array()
        .unwrap()
    {
        let name = case["name"].as_str().unwrap();
        let lrs: Vec<f64> = case["group_lrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        // Two groups, one per parameter, each with its own starting rate.
        let mut optimizer = SGD::new(lrs[0]).param_group(ParamGroup::new("out").lr(lrs[1]));
        let mut model = Pair::new(&mut seeded_rng(0));
        model.freeze("fc1").unwrap();
        let mut sched = schedule(&case["config"], &mut optimizer);
        for (step, expected) in case["lrs_per_step"].as_array().unwrap().iter().enumerate() {
            for (g, e) in expected.as_array().unwrap().iter().enumerate() {
                assert_rate(
                    optimizer.group_lr(g),
                    e,
                    &format!("{name} step {step} group {g}"),
                );
            }
            optimizer.step(&mut model).unwrap();
            sched.step(&mut optimizer);
        }
    }
}

#[test]
fn inside_fit_each_epoch_trains_at_pytorchs_rate() {
    let data = synthetic::moons(64, 0.2, &mut seeded_rng(3));
    for case in fixture("training_step.json")["schedules"]
        .as_array()
        .unwrap()
    {
        let name = case["name"].as_str().unwrap();
        let expected = case["lrs_per_step"].as_array().unwrap();
        let mut model = Pair::new(&mut seeded_rng(0));
        let mut optimizer = SGD::new(case["group_lrs"][0].as_f64().unwrap());
        let sched = schedule(&case["config"], &mut optimizer);
        let mut options = FitOptions::new(expected.len(), 32).progress(Progress::Quiet);
        options.scheduler = Some((sched, Every::Epoch));
        let history = fit(
            &mut model,
            &mut BCEWithLogitsLoss::new(),
            &mut optimizer,
            &data,
            None,
            &mut options,
        )
        .unwrap();
        for (epoch, (record, e)) in history.epochs.iter().zip(expected).enumerate() {
            assert_rate(record.lr, &e[0], &format!("{name} in fit, epoch {epoch}"));
        }
    }
}

#[test]
fn one_optimizer_over_two_modules_is_an_error_naming_both() {
    let mut model = Pair::new(&mut seeded_rng(1));
    let x = Batch::from_rows(&[[0.5, -1.0]]);
    let out = model.forward_train(&x);
    out.backward(&Batch::from_rows(&[[1.0]]));
    let mut adam = Adam::new(0.01);
    adam.step(&mut model.fc1).unwrap();
    let before = state_dict(&model);
    let err = adam.step(&mut model.out).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, OptimizerError::ForeignParameters { .. }),
        "{text}"
    );
    assert!(
        text.contains("weight [4, 2]"),
        "names the bound set: {text}"
    );
    assert!(
        text.contains("weight [1, 4]"),
        "names the given set: {text}"
    );
    assert_eq!(state_dict(&model), before, "nothing was updated");
    // The same shapes are not enough: another tensor is another parameter.
    let mut twin = Pair::new(&mut seeded_rng(1));
    let err = adam.step(&mut twin.fc1).unwrap_err().to_string();
    assert!(err.contains("another tensor"), "{err}");
}

/// An Adam that has taken two steps on `model`.
fn stepped(model: &mut Pair) -> Adam {
    let mut adam = Adam::new(0.01);
    for _ in 0..2 {
        model.zero_grad();
        let out = model.forward_train(&Batch::from_rows(&[[0.5, -1.0], [1.0, 2.0]]));
        out.backward(&Batch::from_rows(&[[1.0], [-0.5]]));
        adam.step(model).unwrap();
    }
    adam
}

#[test]
fn state_is_keyed_by_parameter_name() {
    let mut model = Pair::new(&mut seeded_rng(1));
    let adam = stepped(&mut model);
    let names: Vec<String> = adam.state().into_iter().map(|t| t.name).collect();
    for key in [
        "fc1.weight.exp_avg",
        "fc1.weight.exp_avg_sq",
        "fc1.weight.step",
    ] {
        assert!(names.iter().any(|n| n == key), "{key} in {names:?}");
    }
    let mut fresh = Adam::new(0.01);
    fresh.load_state(&model, &adam.state()).unwrap();
    assert_eq!(fresh.state(), adam.state());
}

#[test]
fn bad_state_is_a_named_error_and_changes_nothing() {
    let mut model = Pair::new(&mut seeded_rng(1));
    let mut adam = stepped(&mut model);
    let good = adam.state();

    let mut short = good.clone();
    let exp_avg = short
        .iter_mut()
        .find(|t| t.name == "out.weight.exp_avg")
        .unwrap();
    exp_avg.data = TensorData::F32(vec![0.0; 3]);
    exp_avg.shape = vec![3];
    let err = adam.load_state(&model, &short).unwrap_err().to_string();
    assert!(
        err.contains("out.weight.exp_avg has 3 values, expected 4"),
        "{err}"
    );
    assert_eq!(adam.state(), good);

    // State of another model: its parameters have other names.
    model! { struct Other: [2] -> [1] { hidden: Linear(4), ReLU, head: Linear(1) } }
    let mut other = Other::new(&mut seeded_rng(1));
    let mut foreign_adam = Adam::new(0.01);
    other.zero_grad();
    let out = other.forward_train(&Batch::from_rows(&[[0.5, -1.0]]));
    out.backward(&Batch::from_rows(&[[1.0]]));
    foreign_adam.step(&mut other).unwrap();
    let err = adam
        .load_state(&model, &foreign_adam.state())
        .unwrap_err()
        .to_string();
    assert!(err.contains("names no parameter of this model"), "{err}");
    assert_eq!(adam.state(), good);

    // State of another optimizer: SGD's momentum buffers are not Adam's.
    let mut sgd = SGD::new(0.1).momentum(0.9);
    sgd.step(&mut model).unwrap();
    let err = adam
        .load_state(&model, &sgd.state())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("momentum_buffer is not a buffer Adam keeps"),
        "{err}"
    );
    assert_eq!(adam.state(), good);

    // A stepped parameter missing one of its buffers.
    let partial: Vec<NamedTensor> = good
        .iter()
        .filter(|t| t.name != "fc1.bias.exp_avg_sq")
        .cloned()
        .collect();
    let err = adam.load_state(&model, &partial).unwrap_err().to_string();
    assert!(err.contains("missing fc1.bias.exp_avg_sq"), "{err}");
    assert_eq!(adam.state(), good);
}

#[test]
fn hyperparameters_pytorch_refuses_are_errors_before_any_update() {
    let mut model = Pair::new(&mut seeded_rng(1));
    let before = state_dict(&model);
    let bad: Vec<(AnyOptimizer, &str)> = vec![
        (AnyOptimizer::SGD(SGD::new(-0.1)), "lr"),
        (AnyOptimizer::SGD(SGD::new(f64::NAN)), "lr"),
        (AnyOptimizer::Adam(Adam::new(f64::INFINITY)), "lr"),
        (AnyOptimizer::Adam(Adam::new(0.1).betas(0.9, 1.0)), "beta2"),
        (
            AnyOptimizer::Adam(Adam::new(0.1).weight_decay(-1.0)),
            "weight_decay",
        ),
        (
            AnyOptimizer::SGD(SGD::new(0.1).param_group(ParamGroup::new("out").lr(-1.0))),
            "lr",
        ),
        (AnyOptimizer::SGD(SGD::new(0.1).nesterov(true)), "nesterov"),
        (
            AnyOptimizer::RMSprop(RMSprop::new(0.1).momentum(-0.5)),
            "momentum",
        ),
    ];
    for (mut optimizer, what) in bad {
        let err = optimizer.step(&mut model).unwrap_err();
        assert!(
            matches!(err, OptimizerError::Hyperparameter { name, .. } if name == what),
            "{what}: {err}"
        );
    }
    assert_eq!(state_dict(&model), before);
}

#[test]
fn groups_must_select_and_must_not_overlap() {
    let mut model = Pair::new(&mut seeded_rng(1));
    let err = SGD::new(0.1)
        .param_group(ParamGroup::new("fc2"))
        .step(&mut model)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`fc2` selects no parameter"), "{err}");
    assert!(err.contains("fc1.weight"), "lists the keys: {err}");
    let err = SGD::new(0.1)
        .param_group(ParamGroup::new("fc1"))
        .param_group(ParamGroup::new("*.weight"))
        .step(&mut model)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`fc1.weight` is selected by two parameter groups"),
        "{err}"
    );
    // `fc1` is a module prefix, not a string prefix.
    assert!(model.freeze("fc").is_err());
}

#[test]
fn a_frozen_layer_gets_no_gradient_and_no_update() {
    let mut model = Pair::new(&mut seeded_rng(1));
    assert_eq!(model.freeze("fc1").unwrap(), 2);
    let frozen = model.fc1.weight.value.clone();
    let mut adam = stepped(&mut model);
    assert!(model.fc1.weight.grad.iter().all(|&g| g == 0.0));
    assert_eq!(model.fc1.weight.value, frozen);
    assert!(adam.state().iter().all(|t| !t.name.starts_with("fc1.")));
    // Unfreezing later starts its state then, as PyTorch does for a parameter first stepped.
    model.unfreeze("fc1.").unwrap();
    model.zero_grad();
    let out = model.forward_train(&Batch::from_rows(&[[0.5, -1.0]]));
    out.backward(&Batch::from_rows(&[[1.0]]));
    adam.step(&mut model).unwrap();
    let state = adam.state();
    let step = state.iter().find(|t| t.name == "fc1.weight.step").unwrap();
    assert_eq!(step.data, TensorData::I64(vec![1]));
    assert_ne!(model.fc1.weight.value, frozen);
}

/// The same model declared in two places, as a train binary and a serve binary would.
mod train_binary {
    staticnn::model! {
        pub struct Classifier: [2] -> [1] { fc1: Linear(8), ReLU, drop: Dropout(0.1), out: Linear(1) }
    }
}
mod serve_binary {
    staticnn::model! {
        pub struct Classifier: [2] -> [1] { fc1: Linear(8), ReLU, drop: Dropout(0.1), out: Linear(1) }
    }
}
mod other_architecture {
    staticnn::model! {
        pub struct Classifier: [2] -> [1] { fc1: Linear(8), GELU, drop: Dropout(0.1), out: Linear(2), Linear(1) }
    }
}

#[test]
fn a_checkpoint_saved_by_one_binary_resumes_in_another() {
    let dir = tempfile::tempdir().unwrap();
    let data = synthetic::moons(96, 0.2, &mut seeded_rng(5));
    let options = |epochs| {
        FitOptions::new(epochs, 16)
            .progress(Progress::Quiet)
            .checkpoint_dir(dir.path())
    };
    let train = |model: &mut dyn FnMut(&mut FitOptions, &mut Adam) -> History, epochs| {
        let mut adam = Adam::new(0.01);
        let mut o = options(epochs);
        model(&mut o, &mut adam)
    };
    let mut straight = train_binary::Classifier::new(&mut seeded_rng(6));
    let full = train(
        &mut |o, adam| {
            fit(
                &mut straight,
                &mut BCEWithLogitsLoss::new(),
                adam,
                &data,
                None,
                o,
            )
            .unwrap()
        },
        6,
    );
    let mut first = train_binary::Classifier::new(&mut seeded_rng(6));
    train(
        &mut |o, adam| {
            fit(
                &mut first,
                &mut BCEWithLogitsLoss::new(),
                adam,
                &data,
                None,
                o,
            )
            .unwrap()
        },
        3,
    );
    let mut served = serve_binary::Classifier::new(&mut seeded_rng(99));
    let resumed = train(
        &mut |o, adam| {
            o.resume_from = Some(dir.path().join("last"));
            fit(
                &mut served,
                &mut BCEWithLogitsLoss::new(),
                adam,
                &data,
                None,
                o,
            )
            .unwrap()
        },
        6,
    );
    assert_eq!(state_dict(&served), state_dict(&straight));
    let losses = |h: &History| h.epochs.iter().map(|e| e.loss).collect::<Vec<_>>();
    assert_eq!(losses(&resumed), losses(&full));

    let mut other = other_architecture::Classifier::new(&mut seeded_rng(6));
    let before = state_dict(&other);
    let err = staticnn::checkpoint::load_checkpoint(
        dir.path().join("last"),
        &mut other,
        &mut Adam::new(0.01),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("another model than `Classifier`"), "{err}");
    assert!(err.contains("- 1: Elementwise<ReLUFn>"), "{err}");
    assert!(err.contains("+ out.weight [2, 8]"), "{err}");
    assert_eq!(
        state_dict(&other),
        before,
        "a refused checkpoint changes nothing"
    );
}
