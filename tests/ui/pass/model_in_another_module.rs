mod nets {
    pub mod encoders {
        use staticnn::prelude::*;
        model! {
            pub struct Encoder: [4] -> [6] {
                Linear(6),
                Tanh,
            }
        }
    }
}

use staticnn::prelude::*;

model! {
    pub struct Net: [4] -> [2] {
        enc: nets::encoders::Encoder,
        head: Linear(2),
    }
}

fn main() {
    let net = Net::new(&mut seeded_rng(0));
    let y = net.forward(&Batch::from_rows(&[[0.5; 4]]));
    assert_eq!(y.rows(), 1);
}
