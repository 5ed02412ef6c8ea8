//! Keras's `class_weight` against PyTorch's weighted CrossEntropy on the committed fixture
//! case (`losses.json`, `crossentropy_weight_sum`, `F.cross_entropy(x, y, weight=w,
//! reduction='sum')`): weighting each row by its class's weight is PyTorch's weighted sum
//! exactly; Keras's mean is that sum over the row count (PyTorch's mean divides by Σ w[y_i]
//! instead, which the fixture's `_mean` case shows is a different number).

use staticnn::Batch;
use staticnn::loss::{CrossEntropyLoss, Loss, Reduction};
use staticnn_parity::{assert_close, f32s, file, usizes};

fn case(name: &str) -> &'static serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/losses.json");
    let cases = file(path)["losses"]["CrossEntropyLoss"].as_array().unwrap();
    cases.iter().find(|c| c["name"] == name).unwrap()
}

#[test]
fn class_weights_are_pytorchs_weighted_cross_entropy() {
    let sum = case("crossentropy_weight_sum");
    let weight = f32s(&sum["config"]["weight"]);
    let input = f32s(&sum["input"]);
    let classes = weight.len();
    let rows = input.len() / classes;
    assert_eq!(classes, 4, "the fixture's shape");
    let x = Batch::<4>::from_vec(input).unwrap();
    let y = usizes(&sum["target"]);
    // What FitOptions::class_weight hands the loss: each row's class weight.
    let row_weights: Vec<f32> = y.iter().map(|&c| weight[c]).collect();

    let mut loss = CrossEntropyLoss::new().reduction(Reduction::Sum);
    let (value, grad) = loss.value_and_grad_weighted(&x, &y, &row_weights).unwrap();
    assert_close(&[value], &f32s(&sum["loss"]), "weighted sum");
    assert_close(
        grad.as_slice(),
        &f32s(&sum["grad_input"]),
        "weighted sum grad",
    );

    let mut loss = CrossEntropyLoss::new();
    let (value, grad) = loss.value_and_grad_weighted(&x, &y, &row_weights).unwrap();
    let n = rows as f32;
    assert_close(&[value], &[f32s(&sum["loss"])[0] / n], "Keras's mean");
    let expected: Vec<f32> = f32s(&sum["grad_input"]).iter().map(|g| g / n).collect();
    assert_close(grad.as_slice(), &expected, "Keras's mean grad");
    let torch_mean = f32s(&case("crossentropy_weight_mean")["loss"])[0];
    assert!(
        (value - torch_mean).abs() > 1e-3,
        "{value} vs PyTorch's Σw mean {torch_mean}"
    );
}
