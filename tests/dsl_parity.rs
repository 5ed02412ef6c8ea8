//! What issue 15 added to the DSL, against PyTorch (`fixtures/dsl_layers.json`, written by
//! `fixtures/cases_dsl.py`): residual blocks declared with `model!` (forward, input gradient,
//! every parameter gradient), pools whose sizes `model!` computes (odd sizes, `ceil_mode`,
//! padding, dilation), SiLU and Hardswish; and finite-difference checks of the same.

mod common;

use common::{assert_close, assert_close_tol, f32s, fixture};
use rand::SeedableRng;
use serde_json::Value;
use staticnn::prelude::*;
use staticnn::{GradCheck, Parameter};

fn case(layer: &str, name: &str) -> Value {
    fixture("dsl_layers.json")["layers"][layer]
        .as_array()
        .unwrap_or_else(|| panic!("no {layer} cases"))
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
        .clone()
}

/// The one place this file calls the layer-level training API: output and input gradient.
fn train_step<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(
    module: &mut M,
    x: &Batch<IN>,
    g: &Batch<OUT>,
) -> (Batch<OUT>, Batch<IN>) {
    let out = module.forward_train(x);
    let y = out.to_batch();
    let dx = out.backward(g).to_batch();
    (y, dx)
}

/// Loads the case's parameters and buffers under `prefix` (the block's key in our model).
fn load(module: &mut impl Module, case: &Value, prefix: &str) {
    let mut entries = staticnn::state_dict(module);
    for e in &mut entries {
        let key = e
            .name
            .strip_prefix(prefix)
            .expect("every key is in the block");
        let source = case["params"]
            .get(key)
            .or_else(|| case["buffers"].get(key))
            .unwrap_or_else(|| panic!("case has no {key}"));
        e.data = match e.data {
            staticnn::TensorData::F32(_) => staticnn::TensorData::F32(f32s(source)),
            staticnn::TensorData::I64(_) => {
                staticnn::TensorData::I64(vec![source.as_i64().expect("an integer")])
            }
        };
    }
    staticnn::load_state_dict(module, &entries).unwrap();
}

fn param_grads(module: &impl Module) -> Vec<(String, Vec<f32>)> {
    #[derive(Default)]
    struct Collect(Vec<String>, Vec<(String, Vec<f32>)>);
    impl staticnn::Visitor for Collect {
        fn enter(&mut self, name: &str) {
            self.0.push(name.to_string());
        }
        fn leave(&mut self) {
            self.0.pop();
        }
        fn parameter(&mut self, name: &str, p: &Parameter) {
            let mut key = self.0.join(".");
            key.push('.');
            key.push_str(name);
            self.1.push((key, p.grad.clone()));
        }
    }
    let mut c = Collect::default();
    module.visit(&mut c);
    c.1
}

/// Output, input gradient and (under `prefix`) every parameter gradient equal PyTorch's.
fn check<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(
    module: &mut M,
    case: &Value,
    prefix: &str,
) {
    check_tol(module, case, prefix, 1e-6);
}

/// `check` with an absolute tolerance of `atol` on the parameter gradients.
fn check_tol<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(
    module: &mut M,
    case: &Value,
    prefix: &str,
    atol: f32,
) {
    let name = case["name"].as_str().unwrap();
    let x = Batch::<IN>::from_vec(f32s(&case["input"])).unwrap();
    let g = Batch::<OUT>::from_vec(f32s(&case["grad_output"])).unwrap();
    module.train();
    module.zero_grad();
    let (y, dx) = train_step(module, &x, &g);
    assert_close(
        y.as_slice(),
        &f32s(&case["output"]),
        &format!("{name} output"),
    );
    assert_close(
        dx.as_slice(),
        &f32s(&case["grad_input"]),
        &format!("{name} grad_input"),
    );
    let expected = case["param_grads"].as_object().unwrap();
    let grads = param_grads(module);
    assert_eq!(
        grads.len(),
        expected.len(),
        "{name}: one gradient per PyTorch parameter"
    );
    for (key, grad) in grads {
        let torch_key = key.strip_prefix(prefix).unwrap();
        let what = format!("{name} grad {key}");
        assert_close_tol(&grad, &f32s(&expected[torch_key]), atol, 1e-5, &what);
    }
}

model! {
    struct ResidualMlp: [6] -> [6] {
        block: Residual { Linear(6), ReLU, Linear(6) },
    }
}

model! {
    /// A ResNet basic block.
    struct BasicBlock: [3, 5, 5] -> [3, 5, 5] {
        block: Residual {
            Conv2d(3, kernel = 3, padding = 1, bias = false),
            BatchNorm2d,
            ReLU,
            Conv2d(3, kernel = 3, padding = 1, bias = false),
            BatchNorm2d,
        },
    }
}

#[test]
fn residual_mlp_block() {
    let c = case("Residual", "residual_mlp");
    let mut m = ResidualMlp::new(&mut seeded_rng(0));
    load(&mut m, &c, "block.");
    check(&mut m, &c, "block.");
}

#[test]
fn residual_basic_block_with_batchnorm() {
    let c = case("Residual", "residual_basic_block");
    let mut m = BasicBlock::new(&mut seeded_rng(0));
    load(&mut m, &c, "block.");
    // A conv weight's gradient sums 50 products through two BatchNorms, in another order
    // than PyTorch's: float32 rounding reaches 3e-6 on values of 0.1.
    check_tol(&mut m, &c, "block.", 1e-5);
    // The running statistics moved as PyTorch's did.
    for (key, after) in c["buffers_after"].as_object().unwrap() {
        let ours = staticnn::state_dict(&m)
            .into_iter()
            .find(|t| t.name == format!("block.{key}"))
            .unwrap();
        match ours.data {
            staticnn::TensorData::F32(v) => assert_close(&v, &f32s(after), key),
            staticnn::TensorData::I64(v) => assert_eq!(v, [after.as_i64().unwrap()], "{key}"),
        }
    }
}

