//! The everyday helpers on batches: argmax, softmax, sigmoid, randn, labels, printing.

use staticnn::prelude::*;

#[test]
fn argmax_per_row_takes_the_first_maximum_and_nan_as_largest() {
    let x = Batch::from_rows(&[
        [0.1, 0.7, 0.2],
        [5.0, 5.0, 1.0],
        [-1.0, f32::NAN, 9.0],
        [f32::NEG_INFINITY, -3.0, -3.0],
    ]);
    // torch.tensor(...).argmax(dim=1) gives tensor([1, 0, 1, 1]).
    assert_eq!(x.argmax(), [1, 0, 1, 1]);
    assert_eq!(Batch::<3>::new().argmax(), Vec::<usize>::new());
}

#[test]
fn softmax_and_sigmoid_are_the_layers_functions() {
    let x = Batch::from_rows(&[[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]]);
    let p = x.softmax();
    assert_eq!(p, Softmax::new().forward(&x));
    // softmax([1, 2, 3]) = [0.0900, 0.2447, 0.6652] (torch.softmax); large logits stay finite.
    let want = [0.090_030_57, 0.244_728_48, 0.665_240_94];
    for (a, b) in p.row(0).unwrap().iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    assert_eq!(p.row(1).unwrap(), &[1.0, 0.0, 0.0]);
    for row in p.iter_rows() {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
    let s = x.sigmoid();
    assert_eq!(s, Sigmoid::default().forward(&x));
    assert!((s.row(0).unwrap()[0] - 0.731_058_6).abs() < 1e-6);
    assert_eq!(s.row(1).unwrap(), &[1.0, 0.5, 0.0]);
}

#[test]
fn randn_is_standard_normal_and_seeded() {
    let a = Batch::<4>::randn(25_000, &mut seeded_rng(1));
    let b = Batch::<4>::randn(25_000, &mut seeded_rng(1));
    assert_eq!(a, b);
    assert_eq!(a.rows(), 25_000);
    let n = a.as_slice().len() as f64;
    let mean = a.as_slice().iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = a
        .as_slice()
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    // 100,000 draws: the standard errors are 0.003 (mean) and 0.0045 (variance).
    assert!(mean.abs() < 0.02, "mean {mean}");
    assert!((var - 1.0).abs() < 0.03, "variance {var}");
}

#[test]
fn labels_become_a_float_column() {
    let y = Batch::from_labels(&[0, 1, 1, 3]);
    assert_eq!(y.as_slice(), &[0.0, 1.0, 1.0, 3.0]);
    assert_eq!(y.rows(), 4);
}

#[test]
fn small_batches_print_in_full_and_large_ones_abbreviated_like_pytorch() {
    let x = Batch::from_rows(&[[0.1, -2.0], [3.25, 4.0]]);
    assert_eq!(x.to_string(), "[[ 0.1000, -2.0000],\n [ 3.2500,  4.0000]]");
    // 400 x 4 = 1600 values > PyTorch's threshold of 1000: 3 rows at each end; 4 columns
    // are not more than 2 x 3, so they stay.
    let mut big = Batch::<4>::zeros(400);
    big.as_mut_slice()[0] = 1.0;
    let text = big.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert_eq!(lines[0], "[[1.0000, 0.0000, 0.0000, 0.0000],");
    assert_eq!(lines[3], " ...,");
    assert_eq!(lines[6], " [0.0000, 0.0000, 0.0000, 0.0000]]");
    // Wide rows: 3 columns at each end around `...`.
    let wide = Batch::<100>::zeros(20);
    let first = wide.to_string().lines().next().unwrap().to_string();
    assert_eq!(
        first,
        "[[0.0000, 0.0000, 0.0000,    ..., 0.0000, 0.0000, 0.0000],"
    );
    assert_eq!(Batch::<3>::new().to_string(), "[]");
}
