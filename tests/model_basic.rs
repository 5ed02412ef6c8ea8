use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use staticnn::prelude::*;

model! {
    /// Scores a 2-D point: positive means class 1.
    pub struct BinaryClassifier: [2] -> [1] {
        fc1: Linear(16),
        ReLU,
        drop: Dropout(0.1),
        fc2: Linear(16),
        ReLU,
        out: Linear(1),
    }
}

#[test]
fn builds() {
    let mut rng = Pcg64Mcg::seed_from_u64(0);
    let mut m = BinaryClassifier::new(&mut rng);
    let x = Batch::<2>::from_rows(&[[0.1, 0.2], [0.3, -0.4]]);
    let y = m.forward_train(&x).to_batch();
    assert_eq!(y.rows(), 2);
    let g = Batch::<1>::from_rows(&[[1.0], [1.0]]);
    m.backward(&g);
    println!("{}", m.summary());
    let keys: Vec<_> = staticnn::state_dict(&m)
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        keys,
        [
            "fc1.weight",
            "fc1.bias",
            "fc2.weight",
            "fc2.bias",
            "out.weight",
            "out.bias"
        ]
    );
}
