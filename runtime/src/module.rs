//! The traits every layer and every generated model implements.
//!
//! [`Module`] is what optimizers, checkpoints and `fit` see: named parameters and buffers,
//! train/eval mode, `zero_grad`. [`Forward`] is the computation at a given pair of widths.
//! [`Shaped`] tells the macros the widths of a layer whose widths are fixed by its type, so a
//! model can stand inside another.

use crate::tensor::{Batch, BatchSlice};

/// A learnable tensor and its accumulated gradient, in PyTorch's layout.
#[derive(Clone, Debug)]
pub struct Parameter {
    /// The values, row-major in `shape`.
    pub value: Vec<f32>,
    /// d loss / d value, summed over every `backward` since the last `zero_grad`.
    pub grad: Vec<f32>,
    /// PyTorch's `requires_grad`: when false the layer skips this parameter's gradient work,
    /// its gradient stays zero and optimizers neither update it nor keep state for it.
    pub requires_grad: bool,
    shape: Vec<usize>,
    /// Which tensor this is, so an optimizer can tell the parameters it was bound to from
    /// others of the same shape. Kept by `clone` (a copy is the same slot, as after
    /// `load_state_dict`), fresh for every `Parameter::new`.
    id: ParameterId,
}

/// The identity of a [`Parameter`], unique within a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParameterId(u64);

impl ParameterId {
    fn fresh() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        ParameterId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// Values, gradients, shape and `requires_grad`; not identity.
impl PartialEq for Parameter {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
            && self.grad == other.grad
            && self.shape == other.shape
            && self.requires_grad == other.requires_grad
    }
}

impl Parameter {
    /// A parameter of `shape` holding `value`.
    ///
    /// # Panics
    /// If `value.len()` is not the product of `shape`: layers build their parameters, users do not.
    pub fn new(value: Vec<f32>, shape: &[usize]) -> Self {
        assert_eq!(
            value.len(),
            shape.iter().product::<usize>(),
            "parameter shape"
        );
        Parameter {
            grad: vec![0.0; value.len()],
            value,
            requires_grad: true,
            shape: shape.to_vec(),
            id: ParameterId::fresh(),
        }
    }

    /// This tensor's identity (see [`ParameterId`]).
    pub fn id(&self) -> ParameterId {
        self.id
    }

    /// PyTorch's shape of this tensor (`Linear.weight` is `[out, in]`).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// True for a parameter with no values.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// A non-learnable tensor that belongs to the state dict (BatchNorm's running statistics).
#[derive(Debug)]
pub enum Buffer<'a> {
    F32 {
        data: &'a [f32],
        shape: &'a [usize],
    },
    /// A scalar counter saved as int64 with shape `[]`, like `num_batches_tracked`.
    I64(&'a i64),
}

/// A mutable view of a [`Buffer`].
#[derive(Debug)]
pub enum BufferMut<'a> {
    F32 {
        data: &'a mut [f32],
        shape: &'a [usize],
    },
    I64(&'a mut i64),
}

/// Walks a module's parameters and buffers in state-dict order.
///
/// `enter` and `leave` bracket a sub-module, so a visitor that wants full keys (`fc1.weight`)
/// keeps the path itself and one that does not (an optimizer) pays nothing for names.
pub trait Visitor {
    fn enter(&mut self, _name: &str) {}
    /// `enter` for a sub-module whose type is `type_name` (what checkpoints record as the
    /// architecture); generated models call this one.
    fn enter_module(&mut self, name: &str, _type_name: &'static str) {
        self.enter(name);
    }
    fn leave(&mut self) {}
    fn parameter(&mut self, name: &str, parameter: &Parameter);
    fn buffer(&mut self, _name: &str, _buffer: Buffer<'_>) {}
    /// A random stream the module draws from (Dropout's), which checkpoints save so a resumed
    /// run draws what an uninterrupted one would. Not part of the state dict.
    fn rng(&mut self, _name: &str, _rng: &crate::seed::SeededRng) {}
}

/// Walks a module's parameters and buffers mutably, in state-dict order.
pub trait VisitorMut {
    fn enter(&mut self, _name: &str) {}
    fn leave(&mut self) {}
    fn parameter(&mut self, name: &str, parameter: &mut Parameter);
    fn buffer(&mut self, _name: &str, _buffer: BufferMut<'_>) {}
    /// See [`Visitor::rng`].
    fn rng(&mut self, _name: &str, _rng: &mut crate::seed::SeededRng) {}
}

/// A layer or a model: parameters, buffers and mode, whatever its widths.
pub trait Module {
    /// The type's name: a generated model's declared name (`BinaryClassifier`), otherwise
    /// Rust's type name. Checkpoints record it (without module paths) with the architecture.
    fn type_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
    /// Visits every parameter and buffer in state-dict order.
    fn visit(&self, visitor: &mut dyn Visitor);
    /// Visits every parameter and buffer mutably in state-dict order.
    fn visit_mut(&mut self, visitor: &mut dyn VisitorMut);
    /// Train mode (`true`: Dropout drops, BatchNorm uses batch statistics) or eval mode.
    fn set_training(&mut self, training: bool);

