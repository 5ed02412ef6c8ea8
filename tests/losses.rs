//! Losses beyond the fixtures (whose PyTorch parity is the generated suite in `parity/`):
//! gradient checks by finite differences, reduction none, extreme logits, and every
//! bad-target error.

// The comparisons of the parity suite, shared as a file: the root package's tests cannot
// depend on `staticnn-parity` (it depends on `staticnn`, so its types would be a second copy).
#[allow(dead_code)]
#[path = "../parity/src/compare.rs"]
mod compare;

use staticnn::loss::*;
use staticnn::{Batch, BatchSlice};

/// d value / d input: Richardson's extrapolation of central differences at `h` and `h / 2`
/// (error O(h⁴)), the differences taken in f64.
fn numeric_grad<const W: usize>(x: &Batch<W>, mut value: impl FnMut(&Batch<W>) -> f32) -> Vec<f32> {
    let mut probe = x.clone();
    let mut difference = |i: usize, h: f32| {
        let v = probe.as_slice()[i];
        probe.as_mut_slice()[i] = v + h;
        let plus = f64::from(value(&probe));
        probe.as_mut_slice()[i] = v - h;
        let minus = f64::from(value(&probe));
        probe.as_mut_slice()[i] = v;
        (plus - minus) / (2.0 * f64::from(h))
    };
    (0..x.as_slice().len())
        .map(|i| {
            let (d1, d2) = (difference(i, 1e-2), difference(i, 5e-3));
            (d2 + (d2 - d1) / 3.0) as f32
        })
        .collect()
}

/// The inputs below keep every kink (L1 at 0, SmoothL1 at beta, Huber at delta) farther than
/// the step, so the tolerance is the smooth one: a 0.1 % error in a gradient of order one fails.
fn gradcheck<const W: usize, L: Loss<W>>(
    name: &str,
    mut loss: L,
    x: &Batch<W>,
    target: &L::Target,
) {
    let numeric = numeric_grad(x, |p| loss.value(p, target).unwrap());
    let (_, grad) = loss.value_and_grad(x, target).unwrap();
    compare::assert_close_tol(grad.as_slice(), &numeric, 3e-4, 5e-4, name);
}

#[test]
fn every_loss_gradient_matches_finite_differences() {
    let x = Batch::<3>::from_rows(&[[0.3, -1.2, 2.5], [0.05, 0.7, -0.4]]);
    let y = Batch::<3>::from_rows(&[[0.9, -0.2, 0.1], [1.5, 0.2, -0.6]]);
    for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        gradcheck("MSE", MSELoss::new().reduction(reduction), &x, &y);
        gradcheck("L1", L1Loss::new().reduction(reduction), &x, &y);
        gradcheck(
            "SmoothL1",
            SmoothL1Loss::new(0.4).reduction(reduction),
            &x,
            &y,
        );
        gradcheck("Huber", HuberLoss::new(2.0).reduction(reduction), &x, &y);
    }
    let p = Batch::<3>::from_rows(&[[0.3, 0.8, 0.55], [0.1, 0.6, 0.95]]);
    let t = Batch::<3>::from_rows(&[[1.0, 0.0, 0.3], [0.0, 1.0, 0.5]]);
    gradcheck("BCE", BCELoss::new(), &p, &t);
    gradcheck("BCEWithLogits", BCEWithLogitsLoss::new(), &x, &t);
    gradcheck(
        "BCEWithLogits pos_weight",
        BCEWithLogitsLoss::new().pos_weight(vec![2.0, 0.5, 1.0]),
        &x,
        &t,
    );
    let classes = [2usize, 0];
    gradcheck("CrossEntropy", CrossEntropyLoss::new(), &x, &classes[..]);
    gradcheck(
        "CrossEntropy weighted, smoothed",
        CrossEntropyLoss::new()
            .weight(vec![0.2, 1.0, 3.0])
            .label_smoothing(0.1),
        &x,
        &classes[..],
    );
    gradcheck(
        "CrossEntropy sum",
        CrossEntropyLoss::new().reduction(Reduction::Sum),
        &x,
        &classes[..],
    );
    gradcheck(
        "NLL weighted",
        NLLLoss::new().weight(vec![0.2, 1.0, 3.0]),
        &x,
        &classes[..],
    );
}

