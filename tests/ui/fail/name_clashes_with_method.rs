use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        forward: Linear(16),
        ReLU,
        backward: Linear(1),
    }
}

fn main() {}
