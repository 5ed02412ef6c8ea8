//! Finite-difference checks of every layer's backward on random inputs at two batch sizes.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use staticnn::prelude::*;
use staticnn::{Approximate, GradCheck};

fn random_batch<const W: usize>(rows: usize, seed: u64) -> Batch<W> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    // Keep away from ReLU's kink at 0, where a central difference straddles it.
    let values = (0..rows * W)
        .map(|_| {
            let v: f32 = rng.random::<f32>() * 4.0 - 2.0;
            if v.abs() < 0.05 { v + 0.1 } else { v }
        })
        .collect();
    Batch::from_vec(values).unwrap()
}

fn gradcheck<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(name: &str, module: &mut M) {
    for rows in [1, 7] {
        let x = random_batch::<IN>(rows, rows as u64);
        let report = GradCheck::default()
            .run(module, &x)
            .unwrap_or_else(|e| panic!("{name} at batch {rows}: {e}"));
        assert!(report.values_checked >= rows * IN, "{name}: {report:?}");
    }
}

fn rng() -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(7)
}

#[test]
fn linear() {
    gradcheck("Linear<5, 3>", &mut Linear::<5, 3>::new(&mut rng()));
    gradcheck(
        "Linear no bias",
        &mut Linear::<4, 2>::without_bias(&mut rng()),
    );
}

#[test]
fn activations() {
    gradcheck::<_, 6, 6>("ReLU", &mut ReLU::new());
    gradcheck::<_, 6, 6>("LeakyReLU", &mut LeakyReLU::new(0.2));
    gradcheck::<_, 6, 6>("Sigmoid", &mut Sigmoid::new());
    gradcheck::<_, 6, 6>("Tanh", &mut Tanh::new());
    gradcheck::<_, 6, 6>("GELU", &mut GELU::new(Approximate::None));
    gradcheck::<_, 6, 6>("GELU tanh", &mut GELU::new(Approximate::Tanh));
}

#[test]
fn softmax_family() {
    gradcheck::<_, 5, 5>("Softmax", &mut Softmax::new());
    gradcheck::<_, 5, 5>("LogSoftmax", &mut LogSoftmax::new());
}

#[test]
fn dropout_in_eval_mode() {
    let mut d = Dropout::new(0.3, &mut rng());
    d.eval();
    gradcheck::<_, 6, 6>("Dropout eval", &mut d);
}

#[test]
fn dropout_backward_uses_the_forward_mask() {
    let mut d = Dropout::new(0.5, &mut rng());
    let x = random_batch::<8>(4, 3);
    let trace = d.forward_train(&x);
    let y = trace.to_batch();
    let ones = Batch::<8>::from_vec(vec![1.0; 32]).unwrap();
    let g = trace.backward(&ones).to_batch();
    for ((&y, &x), &g) in y.as_slice().iter().zip(x.as_slice()).zip(g.as_slice()) {
        assert!(
            (y - x * g).abs() < 1e-6,
            "dy/dx must be the mask: y={y} x={x} g={g}"
        );
    }
}

#[test]
fn norms() {
    let mut bn = BatchNorm1d::<3>::new(1e-5, 0.1);
    bn.weight.value = vec![0.5, -1.5, 2.0];
    bn.bias.value = vec![0.1, 0.2, -0.3];
    // Batch statistics need two rows; check the train path at 2 and 7 rows.
    for rows in [2, 7] {
        let x = random_batch::<3>(rows, 11);
        GradCheck::default()
            .run::<_, 3, 3>(&mut bn, &x)
            .unwrap_or_else(|e| panic!("BatchNorm1d train, batch {rows}: {e}"));
        let x = random_batch::<12>(rows, 12);
        GradCheck::default()
            .run::<_, 12, 12>(&mut bn, &x)
            .unwrap_or_else(|e| panic!("BatchNorm1d [3, 4] train, batch {rows}: {e}"));
    }
    bn.eval();
    gradcheck::<_, 3, 3>("BatchNorm1d eval", &mut bn);

    let mut ln = LayerNorm::<4>::new(1e-5);
    ln.weight.value = vec![0.5, -1.5, 2.0, 1.0];
    ln.bias.value = vec![0.1, 0.2, -0.3, 0.0];
    gradcheck::<_, 4, 4>("LayerNorm", &mut ln);
    gradcheck::<_, 8, 8>("LayerNorm over two groups", &mut ln);
}

