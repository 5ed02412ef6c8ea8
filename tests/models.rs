//! Generated models: keys, summaries, modes, nesting, derive, and finite-difference checks of
//! whole models on every parameter.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use staticnn::prelude::*;
use staticnn::{GradCheck, state_dict};

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

model! {
    /// Every built-in layer kind, on a [3, 4] input.
    pub struct EveryLayer: [3, 4] -> [5] {
        bn_cl: BatchNorm1d(3),
        ln: LayerNorm(eps = 1e-5),
        Flatten,
        fc: Linear(12, 10),
        LeakyReLU(0.2),
        bn: BatchNorm1d(momentum = 0.2),
        Sigmoid,
        Linear(8, bias = false),
        Tanh,
        GELU,
        GELU(approximate = "tanh"),
        ReLU,
        drop: Dropout(p = 0.3),
        head: Linear(5),
        Softmax,
        LogSoftmax,
    }
}

mod nets {
    use staticnn::prelude::*;
    model! {
        pub struct Encoder: [4] -> [6] {
            Linear(6),
            Tanh,
        }
    }
}

model! {
    pub struct WithEncoder: [4] -> [2] {
        enc: nets::Encoder,
        ReLU,
        head: Linear(2),
    }
}

#[derive(Module)]
pub struct Derived {
    fc1: Linear<3, 5>,
    act: Tanh,
    #[layer(0.25)]
    drop: Dropout,
    fc2: Linear<5, 2>,
}

#[derive(Module)]
#[module(input = [4])]
pub struct DerivedStartingWithActivation {
    act: ReLU,
    enc: nets::Encoder,
    fc: Linear<6, 1>,
}

fn rng() -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(42)
}

fn check<M: Forward<I, O>, const I: usize, const O: usize>(name: &str, model: &mut M) {
    for rows in [3, 6] {
        // Continuous random values: no ties for MaxPool, no exact zeros for ReLU.
        let mut r = seeded_rng(rows as u64);
        let values = (0..rows * I)
            .map(|_| staticnn::data::synthetic::normal(&mut r))
            .collect();
        let x = Batch::<I>::from_vec(values).unwrap();
        // A ReLU kink between the probes is found and retried at smaller steps.
        let report = GradCheck::default()
            .run(model, &x)
            .unwrap_or_else(|e| panic!("{name}, batch {rows}: {e}"));
        assert!(report.values_checked > model.num_params());
    }
}

