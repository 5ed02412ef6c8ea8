// A second training pass while the first is still waiting for its backward would overwrite
// what that backward needs.
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
    let first = model.forward_train(&x);
    let second = model.forward_train(&x);
    first.backward(&grad);
    second.backward(&grad);
}