    /// PyTorch's `model.train()`.
    fn train(&mut self) {
        self.set_training(true);
    }
    /// PyTorch's `model.eval()`.
    fn eval(&mut self) {
        self.set_training(false);
    }
    /// Sets every parameter gradient to zero (on a data-parallel step's threads, long
    /// gradients are cleared in pieces across them).
    fn zero_grad(&mut self) {
        struct ZeroGrad;
        impl VisitorMut for ZeroGrad {
            fn parameter(&mut self, _: &str, p: &mut Parameter) {
                crate::parallel::split::elementwise(&mut p.grad[..], &|g: &mut [f32]| g.fill(0.0));
            }
        }
        self.visit_mut(&mut ZeroGrad);
    }
    /// PyTorch's `module.requires_grad_(flag)`: sets `requires_grad` on every parameter.
    fn set_requires_grad(&mut self, requires_grad: bool) {
        struct Set(bool);
        impl VisitorMut for Set {
            fn parameter(&mut self, _: &str, p: &mut Parameter) {
                p.requires_grad = self.0;
            }
        }
        self.visit_mut(&mut Set(requires_grad));
    }
    /// Freezes the parameters whose state-dict keys `pattern` selects (`"fc1."`,
    /// `"encoder.*"`; see [`KeyPattern`](crate::optim::KeyPattern)): no gradient work in
    /// backward, no update and no state in the optimizer. Returns how many it froze.
    fn freeze(&mut self, pattern: &str) -> Result<usize, SelectError>
    where
        Self: Sized,
    {
        crate::state::set_requires_grad(self, pattern, false)
    }
    /// Undoes [`freeze`](Module::freeze) for the parameters `pattern` selects.
    fn unfreeze(&mut self, pattern: &str) -> Result<usize, SelectError>
    where
        Self: Sized,
    {
        crate::state::set_requires_grad(self, pattern, true)
    }
    /// What this module computes, for [`export`](crate::export): kind, hyperparameters and
    /// weights. The default is `Unsupported`, so exporting a module the exporter does not
    /// know fails naming it instead of writing a wrong file.
    fn describe(&self) -> crate::export::Node<'_> {
        crate::export::Node::Unsupported {
            type_name: self.type_name(),
        }
    }
    /// The number of learnable values.
    fn num_params(&self) -> usize {
        struct Count(usize);
        impl Visitor for Count {
            fn parameter(&mut self, _: &str, p: &Parameter) {
                self.0 += p.len();
            }
        }
        let mut count = Count(0);
        self.visit(&mut count);
        count.0
    }
}

/// The computation of a module that maps rows of width `IN` to rows of width `OUT`.
///
/// Users call [`forward`](Forward::forward) for inference and
/// [`forward_train`](Forward::forward_train) for training; the [`Trace`] that `forward_train`
/// returns is the only way to `backward`, so backward without a forward pass, backward twice
/// and backward through an inference output do not compile.
///
/// The `*_raw` methods are the layer protocol: a layer (or a model the macros generate)
/// implements them, and a generated model calls them on its layers in straight-line order.
/// They do not check their order; [`Trace`] is what does, and the backward ones take a
/// [`TraceKey`] that only a [`Trace`] makes, so they cannot be called out of order from
/// outside a layer (`model.backward_raw(..)` does not compile).
pub trait Forward<const IN: usize, const OUT: usize>: Module {
    /// Inference: eval-mode semantics whatever the mode, nothing kept for backward.
    fn forward(&self, x: &BatchSlice<IN>) -> Batch<OUT>;

