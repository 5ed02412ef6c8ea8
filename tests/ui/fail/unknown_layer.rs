use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc1: Linaer(16),
        out: Linear(1),
    }
}

fn main() {}
