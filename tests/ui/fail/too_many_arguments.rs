use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc1: Linear(16),
        Sigmoid(1),
        out: Linear(1),
    }
}

fn main() {}
