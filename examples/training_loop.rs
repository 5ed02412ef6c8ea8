//! The loop a PyTorch tutorial writes by hand, without `fit`: for each epoch, train mode and
//! `zero_grad / forward / loss / backward / step` over shuffled batches, then eval mode and the
//! tutorial's `validate(model, loader, criterion)` through `forward` only (PyTorch's
//! `torch.no_grad()`).
//!
//! `cargo run --release --example training_loop`

use staticnn::data::synthetic;
use staticnn::prelude::*;

model! {
    pub struct Classifier: [2] -> [2] {
        fc1: Linear(16),
        ReLU,
        drop: Dropout(0.1),
        fc2: Linear(16),
        ReLU,
        out: Linear(2),
    }
}

type Loader<'a> = DataLoader<'a, 2, Vec<usize>>;

/// The PyTorch tutorial's `validate(model, loader, criterion)`: mean loss and accuracy.
fn validate(model: &Classifier, loader: &mut Loader, criterion: &CrossEntropyLoss) -> Scores {
    let (mut total, mut correct, mut n) = (0.0, 0, 0);
    let mut batches = loader.rewind();
    while let Some((x, y)) = batches.next_batch() {
        let out = model.forward(x); // eval semantics, nothing kept: torch.no_grad()
        total += f64::from(criterion.value(&out, y)?) * y.len() as f64;
        correct += out.argmax().iter().zip(y).filter(|(p, y)| p == y).count();
        n += y.len();
    }
    Ok((total / n as f64, correct as f64 / n as f64))
}

type Scores = Result<(f64, f64), LossError>;

/// Trains for `epochs` and returns the last validation accuracy.
fn run(epochs: usize, verbose: bool) -> Result<f64, Box<dyn std::error::Error>> {
    let mut rng = seeded_rng(7);
    let moons = synthetic::moons(1000, 0.2, &mut rng);
    // Class indices for CrossEntropy: each moon's 0/1 label.
    let labels: Vec<usize> = moons
        .targets
        .as_slice()
        .iter()
        .map(|&y| y as usize)
        .collect();
    let data = Dataset::new(moons.features, labels)?;
    let (train, val) = data.split(0.2, true, &mut rng).expect("a valid split");
    let mut model = Classifier::new(&mut rng);
    let mut criterion = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(0.01)?;
    let mut loader = DataLoader::new(&train, 32).expect("a batch size above 0");
    let mut val_loader = DataLoader::new(&val, 100)?.shuffle(false);
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
        let (val_loss, val_accuracy) = validate(&model, &mut val_loader, &criterion)?;
        accuracy = val_accuracy;
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
    use super::*;

    #[test]
    fn the_hand_written_loop_learns() {
        assert!(run(30, false).unwrap() > 0.95);
    }

    /// `validate` agrees with `evaluate`, which `fit` validates with.
    #[test]
    fn validate_matches_evaluate() {
        let mut rng = seeded_rng(1);
        let data = synthetic::spirals(40, 2, 0.1, &mut rng);
        let model = Classifier::new(&mut rng);
        let criterion = CrossEntropyLoss::new();
        let mut loader = DataLoader::new(&data, 100).unwrap().shuffle(false);
        let (loss, accuracy) = validate(&model, &mut loader, &criterion).unwrap();
        let eval = evaluate(&model, &criterion, &data, 100, &[Metric::Accuracy]).unwrap();
        assert_eq!((loss, accuracy), (eval.loss, eval.metrics["accuracy"]));
    }
}
