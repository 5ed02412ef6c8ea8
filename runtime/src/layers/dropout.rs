//! `Dropout`: in train mode each value is zeroed with probability `p` and the survivors are
//! scaled by `1/(1-p)` (inverted dropout), so eval mode is the identity.

use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::module::{Forward, Module, TraceKey, Visitor, VisitorMut};
use crate::tensor::{Batch, BatchSlice, resize};

/// PyTorch's `nn.Dropout(p)`, with its own RNG seeded from the model's.
#[derive(Clone, Debug)]
pub struct Dropout {
    p: f32,
    training: bool,
    rng: Pcg64Mcg,
    mask: Vec<f32>,
    output: Vec<f32>,
    grad_input: Vec<f32>,
}

impl Dropout {
    /// # Panics
    /// If `p` is not in `[0, 1]`; the macros reject such a `p` at compile time.
    pub fn new(p: f32, rng: &mut impl Rng) -> Self {
        assert!(
            (0.0..=1.0).contains(&p),
            "dropout probability must be in [0, 1], got {p}"
        );
        Dropout {
            p,
            training: true,
            rng: Pcg64Mcg::seed_from_u64(rng.next_u64()),
            mask: Vec::new(),
            output: Vec::new(),
            grad_input: Vec::new(),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }
}

impl Module for Dropout {
    fn visit(&self, v: &mut dyn Visitor) {
        v.rng("rng", &self.rng);
    }
    fn visit_mut(&mut self, v: &mut dyn VisitorMut) {
        v.rng("rng", &mut self.rng);
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    /// Eval mode: the identity.
    fn describe(&self) -> crate::export::Node<'_> {
        crate::export::Node::Identity
    }
}

impl<const W: usize> Forward<W, W> for Dropout {
    fn forward(&self, x: &BatchSlice<W>) -> Batch<W> {
        x.to_batch()
    }

    fn forward_owned(&self, x: Batch<W>) -> Batch<W> {
        x
    }

    fn last_output(&self) -> &BatchSlice<W> {
        BatchSlice::view(&self.output)
    }

    fn forward_train_raw(&mut self, x: &BatchSlice<W>) -> &BatchSlice<W> {
        let x = x.as_slice();
        resize(&mut self.mask, x.len());
        if !self.training || self.p == 0.0 {
            self.mask.fill(1.0);
        } else if self.p >= 1.0 {
            self.mask.fill(0.0);
        } else {
            let scale = 1.0 / (1.0 - self.p);
            for m in &mut self.mask {
                let u: f32 = self.rng.random();
                *m = if u < self.p { 0.0 } else { scale };
            }
        }
        resize(&mut self.output, x.len());
        for ((y, &x), &m) in self.output.iter_mut().zip(x).zip(&self.mask) {
            *y = x * m;
        }
        BatchSlice::view(&self.output)
    }

    fn backward_raw(
        &mut self,
        _: &BatchSlice<W>,
        grad_output: &BatchSlice<W>,
        _: &TraceKey,
    ) -> &BatchSlice<W> {
        let g = grad_output.as_slice();
        resize(&mut self.grad_input, g.len());
        for ((dx, &g), &m) in self.grad_input.iter_mut().zip(g).zip(&self.mask) {
            *dx = g * m;
        }
        BatchSlice::view(&self.grad_input)
    }
}
