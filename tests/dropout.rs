//! Dropout's statistics: identity in eval; in train the kept fraction is 1 − p and the mean
//! is preserved by the 1/(1 − p) scaling; one seed gives one mask sequence.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use staticnn::prelude::*;

const WIDTH: usize = 100;

fn ones(rows: usize) -> Batch<WIDTH> {
    Batch::from_vec(vec![1.0; rows * WIDTH]).unwrap()
}

#[test]
fn eval_is_the_identity() {
    let mut d = Dropout::new(0.5, &mut Pcg64Mcg::seed_from_u64(1));
    let x = Batch::<WIDTH>::from_vec((0..300).map(|i| i as f32 - 150.0).collect()).unwrap();
    d.eval();
    assert_eq!(d.forward_train(&x).as_slice(), x.as_slice());
    assert_eq!(d.forward(&x).as_slice(), x.as_slice());
}

#[test]
fn kept_fraction_and_mean_in_train() {
    for p in [0.1f32, 0.3, 0.5, 0.8] {
        let mut d = Dropout::new(p, &mut Pcg64Mcg::seed_from_u64(2));
        let x = ones(2000); // 200,000 values
        let y = d.forward_train(&x);
        let n = y.as_slice().len() as f64;
        let kept = y.as_slice().iter().filter(|&&v| v != 0.0).count() as f64 / n;
        let mean = y.as_slice().iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let expected = 1.0 - f64::from(p);
        assert!(
            (kept - expected).abs() < 0.01,
            "p={p}: kept {kept}, expected {expected}"
        );
        assert!((mean - 1.0).abs() < 0.01 / expected, "p={p}: mean {mean}");
        let scale = 1.0 / (1.0 - p);
        assert!(
            y.as_slice()
                .iter()
                .all(|&v| v == 0.0 || (v - scale).abs() < 1e-6)
        );
    }
}

#[test]
fn one_seed_one_mask_sequence() {
    let masks = |seed| {
        let mut d = Dropout::new(0.5, &mut Pcg64Mcg::seed_from_u64(seed));
        let a = d.forward_train(&ones(4)).to_batch();
        let b = d.forward_train(&ones(4)).to_batch();
        assert_ne!(a, b, "each step draws a new mask");
        (a, b)
    };
    assert_eq!(masks(3), masks(3));
    assert_ne!(masks(3), masks(4));
}
