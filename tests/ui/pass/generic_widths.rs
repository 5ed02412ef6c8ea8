// Widths as const generics and const expressions: one model, any number of features.
use staticnn::prelude::*;

const FEATURES: usize = 30;
const HIDDEN: usize = 8;

model! {
    /// Instantiated below at two widths.
    pub struct Scorer<const IN: usize>: [IN] -> [1] {
        fc1: Linear(HIDDEN),
        SiLU,
        bn: BatchNorm1d,
        out: Linear(1),
    }
}

model! {
    pub struct Named: [FEATURES] -> [2 * HIDDEN] {
        fc1: Linear(2 * HIDDEN),
        Hardswish,
        ln: LayerNorm(normalized_shape = 2 * HIDDEN),
    }
}

model! {
    /// A generic model whose output is its parameter, checked where it is instantiated.
    pub struct Square<const N: usize>: [N] -> [N] {
        fc: Linear(N),
        Tanh,
        res: Residual { Linear(N), ReLU, Linear(in_features = N, out_features = N) },
    }
}

fn main() {
    let three = Scorer::<3>::new(&mut seeded_rng(0));
    let five = Scorer::<5>::new(&mut seeded_rng(0));
    assert_eq!(three.num_params(), 3 * 8 + 8 + 8 + 8 + 8 + 1);
    assert_eq!(five.num_params(), 5 * 8 + 8 + 8 + 8 + 8 + 1);
    assert_eq!(<Scorer<5> as Shaped>::IN, 5);
    let y = five.forward(&Batch::from_rows(&[[1.0, 2.0, 3.0, 4.0, 5.0]]));
    assert_eq!(y.rows(), 1);
    assert!(three.summary().to_string().contains("[3]"));

    let named = Named::new(&mut seeded_rng(0));
    assert_eq!(<Named as Shaped>::IN, 30);
    assert_eq!(<Named as Shaped>::OUT, 16);
    assert_eq!(named.num_params(), 30 * 16 + 16 + 2 * 16);

    let square = Square::<4>::new(&mut seeded_rng(0));
    assert_eq!(square.forward(&Batch::from_rows(&[[1.0; 4]])).rows(), 1);
}
