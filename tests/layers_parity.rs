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
    let y = module.forward_train_raw(&x).to_batch();
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
    let dx = module.backward_raw(&g).to_batch();
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
fn every_case_is_covered() {
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
        "Conv2d",
        "MaxPool2d",
        "Flatten",
        "BatchNorm2d",
        "AvgPool2d",
        "AdaptiveAvgPool2d",
        "Embedding",
    ];
    for file in ["layers.json", "extra_layers.json"] {
        for name in fixture(file)["layers"].as_object().unwrap().keys() {
            assert!(
                tested.contains(&name.as_str()),
                "{file}: {name} has no parity test"
            );
        }
    }
}

fn extra(layer: &str, name: &str) -> Value {
    fixture("extra_layers.json")["layers"][layer]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
        .clone()
}

fn pair(v: &Value) -> (usize, usize) {
    match v {
        Value::Array(a) => (
            a[0].as_u64().unwrap() as usize,
            a[1].as_u64().unwrap() as usize,
        ),
        n => (n.as_u64().unwrap() as usize, n.as_u64().unwrap() as usize),
    }
}

fn conv_case<const IN: usize, const OUT: usize>(case: &Value) {
    let c = &case["config"];
    let shape = &case["input_shape"];
    let dim = |i: usize| shape[i].as_u64().unwrap() as usize;
    let (k, s, p, d) = (
        pair(&c["kernel_size"]),
        pair(&c["stride"]),
        pair(&c["padding"]),
        pair(&c["dilation"]),
    );
    let out = c["out_channels"].as_u64().unwrap() as usize;
    let geometry = staticnn::Conv2dGeometry {
        kernel: k,
        ..staticnn::Conv2dGeometry::new(dim(1), dim(2), dim(3), out, 1)
    }
    .stride(s.0, s.1)
    .padding(p.0, p.1)
    .dilation(d.0, d.1);
    let bias = case["params"].get("bias").map(f32s);
    let mut conv = Conv2d::<IN, OUT>::from_parts(geometry, f32s(&case["params"]["weight"]), bias);
    check(&mut conv, case);
}

#[test]
fn conv2d() {
    conv_case::<50, 75>(&case("Conv2d", "conv2d_0_n2_h5_w5"));
    conv_case::<48, 72>(&case("Conv2d", "conv2d_1_n1_h4_w6"));
    // [3, 7, 6], kernel (3, 2), stride (2, 1), padding (1, 0), dilation (1, 2) -> [4, 4, 4]
    conv_case::<126, 64>(&extra("Conv2d", "conv2d_stride_dilation_nobias"));
}

fn pool_geometry(case: &Value) -> staticnn::PoolGeometry {
    let shape = &case["input_shape"];
    let dim = |i: usize| shape[i].as_u64().unwrap() as usize;
    let (k, s) = (
        pair(&case["config"]["kernel_size"]),
        pair(&case["config"]["stride"]),
    );
    staticnn::PoolGeometry {
        kernel: k,
        ..staticnn::PoolGeometry::new(dim(1), dim(2), dim(3), 1)
    }
    .stride(s.0, s.1)
}

#[test]
fn pooling() {
    let c = case("MaxPool2d", "maxpool2d_0_2x3x4x4");
    check(
        &mut MaxPool2d::<48, 12>::new(pool_geometry(&c)).unwrap(),
        &c,
    );
    // 5×7 in floor mode: the last row and column are dropped, as in PyTorch.
    let c = case("MaxPool2d", "maxpool2d_1_1x2x5x7");
    check(
        &mut MaxPool2d::<70, 12>::new(pool_geometry(&c)).unwrap(),
        &c,
    );
    let c = extra("MaxPool2d", "maxpool2d_k3_s1");
    check(
        &mut MaxPool2d::<40, 12>::new(pool_geometry(&c)).unwrap(),
        &c,
    );
    let c = extra("AvgPool2d", "avgpool2d_k2_s2");
    check(
        &mut AvgPool2d::<72, 18>::new(pool_geometry(&c)).unwrap(),
        &c,
    );
    let c = extra("AvgPool2d", "avgpool2d_k3_s1");
    check(
        &mut AvgPool2d::<40, 12>::new(pool_geometry(&c)).unwrap(),
        &c,
    );
    let c = extra("AdaptiveAvgPool2d", "adaptiveavgpool2d_1");
    check::<_, 60, 4>(&mut AdaptiveAvgPool2d::new(), &c);
}

#[test]
fn flatten() {
    let c = case("Flatten", "flatten_0_2x3x4x4");
    check::<_, 48, 48>(&mut Flatten::new(), &c);
}

#[test]
fn batchnorm2d_train_then_eval() {
    let train = extra("BatchNorm2d", "batchnorm2d_train");
    let mut bn = BatchNorm2d::<3>::default();
    load_params(&mut bn, &train);
    check::<_, 45, 45>(&mut bn, &train);
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
    let eval = extra("BatchNorm2d", "batchnorm2d_eval");
    let mut bn = BatchNorm2d::<3>::default();
    load_params(&mut bn, &eval);
    check::<_, 45, 45>(&mut bn, &eval);
}

#[test]
fn embedding() {
    let c = extra("Embedding", "embedding_10x4");
    let mut emb = Embedding::<10, 4>::from_weight(f32s(&c["params"]["weight"]));
    let x = Batch::<3>::from_vec(f32s(&c["input"])).unwrap();
    let g = Batch::<12>::from_vec(f32s(&c["grad_output"])).unwrap();
    emb.zero_grad();
    let trace = Forward::<3, 12>::forward_train(&mut emb, &x);
    assert_close(trace.as_slice(), &f32s(&c["output"]), "embedding output");
    trace.backward_params(&g);
    assert_close(
        &emb.weight.grad,
        &f32s(&c["param_grads"]["weight"]),
        "embedding weight grad",
    );
    let bad = Batch::<3>::from_rows(&[[1.0, 10.0, 2.0]]);
    let err = Forward::<3, 12>::validate(&emb, &bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "index 10 in row 0, column 1 is not a whole number below 10"
    );
    assert!(
        Forward::<3, 12>::forward(&emb, &bad).as_slice()[4..8]
            .iter()
            .all(|v| v.is_nan())
    );
}
