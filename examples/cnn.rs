//! A small CNN on a seeded synthetic image task — is the bar in a noisy 12×12 image
//! horizontal or vertical? — and LeNet-5 on MNIST-format files with
//! `--idx-images FILE --idx-labels FILE` (for MNIST itself: `train-images-idx3-ubyte` and
//! `train-labels-idx1-ubyte`, unzipped from the MNIST distribution, e.g. via torchvision's
//! `datasets.MNIST(download=True)` or Kaggle's mirror; staticnn never downloads anything).
//!
//! `cargo run --release --example cnn` · `cargo run --release --example cnn -- --lenet-throughput`

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rand::{Rng, RngExt};
use staticnn::data::{read_idx_images, read_idx_labels, synthetic::normal};
use staticnn::prelude::*;

const SIDE: usize = 12;

model! {
    /// Two conv blocks and a linear head for 12×12 images.
    pub struct BarNet: [1, 12, 12] -> [2] {
        conv1: Conv2d(8, kernel = 3, padding = 1),
        ReLU,
        pool1: MaxPool2d(2),
        conv2: Conv2d(16, kernel = 3, padding = 1),
        ReLU,
        pool2: MaxPool2d(2),
        Flatten,
        fc: Linear(2),
    }
}

model! {
    /// LeNet-5 for 28×28 digits.
    pub struct LeNet: [1, 28, 28] -> [10] {
        conv1: Conv2d(6, kernel = 5, padding = 2),
        ReLU,
        pool1: MaxPool2d(2),
        conv2: Conv2d(16, kernel = 5),
        ReLU,
        pool2: MaxPool2d(2),
        Flatten,
        fc1: Linear(120),
        ReLU,
        fc2: Linear(84),
        ReLU,
        fc3: Linear(10),
    }
}

#[derive(Parser, Debug)]
struct Args {
    /// MNIST-format images (IDX, 28×28 unsigned bytes).
    #[arg(long, requires = "idx_labels")]
    idx_images: Option<PathBuf>,
    /// MNIST-format labels (IDX, unsigned bytes).
    #[arg(long, requires = "idx_images")]
    idx_labels: Option<PathBuf>,
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    #[arg(long, default_value_t = 0.005)]
    lr: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 0.2)]
    val_split: f32,
    /// Draw the loss and accuracy curves into this SVG file.
    #[arg(long)]
    plot: Option<PathBuf>,
    #[arg(long)]
    quiet: bool,
    /// Time one training epoch of LeNet-5 at batch 64 with one and two threads.
    #[arg(long)]
    lenet_throughput: bool,
}

/// `n` noisy images, half with a horizontal bar (class 0), half with a vertical one.
fn bars(n: usize, noise: f32, rng: &mut impl Rng) -> Dataset<{ SIDE * SIDE }, Vec<usize>> {
    let mut x = Batch::new();
    let mut y = Vec::new();
    for i in 0..n {
        let vertical = i % 2;
        let mut image = [0.0f32; SIDE * SIDE];
        let line = rng.random_range(1..SIDE - 1);
        let start = rng.random_range(0..SIDE / 3);
        let len = rng.random_range(SIDE / 2..=SIDE - start);
        for t in start..start + len {
            let (r, c) = if vertical == 1 { (t, line) } else { (line, t) };
            image[r * SIDE + c] = 1.0;
        }
        for v in &mut image {
            *v += noise * normal(rng);
        }
        x.push_row(&image);
        y.push(vertical);
    }
    Dataset::new(x, y).expect("one label per image")
}

fn options(args: &Args) -> FitOptions {
    FitOptions::new(args.epochs, args.batch_size)
        .validation_split(args.val_split)
        .metrics(&[Metric::Accuracy])
        .seed(args.seed)
        .progress(if args.quiet {
            Progress::Quiet
        } else {
            Progress::Auto
        })
}

/// Prints the model's summary and trains it with cross-entropy and Adam.
fn train<M, const W: usize, const O: usize>(
    args: &Args,
    model: &mut M,
    data: &Dataset<W, Vec<usize>>,
) -> Result<History, staticnn::train::FitError>
where
    M: Forward<W, O>,
{
    let mut options = options(args);
    fit(
        model,
        &mut CrossEntropyLoss::new(),
        &mut Adam::new(args.lr)?,
        data,
        None,
        &mut options,
    )
}

