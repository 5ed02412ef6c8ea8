//! What a checkpoint says it is: the model's declared name and its architecture (every
//! sub-module's key and type, every tensor's key and shape, in state-dict order). Unlike a
//! Rust type path, both survive moving the declaration to another module or binary, so a
//! train binary and a serve binary that declare the same model share checkpoints.

use crate::module::{Buffer, Module, Parameter, Visitor};
use crate::seed::SeededRng;

/// The identity of a model as a checkpoint records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelIdentity {
    /// The declared name (`BinaryClassifier`).
    pub name: String,
    /// One line per sub-module (`fc1: Linear<2, 16>`) and tensor (`fc1.weight [16, 2]`).
    pub architecture: Vec<String>,
}

impl ModelIdentity {
    pub fn of(model: &(impl Module + ?Sized)) -> Self {
        struct Lines {
            path: Vec<String>,
            lines: Vec<String>,
        }
        impl Lines {
            fn key(&self, leaf: &str) -> String {
                let mut key = self.path.join(".");
                if !leaf.is_empty() {
                    if !key.is_empty() {
                        key.push('.');
                    }
                    key.push_str(leaf);
                }
                key
            }
        }
        impl Visitor for Lines {
            fn enter(&mut self, name: &str) {
                self.path.push(name.to_string());
            }
            fn enter_module(&mut self, name: &str, type_name: &'static str) {
                self.path.push(name.to_string());
                let line = format!("{}: {}", self.key(""), short_type_name(type_name));
                self.lines.push(line);
            }
            fn leave(&mut self) {
                self.path.pop();
            }
            fn parameter(&mut self, name: &str, p: &Parameter) {
                let line = format!("{} {:?}", self.key(name), p.shape());
                self.lines.push(line);
            }
            fn buffer(&mut self, name: &str, b: Buffer<'_>) {
                let line = match b {
                    Buffer::F32 { shape, .. } => format!("{} {shape:?}", self.key(name)),
                    Buffer::I64(_) => format!("{} int64", self.key(name)),
                };
                self.lines.push(line);
            }
            fn rng(&mut self, _: &str, _: &SeededRng) {}
        }
        let mut lines = Lines {
            path: Vec::new(),
            lines: Vec::new(),
        };
        model.visit(&mut lines);
        ModelIdentity {
            name: short_type_name(model.type_name()),
            architecture: lines.lines,
        }
    }

    /// How `self` (the checkpoint) differs from `expected` (the model), line by line: `-` only
    /// in the checkpoint, `+` only in the model; at most `limit` lines.
    pub fn differences(&self, expected: &ModelIdentity, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        if self.name != expected.name {
            out.push(format!("model `{}` ≠ `{}`", self.name, expected.name));
        }
        let (ours, theirs) = (&self.architecture, &expected.architecture);
        let mut diffs = ours
            .iter()
            .filter(|l| !theirs.contains(l))
            .map(|l| format!("- {l}"))
            .chain(
                theirs
                    .iter()
                    .filter(|l| !ours.contains(l))
                    .map(|l| format!("+ {l}")),
            );
        out.extend(diffs.by_ref().take(limit));
        let rest = diffs.count();
        if rest > 0 {
            out.push(format!("… and {rest} more"));
        }
        if out.is_empty() && ours != theirs {
            out.push("the same layers in another order".to_string());
        }
        out
    }
}

/// `staticnn_runtime::layers::linear::Linear<2, 16>` → `Linear<2, 16>`: every path dropped,
/// generic arguments kept.
pub fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out.push_str(segment.rsplit("::").next().unwrap_or(""));
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(segment.rsplit("::").next().unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_dropped_and_generics_kept() {
        assert_eq!(
            super::short_type_name("a::b::Linear<2, 16>"),
            "Linear<2, 16>"
        );
        assert_eq!(
            super::short_type_name("x::Elementwise<x::y::Relu>"),
            "Elementwise<Relu>"
        );
        assert_eq!(super::short_type_name("Net"), "Net");
    }
}
