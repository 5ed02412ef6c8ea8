//! Named tensors: a module's state dict as PyTorch keys it (`fc1.weight`, `0.bias`,
//! `bn.num_batches_tracked`), and strict loading that reports every difference at once.

use crate::module::{Buffer, BufferMut, Module, Parameter, Visitor, VisitorMut};
use crate::seed::SeededRng;

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

/// One item of a module's state, as a named visit sees it.
pub enum Entry<'a> {
    Parameter(&'a Parameter),
    Buffer(Buffer<'a>),
    Rng(&'a SeededRng),
}

/// One item of a module's state, mutably.
pub enum EntryMut<'a> {
    Parameter(&'a mut Parameter),
    Buffer(BufferMut<'a>),
    Rng(&'a mut SeededRng),
}

/// Adapts a closure over full keys (`enc.0.weight`) to the visitor traits.
struct Named<F> {
    path: KeyPath,
    f: F,
}

impl<F: FnMut(&str, Entry<'_>)> Visitor for Named<F> {
    fn enter(&mut self, name: &str) {
        self.path.enter(name);
    }
    fn leave(&mut self) {
        self.path.leave();
    }
    fn parameter(&mut self, name: &str, p: &Parameter) {
        (self.f)(&self.path.key(name), Entry::Parameter(p));
    }
    fn buffer(&mut self, name: &str, b: Buffer<'_>) {
        (self.f)(&self.path.key(name), Entry::Buffer(b));
    }
    fn rng(&mut self, name: &str, rng: &SeededRng) {
        (self.f)(&self.path.key(name), Entry::Rng(rng));
    }
}

impl<F: FnMut(&str, EntryMut<'_>)> VisitorMut for Named<F> {
    fn enter(&mut self, name: &str) {
        self.path.enter(name);
    }
    fn leave(&mut self) {
        self.path.leave();
    }
    fn parameter(&mut self, name: &str, p: &mut Parameter) {
        (self.f)(&self.path.key(name), EntryMut::Parameter(p));
    }
    fn buffer(&mut self, name: &str, b: BufferMut<'_>) {
        (self.f)(&self.path.key(name), EntryMut::Buffer(b));
    }
    fn rng(&mut self, name: &str, rng: &mut SeededRng) {
        (self.f)(&self.path.key(name), EntryMut::Rng(rng));
    }
}

/// Calls `f(full key, item)` for every parameter, buffer and RNG in state-dict order.
/// Keys are built as strings, so this is for saving and checking, not the training loop.
pub fn visit_named(module: &(impl Module + ?Sized), f: impl FnMut(&str, Entry<'_>)) {
    module.visit(&mut Named {
        path: KeyPath::default(),
        f,
    });
}

/// [`visit_named`], mutably.
pub fn visit_named_mut(module: &mut (impl Module + ?Sized), f: impl FnMut(&str, EntryMut<'_>)) {
    module.visit_mut(&mut Named {
        path: KeyPath::default(),
        f,
    });
}

/// Every parameter and buffer of `module`, in state-dict order, copied out.
pub fn state_dict(module: &(impl Module + ?Sized)) -> Vec<NamedTensor> {
    let mut out = Vec::new();
    visit_named(module, |name, entry| {
        let (shape, data, learnable) = match entry {
            Entry::Parameter(p) => (p.shape().to_vec(), TensorData::F32(p.value.clone()), true),
            Entry::Buffer(Buffer::F32 { data, shape }) => {
                (shape.to_vec(), TensorData::F32(data.to_vec()), false)
            }
            Entry::Buffer(Buffer::I64(v)) => (Vec::new(), TensorData::I64(vec![*v]), false),
            Entry::Rng(_) => return,
        };
        out.push(NamedTensor {
            name: name.to_string(),
            shape,
            data,
            learnable,
        });
    });
    out
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

/// At most this many keys of each kind are listed; a hostile file may hold millions.
const LISTED_KEYS: usize = 20;

fn list(keys: &[String]) -> String {
    let mut shown: Vec<String> = keys
        .iter()
        .take(LISTED_KEYS)
        .map(|k| crate::checkpoint::capped(k))
        .collect();
    if keys.len() > LISTED_KEYS {
        shown.push(format!("and {} more", keys.len() - LISTED_KEYS));
    }
    shown.join(", ")
}

fn describe(missing: &[String], unexpected: &[String], mismatched: &[Mismatch]) -> String {
    let mut parts = vec!["error(s) in loading state dict:".to_string()];
    if !missing.is_empty() {
        parts.push(format!("missing key(s): {}", list(missing)));
    }
    if !unexpected.is_empty() {
        parts.push(format!("unexpected key(s): {}", list(unexpected)));
    }
    for m in mismatched.iter().take(LISTED_KEYS) {
        parts.push(format!(
            "size mismatch for {}: the model has {}, the state has {}",
            crate::checkpoint::capped(&m.name),
            m.expected,
            m.found
        ));
    }
    if mismatched.len() > LISTED_KEYS {
        parts.push(format!(
            "and {} more size mismatches",
            mismatched.len() - LISTED_KEYS
        ));
    }
    parts.join("\n  ")
}

fn describe_shape(dtype: &str, shape: &[usize]) -> String {
    format!("{dtype} {shape:?}")
}

/// Whether `entries` would load into `module`: every key, dtype and shape; lists every
/// difference. Changes nothing.
pub fn check_state_dict(
    module: &(impl Module + ?Sized),
    entries: &[NamedTensor],
) -> Result<(), LoadStateError> {
    let expected = state_dict(module);
    let mut error = LoadStateError {
        missing: Vec::new(),
        unexpected: Vec::new(),
        mismatched: Vec::new(),
    };
    let by_name: std::collections::HashMap<&str, &NamedTensor> =
        entries.iter().map(|t| (t.name.as_str(), t)).collect();
    for e in &expected {
        match by_name.get(e.name.as_str()) {
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
    let known: std::collections::HashSet<&str> = expected.iter().map(|e| e.name.as_str()).collect();
    for t in entries {
        if !known.contains(t.name.as_str()) {
            error.unexpected.push(t.name.clone());
        }
    }
    if error.missing.is_empty() && error.unexpected.is_empty() && error.mismatched.is_empty() {
        Ok(())
    } else {
        Err(error)
    }
}

/// Copies `entries` into `module`, checking every key, dtype and shape first; on any
/// difference nothing is changed and the error lists all of them.
pub fn load_state_dict(
    module: &mut (impl Module + ?Sized),
    entries: &[NamedTensor],
) -> Result<(), LoadStateError> {
    check_state_dict(module, entries)?;
    visit_named_mut(module, |name, entry| {
        let data = entries.iter().find(|t| t.name == name).map(|t| &t.data);
        match (entry, data) {
            (EntryMut::Parameter(p), Some(TensorData::F32(d))) => p.value.copy_from_slice(d),
            (EntryMut::Buffer(BufferMut::F32 { data, .. }), Some(TensorData::F32(d))) => {
                data.copy_from_slice(d)
            }
            (EntryMut::Buffer(BufferMut::I64(v)), Some(TensorData::I64(d))) => *v = d[0],
            (EntryMut::Rng(_), _) => {}
            _ => unreachable!("keys and dtypes checked above"),
        }
    });
    Ok(())
}

/// Sets `requires_grad` on the parameters `pattern` selects; an error naming every key when
/// it selects none.
pub fn set_requires_grad(
    module: &mut (impl Module + ?Sized),
    pattern: &str,
    requires_grad: bool,
) -> Result<usize, crate::module::SelectError> {
    let pattern = crate::optim::KeyPattern::new(pattern);
    let mut count = 0;
    let mut keys = Vec::new();
    visit_named_mut(module, |key, entry| {
        if let EntryMut::Parameter(p) = entry {
            if pattern.matches(key) {
                p.requires_grad = requires_grad;
                count += 1;
            }
            keys.push(key.to_string());
        }
    });
    if count == 0 {
        return Err(crate::module::SelectError {
            pattern: pattern.to_string(),
            keys: keys.join(", "),
        });
    }
    Ok(count)
}
