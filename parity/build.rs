//! Writes one `#[test]` per case of every fixture file, so that a fixture regenerated with
//! another seed or other shapes is tested with no source edit.
//!
//! The fixture folder is `$STATICNN_FIXTURES` when set, else the workspace's `tests/fixtures`.
//! Each file is recognised by its top-level key (`layers`, `losses`, `optimizers`,
//! `schedulers`, `cases`, `param_groups`); a file, a layer kind, a loss, an optimizer or a schedule this
//! generator does not know fails the build with the case's name, never a silent skip.

#[path = "build/dsl.rs"]
mod dsl;
#[path = "build/emit.rs"]
mod emit;
#[path = "build/python.rs"]
mod python;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Fixture files in another format, each exercised by a test of its own.
const TESTED_ELSEWHERE: &[(&str, &str)] = &[
    ("pytorch_weights.json", "tests/checkpoint.rs"),
    ("one_cycle_end.json", "tests/optim.rs"),
];

fn main() {
    python::probe();
    println!("cargo::rerun-if-env-changed=STATICNN_FIXTURES");
    let dir = match std::env::var_os("STATICNN_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures"),
    };
    let dir = dir
        .canonicalize()
        .unwrap_or_else(|e| panic!("fixture folder {}: {e}", dir.display()));
    println!("cargo::rerun-if-changed={}", dir.display());

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();

    let mut out = emit::Suite::default();
    for path in &files {
        println!("cargo::rerun-if-changed={}", path.display());
        let file_name = path.file_name().unwrap().to_string_lossy().to_string();
        if TESTED_ELSEWHERE.iter().any(|(f, _)| *f == file_name) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file_name}: {e}"));
        let data: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file_name}: {e}"));
        let result = if data.get("layers").is_some() {
            emit::layer_file(&mut out, path, &data)
        } else if data.get("losses").is_some() {
            emit::loss_file(&mut out, path, &data)
        } else if data.get("optimizers").is_some() {
            emit::optimizer_file(&mut out, path, &data)
        } else if data.get("schedulers").is_some() {
            emit::schedule_file(&mut out, path, &data)
        } else if data.get("cases").is_some() {
            emit::training_file(&mut out, path, &data)
        } else if data.get("param_groups").is_some() {
            emit::training_step_file(&mut out, path, &data)
        } else {
            Err(format!(
                "a file in no format the parity generator knows (top-level keys {:?})",
                data.as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
            ))
        };
        if let Err(message) = result {
            panic!("{}: {message}", path.display());
        }
    }
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("cases.rs");
    std::fs::write(&target, out.finish()).unwrap();
}
