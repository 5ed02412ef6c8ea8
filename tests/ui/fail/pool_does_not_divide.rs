use staticnn::prelude::*;

model! {
    struct Net: [1, 7, 7] -> [2] {
        conv: Conv2d(4, kernel = 3, padding = 1),
        pool: MaxPool2d(2),
        Flatten,
        Linear(2),
    }
}

fn main() {}
