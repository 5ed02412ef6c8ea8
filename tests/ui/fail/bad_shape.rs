use staticnn::prelude::*;

model! {
    struct Net: [0] -> [1] {
        out: Linear(1),
    }
}

fn main() {}
