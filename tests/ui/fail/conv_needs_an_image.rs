use staticnn::prelude::*;

model! {
    struct Net: [784] -> [10] {
        conv: Conv2d(8, kernel = 3),
        Flatten,
        Linear(10),
    }
}

fn main() {}
