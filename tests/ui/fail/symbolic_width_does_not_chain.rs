use staticnn::prelude::*;

const FEATURES: usize = 30;
const HIDDEN: usize = 16;

model! {
    struct Net: [FEATURES] -> [1] {
        fc1: Linear(HIDDEN),
        ReLU,
        fc2: Linear(in_features = 2 * HIDDEN, out_features = 1),
    }
}

fn main() {}
