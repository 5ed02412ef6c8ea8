//! The generated tests: one module per fixture file, one `#[test]` per case, each naming
//! the case it runs and calling the check in `staticnn_parity` that its family shares.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::dsl;

pub const LOSSES: &[&str] = &[
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "NLLLoss",
];
pub const OPTIMIZERS: &[&str] = &["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"];
pub const SCHEDULES: &[&str] = &[
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "OneCycleLR",
];

#[derive(Default)]
pub struct Suite {
    text: String,
    names: BTreeSet<String>,
}

impl Suite {
    fn open(&mut self, path: &Path) -> String {
        let stem = path.file_stem().unwrap().to_string_lossy();
        let module = format!("{}_json", ident(&stem));
        self.text.push_str(&format!("mod {module} {{\n"));
        self.names.clear();
        path.display().to_string()
    }
    fn close(&mut self) {
        self.text.push_str("}\n");
    }
    /// A test named after its case; a second case of the same name gets a suffix, so none is
    /// lost.
    fn test(&mut self, name: &str, body: &str) {
        let mut unique = ident(name);
        let mut n = 1;
        while !self.names.insert(unique.clone()) {
            n += 1;
            unique = format!("{}_{n}", ident(name));
        }
        self.text
            .push_str(&format!("#[test]\nfn {unique}() {{\n{body}\n}}\n"));
    }
    pub fn finish(self) -> String {
        self.text
    }
}

/// A Rust identifier from a case name: lower case, anything else an underscore.
fn ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'c');
    }
    out
}

fn case_name(case: &Value, at: &str) -> Result<String, String> {
    case["name"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("the case at {at} has no `name`"))
}

/// `[N, d1, d2, ..]` → (`[d1, d2, ..]` for the grammar, d1·d2·..).
fn row_shape(case: &Value, key: &str, name: &str) -> Result<(String, usize), String> {
    let shape: Vec<usize> = case[key]
        .as_array()
        .ok_or_else(|| format!("case {name}: no `{key}`"))?
        .iter()
        .map(|d| d.as_u64().map(|d| d as usize))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("case {name}: `{key}` is not a list of sizes"))?;
    let row = if shape.len() > 1 {
        &shape[1..]
    } else {
        &[1][..]
    };
    let dims: Vec<String> = row.iter().map(usize::to_string).collect();
    Ok((format!("[{}]", dims.join(", ")), row.iter().product()))
}

fn each_case<'a>(
    data: &'a Value,
    key: &str,
) -> Result<Vec<(String, &'a str, usize, &'a Value)>, String> {
    let mut out = Vec::new();
    match &data[key] {
        // {"Linear": [case, ..], ..}
        Value::Object(kinds) => {
            for (kind, cases) in kinds {
                let cases = cases
                    .as_array()
                    .ok_or_else(|| format!("`{key}.{kind}` is not a list of cases"))?;
                for (i, case) in cases.iter().enumerate() {
                    out.push((format!("/{key}/{kind}/{i}"), kind.as_str(), i, case));
                }
            }
        }
        // [case, ..]
        Value::Array(cases) => {
            for (i, case) in cases.iter().enumerate() {
                out.push((format!("/{key}/{i}"), "", i, case));
            }
        }
        _ => return Err(format!("`{key}` is neither a list nor a map of cases")),
    }
    if out.is_empty() {
        return Err(format!("`{key}` holds no case"));
    }
    Ok(out)
}

fn load(file: &str, pointer: &str) -> String {
    format!("    let case = staticnn_parity::case(r\"{file}\", \"{pointer}\");")
}

pub fn layer_file(suite: &mut Suite, path: &Path, data: &Value) -> Result<(), String> {
    let file = suite.open(path);
    for (pointer, kind, _, case) in each_case(data, "layers")? {
        let name = case_name(case, &pointer)?;
        let config = case["config"]
            .as_object()
            .ok_or_else(|| format!("case {name}: no `config` object"))?;
        let (input, in_width) = row_shape(case, "input_shape", &name)?;
        let (output, out_width) = row_shape(case, "output_shape", &name)?;
        let rank = case["input_shape"].as_array().map_or(0, |s| s.len() - 1);
        let layer = dsl::layer(kind, config, rank).map_err(|e| format!("case {name}: {e}"))?;
        let body = format!(
            "    staticnn::model! {{ struct Case: {input} -> {output} {{ layer: {layer} }} }}\n{}\n    staticnn_parity::layer::check::<Case, {in_width}, {out_width}>(case);",
            load(&file, &pointer)
        );
        suite.test(&name, &body);
    }
    suite.close();
    Ok(())
}

pub fn loss_file(suite: &mut Suite, path: &Path, data: &Value) -> Result<(), String> {
    let file = suite.open(path);
    for (pointer, kind, _, case) in each_case(data, "losses")? {
        let name = case_name(case, &pointer)?;
        if !LOSSES.contains(&kind) {
            return Err(format!("case {name}: loss `{kind}` has no parity rule"));
        }
        let (_, width) = row_shape(case, "input_shape", &name)?;
        let body = format!(
            "{}\n    staticnn_parity::loss::check::<{width}>(\"{kind}\", case);",
            load(&file, &pointer)
        );
        suite.test(&name, &body);
    }
    suite.close();
    Ok(())
}

