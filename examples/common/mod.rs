//! What the examples share: the command-line options, training with them through `fit`
//! (split, standardise on the training part, checkpoints, plots, TensorBoard, predictions),
//! and the `key=value` summary line every example ends with.
#![allow(dead_code)]

use std::error::Error;
use std::path::{Path, PathBuf};

use clap::Parser;
use staticnn::data::{Column, DynDataset, Standardizer, TargetSlice, Targets, read_csv};
use staticnn::prelude::*;
use staticnn::tensorboard::SummaryWriter;
use staticnn::train::{DynForward, DynTrain, fit_dyn, predict_dyn};

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Trains one of staticnn's example networks; the last line printed is a key=value summary.
#[derive(Parser, Debug, Clone)]
pub struct TrainArgs {
    /// Train on this CSV file instead of the built-in data (a header row is expected).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The CSV column to predict, by name or 0-based index; every other column is a feature.
    #[arg(long, requires = "data")]
    pub target: Option<String>,
    /// Epochs in total (each example has its own default).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Samples per mini-batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// sgd, momentum, nesterov, adam, adamw, rmsprop or adagrad.
    #[arg(long)]
    pub optimizer: Option<String>,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fraction of the data held out for validation (stratified for classes).
    #[arg(long, default_value_t = 0.2)]
    pub val_split: f32,
    /// Save checkpoints (`DIR/last`, `DIR/best`, each holding the standardiser) into DIR.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Continue from a DIR written by `--save` (up to `--epochs` in total).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Draw the loss and metric curves into this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write predictions for the rows of this CSV file to `FILE.predictions.csv`.
    #[arg(long)]
    pub predict: Option<PathBuf>,
    /// Write TensorBoard scalars into this folder.
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// No progress output, only the summary line.
    #[arg(long)]
    pub quiet: bool,
}

/// An example's own defaults for the options left out.
pub struct Defaults {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub optimizer: &'static str,
}

/// The key of the standardiser inside each checkpoint: a resumed run needs the one the
/// weights were trained with, saved in the same atomic swap.
const STANDARDIZER_KEY: &str = "standardizer";

/// `path: error`, for errors that do not name their file themselves.
fn at(path: &Path) -> impl FnOnce(std::io::Error) -> Box<dyn Error> + '_ {
    move |e| format!("{}: {e}", path.display()).into()
}

/// Whether `path` can be written, checked without leaving anything behind.
fn check_writable(path: &Path) -> Result<()> {
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(at(path))?;
    if !existed {
        std::fs::remove_file(path).map_err(at(path))?;
    }
    Ok(())
}

/// A folder that can be created and written into.
fn check_folder(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(at(dir))?;
    check_writable(&dir.join(".staticnn-write-check"))
}

/// Checks every path the options name before any training, so that a typo costs seconds,
/// not a run; returns the standardiser of the checkpoint to resume from.
fn check_paths(args: &TrainArgs) -> Result<Option<Standardizer>> {
    let standardizer =
        match &args.resume {
            Some(dir) => {
                let last = dir.join("last");
                let checkpoint = staticnn::checkpoint::Checkpoint::read(&last)?;
                let json = checkpoint.state.extra.get(STANDARDIZER_KEY).ok_or_else(|| {
                format!(
                    "{}: the checkpoint holds no standardizer; was it saved by this example?",
                    checkpoint.state_path().display()
                )
            })?;
                Some(Standardizer::from_json(json).map_err(|e| {
                    format!("{}: standardizer: {e}", checkpoint.state_path().display())
                })?)
            }
            None => None,
        };
    if let Some(dir) = &args.save {
        check_folder(dir)?;
    }
    if let Some(dir) = &args.log_dir {
        check_folder(dir)?;
    }
    if let Some(path) = &args.plot {
        check_writable(path)?;
    }
    if let Some(path) = &args.predict {
        std::fs::File::open(path).map_err(at(path))?;
        check_writable(&predictions_path(path))?;
    }
    Ok(standardizer)
}

fn predictions_path(path: &Path) -> PathBuf {
    let mut target = path.as_os_str().to_owned();
    target.push(".predictions.csv");
    PathBuf::from(target)
}

/// Reads a CSV as features of width `W` and raw target values.
pub fn csv_table(args: &TrainArgs) -> Result<staticnn::data::CsvTable> {
    let path = args.data.as_ref().ok_or("--data is required here")?;
    let target = args
        .target
        .as_deref()
        .ok_or("--target COLUMN is required with --data")?;
    Ok(read_csv(path, Some(&Column::from(target)), None)?)
}

/// Evaluates `$body` with `const $W: usize` set to `$width`, a CSV's feature count, 1 to
/// 64: each example declares one generic model and instantiates it here. Keep `$body` to a
/// call of a small `fn run_width<const W: usize>` that builds the model and hands it to
/// `train` as a `ModelRef`: whatever it calls generically is compiled 64 times, on every
/// rebuild after a model edit (and 64 separate functions optimise faster than one function
/// holding 64 inlined arms).
// Every example includes this module; only those that read a CSV of any width use the macro.
#[allow(unused_macros)]
macro_rules! with_feature_width {
    ($width:expr, $W:ident => $body:expr) => {{
        let width: usize = $width;
        staticnn::dispatch_width!(width, 1..=64, $W => $body).unwrap_or_else(|| {
            Err(format!("the examples take 1 to 64 features; the file has {width}").into())
        })
    }};
}
#[allow(unused_imports)]
pub(crate) use with_feature_width;

