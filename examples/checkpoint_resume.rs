//! Stop and resume: train 5 epochs and checkpoint, load into fresh objects as a new process
//! would, train 5 more — the weights equal those of 10 uninterrupted epochs, bit for bit.
//! Then the weights go to PyTorch:
//!
//! ```python
//! from safetensors.torch import load_file
//! model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
//! model.load_state_dict(load_file("checkpoints/last/model.safetensors"), strict=True)
//! ```
//!
//! `cargo run --release --example checkpoint_resume -- checkpoints`

use std::path::Path;

use staticnn::data::synthetic;
use staticnn::prelude::*;
use staticnn::state_dict;

model! {
    /// Unnamed layers take nn.Sequential's keys: 0.weight, 3.weight, 5.weight.
    pub struct Net: [2] -> [1] {
        Linear(16),
        ReLU,
        Dropout(0.1),
        Linear(16),
        ReLU,
        Linear(1),
    }
}

fn options(epochs: usize) -> FitOptions {
    FitOptions::new(epochs, 32)
        .seed(5)
        .validation_split(0.2)
        .progress(Progress::Quiet)
}

/// Returns whether the resumed weights equal the uninterrupted ones.
fn run(dir: &Path) -> Result<bool, Box<dyn std::error::Error>> {
    staticnn::set_num_threads(1);
    let data = synthetic::moons(500, 0.2, &mut seeded_rng(1));
    let loss = || BCEWithLogitsLoss::new();

    let mut straight = Net::new(&mut seeded_rng(2));
    let mut adam = Adam::new(0.01)?;
    let mut o = options(10).scheduler(StepLR::new(&mut adam, 4, 0.5)?, Every::Epoch);
    fit(&mut straight, &mut loss(), &mut adam, &data, None, &mut o)?;

    let mut first = Net::new(&mut seeded_rng(2));
    let mut adam = Adam::new(0.01)?;
    let mut o = options(5)
        .scheduler(StepLR::new(&mut adam, 4, 0.5)?, Every::Epoch)
        .checkpoint_dir(dir);
    fit(&mut first, &mut loss(), &mut adam, &data, None, &mut o)?;
    println!("saved {} after 5 epochs", dir.join("last").display());

    let mut resumed = Net::new(&mut seeded_rng(1234));
    let mut adam = Adam::new(0.01)?;
    let mut o = options(10)
        .scheduler(StepLR::new(&mut adam, 4, 0.5)?, Every::Epoch)
        .checkpoint_dir(dir)
        .resume_from(dir.join("last"));
    let history = fit(&mut resumed, &mut loss(), &mut adam, &data, None, &mut o)?;
    println!("resumed to epoch {}", history.epochs.len());
    Ok(state_dict(&resumed) == state_dict(&straight))
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "checkpoints".into());
    match run(Path::new(&dir)) {
        Ok(same) => println!("bit_identical={same} weights={dir}/last/model.safetensors"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn resuming_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::run(dir.path()).unwrap());
    }
}