pub fn optimizer_file(suite: &mut Suite, path: &Path, data: &Value) -> Result<(), String> {
    let file = suite.open(path);
    for (pointer, _, _, case) in each_case(data, "optimizers")? {
        let name = case_name(case, &pointer)?;
        let kind = case["optimizer"].as_str().unwrap_or("(none)");
        if !OPTIMIZERS.contains(&kind) {
            return Err(format!(
                "case {name}: optimizer `{kind}` has no parity rule"
            ));
        }
        let body = format!(
            "    let file = staticnn_parity::file(r\"{file}\");\n{}\n    staticnn_parity::optim::check(file, case);",
            load(&file, &pointer)
        );
        suite.test(&name, &body);
    }
    suite.close();
    Ok(())
}

pub fn schedule_file(suite: &mut Suite, path: &Path, data: &Value) -> Result<(), String> {
    let file = suite.open(path);
    for (pointer, _, i, case) in each_case(data, "schedulers")? {
        let name = case_name(case, &pointer)?;
        if !SCHEDULES.contains(&name.as_str()) {
            return Err(format!("schedule `{name}` has no parity rule"));
        }
        let body = format!(
            "    let file = staticnn_parity::file(r\"{file}\");\n{}\n    staticnn_parity::schedule::check(file, case);",
            load(&file, &pointer)
        );
        suite.test(&format!("{name}_{i}"), &body);
    }
    suite.close();
    Ok(())
}

/// `architecture.sizes` [in, h1, .., out] with `activation` between the Linear layers (none
/// after the last), as nn.Sequential builds it: the model's layers, input and output widths.
fn mlp(case: &Value, name: &str) -> Result<(String, u64, u64), String> {
    let arch = &case["architecture"];
    let sizes: Vec<u64> = arch["sizes"]
        .as_array()
        .and_then(|s| s.iter().map(Value::as_u64).collect())
        .ok_or_else(|| format!("case {name}: `architecture.sizes` is not a list of sizes"))?;
    if sizes.len() < 2 {
        return Err(format!(
            "case {name}: an architecture needs an input and an output size"
        ));
    }
    let activation = arch["activation"]
        .as_str()
        .ok_or_else(|| format!("case {name}: no `architecture.activation`"))?;
    dsl::layer(activation, &Default::default(), 1).map_err(|e| format!("case {name}: {e}"))?;
    let mut layers = Vec::new();
    for (i, size) in sizes[1..].iter().enumerate() {
        if i > 0 {
            layers.push(activation.to_string());
        }
        layers.push(format!("Linear({size})"));
    }
    Ok((layers.join(", "), sizes[0], sizes[sizes.len() - 1]))
}

/// A whole training run on the case's MLP, loss and optimizer.
pub fn training_file(suite: &mut Suite, path: &Path, data: &Value) -> Result<(), String> {
    let file = suite.open(path);
    for (pointer, _, _, case) in each_case(data, "cases")? {
        let name = case_name(case, &pointer)?;
        let (layers, input, output) = mlp(case, &name)?;
        for (what, names) in [("loss", LOSSES), ("optimizer", OPTIMIZERS)] {
            let kind = case[what]["name"].as_str().unwrap_or("(none)");
            if !names.contains(&kind) {
                return Err(format!("case {name}: {what} `{kind}` has no parity rule"));
            }
        }
        let body = format!(
            "    staticnn::model! {{ struct Case: [{input}] -> [{output}] {{ {layers} }} }}\n{}\n    staticnn_parity::training::replay::<Case, {input}, {output}>(case);",
            load(&file, &pointer)
        );
        suite.test(&name, &body);
    }
    suite.close();
    Ok(())
}

/// Parameter groups with a frozen layer on the case's MLP; each schedule by hand and in `fit`.
pub fn training_step_file(suite: &mut Suite, path: &Path, data: &Value) -> Result<(), String> {
    let file = suite.open(path);
    for (pointer, _, _, case) in each_case(data, "param_groups")? {
        let name = case_name(case, &pointer)?;
        let (layers, input, output) = mlp(case, &name)?;
        let body = format!(
            "    staticnn::model! {{ struct Case: [{input}] -> [{output}] {{ {layers} }} }}\n{}\n    staticnn_parity::training_step::replay_groups::<Case, {input}, {output}>(case);",
            load(&file, &pointer)
        );
        suite.test(&name, &body);
    }
    for (pointer, _, _, case) in each_case(data, "schedules")? {
        let name = case_name(case, &pointer)?;
        for check in ["schedule_by_hand", "schedule_in_fit"] {
            let body = format!(
                "{}\n    staticnn_parity::training_step::{check}(case);",
                load(&file, &pointer)
            );
            suite.test(&format!("{name}_{check}"), &body);
        }
    }
    suite.close();
    Ok(())
}
