// The layer protocol's backward needs a key only a trace makes: calling it after `forward`
// (or with no forward pass at all) would backpropagate whatever the last training pass left.
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
    let _y = model.forward(&x);
    model.backward_raw(&x, &grad);
}