    /// Forward in the current mode (Dropout drops, BatchNorm uses batch statistics in train
    /// mode), keeping what backward needs. The returned [`Trace`] borrows the model and the
    /// input (backward reads the input again, as autograd keeps it: no layer copies it),
    /// reads as the output, and is consumed by [`Trace::backward`].
    fn forward_train<'m, 'x>(&'m mut self, x: &'x BatchSlice<IN>) -> Trace<'m, 'x, Self, IN, OUT> {
        self.forward_train_raw(x);
        Trace {
            module: self,
            input: x,
        }
    }

    /// Layer protocol: forward in the current mode, keeping what `backward_raw` needs in
    /// buffers the module owns and reuses from step to step. The input itself need not be
    /// kept: backward is given it again.
    fn forward_train_raw(&mut self, x: &BatchSlice<IN>) -> &BatchSlice<OUT>;
    /// Layer protocol: the output of the last `forward_train_raw`.
    fn last_output(&self) -> &BatchSlice<OUT>;
    /// Layer protocol: given the input of the last `forward_train_raw` (the same values) and
    /// d loss / d its output, adds the parameter gradients and returns d loss / d input.
    /// A layer made of layers passes `key` on to them, and each of them its own input: the
    /// model's for the first, the `last_output` of the one before for the others.
    fn backward_raw(
        &mut self,
        input: &BatchSlice<IN>,
        grad_output: &BatchSlice<OUT>,
        key: &TraceKey,
    ) -> &BatchSlice<IN>;
    /// Layer protocol: `backward_raw` without d loss / d input, for the first layer of a
    /// model, whose input never needs a gradient (PyTorch skips it for inputs that do not
    /// require grad).
    fn backward_params_raw(
        &mut self,
        input: &BatchSlice<IN>,
        grad_output: &BatchSlice<OUT>,
        key: &TraceKey,
    ) {
        self.backward_raw(input, grad_output, key);
    }

    /// `forward` taking ownership of its input, so that elementwise layers work in place
    /// and inference allocates once per layer that changes the width.
    fn forward_owned(&self, x: Batch<IN>) -> Batch<OUT> {
        self.forward(&x)
    }
    /// Checks user input that the computation cannot take (an Embedding index out of range).
    /// `fit` calls it on every batch; generated models ask their first layer.
    fn validate(&self, _x: &BatchSlice<IN>) -> Result<(), InputError> {
        Ok(())
    }

