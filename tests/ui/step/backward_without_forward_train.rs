// The PyTorch habit `y = model(x); loss.backward()`: inference, then backward on the model.
use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc: Linear(1),
    }
}

fn main() {
    let mut model = Net::new(&mut seeded_rng(0));
    let x = Batch::from_rows(&[[1.0, 2.0]]);
    let _y = model.forward(&x);
    let grad = Batch::from_rows(&[[1.0]]);
    model.backward(&grad);
}
