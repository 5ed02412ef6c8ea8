//! `staticnn::export` end to end: four trained models, exported, compiled in the `#![no_std]`
//! crate `export-check` (which `include!`s the files this test keeps current), and compared
//! with `model.forward` on 1,000 random inputs each.
//!
//! The trained weights are committed (`export-check/weights/*.safetensors`), so the exported
//! files depend only on the exporter: when one differs from what the exporter writes now,
//! the test rewrites it and fails, and the next build compiles the new file.
//! `STATICNN_RETRAIN=1` trains the models again (and rewrites the weights).

use rand::RngExt;
use staticnn::export;
use staticnn::prelude::*;
use staticnn_export_check as exported;

#[path = "support/export_files.rs"]
mod export_files;
use export_files::{
    check_current, options, random_inputs, trained, trained_binary_classifier, trained_mlp,
};

model! {
    /// Image layers.
    pub struct Cnn: [1, 8, 8] -> [3] {
        conv1: Conv2d(4, kernel = 3, padding = 1),
        bn1: BatchNorm2d,
        ReLU,
        pool1: MaxPool2d(2),
        conv2: Conv2d(6, kernel = 3, padding = 1, bias = false),
        bn2: BatchNorm2d,
        ReLU,
        pool2: AvgPool2d(2),
        gap: AdaptiveAvgPool2d(1),
        Flatten,
        fc: Linear(3),
        Softmax,
    }
}

model! {
    /// Image layers with every window option: strides, padding and dilation per axis,
    /// ceil mode, and average pools with and without the padding counted. ReLU, not Tanh,
    /// so the test shows the window code gives the runtime's bits: a last-bit difference of
    /// Tanh, averaged into the final sums, is a relative 4e-5 on an output near zero.
    pub struct Windows: [2, 11, 10] -> [2] {
        conv: Conv2d(3, kernel = (3, 2), stride = (2, 1), padding = (1, 1), dilation = (1, 2)),
        ReLU,
        max: MaxPool2d(3, stride = 2, padding = 1, ceil_mode = true),
        avg_ceil: AvgPool2d(2, stride = 1, padding = 1, ceil_mode = true, count_include_pad = false),
        avg: AvgPool2d(2, padding = 1),
        Flatten,
        fc: Linear(2),
    }
}

model! {
    /// Five indices into a table of 20 rows.
    pub struct Embedder: [5] -> [2] {
        embed: Embedding(20, 4),
        Flatten,
        fc1: Linear(8),
        GELU,
        fc2: Linear(2),
    }
}

/// Relative difference of `a` from `b`; 0 for the same bits or two NaN.
fn relative(a: f32, b: f32) -> f64 {
    if a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) {
        return 0.0;
    }
    let (a, b) = (f64::from(a), f64::from(b));
    (a - b).abs() / b.abs().max(f64::from(f32::MIN_POSITIVE))
}

/// What [`compare`] found.
#[derive(Debug)]
struct Comparison {
    /// Largest relative difference of the exported `forward` from the runtime's at batch 1.
    worst: f64,
    /// Whether every output had the runtime's bits.
    exact: bool,
    /// The runtime's own largest relative difference between batch 1 and one batch of all
    /// inputs (Linear switches from plain loops to faer above 4 rows), for scale.
    runtime_batch: f64,
}

/// Compares `ours` (the exported `forward`) with the runtime's `forward` on `inputs`, one row
/// at a time, and checks that `forward_batch` gives `forward`'s bits for every row.
fn compare<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(
    model: &M,
    inputs: &[[f32; IN]],
    ours: impl Fn(&[f32; IN]) -> [f32; OUT],
    batch: impl Fn(&[f32], &mut [f32]) -> usize,
) -> Comparison {
    let mut c = Comparison {
        worst: 0.0,
        exact: true,
        runtime_batch: 0.0,
    };
    let flat: Vec<f32> = inputs.iter().flatten().copied().collect();
    let runtime_batch = model.forward(&Batch::<IN>::from_vec(flat.clone()).unwrap());
    let mut out = vec![0.0f32; inputs.len() * OUT];
    assert_eq!(batch(&flat, &mut out), inputs.len());
    for ((x, ys), rb) in inputs
        .iter()
        .zip(out.chunks_exact(OUT))
        .zip(runtime_batch.as_slice().chunks_exact(OUT))
    {
        let theirs = model.forward(&Batch::<IN>::from_vec(x.to_vec()).unwrap());
        let mine = ours(x);
        for (((&a, &b), &y), &r) in mine.iter().zip(theirs.as_slice()).zip(ys).zip(rb) {
            let d = relative(a, b);
            c.exact &= d == 0.0;
            c.worst = c.worst.max(d);
            c.runtime_batch = c.runtime_batch.max(relative(r, b));
            assert!(
                y.to_bits() == a.to_bits() || (y.is_nan() && a.is_nan()),
                "forward_batch differs from forward"
            );
        }
    }
    c
}

