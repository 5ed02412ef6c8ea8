//! Losses over class indices: CrossEntropyLoss (on logits) and NLLLoss (on log-probabilities).

use super::{Loss, LossError, Reduction, check_rows, check_sample_weight, check_setting};
use crate::layers::log_softmax_row;
use crate::tensor::{BatchSlice, resize};

fn check_classes(
    rows: usize,
    classes: usize,
    target: &[usize],
    weight: &Option<Vec<f32>>,
) -> Result<(), LossError> {
    check_rows(rows, target.len())?;
    if let Some(w) = weight.as_ref().filter(|w| w.len() != classes) {
        return Err(LossError::WeightLength {
            name: "weight",
            found: w.len(),
            expected: classes,
        });
    }
    match target.iter().position(|&c| c >= classes) {
        Some(row) => Err(LossError::ClassOutOfRange {
            row,
            class: target[row],
            classes,
        }),
        None => Ok(()),
    }
}

fn class_weight(weight: &Option<Vec<f32>>, class: usize) -> f32 {
    weight.as_ref().map_or(1.0, |w| w[class])
}

/// PyTorch's `nn.CrossEntropyLoss(weight, reduction, label_smoothing)` on logits `[N, C]`:
/// `loss_i = (1 − ε) w_{y_i} (−log p_{i,y_i}) + (ε / C) Σ_c w_c (−log p_{i,c})`,
/// divided under `mean` by `Σ_i w_{y_i}` (the batch size without weights).
#[derive(Clone, Debug, Default)]
pub struct CrossEntropyLoss {
    pub weight: Option<Vec<f32>>,
    pub reduction: Reduction,
    pub label_smoothing: f32,
    log_probs: Vec<f32>,
    grad: Vec<f32>,
}

impl CrossEntropyLoss {
    /// Mean reduction, no class weights, no smoothing.
    ///
    /// ```
    /// use staticnn_runtime::loss::{CrossEntropyLoss, Loss};
    /// use staticnn_runtime::Batch;
    /// let logits = Batch::from_rows(&[[2.0, 1.0, 0.1]]);
    /// let loss = CrossEntropyLoss::new().value(&logits, &[0]).unwrap();
    /// assert!((loss - 0.41703).abs() < 1e-5);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// One weight per class.
    pub fn weight(mut self, weight: Vec<f32>) -> Self {
        self.weight = Some(weight);
        self
    }
    pub fn label_smoothing(mut self, epsilon: f32) -> Self {
        self.label_smoothing = epsilon;
        self
    }

    /// Per-row losses (before reduction) from log-probabilities, and the `mean` divisor.
    fn row_losses<const C: usize>(&self, log_probs: &[f32], target: &[usize]) -> (Vec<f64>, f64) {
        let eps = f64::from(self.label_smoothing);
        let mut divisor = 0.0;
        let losses = log_probs
            .chunks_exact(C)
            .zip(target)
            .map(|(lp, &y)| {
                let wy = f64::from(class_weight(&self.weight, y));
                divisor += wy;
                let smooth: f64 = (0..C)
                    .map(|c| f64::from(class_weight(&self.weight, c)) * -f64::from(lp[c]))
                    .sum();
                (1.0 - eps) * wy * -f64::from(lp[y]) + eps / C as f64 * smooth
            })
            .collect();
        (losses, divisor)
    }

    fn reduce(&self, losses: &[f64], divisor: f64) -> f32 {
        let sum: f64 = losses.iter().sum();
        match self.reduction {
            Reduction::Mean => (sum / divisor) as f32,
            Reduction::Sum | Reduction::None => sum as f32,
        }
    }

    fn log_softmax<const C: usize>(x: &BatchSlice<C>, out: &mut Vec<f32>) {
        resize(out, x.as_slice().len());
        for (o, r) in out.chunks_exact_mut(C).zip(x.as_slice().chunks_exact(C)) {
            log_softmax_row(r, o);
        }
    }
}

impl<const C: usize> Loss<C> for CrossEntropyLoss {
    type Target = [usize];