    /// Not callable: backward belongs to the [`Trace`] that `forward_train` returns. Present
    /// only so that `model.backward(..)` (the PyTorch habit) says what to write instead.
    #[doc(hidden)]
    fn backward(&mut self, _grad_output: &BatchSlice<OUT>)
    where
        Self: BackwardNeedsTrace,
    {
    }
    /// Not callable, as [`Forward::backward`].
    #[doc(hidden)]
    fn backward_params(&mut self, _grad_output: &BatchSlice<OUT>)
    where
        Self: BackwardNeedsTrace,
    {
    }
}

/// What [`Forward::forward_train`] returns: the module and its input, borrowed until
/// backward, whose last forward pass this is. Reads as the output (`&*trace`, or wherever a `&BatchSlice<OUT>` is
/// expected). Consumed by [`Trace::backward`], so each forward pass is backpropagated at most
/// once, and nothing else can be. Gradients accumulate over several `forward_train` /
/// `backward` pairs until `zero_grad`, as in PyTorch.
#[must_use = "a training forward pass is for `backward`; use `forward` for inference"]
pub struct Trace<'m, 'x, M: Forward<IN, OUT> + ?Sized, const IN: usize, const OUT: usize> {
    module: &'m mut M,
    // Its own lifetime, so that the gradient `backward` returns borrows only the module: a
    // layer's trace whose input is the trace of the layer before can then pass that one the
    // gradient and be consumed in turn.
    input: &'x BatchSlice<IN>,
}

impl<'m, M: Forward<IN, OUT> + ?Sized, const IN: usize, const OUT: usize>
    Trace<'m, '_, M, IN, OUT>
{
    /// The output of the forward pass.
    pub fn output(&self) -> &BatchSlice<OUT> {
        self.module.last_output()
    }
    /// PyTorch's `loss.backward()` from d loss / d output: adds every parameter gradient
    /// and returns d loss / d input.
    // `self` by value is what makes a second backward of one pass a compile error; rustc
    // quotes the line of `self` when it reports one, so that line says what to write instead.
    ///
    /// `grad_output` is taken as any `&G` that views as a batch, not as `&BatchSlice`: a
    /// `&Batch` argument then needs no deref coercion between the move of `self` and the
    /// call, which is what lets rustc quote the line of `self` below in its error.
    ///
    /// # Panics
    /// If `grad_output` has other rows than the forward pass (PyTorch: "Mismatch in shape").
    pub fn backward<G: AsRef<BatchSlice<OUT>> + ?Sized>(
        self, // one backward per forward pass: call `forward_train` again for another
        grad_output: &G,
    ) -> &'m BatchSlice<IN> {
        let grad_output = grad_output.as_ref();
        same_row_count(self.input.rows(), grad_output.rows());
        self.module
            .backward_raw(self.input, grad_output, &TraceKey(()))
    }
    /// `backward` without d loss / d input, which a model's input never needs: what `fit`
    /// uses, one product cheaper per step.
    ///
    /// # Panics
    /// As [`backward`](Self::backward), for a gradient with other rows.
    pub fn backward_params<G: AsRef<BatchSlice<OUT>> + ?Sized>(
        self, // one backward per forward pass: call `forward_train` again for another
        grad_output: &G,
    ) {
        let grad_output = grad_output.as_ref();
        same_row_count(self.input.rows(), grad_output.rows());
        self.module
            .backward_params_raw(self.input, grad_output, &TraceKey(()))
    }
}

/// Panics unless the gradient has a row per row of the forward pass, as PyTorch refuses a
/// gradient of another shape ("Mismatch in shape"): the layers' kernels zip rows, so a
/// shorter gradient would leave rows out of the weight gradient without a word. `Trace`,
/// `fit`'s width-erased trace and `DataParallel` ask it.
pub(crate) fn same_row_count(forward: usize, grad: usize) {
    assert!(
        grad == forward,
        "backward: the gradient has {grad} rows, the forward pass had {forward} rows (one \
         gradient row per output row)"
    );
}

/// Proof that a backward call of the layer protocol comes from a [`Trace`]: only
/// [`Trace::backward`] and [`Trace::backward_params`] (and `fit`'s width-erased
/// [`DynTrace`](crate::train::DynTrace)) make one (its field is private), and a
/// layer receives it by reference for the length of the call, so it cannot be kept either.
/// A layer made of layers passes it on to them.
pub struct TraceKey(pub(crate) ());

impl<M: Forward<IN, OUT> + ?Sized, const IN: usize, const OUT: usize> std::ops::Deref
    for Trace<'_, '_, M, IN, OUT>
{
    type Target = BatchSlice<OUT>;
    fn deref(&self) -> &BatchSlice<OUT> {
        self.output()
    }
}

/// The supertrait of the traits implemented by nothing (`BackwardNeedsTrace`, the data
/// loader's `NextBatchNeedsEpoch`): no type outside the crate can implement them either.
pub(crate) mod sealed {
    pub trait Sealed {}
}

/// Implemented by nothing: the bound that makes `model.backward(..)` and
/// `output.backward(..)` compile errors that say what to call instead.
#[diagnostic::on_unimplemented(
    message = "backward is called on what `forward_train` returns, not on `{Self}`",
    label = "this has no forward pass to backpropagate",
    note = "write `let out = model.forward_train(&x);` then `out.backward(&grad)`: the trace `forward_train` returns is the only way to backward (`forward` is inference and keeps nothing)"
)]
pub trait BackwardNeedsTrace: sealed::Sealed {}

/// A key pattern that selects no parameter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{pattern}` selects no parameter; the parameters are {keys}")]
pub struct SelectError {
    pub pattern: String,
    pub keys: String,
}

/// Input a module cannot compute with.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("index {value} in row {row}, column {column} is not a whole number below {num}")]
    Index {
        row: usize,
        column: usize,
        value: f32,
        num: usize,
    },
    /// PyTorch's "Expected more than 1 value per channel when training"; also BatchNorm's
    /// panic in a hand-written loop.
    #[error(
        "BatchNorm got one value per channel in training mode (a batch of one row): its \
         statistics would be that value and its running variance would shrink; PyTorch \
         refuses it too. Drop the last batch (`drop_last`) or pick a batch size that leaves no \
         single row"
    )]
    OneValuePerChannel,
}

/// The widths of a module whose type fixes them: `Linear<2, 16>` or a generated model.
/// The macros read them to chain a nested model.
pub trait Shaped {
    const IN: usize;
    const OUT: usize;
}

/// Builds a module with PyTorch's default initialisation from a seeded RNG. Generated models
/// implement it, which is how a model stands as a layer inside another.
pub trait Init: Sized {
    fn init<R: rand::Rng>(rng: &mut R) -> Self;
}
