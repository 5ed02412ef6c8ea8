//! One loss case: value and input gradient, with every hyperparameter from the case's config.

use serde_json::{Value, json};
use staticnn::Batch;
use staticnn::loss::*;

use crate::{Config, assert_close, f32s, name, usizes};

pub fn check<const W: usize>(kind: &str, case: &Value) {
    let name = name(case);
    let config = Config::new(name, &case["config"]);
    let reduction = match config.str_or("reduction", "mean") {
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        other => panic!("{name}: reduction {other} has no single value to compare"),
    };
    let x = Batch::<W>::from_vec(f32s(&case["input"])).unwrap();
    // Keras's sample_weight, where the case has one.
    let rows = config.f32s("sample_weight");
    let rows = rows.as_deref();
    let values = || Batch::<W>::from_vec(f32s(&case["target"])).unwrap();
    let classes = || usizes(&case["target"]);
    match kind {
        "MSELoss" => compare(
            &mut MSELoss::new().reduction(reduction),
            rows,
            case,
            &x,
            &values(),
        ),
        "L1Loss" => compare(
            &mut L1Loss::new().reduction(reduction),
            rows,
            case,
            &x,
            &values(),
        ),
        "SmoothL1Loss" => {
            let loss = SmoothL1Loss::new(config.f32_or("beta", 1.0));
            compare(&mut loss.reduction(reduction), rows, case, &x, &values())
        }
        "HuberLoss" => {
            let loss = HuberLoss::new(config.f32_or("delta", 1.0));
            compare(&mut loss.reduction(reduction), rows, case, &x, &values())
        }
        "BCELoss" => {
            config.only("weight", Value::Null);
            compare(
                &mut BCELoss::new().reduction(reduction),
                rows,
                case,
                &x,
                &values(),
            )
        }
        "BCEWithLogitsLoss" => {
            config.only("weight", Value::Null);
            let mut loss = BCEWithLogitsLoss::new().reduction(reduction);
            if let Some(w) = config.f32s("pos_weight") {
                loss = loss.pos_weight(w);
            }
            compare(&mut loss, rows, case, &x, &values())
        }
        "CrossEntropyLoss" => {
            config.only("ignore_index", json!(-100));
            let mut loss = CrossEntropyLoss::new()
                .reduction(reduction)
                .label_smoothing(config.f32_or("label_smoothing", 0.0));
            if let Some(w) = config.f32s("weight") {
                loss = loss.weight(w);
            }
            compare(&mut loss, rows, case, &x, &classes()[..])
        }
        "NLLLoss" => {
            config.only("ignore_index", json!(-100));
            let mut loss = NLLLoss::new().reduction(reduction);
            if let Some(w) = config.f32s("weight") {
                loss = loss.weight(w);
            }
            compare(&mut loss, rows, case, &x, &classes()[..])
        }
        other => panic!("{name}: loss {other} has no parity check"),
    }
    config.done();
}

fn compare<const W: usize, L: Loss<W> + ?Sized>(
    loss: &mut L,
    sample_weight: Option<&[f32]>,
    case: &Value,
    x: &Batch<W>,
    target: &L::Target,
) {
    let name = name(case);
    let expected = f32s(&case["loss"]);
    let (value, grad) = match sample_weight {
        Some(weights) => loss.value_and_grad_weighted(x, target, weights).unwrap(),
        None => {
            let value = loss.value(x, target).unwrap();
            assert_close(&[value], &expected, &format!("{name} value"));
            loss.value_and_grad(x, target).unwrap()
        }
    };
    assert_close(&[value], &expected, &format!("{name} value_and_grad"));
    assert_close(
        grad.as_slice(),
        &f32s(&case["grad_input"]),
        &format!("{name} grad"),
    );
}
