// `forward` is inference: its output keeps nothing to backpropagate.
use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc: Linear(1),
    }
}

fn main() {
    let model = Net::new(&mut seeded_rng(0));
    let x = Batch::from_rows(&[[1.0, 2.0]]);
    let y = model.forward(&x);
    let grad = Batch::from_rows(&[[1.0]]);
    y.backward(&grad);
}
