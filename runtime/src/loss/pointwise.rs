//! Losses that compare the input and the target value by value: MSE, L1, SmoothL1, Huber,
//! BCE and BCE with logits. Each function returns the loss and its derivative together.

use super::{Loss, LossError, Reduction, check_rows, check_sample_weight, check_setting};
use super::{exp, log1p};
use crate::tensor::{BatchSlice, resize};

/// One element's loss and d loss / d input.
pub trait PointwiseFn: Clone + std::fmt::Debug {
    /// `column` is the element's position in its row (for a per-class `pos_weight`).
    fn point(&self, x: f32, y: f32, column: usize) -> (f32, f32);
    /// Whether targets must lie in [0, 1].
    const PROBABILITY_TARGETS: bool = false;
    /// Whether inputs must lie in [0, 1] (BCE's probabilities): an input outside, NaN
    /// included, is an error, as in PyTorch, where its clamped logarithm would give a finite
    /// loss and a gradient of about 10¹² without a word.
    const PROBABILITY_INPUTS: bool = false;
    /// Whether the function's own parameters fit rows of `width` (a `pos_weight`'s length).
    fn check_width(&self, width: usize) -> Result<(), LossError> {
        let _ = width;
        Ok(())
    }
    /// Whether the function's own settings are ones PyTorch takes (Huber's `delta`).
    fn check_settings(&self) -> Result<(), LossError> {
        Ok(())
    }
    /// Per-value terms made for the whole batch in one pass, where `point` alone would
    /// call libm value by value (BCE with logits' `e^−|z|` and `log(1 + e^−|z|)`): fills
    /// `terms` with two values per input (every input's first, then every input's second)
    /// and returns true; or returns false (the default), and `point` runs alone.
    fn prepare(&self, x: &[f32], terms: &mut Vec<f32>) -> bool {
        let _ = (x, terms);
        false
    }
    /// `point`, given the two terms `prepare` made for this value: the same bits.
    fn point_prepared(&self, x: f32, y: f32, column: usize, terms: (f32, f32)) -> (f32, f32) {
        let _ = terms;
        self.point(x, y, column)
    }
}

/// A loss made of a [`PointwiseFn`] and a reduction.
#[derive(Clone, Debug, Default)]
pub struct Pointwise<F> {
    pub function: F,
    pub reduction: Reduction,
    grad: Vec<f32>,
    /// What `PointwiseFn::prepare` makes, kept so that it is allocated once.
    terms: Vec<f32>,
}

impl<F: PointwiseFn> Pointwise<F> {
    pub fn with(function: F) -> Self {
        Pointwise {
            function,
            reduction: Reduction::Mean,
            grad: Vec::new(),
            terms: Vec::new(),
        }
    }

    /// Sets the reduction (builder style).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    fn check<const W: usize>(&self, x: &BatchSlice<W>, y: &BatchSlice<W>) -> Result<(), LossError> {
        check_rows(x.rows(), y.rows())?;
        self.function.check_settings()?;
        self.function.check_width(W)?;
        if F::PROBABILITY_TARGETS
            && let Some(i) = outside_unit_interval(y.as_slice())
        {
            let value = y.as_slice()[i];
            let (row, column) = (i / W, i % W);
            return Err(LossError::TargetOutOfRange { row, column, value });
        }
        if F::PROBABILITY_INPUTS
            && let Some(i) = outside_unit_interval(x.as_slice())
        {
            let value = x.as_slice()[i];
            let (row, column) = (i / W, i % W);
            return Err(LossError::InputOutOfRange { row, column, value });
        }
        Ok(())
    }

    fn scale(&self, count: usize) -> f64 {
        match self.reduction {
            Reduction::Mean if count > 0 => 1.0 / count as f64,
            _ => 1.0,
        }
    }
}

/// The first value that is not in [0, 1] (NaN is not).
fn outside_unit_interval(values: &[f32]) -> Option<usize> {
    values.iter().position(|v| !(0.0..=1.0).contains(v))
}

impl<F: PointwiseFn, const W: usize> Loss<W> for Pointwise<F> {
    type Target = BatchSlice<W>;

