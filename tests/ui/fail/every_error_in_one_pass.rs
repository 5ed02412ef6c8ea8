use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc1: Linaer(16),
        drop: Dropout(p = 2.0),
        drop: LeakyReLU(slope = 0.1),
        out: Linear(0),
    }
}

fn main() {}
