use staticnn::prelude::*;

model! {
    struct Net: [3] -> [1] {
        fc1: Linear(3, 16),
        ReLU,
        fc2: Linear(8, 1),
    }
}

fn main() {}
