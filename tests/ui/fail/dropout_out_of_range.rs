use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc1: Linear(16),
        Dropout(1.5),
        out: Linear(1),
    }
}

fn main() {}