    fn validate(&self) -> Result<(), LossError> {
        self.function.check_settings()?;
        self.function.check_width(W)
    }

    fn takes_probabilities(&self) -> bool {
        F::PROBABILITY_INPUTS
    }

    fn elementwise(&self, x: &BatchSlice<W>, y: &BatchSlice<W>) -> Result<Vec<f32>, LossError> {
        self.check(x, y)?;
        Ok(x.as_slice()
            .iter()
            .zip(y.as_slice())
            .enumerate()
            .map(|(i, (&x, &y))| self.function.point(x, y, i % W).0)
            .collect())
    }

    fn value(&self, x: &BatchSlice<W>, y: &BatchSlice<W>) -> Result<f32, LossError> {
        self.check(x, y)?;
        let sum: f64 = x
            .as_slice()
            .iter()
            .zip(y.as_slice())
            .enumerate()
            .map(|(i, (&x, &y))| f64::from(self.function.point(x, y, i % W).0))
            .sum();
        Ok((sum * self.scale(x.as_slice().len())) as f32)
    }

    fn value_and_grad(
        &mut self,
        x: &BatchSlice<W>,
        y: &BatchSlice<W>,
    ) -> Result<(f32, &BatchSlice<W>), LossError> {
        self.check(x, y)?;
        Ok(self.weighted(x, y, |_| 1.0))
    }

    fn value_and_grad_weighted(
        &mut self,
        x: &BatchSlice<W>,
        y: &BatchSlice<W>,
        sample_weight: &[f32],
    ) -> Result<(f32, &BatchSlice<W>), LossError> {
        self.check(x, y)?;
        check_sample_weight(sample_weight, x.rows())?;
        Ok(self.weighted(x, y, |row| sample_weight[row]))
    }
}

impl<F: PointwiseFn> Pointwise<F> {
    /// The loss and its gradient with element `(row, j)` weighted by `row_weight(row)`; the
    /// mean divides by the element count whatever the weights.
    fn weighted<const W: usize>(
        &mut self,
        x: &BatchSlice<W>,
        y: &BatchSlice<W>,
        row_weight: impl Fn(usize) -> f32,
    ) -> (f32, &BatchSlice<W>) {
        let x = x.as_slice();
        let scale = self.scale(x.len());
        resize(&mut self.grad, x.len());
        let (n, terms) = (x.len(), &mut self.terms);
        let prepared = self.function.prepare(x, terms);
        assert!(
            !prepared || terms.len() == 2 * n,
            "`prepare` makes two terms per value"
        );
        let mut sum = 0.0f64;
        for (i, ((g, &x), &y)) in self.grad.iter_mut().zip(x).zip(y.as_slice()).enumerate() {
            let (l, d) = if prepared {
                let terms = (terms[i], terms[n + i]);
                self.function.point_prepared(x, y, i % W, terms)
            } else {
                self.function.point(x, y, i % W)
            };
            let s = f64::from(row_weight(i / W));
            sum += s * f64::from(l);
            *g = (s * f64::from(d) * scale) as f32;
        }
        ((sum * scale) as f32, BatchSlice::view(&self.grad))
    }
}

/// `(x − y)²`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mse;
impl PointwiseFn for Mse {
    fn point(&self, x: f32, y: f32, _: usize) -> (f32, f32) {
        let d = x - y;
        (d * d, 2.0 * d)
    }
}

/// `|x − y|`; the derivative at 0 is 0, as PyTorch's `sign`.
#[derive(Clone, Copy, Debug, Default)]
pub struct L1;
impl PointwiseFn for L1 {
    fn point(&self, x: f32, y: f32, _: usize) -> (f32, f32) {
        let d = x - y;
        (d.abs(), sign(d))
    }
}