fn run(args: &Args) -> Result<History, Box<dyn std::error::Error>> {
    let mut rng = seeded_rng(args.seed);
    let history = match (&args.idx_images, &args.idx_labels) {
        (Some(images), Some(labels)) => {
            let data = Dataset::new(read_idx_images::<784>(images)?, read_idx_labels(labels)?)?;
            let mut model = LeNet::new(&mut rng);
            if !args.quiet {
                println!("{}", model.summary());
            }
            train(args, &mut model, &data)?
        }
        _ => {
            let data = bars(2000, 0.35, &mut rng);
            let mut model = BarNet::new(&mut rng);
            if !args.quiet {
                println!("{}", model.summary());
            }
            train(args, &mut model, &data)?
        }
    };
    if let Some(path) = &args.plot {
        history.plot(path, "cnn")?;
    }
    Ok(history)
}

/// Samples per second of one LeNet-5 training epoch (batch 64, random data made up front).
fn lenet_throughput(threads: usize, samples: usize) -> f64 {
    staticnn::set_num_threads(threads);
    let mut rng = seeded_rng(0);
    let x = Batch::<784>::from_vec((0..samples * 784).map(|_| rng.random::<f32>()).collect())
        .expect("whole rows");
    let y: Vec<usize> = (0..samples).map(|i| i % 10).collect();
    let data = Dataset::new(x, y).expect("one label per image");
    let mut model = LeNet::new(&mut rng);
    let mut criterion = CrossEntropyLoss::new();
    let mut optimizer = Adam::new(1e-3).expect("a rate PyTorch accepts");
    let mut loader = DataLoader::new(&data, 64).expect("a batch size above 0");
    let mut epoch = || {
        let mut batches = loader.start_epoch(&mut rng);
        while let Some((x, y)) = batches.next_batch() {
            model.zero_grad();
            let out = model.forward_train(x);
            let (_, grad) = criterion.value_and_grad(&out, y).expect("labels below 10");
            out.backward_params(grad);
            optimizer
                .step(&mut model)
                .expect("the optimizer's own model");
        }
    };
    epoch(); // warm-up
    let start = Instant::now();
    epoch();
    samples as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args = Args::parse();
    if args.lenet_throughput {
        for threads in [1, 2] {
            println!(
                "lenet_batch64_threads{threads}_samples_per_s={:.0}",
                lenet_throughput(threads, 4096)
            );
        }
        return;
    }
    match run(&args) {
        Ok(h) => {
            let last = h.last().expect("at least one epoch");
            println!(
                "epochs={} train_loss={:.6} val_loss={:.6} val_accuracy={:.6}",
                last.epoch,
                last.loss,
                last.val_loss.unwrap_or(f64::NAN),
                last.get("val_accuracy").unwrap_or(f64::NAN)
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_told_apart() {
        let args = Args::parse_from(["cnn", "--quiet", "--epochs", "3"]);
        let acc = run(&args)
            .unwrap()
            .last()
            .unwrap()
            .get("val_accuracy")
            .unwrap();
        assert!(acc >= 0.9, "{acc}");
    }

    #[test]
    fn idx_files_train_lenet() {
        let dir = tempfile::tempdir().unwrap();
        let n = 40u32;
        let mut images = vec![0, 0, 8, 3];
        for d in [n, 28, 28] {
            images.extend_from_slice(&d.to_be_bytes());
        }
        images.extend((0..n as usize * 784).map(|i| (i % 251) as u8));
        let mut labels = vec![0, 0, 8, 1];
        labels.extend_from_slice(&n.to_be_bytes());
        labels.extend((0..n).map(|i| (i % 10) as u8));
        let (ip, lp) = (dir.path().join("images"), dir.path().join("labels"));
        std::fs::write(&ip, images).unwrap();
        std::fs::write(&lp, labels).unwrap();
        let args = Args::parse_from([
            "cnn",
            "--quiet",
            "--epochs",
            "1",
            "--idx-images",
            ip.to_str().unwrap(),
            "--idx-labels",
            lp.to_str().unwrap(),
        ]);
        assert_eq!(run(&args).unwrap().epochs.len(), 1);
        assert!(lenet_throughput(1, 128) > 0.0);
    }
}
