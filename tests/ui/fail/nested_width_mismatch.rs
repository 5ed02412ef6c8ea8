use staticnn::prelude::*;

model! {
    struct Encoder: [4] -> [8] {
        Linear(8),
        Tanh,
    }
}

model! {
    struct Net: [2] -> [1] {
        fc1: Linear(3),
        enc: Encoder,
        out: Linear(1),
    }
}

fn main() {}