/// The sample-weighted gradient against central differences of the sample-weighted value.
fn weighted_gradcheck<const W: usize, L: Loss<W>>(
    name: &str,
    mut loss: L,
    x: &Batch<W>,
    target: &L::Target,
    weights: &[f32],
) {
    let numeric = numeric_grad(x, |p| {
        loss.value_and_grad_weighted(p, target, weights).unwrap().0
    });
    let (_, grad) = loss.value_and_grad_weighted(x, target, weights).unwrap();
    compare::assert_close_tol(grad.as_slice(), &numeric, 3e-4, 5e-4, name);
}

#[test]
fn sample_weighted_gradients_match_finite_differences() {
    let x = Batch::<3>::from_rows(&[[0.3, -1.2, 2.5], [0.05, 0.7, -0.4]]);
    let y = Batch::<3>::from_rows(&[[0.9, -0.2, 0.1], [1.5, 0.2, -0.6]]);
    let t = Batch::<3>::from_rows(&[[1.0, 0.0, 0.3], [0.0, 1.0, 0.5]]);
    let classes = [2usize, 0];
    let s = [0.25, 1.75];
    for reduction in [Reduction::Mean, Reduction::Sum] {
        weighted_gradcheck("MSE", MSELoss::new().reduction(reduction), &x, &y, &s);
        weighted_gradcheck(
            "Huber",
            HuberLoss::new(2.0).reduction(reduction),
            &x,
            &y,
            &s,
        );
        let bce = BCEWithLogitsLoss::new().pos_weight(vec![2.0, 0.5, 1.0]);
        weighted_gradcheck("BCEWithLogits", bce.reduction(reduction), &x, &t, &s);
        let ce = CrossEntropyLoss::new()
            .weight(vec![0.2, 1.0, 3.0])
            .label_smoothing(0.1)
            .reduction(reduction);
        weighted_gradcheck("CrossEntropy", ce, &x, &classes[..], &s);
        let nll = NLLLoss::new()
            .weight(vec![0.2, 1.0, 3.0])
            .reduction(reduction);
        weighted_gradcheck("NLL", nll, &x, &classes[..], &s);
    }
}

/// Keras divides a weighted sum by the number of rows, PyTorch's class `weight` by the
/// weights' sum; with sample weights the rule is Keras's, and one weight per row is checked.
#[test]
fn sample_weights_divide_by_the_row_count_and_must_fit_the_rows() {
    let x = Batch::<2>::from_rows(&[[0.0, 0.0], [0.0, 0.0]]);
    let mut loss = CrossEntropyLoss::new().weight(vec![1.0, 2.0]);
    // rows −log ½ · (1, 2) weighted by (1, 1): (1 + 2) ln 2 / 2 rows.
    let (v, _) = loss
        .value_and_grad_weighted(&x, &[0, 1], &[1.0, 1.0])
        .unwrap();
    assert!((v - 1.5 * std::f32::consts::LN_2).abs() < 1e-6, "{v}");
    let err = loss
        .value_and_grad_weighted(&x, &[0, 1], &[1.0])
        .unwrap_err();
    assert_eq!(err, LossError::SampleWeightLength { found: 1, rows: 2 });
}

#[test]
fn weighted_cross_entropy_divides_by_the_target_weights() {
    // PyTorch: weight [1, 2], logits [[0, 0], [0, 0]], target [0, 1] → loss = ln 2
    // (each row −log ½, weighted 1 and 2, divided by 1 + 2).
    let x = Batch::<2>::from_rows(&[[0.0, 0.0], [0.0, 0.0]]);
    let loss = CrossEntropyLoss::new()
        .weight(vec![1.0, 2.0])
        .value(&x, &[0, 1])
        .unwrap();
    assert!((loss - std::f32::consts::LN_2).abs() < 1e-6, "{loss}");
}

