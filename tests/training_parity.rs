//! End to end: generated models trained on `training.json` reproduce PyTorch's loss after
//! every step, the epoch losses, the final weights and outputs.

mod common;

use common::{assert_close_tol, f32s, fixture, usizes};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use serde_json::Value;
use staticnn::prelude::*;
use staticnn::{NamedTensor, TensorData};

model! {
    /// nn.Sequential(Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 1))
    struct BinaryMlp: [2] -> [1] {
        Linear(16),
        ReLU,
        Linear(16),
        ReLU,
        Linear(1),
    }
}

model! {
    /// nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
    struct MulticlassMlp: [4] -> [3] {
        Linear(8),
        ReLU,
        Linear(3),
    }
}

fn case(name: &str) -> Value {
    fixture("training.json")["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
        .clone()
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

fn assert_params(model: &impl Module, expected: &Value, what: &str) {
    for (ours, theirs) in staticnn::state_dict(model).iter().zip(state(expected)) {
        assert_eq!(ours.name, theirs.name);
        let (TensorData::F32(a), TensorData::F32(b)) = (&ours.data, &theirs.data) else {
            panic!()
        };
        assert_close_tol(a, b, 1e-5, 1e-4, &format!("{what} {}", ours.name));
    }
}

fn relative(a: f32, b: f32) -> f32 {
    (a - b).abs() / b.abs().max(1e-6)
}

/// Replays a case: loads its initial weights, trains on consecutive batches, and compares the
/// loss of every step, the weights after the first step, each epoch's full-data loss, and the
/// final weights and outputs.
fn replay<M, L, O, T, const I: usize, const OUT: usize>(
    c: &Value,
    mut model: M,
    mut criterion: L,
    mut optimizer: O,
    targets: &T,
    slice: impl Fn(&T, usize, usize) -> &L::Target,
) where
    M: Forward<I, OUT>,
    L: Loss<OUT>,
    O: Optimizer,
{
    staticnn::load_state_dict(&mut model, &state(&c["initial_params"])).unwrap();
    let x = Batch::<I>::from_vec(f32s(&c["X"])).unwrap();
    let expected_losses = f32s(&c["step_losses"]);
    let batch = c["batch_size"].as_u64().unwrap() as usize;
    let mut step = 0;
    for epoch in 0..c["epochs"].as_u64().unwrap() as usize {
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
                "step {step}: loss {loss}, PyTorch {} ({r})",
                expected_losses[step]
            );
            out.backward(grad);
            optimizer
                .step(&mut model)
                .expect("the optimizer's own model");
            if step == 0 {
                assert_params(&model, &c["params_after_first_step"], "after step 0");
            }
            step += 1;
        }
        let full = criterion
            .value(&model.forward(&x), slice(targets, 0, x.rows()))
            .unwrap();
        let expected = f32s(&c["epoch_end_full_dataset_loss"])[epoch];
        assert!(
            relative(full, expected) <= 1e-4,
            "epoch {epoch}: {full} vs {expected}"
        );
    }
    assert_eq!(step, expected_losses.len());
    assert_params(&model, &c["final_params"], "final");
    assert_close_tol(
        model.forward(&x).as_slice(),
        &f32s(&c["final_outputs"]),
        1e-5,
        1e-4,
        "outputs",
    );
}

#[test]
fn binary_mlp_with_bce_with_logits_and_adam() {
    let c = case("binary_mlp_bcewithlogits_adam");
    let y = Batch::<1>::from_vec(f32s(&c["y"])).unwrap();
    let model = BinaryMlp::new(&mut Pcg64Mcg::seed_from_u64(0));
    replay(
        &c,
        model,
        BCEWithLogitsLoss::new(),
        Adam::new(0.01),
        &y,
        |y, a, b| y.slice_rows(a, b),
    );
}

#[test]
fn multiclass_mlp_with_cross_entropy_and_sgd_momentum() {
    let c = case("multiclass_mlp_crossentropy_sgd_momentum");
    let y = usizes(&c["y"]);
    let model = MulticlassMlp::new(&mut Pcg64Mcg::seed_from_u64(0));
    replay(
        &c,
        model,
        CrossEntropyLoss::new(),
        SGD::new(0.1).momentum(0.9),
        &y,
        |y, a, b| &y[a..b],
    );
}