#[test]
fn the_checker_catches_a_wrong_gradient() {
    // A layer whose backward forgets the chain rule must fail the check.
    #[derive(Default)]
    struct Square(Vec<f32>, Vec<f32>);
    impl Module for Square {
        fn visit(&self, _: &mut dyn staticnn::Visitor) {}
        fn visit_mut(&mut self, _: &mut dyn staticnn::VisitorMut) {}
        fn set_training(&mut self, _: bool) {}
    }
    impl Forward<3, 3> for Square {
        fn forward(&self, x: &BatchSlice<3>) -> Batch<3> {
            Batch::from_vec(x.as_slice().iter().map(|v| v * v).collect()).unwrap()
        }
        fn forward_train_raw(&mut self, x: &BatchSlice<3>) -> &BatchSlice<3> {
            self.0 = x.as_slice().iter().map(|v| v * v).collect();
            BatchSlice::try_from_slice(&self.0).unwrap()
        }
        fn last_output(&self) -> &BatchSlice<3> {
            BatchSlice::try_from_slice(&self.0).unwrap()
        }
        fn backward_raw(
            &mut self,
            _: &BatchSlice<3>,
            g: &BatchSlice<3>,
            _: &staticnn::TraceKey,
        ) -> &BatchSlice<3> {
            self.1 = g.as_slice().to_vec(); // wrong: should be 2·x·g
            BatchSlice::try_from_slice(&self.1).unwrap()
        }
    }
    let x = random_batch::<3>(2, 1);
    let err = GradCheck::default()
        .run(&mut Square::default(), &x)
        .unwrap_err();
    assert!(err.what.starts_with("input["), "{err}");
}

/// x³ / 3 whose backward multiplies the true derivative x² by `scale`.
struct ScaledCube(f32, Vec<f32>, Vec<f32>);
impl Module for ScaledCube {
    fn visit(&self, _: &mut dyn staticnn::Visitor) {}
    fn visit_mut(&mut self, _: &mut dyn staticnn::VisitorMut) {}
    fn set_training(&mut self, _: bool) {}
}
impl Forward<3, 3> for ScaledCube {
    fn forward(&self, x: &BatchSlice<3>) -> Batch<3> {
        Batch::from_vec(x.as_slice().iter().map(|v| v * v * v / 3.0).collect()).unwrap()
    }
    fn forward_train_raw(&mut self, x: &BatchSlice<3>) -> &BatchSlice<3> {
        self.1 = x.as_slice().iter().map(|v| v * v * v / 3.0).collect();
        BatchSlice::try_from_slice(&self.1).unwrap()
    }
    fn last_output(&self) -> &BatchSlice<3> {
        BatchSlice::try_from_slice(&self.1).unwrap()
    }
    // Backward is given the input again, so the layer keeps no copy of it.
    fn backward_raw(
        &mut self,
        x: &BatchSlice<3>,
        g: &BatchSlice<3>,
        _: &staticnn::TraceKey,
    ) -> &BatchSlice<3> {
        let scale = self.0;
        self.2 = g
            .as_slice()
            .iter()
            .zip(x.as_slice())
            .map(|(g, x)| scale * x * x * g)
            .collect();
        BatchSlice::try_from_slice(&self.2).unwrap()
    }
}

