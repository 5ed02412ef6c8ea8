use staticnn::prelude::*;

model! {
    struct Net: [3, 4] -> [1] {
        bn: BatchNorm1d,
        out: Linear(1),
    }
}

fn main() {}
