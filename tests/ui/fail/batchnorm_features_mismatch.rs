use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc1: Linear(16),
        bn: BatchNorm1d(32),
        out: Linear(1),
    }
}

fn main() {}
