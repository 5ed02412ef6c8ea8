//! One layer case: the generated one-layer model (`layer: Kind(..)`, keyed `layer.*`) loads
//! the case's parameters and buffers, then reproduces PyTorch's output, input gradient,
//! parameter gradients and updated buffers.

use serde_json::Value;
use staticnn::state::{Entry, visit_named};
use staticnn::{Batch, Forward, Init, NamedTensor, TensorData, seeded_rng};

use crate::compare::assert_close_scaled;
use crate::{assert_close, f32s, name};

/// The generated model's key prefix for the case's one layer or block.
const PREFIX: &str = "layer.";

pub fn check<M: Forward<IN, OUT> + Init, const IN: usize, const OUT: usize>(case: &Value) {
    let name = name(case);
    let mut model = M::init(&mut seeded_rng(0));
    load(&mut model, case, name);
    match case["mode"].as_str() {
        Some("eval") => model.eval(),
        Some("train") | None => model.train(),
        Some(other) => panic!("{name}: mode {other}"),
    }
    model.zero_grad();
    let x = Batch::<IN>::from_vec(f32s(&case["input"])).unwrap();
    let g = Batch::<OUT>::from_vec(f32s(&case["grad_output"])).unwrap();
    let expected = f32s(&case["output"]);
    if case["mode"] == "eval" {
        // Inference must agree with an eval-mode training pass.
        assert_close(
            model.forward(&x).as_slice(),
            &expected,
            &format!("{name} forward"),
        );
    }
    let trace = model.forward_train(&x);
    assert_close(trace.as_slice(), &expected, &format!("{name} output"));
    match case.get("grad_input") {
        Some(grad_input) => {
            let dx = trace.backward(&g).to_batch();
            assert_close(
                dx.as_slice(),
                &f32s(grad_input),
                &format!("{name} grad_input"),
            );
        }
        // Integer inputs (Embedding) have no gradient.
        None => trace.backward_params(&g),
    }
    let mut grads = 0;
    let expected_grads = case["param_grads"].as_object();
    visit_named(&model, |key, entry| {
        let local = key.strip_prefix(PREFIX).expect("every key is the layer's");
        match entry {
            Entry::Parameter(p) => {
                let want = expected_grads
                    .and_then(|g| g.get(local))
                    .unwrap_or_else(|| panic!("{name}: PyTorch gives no gradient of {local}"));
                assert_close_scaled(&p.grad, &f32s(want), &format!("{name} grad {local}"));
                grads += 1;
            }
            Entry::Buffer(b) => {
                if let Some(after) = case["buffers_after"].get(local) {
                    let ours = buffer_values(&b);
                    assert_close(&ours, &f32s(after), &format!("{name} buffer {local} after"));
                }
            }
            Entry::Rng(_) => {}
        }
    });
    assert_eq!(
        grads,
        expected_grads.map_or(0, |g| g.len()),
        "{name}: one gradient per PyTorch parameter"
    );
}

fn buffer_values(b: &staticnn::module::Buffer<'_>) -> Vec<f32> {
    match b {
        staticnn::module::Buffer::F32 { data, .. } => data.to_vec(),
        staticnn::module::Buffer::I64(v) => vec![**v as f32],
    }
}

/// Every parameter and buffer of the model from the case, and every one of the case's in the
/// model: nothing is left at its initial value, nothing the case gives is ignored.
fn load(model: &mut impl staticnn::Module, case: &Value, name: &str) {
    let mut entries: Vec<NamedTensor> = staticnn::state_dict(model);
    let given = |part: &str| case[part].as_object().map_or(0, |m| m.len());
    assert_eq!(
        entries.len(),
        given("params") + given("buffers"),
        "{name}: the model's state {:?} against the case's params and buffers",
        entries.iter().map(|e| &e.name).collect::<Vec<_>>()
    );
    for e in &mut entries {
        let local = e
            .name
            .strip_prefix(PREFIX)
            .expect("every key is the layer's");
        let source = case["params"]
            .get(local)
            .or_else(|| case["buffers"].get(local))
            .unwrap_or_else(|| panic!("{name}: the case has no {local}"));
        e.data = match e.data {
            TensorData::F32(_) => TensorData::F32(f32s(source)),
            TensorData::I64(_) => TensorData::I64(vec![source.as_i64().expect("an integer")]),
        };
    }
    staticnn::load_state_dict(model, &entries).unwrap_or_else(|e| panic!("{name}: {e}"));
}
