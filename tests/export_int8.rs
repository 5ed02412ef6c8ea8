//! Int8 export (`export::Weights::Int8`): the binary classifier's and the MLP's int8 files,
//! compiled in the `#![no_std]` crate `export-check`, compute what the runtime models compute
//! with the weights `fake_quantize_int8` gives them, and the classifier agrees with the f32
//! model; on the breast-cancer measurements the int8 network keeps the f32 network's
//! validation accuracy.

use staticnn::data::{Column, Standardizer, read_csv};
use staticnn::export::{self, Weights, fake_quantize_int8};
use staticnn::prelude::*;
use staticnn::state::TensorData;
use staticnn::train::{ForwardRef, ModelRef, evaluate_dyn, fit_dyn};
use staticnn_export_check as exported;

#[path = "support/export_files.rs"]
#[allow(dead_code)] // `check_current` is `tests/export.rs`'s
mod export_files;
use export_files::{check_current_with, random_inputs, trained_binary_classifier, trained_mlp};

#[test]
fn int8_binary_classifier_is_its_fake_quantized_model() {
    let model = trained_binary_classifier();
    let e = check_current_with(&model, "binary_classifier_int8", Weights::Int8);
    let f32_bytes = export::to_source(&model).unwrap().weight_bytes;
    // 304 int8 weights, 33 f32 scales and 33 f32 biases, against 337 f32 values.
    assert_eq!((e.weight_bytes, f32_bytes), (304 + 4 * 66, 4 * 337));
    assert_eq!(e.inexact.len(), 3, "{:?}", e.inexact);

    let mut fake = trained_binary_classifier();
    let keys = fake_quantize_int8(&mut fake).unwrap();
    assert_eq!(keys, ["fc1.weight", "fc2.weight", "out.weight"]);

    let (mut worst, mut agree, mut largest_change) = (0.0f32, 0, 0.0f32);
    let inputs = random_inputs::<2>(1000, 21, 1.5);
    for x in &inputs {
        let batch = Batch::<2>::from_vec(x.to_vec()).unwrap();
        let ours = exported::binary_classifier_int8::forward(x)[0];
        let fake_quantized = fake.forward(&batch).as_slice()[0];
        let float = model.forward(&batch).as_slice()[0];
        // The file scales each sum once; the fake-quantized model multiplies every weight.
        worst = worst.max((ours - fake_quantized).abs() / (1.0 + fake_quantized.abs()));
        agree += usize::from((ours > 0.0) == (float > 0.0));
        largest_change = largest_change.max((ours - float).abs());
    }
    println!(
        "int8 binary classifier: {} of {} bytes of weights; worst {worst:e} from the fake-quantized \
         model; the f32 model's class on {agree} of 1000 inputs; largest logit change {largest_change}",
        e.weight_bytes, f32_bytes
    );
    assert!(worst <= 5e-6, "{worst}");
    assert!(agree >= 990, "{agree}");
    let mut out = [0.0f32; 3];
    let flat: Vec<f32> = inputs[..3].concat();
    assert_eq!(
        exported::binary_classifier_int8::forward_batch(&flat, &mut out),
        Ok(3)
    );
}

/// Every Linear kind in int8 (nested, in a residual block, without a bias) among every
/// row-wise layer: the file computes the fake-quantized model's outputs.
#[test]
fn int8_mlp_is_its_fake_quantized_model() {
    let model = trained_mlp();
    let e = check_current_with(&model, "mlp_int8", Weights::Int8);
    let mut fake = trained_mlp();
    let keys = fake_quantize_int8(&mut fake).unwrap();
    println!("mlp_int8: {keys:?}; inexact: {:?}", e.inexact);
    assert_eq!(keys.len(), 7, "{keys:?}");
    assert!(
        keys.contains(&"fc3.weight".to_string()),
        "the Linear without a bias"
    );
    let mut worst = 0.0f32;
    for x in random_inputs::<8>(1000, 5, 2.0) {
        let ours = exported::mlp_int8::forward(&x);
        let theirs = fake.forward(&Batch::<8>::from_vec(x.to_vec()).unwrap());
        for (a, b) in ours.iter().zip(theirs.as_slice()) {
            worst = worst.max((a - b).abs() / (1.0 + b.abs()));
        }
    }
    println!("mlp_int8: worst {worst:e} from the fake-quantized model");
    assert!(worst <= 1e-5, "{worst}");
}

#[test]
fn a_non_finite_weight_is_an_export_error_naming_it() {
    let mut model = trained_binary_classifier();
    model.fc2.weight.value[5] = f32::INFINITY;
    let err = export::to_source_with(&model, Weights::Int8).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("`fc2` cannot be exported in int8"),
        "{err}"
    );
    let before = staticnn::state_dict(&model);
    assert!(fake_quantize_int8(&mut model).is_err());
    assert_eq!(
        staticnn::state_dict(&model),
        before,
        "a failure changes nothing"
    );
}