/// Trains `model` with the options, returns the history and writes whatever was asked for.
/// `format_prediction` turns one output row into the text written per input row.
///
/// The model and data come with their input width as a value (`ModelRef`, `as_dyn`), so
/// that this and `fit_dyn` below are compiled once, not once per width of
/// `with_feature_width!`: a rebuild after a model edit recompiles little more than the model.
#[allow(clippy::too_many_arguments)]
pub fn train<L, T, const O: usize>(
    args: &TrainArgs,
    defaults: &Defaults,
    model: &mut dyn DynTrain<O>,
    loss: &mut L,
    data: &DynDataset<'_, T>,
    metrics: &[Metric],
    title: &str,
    format_prediction: fn(&[f32; O]) -> String,
) -> Result<History>
where
    L: Loss<O, Target = T::Slice>,
    T: Targets,
    T::Slice: TargetSlice,
{
    let resumed_standardizer = check_paths(args)?;
    let stratify = (0..data.len()).all(|i| data.targets().stratum(i).is_some());
    let (mut train, mut val) = data.split(args.val_split, stratify, &mut seeded_rng(args.seed))?;
    let width = data.width();
    let standardizer =
        resumed_standardizer.unwrap_or_else(|| Standardizer::fit_rows(train.features(), width));
    standardizer.transform_rows(train.features_mut(), width)?;
    standardizer.transform_rows(val.features_mut(), width)?;

    let mut optimizer = AnyOptimizer::from_name(
        args.optimizer.as_deref().unwrap_or(defaults.optimizer),
        args.lr.unwrap_or(defaults.lr),
    )?;
    let mut options = FitOptions::new(
        args.epochs.unwrap_or(defaults.epochs),
        args.batch_size.unwrap_or(defaults.batch_size),
    )
    .metrics(metrics)
    .seed(args.seed)
    .progress(if args.quiet {
        Progress::Quiet
    } else {
        Progress::Auto
    });
    if let Some(dir) = &args.save {
        options = options
            .checkpoint_dir(dir)
            .checkpoint_extra(STANDARDIZER_KEY, standardizer.to_json());
    }
    if let Some(dir) = &args.resume {
        options = options.resume_from(dir.join("last"));
    }
    let history = fit_dyn(
        model,
        loss,
        &mut optimizer,
        &train,
        Some(&val),
        &mut options,
    )?;

    if let Some(path) = &args.plot {
        history
            .plot(path, title)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(dir) = &args.log_dir {
        SummaryWriter::new(dir)
            .and_then(|mut w| w.add_history(&history))
            .map_err(at(dir))?;
    }
    if let Some(path) = &args.predict {
        predict_csv(
            path,
            args.target.as_deref(),
            &standardizer,
            &*model,
            format_prediction,
        )?;
    }
    Ok(history)
}

/// Writes one prediction per row of `path` into `path.predictions.csv`.
fn predict_csv<const O: usize>(
    path: &Path,
    target: Option<&str>,
    standardizer: &Standardizer,
    model: &dyn DynForward<O>,
    format_prediction: fn(&[f32; O]) -> String,
) -> Result<PathBuf> {
    // Every column is a feature, except the target column when the file has one.
    let all = read_csv(path, None, None)?;
    let target = target.map(Column::from).filter(|t| match t {
        Column::Name(n) => all.feature_names.contains(n),
        Column::Index(i) => *i < all.feature_names.len(),
    });
    let table = match &target {
        Some(t) => read_csv(path, Some(t), None)?,
        None => all,
    };
    let width = model.in_width();
    let mut x = table.features_dyn(width)?.to_vec();
    standardizer.transform_rows(&mut x, width)?;
    let out = predict_dyn(model, &x, 256)?;
    let mut lines = String::new();
    for row in out.iter_rows() {
        lines.push_str(&format_prediction(row));
        lines.push('\n');
    }
    let target_path = predictions_path(path);
    std::fs::write(&target_path, lines).map_err(at(&target_path))?;
    Ok(target_path)
}

/// The last line every example prints: `epochs=.. loss=.. val_loss=.. val_<metric>=..`, in
/// the history's own keys.
pub fn summary_line(history: &History) -> String {
    let Some(last) = history.last() else {
        return "epochs=0".to_string();
    };
    let mut parts = vec![
        format!("epochs={}", last.epoch),
        format!("loss={:.6}", last.loss),
    ];
    if let Some(v) = last.val_loss {
        parts.push(format!("val_loss={v:.6}"));
    }
    for (k, v) in &last.metrics {
        parts.push(format!("{k}={v:.6}"));
    }
    parts.join(" ")
}

/// `1 / (1 + e^-z)`: a logit as a probability.
pub fn probability(row: &[f32; 1]) -> String {
    format!("{:.6}", 1.0 / (1.0 + (-row[0]).exp()))
}

/// Prints the summary line, or the error and exits non-zero.
pub fn finish(result: Result<History>) {
    match result {
        Ok(history) => println!("{}", summary_line(&history)),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
