use staticnn::prelude::*;

model! {
    /// The network from DESIGN.md.
    #[derive(Clone, Debug)]
    pub struct BinaryClassifier: [2] -> [1] {
        fc1: Linear(16),
        ReLU,
        drop: Dropout(0.1),
        fc2: Linear(16),
        ReLU,
        out: Linear(1),
    }
}

fn main() {
    let model = BinaryClassifier::new(&mut seeded_rng(0));
    let copy = model.clone();
    let y = copy.forward(&Batch::from_rows(&[[0.0, 1.0]]));
    assert_eq!(y.rows(), 1);
}