model! {
    /// A model inside a model.
    pub struct Inner: [4] -> [4] { fc: Linear(4), ReLU }
}

model! {
    /// Linear layers at every depth: nested, in a residual block, at the top.
    pub struct Nested: [4] -> [2] {
        inner: Inner,
        block: Residual { Linear(4), ReLU },
        head: Linear(2),
    }
}

/// `fake_quantize_int8` reaches every Linear weight by its state-dict key, nested, in a
/// residual block or the model itself, and nothing else: each weight moves to within half
/// its row's step (`max|w| / 127`), every bias stays.
#[test]
fn fake_quantization_reaches_every_linear_weight_and_only_them() {
    fn check<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(model: &mut M, keys: &[&str]) {
        let before = staticnn::state_dict(model);
        assert_eq!(fake_quantize_int8(model).unwrap(), keys);
        for (old, new) in before.iter().zip(staticnn::state_dict(model)) {
            assert_eq!(old.name, new.name);
            if !keys.contains(&old.name.as_str()) {
                assert_eq!(old.data, new.data, "{} changed", old.name);
                continue;
            }
            let (TensorData::F32(old_values), TensorData::F32(new_values)) = (&old.data, &new.data)
            else {
                panic!("{}: not f32", old.name);
            };
            let cols = old.shape[1];
            assert_ne!(old_values, new_values, "{} unchanged", old.name);
            for (row, new_row) in old_values.chunks(cols).zip(new_values.chunks(cols)) {
                let step = row.iter().fold(0.0f32, |m, w| m.max(w.abs())) / 127.0;
                for (w, q) in row.iter().zip(new_row) {
                    assert!(
                        (w - q).abs() <= step / 2.0 * (1.0 + 1e-5),
                        "{}: {w} → {q}",
                        old.name
                    );
                }
            }
        }
    }
    let mut rng = seeded_rng(4);
    check(
        &mut Nested::new(&mut rng),
        &["inner.fc.weight", "block.0.weight", "head.weight"],
    );
    check(&mut Linear::<3, 2>::new(&mut rng), &["weight"]);
}

model! {
    /// The README's binary classifier at the breast-cancer width.
    pub struct CancerClassifier: [30] -> [1] {
        fc1: Linear(16),
        ReLU,
        drop: Dropout(0.1),
        fc2: Linear(16),
        ReLU,
        out: Linear(1),
    }
}

/// The binary-classifier example's run on `examples/data/breast_cancer.csv` (stratified 80/20
/// split, standardized on the training rows, Adam 0.01, 100 epochs of 32), for seeds 0–9: the
/// f32 model's validation accuracy and the same model's with int8 weights.
#[test]
fn int8_keeps_breast_cancer_accuracy() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/breast_cancer.csv"
    );
    let table = read_csv(path, Some(&Column::from("malignant")), None).unwrap();
    let data = table.to_binary_dyn_dataset().unwrap();
    let (mut f32_sum, mut int8_sum) = (0.0, 0.0);
    let seeds = 0..10u64;
    for seed in seeds.clone() {
        let (mut train, mut val) = data.split(0.2, true, &mut seeded_rng(seed)).unwrap();
        let standardizer = Standardizer::fit_rows(train.features(), 30);
        standardizer
            .transform_rows(train.features_mut(), 30)
            .unwrap();
        standardizer.transform_rows(val.features_mut(), 30).unwrap();
        let mut model = CancerClassifier::new(&mut seeded_rng(seed));
        let mut options = FitOptions::new(100, 32)
            .metrics(&[Metric::Accuracy])
            .seed(seed)
            .progress(Progress::Quiet);
        let history = fit_dyn(
            &mut ModelRef::<_, 30, 1>(&mut model),
            &mut BCEWithLogitsLoss::new(),
            &mut Adam::new(0.01).unwrap(),
            &train,
            Some(&val),
            &mut options,
        )
        .unwrap();
        let float = history.last().unwrap().get("val_accuracy").unwrap();
        fake_quantize_int8(&mut model).unwrap();
        let int8 = evaluate_dyn(
            &ForwardRef::<_, 30, 1>(&model),
            &BCEWithLogitsLoss::new(),
            &val,
            64,
            &[Metric::Accuracy],
            &mut [],
        )
        .unwrap()
        .metrics["accuracy"];
        println!("seed {seed}: val_accuracy f32 {float:.4}, int8 {int8:.4}");
        (f32_sum, int8_sum) = (f32_sum + float, int8_sum + int8);
    }
    let n = seeds.count() as f64;
    let (float, int8) = (f32_sum / n, int8_sum / n);
    println!("breast cancer, seeds 0–9: mean val_accuracy f32 {float:.4}, int8 {int8:.4}");
    // 113 validation rows: one row is 0.9 %.
    assert!(int8 >= float - 0.01, "int8 {int8} against f32 {float}");
}