#[test]
fn binary_classifier_is_bit_exact() {
    let model = trained_binary_classifier();
    let e = check_current(&model, "binary_classifier");
    assert!(e.inexact.is_empty(), "{:?}", e.inexact);
    let c = compare(
        &model,
        &random_inputs::<2>(1000, 1, 1.5),
        exported::binary_classifier::forward,
        |x, out| exported::binary_classifier::forward_batch(x, out).unwrap(),
    );
    println!("binary_classifier: {c:?}");
    assert!(c.exact, "outputs differ from the runtime's bits: {c:?}");
}

#[test]
fn mlp_matches_within_1e_6() {
    let model = trained_mlp();
    let e = check_current(&model, "mlp");
    let c = compare(
        &model,
        &random_inputs::<8>(1000, 5, 2.0),
        exported::mlp::forward,
        |x, out| exported::mlp::forward_batch(x, out).unwrap(),
    );
    println!("mlp: {c:?}; inexact: {:?}", e.inexact);
    assert!(c.worst <= 1e-6, "{c:?}");
}

#[test]
fn cnn_matches_within_1e_6() {
    let mut model = Cnn::new(&mut seeded_rng(8));
    trained(&mut model, "cnn", |m| {
        // Three classes: which third of the image is brightest.
        let x = random_inputs::<64>(300, 9, 1.0);
        let labels: Vec<usize> = x
            .iter()
            .map(|img| {
                let band = |r: std::ops::Range<usize>| -> f32 { r.map(|i| img[i]).sum() };
                let sums = [band(0..21), band(21..42), band(42..64)];
                (0..3).max_by(|&a, &b| sums[a].total_cmp(&sums[b])).unwrap()
            })
            .collect();
        let data = Dataset::new(Batch::from_vec(x.concat()).unwrap(), labels).unwrap();
        fit(
            m,
            &mut NLLLoss::new(),
            &mut Adam::new(0.01).unwrap(),
            &data,
            None,
            &mut options(5, 16),
        )
        .unwrap();
    });
    let e = check_current(&model, "cnn");
    let c = compare(
        &model,
        &random_inputs::<64>(1000, 10, 1.0),
        exported::cnn::forward,
        |x, out| exported::cnn::forward_batch(x, out).unwrap(),
    );
    println!("cnn: {c:?}; inexact: {:?}", e.inexact);
    assert!(c.worst <= 1e-6, "{c:?}");
}

#[test]
fn window_options_match_within_1e_6() {
    let mut model = Windows::new(&mut seeded_rng(14));
    trained(&mut model, "windows", |m| {
        let x = random_inputs::<220>(200, 15, 1.0);
        let y: Vec<f32> = x
            .iter()
            .flat_map(|img| [img[..110].iter().sum::<f32>() / 20.0, img[57]])
            .collect();
        let data = Dataset::new(
            Batch::from_vec(x.concat()).unwrap(),
            Batch::<2>::from_vec(y).unwrap(),
        )
        .unwrap();
        fit(
            m,
            &mut MSELoss::new(),
            &mut Adam::new(0.01).unwrap(),
            &data,
            None,
            &mut options(5, 16),
        )
        .unwrap();
    });
    let e = check_current(&model, "windows");
    let c = compare(
        &model,
        &random_inputs::<220>(1000, 16, 1.0),
        exported::windows::forward,
        |x, out| exported::windows::forward_batch(x, out).unwrap(),
    );
    println!("windows: {c:?}; inexact: {:?}", e.inexact);
    // The strided, padded, dilated Conv2d sums as faer does: the same bits here.
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        assert!(c.exact, "{c:?}");
    }
    assert!(c.worst <= 1e-6, "{c:?}");
}

