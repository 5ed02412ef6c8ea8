use staticnn::prelude::*;

#[derive(Module)]
struct Net {
    fc1: Linear<2, 16>,
    act: ReLU,
    fc2: Linear<8, 1>,
}

fn main() {}
