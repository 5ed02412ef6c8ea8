use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc1: Linear(16),
        GELU(approximate = "fast"),
        LeakyReLU("steep"),
        out: Linear(1, bias = 1),
    }
}

fn main() {}
