//! One optimizer case: five steps on the file's one parameter with its gradients, comparing
//! the parameter and every state tensor PyTorch reports after each step; then the same run
//! saved after two steps and resumed, which must end bit-identical.

use serde_json::{Value, json};
use staticnn::Parameter;
use staticnn::optim::*;
use staticnn::{NamedTensor, TensorData};

use crate::params::Params;
use crate::{Config, assert_close, f32s, name};

/// `torch.optim.<optimizer>(**config)`, every key read.
/// PyTorch accepted the case's hyperparameters, so staticnn's constructors must too.
pub fn from_config(optimizer: &str, config: &Config<'_>) -> Result<AnyOptimizer, OptimizerError> {
    let lr = config.f64("lr");
    for (key, only) in [
        ("maximize", json!(false)),
        ("foreach", Value::Null),
        ("differentiable", json!(false)),
        ("fused", Value::Null),
        ("capturable", json!(false)),
    ] {
        config.only(key, only);
    }
    let weight_decay = config.f32_or("weight_decay", 0.0);
    Ok(match optimizer {
        "SGD" => AnyOptimizer::SGD(
            SGD::new(lr)?
                .momentum(config.f32_or("momentum", 0.0))?
                .dampening(config.f64_or("dampening", 0.0))
                .nesterov(config.bool_or("nesterov", false))
                .weight_decay(weight_decay)?,
        ),
        "Adam" | "AdamW" => {
            let decoupled = optimizer == "AdamW";
            config.only("decoupled_weight_decay", json!(decoupled));
            let base = if decoupled {
                AdamW::new(lr)?
            } else {
                Adam::new(lr)?
            };
            // float64 in PyTorch's config, as staticnn keeps them.
            let (b1, b2) = match config.get("betas") {
                Some(b) => (b[0].as_f64().unwrap(), b[1].as_f64().unwrap()),
                None => (0.9, 0.999),
            };
            AnyOptimizer::Adam(
                base.betas(b1, b2)?
                    .eps(config.f64_or("eps", 1e-8))?
                    .weight_decay(if decoupled {
                        config.f32_or("weight_decay", 1e-2)
                    } else {
                        weight_decay
                    })?
                    .amsgrad(config.bool_or("amsgrad", false)),
            )
        }
        "RMSprop" => AnyOptimizer::RMSprop(
            RMSprop::new(lr)?
                .alpha(config.f64_or("alpha", 0.99))?
                .eps(config.f32_or("eps", 1e-8))?
                .momentum(config.f32_or("momentum", 0.0))?
                .centered(config.bool_or("centered", false))
                .weight_decay(weight_decay)?,
        ),
        "Adagrad" => AnyOptimizer::Adagrad(
            Adagrad::new(lr)?
                .lr_decay(config.f64_or("lr_decay", 0.0))?
                .eps(config.f32_or("eps", 1e-10))?
                .weight_decay(weight_decay)?
                .initial_accumulator_value(config.f32_or("initial_accumulator_value", 0.0))?,
        ),
        other => panic!("optimizer {other} has no parity check"),
    })
}

fn state_value(state: &[NamedTensor], key: &str) -> Option<Vec<f32>> {
    state
        .iter()
        .find(|t| t.name == format!("p0.{key}"))
        .map(|t| match &t.data {
            TensorData::F32(v) => v.clone(),
            TensorData::I64(v) => v.iter().map(|&s| s as f32).collect(),
        })
}

pub fn check(file: &Value, case: &Value) {
    let name = name(case);
    let kind = case["optimizer"].as_str().expect("an optimizer name");
    let config = Config::new(name, &case["config"]);
    let make = || from_config(kind, &config).unwrap_or_else(|e| panic!("{name}: {e}"));
    let initial = f32s(&file["initial_param"]);
    let grads: Vec<Vec<f32>> = file["grads"].as_array().unwrap().iter().map(f32s).collect();
    let fresh = || Params(vec![Parameter::new(initial.clone(), &[initial.len()])]);

    let mut optimizer = make();
    let mut model = fresh();
    for (t, g) in grads.iter().enumerate() {
        model.0[0].grad.copy_from_slice(g);
        optimizer
            .step(&mut model)
            .expect("the optimizer's own model");
        let expected = f32s(&case["params_after_step"][t]);
        assert_close(&model.0[0].value, &expected, &format!("{name} step {t}"));
        let state = optimizer.state();
        let reported = case["state_after_step"][t].as_object().unwrap();
        for (key, value) in reported {
            let ours = state_value(&state, key).unwrap_or_else(|| panic!("{name}: no {key}"));
            assert_close(&ours, &f32s(value), &format!("{name} step {t} state {key}"));
        }
    }

    // Saved after two steps, resumed by a new optimizer: the same parameter at the end.
    let mut first = make();
    let mut resumed_model = fresh();
    for g in &grads[..2] {
        resumed_model.0[0].grad.copy_from_slice(g);
        first.step(&mut resumed_model).unwrap();
    }
    let mut resumed = make();
    resumed.load_state(&resumed_model, &first.state()).unwrap();
    for g in &grads[2..] {
        resumed_model.0[0].grad.copy_from_slice(g);
        resumed.step(&mut resumed_model).unwrap();
    }
    assert_eq!(
        model.0[0].value, resumed_model.0[0].value,
        "{name}: resumed run"
    );
    config.done();
}