fn sign(d: f32) -> f32 {
    if d > 0.0 {
        1.0
    } else if d < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `0.5 d² / β` if `|d| < β`, else `|d| − 0.5 β` (β = 0 is L1).
#[derive(Clone, Copy, Debug)]
pub struct SmoothL1 {
    pub beta: f32,
}
impl PointwiseFn for SmoothL1 {
    fn point(&self, x: f32, y: f32, _: usize) -> (f32, f32) {
        let d = x - y;
        if d.abs() < self.beta {
            (0.5 * d * d / self.beta, d / self.beta)
        } else {
            (d.abs() - 0.5 * self.beta, sign(d))
        }
    }
    fn check_settings(&self) -> Result<(), LossError> {
        check_setting("beta", self.beta, self.beta >= 0.0, "0 or more")
    }
}

/// `0.5 d²` if `|d| < δ`, else `δ (|d| − 0.5 δ)`.
#[derive(Clone, Copy, Debug)]
pub struct Huber {
    pub delta: f32,
}
impl PointwiseFn for Huber {
    fn point(&self, x: f32, y: f32, _: usize) -> (f32, f32) {
        let d = x - y;
        if d.abs() < self.delta {
            (0.5 * d * d, d)
        } else {
            (
                self.delta * (d.abs() - 0.5 * self.delta),
                self.delta * sign(d),
            )
        }
    }
    fn check_settings(&self) -> Result<(), LossError> {
        check_setting("delta", self.delta, self.delta > 0.0, "above 0")
    }
}

/// Binary cross-entropy on probabilities; each log is clamped at −100 and the derivative's
/// denominator `x (1 − x)` at 1e-12, as in PyTorch.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bce;
impl PointwiseFn for Bce {
    const PROBABILITY_TARGETS: bool = true;
    const PROBABILITY_INPUTS: bool = true;
    fn point(&self, x: f32, y: f32, _: usize) -> (f32, f32) {
        let log_x = x.ln().max(-100.0);
        let log_1mx = (1.0 - x).ln().max(-100.0);
        let loss = -(y * log_x + (1.0 - y) * log_1mx);
        let grad = (x - y) / ((1.0 - x) * x).max(1e-12);
        (loss, grad)
    }
}

/// Binary cross-entropy on logits, `max(z, 0) − z y + log(1 + e^−|z|)` (stable for any z),
/// with an optional weight on positive targets per column.
#[derive(Clone, Debug, Default)]
pub struct BceWithLogits {
    pub pos_weight: Option<Vec<f32>>,
}
impl PointwiseFn for BceWithLogits {
    const PROBABILITY_TARGETS: bool = true;
    fn check_width(&self, width: usize) -> Result<(), LossError> {
        match &self.pos_weight {
            Some(w) if w.len() != width => Err(LossError::WeightLength {
                name: "pos_weight",
                found: w.len(),
                expected: width,
            }),
            _ => Ok(()),
        }
    }
    fn point(&self, z: f32, y: f32, column: usize) -> (f32, f32) {
        let e = exp_neg_abs(z);
        self.point_prepared(z, y, column, (e, e.ln_1p()))
    }
    /// `e^−|z|` of every value in one vectorised pass, then `log(1 + e^−|z|)` of them all:
    /// the bits of `point`'s libm calls.
    fn prepare(&self, logits: &[f32], terms: &mut Vec<f32>) -> bool {
        resize(terms, 2 * logits.len());
        let (exps, log1p_exps) = terms.split_at_mut(logits.len());
        for (e, &z) in exps.iter_mut().zip(logits) {
            *e = -z.abs();
        }
        exp::exp_in_place(exps);
        log1p_exps.copy_from_slice(exps);
        log1p::ln_1p_in_place(log1p_exps);
        true
    }
    fn point_prepared(
        &self,
        z: f32,
        y: f32,
        column: usize,
        (e, log1p_e): (f32, f32),
    ) -> (f32, f32) {
        let p = self.pos_weight.as_ref().map_or(1.0, |w| w[column]);
        // loss = (1 − y) z + k · softplus(−z), k = 1 + (p − 1) y
        let k = 1.0 + (p - 1.0) * y;
        let softplus_neg = (-z).max(0.0) + log1p_e;
        let loss = (1.0 - y) * z + k * softplus_neg;
        let sigmoid = if z >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        (loss, k * sigmoid - p * y)
    }
}

/// `e^−|z|`: also the exp each side of the sigmoid needs (`e^−z` for z ≥ 0, `e^z` below), one
/// libm call where there were two, the same values (a NaN `z` still gives NaN, its sign bit
/// now always set: Rust leaves a NaN's sign open). `prepare` computes it for a whole batch.
fn exp_neg_abs(z: f32) -> f32 {
    (-z.abs()).exp()
}

/// PyTorch's `nn.MSELoss()`.
pub type MSELoss = Pointwise<Mse>;
/// PyTorch's `nn.L1Loss()`.
pub type L1Loss = Pointwise<L1>;
/// PyTorch's `nn.SmoothL1Loss(beta)`.
pub type SmoothL1Loss = Pointwise<SmoothL1>;
/// PyTorch's `nn.HuberLoss(delta)`.
pub type HuberLoss = Pointwise<Huber>;
/// PyTorch's `nn.BCELoss()`.
pub type BCELoss = Pointwise<Bce>;
/// PyTorch's `nn.BCEWithLogitsLoss(pos_weight)`.
pub type BCEWithLogitsLoss = Pointwise<BceWithLogits>;

impl MSELoss {
    /// Mean squared error, mean reduction.
    ///
    /// ```
    /// use staticnn_runtime::loss::{Loss, MSELoss};
    /// use staticnn_runtime::Batch;
    /// let prediction = Batch::from_rows(&[[2.5, 1.3, 0.8]]);
    /// let target = Batch::from_rows(&[[3.0, 1.0, 1.0]]);
    /// let loss = MSELoss::new().value(&prediction, &target).unwrap();
    /// assert!((loss - 0.12667).abs() < 1e-5);
    /// ```
    pub fn new() -> Self {
        Self::with(Mse)
    }
}
impl L1Loss {
    /// Mean absolute error, mean reduction.
    ///
    /// ```
    /// use staticnn_runtime::loss::{L1Loss, Loss};
    /// use staticnn_runtime::Batch;
    /// let prediction = Batch::from_rows(&[[2.5, 1.3, 0.8]]);
    /// let target = Batch::from_rows(&[[3.0, 1.0, 1.0]]);
    /// let loss = L1Loss::new().value(&prediction, &target).unwrap();
    /// assert!((loss - 0.33333).abs() < 1e-5);
    /// ```
    pub fn new() -> Self {
        Self::with(L1)
    }
}
impl SmoothL1Loss {
    /// PyTorch's default `beta` is 1.0.
    pub fn new(beta: f32) -> Self {
        Self::with(SmoothL1 { beta })
    }
}
impl HuberLoss {
    /// PyTorch's default `delta` is 1.0.
    pub fn new(delta: f32) -> Self {
        Self::with(Huber { delta })
    }
}
impl BCELoss {
    pub fn new() -> Self {
        Self::with(Bce)
    }
}
impl BCEWithLogitsLoss {
    pub fn new() -> Self {
        Self::with(BceWithLogits::default())
    }
    /// Weights positive targets of each column (`pos_weight`, one value per output column).
    pub fn pos_weight(mut self, weights: Vec<f32>) -> Self {
        self.function.pos_weight = Some(weights);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::{BceWithLogits, PointwiseFn};

    /// The loss and gradient as written before the sigmoid shared softplus's exp: the
    /// sigmoid took `exp(−z)` or `exp(z)` by the sign of `z`.
    fn two_exps(z: f32, y: f32, p: f32) -> (f32, f32) {
        let k = 1.0 + (p - 1.0) * y;
        let softplus_neg = (-z).max(0.0) + (-z.abs()).exp().ln_1p();
        let loss = (1.0 - y) * z + k * softplus_neg;
        let sigmoid = if z >= 0.0 {
            1.0 / (1.0 + (-z).exp())
        } else {
            let e = z.exp();
            e / (1.0 + e)
        };
        (loss, k * sigmoid - p * y)
    }

    #[test]
    fn bce_with_logits_gives_the_two_exp_bits_with_one_exp() {
        let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        let mut zs = vec![0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN];
        zs.extend([
            f32::MIN_POSITIVE,
            1e-40,
            f32::MAX,
            88.7,
            103.9,
            104.0,
            1e-8,
            0.5,
        ]);
        // Every 4099th float of either sign: all magnitudes, normal and subnormal.
        zs.extend((0..u32::MAX / 4099).map(|i| f32::from_bits(i * 4099)));
        let negatives: Vec<f32> = zs.iter().map(|z| -z).collect();
        zs.extend(negatives);
        for (y, p) in [(0.0, 1.0), (1.0, 1.0), (0.3, 1.0), (1.0, 2.5), (0.7, 0.25)] {
            let bce = BceWithLogits {
                pos_weight: Some(vec![p]),
            };
            for &z in &zs {
                let ((loss, grad), (loss2, grad2)) = (bce.point(z, y, 0), two_exps(z, y, p));
                assert!(
                    same(loss, loss2),
                    "loss at z = {z:e}, y = {y}: {loss:e} for {loss2:e}"
                );
                assert!(
                    same(grad, grad2),
                    "grad at z = {z:e}, y = {y}: {grad:e} for {grad2:e}"
                );
            }
        }
    }
}

#[cfg(test)]
mod batch_tests {
    use super::{BceWithLogits, Pointwise, PointwiseFn};
    use crate::loss::Loss;
    use crate::tensor::Batch;

    /// Through a whole batch, `value_and_grad` (whose exps and logarithms `prepare` makes in
    /// vector passes) gives the bits of `point` value by value, as `value` does: with a
    /// `pos_weight`, sample weights, logits of every kind, and a count off the lanes (21).
    #[test]
    fn bce_with_logits_batch_passes_give_points_bits() {
        let specials = [
            0.0,
            -0.0,
            1e-30,
            -1e-8,
            0.5,
            -3.0,
            17.0,
            -87.9,
            88.5,
            -104.0,
            f32::NAN,
        ];
        let logits: Vec<f32> = (0..21)
            .map(|i| {
                specials
                    .get(i)
                    .copied()
                    .unwrap_or((i as f32 * 1.37).sin() * 9.0)
            })
            .collect();
        let targets: Vec<f32> = (0..21).map(|i| (i % 5) as f32 / 4.0).collect();
        let rows = |v: &[f32]| {
            Batch::<3>::from_rows(&v.chunks(3).map(|r| [r[0], r[1], r[2]]).collect::<Vec<_>>())
        };
        let (x, y) = (rows(&logits), rows(&targets));
        let function = BceWithLogits {
            pos_weight: Some(vec![1.0, 2.5, 0.25]),
        };
        let mut loss = Pointwise::with(function.clone());
        let weights: Vec<f32> = (0..7).map(|r| 0.5 + r as f32).collect();
        let bits = |v: f32| if v.is_nan() { u32::MAX } else { v.to_bits() };
        for weighted in [false, true] {
            let row_weight = |r: usize| if weighted { f64::from(weights[r]) } else { 1.0 };
            let scale = 1.0 / 21.0f64;
            let (mut sum, mut grads) = (0.0f64, Vec::new());
            for (i, (&z, &t)) in logits.iter().zip(&targets).enumerate() {
                let (l, d) = function.point(z, t, i % 3);
                sum += row_weight(i / 3) * f64::from(l);
                grads.push((row_weight(i / 3) * f64::from(d) * scale) as f32);
            }
            let (value, grad) = if weighted {
                loss.value_and_grad_weighted(&x, &y, &weights).unwrap()
            } else {
                loss.value_and_grad(&x, &y).unwrap()
            };
            assert_eq!(
                bits(value),
                bits((sum * scale) as f32),
                "value, weighted: {weighted}"
            );
            let got: Vec<u32> = grad.as_slice().iter().map(|&g| bits(g)).collect();
            let expected: Vec<u32> = grads.iter().map(|&g| bits(g)).collect();
            assert_eq!(got, expected, "gradient, weighted: {weighted}");
            if !weighted {
                assert_eq!(bits(value), bits(loss.value(&x, &y).unwrap()), "value()");
            }
        }
    }
}
