use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        Perceptron(1),
    }
}

fn main() {}
