//! The loop a PyTorch tutorial writes by hand, without `fit`: for each epoch, train mode and
//! `zero_grad / forward / loss / backward / step` over shuffled batches, then eval mode and a
//! validation pass through `forward` only (PyTorch's `torch.no_grad()`).
//!
//! `cargo run --release --example training_loop`

use staticnn::data::synthetic;
use staticnn::prelude::*;

model! {
    pub struct Classifier: [2] -> [1] {
        fc1: Linear(16),
        ReLU,
        drop: Dropout(0.1),
        fc2: Linear(16),
        ReLU,
        out: Linear(1),
    }
}

/// Trains for `epochs` and returns the last validation accuracy.
fn run(epochs: usize, verbose: bool) -> Result<f64, Box<dyn std::error::Error>> {
    let mut rng = seeded_rng(7);
    let data = synthetic::moons(1000, 0.2, &mut rng);
    let (train, val) = data.split(0.2, true, &mut rng).expect("a valid split");
    let mut model = Classifier::new(&mut rng);
    let mut criterion = BCEWithLogitsLoss::new();
    let mut optimizer = Adam::new(0.01);
    let mut loader = DataLoader::new(&train, 32).expect("a batch size above 0");
    let mut accuracy = 0.0;

    for epoch in 1..=epochs {
        model.train();
        let mut running = 0.0;
        let mut batches = 0;
        for (x, y) in loader.epoch(&mut rng) {
            model.zero_grad();
            let out = model.forward_train(&x);
            let (loss, grad) = criterion.value_and_grad(&out, &y)?;
            out.backward(grad);
            optimizer.step(&mut model)?;
            running += f64::from(loss);
            batches += 1;
        }

        model.eval();
        let logits = model.forward(&val.features);
        let val_loss = criterion.value(&logits, &val.targets)?;
        let correct = logits
            .iter_rows()
            .zip(val.targets.iter_rows())
            .filter(|(z, y)| (z[0] > 0.0) == (y[0] > 0.5))
            .count();
        accuracy = correct as f64 / val.len() as f64;
        if verbose {
            println!(
                "epoch {epoch:3}  train loss {:.4}  val loss {val_loss:.4}  val accuracy {accuracy:.3}",
                running / batches as f64
            );
        }
    }
    Ok(accuracy)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let accuracy = run(50, true)?;
    println!("epochs=50 val_accuracy={accuracy:.6}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hand_written_loop_learns() {
        assert!(super::run(30, false).unwrap() > 0.95);
    }
}
