use staticnn::prelude::*;

model! {
    struct Net: [2] -> [2] {
        fc1: Linear(16),
        ReLU,
        out: Linear(1),
    }
}

fn main() {}
