//! Adam (L2 weight decay, AMSGrad) and AdamW (decoupled weight decay), as `torch.optim`.
//! Scalars are computed in f64 and the tensors updated in f32, the way PyTorch does.

use super::params::{ParamGroup, ParamSet, Slots, zeros};
use super::{
    Optimizer, OptimizerError, check_beta, check_lr, check_non_negative, learning_rate_from_params,
};
use crate::module::Module;
use crate::parallel::split::elementwise;
use crate::simd;
use crate::state::NamedTensor;

#[derive(Clone, Debug)]
pub struct Adam {
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f32,
    pub amsgrad: bool,
    decoupled: bool,
    params: ParamSet<AdamSlots>,
    /// The squarings of β₁ and β₂ behind `β₁ᵗ` and `β₂ᵗ`, kept from step to step (boxed:
    /// 500 bytes inline would make every `AnyOptimizer` that large).
    squarings: Box<(Squarings, Squarings)>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct AdamSlots {
    exp_avg: Vec<f32>,
    exp_avg_sq: Vec<f32>,
    max_exp_avg_sq: Vec<f32>,
}

impl Slots for AdamSlots {
    const NAMES: &'static [&'static str] = &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
    const HAS_STEP: bool = true;
    fn slot(&self, index: usize) -> &Vec<f32> {
        [&self.exp_avg, &self.exp_avg_sq, &self.max_exp_avg_sq][index]
    }
    fn slot_mut(&mut self, index: usize) -> &mut Vec<f32> {
        match index {
            0 => &mut self.exp_avg,
            1 => &mut self.exp_avg_sq,
            _ => &mut self.max_exp_avg_sq,
        }
    }
}

/// AdamW is Adam whose weight decay shrinks the weights directly.
#[derive(Clone, Debug)]
pub struct AdamW;

impl AdamW {
    /// PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0.01.
    /// Refuses what PyTorch's constructor refuses: a NaN, infinite or negative `lr`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(lr: f64) -> Result<Adam, OptimizerError> {
        check_lr("AdamW", lr)?;
        Ok(Adam {
            decoupled: true,
            weight_decay: 0.01,
            ..Adam::with_lr(lr)
        })
    }
}

impl Adam {
    /// PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. Refuses what
    /// PyTorch's constructor refuses: a NaN, infinite or negative `lr`; each setter below
    /// likewise refuses its value.
    pub fn new(lr: f64) -> Result<Self, OptimizerError> {
        check_lr("Adam", lr)?;
        Ok(Self::with_lr(lr))
    }
    fn with_lr(lr: f64) -> Self {
        Adam {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled: false,
            params: ParamSet::new(lr),
            squarings: Default::default(),
        }
    }
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Result<Self, OptimizerError> {
        check_beta(self.name(), "beta1", beta1)?;
        check_beta(self.name(), "beta2", beta2)?;
        self.betas = (beta1, beta2);
        Ok(self)
    }
    pub fn eps(mut self, eps: f64) -> Result<Self, OptimizerError> {
        check_non_negative(self.name(), "eps", eps)?;
        self.eps = eps;
        Ok(self)
    }
    pub fn weight_decay(mut self, weight_decay: f32) -> Result<Self, OptimizerError> {
        check_non_negative(self.name(), "weight_decay", weight_decay.into())?;
        self.weight_decay = weight_decay;
        Ok(self)
    }
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }
    /// A parameter group with its own lr, weight decay or betas (PyTorch's `param_groups`).
    pub fn param_group(mut self, group: ParamGroup) -> Self {
        self.params.add_group(group);
        self
    }
    /// The groups: 0 is this optimizer's own settings, then each `param_group` in order.
    pub fn param_groups(&self) -> &[ParamGroup] {
        self.params.groups()
    }
    fn name(&self) -> &'static str {
        if self.decoupled { "AdamW" } else { "Adam" }
    }
}

learning_rate_from_params!(Adam);

