use staticnn::prelude::*;

model! {
    struct Net: [1, 4, 4] -> [2] {
        conv: Conv2d(8, kernel = 5),
        Flatten,
        Linear(2),
    }
}

fn main() {}
