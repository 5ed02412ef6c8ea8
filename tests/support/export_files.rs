//! What the export tests share: the committed files of `export-check` kept current, the
//! committed trained weights, the README's binary classifier and the MLP with every row-wise
//! layer. Included by path.

use std::path::{Path, PathBuf};

use staticnn::data::synthetic;
use staticnn::prelude::*;
use staticnn::{export, load_weights, save_weights};

model! {
    /// The README's binary classifier.
    pub struct BinaryClassifier: [2] -> [1] {
        fc1: Linear(16),
        ReLU,
        drop: Dropout(0.1),
        fc2: Linear(16),
        ReLU,
        out: Linear(1),
    }
}

pub fn export_check() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("export-check")
}

/// How the export tests train: seeded, quiet.
pub fn options(epochs: usize, batch: usize) -> FitOptions {
    FitOptions::new(epochs, batch)
        .seed(7)
        .progress(Progress::Quiet)
}

/// The committed trained weights of `name`, training them first when asked or missing.
pub fn trained<M: Module>(model: &mut M, name: &str, train: impl FnOnce(&mut M)) {
    let path = export_check()
        .join("weights")
        .join(format!("{name}.safetensors"));
    if std::env::var_os("STATICNN_RETRAIN").is_some() || !path.exists() {
        train(model);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        save_weights(model, &path).unwrap();
    }
    load_weights(model, &path).unwrap();
    model.eval();
}

/// Fails (after rewriting it) when the committed file is not what the exporter writes now.
pub fn check_current<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(
    model: &M,
    name: &str,
) -> export::Exported {
    check_current_with(model, name, export::Weights::F32)
}

/// [`check_current`] for a file with the Linear weights stored as `weights` says.
pub fn check_current_with<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(
    model: &M,
    name: &str,
    weights: export::Weights,
) -> export::Exported {
    let e = export::to_source_with(model, weights).unwrap();
    let path = export_check()
        .join("src/generated")
        .join(format!("{name}.rs"));
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != e.source {
        std::fs::write(&path, &e.source).unwrap();
        panic!(
            "{} was stale and has been rewritten; run the test again",
            path.display()
        );
    }
    println!(
        "{name}: {} bytes of source, {} bytes of weights, stack {} bytes of activations ({} for the widest layer) + {} of kernel scratch",
        e.source.len(),
        e.weight_bytes,
        e.activation_bytes,
        e.widest_layer_bytes,
        e.scratch_bytes
    );
    e
}

/// The README's binary classifier with its committed trained weights (two moons, 30 epochs).
pub fn trained_binary_classifier() -> BinaryClassifier {
    let mut model = BinaryClassifier::new(&mut seeded_rng(42));
    trained(&mut model, "binary_classifier", |m| {
        let data = synthetic::moons(1000, 0.2, &mut seeded_rng(42));
        fit(
            m,
            &mut BCEWithLogitsLoss::new(),
            &mut Adam::new(0.01).unwrap(),
            &data,
            None,
            &mut options(30, 32),
        )
        .unwrap();
    });
    model
}

model! {
    /// A nested model inside the MLP.
    pub struct Encoder: [8] -> [16] {
        fc: Linear(16),
        GELU,
        norm: LayerNorm(16),
    }
}

model! {
    /// Every row-wise kind.
    pub struct Mlp: [8] -> [4] {
        encoder: Encoder,
        SiLU,
        drop: Dropout(0.2),
        bn: BatchNorm1d(16),
        block: Residual { Linear(16), GELU(approximate = "tanh"), Linear(16) },
        Tanh,
        fc2: Linear(12),
        LeakyReLU(negative_slope = 0.1),
        fc3: Linear(12, bias = false),
        Hardswish,
        fc4: Linear(8),
        Sigmoid,
        head: Linear(4),
        LogSoftmax,
    }
}

/// `n` rows of `W` values from N(0, scale²), seeded.
pub fn random_inputs<const W: usize>(n: usize, seed: u64, scale: f32) -> Vec<[f32; W]> {
    let mut rng = seeded_rng(seed);
    (0..n)
        .map(|_| std::array::from_fn(|_| scale * synthetic::normal(&mut rng)))
        .collect()
}

/// The test MLP with its committed trained weights (four classes by the signs of two sums).
pub fn trained_mlp() -> Mlp {
    let mut model = Mlp::new(&mut seeded_rng(3));
    trained(&mut model, "mlp", |m| {
        // Four classes by the signs of two sums of the features.
        let x = random_inputs::<8>(512, 4, 1.0);
        let labels: Vec<usize> = x
            .iter()
            .map(|r| {
                usize::from(r[..4].iter().sum::<f32>() > 0.0) * 2
                    + usize::from(r[4..].iter().sum::<f32>() > 0.0)
            })
            .collect();
        let data = Dataset::new(Batch::from_vec(x.concat()).unwrap(), labels).unwrap();
        fit(
            m,
            &mut NLLLoss::new(),
            &mut Adam::new(0.01).unwrap(),
            &data,
            None,
            &mut options(10, 32),
        )
        .unwrap();
    });
    model
}