// Each pool case as a `model!`: the declared output is PyTorch's output shape, so the macro's
// size arithmetic is checked at compile time and the layer's values at run time.
model! { struct MaxCeilPad: [2, 7, 9] -> [2, 4, 5] { MaxPool2d(3, stride = 2, padding = 1, ceil_mode = true) } }
model! { struct MaxFloorOdd: [3, 5, 7] -> [3, 2, 3] { MaxPool2d(2) } }
model! { struct MaxCeilDropped: [2, 5, 6] -> [2, 3, 4] { MaxPool2d(2, stride = 2, padding = 1, ceil_mode = true) } }
model! { struct MaxDilated: [2, 7, 6] -> [2, 5, 4] { MaxPool2d(3, stride = 1, padding = 1, dilation = 2) } }
model! { struct MaxRect: [1, 8, 7] -> [1, 5, 3] { MaxPool2d((3, 2), stride = (2, 3), padding = (1, 0), ceil_mode = true) } }
model! { struct AvgCeilPad: [2, 7, 9] -> [2, 4, 5] { AvgPool2d(3, stride = 2, padding = 1, ceil_mode = true) } }
model! { struct AvgExclude: [2, 7, 9] -> [2, 4, 5] { AvgPool2d(3, stride = 2, padding = 1, ceil_mode = true, count_include_pad = false) } }
model! { struct AvgFloorOdd: [3, 5, 7] -> [3, 2, 3] { AvgPool2d(2) } }
model! { struct AvgOverhang: [2, 5, 5] -> [2, 3, 3] { AvgPool2d(2, stride = 2, ceil_mode = true) } }

#[test]
fn max_pools() {
    let rng = &mut seeded_rng(0);
    check(
        &mut MaxCeilPad::new(rng),
        &case("MaxPool2d", "maxpool2d_ceil_pad_7x9"),
        "",
    );
    check(
        &mut MaxFloorOdd::new(rng),
        &case("MaxPool2d", "maxpool2d_floor_odd_5x7"),
        "",
    );
    check(
        &mut MaxCeilDropped::new(rng),
        &case("MaxPool2d", "maxpool2d_ceil_last_window_dropped"),
        "",
    );
    check(
        &mut MaxDilated::new(rng),
        &case("MaxPool2d", "maxpool2d_dilation_pad"),
        "",
    );
    check(
        &mut MaxRect::new(rng),
        &case("MaxPool2d", "maxpool2d_rect_ceil"),
        "",
    );
}

#[test]
fn avg_pools() {
    let rng = &mut seeded_rng(0);
    check(
        &mut AvgCeilPad::new(rng),
        &case("AvgPool2d", "avgpool2d_ceil_pad_7x9"),
        "",
    );
    check(
        &mut AvgExclude::new(rng),
        &case("AvgPool2d", "avgpool2d_ceil_pad_exclude"),
        "",
    );
    check(
        &mut AvgFloorOdd::new(rng),
        &case("AvgPool2d", "avgpool2d_floor_odd_5x7"),
        "",
    );
    check(
        &mut AvgOverhang::new(rng),
        &case("AvgPool2d", "avgpool2d_ceil_overhang"),
        "",
    );
}

#[test]
fn silu_and_hardswish() {
    check::<_, 10, 10>(&mut SiLU::new(), &case("SiLU", "silu_special"), "");
    check::<_, 10, 10>(
        &mut Hardswish::new(),
        &case("Hardswish", "hardswish_special"),
        "",
    );
}

fn gradcheck<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(name: &str, module: &mut M) {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
    for rows in [1, 3] {
        // Distinct values away from zero, so no max ties and no ReLU kinks straddled.
        let values = (0..rows * IN)
            .map(|i| {
                let v: f32 = rand::RngExt::random::<f32>(&mut rng) * 4.0 - 2.0;
                v + if v < 0.0 { -0.05 } else { 0.05 } + i as f32 * 1e-3
            })
            .collect();
        let x = Batch::<IN>::from_vec(values).unwrap();
        let report = GradCheck::default()
            .run(module, &x)
            .unwrap_or_else(|e| panic!("{name} at batch {rows}: {e}"));
        assert!(report.values_checked >= rows * IN, "{name}: {report:?}");
    }
}

model! {
    struct NestedResiduals: [4] -> [2] {
        fc: Linear(5),
        outer: Residual { Linear(5), Tanh, inner: Residual { SiLU, Linear(5) } },
        head: Linear(2),
    }
}

#[test]
fn finite_differences() {
    let rng = &mut seeded_rng(1);
    gradcheck("ResidualMlp", &mut ResidualMlp::new(rng));
    gradcheck("NestedResiduals", &mut NestedResiduals::new(rng));
    let mut block = BasicBlock::new(rng);
    block.eval();
    gradcheck("BasicBlock (eval)", &mut block);
    gradcheck("MaxCeilPad", &mut MaxCeilPad::new(rng));
    gradcheck("MaxDilated", &mut MaxDilated::new(rng));
    gradcheck("AvgCeilPad", &mut AvgCeilPad::new(rng));
    gradcheck("AvgExclude", &mut AvgExclude::new(rng));
    gradcheck::<_, 6, 6>("SiLU", &mut SiLU::new());
    gradcheck::<_, 6, 6>("Hardswish", &mut Hardswish::new());
}
