//! Finite-difference gradient checking, for the library's layers and for users' own.
//!
//! The scalar checked is `L = Σ r ⊙ forward_train(x)` with fixed random weights `r`, summed
//! in f64; its analytic gradient is `backward(r)` and its numeric one a Richardson-extrapolated
//! central difference (steps `h` and `h/2`, error O(h⁴)) in each input value and each
//! parameter value. The default tolerances catch a 0.1 % error in a gradient of order one.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::module::{Forward, Parameter, VisitorMut};
use crate::state::{Entry, visit_named};
use crate::tensor::{Batch, BatchSlice};

/// Step and tolerances: `|analytic − numeric| ≤ atol + rtol · max(|analytic|, |numeric|)`.
/// A value that misses is tried again at a tenth, then a hundredth of the step. Where those
/// estimates disagree with each other, a kink (a ReLU at 0, a max tie) lies within the step,
/// and only there the looser `kink_atol`/`kink_rtol` apply (a difference across a kink is no
/// better); a failure says which.
#[derive(Clone, Copy, Debug)]
pub struct GradCheck {
    pub step: f32,
    pub atol: f32,
    pub rtol: f32,
    pub kink_atol: f32,
    pub kink_rtol: f32,
    pub seed: u64,
    /// False for inputs that are not differentiable (Embedding's indices).
    pub check_input: bool,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck {
            step: 1e-2,
            atol: 3e-4,
            rtol: 5e-4,
            kink_atol: 2e-3,
            kink_rtol: 2e-2,
            seed: 0,
            check_input: true,
        }
    }
}

/// The first value whose analytic and numeric gradients disagree.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "gradient of {what} is {analytic} by backward but {numeric} by finite differences{}",
    if *kink { " (a kink lies within the step: the estimates at smaller steps disagree)" } else { "" }
)]
pub struct GradCheckError {
    /// `input[i]` or a parameter key with its index, like `fc1.weight[3]`.
    pub what: String,
    pub analytic: f32,
    pub numeric: f32,
    /// The function is not smooth within the step, so the kink tolerances applied.
    pub kink: bool,
}

/// What a passing check compared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheckReport {
    pub values_checked: usize,
    pub max_abs_error: f32,
}

impl GradCheck {
    /// Checks d L / d x and d L / d every parameter of `module` at `x`.
    ///
    /// The module must be deterministic between calls (put Dropout in eval mode first).
    pub fn run<M, const IN: usize, const OUT: usize>(
        &self,
        module: &mut M,
        x: &BatchSlice<IN>,
    ) -> Result<GradCheckReport, GradCheckError>
    where
        M: Forward<IN, OUT>,
    {
        let mut rng = Pcg64Mcg::seed_from_u64(self.seed);
        let weights: Vec<f32> = (0..x.rows() * OUT)
            .map(|_| rng.random::<f32>() * 2.0 - 1.0)
            .collect();
        let weights = Batch::<OUT>::from_vec(weights).expect("whole rows");
        let loss = |m: &mut M, x: &BatchSlice<IN>| -> f64 {
            let y = m.forward_train(x);
            y.as_slice()
                .iter()
                .zip(weights.as_slice())
                .map(|(&y, &r)| f64::from(y) * f64::from(r))
                .sum()
        };

        module.zero_grad();
        let grad_x = module.forward_train(x).backward(&weights).to_batch();
        let params = named_gradients(module);

        let mut report = GradCheckReport {
            values_checked: 0,
            max_abs_error: 0.0,
        };
        let mut probe = x.to_batch();
        let inputs = if self.check_input {
            probe.as_slice().len()
        } else {
            0
        };
        for i in 0..inputs {
            let mut numeric = |h: f32, module: &mut M| {
                let original = probe.as_slice()[i];
                probe.as_mut_slice()[i] = original + h;
                let plus = loss(module, &probe);
                probe.as_mut_slice()[i] = original - h;
                let minus = loss(module, &probe);
                probe.as_mut_slice()[i] = original;
                (plus - minus) / (2.0 * f64::from(h))
            };
            let analytic = grad_x.as_slice()[i];
            let (numeric, kink) = self.numeric(analytic, |h| numeric(h, module));
            self.compare(
                &mut report,
                || format!("input[{i}]"),
                analytic,
                numeric,
                kink,
            )?;
        }
        for (index, (name, grad)) in params.iter().enumerate() {
            for (k, &analytic) in grad.iter().enumerate() {
                let numeric = |h: f32, module: &mut M| {
                    let original = set_value(module, index, k, None);
                    set_value(module, index, k, Some(original + h));
                    let plus = loss(module, x);
                    set_value(module, index, k, Some(original - h));
                    let minus = loss(module, x);
                    set_value(module, index, k, Some(original));
                    (plus - minus) / (2.0 * f64::from(h))
                };
                let (numeric, kink) = self.numeric(analytic, |h| numeric(h, module));
                self.compare(
                    &mut report,
                    || format!("{name}[{k}]"),
                    analytic,
                    numeric,
                    kink,
                )?;
            }
        }
        Ok(report)
    }