    fn validate(&self) -> Result<(), LossError> {
        self.check_label_smoothing()?;
        check_classes(0, C, &[], &self.weight)
    }

    fn elementwise(&self, x: &BatchSlice<C>, target: &[usize]) -> Result<Vec<f32>, LossError> {
        self.check_label_smoothing()?;
        check_classes(x.rows(), C, target, &self.weight)?;
        let mut lp = Vec::new();
        Self::log_softmax(x, &mut lp);
        Ok(self
            .row_losses::<C>(&lp, target)
            .0
            .iter()
            .map(|&l| l as f32)
            .collect())
    }

    fn value(&self, x: &BatchSlice<C>, target: &[usize]) -> Result<f32, LossError> {
        self.check_label_smoothing()?;
        check_classes(x.rows(), C, target, &self.weight)?;
        let mut lp = Vec::new();
        Self::log_softmax(x, &mut lp);
        let (losses, divisor) = self.row_losses::<C>(&lp, target);
        Ok(self.reduce(&losses, divisor))
    }

    fn value_and_grad(
        &mut self,
        x: &BatchSlice<C>,
        target: &[usize],
    ) -> Result<(f32, &BatchSlice<C>), LossError> {
        self.check_label_smoothing()?;
        check_classes(x.rows(), C, target, &self.weight)?;
        Ok(self.weighted(x, target, None))
    }

    fn value_and_grad_weighted(
        &mut self,
        x: &BatchSlice<C>,
        target: &[usize],
        sample_weight: &[f32],
    ) -> Result<(f32, &BatchSlice<C>), LossError> {
        self.check_label_smoothing()?;
        check_classes(x.rows(), C, target, &self.weight)?;
        check_sample_weight(sample_weight, x.rows())?;
        Ok(self.weighted(x, target, Some(sample_weight)))
    }
}

impl CrossEntropyLoss {
    /// PyTorch's "label_smoothing must be between 0.0 and 1.0".
    fn check_label_smoothing(&self) -> Result<(), LossError> {
        let eps = self.label_smoothing;
        check_setting(
            "label_smoothing",
            eps,
            (0.0..=1.0).contains(&eps),
            "in [0, 1]",
        )
    }

    /// The loss and its gradient, row `i` weighted by `sample_weight[i]` if given; the mean
    /// divides by `Σ w_{y_i}` without sample weights (PyTorch) and by the row count with them
    /// (Keras).
    fn weighted<const C: usize>(
        &mut self,
        x: &BatchSlice<C>,
        target: &[usize],
        sample_weight: Option<&[f32]>,
    ) -> (f32, &BatchSlice<C>) {
        let mut lp = std::mem::take(&mut self.log_probs);
        Self::log_softmax(x, &mut lp);
        let eps = self.label_smoothing;
        let total_weight: f32 = (0..C).map(|c| class_weight(&self.weight, c)).sum();
        let mut sum = 0.0f64;
        let mut divisor = 0.0f64;
        resize(&mut self.grad, lp.len());
        for (i, ((g, lp), &y)) in self
            .grad
            .chunks_exact_mut(C)
            .zip(lp.chunks_exact(C))
            .zip(target)
            .enumerate()
        {
            let s = sample_weight.map_or(1.0, |w| w[i]);
            let wy = class_weight(&self.weight, y);
            divisor += f64::from(wy);
            let mut smooth = 0.0f64;
            for c in 0..C {
                let wc = class_weight(&self.weight, c);
                smooth += f64::from(wc) * -f64::from(lp[c]);
                // d(−log p_c)/dx_j = p_j − δ_cj
                let p = lp[c].exp();
                let hit = if c == y { 1.0 } else { 0.0 };
                g[c] =
                    s * ((1.0 - eps) * wy * (p - hit) + eps / C as f32 * (p * total_weight - wc));
            }
            sum += f64::from(s)
                * ((1.0 - f64::from(eps)) * f64::from(wy) * -f64::from(lp[y])
                    + f64::from(eps) / C as f64 * smooth);
        }
        self.log_probs = lp;
        if sample_weight.is_some() {
            divisor = target.len() as f64;
        }
        let (value, scale) = match self.reduction {
            Reduction::Mean => (sum / divisor, (1.0 / divisor) as f32),
            Reduction::Sum | Reduction::None => (sum, 1.0),
        };
        if scale != 1.0 {
            self.grad.iter_mut().for_each(|g| *g *= scale);
        }
        (value as f32, BatchSlice::view(&self.grad))
    }
}

