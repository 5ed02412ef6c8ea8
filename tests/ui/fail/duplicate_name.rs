use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc: Linear(16),
        ReLU,
        fc: Linear(1),
    }
}

fn main() {}
