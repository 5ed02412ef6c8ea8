//! Three-class spirals with cross-entropy and accuracy (or your CSV whose target column holds
//! class indices 0, 1, 2 with `--data FILE.csv --target COLUMN`).
//!
//! `cargo run --release --example multiclass -- --plot spirals.svg`

#[path = "common/mod.rs"]
mod common;

use clap::Parser;
use common::{Defaults, Result, TrainArgs};
use staticnn::data::{CsvTable, DynDataset, synthetic};
use staticnn::prelude::*;
use staticnn::train::{DynTrain, ModelRef};

const CLASSES: usize = 3;
const DEFAULTS: Defaults = Defaults {
    epochs: 200,
    batch_size: 32,
    lr: 0.01,
    optimizer: "adam",
};

model! {
    /// Scores each of three classes from `IN` features.
    pub struct SpiralNet<const IN: usize>: [IN] -> [3] {
        fc1: Linear(64),
        ReLU,
        fc2: Linear(64),
        ReLU,
        out: Linear(3),
    }
}

fn run_csv(args: &TrainArgs) -> Result<History> {
    let table = common::csv_table(args)?;
    common::with_feature_width!(table.feature_names.len(), W => run_width::<W>(args, &table))
}

/// The network for `W` features, trained on the table.
fn run_width<const W: usize>(args: &TrainArgs, table: &CsvTable) -> Result<History> {
    let mut model = SpiralNet::<W>::new(&mut seeded_rng(args.seed));
    let data = table.to_class_dyn_dataset(CLASSES)?;
    train(args, &mut ModelRef::<_, W, CLASSES>(&mut model), &data)
}

/// The probabilities of the three classes, comma-separated.
fn probabilities(row: &[f32; CLASSES]) -> String {
    let max = row.iter().copied().fold(f32::MIN, f32::max);
    let exp: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter()
        .map(|e| format!("{:.6}", e / sum))
        .collect::<Vec<_>>()
        .join(",")
}

fn train(
    args: &TrainArgs,
    model: &mut dyn DynTrain<CLASSES>,
    data: &DynDataset<'_, Vec<usize>>,
) -> Result<History> {
    common::train(
        args,
        &DEFAULTS,
        model,
        &mut CrossEntropyLoss::new(),
        data,
        &[Metric::Accuracy],
        "spirals",
        probabilities,
    )
}

fn run(args: &TrainArgs) -> Result<History> {
    if args.data.is_some() {
        return run_csv(args);
    }
    let mut rng = seeded_rng(args.seed);
    let data = synthetic::spirals(300, CLASSES, 0.2, &mut rng);
    let mut model = SpiralNet::<2>::new(&mut rng);
    train(
        args,
        &mut ModelRef::<_, 2, CLASSES>(&mut model),
        &data.as_dyn(),
    )
}

fn main() {
    common::finish(run(&TrainArgs::parse()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spirals_are_learned() {
        let args = TrainArgs::parse_from(["multiclass", "--quiet", "--epochs", "60"]);
        let history = run(&args).unwrap();
        let acc = history.last().unwrap().get("val_accuracy").unwrap();
        assert!(acc > 0.9, "{}", common::summary_line(&history));
    }
}
