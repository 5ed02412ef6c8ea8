//! The seed tutorial's noisy linear regression: `y = x·w + b + ε`. Ten epochs leave the
//! validation MSE far above the noise variance; a hundred reach it, and no model can go lower.
//!
//! `cargo run --release --example regression -- --plot regression.svg`

#[path = "common/mod.rs"]
mod common;

use clap::Parser;
use common::{Defaults, Result, TrainArgs};
use staticnn::data::synthetic;
use staticnn::prelude::*;

const FEATURES: usize = 20;
const NOISE: f32 = 0.5;
const SAMPLES: usize = 5000;
const DEFAULTS: Defaults = Defaults {
    epochs: 100,
    batch_size: 100,
    lr: 0.001,
    optimizer: "adam",
};

model! {
    /// The seed's regression network: 20 → 10 → 1 with ReLU.
    pub struct Regressor: [20] -> [1] {
        hidden: Linear(10),
        ReLU,
        out: Linear(1),
    }
}

fn value(row: &[f32; 1]) -> String {
    format!("{:.6}", row[0])
}

fn run(args: &TrainArgs) -> Result<History> {
    let mut rng = seeded_rng(args.seed);
    let data = match &args.data {
        Some(_) => common::csv_table(args)?.to_dataset::<FEATURES>()?,
        None => synthetic::linear_regression::<FEATURES>(SAMPLES, NOISE, &mut rng).0,
    };
    let mut model = Regressor::new(&mut rng);
    common::train(
        args,
        &DEFAULTS,
        &mut staticnn::train::ModelRef::<_, FEATURES, 1>(&mut model),
        &mut MSELoss::new(),
        &data.as_dyn(),
        &[Metric::MSE, Metric::MAE, Metric::R2],
        "noisy linear regression",
        value,
    )
}

fn main() {
    let args = TrainArgs::parse();
    let result = (|| -> Result<History> {
        if args.data.is_none() && args.epochs.is_none() && !args.quiet {
            // The lesson: the same run stopped after 10 epochs, then the full 100.
            let short = run(&TrainArgs {
                epochs: Some(10),
                quiet: true,
                ..args.clone()
            })?;
            let mse = short
                .last()
                .map_or(f64::NAN, |e| e.get("val_mse").unwrap_or(f64::NAN));
            println!(
                "after 10 epochs: val_mse={mse:.4} (noise variance {:.4})",
                NOISE * NOISE
            );
        }
        let history = run(&args)?;
        if args.data.is_none() {
            let mse = history
                .last()
                .and_then(|e| e.get("val_mse"))
                .unwrap_or(f64::NAN);
            println!(
                "after {} epochs: val_mse={mse:.4} (noise variance {:.4})",
                history.epochs.len(),
                NOISE * NOISE
            );
        }
        Ok(history)
    })();
    common::finish(result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_epochs_are_far_from_the_noise_floor_and_a_hundred_reach_it() {
        let floor = f64::from(NOISE * NOISE);
        let mse = |epochs: &str| {
            let args = TrainArgs::parse_from(["regression", "--quiet", "--epochs", epochs]);
            run(&args).unwrap().last().unwrap().get("val_mse").unwrap()
        };
        let short = mse("10");
        let long = mse("100");
        assert!(short > 2.0 * floor, "10 epochs: {short}");
        assert!(long < 1.25 * floor, "100 epochs: {long}");
    }
}
