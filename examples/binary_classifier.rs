//! The main job: the binary classifier from DESIGN.md, trained with `fit` on seeded two-moons
//! data, or on your own CSV with `--data FILE.csv --target COLUMN`.
//!
//! ```text
//! cargo run --release --example binary_classifier
//! cargo run --release --example binary_classifier -- --data examples/data/breast_cancer.csv --target malignant --plot curves.svg
//! ```
//!
//! Widths are compile-time facts in staticnn: the network is generic over its input width and
//! `dispatch_width!` instantiates it at the feature count of the data (1 to 64).

#[path = "common/mod.rs"]
mod common;

use clap::Parser;
use common::{Defaults, Result, TrainArgs};
use staticnn::data::synthetic;
use staticnn::prelude::*;

const DEFAULTS: Defaults = Defaults {
    epochs: 100,
    batch_size: 32,
    lr: 0.01,
    optimizer: "adam",
};

model! {
    /// Scores a sample of `IN` features: positive means class 1.
    pub struct BinaryClassifier<const IN: usize>: [IN] -> [1] {
        fc1: Linear(16),
        ReLU,
        drop: Dropout(0.1),
        fc2: Linear(16),
        ReLU,
        out: Linear(1),
    }
}

fn run_csv(args: &TrainArgs) -> Result<History> {
    common::with_feature_width!(args, W => run_on_csv::<BinaryClassifier<W>, W>(args))
}

fn run_on_csv<M: Forward<W, 1> + Init, const W: usize>(args: &TrainArgs) -> Result<History> {
    let data = common::csv_table(args)?.to_dataset::<W>()?;
    let mut model = M::init(&mut seeded_rng(args.seed));
    train(args, &mut model, &data)
}

fn train<M: Forward<W, 1>, const W: usize>(
    args: &TrainArgs,
    model: &mut M,
    data: &Dataset<W, Batch<1>>,
) -> Result<History> {
    common::train(
        args,
        &DEFAULTS,
        model,
        &mut BCEWithLogitsLoss::new(),
        data,
        &[Metric::Accuracy],
        "binary classifier",
        common::probability,
    )
}

fn run(args: &TrainArgs) -> Result<History> {
    if args.data.is_some() {
        return run_csv(args);
    }
    let mut rng = seeded_rng(args.seed);
    let data = synthetic::moons(1000, 0.2, &mut rng);
    let mut model = BinaryClassifier::<2>::new(&mut rng);
    if !args.quiet {
        println!("{}", model.summary());
    }
    train(args, &mut model, &data)
}

fn main() {
    common::finish(run(&TrainArgs::parse()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> TrainArgs {
        TrainArgs::parse_from(["binary_classifier", "--quiet"].iter().chain(extra))
    }

    #[test]
    fn moons_reach_97_percent() {
        let history = run(&args(&[])).unwrap();
        let acc = history.last().unwrap().get("val_accuracy").unwrap();
        assert!(acc >= 0.97, "{}", common::summary_line(&history));
    }

    #[test]
    fn csv_save_resume_plot_and_predict() {
        let dir = tempfile::tempdir().unwrap();
        let save = dir.path().join("run");
        let plot = dir.path().join("curves.svg");
        let data = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/data/breast_cancer.csv"
        );
        let a = |s: &std::path::Path| s.to_str().unwrap().to_string();
        let first = run(&args(&[
            "--data",
            data,
            "--target",
            "malignant",
            "--epochs",
            "3",
            "--save",
            &a(&save),
        ]))
        .unwrap();
        assert_eq!(first.epochs.len(), 3);
        let predict = dir.path().join("rows.csv");
        let text = std::fs::read_to_string(data).unwrap();
        std::fs::write(
            &predict,
            text.lines().take(6).collect::<Vec<_>>().join("\n"),
        )
        .unwrap();
        let resumed = run(&args(&[
            "--data",
            data,
            "--target",
            "malignant",
            "--epochs",
            "5",
            "--resume",
            &a(&save),
            "--plot",
            &a(&plot),
            "--predict",
            &a(&predict),
        ]))
        .unwrap();
        assert_eq!(resumed.epochs.len(), 5);
        assert!(std::fs::read_to_string(&plot).unwrap().contains("<svg"));
        let predictions =
            std::fs::read_to_string(dir.path().join("rows.csv.predictions.csv")).unwrap();
        assert_eq!(predictions.lines().count(), 5);
        assert!(
            predictions
                .lines()
                .all(|p| (0.0..=1.0).contains(&p.parse::<f32>().unwrap()))
        );
    }

    #[test]
    fn a_bad_file_is_a_clear_error() {
        let err = run(&args(&["--data", "no/such.csv", "--target", "y"])).unwrap_err();
        assert!(err.to_string().contains("no/such.csv"), "{err}");
    }
}
