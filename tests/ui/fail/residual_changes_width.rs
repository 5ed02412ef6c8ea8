use staticnn::prelude::*;

model! {
    struct Net: [8] -> [1] {
        fc: Linear(16),
        block: Residual { Linear(16), ReLU, narrow: Linear(4) },
        out: Linear(1),
    }
}

fn main() {}
