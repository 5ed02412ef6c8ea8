//! What every optimizer shares: the parameter set it is bound to, its parameter groups, and
//! its per-parameter state keyed by parameter name.
//!
//! An optimizer binds on its first step (or state import) to the parameters it was given:
//! their names, shapes and identities, and the group each belongs to, computed once. Every
//! later step compares identities in order — no names, no lookups — and a different set is an
//! error that names the first difference, before anything is updated.

use std::fmt::Write as _;

use super::{OptimizerError, OptimizerStateError};
use crate::module::{Module, Parameter, ParameterId, Visitor, VisitorMut};
use crate::state::{Entry, NamedTensor, TensorData, visit_named};

/// Selects parameters by state-dict key, as a `param_groups` entry or `freeze` does.
///
/// `"fc1"` or `"fc1."` selects `fc1.weight` and `fc1.bias` (a whole sub-module; not `fc10.*`),
/// `"fc1.weight"` that one tensor, and a pattern with `*` is a glob over the whole key
/// (`"encoder.*"`, `"*.bias"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern(String);

impl KeyPattern {
    pub fn new(pattern: impl Into<String>) -> Self {
        KeyPattern(pattern.into())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, key: &str) -> bool {
        let p = self.0.as_str();
        if p.contains('*') {
            return glob(p.as_bytes(), key.as_bytes());
        }
        if p.is_empty() {
            return true;
        }
        match key.strip_prefix(p) {
            Some("") => true,
            Some(rest) => p.ends_with('.') || rest.starts_with('.'),
            None => false,
        }
    }
}

impl From<&str> for KeyPattern {
    fn from(p: &str) -> Self {
        KeyPattern::new(p)
    }
}

impl std::fmt::Display for KeyPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `*` matches any run of characters, everything else itself.
fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

/// One of PyTorch's `param_groups`: the parameters a [`KeyPattern`] selects, with their own
/// hyperparameters where set (the optimizer's own otherwise).
///
/// ```
/// # use staticnn_runtime::prelude::*;
/// let optimizer = SGD::new(0.1)?
///     .momentum(0.9)?
///     .param_group(ParamGroup::new("fc1.").lr(0.01).weight_decay(1e-4));
/// # let _ = optimizer;
/// # Ok::<(), OptimizerError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ParamGroup {
    pub pattern: KeyPattern,
    pub lr: Option<f64>,
    pub weight_decay: Option<f32>,
    /// SGD's and RMSprop's momentum.
    pub momentum: Option<f32>,
    /// Adam's betas.
    pub betas: Option<(f64, f64)>,
}

impl ParamGroup {
    pub fn new(pattern: impl Into<KeyPattern>) -> Self {
        ParamGroup {
            pattern: pattern.into(),
            lr: None,
            weight_decay: None,
            momentum: None,
            betas: None,
        }
    }
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = Some(lr);
        self
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = Some(weight_decay);
        self
    }
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = Some(momentum);
        self
    }
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.betas = Some((beta1, beta2));
        self
    }
}

/// The per-parameter buffers of one optimizer, by PyTorch's names (`exp_avg`, ...).
pub(crate) trait Slots: Default + Clone {
    /// Every buffer this optimizer can keep, in export order.
    const NAMES: &'static [&'static str];
    /// Whether PyTorch keeps a `step` per parameter for this optimizer.
    const HAS_STEP: bool;
    fn slot(&self, index: usize) -> &Vec<f32>;
    fn slot_mut(&mut self, index: usize) -> &mut Vec<f32>;
}

/// `values` as a zeroed buffer of `len` the first time, itself afterwards.
pub(crate) fn zeros(values: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if values.is_empty() {
        values.resize(len, 0.0);
    }
    values
}

/// One parameter's state: its step count and buffers.
#[derive(Clone, Debug, Default)]
pub(crate) struct ParamState<S> {
    pub step: u64,
    pub slots: S,
}