#[test]
fn reduction_none_gives_per_element_losses() {
    let x = Batch::<3>::from_rows(&[[2.5, 1.3, 0.8]]);
    let y = Batch::<3>::from_rows(&[[3.0, 1.0, 1.0]]);
    let l = MSELoss::new()
        .reduction(Reduction::None)
        .elementwise(&x, &y)
        .unwrap();
    compare::assert_close(&l, &[0.25, 0.09, 0.04], "mse none");
    let ce = CrossEntropyLoss::new()
        .elementwise(
            &Batch::<3>::from_rows(&[[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]]),
            &[0, 2],
        )
        .unwrap();
    compare::assert_close(&ce, &[0.41702995, 3f32.ln()], "ce none");
}

#[test]
fn extreme_logits_stay_finite() {
    let x = Batch::<3>::from_rows(&[[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]);
    let mut ce = CrossEntropyLoss::new();
    let (v, g) = ce.value_and_grad(&x, &[1, 2]).unwrap();
    assert!(
        v.is_finite() && g.as_slice().iter().all(|g| g.is_finite()),
        "{v} {g:?}"
    );
    assert!((v - 1000.6566).abs() < 1e-2, "{v}"); // (2000 + 1.3133) / 2
    let z = Batch::<1>::from_rows(&[[1000.0], [-1000.0], [100.0], [-100.0]]);
    let t = Batch::<1>::from_rows(&[[0.0], [1.0], [1.0], [0.0]]);
    let mut bce = BCEWithLogitsLoss::new();
    let (v, g) = bce.value_and_grad(&z, &t).unwrap();
    assert!(v.is_finite() && g.as_slice().iter().all(|g| g.is_finite()));
    assert!((v - 500.0).abs() < 1e-3, "{v}");
    compare::assert_close(g.as_slice(), &[0.25, -0.25, 0.0, 0.0], "bce logits grad");
}

#[test]
fn bad_targets_are_errors_naming_row_and_value() {
    let x = Batch::<3>::from_rows(&[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]);
    let err = CrossEntropyLoss::new().value(&x, &[0, 3]).unwrap_err();
    assert_eq!(
        err,
        LossError::ClassOutOfRange {
            row: 1,
            class: 3,
            classes: 3
        }
    );
    assert!(err.to_string().contains("row 1") && err.to_string().contains("class 3"));
    let err = CrossEntropyLoss::new()
        .value_and_grad(&x, &[0, 7])
        .unwrap_err();
    assert_eq!(
        err,
        LossError::ClassOutOfRange {
            row: 1,
            class: 7,
            classes: 3
        }
    );
    let err = NLLLoss::new().value(&x, &[5, 0]).unwrap_err();
    assert_eq!(
        err,
        LossError::ClassOutOfRange {
            row: 0,
            class: 5,
            classes: 3
        }
    );

    let err = CrossEntropyLoss::new().value(&x, &[0]).unwrap_err();
    assert_eq!(
        err,
        LossError::Rows {
            input: 2,
            target: 1
        }
    );

    let bad = Batch::<3>::from_rows(&[[0.0, 1.0, 0.5], [1.0, 1.5, 0.0]]);
    let err = BCELoss::new().value(&x, &bad).unwrap_err();
    assert_eq!(
        err,
        LossError::TargetOutOfRange {
            row: 1,
            column: 1,
            value: 1.5
        }
    );
    assert!(err.to_string().contains("1.5") && err.to_string().contains("row 1"));
    let err = BCEWithLogitsLoss::new()
        .value_and_grad(&x, &bad)
        .unwrap_err();
    assert!(matches!(err, LossError::TargetOutOfRange { row: 1, .. }));

    let short = Batch::<3>::from_rows(&[[0.0, 1.0, 0.5]]);
    let err = MSELoss::new().value_and_grad(&x, &short).unwrap_err();
    assert_eq!(
        err,
        LossError::Rows {
            input: 2,
            target: 1
        }
    );
    let _: &BatchSlice<3> = &x;
}

/// BCELoss takes probabilities, as PyTorch's does ("all elements of input should be between
/// 0 and 1"): a logit, a value above 1 or NaN is an error naming it, where the clamped
/// logarithm gave a finite loss (100 for NaN) and a gradient of about 10¹² without a word.
#[test]
fn bce_inputs_outside_0_1_are_errors_naming_row_column_and_value() {
    let y = Batch::<2>::from_rows(&[[0.0, 1.0], [1.0, 0.0]]);
    for (bad, at) in [(-0.25, (1, 0)), (1.5, (0, 1)), (f32::NAN, (1, 1))] {
        let mut x = Batch::<2>::from_rows(&[[0.0, 1.0], [0.5, 0.25]]);
        x.as_mut_slice()[at.0 * 2 + at.1] = bad;
        let mut loss = BCELoss::new();
        let errs = [
            loss.value(&x, &y).unwrap_err(),
            loss.elementwise(&x, &y).unwrap_err(),
            loss.value_and_grad(&x, &y).unwrap_err(),
        ];
        for err in errs {
            match err {
                LossError::InputOutOfRange { row, column, value } => {
                    assert_eq!((row, column), at);
                    assert_eq!(value.to_bits(), bad.to_bits());
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        let text = loss.value(&x, &y).unwrap_err().to_string();
        assert!(text.contains("BCEWithLogitsLoss"), "{text}");
    }
    // The ends of [0, 1] are probabilities.
    let x = Batch::<2>::from_rows(&[[0.0, 1.0], [1.0, 0.0]]);
    assert_eq!(BCELoss::new().value(&x, &y), Ok(0.0));
    // Logits are BCEWithLogitsLoss's.
    let logits = Batch::<2>::from_rows(&[[-3.0, 2.0], [7.5, -0.5]]);
    assert!(BCEWithLogitsLoss::new().value(&logits, &y).is_ok());
}

/// Settings PyTorch refuses are errors naming the setting, from every call and from
/// `validate` (which `fit` asks before the first epoch), where they were used as given:
/// a negative Huber `delta` made every loss negative.
#[test]
fn settings_pytorch_refuses_are_errors_naming_them() {
    let x = Batch::<2>::from_rows(&[[0.5, -1.0]]);
    let y = Batch::<2>::from_rows(&[[0.0, 1.0]]);
    for (delta, ok) in [(-1.0, false), (0.0, false), (f32::NAN, false), (0.5, true)] {
        let mut loss = HuberLoss::new(delta);
        let results = [
            loss.value(&x, &y).err(),
            loss.elementwise(&x, &y).err(),
            loss.value_and_grad(&x, &y).err(),
            Loss::<2>::validate(&loss).err(),
        ];
        for err in results {
            match err {
                None => assert!(ok, "delta {delta} accepted"),
                Some(LossError::Setting { name, .. }) => {
                    assert!(!ok, "delta {delta}");
                    assert_eq!(name, "delta");
                }
                Some(other) => panic!("{other:?}"),
            }
        }
    }
    for (beta, ok) in [(-0.5, false), (0.0, true), (1.0, true)] {
        let err = SmoothL1Loss::new(beta).value(&x, &y).err();
        assert_eq!(err.is_none(), ok, "beta {beta}: {err:?}");
    }
    let logits = Batch::<3>::from_rows(&[[1.0, 2.0, 0.5]]);
    for (eps, ok) in [
        (-0.1, false),
        (1.5, false),
        (0.0, true),
        (1.0, true),
        (0.1, true),
    ] {
        let mut loss = CrossEntropyLoss::new().label_smoothing(eps);
        let err = loss.value_and_grad(&logits, &[1]).err();
        assert_eq!(err.is_none(), ok, "label_smoothing {eps}: {err:?}");
        if let Some(err) = err {
            let text = err.to_string();
            assert!(
                text.contains("label_smoothing") && text.contains("[0, 1]"),
                "{text}"
            );
        }
        assert_eq!(Loss::<3>::validate(&loss).is_ok(), ok);
    }
}
