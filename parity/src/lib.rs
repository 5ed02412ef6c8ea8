//! The checks that the generated parity tests call (`build.rs` writes one test per fixture
//! case; `tests/parity.rs` includes them). Each check reads everything it needs from its
//! case: widths arrive as the generated model's const generics, hyperparameters through
//! [`Config`], which fails the test on any key it did not read.

pub mod compare;
pub mod config;
pub mod layer;
pub mod loss;
pub mod optim;
pub mod params;
pub mod schedule;
pub mod training;
pub mod training_step;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

pub use compare::{assert_close, assert_close_tol, f32s, usizes};
pub use config::Config;

/// A fixture file, parsed once per test process however many cases read it.
pub fn file(path: &str) -> &'static Value {
    static FILES: OnceLock<Mutex<HashMap<String, &'static Value>>> = OnceLock::new();
    let mut files = FILES.get_or_init(Default::default).lock().unwrap();
    files.entry(path.to_string()).or_insert_with(|| {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        Box::leak(Box::new(value))
    })
}

/// The case at a JSON pointer (`/layers/Linear/0`) of a fixture file.
pub fn case(path: &str, pointer: &str) -> &'static Value {
    file(path).pointer(pointer).unwrap_or_else(|| {
        panic!("{path}: no case at {pointer} (the file changed since the build?)")
    })
}

/// The case's name, for messages.
pub fn name(case: &Value) -> &str {
    case["name"].as_str().unwrap_or("(unnamed case)")
}
