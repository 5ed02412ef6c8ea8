use staticnn::prelude::*;

model! {
    struct Net: [1, 8, 8] -> [1] {
        conv: Conv2d(4, 3, padding = 9223372036854775807),
        Flatten,
        Linear(1),
    }
}

fn main() {}
