use staticnn::prelude::*;

#[derive(Module)]
pub struct Explicit {
    fc1: Linear<2, 16>,
    act1: ReLU,
    #[layer(p = 0.2)]
    drop: Dropout,
    #[layer(momentum = 0.05)]
    bn: BatchNorm1d<16>,
    fc2: Linear<16, 1>,
}

mod inner {
    use staticnn::prelude::*;
    #[derive(Module)]
    #[module(input = [3])]
    pub struct Normed {
        ln: LayerNorm<3>,
        fc: Linear<3, 2>,
    }
}

#[derive(Module)]
pub struct UsesNormed {
    first: inner::Normed,
    act: Sigmoid,
}

fn main() {
    let m = Explicit::init(&mut seeded_rng(0));
    assert_eq!(m.num_params(), 2 * 16 + 16 + 16 + 16 + 16 + 1);
    let u = UsesNormed::init(&mut seeded_rng(0));
    let y = u.forward(&Batch::from_rows(&[[1.0, 2.0, 3.0]]));
    assert_eq!(y.rows(), 1);
    println!("{}", u.summary());
}
