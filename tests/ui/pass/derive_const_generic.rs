use staticnn::prelude::*;

/// A derived model whose input width is a const parameter.
#[derive(Module)]
pub struct Head<const N: usize> {
    fc1: Linear<N, 8>,
    act: ReLU,
    #[layer(momentum = 0.05)]
    bn: BatchNorm1d<8>,
    fc2: Linear<8, 1>,
}

/// And one whose output is.
#[derive(Module)]
#[module(input = [4])]
pub struct Widen<const OUT: usize> {
    fc: Linear<4, OUT>,
    act: GELU,
}

fn main() {
    let h = Head::<3>::init(&mut seeded_rng(0));
    assert_eq!(h.num_params(), 3 * 8 + 8 + 8 + 8 + 8 + 1);
    let y = h.forward(&Batch::from_rows(&[[1.0, 2.0, 3.0]]));
    assert_eq!(y.rows(), 1);
    let w = Widen::<6>::init(&mut seeded_rng(0));
    assert_eq!(<Widen<6> as Shaped>::OUT, 6);
    assert_eq!(w.num_params(), 4 * 6 + 6);
}
