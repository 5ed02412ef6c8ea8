use staticnn::prelude::*;

model! {
    struct Net<const N: usize>: [N] -> [1] {
        wide: Linear(2 * N),
        out: Linear(1),
    }
}

fn main() {}