/// What a step sees of the group a parameter belongs to.
pub(crate) struct GroupView<'a> {
    pub lr: f64,
    pub options: &'a ParamGroup,
}

/// The parameters an optimizer is bound to.
#[derive(Clone, Debug)]
struct Binding {
    names: Vec<String>,
    shapes: Vec<Vec<usize>>,
    ids: Vec<ParameterId>,
    /// Index into the groups (0 is the optimizer's own settings).
    group: Vec<usize>,
}

impl Binding {
    fn of<M: Module + ?Sized>(model: &M, groups: &[ParamGroup]) -> Result<Self, OptimizerError> {
        let mut binding = Binding {
            names: Vec::new(),
            shapes: Vec::new(),
            ids: Vec::new(),
            group: Vec::new(),
        };
        let mut error = None;
        let mut used = vec![false; groups.len()];
        visit_named(model, |key, entry| {
            let Entry::Parameter(p) = entry else { return };
            let mut group = 0;
            for (g, spec) in groups.iter().enumerate().skip(1) {
                if spec.pattern.matches(key) {
                    if group != 0 && error.is_none() {
                        error = Some(OptimizerError::ParameterInTwoGroups {
                            key: key.to_string(),
                            first: groups[group].pattern.to_string(),
                            second: spec.pattern.to_string(),
                        });
                    }
                    group = g;
                    used[g] = true;
                }
            }
            binding.names.push(key.to_string());
            binding.shapes.push(p.shape().to_vec());
            binding.ids.push(p.id());
            binding.group.push(group);
        });
        if let Some(e) = error {
            return Err(e);
        }
        if let Some(g) = (1..groups.len()).find(|&g| !used[g]) {
            return Err(OptimizerError::GroupSelectsNothing {
                pattern: groups[g].pattern.to_string(),
                keys: binding.names.join(", "),
            });
        }
        Ok(binding)
    }

    /// A short listing for errors: `fc1.weight [16, 2], fc1.bias [16], ...`.
    fn describe(&self) -> String {
        describe(&self.names, &self.shapes)
    }
}

fn describe(names: &[String], shapes: &[Vec<usize>]) -> String {
    const SHOWN: usize = 8;
    let mut s = String::from("[");
    for (i, (n, sh)) in names.iter().zip(shapes).take(SHOWN).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{} {:?}", if n.is_empty() { "<unnamed>" } else { n }, sh);
    }
    if names.len() > SHOWN {
        let _ = write!(s, ", … {} more", names.len() - SHOWN);
    }
    s.push(']');
    s
}

/// Groups, binding and per-parameter state: what each optimizer holds.
#[derive(Clone, Debug)]
pub(crate) struct ParamSet<S> {
    /// Group 0 is the optimizer's own settings, for every parameter no other group selects.
    groups: Vec<ParamGroup>,
    lrs: Vec<f64>,
    initial_lrs: Vec<Option<f64>>,
    binding: Option<Binding>,
    /// One entry per bound parameter; `None` until its first step.
    states: Vec<Option<ParamState<S>>>,
}

impl<S: Slots> ParamSet<S> {
    pub fn new(lr: f64) -> Self {
        ParamSet {
            groups: vec![ParamGroup::new("")],
            lrs: vec![lr],
            initial_lrs: vec![None],
            binding: None,
            states: Vec::new(),
        }
    }

    pub fn add_group(&mut self, group: ParamGroup) {
        self.lrs.push(group.lr.unwrap_or(self.lrs[0]));
        self.initial_lrs.push(None);
        self.groups.push(group);
    }

