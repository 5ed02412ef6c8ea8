use std::f64::consts::PI;

use super::closed_form::{ClosedForm, attach, closed_form};
use super::{LearningRate, ScheduleError, check};

/// OneCycleLR's keyword arguments beside `max_lr` and `total_steps`, with PyTorch's
/// defaults: `OneCycleOptions { pct_start: 0.25, ..Default::default() }`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneCycleOptions {
    /// The fraction of the cycle spent warming up (PyTorch: 0.3).
    pub pct_start: f64,
    /// The first rate is `max_lr / div_factor` (PyTorch: 25).
    pub div_factor: f64,
    /// The last rate is the first over `final_div_factor` (PyTorch: 1e4).
    pub final_div_factor: f64,
}

impl Default for OneCycleOptions {
    fn default() -> Self {
        OneCycleOptions {
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
        }
    }
}

/// The one-cycle policy (two phases, cosine annealing, no momentum cycling). Every group
/// runs the same cycle, from `max_lr / div_factor` (written into the optimizer when attached).
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    max_lr: f64,
    total_steps: u64,
    options: OneCycleOptions,
    base_lrs: Vec<f64>,
    epoch: u64,
}
impl OneCycleLR {
    /// PyTorch's defaults for the rest ([`OneCycleOptions::default`]).
    pub fn new(
        optimizer: &mut dyn LearningRate,
        max_lr: f64,
        total_steps: u64,
    ) -> Result<Self, ScheduleError> {
        Self::with_options(optimizer, max_lr, total_steps, OneCycleOptions::default())
    }

    /// Every argument at once, because attaching writes the first rate, which depends on
    /// all of them. Refuses what PyTorch refuses (`total_steps` of 0, `pct_start` outside
    /// [0, 1]), what its formula divides by zero at (a `div_factor` or `final_div_factor` of
    /// 0; a warm-up that ends at step 0, `pct_start * total_steps == 1`; an empty annealing
    /// phase, `pct_start = 1`), and a rate no optimizer accepts (a negative or non-finite
    /// `max_lr`, factors not positive and finite, a last rate that is not finite).
    pub fn with_options(
        optimizer: &mut dyn LearningRate,
        max_lr: f64,
        total_steps: u64,
        options: OneCycleOptions,
    ) -> Result<Self, ScheduleError> {
        const NAME: &str = "OneCycleLR";
        let OneCycleOptions {
            pct_start,
            div_factor,
            final_div_factor,
        } = options;
        check(
            max_lr.is_finite() && max_lr >= 0.0,
            NAME,
            "max_lr",
            max_lr,
            "it must be finite and not negative",
        )?;
        check(
            total_steps >= 1,
            NAME,
            "total_steps",
            total_steps as f64,
            "it must be at least 1 (PyTorch's ValueError)",
        )?;
        check(
            (0.0..=1.0).contains(&pct_start),
            NAME,
            "pct_start",
            pct_start,
            "it must be between 0 and 1 (PyTorch's ValueError)",
        )?;
        check(
            pct_start < 1.0,
            NAME,
            "pct_start",
            pct_start,
            "1 leaves the annealing phase empty: PyTorch divides by zero at the last step it \
             allows (ZeroDivisionError)",
        )?;
        check(
            warm_up_end(pct_start, total_steps) != 0.0,
            NAME,
            "pct_start",
            pct_start,
            "pct_start * total_steps must not be 1: the warm-up would end at step 0, where \
             PyTorch divides by zero (ZeroDivisionError)",
        )?;
        for (argument, value) in [
            ("div_factor", div_factor),
            ("final_div_factor", final_div_factor),
        ] {
            check(
                value.is_finite() && value > 0.0,
                NAME,
                argument,
                value,
                "it must be positive and finite (PyTorch divides by it)",
            )?;
        }
        let min_lr = max_lr / div_factor / final_div_factor;
        check(
            min_lr.is_finite(),
            NAME,
            "final_div_factor",
            final_div_factor,
            "the last rate, max_lr / div_factor / final_div_factor, must be finite",
        )?;
        let schedule = OneCycleLR {
            max_lr,
            total_steps,
            options,
            base_lrs: vec![max_lr / div_factor; optimizer.num_groups()],
            epoch: 0,
        };
        Ok(attach(schedule, optimizer))
    }
}

/// The step the warm-up ends at, PyTorch's `float(pct_start * total_steps) - 1`.
fn warm_up_end(pct_start: f64, total_steps: u64) -> f64 {
    pct_start * total_steps as f64 - 1.0
}

fn cos_anneal(start: f64, end: f64, pct: f64) -> f64 {
    end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0)
}
closed_form!(OneCycleLR, |s, _base, e| {
    let initial = s.max_lr / s.options.div_factor;
    let min_lr = initial / s.options.final_div_factor;
    let warm_end = warm_up_end(s.options.pct_start, s.total_steps);
    let last = (s.total_steps - 1) as f64;
    let t = e as f64;
    if t <= warm_end {
        cos_anneal(initial, s.max_lr, t / warm_end)
    } else {
        // At `total_steps`, the step PyTorch still allows, the fraction passes 1 as there.
        // The span is positive: `pct_start < 1` (checked at construction).
        let pct = (t - warm_end) / (last - warm_end);
        cos_anneal(s.max_lr, min_lr, pct)
    }
}, last_epoch: |s| Some(s.total_steps));
