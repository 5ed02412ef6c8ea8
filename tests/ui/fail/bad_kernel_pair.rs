use staticnn::prelude::*;

model! {
    struct Net: [1, 8, 8] -> [2] {
        conv: Conv2d(4, kernel = (3, 0), stride = 2.5),
        AdaptiveAvgPool2d(2),
        Flatten,
        Linear(2),
    }
}

fn main() {}
