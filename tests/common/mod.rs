//! Reading the PyTorch reference fixtures and comparing against them.
#![allow(dead_code)]

use serde_json::Value;

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A nested JSON list of numbers, flattened row-major, each parsed as f32 from its shortest
/// decimal (as the fixture README asks: never through f64 for float32 data).
pub fn f32s(v: &Value) -> Vec<f32> {
    let mut out = Vec::new();
    flatten(v, &mut out);
    out
}

fn flatten(v: &Value, out: &mut Vec<f32>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        Value::Number(n) => out.push(n.to_string().parse::<f32>().expect("a float")),
        other => panic!("not a number: {other}"),
    }
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|n| n.as_u64().expect("an index") as usize)
        .collect()
}

/// `|actual − expected| ≤ atol + rtol · |expected|` for every value, naming the first that is not.
pub fn assert_close_tol(actual: &[f32], expected: &[f32], atol: f32, rtol: f32, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let allowed = atol + rtol * e.abs();
        assert!(
            (a - e).abs() <= allowed && a.is_finite() == e.is_finite(),
            "{what}[{i}]: got {a}, PyTorch has {e} (difference {}, allowed {allowed})",
            (a - e).abs()
        );
    }
}

/// The bar for layers, losses and optimizers: 1e-5 relative, 1e-6 absolute near zero.
pub fn assert_close(actual: &[f32], expected: &[f32], what: &str) {
    assert_close_tol(actual, expected, 1e-6, 1e-5, what);
}
