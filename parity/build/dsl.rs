//! A fixture's layer, as PyTorch describes it (kind and constructor arguments), written in the
//! `model!` grammar, so the macro itself interprets every hyperparameter: a key it does not
//! take is a compile error naming the case, never a default silently used instead.

use serde_json::{Map, Value};

/// PyTorch constructor arguments that `model!` does not take, and the one value staticnn
/// implements for each (as JSON); any other value is an error.
const FIXED: &[(&str, &str)] = &[
    ("affine", "true"),
    ("track_running_stats", "true"),
    ("elementwise_affine", "true"),
    ("groups", "1"),
    ("padding_mode", "\"zeros\""),
    ("start_dim", "1"),
    ("end_dim", "-1"),
    ("padding_idx", "null"),
    ("max_norm", "null"),
    ("scale_grad_by_freq", "false"),
    ("sparse", "false"),
];

/// The kinds of the fixtures: PyTorch's class name, or a fixture's variant of one.
const KINDS: &[&str] = &[
    "Linear",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "GELU",
    "GELU_tanh",
    "SiLU",
    "Hardswish",
    "Softmax",
    "LogSoftmax",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Flatten",
    "Embedding",
    "Residual",
];

/// `Kind(key = value, ..)` for one layer, or `Residual { .. }` for a block.
pub fn layer(kind: &str, config: &Map<String, Value>, input_rank: usize) -> Result<String, String> {
    if !KINDS.contains(&kind) {
        return Err(format!(
            "layer kind `{kind}` has no parity rule; the generator knows {}",
            KINDS.join(", ")
        ));
    }
    if kind == "Residual" {
        return residual(config);
    }
    let dsl_kind = kind.strip_suffix("_tanh").unwrap_or(kind);
    let mut args = Vec::new();
    for (key, value) in config {
        if let Some((_, only)) = FIXED.iter().find(|(k, _)| k == key) {
            let given = value.to_string();
            if given != *only {
                return Err(format!("`{key} = {given}` is not supported (only {only})"));
            }
            continue;
        }
        if key == "dim" && matches!(kind, "Softmax" | "LogSoftmax") {
            // Softmax runs over the last dimension of a flat row: PyTorch's dim 1 of [N, C].
            let dim = value.as_i64().ok_or("`dim` is not an integer")?;
            if input_rank != 1 || !(dim == 1 || dim == -1) {
                return Err(format!("softmax over dim {dim} of a rank-{input_rank} row"));
            }
            continue;
        }
        args.push(format!("{key} = {}", literal(key, value)?));
    }
    Ok(if args.is_empty() {
        dsl_kind.to_string()
    } else {
        format!("{dsl_kind}({})", args.join(", "))
    })
}

/// `{"layers": ["Linear(6, 6)", "ReLU", ..]}`: PyTorch's own constructor calls, which the
/// grammar takes as they are once Python's `True`/`False` are Rust's.
fn residual(config: &Map<String, Value>) -> Result<String, String> {
    let layers = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or("a Residual case needs `layers`, a list of PyTorch constructor calls")?;
    let inner: Vec<String> = layers
        .iter()
        .map(|l| {
            l.as_str()
                .map(|s| s.replace("True", "true").replace("False", "false"))
                .ok_or_else(|| format!("Residual layer {l} is not a string"))
        })
        .collect::<Result<_, _>>()?;
    Ok(format!("Residual {{ {} }}", inner.join(", ")))
}

/// A JSON value as a literal of the grammar: pairs as `(h, w)`, a one-element shape as its
/// element, floats always with a point or exponent.
fn literal(key: &str, value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => format!("{:?}", n.as_f64().unwrap()),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) if items.len() == 1 => literal(key, &items[0])?,
        Value::Array(items) if items.len() == 2 => {
            format!(
                "({}, {})",
                literal(key, &items[0])?,
                literal(key, &items[1])?
            )
        }
        other => return Err(format!("`{key} = {other}` has no form in the grammar")),
    })
}
