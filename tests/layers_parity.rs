//! Every MLP layer case of `layers.json` reproduces PyTorch's output, input gradient and
//! parameter gradients.

mod common;

use common::{assert_close, f32s, fixture};
use serde_json::Value;
use staticnn::prelude::*;
use staticnn::{Approximate, Parameter};

fn cases(layer: &str) -> Vec<Value> {
    fixture("layers.json")["layers"][layer]
        .as_array()
        .unwrap_or_else(|| panic!("no {layer} cases"))
        .clone()
}

fn case(layer: &str, name: &str) -> Value {
    cases(layer)
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// Runs forward_train and backward on `module` and compares with the case.
fn check<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(module: &mut M, case: &Value) {
    let name = case["name"].as_str().unwrap();
    let x = Batch::<IN>::from_vec(f32s(&case["input"])).unwrap();
    let g = Batch::<OUT>::from_vec(f32s(&case["grad_output"])).unwrap();
    if case["mode"] == "eval" {
        module.eval();
    } else {
        module.train();
    }
    module.zero_grad();
    let y = module.forward_train(&x).to_batch();
    assert_close(
        y.as_slice(),
        &f32s(&case["output"]),
        &format!("{name} output"),
    );
    if case["mode"] == "eval" {
        let inferred = module.forward(&x);
        assert_close(
            inferred.as_slice(),
            &f32s(&case["output"]),
            &format!("{name} forward"),
        );
    }
    let dx = module.backward(&g).to_batch();
    assert_close(
        dx.as_slice(),
        &f32s(&case["grad_input"]),
        &format!("{name} grad_input"),
    );
    for t in staticnn::state_dict(module) {
        if let Some(expected) = case["param_grads"].get(&t.name) {
            let grad = param_grad(module, &t.name);
            assert_close(&grad, &f32s(expected), &format!("{name} grad {}", t.name));
        }
    }
}

fn param_grad(module: &impl Module, key: &str) -> Vec<f32> {
    struct Find<'a>(&'a str, Vec<f32>);
    impl staticnn::Visitor for Find<'_> {
        fn parameter(&mut self, name: &str, p: &Parameter) {
            if name == self.0 {
                self.1 = p.grad.clone();
            }
        }
    }
    let mut find = Find(key, Vec::new());
    module.visit(&mut find);
    find.1
}

fn load_params(module: &mut impl Module, case: &Value) {
    let mut entries = staticnn::state_dict(module);
    for e in &mut entries {
        let source = case["params"]
            .get(&e.name)
            .or_else(|| case["buffers"].get(&e.name))
            .unwrap_or_else(|| panic!("case has no {}", e.name));
        e.data = match e.data {
            staticnn::TensorData::F32(_) => staticnn::TensorData::F32(f32s(source)),
            staticnn::TensorData::I64(_) => {
                staticnn::TensorData::I64(vec![source.as_i64().expect("an integer")])
            }
        };
    }
    staticnn::load_state_dict(module, &entries).unwrap();
}

#[test]
fn linear() {
    fn run<const I: usize, const O: usize>(case: &Value) {
        let mut layer = Linear::<I, O>::from_parts(
            f32s(&case["params"]["weight"]),
            Some(f32s(&case["params"]["bias"])),
        );
        check(&mut layer, case);
    }
    run::<3, 4>(&case("Linear", "linear_0_b5_in3_out4"));
    run::<4, 2>(&case("Linear", "linear_1_b1_in4_out2"));
    run::<16, 1>(&case("Linear", "linear_2_b8_in16_out1"));
}

/// Each elementwise or row-wise layer at the widths its cases use.
fn check_widths<M: Forward<5, 5> + Forward<3, 3>>(layer_name: &str, make: impl Fn() -> M) {
    let all = cases(layer_name);
    assert!(!all.is_empty());
    for case in &all {
        match case["input_shape"][1].as_u64() {
            Some(5) => check::<M, 5, 5>(&mut make(), case),
            Some(3) => check::<M, 3, 3>(&mut make(), case),
            other => panic!("unexpected width {other:?}"),
        }
    }
}

#[test]
fn activations() {
    check_widths("ReLU", ReLU::new);
    check_widths("LeakyReLU", || LeakyReLU::new(0.01));
    check_widths("Sigmoid", Sigmoid::new);
    check_widths("Tanh", Tanh::new);
    check_widths("GELU", || GELU::new(Approximate::None));
    check_widths("GELU_tanh", || GELU::new(Approximate::Tanh));
}

#[test]
fn softmax_and_log_softmax() {
    check_widths("Softmax", Softmax::new);
    check_widths("LogSoftmax", LogSoftmax::new);
}

#[test]
fn batchnorm1d_train_then_eval() {
    fn run<const C: usize, const W: usize>(train: &Value, eval: &Value) {
        let mut bn = BatchNorm1d::<C>::new(1e-5, 0.1);
        load_params(&mut bn, train);
        check::<_, W, W>(&mut bn, train);
        let after = &train["buffers_after"];
        assert_close(
            &bn.running_mean,
            &f32s(&after["running_mean"]),
            "running_mean",
        );
        assert_close(&bn.running_var, &f32s(&after["running_var"]), "running_var");
        assert_eq!(
            Some(bn.num_batches_tracked),
            after["num_batches_tracked"].as_i64()
        );

        let mut bn = BatchNorm1d::<C>::new(1e-5, 0.1);
        load_params(&mut bn, eval);
        check::<_, W, W>(&mut bn, eval);
        assert_close(
            &bn.running_mean,
            &f32s(&eval["buffers"]["running_mean"]),
            "eval keeps",
        );
        assert_eq!(
            Some(bn.num_batches_tracked),
            eval["buffers"]["num_batches_tracked"].as_i64()
        );
    }
    let c = |n| case("BatchNorm1d", n);
    run::<4, 4>(&c("batchnorm1d_0_train_6x4"), &c("batchnorm1d_0_eval_6x4"));
    run::<3, 3>(&c("batchnorm1d_1_train_2x3"), &c("batchnorm1d_1_eval_2x3"));
    run::<3, 15>(
        &c("batchnorm1d_2_train_4x3x5"),
        &c("batchnorm1d_2_eval_4x3x5"),
    );
}

#[test]
fn layernorm() {
    let c0 = case("LayerNorm", "layernorm_0_4x6");
    let mut ln = LayerNorm::<6>::new(1e-5);
    load_params(&mut ln, &c0);
    check::<_, 6, 6>(&mut ln, &c0);

    let c1 = case("LayerNorm", "layernorm_1_2x3x4");
    let mut ln = LayerNorm::<4>::new(1e-5);
    load_params(&mut ln, &c1);
    check::<_, 12, 12>(&mut ln, &c1);
}

#[test]
fn every_mlp_case_is_covered() {
    let layers = fixture("layers.json");
    let tested = [
        "Linear",
        "ReLU",
        "LeakyReLU",
        "Sigmoid",
        "Tanh",
        "GELU",
        "GELU_tanh",
        "Softmax",
        "LogSoftmax",
        "BatchNorm1d",
        "LayerNorm",
    ];
    for name in layers["layers"].as_object().unwrap().keys() {
        let later = ["Conv2d", "MaxPool2d", "Flatten"].contains(&name.as_str());
        assert!(
            later || tested.contains(&name.as_str()),
            "{name} has no parity test"
        );
    }
}
