//! The three assignment tasks of the seed tutorial: compute loss values, take one optimizer
//! step and watch the weights change, and run a 10-epoch loop whose loss falls.
//!
//! `cargo run --release --example seed_tasks`

use staticnn::prelude::*;

/// Task 1: MSE, L1 and cross-entropy on the tutorial's numbers.
fn loss_values() -> (f32, f32, f32) {
    let prediction = Batch::from_rows(&[[2.5, 1.3, 0.8]]);
    let target = Batch::from_rows(&[[3.0, 1.0, 1.0]]);
    let mse = MSELoss::new()
        .value(&prediction, &target)
        .expect("same shapes");
    let l1 = L1Loss::new()
        .value(&prediction, &target)
        .expect("same shapes");
    let logits = Batch::from_rows(&[[2.0, 1.0, 0.1]]);
    let ce = CrossEntropyLoss::new()
        .value(&logits, &[0])
        .expect("class 0 of 3");
    (mse, l1, ce)
}

model! {
    pub struct Tiny: [3] -> [1] {
        fc: Linear(1),
    }
}

/// Task 2: one SGD step on one sample; returns the weights before and after.
fn one_step() -> (Vec<f32>, Vec<f32>) {
    let mut model = Tiny::new(&mut seeded_rng(0));
    let before = model.fc.weight.value.clone();
    let x = Batch::from_rows(&[[1.0, 2.0, 3.0]]);
    let y = Batch::from_rows(&[[1.0]]);
    let mut optimizer = SGD::new(0.1).expect("a rate PyTorch accepts");
    model.zero_grad();
    let out = model.forward_train(&x);
    let mut criterion = MSELoss::new();
    let (_, grad) = criterion.value_and_grad(&out, &y).expect("same shapes");
    out.backward(grad);
    optimizer
        .step(&mut model)
        .expect("the optimizer's own model");
    (before, model.fc.weight.value.clone())
}

model! {
    pub struct Regressor: [20] -> [1] {
        Linear(10),
        ReLU,
        Linear(1),
    }
}

/// Task 3: ten epochs of the explicit loop on noisy linear data; the loss of each epoch.
fn ten_epochs() -> Vec<f32> {
    let mut rng = seeded_rng(1);
    let (data, _, _) = staticnn::data::synthetic::linear_regression::<20>(100, 0.1, &mut rng);
    let mut model = Regressor::new(&mut rng);
    let mut optimizer = Adam::new(0.01).expect("a rate PyTorch accepts");
    let mut criterion = MSELoss::new();
    (0..10)
        .map(|_| {
            model.zero_grad();
            let out = model.forward_train(&data.features);
            let (loss, grad) = criterion
                .value_and_grad(&out, &data.targets)
                .expect("same shapes");
            out.backward(grad);
            optimizer
                .step(&mut model)
                .expect("the optimizer's own model");
            loss
        })
        .collect()
}

fn main() {
    let (mse, l1, ce) = loss_values();
    println!("task 1: mse={mse:.5} l1={l1:.5} cross_entropy={ce:.5}");
    let (before, after) = one_step();
    println!("task 2: weights before {before:?}");
    println!("        weights after  {after:?}");
    let losses = ten_epochs();
    for (epoch, loss) in losses.iter().enumerate() {
        println!("task 3: epoch {:2} loss {loss:.4}", epoch + 1);
    }
    println!(
        "mse={mse:.5} l1={l1:.5} cross_entropy={ce:.5} first_loss={:.4} last_loss={:.4}",
        losses[0], losses[9]
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_three_tasks() {
        let (mse, l1, ce) = super::loss_values();
        assert!(
            (mse - 0.12667).abs() < 1e-5
                && (l1 - 0.33333).abs() < 1e-5
                && (ce - 0.41703).abs() < 1e-5
        );
        let (before, after) = super::one_step();
        assert!(
            before.iter().zip(&after).all(|(a, b)| a != b),
            "every weight moves"
        );
        let losses = super::ten_epochs();
        assert!(losses[9] < losses[0]);
    }
}
