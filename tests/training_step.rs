//! The training step that cannot go wrong: an optimizer belongs to one parameter set, its
//! state is checked before it changes anything, groups must select and not overlap, a frozen
//! layer gets no gradient and no update, hyperparameters PyTorch refuses are errors. (Groups
//! with a frozen layer and the schedules against PyTorch, `tests/fixtures/training_step.json`,
//! are in the generated parity suite, `parity/`.)

use staticnn::data::synthetic;
use staticnn::prelude::*;
use staticnn::{NamedTensor, TensorData, state_dict};

#[path = "support/panics.rs"]
mod panics;
use panics::panic_message;

model! {
    struct Pair: [2] -> [1] { fc1: Linear(4), ReLU, out: Linear(1) }
}

#[test]
fn one_optimizer_over_two_modules_is_an_error_naming_both() {
    let mut model = Pair::new(&mut seeded_rng(1));
    let x = Batch::from_rows(&[[0.5, -1.0]]);
    let out = model.forward_train(&x);
    out.backward(&Batch::from_rows(&[[1.0]]));
    let mut adam = Adam::new(0.01).unwrap();
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
    let mut adam = Adam::new(0.01).unwrap();
    for _ in 0..2 {
        model.zero_grad();
        let x = Batch::from_rows(&[[0.5, -1.0], [1.0, 2.0]]);
        let out = model.forward_train(&x);
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
    let mut fresh = Adam::new(0.01).unwrap();
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
    let mut foreign_adam = Adam::new(0.01).unwrap();
    other.zero_grad();
    let x = Batch::from_rows(&[[0.5, -1.0]]);
    let out = other.forward_train(&x);
    out.backward(&Batch::from_rows(&[[1.0]]));
    foreign_adam.step(&mut other).unwrap();
    let err = adam
        .load_state(&model, &foreign_adam.state())
        .unwrap_err()
        .to_string();
    assert!(err.contains("names no parameter of this model"), "{err}");
    assert_eq!(adam.state(), good);

    // State of another optimizer: SGD's momentum buffers are not Adam's.
    let mut sgd = SGD::new(0.1).unwrap().momentum(0.9).unwrap();
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

/// PyTorch's constructors raise `ValueError` for these; here the constructor or the setter
/// that takes the value returns the error, naming the optimizer, the value and the rule.
#[test]
fn hyperparameters_pytorch_refuses_are_errors_at_construction() {
    fn name<T: std::fmt::Debug>(r: Result<T, OptimizerError>) -> &'static str {
        match r {
            Err(OptimizerError::Hyperparameter { name, .. }) => name,
            other => panic!("accepted: {other:?}"),
        }
    }
    assert_eq!(name(SGD::new(-0.1)), "lr");
    assert_eq!(name(SGD::new(f64::NAN)), "lr");
    assert_eq!(name(Adam::new(f64::INFINITY)), "lr");
    assert_eq!(name(AdamW::new(-1e-3)), "lr");
    assert_eq!(name(RMSprop::new(f64::NEG_INFINITY)), "lr");
    assert_eq!(name(Adagrad::new(f64::NAN)), "lr");
    assert_eq!(
        name(Adam::new(0.1).and_then(|a| a.betas(0.9, 1.0))),
        "beta2"
    );
    assert_eq!(
        name(Adam::new(0.1).and_then(|a| a.betas(-0.1, 0.9))),
        "beta1"
    );
    assert_eq!(name(Adam::new(0.1).and_then(|a| a.eps(-1e-8))), "eps");
    let adam_decay = Adam::new(0.1).and_then(|a| a.weight_decay(-1.0));
    assert_eq!(name(adam_decay), "weight_decay");
    assert_eq!(
        name(SGD::new(0.1).and_then(|o| o.momentum(f32::NAN))),
        "momentum"
    );
    let sgd_decay = SGD::new(0.1).and_then(|o| o.weight_decay(-0.5));
    assert_eq!(name(sgd_decay), "weight_decay");
    assert_eq!(
        name(RMSprop::new(0.1).and_then(|o| o.momentum(-0.5))),
        "momentum"
    );
    assert_eq!(name(RMSprop::new(0.1).and_then(|o| o.alpha(-0.9))), "alpha");
    assert_eq!(
        name(Adagrad::new(0.1).and_then(|o| o.lr_decay(-1.0))),
        "lr_decay"
    );
    let initial = Adagrad::new(0.1).and_then(|o| o.initial_accumulator_value(-1.0));
    assert_eq!(name(initial), "initial_accumulator_value");
    let err = SGD::new(-0.1).unwrap_err().to_string();
    assert!(
        err.contains("SGD") && err.contains("lr") && err.contains("-0.1"),
        "{err}"
    );
    let err = AnyOptimizer::from_name("adam", f64::NAN)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Adam: invalid lr NaN"), "{err}");
}

/// What only the whole configuration shows (a group's own rate, Nesterov without momentum,
/// a public field set directly or a rate a scheduler set) is refused at the first step,
/// before anything changes.
#[test]
fn hyperparameters_only_the_configuration_shows_are_errors_before_any_update() {
    let mut model = Pair::new(&mut seeded_rng(1));
    let before = state_dict(&model);
    let mut adam = Adam::new(0.1).unwrap();
    adam.betas = (0.9, 1.0);
    let mut nan_lr = SGD::new(0.1).unwrap();
    nan_lr.set_lr(f64::NAN);
    let bad: Vec<(AnyOptimizer, &str)> = vec![
        (
            AnyOptimizer::SGD(
                SGD::new(0.1)
                    .unwrap()
                    .param_group(ParamGroup::new("out").lr(-1.0)),
            ),
            "lr",
        ),
        (
            AnyOptimizer::SGD(SGD::new(0.1).unwrap().nesterov(true)),
            "nesterov",
        ),
        (AnyOptimizer::Adam(adam), "beta2"),
        (AnyOptimizer::SGD(nan_lr), "lr"),
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
        .unwrap()
        .param_group(ParamGroup::new("fc2"))
        .step(&mut model)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`fc2` selects no parameter"), "{err}");
    assert!(err.contains("fc1.weight"), "lists the keys: {err}");
    let err = SGD::new(0.1)
        .unwrap()
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
    let x = Batch::from_rows(&[[0.5, -1.0]]);
    let out = model.forward_train(&x);
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
        let mut adam = Adam::new(0.01).unwrap();
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
        &mut Adam::new(0.01).unwrap(),
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

/// PyTorch refuses `out.backward(grad)` with a gradient of another shape ("Mismatch in
/// shape"). Rows past a shorter gradient were silently left out of the weight gradient (the
/// small-batch kernels zip the rows), so a gradient with other rows than the forward pass is
/// a panic that names both counts, before any layer runs.
#[test]
fn a_gradient_with_other_rows_than_the_forward_pass_is_refused() {
    for (rows, grad_rows) in [(2, 1), (2, 3), (8, 5), (1, 0)] {
        let mut model = Pair::new(&mut seeded_rng(1));
        let x = Batch::<2>::from_vec(vec![0.25; rows * 2]).unwrap();
        let grad = Batch::<1>::from_vec(vec![1.0; grad_rows]).unwrap();
        for params_only in [false, true] {
            let text = panic_message(|| {
                let out = model.forward_train(&x);
                if params_only {
                    out.backward_params(&grad);
                } else {
                    out.backward(&grad);
                }
            });
            assert!(
                text.contains(&format!("{grad_rows} rows"))
                    && text.contains(&format!("{rows} rows")),
                "{rows} rows, gradient of {grad_rows}: {text}"
            );
            let grads = [&model.fc1.weight, &model.out.weight].map(|p| p.grad.clone());
            assert!(
                grads.iter().flatten().all(|g| *g == 0.0),
                "no gradient was added"
            );
        }
    }
}

/// A loss of one's own whose gradient has a row too few.
struct ShortGradient(Batch<1>);

impl Loss<1> for ShortGradient {
    type Target = BatchSlice<1>;
    fn elementwise(&self, x: &BatchSlice<1>, _: &BatchSlice<1>) -> Result<Vec<f32>, LossError> {
        Ok(vec![0.0; x.rows()])
    }
    fn value(&self, _: &BatchSlice<1>, _: &BatchSlice<1>) -> Result<f32, LossError> {
        Ok(0.0)
    }
    fn value_and_grad(
        &mut self,
        x: &BatchSlice<1>,
        _: &BatchSlice<1>,
    ) -> Result<(f32, &BatchSlice<1>), LossError> {
        self.0 = Batch::from_vec(vec![1.0; x.rows().saturating_sub(1)]).unwrap();
        Ok((0.0, &self.0))
    }
}

/// `fit`'s own backward checks the rows of a loss's gradient as `Trace::backward` does.
#[test]
fn fit_refuses_a_loss_gradient_with_other_rows() {
    let x = Batch::<2>::from_vec(vec![0.5; 8]).unwrap();
    let y = Batch::<1>::from_vec(vec![1.0; 4]).unwrap();
    let data = staticnn::data::Dataset::new(x, y).unwrap();
    let mut model = Pair::new(&mut seeded_rng(1));
    let mut sgd = SGD::new(0.1).unwrap();
    let mut loss = ShortGradient(Batch::new());
    let mut options = FitOptions::new(1, 4).progress(Progress::Quiet);
    let text = panic_message(|| {
        let _ = fit(&mut model, &mut loss, &mut sgd, &data, None, &mut options);
    });
    assert!(text.contains("3 rows") && text.contains("4 rows"), "{text}");
}
