use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc1: Linear(16),
        Dropout(rate = 0.1),
        out: Linear(1),
    }
}

fn main() {}
