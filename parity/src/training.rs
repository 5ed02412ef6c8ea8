//! A whole training run: the generated model loads PyTorch's initial weights, trains on
//! consecutive batches with the case's loss and optimizer, and reproduces the loss of every
//! step, the weights after the first step, each epoch's full-data loss, and the final weights
//! and outputs.

use serde_json::Value;
use staticnn::loss::*;
use staticnn::optim::{AnyOptimizer, Optimizer};
use staticnn::{Batch, Forward, Init, Module, NamedTensor, TensorData, seeded_rng};

use crate::{Config, assert_close_tol, f32s, name, usizes};

pub fn replay<M: Forward<I, O> + Init, const I: usize, const O: usize>(case: &Value) {
    let name = name(case);
    for key in ["shuffle", "drop_last"] {
        assert_eq!(
            case[key], false,
            "{name}: `{key}` is replayed only as false"
        );
    }
    let loss = Config::new(format!("{name} loss"), &case["loss"]);
    let kind = loss.str_or("name", "");
    let reduction = match loss.str_or("reduction", "mean") {
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        other => panic!("{name}: reduction {other}"),
    };
    let opt = Config::new(format!("{name} optimizer"), &case["optimizer"]);
    let optimizer = crate::optim::from_config(opt.str_or("name", ""), &opt)
        .expect("hyperparameters PyTorch accepted");
    opt.done();
    let values = || Batch::<O>::from_vec(f32s(&case["y"])).unwrap();
    let classes = || usizes(&case["y"]);
    match kind {
        "MSELoss" => run::<M, _, _, I, O>(
            case,
            MSELoss::new().reduction(reduction),
            optimizer,
            &values(),
            |t, a, b| t.slice_rows(a, b),
        ),
        "BCEWithLogitsLoss" => run::<M, _, _, I, O>(
            case,
            BCEWithLogitsLoss::new().reduction(reduction),
            optimizer,
            &values(),
            |t, a, b| t.slice_rows(a, b),
        ),
        "CrossEntropyLoss" => {
            let criterion = CrossEntropyLoss::new()
                .reduction(reduction)
                .label_smoothing(loss.f32_or("label_smoothing", 0.0));
            run::<M, _, _, I, O>(case, criterion, optimizer, &classes(), |t, a, b| &t[a..b])
        }
        other => panic!("{name}: a training run with {other} has no replay"),
    }
    loss.done();
}

fn run<M, L, T, const I: usize, const O: usize>(
    case: &Value,
    mut criterion: L,
    mut optimizer: AnyOptimizer,
    targets: &T,
    slice: impl Fn(&T, usize, usize) -> &L::Target,
) where
    M: Forward<I, O> + Init,
    L: Loss<O>,
    T: ?Sized,
{
    let name = name(case);
    let mut model = M::init(&mut seeded_rng(0));
    staticnn::load_state_dict(&mut model, &state(&case["initial_params"]))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let x = Batch::<I>::from_vec(f32s(&case["X"])).unwrap();
    let expected_losses = f32s(&case["step_losses"]);
    let batch = case["batch_size"].as_u64().unwrap() as usize;
    let epochs = case["epochs"].as_u64().unwrap() as usize;
    let mut step = 0;
    for epoch in 0..epochs {
        model.train();
        for start in (0..x.rows()).step_by(batch) {
            let end = (start + batch).min(x.rows());
            model.zero_grad();
            let out = model.forward_train(x.slice_rows(start, end));
            let (loss, grad) = criterion
                .value_and_grad(&out, slice(targets, start, end))
                .unwrap();
            let r = relative(loss, expected_losses[step]);
            assert!(
                r <= 1e-4,
                "{name} step {step}: loss {loss}, PyTorch {} ({r})",
                expected_losses[step]
            );
            out.backward(grad);
            optimizer
                .step(&mut model)
                .expect("the optimizer's own model");
            if step == 0 {
                assert_params(
                    &model,
                    &case["params_after_first_step"],
                    name,
                    "after step 0",
                );
            }
            step += 1;
        }
        model.eval();
        let full = criterion
            .value(&model.forward(&x), slice(targets, 0, x.rows()))
            .unwrap();
        let expected = f32s(&case["epoch_end_full_dataset_loss"])[epoch];
        assert!(
            relative(full, expected) <= 1e-4,
            "{name} epoch {epoch}: {full} vs {expected}"
        );
    }
    assert_eq!(step, expected_losses.len(), "{name}: steps");
    assert_eq!(
        Some(step as u64 / epochs as u64),
        case["steps_per_epoch"].as_u64(),
        "{name}: steps per epoch"
    );
    assert_params(&model, &case["final_params"], name, "final");
    assert_close_tol(
        model.forward(&x).as_slice(),
        &f32s(&case["final_outputs"]),
        1e-5,
        1e-4,
        &format!("{name} outputs"),
    );
}

/// `initial_params` is a list over the Linear layers, which nn.Sequential keys 0, 2, 4, ...
fn state(params: &Value) -> Vec<NamedTensor> {
    let mut out = Vec::new();
    for (i, layer) in params.as_array().unwrap().iter().enumerate() {
        for part in ["weight", "bias"] {
            let values = f32s(&layer[part]);
            let rows = layer[part].as_array().unwrap().len();
            let shape = if part == "weight" {
                vec![rows, values.len() / rows]
            } else {
                vec![rows]
            };
            out.push(NamedTensor {
                name: format!("{}.{part}", 2 * i),
                shape,
                data: TensorData::F32(values),
                learnable: true,
            });
        }
    }
    out
}

fn assert_params(model: &impl Module, expected: &Value, name: &str, what: &str) {
    let theirs = state(expected);
    let ours = staticnn::state_dict(model);
    assert_eq!(ours.len(), theirs.len(), "{name}: parameter count");
    for (ours, theirs) in ours.iter().zip(theirs) {
        assert_eq!(ours.name, theirs.name);
        let (TensorData::F32(a), TensorData::F32(b)) = (&ours.data, &theirs.data) else {
            panic!("{name}: {} is not float", ours.name)
        };
        assert_close_tol(a, b, 1e-5, 1e-4, &format!("{name} {what} {}", ours.name));
    }
}

fn relative(a: f32, b: f32) -> f32 {
    (a - b).abs() / b.abs().max(1e-6)
}
