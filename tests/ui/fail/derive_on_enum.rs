use staticnn::prelude::*;

#[derive(Module)]
enum Net {
    A,
}

fn main() {}
