use staticnn::prelude::*;

model! {
    struct Net {
        fc1: Linear(16),
        out: Linear(1),
    }
}

fn main() {}
