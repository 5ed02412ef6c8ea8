use staticnn::prelude::*;

#[derive(Module)]
struct Net {
    act: ReLU,
    fc: Linear<2, 1>,
}

fn main() {}
