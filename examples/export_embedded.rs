//! Train here, deploy without an allocator: trains the binary classifier on two moons with
//! `fit`, then exports it as one `no_std` Rust file with the weights as `static` arrays
//! (`staticnn::export::rust`), and prints the file's size and what `forward` holds on the
//! stack. The file needs only `core`; include it in firmware with
//! `mod model { include!("model_weights.rs"); }` and call `model::forward(&[x, y])`.
//!
//! ```text
//! cargo run --release --example export_embedded -- --out model_weights.rs
//! ```

use std::path::PathBuf;

use clap::Parser;
use staticnn::data::synthetic;
use staticnn::prelude::*;

model! {
    /// Scores a 2-D point: positive means class 1.
    pub struct BinaryClassifier: [2] -> [1] {
        fc1: Linear(16),
        ReLU,
        drop: Dropout(0.1),
        fc2: Linear(16),
        ReLU,
        out: Linear(1),
    }
}

#[derive(Parser, Debug)]
#[command(about = "Train the binary classifier and export it as a no_std Rust file")]
struct Args {
    /// Where to write the exported Rust file.
    #[arg(long, default_value = "model_weights.rs")]
    out: PathBuf,
    /// Training epochs.
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Seed of the data, the initialisation and the shuffling.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Returns the trained model's validation accuracy and the exported file's size in bytes.
fn run(args: &Args) -> Result<(f64, usize), Box<dyn std::error::Error>> {
    let mut rng = seeded_rng(args.seed);
    let data = synthetic::moons(1000, 0.2, &mut rng);
    let mut model = BinaryClassifier::new(&mut rng);
    let mut options = FitOptions::new(args.epochs, 32)
        .seed(args.seed)
        .validation_split(0.2)
        .metrics(&[Metric::Accuracy])
        .progress(Progress::Quiet);
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut Adam::new(0.01)?,
        &data,
        None,
        &mut options,
    )?;
    let accuracy = history
        .last()
        .and_then(|r| r.get("val_accuracy"))
        .unwrap_or(f64::NAN);

    let exported = staticnn::export::rust(&model, &args.out)?;
    let size = std::fs::metadata(&args.out)?.len() as usize;
    println!(
        "val_accuracy={accuracy:.3}: wrote {} ({size} bytes of Rust: {} bytes of weights); \
         forward keeps at most {} bytes of activations on the stack ({} for the widest layer)",
        args.out.display(),
        exported.weight_bytes,
        exported.activation_bytes,
        exported.widest_layer_bytes,
    );
    if exported.inexact.is_empty() {
        println!("every layer computes the runtime's operations in its order: the same bits");
    }
    Ok((accuracy, size))
}

fn main() {
    if let Err(e) = run(&Args::parse()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trains_and_exports() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("model_weights.rs");
        let args = super::Args {
            out: out.clone(),
            epochs: 3,
            seed: 1,
        };
        let (_, size) = super::run(&args).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text.len(), size);
        assert!(text.contains("pub fn forward(x: &[f32; IN]) -> [f32; OUT]"));
        // Only `core`: the `#![no_std]` crate export-check compiles such files.
        for needle in ["std::", "alloc::", "extern crate", "unsafe {", "unsafe fn"] {
            assert!(!text.contains(needle), "{needle}");
        }
    }
}