#[test]
fn binary_classifier_keys_summary_and_gradients() {
    let mut m = BinaryClassifier::new(&mut rng());
    let keys: Vec<_> = state_dict(&m)
        .into_iter()
        .map(|t| (t.name, t.shape))
        .collect();
    assert_eq!(
        keys,
        [
            ("fc1.weight".to_string(), vec![16, 2]),
            ("fc1.bias".to_string(), vec![16]),
            ("fc2.weight".to_string(), vec![16, 16]),
            ("fc2.bias".to_string(), vec![16]),
            ("out.weight".to_string(), vec![1, 16]),
            ("out.bias".to_string(), vec![1]),
        ]
    );
    assert_eq!(m.num_params(), 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
    let summary = m.summary();
    assert_eq!(summary.total_params(), m.num_params());
    let text = summary.to_string();
    for needle in [
        "fc1",
        "Linear(16)",
        "Dropout(0.1)",
        "[16]",
        "Total params: 337",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    assert_eq!(
        summary.rows[1].key, "1",
        "unnamed layers are keyed by position"
    );
    m.eval();
    check("BinaryClassifier", &mut m);
}

#[test]
fn every_layer_kind_chains_and_checks() {
    let mut m = EveryLayer::new(&mut rng());
    let keys: Vec<_> = state_dict(&m).into_iter().map(|t| t.name).collect();
    assert_eq!(
        keys,
        [
            "bn_cl.weight",
            "bn_cl.bias",
            "bn_cl.running_mean",
            "bn_cl.running_var",
            "bn_cl.num_batches_tracked",
            "ln.weight",
            "ln.bias",
            "fc.weight",
            "fc.bias",
            "bn.weight",
            "bn.bias",
            "bn.running_mean",
            "bn.running_var",
            "bn.num_batches_tracked",
            "7.weight",
            "head.weight",
            "head.bias",
        ]
    );
    let shapes: Vec<_> = m
        .summary()
        .rows
        .into_iter()
        .map(|r| r.output_shape)
        .collect();
    assert_eq!(shapes[..3], ["[3, 4]", "[3, 4]", "[12]"]);
    assert_eq!(m.bn.momentum, 0.2);
    assert_eq!(m.drop.p(), 0.3);
    m.eval();
    check("EveryLayer in eval mode", &mut m);
    // Train mode with dropout off: batch statistics flow through the backward.
    let mut m = EveryLayer::new(&mut rng());
    m.drop = Dropout::new(0.0, &mut rng());
    check("EveryLayer in train mode", &mut m);
}

#[test]
fn nested_models_prefix_their_keys_and_follow_the_mode() {
    let mut m = WithEncoder::new(&mut rng());
    let keys: Vec<_> = state_dict(&m).into_iter().map(|t| t.name).collect();
    assert_eq!(
        keys,
        ["enc.0.weight", "enc.0.bias", "head.weight", "head.bias"]
    );
    assert_eq!(<WithEncoder as Shaped>::IN, 4);
    assert_eq!(<WithEncoder as Shaped>::OUT, 2);
    assert_eq!(m.summary().rows[0].output_shape, "[6]");
    check("WithEncoder", &mut m);
}

#[test]
fn derived_structs_run_in_field_order() {
    let mut m = Derived::init(&mut rng());
    let keys: Vec<_> = state_dict(&m).into_iter().map(|t| t.name).collect();
    assert_eq!(keys, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    assert_eq!(m.drop.p(), 0.25);
    assert_eq!((<Derived as Shaped>::IN, <Derived as Shaped>::OUT), (3, 2));
    m.eval();
    check("Derived", &mut m);

    let mut d = DerivedStartingWithActivation::init(&mut rng());
    let keys: Vec<_> = state_dict(&d).into_iter().map(|t| t.name).collect();
    assert_eq!(keys, ["enc.0.weight", "enc.0.bias", "fc.weight", "fc.bias"]);
    check("DerivedStartingWithActivation", &mut d);
}

#[test]
fn eval_mode_reaches_dropout_and_forward_matches_forward_train_in_eval() {
    let mut m = BinaryClassifier::new(&mut rng());
    let x = Batch::<2>::from_rows(&[[0.5, -1.0], [2.0, 0.25], [-0.3, 0.8]]);
    m.eval();
    let a = m.forward_train(&x).to_batch();
    let b = m.forward(&x);
    assert_eq!(a, b);
    m.train();
    let c = m.forward_train(&x).to_batch();
    let d = m.forward_train(&x).to_batch();
    assert!(a != c || c != d, "dropout is active in train mode");
}

#[test]
fn gradients_accumulate_until_zero_grad() {
    let mut m = BinaryClassifier::new(&mut rng());
    m.eval();
    let x = Batch::<2>::from_rows(&[[0.5, -1.0]]);
    let g = Batch::<1>::from_rows(&[[1.0]]);
    m.forward_train(&x).backward(&g);
    let once = m.out.weight.grad.clone();
    m.forward_train(&x).backward(&g);
    let twice = m.out.weight.grad.clone();
    for (a, b) in once.iter().zip(&twice) {
        assert!((2.0 * a - b).abs() < 1e-6);
    }
    m.zero_grad();
    assert!(m.out.weight.grad.iter().all(|&g| g == 0.0));
}

#[test]
fn same_seed_same_model() {
    let a = state_dict(&BinaryClassifier::new(&mut Pcg64Mcg::seed_from_u64(5)));
    let b = state_dict(&BinaryClassifier::new(&mut Pcg64Mcg::seed_from_u64(5)));
    let c = state_dict(&BinaryClassifier::new(&mut Pcg64Mcg::seed_from_u64(6)));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // PyTorch's Linear init: U(-1/sqrt(in), 1/sqrt(in)).
    let m = BinaryClassifier::new(&mut rng());
    let bound = 1.0 / 16f32.sqrt();
    assert!(m.fc2.weight.value.iter().all(|w| w.abs() <= bound));
    assert!(m.fc2.weight.value.iter().any(|w| w.abs() > bound * 0.9));
}

model! {
    /// A small CNN on [2, 6, 6] images, every image layer in the chain.
    pub struct TinyCnn: [2, 6, 6] -> [3] {
        conv: Conv2d(4, kernel = 3, padding = 1),
        bn: BatchNorm2d,
        ReLU,
        pool: MaxPool2d(2),
        conv2: Conv2d(4, kernel = (2, 2), stride = 1, dilation = 2),
        avg: AvgPool2d(1),
        gap: AdaptiveAvgPool2d(1),
        Flatten,
        head: Linear(3),
    }
}

#[test]
fn a_whole_cnn_checks_and_keys_like_pytorch() {
    let mut m = TinyCnn::new(&mut rng());
    let keys: Vec<_> = state_dict(&m)
        .into_iter()
        .map(|t| (t.name, t.shape))
        .collect();
    assert_eq!(keys[0], ("conv.weight".to_string(), vec![4, 2, 3, 3]));
    assert_eq!(keys[7], ("conv2.weight".to_string(), vec![4, 4, 2, 2]));
    let shapes: Vec<_> = m
        .summary()
        .rows
        .into_iter()
        .map(|r| r.output_shape)
        .collect();
    assert_eq!(
        shapes,
        [
            "[4, 6, 6]",
            "[4, 6, 6]",
            "[4, 6, 6]",
            "[4, 3, 3]",
            "[4, 1, 1]",
            "[4, 1, 1]",
            "[4, 1, 1]",
            "[4]",
            "[3]"
        ]
    );
    m.eval();
    check("TinyCnn", &mut m);
}

/// `forward_owned` at small batches writes each Linear's output into its input's own buffer
/// (first row to last when the rows shrink, last to first when they grow); every value must
/// still be `forward`'s, for each batch size around the small-batch limit.
#[test]
fn linear_forward_owned_in_place_gives_forwards_bits() {
    fn check<const IN: usize, const OUT: usize>(rng: &mut Pcg64Mcg) {
        let layer = Linear::<IN, OUT>::new(rng);
        for rows in 0..=6 {
            let x = Batch::<IN>::randn(rows, rng);
            let expected = layer.forward(&x);
            let got = layer.forward_owned(x);
            let bits =
                |b: &Batch<OUT>| b.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&got),
                bits(&expected),
                "Linear({IN}, {OUT}) at {rows} rows"
            );
        }
    }
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    check::<16, 3>(&mut rng);
    check::<3, 16>(&mut rng);
    check::<9, 9>(&mut rng);
    check::<1, 40>(&mut rng);
    check::<40, 1>(&mut rng);
}
