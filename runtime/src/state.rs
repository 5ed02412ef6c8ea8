//! Named tensors: a module's state dict as PyTorch keys it (`fc1.weight`, `0.bias`,
//! `bn.num_batches_tracked`), and strict loading that reports every difference at once.

use crate::module::{Buffer, BufferMut, Module, Parameter, Visitor, VisitorMut};

/// Builds dotted keys while a visitor walks nested modules.
#[derive(Clone, Debug, Default)]
pub struct KeyPath {
    path: String,
    marks: Vec<usize>,
}

impl KeyPath {
    pub fn enter(&mut self, name: &str) {
        self.marks.push(self.path.len());
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(name);
    }

    pub fn leave(&mut self) {
        if let Some(mark) = self.marks.pop() {
            self.path.truncate(mark);
        }
    }

    /// The full key of `leaf` under the current path.
    pub fn key(&self, leaf: &str) -> String {
        if self.path.is_empty() {
            leaf.to_string()
        } else {
            format!("{}.{leaf}", self.path)
        }
    }
}

/// The values of one state-dict entry.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl TensorData {
    /// PyTorch's dtype name.
    pub fn dtype(&self) -> &'static str {
        match self {
            TensorData::F32(_) => "float32",
            TensorData::I64(_) => "int64",
        }
    }
}

/// One state-dict entry.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: TensorData,
    /// True for a learnable parameter, false for a buffer.
    pub learnable: bool,
}

/// Every parameter and buffer of `module`, in state-dict order, copied out.
pub fn state_dict(module: &(impl Module + ?Sized)) -> Vec<NamedTensor> {
    struct Collect {
        path: KeyPath,
        out: Vec<NamedTensor>,
    }
    impl Visitor for Collect {
        fn enter(&mut self, name: &str) {
            self.path.enter(name);
        }
        fn leave(&mut self) {
            self.path.leave();
        }
        fn parameter(&mut self, name: &str, p: &Parameter) {
            self.out.push(NamedTensor {
                name: self.path.key(name),
                shape: p.shape().to_vec(),
                data: TensorData::F32(p.value.clone()),
                learnable: true,
            });
        }
        fn buffer(&mut self, name: &str, b: Buffer<'_>) {
            let (shape, data) = match b {
                Buffer::F32 { data, shape } => (shape.to_vec(), TensorData::F32(data.to_vec())),
                Buffer::I64(v) => (Vec::new(), TensorData::I64(vec![*v])),
            };
            self.out.push(NamedTensor {
                name: self.path.key(name),
                shape,
                data,
                learnable: false,
            });
        }
    }
    let mut collect = Collect {
        path: KeyPath::default(),
        out: Vec::new(),
    };
    module.visit(&mut collect);
    collect.out
}

/// One entry whose shape or dtype differs between the module and the loaded state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub name: String,
    pub expected: String,
    pub found: String,
}

/// What strict loading found wrong, all of it at once, like PyTorch's `load_state_dict`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.missing, .unexpected, .mismatched))]
pub struct LoadStateError {
    pub missing: Vec<String>,
    pub unexpected: Vec<String>,
    pub mismatched: Vec<Mismatch>,
}

fn describe(missing: &[String], unexpected: &[String], mismatched: &[Mismatch]) -> String {
    let mut parts = vec!["error(s) in loading state dict:".to_string()];
    if !missing.is_empty() {
        parts.push(format!("missing key(s): {}", missing.join(", ")));
    }
    if !unexpected.is_empty() {
        parts.push(format!("unexpected key(s): {}", unexpected.join(", ")));
    }
    for m in mismatched {
        parts.push(format!(
            "size mismatch for {}: the model has {}, the state has {}",
            m.name, m.expected, m.found
        ));
    }
    parts.join("\n  ")
}

fn describe_shape(dtype: &str, shape: &[usize]) -> String {
    format!("{dtype} {shape:?}")
}

/// Copies `entries` into `module`, checking every key, dtype and shape first; on any
/// difference nothing is changed and the error lists all of them.
pub fn load_state_dict(
    module: &mut (impl Module + ?Sized),
    entries: &[NamedTensor],
) -> Result<(), LoadStateError> {
    // First pass: compare without writing, so a failed load changes nothing.
    let expected = state_dict(module);
    let mut error = LoadStateError {
        missing: Vec::new(),
        unexpected: Vec::new(),
        mismatched: Vec::new(),
    };
    for e in &expected {
        match entries.iter().find(|t| t.name == e.name) {
            None => error.missing.push(e.name.clone()),
            Some(t) => {
                let len_ok = match &t.data {
                    TensorData::F32(d) => d.len(),
                    TensorData::I64(d) => d.len(),
                } == e.shape.iter().product::<usize>();
                if t.shape != e.shape || t.data.dtype() != e.data.dtype() || !len_ok {
                    error.mismatched.push(Mismatch {
                        name: e.name.clone(),
                        expected: describe_shape(e.data.dtype(), &e.shape),
                        found: describe_shape(t.data.dtype(), &t.shape),
                    });
                }
            }
        }
    }
    for t in entries {
        if !expected.iter().any(|e| e.name == t.name) {
            error.unexpected.push(t.name.clone());
        }
    }
    if !(error.missing.is_empty() && error.unexpected.is_empty() && error.mismatched.is_empty()) {
        return Err(error);
    }

    struct Write<'a> {
        path: KeyPath,
        entries: &'a [NamedTensor],
    }
    impl Write<'_> {
        fn find(&self, name: &str) -> &TensorData {
            let key = self.path.key(name);
            &self
                .entries
                .iter()
                .find(|t| t.name == key)
                .expect("checked above")
                .data
        }
    }
    impl VisitorMut for Write<'_> {
        fn enter(&mut self, name: &str) {
            self.path.enter(name);
        }
        fn leave(&mut self) {
            self.path.leave();
        }
        fn parameter(&mut self, name: &str, p: &mut Parameter) {
            if let TensorData::F32(d) = self.find(name) {
                p.value.copy_from_slice(d);
            }
        }
        fn buffer(&mut self, name: &str, b: BufferMut<'_>) {
            match (b, self.find(name)) {
                (BufferMut::F32 { data, .. }, TensorData::F32(d)) => data.copy_from_slice(d),
                (BufferMut::I64(v), TensorData::I64(d)) => *v = d[0],
                _ => unreachable!("dtypes checked above"),
            }
        }
    }
    module.visit_mut(&mut Write {
        path: KeyPath::default(),
        entries,
    });
    Ok(())
}