/// PyTorch's `nn.NLLLoss(weight, reduction)` on log-probabilities `[N, C]`:
/// `loss_i = −w_{y_i} x_{i,y_i}`, divided under `mean` by `Σ_i w_{y_i}`.
#[derive(Clone, Debug, Default)]
pub struct NLLLoss {
    pub weight: Option<Vec<f32>>,
    pub reduction: Reduction,
    grad: Vec<f32>,
}

impl NLLLoss {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    pub fn weight(mut self, weight: Vec<f32>) -> Self {
        self.weight = Some(weight);
        self
    }
    fn divisor(&self, target: &[usize]) -> f64 {
        match self.reduction {
            Reduction::Mean => target
                .iter()
                .map(|&y| f64::from(class_weight(&self.weight, y)))
                .sum(),
            Reduction::Sum | Reduction::None => 1.0,
        }
    }
}

impl<const C: usize> Loss<C> for NLLLoss {
    type Target = [usize];

    fn validate(&self) -> Result<(), LossError> {
        check_classes(0, C, &[], &self.weight)
    }

    fn elementwise(&self, x: &BatchSlice<C>, target: &[usize]) -> Result<Vec<f32>, LossError> {
        check_classes(x.rows(), C, target, &self.weight)?;
        Ok(x.iter_rows()
            .zip(target)
            .map(|(r, &y)| -class_weight(&self.weight, y) * r[y])
            .collect())
    }

    fn value(&self, x: &BatchSlice<C>, target: &[usize]) -> Result<f32, LossError> {
        check_classes(x.rows(), C, target, &self.weight)?;
        let sum: f64 = x
            .iter_rows()
            .zip(target)
            .map(|(r, &y)| -f64::from(class_weight(&self.weight, y)) * f64::from(r[y]))
            .sum();
        Ok((sum / self.divisor(target)) as f32)
    }

    fn value_and_grad(
        &mut self,
        x: &BatchSlice<C>,
        target: &[usize],
    ) -> Result<(f32, &BatchSlice<C>), LossError> {
        let value = Loss::<C>::value(self, x, target)?;
        let divisor = self.divisor(target) as f32;
        resize(&mut self.grad, x.as_slice().len());
        self.grad.fill(0.0);
        for (g, &y) in self.grad.chunks_exact_mut(C).zip(target) {
            g[y] = -class_weight(&self.weight, y) / divisor;
        }
        Ok((value, BatchSlice::view(&self.grad)))
    }

    fn value_and_grad_weighted(
        &mut self,
        x: &BatchSlice<C>,
        target: &[usize],
        sample_weight: &[f32],
    ) -> Result<(f32, &BatchSlice<C>), LossError> {
        check_classes(x.rows(), C, target, &self.weight)?;
        check_sample_weight(sample_weight, x.rows())?;
        // Keras's mean: the weighted sum over the row count.
        let scale = match self.reduction {
            Reduction::Mean => 1.0 / target.len() as f64,
            Reduction::Sum | Reduction::None => 1.0,
        };
        resize(&mut self.grad, x.as_slice().len());
        self.grad.fill(0.0);
        let mut sum = 0.0f64;
        for (((g, r), &y), &s) in (self.grad.chunks_exact_mut(C))
            .zip(x.iter_rows())
            .zip(target)
            .zip(sample_weight)
        {
            let w = f64::from(s) * f64::from(class_weight(&self.weight, y));
            sum += -w * f64::from(r[y]);
            g[y] = (-w * scale) as f32;
        }
        Ok(((sum * scale) as f32, BatchSlice::view(&self.grad)))
    }
}