#[test]
fn the_checker_catches_a_gradient_off_by_a_tenth_of_a_percent() {
    let x = Batch::<3>::from_rows(&[
        [1.5, -2.0, 1.8],
        [-1.6, 2.2, -1.7],
        [1.9, -1.5, 2.1],
        [-2.1, 1.6, -1.9],
    ]);
    let check = |scale: f32| {
        let mut cube = ScaledCube(scale, Vec::new(), Vec::new());
        GradCheck::default().run(&mut cube, &x)
    };
    check(1.0).expect("the true derivative passes");
    let err = check(1.001).unwrap_err();
    assert!(!err.kink, "a smooth function has no kink: {err}");
    check(0.999).unwrap_err();
}

#[test]
fn image_layers() {
    use staticnn::{Conv2dGeometry, PoolGeometry};
    // [2, 5, 4] → kernel (3, 2), stride (2, 1), padding 1, dilation (1, 2) → [3, 3, 4]
    let g = Conv2dGeometry {
        kernel: (3, 2),
        ..Conv2dGeometry::new(2, 5, 4, 3, 1)
    }
    .stride(2, 1)
    .padding(1, 1)
    .dilation(1, 2);
    gradcheck(
        "Conv2d",
        &mut Conv2d::<40, 36>::new(g, true, &mut rng()).unwrap(),
    );
    let g = Conv2dGeometry::new(1, 4, 4, 2, 3);
    gradcheck(
        "Conv2d no bias",
        &mut Conv2d::<16, 8>::new(g, false, &mut rng()).unwrap(),
    );
    // Distinct values 0.05 apart, so no probe moves a window's maximum.
    let mut pool = MaxPool2d::<32, 8>::new(PoolGeometry::new(2, 4, 4, 2)).unwrap();
    for rows in [1, 7] {
        let n = rows * 32;
        let x = Batch::<32>::from_vec(
            (0..n)
                .map(|i| ((i * 7919) % n) as f32 * 0.05 - 1.0)
                .collect(),
        )
        .unwrap();
        GradCheck::default()
            .run(&mut pool, &x)
            .unwrap_or_else(|e| panic!("MaxPool2d, batch {rows}: {e}"));
    }
    let g = PoolGeometry::new(2, 4, 5, 3).stride(1, 2);
    gradcheck("AvgPool2d", &mut AvgPool2d::<40, 8>::new(g).unwrap());
    // PyTorch's AvgPool2d has no dilation: a dilated geometry is refused, not averaged by a
    // divisor that matches nothing.
    let dilated = PoolGeometry {
        dilation: (2, 1),
        ..PoolGeometry::new(2, 5, 5, 2).stride(1, 1)
    };
    assert!(MaxPool2d::<50, 24>::new(dilated).is_ok());
    let err = AvgPool2d::<50, 24>::new(dilated).unwrap_err();
    assert!(
        err.to_string().contains("AvgPool2d has no dilation"),
        "{err}"
    );
    gradcheck::<_, 24, 2>("AdaptiveAvgPool2d", &mut AdaptiveAvgPool2d::new());
    gradcheck::<_, 24, 24>("Flatten", &mut Flatten::new());
    let mut bn = BatchNorm2d::<2>::default();
    bn.weight.value = vec![0.7, -1.3];
    for rows in [2, 5] {
        let x = random_batch::<18>(rows, 21);
        GradCheck::default()
            .run::<_, 18, 18>(&mut bn, &x)
            .unwrap_or_else(|e| panic!("BatchNorm2d, batch {rows}: {e}"));
    }
}

#[test]
fn embedding_weights() {
    let mut emb = Embedding::<6, 3>::new(&mut rng());
    for rows in [1, 4] {
        let x =
            Batch::<4>::from_vec((0..rows * 4).map(|i| ((i * 5) % 6) as f32).collect()).unwrap();
        let check = GradCheck {
            check_input: false,
            ..GradCheck::default()
        };
        let report = check
            .run::<_, 4, 12>(&mut emb, &x)
            .unwrap_or_else(|e| panic!("Embedding, batch {rows}: {e}"));
        assert_eq!(report.values_checked, 18);
    }
}