impl Optimizer for Adam {
    fn step<M: Module + ?Sized>(&mut self, model: &mut M) -> Result<(), OptimizerError> {
        self.validate()?;
        let Adam {
            betas,
            eps,
            weight_decay,
            amsgrad,
            decoupled,
            params,
            squarings,
        } = self;
        let (amsgrad, decoupled, eps) = (*amsgrad, *decoupled, *eps);
        let mut powers = Powers {
            last: None,
            squarings,
        };
        params.update(model, |group, p, state| {
            state.step += 1;
            let t = state.step as i32;
            let (b1, b2) = group.options.betas.unwrap_or(*betas);
            let wd = group.options.weight_decay.unwrap_or(*weight_decay);
            let lr = group.lr;
            let (b1t, b2t) = powers.of(b1, b2, t);
            let c = Constants {
                step_size: (lr / (1.0 - b1t)) as f32,
                bc2_sqrt: (1.0 - b2t).sqrt() as f32,
                one_minus_b1: (1.0 - b1) as f32,
                b2: b2 as f32,
                one_minus_b2: (1.0 - b2) as f32,
                eps: eps as f32,
                // Coupled (Adam) decay adds wd·p to the gradient; decoupled (AdamW) shrinks p.
                l2: if decoupled { 0.0 } else { wd },
                shrink: if decoupled {
                    (1.0 - lr * f64::from(wd)) as f32
                } else {
                    1.0
                },
            };
            let n = p.len();
            let slots = &mut state.slots;
            let m = zeros(&mut slots.exp_avg, n);
            let v = zeros(&mut slots.exp_avg_sq, n);
            // One pass over the values, split over a data-parallel step's threads.
            if amsgrad {
                let vmax = zeros(&mut slots.max_exp_avg_sq, n);
                let slices = (&mut p.value[..], (&p.grad[..], (m, (v, vmax))));
                elementwise(slices, &|(p, (g, (m, (v, vmax))))| {
                    simd::vectorize(|| update_amsgrad(&c, p, g, m, v, vmax))
                });
            } else {
                let slices = (&mut p.value[..], (&p.grad[..], (m, v)));
                elementwise(slices, &|(p, (g, (m, v)))| {
                    simd::vectorize(|| update(&c, p, g, m, v))
                });
            }
        })
    }

    fn state(&self) -> Vec<NamedTensor> {
        self.params.export()
    }

    fn load_state<M: Module + ?Sized>(
        &mut self,
        model: &M,
        state: &[NamedTensor],
    ) -> Result<(), OptimizerError> {
        let amsgrad = self.amsgrad;
        let name = self.name();
        self.params.import(model, state, name, |_, slot| {
            amsgrad || slot != "max_exp_avg_sq"
        })
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        let name = self.name();
        check_non_negative(name, "eps", self.eps)?;
        for (g, group) in self.params.groups().iter().enumerate() {
            check_lr(name, self.params.lr(g))?;
            let (b1, b2) = group.betas.unwrap_or(self.betas);
            check_beta(name, "beta1", b1)?;
            check_beta(name, "beta2", b2)?;
            let wd = group.weight_decay.unwrap_or(self.weight_decay);
            check_non_negative(name, "weight_decay", wd.into())?;
        }
        Ok(())
    }
}

/// `β₁ᵗ` and `β₂ᵗ`, computed once for all the parameters at the same step with the same
/// betas (every parameter, unless some were added or loaded later): `powi` per tensor was 3 %
/// of a step of a 211-parameter network.
struct Powers<'a> {
    /// The last `(β₁, β₂, t)` asked for, and its `(β₁ᵗ, β₂ᵗ)`.
    last: Option<PowersAt>,
    squarings: &'a mut (Squarings, Squarings),
}

#[derive(Clone, Copy)]
struct PowersAt {
    betas: (f64, f64),
    t: i32,
    powers: (f64, f64),
}

impl Powers<'_> {
    fn of(&mut self, b1: f64, b2: f64, t: i32) -> (f64, f64) {
        match self.last {
            Some(last) if last.betas == (b1, b2) && last.t == t => last.powers,
            _ => {
                let powers = (self.squarings.0.power(b1, t), self.squarings.1.power(b2, t));
                let betas = (b1, b2);
                self.last = Some(PowersAt { betas, t, powers });
                powers
            }
        }
    }
}

/// `βᵗ` as `f64::powi` computes it (compiler-builtins' `__powidf2`: `r = 1`, then for each
/// bit of `t` from the lowest, `r *= β^(2^i)` where bit `i` is set, `β^(2^i)` by repeated
/// squaring), with the squarings made once per β instead of at every step: the same
/// products in the same order, so the same bits, without the chain of up to 30 dependent
/// squarings per call (`__powidf2` was 3 % of T4's step, 20→10→1 at 100 rows, on an AMD EPYC).
#[derive(Clone)]
struct Squarings {
    /// The β of `squares`: NaN until the first call, so the first β fills the table (a NaN
    /// β, which Adam refuses anyway, would find NaN powers, as `powi` gives).
    beta: f64,
    /// `β^(2^i)` for bit `i` of a positive `i32`.
    squares: [f64; 31],
}