#[test]
fn embedding_model_matches_and_bad_indices_give_nan() {
    let mut model = Embedder::new(&mut seeded_rng(11));
    trained(&mut model, "embedding", |m| {
        let mut rng = seeded_rng(12);
        let x: Vec<f32> = (0..400 * 5)
            .map(|_| rng.random_range(0..20) as f32)
            .collect();
        let y: Vec<f32> = x
            .chunks_exact(5)
            .flat_map(|r| [r.iter().sum::<f32>() / 50.0, r[0] / 20.0])
            .collect();
        let data = Dataset::new(
            Batch::from_vec(x).unwrap(),
            Batch::<2>::from_vec(y).unwrap(),
        )
        .unwrap();
        fit(
            m,
            &mut MSELoss::new(),
            &mut Adam::new(0.01).unwrap(),
            &data,
            None,
            &mut options(10, 32),
        )
        .unwrap();
    });
    let e = check_current(&model, "embedding");
    let mut rng = seeded_rng(13);
    let inputs: Vec<[f32; 5]> = (0..1000)
        .map(|_| std::array::from_fn(|_| rng.random_range(0..20) as f32))
        .collect();
    let c = compare(&model, &inputs, exported::embedding::forward, |x, out| {
        exported::embedding::forward_batch(x, out).unwrap()
    });
    println!("embedding: {c:?}; inexact: {:?}", e.inexact);
    assert!(e.inexact.is_empty(), "{:?}", e.inexact);
    assert!(c.exact, "{c:?}");
    // Out of range, fractional, negative and NaN indices: NaN rows, as the runtime gives.
    for bad in [20.0, 2.5, -1.0, f32::NAN, f32::INFINITY] {
        let x = [bad, 1.0, 2.0, 3.0, 4.0];
        let ours = exported::embedding::forward(&x);
        let theirs = model.forward(&Batch::<5>::from_vec(x.to_vec()).unwrap());
        assert!(ours.iter().all(|v| v.is_nan()), "{bad}: {ours:?}");
        assert!(theirs.as_slice().iter().all(|v| v.is_nan()), "{bad}");
    }
}

#[test]
fn batch_form_refuses_bad_buffers_without_panicking() {
    use exported::binary_classifier::{BatchError, forward_batch};
    let mut out = [0.0f32; 2];
    assert_eq!(
        forward_batch(&[1.0; 3], &mut out),
        Err(BatchError::Input { len: 3 })
    );
    assert_eq!(
        forward_batch(&[1.0; 6], &mut out),
        Err(BatchError::Output { rows: 3, len: 2 })
    );
    assert_eq!(forward_batch(&[], &mut out), Ok(0));
    assert_eq!(forward_batch(&[1.0; 4], &mut out), Ok(2));
}

/// A layer of the user's own, which does not describe itself.
#[derive(Clone, Debug, Default)]
pub struct Doubler {
    output: Batch<4>,
}
impl Module for Doubler {
    fn visit(&self, _: &mut dyn staticnn::Visitor) {}
    fn visit_mut(&mut self, _: &mut dyn staticnn::VisitorMut) {}
    fn set_training(&mut self, _: bool) {}
}
impl Shaped for Doubler {
    const IN: usize = 4;
    const OUT: usize = 4;
}
impl Init for Doubler {
    fn init<R: rand::Rng>(_: &mut R) -> Self {
        Self::default()
    }
}
impl Forward<4, 4> for Doubler {
    fn forward(&self, x: &BatchSlice<4>) -> Batch<4> {
        Batch::from_vec(x.as_slice().iter().map(|v| 2.0 * v).collect()).unwrap()
    }
    fn forward_train_raw(&mut self, x: &BatchSlice<4>) -> &BatchSlice<4> {
        self.output = self.forward(x);
        &self.output
    }
    fn last_output(&self) -> &BatchSlice<4> {
        &self.output
    }
    fn backward_raw(
        &mut self,
        _: &BatchSlice<4>,
        g: &BatchSlice<4>,
        _: &staticnn::TraceKey,
    ) -> &BatchSlice<4> {
        self.output = self.forward(g);
        &self.output
    }
}

model! {
    struct WithCustom: [2] -> [1] { fc: Linear(4), twice: Doubler, out: Linear(1) }
}

#[test]
fn a_layer_export_does_not_know_is_an_error_at_export_time() {
    let model = WithCustom::new(&mut seeded_rng(0));
    let err = export::to_source(&model).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("`twice` is a `"), "{text}");
    assert!(text.contains("Doubler"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never_written.rs");
    assert!(export::rust(&model, &path).is_err());
    assert!(
        !path.exists(),
        "no file for a model that cannot be exported"
    );
}
