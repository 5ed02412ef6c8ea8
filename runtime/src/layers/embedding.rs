//! `Embedding`: each input value is a row index into a `[NUM, DIM]` table; a sample of `L`
//! indices becomes `L·DIM` values. Its backward adds into the looked-up rows and gives no
//! input gradient (indices are not differentiable), like PyTorch.

use rand::Rng;

use crate::data::synthetic::normal;
use crate::module::{Forward, InputError, Module, Parameter, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// PyTorch's `nn.Embedding(NUM, DIM)`, initialised from N(0, 1) as PyTorch does.
#[derive(Clone, Debug)]
pub struct Embedding<const NUM: usize, const DIM: usize> {
    /// `[NUM, DIM]`.
    pub weight: Parameter,
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

impl<const NUM: usize, const DIM: usize> Embedding<NUM, DIM> {
    pub fn new(rng: &mut impl Rng) -> Self {
        let values = (0..NUM * DIM).map(|_| normal(rng)).collect();
        Self::from_weight(values)
    }

    /// # Panics
    /// If `weight` does not hold `NUM·DIM` values.
    pub fn from_weight(weight: Vec<f32>) -> Self {
        Embedding {
            weight: Parameter::new(weight, &[NUM, DIM]),
            output: Vec::new(),
            grad_input: Vec::new(),
        }
    }

    /// The row of an input value, if it is a whole number below `NUM`.
    fn index(v: f32) -> Option<usize> {
        (v >= 0.0 && v.fract() == 0.0 && (v as usize) < NUM).then_some(v as usize)
    }

    /// Every index must be a whole number in `0..NUM`.
    pub fn check_indices<const L: usize>(x: &BatchSlice<L>) -> Result<(), InputError> {
        match x.as_slice().iter().position(|&v| Self::index(v).is_none()) {
            None => Ok(()),
            Some(i) => Err(InputError::Index {
                row: i / L,
                column: i % L,
                value: x.as_slice()[i],
                num: NUM,
            }),
        }
    }

    /// Looks up one sample; an index out of range gives a row of NaN (which `fit` reports),
    /// `validate` says which one beforehand.
    fn lookup(&self, x: &[f32], out: &mut [f32]) {
        for (&v, o) in x.iter().zip(out.chunks_exact_mut(DIM)) {
            match Self::index(v) {
                Some(i) => o.copy_from_slice(&self.weight.value[i * DIM..(i + 1) * DIM]),
                None => o.fill(f32::NAN),
            }
        }
    }
}

impl<const NUM: usize, const DIM: usize> Module for Embedding<NUM, DIM> {
    fn visit(&self, v: &mut dyn Visitor) {
        v.parameter("weight", &self.weight);
    }
    fn visit_mut(&mut self, v: &mut dyn VisitorMut) {
        v.parameter("weight", &mut self.weight);
    }
    fn set_training(&mut self, _: bool) {}
    fn describe(&self) -> crate::export::Node<'_> {
        crate::export::Node::Embedding {
            num: NUM,
            dim: DIM,
            weight: &self.weight.value,
        }
    }
}

impl<const NUM: usize, const DIM: usize, const L: usize, const OUT: usize> Forward<L, OUT>
    for Embedding<NUM, DIM>
{
    fn forward(&self, x: &BatchSlice<L>) -> Batch<OUT> {
        const { assert!(OUT == L * DIM, "Embedding: OUT must be L × DIM") };
        let mut out = Batch::zeros(x.rows());
        self.lookup(x.as_slice(), out.as_mut_slice());
        out
    }

    fn last_output(&self) -> &BatchSlice<OUT> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<L>) -> &BatchSlice<OUT> {
        const { assert!(OUT == L * DIM, "Embedding: OUT must be L × DIM") };
        let mut output = std::mem::take(&mut self.output);
        resize(&mut output, x.rows() * OUT);
        self.lookup(x.as_slice(), &mut output);
        self.output = output;
        BatchSlice::view(&self.output)
    }

    fn backward_raw(
        &mut self,
        input: &BatchSlice<L>,
        grad_output: &BatchSlice<OUT>,
        _: &TraceKey,
    ) -> &BatchSlice<L> {
        // An index out of range looked up NaN and adds to no row.
        for (i, g) in input
            .as_slice()
            .iter()
            .map(|&v| Self::index(v))
            .zip(grad_output.as_slice().chunks_exact(DIM))
        {
            if let Some(i) = i.filter(|_| self.weight.requires_grad) {
                for (w, g) in self.weight.grad[i * DIM..(i + 1) * DIM].iter_mut().zip(g) {
                    *w += g;
                }
            }
        }
        resize(&mut self.grad_input, grad_output.rows() * L);
        self.grad_input.fill(0.0);
        BatchSlice::view(&self.grad_input)
    }

    fn validate(&self, x: &BatchSlice<L>) -> Result<(), InputError> {
        Self::check_indices(x)
    }
}
