//! Files staticnn writes, read by Python's own libraries: safetensors (numpy flavour) and
//! TensorBoard's event reader. `build.rs` probes for the packages: where they are missing the
//! tests are ignored with the reason; under `CI=true` a missing package fails the build, so
//! CI (which installs them, `.ci/run`) never passes these without running them.

use staticnn::prelude::*;
use staticnn::save_weights;
use staticnn::state_dict;
use staticnn::tensorboard::SummaryWriter;
use staticnn::train::{EpochRecord, History};

model! {
    pub struct Net: [2] -> [1] {
        fc1: Linear(8),
        ReLU,
        drop: Dropout(0.2),
        bn: BatchNorm1d,
        out: Linear(1),
    }
}

fn history() -> History {
    let epoch = |e: usize, loss: f64, val: f64| EpochRecord {
        epoch: e,
        loss,
        val_loss: Some(val),
        metrics: [("accuracy".to_string(), 0.5 + e as f64 / 10.0)].into(),
        lr: 0.01,
        seconds: 0.1,
    };
    History {
        epochs: vec![epoch(1, 0.9, 1.0), epoch(2, 0.5, 0.7), epoch(3, 0.25, 0.4)],
    }
}

/// Reads our file with Python's `safetensors` (numpy flavour) and checks every key, shape,
/// dtype and value.
#[test]
#[cfg_attr(
    not(python_safetensors),
    ignore = "python3 with safetensors and numpy is not installed (pip install safetensors numpy)"
)]
fn python_safetensors_reads_every_key_shape_dtype_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let mut model = Net::new(&mut seeded_rng(13));
    model.bn.num_batches_tracked = 5;
    model.bn.running_var = vec![0.5; 8];
    save_weights(&model, &path).unwrap();
    let mut expected = serde_json::Map::new();
    for t in state_dict(&model) {
        let values: Vec<serde_json::Value> = match &t.data {
            staticnn::TensorData::F32(v) => {
                v.iter().map(|&x| serde_json::json!(f64::from(x))).collect()
            }
            staticnn::TensorData::I64(v) => v.iter().map(|&x| serde_json::json!(x)).collect(),
        };
        expected.insert(
            t.name.clone(),
            serde_json::json!({"shape": t.shape, "dtype": t.data.dtype(), "values": values}),
        );
    }
    let expected_path = dir.path().join("expected.json");
    std::fs::write(
        &expected_path,
        serde_json::Value::Object(expected).to_string(),
    )
    .unwrap();
    let script = r#"
import json, sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
tensors = load_file(sys.argv[1])
expected = json.load(open(sys.argv[2]))
assert set(tensors) == set(expected), (sorted(tensors), sorted(expected))
for name, e in expected.items():
    t = tensors[name]
    assert list(t.shape) == e["shape"], (name, t.shape, e["shape"])
    assert str(t.dtype) == e["dtype"], (name, t.dtype, e["dtype"])
    assert np.array_equal(t.reshape(-1), np.array(e["values"], dtype=t.dtype)), name
import re
with safe_open(sys.argv[1], framework="numpy") as f:
    metadata = f.metadata()
assert set(metadata) == {"format", "sha256"} and metadata["format"] == "pt", metadata
assert re.fullmatch("[0-9a-f]{64}", metadata["sha256"]), metadata
print("ok", len(tensors))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .arg(&expected_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok 9");
}

/// TensorBoard's own reader finds every tag and value of a History.
#[test]
#[cfg_attr(
    not(python_tensorboard),
    ignore = "python3 with tensorboard is not installed (pip install tensorboard)"
)]
fn tensorboard_reads_the_scalars() {
    let dir = tempfile::tempdir().unwrap();
    SummaryWriter::new(dir.path())
        .unwrap()
        .add_history(&history())
        .unwrap();
    let script = r#"
import sys
from tensorboard.backend.event_processing import event_accumulator
acc = event_accumulator.EventAccumulator(sys.argv[1])
acc.Reload()
tags = sorted(acc.Tags()["scalars"])
print(",".join(tags))
print(",".join(f"{e.step}:{e.value:.2f}" for e in acc.Scalars("val_loss")))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("accuracy,loss,lr,val_loss"));
    assert_eq!(lines.next(), Some("1:1.00,2:0.70,3:0.40"));
}
