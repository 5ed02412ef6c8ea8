//! Train here, deploy without an allocator: trains the binary classifier on two moons with
//! `fit`, then exports it as one `no_std` Rust file with the weights as `static` arrays
//! (`staticnn::export::rust`), and prints the file's size and what `forward` holds on the
//! stack. The file needs only `core`; include it in firmware with
//! `mod model { include!("model_weights.rs"); }` and call `model::forward(&[x, y])`.
//!
//! `--int8` stores the Linear weight matrices in int8 (a quarter of their bytes) and prints the
//! accuracy the int8 file will have beside the f32 model's.
//!
//! ```text
//! cargo run --release --example export_embedded -- --out model_weights.rs [--int8]
//! ```

use std::path::PathBuf;

use clap::Parser;
use staticnn::data::synthetic;
use staticnn::prelude::*;

model! {
    /// Scores a 2-D point: positive means class 1.
    #[derive(Clone)]
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
    /// Store the Linear weights in int8, one scale per output (`export::Weights::Int8`).
    #[arg(long)]
    int8: bool,
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

    let weights = if args.int8 {
        // What the int8 file computes, measured before it is written: the same model with
        // each Linear weight replaced by its int8 value.
        let mut int8 = model.clone();
        staticnn::export::fake_quantize_int8(&mut int8)?;
        let loss = BCEWithLogitsLoss::new();
        let accuracy = |m: &BinaryClassifier| -> Result<f64, LossError> {
            Ok(evaluate(m, &loss, &data, 256, &[Metric::Accuracy])?.metrics["accuracy"])
        };
        println!(
            "accuracy on all 1000 points: f32 {:.3}, int8 {:.3}",
            accuracy(&model)?,
            accuracy(&int8)?
        );
        staticnn::export::Weights::Int8
    } else {
        staticnn::export::Weights::F32
    };
    let exported = staticnn::export::rust_with(&model, &args.out, weights)?;
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
        for int8 in [false, true] {
            let args = super::Args {
                out: out.clone(),
                epochs: 3,
                seed: 1,
                int8,
            };
            let (_, size) = super::run(&args).unwrap();
            let text = std::fs::read_to_string(&out).unwrap();
            assert_eq!(text.len(), size);
            assert!(text.contains("pub fn forward(x: &[f32; IN]) -> [f32; OUT]"));
            assert_eq!(text.contains("kernels::linear_int8("), int8);
            // Only `core`: the `#![no_std]` crate export-check compiles such files.
            for needle in ["std::", "alloc::", "extern crate", "unsafe {", "unsafe fn"] {
                assert!(!text.contains(needle), "{needle}");
            }
        }
    }
}
