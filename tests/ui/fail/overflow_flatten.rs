use staticnn::prelude::*;

model! {
    struct Net: [4294967296, 4294967296] -> [1] {
        Flatten,
        Linear(1),
    }
}

fn main() {}
