// One forward pass backpropagated twice would double every gradient without a second pass.
use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc: Linear(1),
    }
}

fn main() {
    let mut model = Net::new(&mut seeded_rng(0));
    let x = Batch::from_rows(&[[1.0, 2.0]]);
    let grad = Batch::from_rows(&[[1.0]]);
    let out = model.forward_train(&x);
    out.backward(&grad);
    out.backward(&grad);
}
