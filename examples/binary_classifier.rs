//! The main job: the binary classifier from DESIGN.md, trained with `fit` on seeded two-moons
//! data, or on your own CSV with `--data FILE.csv --target COLUMN`.
//!
//! ```text
//! cargo run --release --example binary_classifier
//! cargo run --release --example binary_classifier -- --data examples/data/breast_cancer.csv --target malignant --plot curves.svg
//! ```
//!
//! Widths are compile-time facts in staticnn: the network is generic over its input width and
//! `dispatch_width!` instantiates it at the feature count of the data (1 to 64). Only the
//! model is compiled per width: it trains as a `ModelRef`, its width a value, through one
//! copy of the training code (`fit_dyn`), so a rebuild after editing it takes seconds.

#[path = "common/mod.rs"]
mod common;

use clap::Parser;
use common::{Defaults, Result, TrainArgs};
use staticnn::data::{CsvTable, DynDataset, synthetic};
use staticnn::prelude::*;
use staticnn::train::{DynTrain, ModelRef};

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
    let table = common::csv_table(args)?;
    common::with_feature_width!(table.feature_names.len(), W => run_width::<W>(args, &table))
}

/// The network for `W` features, trained on the table.
fn run_width<const W: usize>(args: &TrainArgs, table: &CsvTable) -> Result<History> {
    let mut model = BinaryClassifier::<W>::init(&mut seeded_rng(args.seed));
    train(
        args,
        &mut ModelRef::<_, W, 1>(&mut model),
        &table.to_binary_dyn_dataset()?,
    )
}

fn train(
    args: &TrainArgs,
    model: &mut dyn DynTrain<1>,
    data: &DynDataset<'_, Batch<1>>,
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
    train(args, &mut ModelRef::<_, 2, 1>(&mut model), &data.as_dyn())
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

    /// Where `child_trains_until_killed` saves; set only in the child process.
    const CHILD_SAVE: &str = "STATICNN_KILL_TEST_SAVE";

    /// A kill -9 at random moments of the example's checkpoint saves always leaves a run
    /// that `--resume` continues: children are killed until 50 kills have landed inside a
    /// save (a half-done swap on disk), each child resuming from what the previous one left,
    /// and after each kill the checkpoint (with its standardizer) reads whole.
    #[test]
    fn a_kill_during_a_save_always_leaves_a_resumable_run() {
        use rand::RngExt;
        use staticnn::checkpoint::Checkpoint;
        let dir = tempfile::tempdir().unwrap();
        let save = dir.path().join("run");
        let save_arg = save.to_str().unwrap().to_string();
        run(&args(&["--epochs", "1", "--save", &save_arg])).unwrap();
        let state_file = save.join("last/training_state.json");
        let exe = std::env::current_exe().unwrap();
        let mut rng = seeded_rng(2026);
        let (mut mid_save, mut kills) = (0, 0);
        while mid_save < 50 {
            kills += 1;
            assert!(
                kills <= 2000,
                "only {mid_save} of {kills} kills landed inside a save"
            );
            let before = std::fs::read(&state_file).ok();
            let mut child = std::process::Command::new(&exe)
                .args(["--ignored", "--exact", "tests::child_trains_until_killed"])
                .env(CHILD_SAVE, &save)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // Wait for the child's first save to land, then kill it at a random moment of
            // the next ones (an epoch here is mostly its save: three files and folders synced).
            while std::fs::read(&state_file).ok() == before {
                assert!(child.try_wait().unwrap().is_none(), "the child stopped");
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            let delay = rng.random_range(0..20_000);
            std::thread::sleep(std::time::Duration::from_micros(delay));
            child.kill().unwrap();
            child.wait().unwrap();
            let partial = save.join("last.partial").exists() || save.join("last.previous").exists();
            mid_save += usize::from(partial);

            let checkpoint = Checkpoint::read(save.join("last")).unwrap();
            assert!(checkpoint.state.extra.contains_key("standardizer"));
            checkpoint
                .check(&BinaryClassifier::<2>::new(&mut seeded_rng(0)))
                .unwrap();
        }
        eprintln!("{kills} kills, {mid_save} of them left a save half done");
        let epochs = Checkpoint::read(save.join("last")).unwrap().state.epoch + 1;
        let history = run(&args(&[
            "--epochs",
            &epochs.to_string(),
            "--resume",
            &save_arg,
            "--save",
            &save_arg,
        ]))
        .unwrap();
        assert_eq!(history.epochs.len(), epochs);
    }

    /// The process `a_kill_during_a_save_always_leaves_a_resumable_run` kills: resumes the
    /// run and trains (one batch per epoch, so mostly saving) until killed.
    #[test]
    #[ignore = "run as a child process by a_kill_during_a_save_always_leaves_a_resumable_run"]
    fn child_trains_until_killed() {
        let Ok(save) = std::env::var(CHILD_SAVE) else {
            return;
        };
        run(&args(&[
            "--epochs",
            "1000000000",
            "--batch-size",
            "1000",
            "--resume",
            &save,
            "--save",
            &save,
        ]))
        .unwrap();
    }

    #[test]
    fn every_path_is_checked_before_training_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = run(&args(&["--resume", missing.to_str().unwrap()])).unwrap_err();
        assert!(err.to_string().contains(missing.to_str().unwrap()), "{err}");
        let blocker = dir.path().join("a_file");
        std::fs::write(&blocker, "").unwrap();
        // The errors come before the first epoch: nothing is saved in the checkpoint folder
        // the run is also given (an epoch saves there), and 100,000 epochs would take minutes.
        let saves = dir.path().join("saves");
        for option in ["--log-dir", "--plot", "--predict"] {
            let path = blocker.join("below_a_file");
            let err = run(&args(&[
                option,
                path.to_str().unwrap(),
                "--save",
                saves.to_str().unwrap(),
                "--epochs",
                "100000",
            ]))
            .unwrap_err();
            assert!(
                err.to_string().contains(path.to_str().unwrap()),
                "{option}: {err}"
            );
            assert!(!saves.join("last").exists(), "{option}: an epoch ran");
        }
        let path = blocker.join("below_a_file");
        let err = run(&args(&["--save", path.to_str().unwrap()])).unwrap_err();
        assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
    }

    #[test]
    fn a_bad_file_is_a_clear_error() {
        let err = run(&args(&["--data", "no/such.csv", "--target", "y"])).unwrap_err();
        assert!(err.to_string().contains("no/such.csv"), "{err}");
    }
}
