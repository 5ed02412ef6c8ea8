use staticnn::prelude::*;

model! {
    struct Net: [1, 8, 8] {
        pool: MaxPool2d(2, padding = 2),
    }
}

fn main() {}
