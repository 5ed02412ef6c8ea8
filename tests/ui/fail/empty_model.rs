use staticnn::prelude::*;

model! {
    struct Net: [2] {}
}

fn main() {}