/// A cache, not a setting: only its β, so that `{:?}` of an optimizer stays readable.
impl std::fmt::Debug for Squarings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Squarings")
            .field("beta", &self.beta)
            .finish()
    }
}

impl Default for Squarings {
    fn default() -> Self {
        Squarings {
            beta: f64::NAN,
            squares: [f64::NAN; 31],
        }
    }
}

impl Squarings {
    fn power(&mut self, beta: f64, t: i32) -> f64 {
        if t <= 0 {
            return beta.powi(t);
        }
        if self.beta.to_bits() != beta.to_bits() {
            self.beta = beta;
            let mut square = beta;
            for s in &mut self.squares {
                *s = square;
                square *= square;
            }
        }
        let (mut power, mut bits) = (1.0f64, t as u32);
        while bits != 0 {
            power *= self.squares[bits.trailing_zeros() as usize];
            bits &= bits - 1;
        }
        power
    }
}

/// The scalars of one step, computed in f64 as PyTorch does and applied in f32.
struct Constants {
    step_size: f32,
    bc2_sqrt: f32,
    one_minus_b1: f32,
    b2: f32,
    one_minus_b2: f32,
    eps: f32,
    l2: f32,
    shrink: f32,
}

/// `m ← m + (1−β₁)(g − m)`, `v ← β₂v + (1−β₂)g²`, `p ← p − step·m / (√v / √(1−β₂ᵗ) + ε)`.
#[inline(always)]
fn update(c: &Constants, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = g + c.l2 * *p;
        *p *= c.shrink;
        *m += (g - *m) * c.one_minus_b1;
        *v = *v * c.b2 + c.one_minus_b2 * g * g;
        *p -= c.step_size * *m / (v.sqrt() / c.bc2_sqrt + c.eps);
    }
}

/// As `update`, with the running maximum of `v` in the denominator.
#[inline(always)]
fn update_amsgrad(
    c: &Constants,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    vmax: &mut [f32],
) {
    for ((((p, &g), m), v), vmax) in p
        .iter_mut()
        .zip(g)
        .zip(m.iter_mut())
        .zip(v.iter_mut())
        .zip(vmax.iter_mut())
    {
        let g = g + c.l2 * *p;
        *p *= c.shrink;
        *m += (g - *m) * c.one_minus_b1;
        *v = *v * c.b2 + c.one_minus_b2 * g * g;
        *vmax = vmax.max(*v);
        *p -= c.step_size * *m / (vmax.sqrt() / c.bc2_sqrt + c.eps);
    }
}

#[cfg(test)]
mod tests {
    use super::Squarings;

    #[test]
    fn squarings_give_powis_bits() {
        let mut rng = rand_pcg::Pcg64::new(5, 7);
        let mut betas = vec![0.9, 0.999, 0.99, 0.95, 0.5, 0.0, 1.0, 1e-300, 0.999_999_9];
        betas.extend((0..8).map(|_| rand::RngExt::random_range(&mut rng, 0.0..1.0f64)));
        let mut squarings = Squarings::default();
        let steps = || {
            let far = (0..31).flat_map(|b| [(1i32 << b) - 1, 1 << b, (1 << b) + 1]);
            (-3..=60_000).chain(far).chain([i32::MAX])
        };
        let mut check = |b: f64, t: i32| {
            let (ours, powi) = (squarings.power(b, t), b.powi(t));
            assert_eq!(
                ours.to_bits(),
                powi.to_bits(),
                "{b}^{t}: {ours:e} for {powi:e}"
            );
        };
        for (i, &beta) in betas.iter().enumerate() {
            // Every step of a long run, then steps far apart up to i32::MAX: one table.
            for t in steps() {
                check(beta, t);
            }
            // The same with another β in between, so that a table kept from it would show.
            let other = betas[(i + 1) % betas.len()];
            for t in steps().step_by(97) {
                check(beta, t);
                check(other, t);
            }
        }
    }
}