    pub fn groups(&self) -> &[ParamGroup] {
        &self.groups
    }

    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }
    pub fn lr(&self, group: usize) -> f64 {
        self.lrs[group]
    }
    pub fn set_lr(&mut self, group: usize, lr: f64) {
        self.lrs[group] = lr;
    }
    pub fn initial_lr(&mut self, group: usize) -> f64 {
        *self.initial_lrs[group].get_or_insert(self.lrs[group])
    }

    /// Binds to `model` on first use; afterwards checks that `model` is the bound set.
    fn check<M: Module + ?Sized>(&mut self, model: &M) -> Result<(), OptimizerError> {
        let Some(binding) = &self.binding else {
            self.binding = Some(Binding::of(model, &self.groups)?);
            self.states
                .resize_with(self.binding.as_ref().map_or(0, |b| b.ids.len()), || None);
            return Ok(());
        };
        struct SameIds<'a> {
            ids: &'a [ParameterId],
            index: usize,
            same: bool,
        }
        impl Visitor for SameIds<'_> {
            fn parameter(&mut self, _: &str, p: &Parameter) {
                self.same &= self.ids.get(self.index) == Some(&p.id());
                self.index += 1;
            }
        }
        let mut same = SameIds {
            ids: &binding.ids,
            index: 0,
            same: true,
        };
        model.visit(&mut same);
        if same.same && same.index == binding.ids.len() {
            return Ok(());
        }
        Err(self.foreign(model))
    }

    /// The error for a model whose parameters are not the bound ones (the slow path).
    fn foreign<M: Module + ?Sized>(&self, model: &M) -> OptimizerError {
        let bound = self.binding.as_ref().expect("bound");
        let given = Binding::of(model, &[ParamGroup::new("")]).unwrap_or_else(|_| Binding {
            names: Vec::new(),
            shapes: Vec::new(),
            ids: Vec::new(),
            group: Vec::new(),
        });
        let first = (0..bound.names.len().max(given.names.len()))
            .find(|&i| {
                bound.ids.get(i) != given.ids.get(i) || bound.names.get(i) != given.names.get(i)
            })
            .unwrap_or(0);
        let side = |b: &Binding| match b.names.get(first) {
            Some(n) => format!("`{n}` {:?}", b.shapes[first]),
            None => "nothing".to_string(),
        };
        let same_name_and_shape = bound.names.get(first) == given.names.get(first)
            && bound.shapes.get(first) == given.shapes.get(first);
        OptimizerError::ForeignParameters {
            bound: bound.describe(),
            given: given.describe(),
            first: format!(
                "parameter {first}: bound to {}, given {}{}",
                side(bound),
                side(&given),
                if same_name_and_shape {
                    " (same name and shape, but another tensor)"
                } else {
                    ""
                }
            ),
        }
    }

    /// Calls `update(group, parameter, state)` for every parameter that requires grad, after
    /// checking that `model` holds the bound parameters (nothing is updated otherwise).
    pub fn update<M: Module + ?Sized>(
        &mut self,
        model: &mut M,
        mut update: impl FnMut(&GroupView<'_>, &mut Parameter, &mut ParamState<S>),
    ) -> Result<(), OptimizerError> {
        self.check(model)?;
        struct Each<'a, S, F> {
            index: usize,
            groups: &'a [ParamGroup],
            lrs: &'a [f64],
            group_of: &'a [usize],
            states: &'a mut [Option<ParamState<S>>],
            update: F,
        }
        impl<S: Slots, F: FnMut(&GroupView<'_>, &mut Parameter, &mut ParamState<S>)> VisitorMut
            for Each<'_, S, F>
        {
            fn parameter(&mut self, _: &str, p: &mut Parameter) {
                let i = self.index;
                self.index += 1;
                if !p.requires_grad {
                    return;
                }
                let g = self.group_of[i];
                let view = GroupView {
                    lr: self.lrs[g],
                    options: &self.groups[g],
                };
                let state = self.states[i].get_or_insert_with(ParamState::default);
                (self.update)(&view, p, state);
            }
        }
        let binding = self.binding.as_ref().expect("checked");
        model.visit_mut(&mut Each {
            index: 0,
            groups: &self.groups,
            lrs: &self.lrs,
            group_of: &binding.group,
            states: &mut self.states,
            update: &mut update,
        });
        Ok(())
    }

    /// The state as named tensors: `{parameter}.{buffer}` and `{parameter}.step`.
    pub fn export(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        let Some(binding) = &self.binding else {
            return out;
        };
        for (name, state) in binding.names.iter().zip(&self.states) {
            let Some(state) = state else { continue };
            if S::HAS_STEP {
                out.push(NamedTensor {
                    name: format!("{name}.step"),
                    shape: Vec::new(),
                    data: TensorData::I64(vec![state.step as i64]),
                    learnable: false,
                });
            }
            for (k, slot) in S::NAMES.iter().enumerate() {
                let values = state.slots.slot(k);
                if !values.is_empty() {
                    out.push(NamedTensor {
                        name: format!("{name}.{slot}"),
                        shape: vec![values.len()],
                        data: TensorData::F32(values.clone()),
                        learnable: false,
                    });
                }
            }
        }
        out
    }

    /// Replaces the state with `state` for `model`'s parameters, after checking every tensor:
    /// each names a parameter of `model` and a buffer this optimizer keeps (`in_use` says
    /// which, per group), with the parameter's length, and every buffer a stepped parameter
    /// needs is there. Nothing changes on error.
    pub fn import<M: Module + ?Sized>(
        &mut self,
        model: &M,
        state: &[NamedTensor],
        optimizer: &'static str,
        in_use: impl Fn(&ParamGroup, &str) -> bool,
    ) -> Result<(), OptimizerError> {
        let binding = Binding::of(model, &self.groups)?;
        if self.binding.is_some() {
            self.check(model)?;
        }
        let mut states: Vec<Option<ParamState<S>>> = vec![None; binding.names.len()];
        let mut has_step = vec![false; binding.names.len()];
        for tensor in state {
            let unknown = || OptimizerStateError::UnknownParameter {
                name: tensor.name.clone(),
                parameters: binding.describe(),
            };
            let (param, slot) = tensor.name.rsplit_once('.').ok_or_else(unknown)?;
            let i = binding
                .names
                .iter()
                .position(|n| n == param)
                .ok_or_else(unknown)?;
            let group = &self.groups[binding.group[i]];
            let entry = states[i].get_or_insert_with(ParamState::default);
            if slot == "step" && S::HAS_STEP {
                match &tensor.data {
                    TensorData::I64(v) if v.len() == 1 && v[0] >= 0 => entry.step = v[0] as u64,
                    _ => return Err(OptimizerStateError::DType(tensor.name.clone()).into()),
                }
                has_step[i] = true;
                continue;
            }
            let k = S::NAMES
                .iter()
                .position(|&s| s == slot)
                .filter(|&k| in_use(group, S::NAMES[k]))
                .ok_or_else(|| OptimizerStateError::UnknownSlot {
                    name: tensor.name.clone(),
                    optimizer,
                    slots: S::NAMES
                        .iter()
                        .filter(|s| in_use(group, s))
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            let TensorData::F32(values) = &tensor.data else {
                return Err(OptimizerStateError::DType(tensor.name.clone()).into());
            };
            let expected: usize = binding.shapes[i].iter().product();
            if values.len() != expected {
                return Err(OptimizerStateError::Length {
                    name: tensor.name.clone(),
                    expected,
                    found: values.len(),
                }
                .into());
            }
            *entry.slots.slot_mut(k) = values.clone();
        }
        for (i, entry) in states.iter().enumerate() {
            let Some(entry) = entry else { continue };
            let group = &self.groups[binding.group[i]];
            let name = &binding.names[i];
            if S::HAS_STEP && !has_step[i] {
                return Err(OptimizerStateError::Missing(format!("{name}.step")).into());
            }
            for (k, slot) in S::NAMES.iter().enumerate() {
                // A momentum buffer appears with the first step that uses it, as in PyTorch.
                if in_use(group, slot) && entry.slots.slot(k).is_empty() && entry.step > 0 {
                    return Err(OptimizerStateError::Missing(format!("{name}.{slot}")).into());
                }
            }
        }
        self.binding = Some(binding);
        self.states = states;
        Ok(())
    }
}
