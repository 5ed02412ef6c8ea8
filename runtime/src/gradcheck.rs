//! Finite-difference gradient checking, for the library's layers and for users' own.
//!
//! The scalar checked is `L = Σ r ⊙ forward_train(x)` with fixed random weights `r`; its
//! analytic gradient is `backward(r)` and its numeric one a central difference in each input
//! value and each parameter value.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::module::{Forward, Parameter, VisitorMut};
use crate::state::{Entry, visit_named};
use crate::tensor::{Batch, BatchSlice};

/// Step and tolerances: `|analytic − numeric| ≤ atol + rtol · max(|analytic|, |numeric|)`.
#[derive(Clone, Copy, Debug)]
pub struct GradCheck {
    pub step: f32,
    pub atol: f32,
    pub rtol: f32,
    pub seed: u64,
    /// False for inputs that are not differentiable (Embedding's indices).
    pub check_input: bool,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck {
            step: 1e-2,
            atol: 2e-3,
            rtol: 2e-2,
            seed: 0,
            check_input: true,
        }
    }
}

/// The first value whose analytic and numeric gradients disagree.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("gradient of {what} is {analytic} by backward but {numeric} by finite differences")]
pub struct GradCheckError {
    /// `input[i]` or a parameter key with its index, like `fc1.weight[3]`.
    pub what: String,
    pub analytic: f32,
    pub numeric: f32,
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
                ((plus - minus) / (2.0 * f64::from(h))) as f32
            };
            let analytic = grad_x.as_slice()[i];
            let numeric = self.numeric(analytic, |h| numeric(h, module));
            self.compare(&mut report, || format!("input[{i}]"), analytic, numeric)?;
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
                    ((plus - minus) / (2.0 * f64::from(h))) as f32
                };
                let numeric = self.numeric(analytic, |h| numeric(h, module));
                self.compare(&mut report, || format!("{name}[{k}]"), analytic, numeric)?;
            }
        }
        Ok(report)
    }

    /// The central difference at `step`; if it disagrees with `analytic`, once more at a tenth
    /// of the step, in case the first probes straddled a kink (a ReLU at 0, a max tie).
    fn numeric(&self, analytic: f32, mut difference: impl FnMut(f32) -> f32) -> f32 {
        let first = difference(self.step);
        if self.close(analytic, first) {
            first
        } else {
            difference(self.step / 10.0)
        }
    }

    fn close(&self, analytic: f32, numeric: f32) -> bool {
        (analytic - numeric).abs() <= self.atol + self.rtol * analytic.abs().max(numeric.abs())
    }

    fn compare(
        &self,
        report: &mut GradCheckReport,
        what: impl FnOnce() -> String,
        analytic: f32,
        numeric: f32,
    ) -> Result<(), GradCheckError> {
        let error = (analytic - numeric).abs();
        report.values_checked += 1;
        report.max_abs_error = report.max_abs_error.max(error);
        if self.close(analytic, numeric) {
            Ok(())
        } else {
            Err(GradCheckError {
                what: what(),
                analytic,
                numeric,
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
