use staticnn::prelude::*;

#[derive(Module)]
#[module(input = [16])]
struct Net {
    conv: Conv2d<16, 32>,
    fc: Linear<32, 1>,
}

fn main() {}