    /// Richardson's extrapolation of the central differences at `h` and `h / 2`, for `h` the
    /// step, then a tenth and a hundredth of it while the estimate misses `analytic`; and
    /// whether a kink lies within the step (successive estimates disagree).
    fn numeric(&self, analytic: f32, mut difference: impl FnMut(f32) -> f64) -> (f32, bool) {
        let mut extrapolate = |h: f32| {
            let (d1, d2) = (difference(h), difference(h / 2.0));
            (d2 + (d2 - d1) / 3.0) as f32
        };
        let mut numeric = extrapolate(self.step);
        let mut kink = false;
        for divisor in [10.0, 100.0] {
            if self.accepts(analytic, numeric, kink) {
                break;
            }
            let smaller = extrapolate(self.step / divisor);
            kink |= !self.close(numeric, smaller);
            numeric = smaller;
        }
        (numeric, kink)
    }
    fn close(&self, analytic: f32, numeric: f32) -> bool {
        (analytic - numeric).abs() <= self.atol + self.rtol * analytic.abs().max(numeric.abs())
    }
    /// The smooth tolerance, or at a kink the kink tolerance.
    fn accepts(&self, analytic: f32, numeric: f32, kink: bool) -> bool {
        let scale = analytic.abs().max(numeric.abs());
        self.close(analytic, numeric)
            || (kink && (analytic - numeric).abs() <= self.kink_atol + self.kink_rtol * scale)
    }

    fn compare(
        &self,
        report: &mut GradCheckReport,
        what: impl FnOnce() -> String,
        analytic: f32,
        numeric: f32,
        kink: bool,
    ) -> Result<(), GradCheckError> {
        let error = (analytic - numeric).abs();
        report.values_checked += 1;
        report.max_abs_error = report.max_abs_error.max(error);
        if self.accepts(analytic, numeric, kink) {
            Ok(())
        } else {
            Err(GradCheckError {
                what: what(),
                analytic,
                numeric,
                kink,
            })
        }
    }
}

fn named_gradients(module: &impl crate::module::Module) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    visit_named(module, |name, entry| {
        if let Entry::Parameter(p) = entry {
            out.push((name.to_string(), p.grad.clone()));
        }
    });
    out
}

/// Returns value `k` of parameter number `index`, after setting it to `new` if given.
fn set_value(
    module: &mut impl crate::module::Module,
    index: usize,
    k: usize,
    new: Option<f32>,
) -> f32 {
    struct Set {
        index: usize,
        k: usize,
        new: Option<f32>,
        seen: usize,
        old: f32,
    }
    impl VisitorMut for Set {
        fn parameter(&mut self, _: &str, p: &mut Parameter) {
            if self.seen == self.index {
                self.old = p.value[self.k];
                if let Some(v) = self.new {
                    p.value[self.k] = v;
                }
            }
            self.seen += 1;
        }
    }
    let mut set = Set {
        index,
        k,
        new,
        seen: 0,
        old: 0.0,
    };
    module.visit_mut(&mut set);
    set.old
}
